package jdcloud

// This file goes with signer_fast.go.proposal: it keeps the original
// signer's Authorization as the reference and checks that the fast one
// agrees with it on any request.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// oldAuthorization is the original signer.go, kept verbatim as the reference.
func oldAuthorization(req *http.Request, body []byte, creds Credentials, region, service string) (auth, signature string) {
	amzDate := req.Header.Get(HeaderDate)
	day := amzDate
	if len(day) >= 8 {
		day = day[:8]
	}
	signed, canonHeaders := oldCanonicalHeaders(req)

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

	key := oldHmacSHA256([]byte("JDCLOUD2"+creds.SecretKey), day)
	key = oldHmacSHA256(key, region)
	key = oldHmacSHA256(key, service)
	key = oldHmacSHA256(key, termString)
	signature = hex.EncodeToString(oldHmacSHA256(key, sts))

	auth = SignAlgorithm + " Credential=" + creds.AccessKey + "/" + scope +
		", SignedHeaders=" + signed + ", Signature=" + signature
	return auth, signature
}

// canonicalHeaders returns the signed-header list and the canonical header
// block (without the trailing newline).
func oldCanonicalHeaders(req *http.Request) (signed, canon string) {
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
			c.WriteString(oldFoldSpaces(strings.TrimSpace(v)))
		}
	}
	return strings.Join(names, ";"), c.String()
}

// foldSpaces folds inner runs of spaces into one.
func oldFoldSpaces(s string) string {
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

func oldHmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// FuzzFastMatchesOriginal: the proposal's Authorization equals the original
// one for any method, path, query, header set and body.
func FuzzFastMatchesOriginal(f *testing.F) {
	f.Add("POST", "/v1/regions/cn-north-1/instances/i-abc:resizeInstance", "", "Content-Type", "application/json", "x-extra", "a  b", "host", "evil", []byte(`{}`), "cn-north-1", "SK")
	f.Add("GET", "/v1/x y", "a=1&b=2", "content-type", "  text  ", "X-Jdcloud-Request-Id", "1", "Authorization", "x", []byte(nil), "r", "")
	f.Add("GET", "/", "", "Ünï", "\xff  \xfe", "", "v", "user-AGENT", "z", []byte("b"), "", "s")
	f.Fuzz(func(t *testing.T, method, path, query, k1, v1, k2, v2, k3, v3 string, body []byte, region, secret string) {
		req, err := http.NewRequest("GET", "http://h.example:8080/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Method = method
		req.URL.Path = path
		req.URL.RawQuery = query
		req.Header = http.Header{}
		req.Header["X-Jdcloud-Date"] = []string{"20261128T010203Z"}
		req.Header["X-Jdcloud-Nonce"] = []string{"n"}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}, {k3, v3}} {
			req.Header[kv[0]] = append(req.Header[kv[0]], kv[1])
			req.Header.Add(kv[0], kv[1]+" ")
		}
		creds := Credentials{AccessKey: "AK", SecretKey: secret}
		a1, s1 := oldAuthorization(req, body, creds, region, "vm")
		a2, s2 := Authorization(req, body, creds, region, "vm")
		if a1 != a2 || s1 != s2 {
			t.Fatalf("differs\nold %s\nnew %s", a1, a2)
		}
	})
}

func TestManyHeadersTakeTheGeneralPath(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://h/", nil)
	for i := 0; i < 40; i++ {
		req.Header.Set("X-H"+string(rune('a'+i%26))+string(rune('a'+i/26)), "v")
	}
	req.Header.Set(HeaderDate, "20261128T010203Z")
	creds := Credentials{AccessKey: "AK", SecretKey: "S"}
	a1, _ := oldAuthorization(req, nil, creds, "r", "vm")
	a2, _ := Authorization(req, nil, creds, "r", "vm")
	if a1 != a2 {
		t.Fatalf("differs\n%s\n%s", a1, a2)
	}
}
