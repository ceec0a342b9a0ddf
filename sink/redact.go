package sink

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/jdcloud-vm-resizer/resizer"
)

// snippet turns the start of a response body into one printable line, short
// enough for an error message, so that a sink's reason for refusing an event
// reaches the operator.
func snippet(b []byte) string {
	const limit = 200
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > limit {
		s = resizer.Clip(s, limit) + "…"
	}
	return s
}

// attempts renders "after N attempt(s)" for error messages.
func attempts(n int) string {
	if n == 1 {
		return "after 1 attempt"
	}
	return fmt.Sprintf("after %d attempts", n)
}

// refusal is a sink's permanent refusal of an event: not retryable, so the
// delivery is not retried for it; the outcome's log line carries it.
func refusal(name string, err error) error {
	return &resizer.Error{Code: resizer.CodeAPIError, Message: fmt.Sprintf("%s: %v %s; a refusal for good, so it is not sent again", name, err, attempts(1)), Err: err}
}

// failure is a sink's publish error: it names the sink (never its secrets)
// and, when n > 0, how many attempts were made. It is retryable, because a
// delivery whose outcome did not reach every sink must be tried again.
func failure(name string, err error, n int) error {
	msg := fmt.Sprintf("%s: %v", name, err)
	if n > 0 {
		msg += " " + attempts(n)
	}
	return &resizer.Error{Code: resizer.CodeUnavailable, Message: msg, Err: err}
}
