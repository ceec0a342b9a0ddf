package jdcloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Signing constants of JDCLOUD2-HMAC-SHA256 (docs/jdcloud-api.md "Signing").
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
	auth := authorization(req, body, creds, region, service)
	req.Header[HeaderAuth] = []string{auth}
}

// Stamp sets the date and nonce headers that every signed request carries.
func Stamp(h http.Header, now time.Time, nonce string) {
	h.Set(HeaderDate, now.UTC().Format(timeFormat))
	h.Set(HeaderNonce, nonce)
}

// Authorization computes the Authorization header value for req and also
// returns the signature alone. It does not modify req.
func Authorization(req *http.Request, body []byte, creds Credentials, region, service string) (auth, signature string) {
	auth = authorization(req, body, creds, region, service)
	return auth, auth[len(auth)-2*sha256.Size:]
}

// Signing runs on every attempt of every call, so it works in one pooled
// buffer and caches the derived key: what is left per request is three
// SHA-256 passes over a few hundred bytes and the header string itself.

// bufPool holds the scratch buffer of the canonical request and the string
// to sign.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxSignedHeaders is how many header names the allocation-free path sorts
// on the stack; a request with more takes the general path.
const maxSignedHeaders = 16

func authorization(req *http.Request, body []byte, creds Credentials, region, service string) string {
	amzDate := req.Header.Get(HeaderDate)
	day := amzDate
	if len(day) >= 8 {
		day = day[:8]
	}

	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	defer func() { *bp = b[:0]; bufPool.Put(bp) }()

	// Canonical request.
	b = append(b, req.Method...)
	b = append(b, '\n')
	b = append(b, req.URL.EscapedPath()...)
	b = append(b, '\n')
	b = append(b, req.URL.RawQuery...)
	b = append(b, '\n')
	var names [maxSignedHeaders]string
	n, fast := headerNames(req.Header, &names)
	var signedStart, signedEnd int
	if fast {
		b = appendCanonicalHeaders(b, req, names[:n])
		b = append(b, '\n', '\n')
		signedStart = len(b)
		b = appendSignedHeaders(b, names[:n])
		signedEnd = len(b)
	} else {
		signed, canon := canonicalHeaders(req)
		b = append(b, canon...)
		b = append(b, '\n', '\n')
		signedStart = len(b)
		b = append(b, signed...)
		signedEnd = len(b)
	}
	b = append(b, '\n')
	if len(body) == 0 {
		b = append(b, emptyBodySHA256...)
	} else {
		sum := sha256.Sum256(body)
		b = hex.AppendEncode(b, sum[:])
	}
	crSum := sha256.Sum256(b)

	// String to sign, after the canonical request in the same buffer; the
	// signed-header list stays where it is, to be copied into the result.
	stsStart := len(b)
	scopeStart := stsStart + len(SignAlgorithm) + 1 + len(amzDate) + 1
	b = append(b, SignAlgorithm...)
	b = append(b, '\n')
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, day...)
	b = append(b, '/')
	b = append(b, region...)
	b = append(b, '/')
	b = append(b, service...)
	b = append(b, '/')
	b = append(b, termString...)
	scopeEnd := len(b)
	b = append(b, '\n')
	b = hex.AppendEncode(b, crSum[:])

	key := signingKey(creds.SecretKey, day, region, service)
	var sig [sha256.Size]byte
	b = hmacInto(&sig, key[:], b, stsStart)

	// Authorization header value: the only allocation left.
	var out strings.Builder
	out.Grow(len(SignAlgorithm) + len(" Credential=") + len(creds.AccessKey) + 1 + (scopeEnd - scopeStart) +
		len(", SignedHeaders=") + (signedEnd - signedStart) + len(", Signature=") + 2*sha256.Size)
	out.WriteString(SignAlgorithm)
	out.WriteString(" Credential=")
	out.WriteString(creds.AccessKey)
	out.WriteByte('/')
	out.Write(b[scopeStart:scopeEnd])
	out.WriteString(", SignedHeaders=")
	out.Write(b[signedStart:signedEnd])
	out.WriteString(", Signature=")
	var sigHex [2 * sha256.Size]byte
	hex.Encode(sigHex[:], sig[:])
	out.Write(sigHex[:])
	return out.String()
}

