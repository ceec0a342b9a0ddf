package sink

import (
	"strings"
	"testing"
	"unicode/utf8"
)

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
