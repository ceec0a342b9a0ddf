package sink

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://host/path":                          "https://host/path",
		"https://alice:pa55@host:8443/p/q?token=x#f": "https://host:8443/p/q",
		"http://alice@127.0.0.1/?":                   "http://127.0.0.1/",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := safeURL(u); got != want {
			t.Errorf("safeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSnippet(t *testing.T) {
	if got := snippet([]byte("  bad\r\n\tevent \x00 here ")); got != "bad event here" {
		t.Errorf("snippet = %q", got)
	}
	long := snippet([]byte(strings.Repeat("é", 300)))
	if !utf8.ValidString(long) || !strings.HasSuffix(long, "…") || len(long) > 204 {
		t.Errorf("long snippet = %q (%d bytes)", long, len(long))
	}
	if got := snippet([]byte{0xff, 'a'}); got != "?a" {
		t.Errorf("invalid UTF-8 snippet = %q", got)
	}
}
