package trigger

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// Webhook authentication headers (docs/contract.md §2).
const (
	HeaderSignature256 = "X-Hub-Signature-256"
	HeaderSignature    = "X-Hub-Signature"
	signaturePrefix    = "sha256="
)

// authNeedsBody tells whether authenticating this request still depends on
// the body: the bearer token (if configured) did not match, but a webhook
// secret is configured and a signature may. When neither applies, the
// request is refused before its body is read.
func (d *Dispatcher) authNeedsBody(h http.Header) (authenticated, needBody bool) {
	if d.o.WebhookSecret == "" && d.o.WebhookToken == "" {
		return d.o.AllowUnauthenticated, false
	}
	if d.o.WebhookToken != "" && bearerMatches(h.Get("Authorization"), d.o.WebhookToken) {
		return true, false
	}
	return false, d.o.WebhookSecret != ""
}

// signatureMatches checks X-Hub-Signature-256, or X-Hub-Signature carrying
// the same sha256= form, against the HMAC of the raw body.
func (d *Dispatcher) signatureMatches(h http.Header, body []byte) bool {
	mac := hmac.New(sha256.New, []byte(d.o.WebhookSecret))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, name := range []string{HeaderSignature256, HeaderSignature} {
		for _, v := range h.Values(name) {
			if signatureEqual(v, want) {
				return true
			}
		}
	}
	return false
}

func signatureEqual(header string, want []byte) bool {
	header = strings.TrimSpace(header)
	if len(header) < len(signaturePrefix) || !strings.EqualFold(header[:len(signaturePrefix)], signaturePrefix) {
		return false
	}
	got, err := hex.DecodeString(header[len(signaturePrefix):])
	if err != nil {
		return false
	}
	return hmac.Equal(got, want)
}

// bearerMatches compares in constant time; hashing both sides first keeps
// the token's length from leaking through timing as well.
func bearerMatches(authorization, token string) bool {
	scheme, got, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	g := sha256.Sum256([]byte(strings.TrimSpace(got)))
	w := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
