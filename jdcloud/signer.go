package jdcloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Signing constants of JDCLOUD2-HMAC-SHA256 (JDCLOUD-API.md "Signing").
const (
	SignAlgorithm   = "JDCLOUD2-HMAC-SHA256"
	HeaderDate      = "X-Jdcloud-Date"
	HeaderNonce     = "X-Jdcloud-Nonce"
	HeaderAuth      = "Authorization"
	timeFormat      = "20060102T150405Z"
	dateFormat      = "20060102"
	termString      = "jdcloud2_request"
	emptyBodySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Credentials are a JD Cloud access key pair. String never shows the secret.
type Credentials struct {
	AccessKey string
	SecretKey string
}

// String redacts the secret key so that a stray %v cannot leak it.
func (c Credentials) String() string {
	return "Credentials{AccessKey:" + c.AccessKey + ", SecretKey:<redacted>}"
}

// GoString redacts the secret key for %#v too.
func (c Credentials) GoString() string { return c.String() }

// unsignedHeaders are never part of the signature.
var unsignedHeaders = map[string]bool{"authorization": true, "user-agent": true, "x-jdcloud-request-id": true}

// Sign signs req in place: it expects X-Jdcloud-Date and X-Jdcloud-Nonce to
// be set already (see Stamp) and sets Authorization. body is the exact
// request body (nil for none). region is the regionId of the path, service
// is "vm".
func Sign(req *http.Request, body []byte, creds Credentials, region, service string) {
	auth, _ := Authorization(req, body, creds, region, service)
	req.Header.Set(HeaderAuth, auth)
}

// Stamp sets the date and nonce headers that every signed request carries.
func Stamp(h http.Header, now time.Time, nonce string) {
	h.Set(HeaderDate, now.UTC().Format(timeFormat))
	h.Set(HeaderNonce, nonce)
}

// Authorization computes the Authorization header value for req and also
// returns the signature alone. It does not modify req.
func Authorization(req *http.Request, body []byte, creds Credentials, region, service string) (auth, signature string) {
	amzDate := req.Header.Get(HeaderDate)
	day := amzDate
	if len(day) >= 8 {
		day = day[:8]
	}
	signed, canonHeaders := canonicalHeaders(req)

	var bodyHash string
	if len(body) == 0 {
		bodyHash = emptyBodySHA256
	} else {
		sum := sha256.Sum256(body)
		bodyHash = hex.EncodeToString(sum[:])
	}

	var b strings.Builder
	b.Grow(256 + len(canonHeaders))
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(req.URL.EscapedPath())
	b.WriteByte('\n')
	b.WriteString(req.URL.RawQuery)
	b.WriteByte('\n')
	b.WriteString(canonHeaders)
	b.WriteByte('\n')
	b.WriteByte('\n')
	b.WriteString(signed)
	b.WriteByte('\n')
	b.WriteString(bodyHash)
	crSum := sha256.Sum256([]byte(b.String()))

	scope := day + "/" + region + "/" + service + "/" + termString
	sts := SignAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])

	key := hmacSHA256([]byte("JDCLOUD2"+creds.SecretKey), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, termString)
	signature = hex.EncodeToString(hmacSHA256(key, sts))

	auth = SignAlgorithm + " Credential=" + creds.AccessKey + "/" + scope +
		", SignedHeaders=" + signed + ", Signature=" + signature
	return auth, signature
}

// canonicalHeaders returns the signed-header list and the canonical header
// block (without the trailing newline).
func canonicalHeaders(req *http.Request) (signed, canon string) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	names := make([]string, 0, len(req.Header)+1)
	names = append(names, "host")
	for k := range req.Header {
		lk := strings.ToLower(k)
		if unsignedHeaders[lk] || lk == "host" {
			continue
		}
		names = append(names, lk)
	}
	sort.Strings(names)

	var c strings.Builder
	for i, n := range names {
		if i > 0 {
			c.WriteByte('\n')
		}
		c.WriteString(n)
		c.WriteByte(':')
		if n == "host" {
			c.WriteString(strings.TrimSpace(host))
			continue
		}
		vals := req.Header.Values(n)
		for j, v := range vals {
			if j > 0 {
				c.WriteByte(',')
			}
			c.WriteString(foldSpaces(strings.TrimSpace(v)))
		}
	}
	return strings.Join(names, ";"), c.String()
}

// foldSpaces folds inner runs of spaces into one.
func foldSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	prev := false
	for _, r := range s {
		if r == ' ' {
			if prev {
				continue
			}
			prev = true
		} else {
			prev = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// Verify checks req's Authorization header against creds: the signature the
// server computes over what it received must equal the one sent. It is what
// the simulator (and any receiver) uses; comparison is constant-time.
func Verify(req *http.Request, body []byte, lookup func(accessKey string) (Credentials, bool), service string) (accessKey string, ok bool) {
	got := req.Header.Get(HeaderAuth)
	const credPrefix = SignAlgorithm + " Credential="
	if !strings.HasPrefix(got, credPrefix) {
		return "", false
	}
	rest := got[len(credPrefix):]
	credPart, rest, found := strings.Cut(rest, ", SignedHeaders=")
	if !found {
		return "", false
	}
	signedPart, sigPart, found := strings.Cut(rest, ", Signature=")
	if !found {
		return "", false
	}
	fields := strings.Split(credPart, "/")
	if len(fields) != 5 || fields[3] != service || fields[4] != termString {
		return "", false
	}
	creds, known := lookup(fields[0])
	if !known {
		return fields[0], false
	}
	region := fields[2]
	// Rebuild the request with only the headers the client said it signed,
	// so a proxy adding headers does not break verification, but every
	// header the client signed must be present.
	clone := req.Clone(req.Context())
	clone.Header = http.Header{}
	for _, n := range strings.Split(signedPart, ";") {
		if n == "host" {
			continue
		}
		vals := req.Header.Values(n)
		if len(vals) == 0 {
			return fields[0], false
		}
		clone.Header[http.CanonicalHeaderKey(n)] = vals
	}
	_, want := Authorization(clone, body, creds, region, service)
	if !hmac.Equal([]byte(want), []byte(sigPart)) {
		return fields[0], false
	}
	if date := req.Header.Get(HeaderDate); len(date) < 8 || date[:8] != fields[1] {
		return fields[0], false
	}
	return fields[0], true
}
