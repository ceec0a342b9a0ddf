package jdcloudsim

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
)

// The bucket runs on the simulator's clock: rate r refills one token per
// 1/r and holds max(1, r) whole tokens.
func TestRateLimitBucket(t *testing.T) {
	type call struct {
		wait time.Duration // advance the clock first
		want int
	}
	tests := []struct {
		name  string
		rate  float64
		calls []call
	}{
		{"off", 0, []call{{0, 200}, {0, 200}, {0, 200}, {0, 200}}},
		{"burst of 2 at 2/s", 2, []call{{0, 200}, {0, 200}, {0, 429}, {499 * time.Millisecond, 429}, {time.Millisecond, 200}, {0, 429}}},
		{"burst of 1 at 0.5/s", 0.5, []call{{0, 200}, {0, 429}, {time.Second, 429}, {time.Second, 200}, {0, 429}}},
		{"burst rounds down at 2.5/s", 2.5, []call{{0, 200}, {0, 200}, {0, 429}, {400 * time.Millisecond, 200}}},
		{"a full bucket holds no more", 1, []call{{time.Hour, 200}, {0, 429}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)}
			s := startSim(t, Options{RateLimit: tt.rate, Now: clock.Now})
			c := newClient(t, s)
			throttled := 0
			for i, k := range tt.calls {
				clock.Advance(k.wait)
				a := c.do(http.MethodGet, instancePath("i-stopped01"), nil)
				if a.Status != k.want {
					t.Fatalf("call %d: status %d, want %d: %s", i, a.Status, k.want, a.Raw)
				}
				if a.Status == http.StatusTooManyRequests {
					throttled++
				}
			}
			if got := s.Throttled(); got != throttled {
				t.Errorf("Throttled() = %d, want %d", got, throttled)
			}
		})
	}
}

// A throttled call is answered as JD's gateway answers, changes nothing,
// uses no injected fault, and the limit spans every op and caller; an
// unauthenticated call is 401 and takes no token.
func TestRateLimitAnswerAndOrder(t *testing.T) {
	other := jdcloud.Credentials{AccessKey: "AKOTHER0001", SecretKey: "other-secret"}
	clock := &fakeClock{t: time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)}
	s := startSim(t, Options{RateLimit: 1, Now: clock.Now, Credentials: []jdcloud.Credentials{demoCreds, other}})
	c := newClient(t, s)
	c2 := newClient(t, s)
	c2.creds = other
	bad := newClient(t, s)
	bad.creds.SecretKey = "wrong"

	wantError(t, bad.action("i-running01", "stopInstance"), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	wantOK(t, c2.do(http.MethodGet, "/v1/regions/cn-north-1/instanceTypes", nil)) // the one token: the 401 took none
	s.Fail(OpStopInstance, http.StatusInternalServerError, 1)
	a := c.action("i-running01", "stopInstance")
	wantError(t, a, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "rate limit")
	if got := a.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	if got := mustInstance(t, s, "i-running01").Status; got != "running" {
		t.Errorf("a throttled stop changed the status to %s", got)
	}
	wantError(t, bad.action("i-running01", "stopInstance"), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	clock.Advance(time.Second)
	wantError(t, c.action("i-running01", "stopInstance"), http.StatusInternalServerError, "INTERNAL", "injected") // the fault was kept
	clock.Advance(time.Second)
	wantOK(t, c2.action("i-running01", "stopInstance"))
	if got := s.Throttled(); got != 1 {
		t.Errorf("Throttled() = %d, want 1", got)
	}
	if got := s.Calls(OpStopInstance); got != 5 {
		t.Errorf("Calls(stopInstance) = %d, want 5: throttled and refused calls are calls", got)
	}
}

func TestSetRateLimit(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)}
	s := startSim(t, Options{Now: clock.Now})
	c := newClient(t, s)
	s.SetRateLimit(1)
	wantOK(t, c.describeAnswer("i-stopped01"))
	wantError(t, c.describeAnswer("i-stopped01"), http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "")
	s.SetRateLimit(3) // a new, full bucket
	for range 3 {
		wantOK(t, c.describeAnswer("i-stopped01"))
	}
	wantError(t, c.describeAnswer("i-stopped01"), http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "")
	s.SetRateLimit(0)
	for range 10 {
		wantOK(t, c.describeAnswer("i-stopped01"))
	}
	if got := s.Throttled(); got != 2 {
		t.Errorf("Throttled() = %d, want 2", got)
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := New(Options{RateLimit: bad}); err == nil {
			t.Errorf("New accepted RateLimit %v", bad)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetRateLimit(%v) did not panic", bad)
				}
			}()
			s.SetRateLimit(bad)
		}()
	}
}

func (c *client) describeAnswer(id string) answer {
	c.t.Helper()
	return c.do(http.MethodGet, instancePath(id), nil)
}
