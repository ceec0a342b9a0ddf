package trigger

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jdcloud-vm-resizer/resizer"
)

// The seed corpora live in testdata/fuzz/<Name>/ and run with every go test.

func FuzzDecodeStructured(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := DecodeStructured(raw)
		if err != nil {
			var re *resizer.Error
			if !errors.As(err, &re) || re.Code != resizer.CodeInvalidRequest {
				t.Fatalf("error %v is not invalid_request", err)
			}
			return
		}
		if e.SpecVersion() != "1.0" || strings.TrimSpace(e.ID()) == "" || strings.TrimSpace(e.Source()) == "" || strings.TrimSpace(e.Type()) == "" {
			t.Fatalf("accepted an event without its required attributes: %s", e.String())
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("accepted an invalid event: %v", err)
		}
	})
}

func FuzzInvoke(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		d := New(newFake(), Options{AllowUnauthenticated: true, Concurrency: 2})
		out, err := d.Invoke(context.Background(), payload)
		var re *RetryError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("Lambda error %v is not a RetryError", err)
		}
		if !json.Valid(out) {
			t.Fatalf("answer is not JSON: %q", out)
		}
	})
}

// FuzzServeHTTP takes a method, a header block ("Name: value" lines) and
// a body.
func FuzzServeHTTP(f *testing.F) {
	allowed := map[int]bool{200: true, 400: true, 401: true, 405: true, 413: true, 415: true, 503: true}
	f.Fuzz(func(t *testing.T, method, headers string, body []byte) {
		if method == "" || strings.ContainsAny(method, " \t\r\n") {
			method = http.MethodPost
		}
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Method = method
		sc := bufio.NewScanner(strings.NewReader(headers))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
				r.Header.Add(k, strings.TrimSpace(v))
			}
		}
		d := New(newFake(), Options{WebhookToken: testToken, MaxBodyBytes: 4096})
		w := httptest.NewRecorder()
		d.ServeHTTP(w, r)
		if !allowed[w.Code] {
			t.Fatalf("status %d", w.Code)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("body is not JSON: %q", w.Body)
		}
	})
}

// FuzzRoutes posts a body to one of the webhook routes: whatever it holds,
// the answer is one of §7's statuses, JSON, and a 200 or 503 carries
// exactly one outcome per request the Processor saw.
func FuzzRoutes(f *testing.F) {
	paths := []string{PathAlertmanager, PathGrafana, PathJDCloudMonitor, PathJira}
	f.Add(uint8(0), []byte(`{"version":"4","receiver":"prod","status":"firing","alerts":[{"status":"firing","fingerprint":"a1","startsAt":"2026-11-28T01:00:00Z","labels":{"alertname":"HighCPU","jdcloud_instance_id":"i-abcdef12","jdcloud_region":"cn-north-1","resize_to":"g.n2.large"}}]}`))
	f.Add(uint8(1), []byte(`{"version":"1","receiver":"ops","alerts":[{"status":"firing","fingerprint":"b2","startsAt":"2026-11-28T01:00:00Z","labels":{"jdcloud_instance_id":"i-abcdef12","resize_direction":"up"}}]}`))
	f.Add(uint8(2), []byte(`{"requestId":"r1","resourceId":"i-abcdef12","region":"cn-north-1","resize":{"direction":"down","steps":2}}`))
	f.Add(uint8(3), []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"OPS-1","fields":{"project":{"key":"OPS"}}},"changelog":{"id":"1","items":[{"field":"status","fieldtype":"jira","toString":"Approved"}]}}`))
	allowed := map[int]bool{200: true, 400: true, 413: true, 503: true}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		fake := newFake()
		o := Options{AllowUnauthenticated: true, Concurrency: 2, MaxBodyBytes: 16 << 10}
		o.Jira.Fields = map[string]string{"instanceId": "customfield_1", "approvalId": "customfield_2"}
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		New(fake, o).ServeHTTP(w, r)
		if !allowed[w.Code] {
			t.Fatalf("%s: status %d: %s", path, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s: body is not JSON: %q", path, w.Body)
		}
		ran := len(fake.handledEvents()) + len(fake.rejections())
		if w.Code != 200 && w.Code != 503 {
			if ran != 0 {
				t.Fatalf("%s: status %d after running %d requests", path, w.Code, ran)
			}
			return
		}
		var outs []json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &outs); err != nil || len(outs) != ran || ran > 100 {
			t.Fatalf("%s: %d outcomes for %d requests (%v)", path, len(outs), ran, err)
		}
	})
}
