package trigger

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

func allowAll() Options { return Options{AllowUnauthenticated: true} }

func serveReq(t *testing.T, d *Dispatcher, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	d.ServeHTTP(w, r)
	return w
}

func post(body string, header map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

var structured = map[string]string{"Content-Type": "application/cloudevents+json"}

func binaryHeaders(id string, extra map[string]string) map[string]string {
	h := map[string]string{
		"Content-Type":   "application/json",
		"Ce-Specversion": "1.0",
		"Ce-Id":          id,
		"Ce-Source":      "test/alerts",
		"Ce-Type":        resizer.TypeRequested,
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

const requestData = `{"regionId":"cn-north-1","instanceId":"i-abcdef12","instanceType":"g.n2.large"}`

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		name       string
		req        *http.Request
		status     int
		outcome    string       // expected outcome event id, "" when the body is no outcome
		code       resizer.Code // expected error.code of the outcome
		rejected   bool         // Reject was called
		retryAfter string
	}{
		{name: "structured succeeded", req: post(ce("ok-1"), structured), status: 200, outcome: "out-ok-1"},
		{name: "structured with charset", req: post(ce("ok-1"), map[string]string{"Content-Type": "application/cloudevents+json; charset=utf-8"}), status: 200, outcome: "out-ok-1"},
		{name: "policy or precondition failure is 200", req: post(ce("perm-1"), structured), status: 200, outcome: "out-perm-1", code: resizer.CodePreconditionFailed},
		{name: "invalid data is 400", req: post(ce("invalid-1"), structured), status: 400, outcome: "out-invalid-1", code: resizer.CodeInvalidRequest},
		{name: "retryable is 503", req: post(ce("retry-1"), structured), status: 503, outcome: "out-retry-1", code: resizer.CodeUnavailable, retryAfter: "5"},
		{name: "publish failure is 503", req: post(ce("pubfail-1"), structured), status: 503, outcome: "out-pubfail-1", retryAfter: "5"},
		{name: "malformed structured body", req: post(`{"specversion":"1.0",`, structured), status: 400, outcome: "out-", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "structured missing id", req: post(`{"specversion":"1.0","source":"s","type":"t"}`, structured), status: 400, outcome: "out-", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "binary succeeded", req: post(requestData, binaryHeaders("ok-2", nil)), status: 200, outcome: "out-ok-2"},
		{name: "binary retryable", req: post(requestData, binaryHeaders("retry-2", nil)), status: 503, outcome: "out-retry-2", code: resizer.CodeUnavailable, retryAfter: "5"},
		{name: "binary invalid UTF-8 after decoding", req: post(requestData, binaryHeaders("ok-3", map[string]string{"Ce-Subject": "%FF%FE"})), status: 400, outcome: "out-ok-3", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "binary malformed escape", req: post(requestData, binaryHeaders("ok-4", map[string]string{"Ce-Subject": "100%"})), status: 400, outcome: "out-ok-4", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "binary specversion 0.3", req: post(requestData, binaryHeaders("ok-5", map[string]string{"Ce-Specversion": "0.3"})), status: 400, outcome: "out-ok-5", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "binary unknown specversion", req: post(requestData, binaryHeaders("ok-6", map[string]string{"Ce-Specversion": "2.0"})), status: 400, outcome: "out-ok-6", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "binary bad time", req: post(requestData, binaryHeaders("ok-7", map[string]string{"Ce-Time": "yesterday"})), status: 400, outcome: "out-ok-7", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "binary missing type", req: post(requestData, binaryHeaders("ok-8", map[string]string{"Ce-Type": ""})), status: 400, outcome: "out-ok-8", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "binary bad extension name", req: post(requestData, binaryHeaders("ok-9", map[string]string{"Ce-My-Ext": "x"})), status: 400, outcome: "out-ok-9", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "text/plain is 415", req: post(ce("ok-1"), map[string]string{"Content-Type": "text/plain"}), status: 415},
		{name: "plain JSON without ce headers is 415", req: post(ce("ok-1"), map[string]string{"Content-Type": "application/json"}), status: 415},
		{name: "no content type is 415", req: post(ce("ok-1"), nil), status: 415},
		{name: "other event format is 415", req: post(ce("ok-1"), map[string]string{"Content-Type": "application/cloudevents+avro"}), status: 415},
		{name: "GET / is 405", req: httptest.NewRequest(http.MethodGet, "/", nil), status: 405},
		{name: "PUT / is 405", req: httptest.NewRequest(http.MethodPut, "/", strings.NewReader(ce("ok-1"))), status: 405},
		{name: "POST /healthz is 405", req: httptest.NewRequest(http.MethodPost, "/healthz", strings.NewReader(ce("ok-1"))), status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			w := serveReq(t, New(f, allowAll()), tt.req)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if got := len(f.rejections()) > 0; got != tt.rejected {
				t.Errorf("rejected = %v, want %v", got, tt.rejected)
			}
			if tt.outcome == "" {
				var e struct{ Error string }
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
					t.Errorf("body = %s, want {\"error\":…}", w.Body)
				}
				if n := len(f.handledEvents()); n != 0 {
					t.Errorf("processed %d events", n)
				}
				return
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/cloudevents+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			o := decodeOutcome(t, w.Body.Bytes())
			if o.ID != tt.outcome || errCode(o) != tt.code {
				t.Errorf("outcome = %s (%s), want %s (%s)", o.ID, errCode(o), tt.outcome, tt.code)
			}
		})
	}
}

