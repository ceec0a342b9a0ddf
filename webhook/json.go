package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"unicode/utf8"

	"github.com/jdcloud-vm-resizer/resizer"
)

// The decoders read payloads through these helpers rather than
// json.Unmarshal into structs, for three reasons: encoding/json matches keys
// ignoring case ("Version" would be taken for "version"), keeps the last of
// two equal keys where other readers keep the first, and accepts null for
// a string. Here keys match exactly, a repeated key is a shape error, and
// each value's type is checked where it is read, so that the message can
// name the member.

// object is one JSON object's members under their exact keys.
type object map[string]json.RawMessage

// shape is the error of a payload that is not the route's JSON shape: it
// builds nothing and is answered 400. Its message names the member; caller
// text appears only through resizer.Quote.
func shape(format string, args ...any) *resizer.Error { return invalid(format, args...) }

// parseBody reads a whole request body as one JSON object.
func parseBody(body []byte, what string) (object, *resizer.Error) {
	if !utf8.Valid(body) {
		return nil, shape("the %s body is not valid UTF-8", what)
	}
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return nil, shape("the %s body is empty", what)
	case isNull(body):
		return nil, shape("the %s body must be a JSON object, not null", what)
	}
	o, err := parseObject(body, "the "+what+" body")
	if err != nil {
		return nil, err
	}
	return o, nil
}

// parseObject reads raw as exactly one JSON object; null and an absent
// member (no bytes) are an empty one (Go senders marshal a nil map as
// null). where names the value in messages.
func parseObject(raw []byte, where string) (object, *resizer.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || isNull(raw) {
		return object{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, shape("%s is not valid JSON (at byte %d)", where, dec.InputOffset())
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, shape("%s must be a JSON object, not %s", where, kind(raw))
	}
	o := object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, shape("%s is not valid JSON (at byte %d)", where, dec.InputOffset())
		}
		key, ok := tok.(string)
		if !ok {
			return nil, shape("%s is not valid JSON (at byte %d)", where, dec.InputOffset())
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, shape("%s is not valid JSON (at byte %d)", where, dec.InputOffset())
		}
		if _, dup := o[key]; dup {
			// Readers disagree on which of two equal keys counts, so whoever
			// logged or routed the payload may have seen another request.
			return nil, shape("%s has the key %s more than once", where, resizer.Quote(key))
		}
		o[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, shape("%s is not valid JSON (at byte %d)", where, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, shape("%s has data after its JSON object", where)
	}
	return o, nil
}

// parseArray reads raw as a JSON array; null is an empty one.
func parseArray(raw []byte, where string) ([]json.RawMessage, *resizer.Error) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, shape("%s must be a JSON array, not %s", where, kind(raw))
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, shape("%s is not valid JSON", where)
	}
	return a, nil
}

// str reads the string member key: ok is false when it is absent or null.
func (o object) str(key, where string) (s string, ok bool, err *resizer.Error) {
	raw, present := o[key]
	if !present || isNull(raw) {
		return "", false, nil
	}
	if !asString(raw, &s) {
		return "", false, shape("%s.%s must be a string, not %s", where, key, kind(raw))
	}
	return s, true, nil
}

// strMap reads a JSON object whose values are all strings (labels,
// annotations).
func strMap(raw []byte, where string) (map[string]string, *resizer.Error) {
	o, err := parseObject(raw, where)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(o))
	for k, v := range o {
		var s string
		if !asString(v, &s) {
			return nil, shape("%s[%s] must be a string, not %s", where, resizer.Quote(k), kind(v))
		}
		m[k] = s
	}
	return m, nil
}

// asString decodes raw when it is a JSON string.
func asString(raw json.RawMessage, s *string) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, s) == nil
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// kind names a JSON value's type for messages (never its content).
func kind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
