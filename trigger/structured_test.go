package trigger

import (
	"errors"
	"strings"
	"testing"

	"github.com/jdcloud-vm-resizer/resizer"
)

func TestDecodeStructuredAccepts(t *testing.T) {
	raw := `{"specversion":"1.0","id":"r-1","source":"test/alerts","type":"com.jdcloud.vm.resize.requested",` +
		`"subject":"i-abcdef12","time":"2025-01-02T03:04:05Z","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",` +
		`"datacontenttype":"application/json","data":{"regionId":"cn-north-1"}}`
	e, err := DecodeStructured([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != "r-1" || e.Source() != "test/alerts" || e.Type() != resizer.TypeRequested || e.Subject() != "i-abcdef12" {
		t.Errorf("attributes = %s", e.String())
	}
	if got := e.Time().UTC().Format("2006-01-02T15:04:05Z"); got != "2025-01-02T03:04:05Z" {
		t.Errorf("time = %s", got)
	}
	if tp, _ := e.Extensions()["traceparent"].(string); !strings.HasPrefix(tp, "00-0af7") {
		t.Errorf("traceparent = %v", e.Extensions()["traceparent"])
	}
	if string(e.Data()) != `{"regionId":"cn-north-1"}` {
		t.Errorf("data = %s", e.Data())
	}
}

func TestDecodeStructuredDataBase64(t *testing.T) {
	raw := `{"specversion":"1.0","id":"r-1","source":"s","type":"t","datacontenttype":"application/json","data_base64":"eyJhIjoxfQ=="}`
	e, err := DecodeStructured([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Data()) != `{"a":1}` {
		t.Errorf("data = %s", e.Data())
	}
}

func TestDecodeStructuredWhitespace(t *testing.T) {
	raw := "{\n  \"specversion\" : \"1.0\",\n  \"id\" :\t\"r-1\", \"source\": \"s\", \"type\": \"t\"\n}\n"
	if _, err := DecodeStructured([]byte(raw)); err != nil {
		t.Fatal(err)
	}
}

// The data is the Processor's to judge: decoding must not refuse a request
// because its data is wrong, or the outcome would not say which field.
func TestDecodeStructuredLeavesDataAlone(t *testing.T) {
	raw := `{"specversion":"1.0","id":"r-1","source":"s","type":"t","datacontenttype":"application/json","data":{"x":1,"x":2}}`
	if _, err := DecodeStructured([]byte(raw)); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeStructuredRejects(t *testing.T) {
	const base = `"specversion":"1.0","id":"r-1","source":"s","type":"t"`
	tests := []struct {
		name, raw, want string
	}{
		{"invalid JSON", `{"specversion":`, "invalid JSON"},
		{"empty", ``, "invalid JSON"},
		{"array", `[` + `{` + base + `}]`, "not an object"},
		{"string", `"hello"`, "not an object"},
		{"number", `42`, "not an object"},
		{"null", `null`, "not an object"},
		{"trailing data", `{` + base + `} {}`, "trailing data"},
		{"duplicate id", `{` + base + `,"id":"r-2"}`, `duplicate key "id"`},
		{"duplicate specversion", `{"specversion":"1.0",` + base + `}`, `duplicate key "specversion"`},
		{"duplicate via escape", `{` + base + `,"\u0069d":"r-2"}`, `duplicate key "id"`},
		{"missing specversion", `{"id":"r-1","source":"s","type":"t"}`, `missing required attribute "specversion"`},
		{"specversion 0.3", `{"specversion":"0.3","id":"r-1","source":"s","type":"t"}`, `unsupported specversion "0.3"`},
		{"specversion number", `{"specversion":1.0,"id":"r-1","source":"s","type":"t"}`, `"specversion" must be a string`},
		{"missing id", `{"specversion":"1.0","source":"s","type":"t"}`, `missing required attribute "id"`},
		{"missing source", `{"specversion":"1.0","id":"r-1","type":"t"}`, `missing required attribute "source"`},
		{"missing type", `{"specversion":"1.0","id":"r-1","source":"s"}`, `missing required attribute "type"`},
		{"empty id", `{"specversion":"1.0","id":" ","source":"s","type":"t"}`, `"id" must not be empty`},
		{"numeric id", `{"specversion":"1.0","id":7,"source":"s","type":"t"}`, `"id" must be a string`},
		{"null type", `{"specversion":"1.0","id":"r-1","source":"s","type":null}`, `"type" must be a string`},
		{"data and data_base64", `{` + base + `,"data":{},"data_base64":"e30="}`, "mutually exclusive"},
		{"data_base64 not a string", `{` + base + `,"data_base64":1}`, `"data_base64" must be a string`},
		{"data_base64 not base64", `{` + base + `,"data_base64":"!!"}`, "not a valid CloudEvent"},
		{"bad time", `{` + base + `,"time":"yesterday"}`, "not a valid CloudEvent"},
		{"bad datacontenttype", `{` + base + `,"datacontenttype":"no/such/thing"}`, `"datacontenttype"`},
		{"bad extension name", `{` + base + `,"my-ext":"x"}`, "not a valid CloudEvent"},
		{"over size", `{` + base + `,"pad":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`, "at most 262144"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeStructured([]byte(tt.raw))
			var e *resizer.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want a *resizer.Error", err)
			}
			if e.Code != resizer.CodeInvalidRequest {
				t.Errorf("code = %s, want invalid_request", e.Code)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message = %q, want it to contain %q", e.Message, tt.want)
			}
		})
	}
}

// A failed decode still tells Reject what identifies the request, so the
// failed outcome can name it.
func TestDecodeStructuredPartial(t *testing.T) {
	raw := `{"specversion":"0.3","id":"r-9","source":"test/alerts","subject":"i-abcdef12","type":"t"}`
	_, partial, err := decodeStructured([]byte(raw), DefaultMaxBodyBytes)
	if err == nil {
		t.Fatal("accepted specversion 0.3")
	}
	if partial == nil || partial.ID() != "r-9" || partial.Source() != "test/alerts" || partial.Subject() != "i-abcdef12" {
		t.Fatalf("partial = %v", partial)
	}
	if _, partial, _ := decodeStructured([]byte(`[1]`), DefaultMaxBodyBytes); partial != nil {
		t.Errorf("partial of a non-object = %v, want nil", partial)
	}
}

func TestPercentDecode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"plain", "plain", true},
		{"a,b", "a,b", true},
		{"a+b", "a+b", true},
		{"caf%C3%A9%20%25", "café %", true},
		{"%e2%82%ac", "€", true},
		{"%", "", false},
		{"%4", "", false},
		{"%G1", "", false},
		{"%FF", "", false},
		{"%C3", "", false},
		{"raw\xff", "", false},
	}
	for _, tt := range tests {
		got, err := percentDecode(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("percentDecode(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