func TestHTTPMethodNotAllowedSaysAllow(t *testing.T) {
	w := serveReq(t, New(newFake(), allowAll()), httptest.NewRequest(http.MethodGet, "/", nil))
	if got := w.Header().Get("Allow"); got != "POST" {
		t.Errorf("Allow = %q", got)
	}
}

func TestHealthz(t *testing.T) {
	// Health needs no credentials: probes carry none.
	d := New(newFake(), Options{WebhookToken: "tok"})
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		w := serveReq(t, d, httptest.NewRequest(m, "/healthz", nil))
		if w.Code != 200 {
			t.Errorf("%s /healthz = %d", m, w.Code)
		}
		if m == http.MethodGet && w.Body.String() != "ok" {
			t.Errorf("body = %q", w.Body)
		}
	}
}

func TestBinaryAttributes(t *testing.T) {
	tests := []struct {
		name    string
		subject []string // header lines
		want    string
	}{
		{"percent-encoded subject is decoded", []string{"caf%C3%A9%20%25ok"}, "café %ok"},
		{"a comma stays in the value", []string{"a,b"}, "a,b"},
		{"repeated header lines are joined like API Gateway does", []string{"a", "b"}, "a,b"},
		{"plus is not a space", []string{"a+b"}, "a+b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			r := post(requestData, binaryHeaders("ok-1", map[string]string{"Ce-Traceparent": "00-abc-def-01", "Ce-Time": "2025-01-02T03:04:05Z"}))
			for _, s := range tt.subject {
				r.Header.Add("Ce-Subject", s)
			}
			if w := serveReq(t, New(f, allowAll()), r); w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			evs := f.handledEvents()
			if len(evs) != 1 {
				t.Fatalf("handled %d events", len(evs))
			}
			e := evs[0]
			if e.Subject() != tt.want {
				t.Errorf("subject = %q, want %q", e.Subject(), tt.want)
			}
			if e.ID() != "ok-1" || e.Source() != "test/alerts" || e.Type() != resizer.TypeRequested || e.DataContentType() != "application/json" {
				t.Errorf("attributes: %s", e.String())
			}
			if e.Extensions()["traceparent"] != "00-abc-def-01" || e.Time().IsZero() {
				t.Errorf("extensions/time: %s", e.String())
			}
			if string(e.Data()) != requestData {
				t.Errorf("data = %s", e.Data())
			}
		})
	}
}

// The sdk reads canonical header keys only; a request built by other code
// with raw lower-case keys must still be understood.
func TestBinaryNonCanonicalHeaderKeys(t *testing.T) {
	f := newFake()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(requestData))
	for k, v := range map[string]string{"content-type": "application/json", "ce-specversion": "1.0", "ce-id": "ok-1",
		"ce-source": "test/alerts", "ce-type": resizer.TypeRequested, "ce-subject": "a,b"} {
		r.Header[k] = []string{v}
	}
	if w := serveReq(t, New(f, allowAll()), r); w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if evs := f.handledEvents(); len(evs) != 1 || evs[0].Subject() != "a,b" {
		t.Fatalf("handled %v", evs)
	}
}

// A bare "ce-" header makes the sdk index past the name; it must be a 400.
func TestBinaryBareCEHeader(t *testing.T) {
	f := newFake()
	r := post(requestData, binaryHeaders("ok-1", nil))
	r.Header["Ce-"] = []string{"x"}
	w := serveReq(t, New(f, allowAll()), r)
	if w.Code != 400 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if rj := f.rejections(); len(rj) != 1 || rj[0].partial == nil || rj[0].partial.ID() != "ok-1" {
		t.Fatalf("rejections = %v", rj)
	}
}

// countingReader yields endless bytes and counts what was taken.
type countingReader struct{ n atomic.Int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	c.n.Add(int64(len(p)))
	return len(p), nil
}

