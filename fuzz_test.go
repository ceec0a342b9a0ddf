package resizer_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// The seed corpora live in testdata/fuzz/<Name>/ (real payloads of every
// shape) and run with every go test.

// FuzzParseRequest: whatever the attributes and data, ParseRequest does not
// panic, refuses with invalid_request, and what it accepts is safe to put
// in a JD Cloud URL path.
func FuzzParseRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, id, source, typ, contentType string, data []byte) {
		e := event.New()
		e.SetID(id)
		e.SetSource(source)
		e.SetType(typ)
		if contentType != "" {
			e.SetDataContentType(contentType)
		}
		e.DataEncoded = data
		req, err := resizer.ParseRequest(e)
		if err != nil {
			if err.Code != resizer.CodeInvalidRequest || err.Retryable() {
				t.Fatalf("refusal with code %s, want invalid_request", err.Code)
			}
			if len(err.Message) > 1024 {
				t.Fatalf("a %d-byte message echoes too much input", len(err.Message))
			}
			return
		}
		checkPathSafe(t, "regionId", req.RegionID, resizer.ValidRegionID)
		checkPathSafe(t, "instanceId", req.InstanceID, resizer.ValidInstanceID)
		if !resizer.ValidInstanceType(req.InstanceType) || strings.ContainsAny(req.InstanceType, `/\%`) || strings.Contains(req.InstanceType, "..") {
			t.Fatalf("accepted instanceType %q", req.InstanceType)
		}
		if req.FromInstanceType != "" && !resizer.ValidInstanceType(req.FromInstanceType) {
			t.Fatalf("accepted fromInstanceType %q", req.FromInstanceType)
		}
		if req.Type != resizer.TypeRequested {
			t.Fatalf("accepted type %q", req.Type)
		}
		for name, v := range map[string]string{"id": req.ID, "source": req.Source} {
			if v == "" || len(v) > 512 || !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) ||
				strings.ContainsFunc(v, func(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }) {
				t.Fatalf("accepted %s %q", name, v)
			}
		}
		if utf8.RuneCountInString(req.Reason) > 1024 || utf8.RuneCountInString(req.RequestedBy) > 1024 {
			t.Fatalf("accepted free text over 1024 characters")
		}
	})
}

// checkPathSafe: the value is valid and is one path segment as it stands,
// with nothing an URL would escape ('/', '%', '?', '#', spaces, non-ASCII)
// and no dot segment.
func checkPathSafe(t *testing.T, name, v string, valid func(string) bool) {
	t.Helper()
	if !valid(v) || url.PathEscape(v) != v || strings.ContainsAny(v, `/\%.`) {
		t.Fatalf("accepted %s %q, which is not one plain path segment", name, v)
	}
}
