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
