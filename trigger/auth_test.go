package trigger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	testSecret = "s3cr3t-webhook"
	testToken  = "t0k3n-webhook"
)

func sign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestAuthentication(t *testing.T) {
	body := ce("ok-1")
	secret := Options{WebhookSecret: testSecret}
	token := Options{WebhookToken: testToken}
	both := Options{WebhookSecret: testSecret, WebhookToken: testToken}
	tests := []struct {
		name   string
		o      Options
		header map[string]string
		status int
	}{
		{"nothing configured: 401 by default", Options{}, nil, 401},
		{"nothing configured: 401 even with credentials", Options{}, map[string]string{"Authorization": "Bearer x"}, 401},
		{"nothing configured, AllowUnauthenticated", Options{AllowUnauthenticated: true}, nil, 200},
		{"HMAC right", secret, map[string]string{HeaderSignature256: sign(testSecret, body)}, 200},
		{"HMAC right, upper-case hex", secret, map[string]string{HeaderSignature256: "sha256=" + strings.ToUpper(sign(testSecret, body)[7:])}, 200},
		{"HMAC right via X-Hub-Signature", secret, map[string]string{HeaderSignature: sign(testSecret, body)}, 200},
		{"HMAC wrong secret", secret, map[string]string{HeaderSignature256: sign("other", body)}, 401},
		{"HMAC over another body", secret, map[string]string{HeaderSignature256: sign(testSecret, body+" ")}, 401},
		{"HMAC without prefix", secret, map[string]string{HeaderSignature256: sign(testSecret, body)[7:]}, 401},
		{"HMAC as sha1", secret, map[string]string{HeaderSignature: "sha1=" + sign(testSecret, body)[7:]}, 401},
		{"HMAC not hex", secret, map[string]string{HeaderSignature256: "sha256=zz"}, 401},
		{"HMAC missing", secret, nil, 401},
		{"HMAC configured, AllowUnauthenticated does not bypass", Options{WebhookSecret: testSecret, AllowUnauthenticated: true}, nil, 401},
		{"bearer right", token, map[string]string{"Authorization": "Bearer " + testToken}, 200},
		{"bearer scheme is case-insensitive", token, map[string]string{"Authorization": "bearer " + testToken}, 200},
		{"bearer wrong", token, map[string]string{"Authorization": "Bearer nope"}, 401},
		{"bearer prefix of the token", token, map[string]string{"Authorization": "Bearer " + testToken[:4]}, 401},
		{"basic scheme", token, map[string]string{"Authorization": "Basic " + testToken}, 401},
		{"bearer missing", token, nil, 401},
		{"both: token alone suffices", both, map[string]string{"Authorization": "Bearer " + testToken}, 200},
		{"both: signature alone suffices", both, map[string]string{"Authorization": "Bearer nope", HeaderSignature256: sign(testSecret, body)}, 200},
		{"both: neither", both, map[string]string{"Authorization": "Bearer nope", HeaderSignature256: sign("x", body)}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			h := map[string]string{"Content-Type": "application/cloudevents+json"}
			for k, v := range tt.header {
				h[k] = v
			}
			w := serveReq(t, New(f, tt.o), post(body, h))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 401 {
				return
			}
			if w.Body.String() != `{"error":"unauthenticated"}` {
				t.Errorf("body = %s", w.Body)
			}
			if n := len(f.handledEvents()) + len(f.rejections()); n != 0 {
				t.Errorf("an unauthenticated request produced %d outcomes", n)
			}
		})
	}
}

// The signature is over the raw bytes only, so it cannot authenticate a
// binary-mode event, whose identity travels in ce-* headers: that takes the
// bearer token. A body that is not even a CloudEvent is still only judged
// after authentication.
func TestAuthenticationBinaryRawBody(t *testing.T) {
	f := newFake()
	d := New(f, Options{WebhookSecret: testSecret, WebhookToken: testToken})
	h := binaryHeaders("ok-1", map[string]string{HeaderSignature256: sign(testSecret, requestData)})
	if w := serveReq(t, d, post(requestData, h)); w.Code != 401 {
		t.Fatalf("binary mode with a signature only: status %d: %s", w.Code, w.Body)
	}
	h = binaryHeaders("ok-2", map[string]string{"Authorization": "Bearer " + testToken})
	if w := serveReq(t, d, post(requestData, h)); w.Code != 200 {
		t.Fatalf("binary mode with the bearer token: status %d: %s", w.Code, w.Body)
	}
	if n := len(f.handledEvents()); n != 1 {
		t.Fatalf("%d events handled, want only the bearer one", n)
	}
	h = map[string]string{"Content-Type": "text/plain", HeaderSignature256: sign("x", "hello")}
	if w := serveReq(t, d, post("hello", h)); w.Code != 401 {
		t.Fatalf("unauthenticated 415 candidate: status %d", w.Code)
	}
}

// With only a token configured, a request without it is refused before a
// byte of its body is read.
func TestAuthenticationRefusesBeforeReading(t *testing.T) {
	body := &countingReader{}
	r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(body))
	r.Header.Set("Content-Type", "application/cloudevents+json")
	w := serveReq(t, New(newFake(), Options{WebhookToken: testToken}), r)
	if w.Code != 401 || body.n.Load() != 0 {
		t.Fatalf("status %d after reading %d bytes", w.Code, body.n.Load())
	}
	if w.Header().Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("WWW-Authenticate = %q", w.Header().Get("WWW-Authenticate"))
	}
}

// The secret and token must not leak through the options' printed form.
func TestOptionsStringRedacts(t *testing.T) {
	o := Options{WebhookSecret: testSecret, WebhookToken: testToken}
	for _, s := range []string{fmt.Sprintf("%v", o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o)} {
		if strings.Contains(s, testSecret) || strings.Contains(s, testToken) {
			t.Errorf("leaked: %s", s)
		}
	}
}