func TestBodyTooLarge(t *testing.T) {
	const max = 1000
	f := newFake()
	d := New(f, Options{AllowUnauthenticated: true, MaxBodyBytes: max})
	body := &countingReader{}
	r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(body))
	r.ContentLength = -1 // unknown: only reading can tell
	r.Header.Set("Content-Type", "application/cloudevents+json")
	w := serveReq(t, d, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d", w.Code)
	}
	if n := body.n.Load(); n > max+1 {
		t.Errorf("read %d bytes, want at most %d", n, max+1)
	}
	if len(f.handledEvents())+len(f.rejections()) != 0 {
		t.Error("an oversized body reached the processor")
	}

	// A declared length over the limit is refused without reading.
	body = &countingReader{}
	r = httptest.NewRequest(http.MethodPost, "/", io.NopCloser(body))
	r.ContentLength = max + 1
	if w := serveReq(t, d, r); w.Code != http.StatusRequestEntityTooLarge || body.n.Load() != 0 {
		t.Errorf("status %d after reading %d bytes", w.Code, body.n.Load())
	}

	// Exactly at the limit is accepted.
	exact := ce("ok-1")
	exact = exact[:len(exact)-1] + `,"pad":"` + strings.Repeat("p", max-len(exact)-9) + `"}`
	if len(exact) != max {
		t.Fatalf("test body is %d bytes", len(exact))
	}
	if w := serveReq(t, d, post(exact, structured)); w.Code != 200 {
		t.Errorf("body of exactly max bytes: status %d: %s", w.Code, w.Body)
	}
}

func TestDefaultMaxBodyIs256KiB(t *testing.T) {
	d := New(newFake(), allowAll())
	big := ce("ok-1")
	big = big[:len(big)-1] + `,"pad":"` + strings.Repeat("p", 256<<10) + `"}`
	if w := serveReq(t, d, post(big, structured)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d", w.Code)
	}
}

func TestRetryAfterWholeSeconds(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{{0, "5"}, {time.Second, "1"}, {1500 * time.Millisecond, "2"}, {time.Millisecond, "1"}, {30 * time.Second, "30"}} {
		d := New(newFake(), Options{AllowUnauthenticated: true, RetryAfter: tt.in})
		w := serveReq(t, d, post(ce("retry-1"), structured))
		if got := w.Header().Get("Retry-After"); w.Code != 503 || got != tt.want {
			t.Errorf("RetryAfter %v: status %d, Retry-After %q, want %q", tt.in, w.Code, got, tt.want)
		}
	}
}

func TestBatch(t *testing.T) {
	batch := func(items ...string) string { return "[" + strings.Join(items, ",") + "]" }
	bct := map[string]string{"Content-Type": "application/cloudevents-batch+json; charset=utf-8"}
	tests := []struct {
		name       string
		body       string
		status     int
		ids        []string
		codes      []resizer.Code
		retryAfter string
	}{
		{"mixed, in input order", batch(ce("ok-1"), ce("perm-1"), `{"specversion":"1.0"}`, ce("invalid-1"), ce("ok-2")), 200,
			[]string{"out-ok-1", "out-perm-1", "out-", "out-invalid-1", "out-ok-2"},
			[]resizer.Code{"", resizer.CodePreconditionFailed, resizer.CodeInvalidRequest, resizer.CodeInvalidRequest, ""}, ""},
		{"any retryable is 503", batch(ce("ok-1"), ce("retry-1")), 503,
			[]string{"out-ok-1", "out-retry-1"}, []resizer.Code{"", resizer.CodeUnavailable}, "5"},
		{"every event invalid is 400", batch(`{}`, ce("invalid-1")), 400,
			[]string{"out-", "out-invalid-1"}, []resizer.Code{resizer.CodeInvalidRequest, resizer.CodeInvalidRequest}, ""},
		{"duplicate key inside an element", batch(`{"specversion":"1.0","id":"a","id":"b","source":"s","type":"t"}`), 400,
			[]string{"out-"}, []resizer.Code{resizer.CodeInvalidRequest}, ""},
		{"not an array", ce("ok-1"), 400, []string{"out-"}, []resizer.Code{resizer.CodeInvalidRequest}, ""},
		{"malformed JSON", `[{"specversion"`, 400, []string{"out-"}, []resizer.Code{resizer.CodeInvalidRequest}, ""},
		{"empty batch", `[]`, 400, []string{"out-"}, []resizer.Code{resizer.CodeInvalidRequest}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serveReq(t, New(newFake(), allowAll()), post(tt.body, bct))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/cloudevents-batch+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			outs := decodeOutcomes(t, w.Body.Bytes())
			if len(outs) != len(tt.ids) {
				t.Fatalf("%d outcomes, want %d", len(outs), len(tt.ids))
			}
			for i, o := range outs {
				if o.ID != tt.ids[i] || errCode(o) != tt.codes[i] {
					t.Errorf("outcome %d = %s (%s), want %s (%s)", i, o.ID, errCode(o), tt.ids[i], tt.codes[i])
				}
			}
		})
	}
}

// A rejection whose failed outcome could not be published must be retried
// like any other unpublished outcome.
func TestRejectPublishFailureIs503(t *testing.T) {
	f := newFake()
	f.rejectPublishFails = true
	w := serveReq(t, New(f, allowAll()), post(`{}`, structured))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}
