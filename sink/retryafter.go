package sink

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryAfter reads a Retry-After header (delay-seconds or an HTTP-date) as
// of now. The answer is capped at limit: a sink asking for an hour must not
// hold an invocation that long; backoff.Retry also gives up rather than
// sleep past the context's deadline. Absent or unreadable means 0.
func retryAfter(h http.Header, now time.Time, limit time.Duration) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" || limit <= 0 {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// Out of range parses as ±MaxInt64; compare before multiplying so
		// a huge value cannot overflow into a short or negative wait.
		if secs > int64(limit/time.Second) {
			d = limit
		} else {
			d = time.Duration(secs) * time.Second
		}
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), limit)
}
