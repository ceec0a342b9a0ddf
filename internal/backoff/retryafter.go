package backoff

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads a Retry-After header value (delay-seconds or an
// HTTP-date) as of now, capped at limit: a server asking for an hour must
// not hold an invocation that long (Retry also gives up rather than sleep
// past the context's deadline). Absent, unreadable or in the past means 0.
func RetryAfter(v string, now time.Time, limit time.Duration) time.Duration {
	v = strings.TrimSpace(v)
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
