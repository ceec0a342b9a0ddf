package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jdcloud-vm-resizer/resizer"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkResult is the property every decoder keeps, whatever the input:
// an error is an invalid_request *resizer.Error (or ErrConfig); every item
// either has Err, invalid_request, or a complete event whose data is a JSON
// object; items never exceed MaxItems; messages quote at most a clipped
// excerpt of the input.
func checkResult(t testing.TB, body []byte, res Result, err error) {
	t.Helper()
	if err != nil {
		if errors.Is(err, ErrConfig) {
			return
		}
		var re *resizer.Error
		if !errors.As(err, &re) || re.Code != resizer.CodeInvalidRequest {
			t.Fatalf("error %v is not an invalid_request *resizer.Error", err)
		}
		checkMessage(t, body, re.Message)
		if len(res.Items) != 0 {
			t.Fatalf("an error came with %d items", len(res.Items))
		}
		return
	}
	if len(res.Items) > MaxItems {
		t.Fatalf("%d items; at most %d", len(res.Items), MaxItems)
	}
	for i, it := range res.Items {
		if it.Err != nil {
			if it.Err.Code != resizer.CodeInvalidRequest {
				t.Fatalf("item %d: Err code %s", i, it.Err.Code)
			}
			checkMessage(t, body, it.Err.Message)
			if it.Event.Source() == "" || it.Event.Type() == "" {
				t.Fatalf("item %d: an invalid item must still carry source and type: %s", i, it.Event.String())
			}
			continue
		}
		e := it.Event
		if err := e.Validate(); err != nil {
			t.Fatalf("item %d: invalid event: %v\n%s", i, err, e.String())
		}
		switch e.Type() {
		case resizer.TypeRequested, TypeApproved, TypeRejected:
		default:
			t.Fatalf("item %d: type %q", i, e.Type())
		}
		if e.DataContentType() != "application/json" || e.DataBase64 {
			t.Fatalf("item %d: datacontenttype %q base64 %v", i, e.DataContentType(), e.DataBase64)
		}
		var m map[string]any
		if err := json.Unmarshal(e.Data(), &m); err != nil || m == nil {
			t.Fatalf("item %d: data is not a JSON object: %s", i, e.Data())
		}
		if p := idProblem(e.ID(), maxAttributeLen); p != "" {
			t.Fatalf("item %d: id %q %s", i, e.ID(), p)
		}
		if len(e.Source()) > maxAttributeLen {
			t.Fatalf("item %d: source of %d bytes", i, len(e.Source()))
		}
		if e.Type() == resizer.TypeRequested {
			region, _ := m["regionId"].(string)
			inst, _ := m["instanceId"].(string)
			if !resizer.ValidRegionID(region) || !resizer.ValidInstanceID(inst) {
				t.Fatalf("item %d: request with invalid region or instance: %s", i, e.Data())
			}
			_, typed := m["instanceType"]
			_, relative := m["direction"]
			if typed == relative {
				t.Fatalf("item %d: request must name exactly one of instanceType and direction: %s", i, e.Data())
			}
			for _, k := range []string{"reason", "requestedBy"} {
				if s, _ := m[k].(string); utf8.RuneCountInString(s) > maxFreeText || strings.ContainsFunc(s, isControl) {
					t.Fatalf("item %d: %s not clean: %q", i, k, s)
				}
			}
		}
	}
}

// checkMessage bounds a message: the decoders quote caller values with
// resizer.Quote (at most 64 runes each), so a message stays short whatever
// the input, and no control character of the input reaches it raw.
func checkMessage(t testing.TB, body []byte, msg string) {
	t.Helper()
	if msg == "" {
		t.Fatal("empty message")
	}
	if utf8.RuneCountInString(msg) > 1200 {
		t.Fatalf("message of %d runes: %.300s…", utf8.RuneCountInString(msg), msg)
	}
	if strings.ContainsFunc(msg, isControl) {
		t.Fatalf("message has a raw control character: %q", msg)
	}
	_ = body
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// only returns the one item of res.
func only(t *testing.T, res Result, err error) Item {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("%d items, want 1 (ignored: %q)", len(res.Items), res.Ignored)
	}
	return res.Items[0]
}

// compactJSON normalises an expected JSON literal for comparison.
func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("bad expected JSON %s: %v", s, err)
	}
	return b.String()
}

func wantErrContains(t *testing.T, it Item, parts ...string) {
	t.Helper()
	if it.Err == nil {
		t.Fatalf("item is valid, want an error containing %q; data %s", parts, it.Event.Data())
	}
	for _, p := range parts {
		if !strings.Contains(it.Err.Message, p) {
			t.Fatalf("message %q lacks %q", it.Err.Message, p)
		}
	}
}
