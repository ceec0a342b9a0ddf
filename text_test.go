package resizer_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// A URL in a log line or a message is scheme://host[:port] only: a
// Slack-style webhook carries its secret in the path, others in userinfo,
// the query or the fragment.
func TestSafeURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://user:pw@sink.example:8443/a/b?token=t#frag", "https://sink.example:8443"},
		{"https://hooks.slack.example/services/T000/B000/XXXXSECRET", "https://hooks.slack.example"},
		{"http://sink.example/?", "http://sink.example"},
		{"http:user:pw@host", "(unparseable URL)"},
		{"http://u:%zz@host", "(unparseable URL)"},
		{"not a url", "(unparseable URL)"},
	} {
		if got := resizer.SafeURL(tt.in); got != tt.want {
			t.Errorf("SafeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuoteClipsAndEscapes(t *testing.T) {
	q := resizer.Quote(strings.Repeat("é", 100) + "\n")
	if utf8.RuneCountInString(q) != resizer.MaxQuoteRunes+3 || strings.Contains(q, "\n") {
		t.Errorf("Quote = %s (%d runes)", q, utf8.RuneCountInString(q))
	}
	if got := resizer.Quote("a\x00b"); got != `"a\x00b"` {
		t.Errorf("Quote = %s", got)
	}
}

func TestClipKeepsUTF8(t *testing.T) {
	s := resizer.Clip("aé", 2)
	if s != "a" || !utf8.ValidString(s) {
		t.Errorf("Clip = %q", s)
	}
	if resizer.Clip("abc", 5) != "abc" {
		t.Error("Clip shortened a short string")
	}
}
