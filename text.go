package resizer

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQuoteRunes bounds a caller's value inside a message or a log line.
const MaxQuoteRunes = 64

// Quote renders a value that came from a caller for a message: quoted,
// control characters escaped, at most MaxQuoteRunes runes.
func Quote(s string) string {
	if utf8.RuneCountInString(s) > MaxQuoteRunes {
		s = string([]rune(s)[:MaxQuoteRunes]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Clip shortens s to at most n bytes, cutting on a rune boundary so that
// valid UTF-8 stays valid.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// SafeURL renders a URL for logs and messages as scheme://host[:port] only:
// user information, paths (Slack-style webhook URLs carry their secret
// there), queries and fragments may all hold credentials.
func SafeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(unparseable URL)"
	}
	return u.Scheme + "://" + u.Host
}

// hasControl covers C0, DEL and C1: the structured-mode decoder refuses all
// of them, and a binary-mode header must not get in what a body cannot.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// hasBidiControl finds the invisible characters that reorder text (U+202E
// and friends): in an id they make a log line or a console show another id.
func hasBidiControl(s string) bool {
	return strings.ContainsFunc(s, func(c rune) bool { return unicode.Is(unicode.Bidi_Control, c) })
}
