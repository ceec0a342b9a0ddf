package trigger

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/jdcloud-vm-resizer/resizer"
)

// cePrefix starts every binary-mode attribute header, in canonical form.
const cePrefix = "Ce-"

// maxAttributeName bounds an attribute name: CloudEvents asks for at most
// 20 characters, and a longer one is a header meant to cost us, not data.
const maxAttributeName = 64

// canonicalHeader rebuilds h with canonical keys, because the sdk looks
// headers up by canonical key only and API Gateway lower-cases every name.
// Repeated ce-* headers are joined with "," exactly as API Gateway joins
// them, so both ways in see the same value; values are never split.
func canonicalHeader(h http.Header) http.Header {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic when two spellings of one name meet
	out := make(http.Header, len(h))
	for _, k := range keys {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		out[ck] = append(out[ck], h[k]...)
	}
	for k, vs := range out {
		if strings.HasPrefix(k, cePrefix) && len(vs) > 1 {
			out[k] = []string{strings.Join(vs, ",")}
		}
	}
	return out
}

// binaryEvent reads a binary-mode CloudEvent: attributes from ce-*
// headers, data from the body. The sdk reads the headers but does not
// percent-decode them, which the HTTP binding requires, so that happens
// here first.
func binaryEvent(ctx context.Context, h http.Header, body []byte) (event.Event, *event.Event, *resizer.Error) {
	partial := binaryPartial(h)
	dh, err := decodeCEHeaders(h)
	if err != nil {
		return event.Event{}, partial, err
	}
	if err := checkBinaryAttributes(dh); err != nil {
		return event.Event{}, partial, err
	}
	msg := cehttp.NewMessage(dh, io.NopCloser(bytes.NewReader(body)))
	if msg.ReadEncoding() != binding.EncodingBinary {
		return event.Event{}, partial, invalid("unsupported specversion %s; must be %q", resizer.Quote(dh.Get(cePrefix+"Specversion")), event.CloudEventsVersionV1)
	}
	e, cerr := toEvent(ctx, msg)
	if cerr != nil {
		// The sdk's message quotes the offending header whole, which may be
		// megabytes: keep its diagnosis, bounded.
		return event.Event{}, partial, invalid("not a valid CloudEvent: %s", parserMessage(cerr))
	}
	if err := checkEvent(e); err != nil {
		return event.Event{}, partial, err
	}
	return *e, nil, nil
}

// checkBinaryAttributes applies structured mode's rule to the headers of
// the required string attributes: no control characters, and the message
// names the attribute (the sdk's own error names neither).
func checkBinaryAttributes(h http.Header) *resizer.Error {
	for _, name := range []string{"id", "source", "type"} {
		if v := h.Get(cePrefix + name); strings.ContainsFunc(v, unicode.IsControl) {
			return invalid("attribute %q must not contain control characters", name)
		}
	}
	return nil
}

// toEvent guards the sdk's conversion like unmarshalEvent does.
func toEvent(ctx context.Context, msg binding.Message) (e *event.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("unparseable event")
		}
	}()
	return binding.ToEvent(ctx, msg)
}

// decodeCEHeaders returns h with every ce-* value percent-decoded. A
// malformed escape, invalid UTF-8 after decoding, or a header name that
// cannot be an attribute name (the sdk would even panic on a bare "ce-")
// makes the event invalid.
func decodeCEHeaders(h http.Header) (http.Header, *resizer.Error) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first problem reported is the same every time
	out := make(http.Header, len(h))
	for _, k := range keys {
		vs := h[k]
		if !strings.HasPrefix(k, cePrefix) || len(vs) == 0 {
			out[k] = vs
			continue
		}
		if name := k[len(cePrefix):]; len(name) > maxAttributeName || !event.IsExtensionNameValid(name) {
			return nil, invalid("header %s does not name a CloudEvents attribute", resizer.Quote(k))
		}
		v, err := percentDecode(vs[0])
		if err != nil {
			return nil, invalid("header %s: %v", resizer.Quote(k), err)
		}
		out[k] = []string{v}
	}
	return out, nil
}

// binaryPartial reads id, source and subject for a failed outcome; a
// value that does not decode is left out rather than echoed undecoded.
func binaryPartial(h http.Header) *event.Event {
	get := func(name string) string {
		v, err := percentDecode(h.Get(cePrefix + name))
		if err != nil {
			return ""
		}
		return v
	}
	return partialEvent(get("Id"), get("Source"), get("Subject"))
}

// percentDecode undoes the HTTP binding's %XX escaping (only that: "+"
// stays "+", unlike form decoding) and requires UTF-8 afterwards.
func percentDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		if !utf8.ValidString(s) {
			return "", fmt.Errorf("value is not valid UTF-8")
		}
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", fmt.Errorf("malformed percent-encoding")
		}
		b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("value is not valid UTF-8 after percent-decoding")
	}
	return string(b), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