// headerNames collects the names to sign (original keys, not lower-cased)
// into names, sorted by their lower-cased form, "" standing for host. It
// reports false when a key would make the fast path differ from the general
// one (too many headers, non-ASCII or non-token keys): those take
// canonicalHeaders.
func headerNames(h http.Header, names *[maxSignedHeaders]string) (int, bool) {
	n := 1 // names[0] = "" is host
	for k := range h {
		if !asciiToken(k) {
			return 0, false
		}
		if unsignedLower(k) || equalLower(k, "host") {
			continue
		}
		if n == maxSignedHeaders {
			return 0, false
		}
		names[n] = k
		n++
	}
	// Insertion sort by lower-cased name: a handful of entries, and no
	// closure or interface that would move names to the heap.
	for i := 1; i < n; i++ {
		for j := i; j > 0 && lessLower(names[j], names[j-1]); j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return n, true
}

func appendCanonicalHeaders(b []byte, req *http.Request, names []string) []byte {
	for i, k := range names {
		if i > 0 {
			b = append(b, '\n')
		}
		if k == "" {
			host := req.Host
			if host == "" {
				host = req.URL.Host
			}
			b = append(b, "host:"...)
			b = append(b, strings.TrimSpace(host)...)
			continue
		}
		b = appendLower(b, k)
		b = append(b, ':')
		// The general path reads Values(lower(k)); for a token key that is
		// the canonical key, which CanonicalMIMEHeaderKey returns without
		// allocating when k is canonical already.
		for j, v := range req.Header[textproto.CanonicalMIMEHeaderKey(k)] {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendFolded(b, strings.TrimSpace(v))
		}
	}
	return b
}

func appendSignedHeaders(b []byte, names []string) []byte {
	for i, k := range names {
		if i > 0 {
			b = append(b, ';')
		}
		if k == "" {
			b = append(b, "host"...)
		} else {
			b = appendLower(b, k)
		}
	}
	return b
}

// appendFolded appends s with inner runs of spaces folded into one; when it
// folds it rewrites s rune by rune, as the reference signer does.
func appendFolded(b []byte, s string) []byte {
	if !strings.Contains(s, "  ") {
		return append(b, s...)
	}
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
		b = utf8.AppendRune(b, r)
	}
	return b
}

// asciiToken reports whether k is an HTTP token in ASCII, for which
// byte-wise lower-casing equals strings.ToLower and canonicalisation does
// not depend on case.
func asciiToken(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b = append(b, lower(s[i]))
	}
	return b
}

// lessLower orders names as sort.Strings orders their lower-cased forms;
// "" (host) sorts as "host".
func lessLower(a, b string) bool {
	if a == "" {
		a = "host"
	}
	if b == "" {
		b = "host"
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if ca, cb := lower(a[i]), lower(b[i]); ca != cb {
			return ca < cb
		}
	}
	return len(a) < len(b)
}

func equalLower(k, want string) bool {
	if len(k) != len(want) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if lower(k[i]) != want[i] {
			return false
		}
	}
	return true
}

func unsignedLower(k string) bool {
	return equalLower(k, "authorization") || equalLower(k, "user-agent") || equalLower(k, "x-jdcloud-request-id")
}

// hmacInto computes HMAC-SHA256(key, b[from:]) into sig, using the rest of
// b as scratch so that nothing is allocated; key is at most one block.
func hmacInto(sig *[sha256.Size]byte, key []byte, b []byte, from int) []byte {
	const block = 64
	msgLen := len(b) - from
	// Inner: H((key ^ ipad) || msg), laid out after msg in b.
	start := len(b)
	for i := 0; i < block; i++ {
		c := byte(0x36)
		if i < len(key) {
			c ^= key[i]
		}
		b = append(b, c)
	}
	b = append(b, b[from:from+msgLen]...)
	inner := sha256.Sum256(b[start:])
	// Outer: H((key ^ opad) || inner), small enough for the stack.
	var outer [block + sha256.Size]byte
	for i := 0; i < block; i++ {
		c := byte(0x5c)
		if i < len(key) {
			c ^= key[i]
		}
		outer[i] = c
	}
	copy(outer[block:], inner[:])
	*sig = sha256.Sum256(outer[:])
	return b[:start]
}

// keyCache keeps derived signing keys: the four-HMAC chain depends only on
// the secret, the day, the region and the service, which repeat across
// calls. It is cleared when full: a process signs for few regions and one
// or two keys, and a day's change makes old entries useless anyway.
var keyCache struct {
	sync.RWMutex
	m map[keyCacheKey][sha256.Size]byte
}

type keyCacheKey struct{ secret, day, region, service string }

const keyCacheMax = 64

func signingKey(secret, day, region, service string) [sha256.Size]byte {
	ck := keyCacheKey{secret, day, region, service}
	keyCache.RLock()
	k, ok := keyCache.m[ck]
	keyCache.RUnlock()
	if ok {
		return k
	}
	key := hmacSHA256([]byte("JDCLOUD2"+secret), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, termString)
	copy(k[:], key)
	// Clone the strings: day points into a request header, which the cache
	// must not keep alive.
	ck = keyCacheKey{strings.Clone(secret), strings.Clone(day), strings.Clone(region), strings.Clone(service)}
	keyCache.Lock()
	if keyCache.m == nil || len(keyCache.m) >= keyCacheMax {
		keyCache.m = make(map[keyCacheKey][sha256.Size]byte)
	}
	keyCache.m[ck] = k
	keyCache.Unlock()
	return k
}

// canonicalHeaders returns the signed-header list and the canonical header
// block (without the trailing newline). It is the general path, for
// requests the fast one does not cover.
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
	return string(appendFolded(make([]byte, 0, len(s)), s))
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
