package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"sort"
	"strings"
	"unicode"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/jdcloud-vm-resizer/resizer"
)

// DecodeStructured turns a structured-mode CloudEvent (JSON) into an event.
// The error is a *resizer.Error with code invalid_request whose message
// names the problem (the attribute, a duplicate key, the size). It checks
// the envelope only; the Processor validates data.
func DecodeStructured(raw []byte) (event.Event, error) {
	e, _, err := decodeStructured(raw, DefaultMaxBodyBytes)
	if err != nil {
		return event.Event{}, err
	}
	return e, nil
}

// decodeStructured is DecodeStructured with a size limit; on failure it
// also returns the attributes it could read (id, source, subject), so the
// failed outcome can still name the request.
func decodeStructured(raw []byte, max int64) (event.Event, *event.Event, *resizer.Error) {
	if int64(len(raw)) > max {
		return event.Event{}, nil, invalid("CloudEvent is %d bytes; at most %d are accepted", len(raw), max)
	}
	top, err := topLevel(raw)
	if err != nil {
		return event.Event{}, nil, invalid("not a structured CloudEvent: %v", err)
	}
	partial := partialFrom(top)
	if err := checkTopLevel(top); err != nil {
		return event.Event{}, partial, err
	}
	e, uerr := unmarshalEvent(raw)
	if uerr != nil {
		return event.Event{}, partial, invalid("not a valid CloudEvent: %s", parserMessage(uerr))
	}
	if err := checkEvent(&e); err != nil {
		return event.Event{}, partial, err
	}
	return e, nil, nil
}

// checkTopLevel checks the required attributes before the sdk parses the
// event, so that the message names the attribute and so that inputs the
// sdk's parser mishandles (a non-string data_base64) never reach it.
func checkTopLevel(top map[string]json.RawMessage) *resizer.Error {
	sv, ok := top["specversion"]
	if !ok {
		return invalid("missing required attribute %q", "specversion")
	}
	s, ok := jsonString(sv)
	if !ok {
		return invalid("attribute %q must be a string", "specversion")
	}
	if s != event.CloudEventsVersionV1 {
		return invalid("unsupported specversion %s; must be %q", resizer.Quote(s), event.CloudEventsVersionV1)
	}
	for _, name := range []string{"id", "source", "type"} {
		v, ok := top[name]
		if !ok {
			return invalid("missing required attribute %q", name)
		}
		s, ok := jsonString(v)
		if !ok {
			return invalid("attribute %q must be a string", name)
		}
		if strings.TrimSpace(s) == "" {
			return invalid("attribute %q must not be empty", name)
		}
		if strings.ContainsFunc(s, unicode.IsControl) {
			return invalid("attribute %q must not contain control characters", name)
		}
	}
	if ct, ok := top["datacontenttype"]; ok {
		s, ok := jsonString(ct)
		if !ok {
			return invalid("attribute %q must be a string", "datacontenttype")
		}
		if mt, _, err := mime.ParseMediaType(s); err != nil || mt != "application/json" {
			return invalid("attribute %q must be application/json, got %s", "datacontenttype", resizer.Quote(s))
		}
	}
	if b64, ok := top["data_base64"]; ok {
		if _, both := top["data"]; both {
			return invalid("attributes %q and %q are mutually exclusive", "data", "data_base64")
		}
		if _, ok := jsonString(b64); !ok {
			return invalid("attribute %q must be a string", "data_base64")
		}
	}
	return nil
}

// unmarshalEvent runs the sdk's parser. It is third-party code fed with
// untrusted input; a panic in it must become a rejected request, not a
// crashed process.
func unmarshalEvent(raw []byte) (e event.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unparseable event")
		}
	}()
	err = json.Unmarshal(raw, &e)
	return e, err
}

// checkEvent applies the rules every request event must meet, whatever
// the trigger: CloudEvents 1.0 and the sdk's attribute validation.
func checkEvent(e *event.Event) *resizer.Error {
	if e.Context == nil {
		return invalid("missing required attribute %q", "specversion")
	}
	if sv := e.SpecVersion(); sv != event.CloudEventsVersionV1 {
		return invalid("unsupported specversion %s; must be %q", resizer.Quote(sv), event.CloudEventsVersionV1)
	}
	for _, a := range [...]struct{ name, value string }{{"id", e.ID()}, {"source", e.Source()}, {"type", e.Type()}} {
		if strings.TrimSpace(a.value) == "" {
			return invalid("missing required attribute %q", a.name)
		}
	}
	if err := e.Validate(); err != nil {
		return invalid("invalid CloudEvent: %s", validationMessage(err))
	}
	return nil
}

// validationMessage renders the sdk's ValidationError (a map) in a stable
// order, so the same input always yields the same outcome message.
func validationMessage(err error) string {
	var ve event.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	parts := make([]string, 0, len(ve))
	for k, v := range ve {
		parts = append(parts, fmt.Sprintf("attribute %s: %v", resizer.Quote(k), v))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// partialFrom builds the partial event handed to Reject from whatever
// identifying string attributes the object has.
func partialFrom(top map[string]json.RawMessage) *event.Event {
	str := func(name string) string {
		s, _ := jsonString(top[name])
		return s
	}
	return partialEvent(str("id"), str("source"), str("subject"))
}

// partialEvent returns nil when nothing identifies the request. Setter
// failures (a source that is no URI reference) only leave the attribute
// unset: a partial event is best effort by definition.
func partialEvent(id, source, subject string) *event.Event {
	if id == "" && source == "" && subject == "" {
		return nil
	}
	e := event.New()
	if id != "" {
		e.SetID(id)
	}
	if source != "" {
		e.SetSource(source)
	}
	if subject != "" {
		e.SetSubject(subject)
	}
	return &e
}

func invalid(format string, args ...any) *resizer.Error {
	return resizer.Errorf(resizer.CodeInvalidRequest, "", format, args...)
}

// parserMessage keeps the sdk parser's diagnosis but drops the excerpt of
// the input that its JSON library appends: outcomes should not echo
// attacker-controlled bytes.
func parserMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ", error found in"); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return strings.ToValidUTF8(msg, "")
}
