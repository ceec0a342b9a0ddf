package jdcloudsim

import (
	"fmt"
	"math"
	"net/http"

	"golang.org/x/time/rate"
)

// newLimiter is JD's gateway throttle as a token bucket: rps sustained,
// bursts of max(1, rps) whole requests; nil (no limit) for rps 0. The
// bucket runs on the simulator's clock, so a test with a fake clock
// decides exactly when tokens come back.
func newLimiter(rps float64) *rate.Limiter {
	if rps == 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(rps), int(max(1, rps)))
}

func checkRate(rps float64) error {
	if rps < 0 || math.IsNaN(rps) || math.IsInf(rps, 0) {
		return fmt.Errorf("jdcloudsim: rate limit %v: want a finite number of requests per second >= 0 (0: no limit)", rps)
	}
	return nil
}

// SetRateLimit replaces the rate limit (requests per second over every op
// and caller, 0 for none) with a full bucket. It panics on a negative,
// NaN or infinite rate.
func (s *Server) SetRateLimit(rps float64) {
	if err := checkRate(rps); err != nil {
		panic(err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limiter = newLimiter(rps)
}

// Throttled counts the requests answered 429 by the rate limit; injected
// 429s (Fail) are not among them.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// admit takes a token for one authenticated request, or counts it as
// throttled.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limiter == nil || s.limiter.AllowN(s.now(), 1) {
		return true
	}
	s.throttled++
	return false
}

// writeThrottled answers as JD's gateway does when throttling: 429
// RATE_LIMIT_EXCEEDED in the usual envelope, with a Retry-After in seconds.
func writeThrottled(w http.ResponseWriter) int {
	w.Header().Set("Retry-After", "1")
	return writeEnvelope(w, nil, &apiError{http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "request rate limit exceeded; retry later"})
}
