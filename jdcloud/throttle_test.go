package jdcloud

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// An isolated 429 only pauses; a 429 for a call sent after an earlier one
// was heard halves the shared rate (and the burst with it), once per round
// of calls; the rate holds, then climbs back step by step.
func TestGovernorCutsHoldsAndRecovers(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 7, 8, 9, 0, 0, 0, time.UTC)}
	lim := rate.NewLimiter(20, 20)
	g := governorFor(lim, clock.Now)
	if governorFor(lim, time.Now) != g {
		t.Fatal("two governors for one limiter: Clients sharing it would not share the slowdown")
	}
	tick := func() time.Time { clock.Advance(100 * time.Millisecond); return clock.Now() }
	early := tick()
	if g.throttled(early, 0) || g.rate() != 20 {
		t.Fatalf("an isolated 429 cut the rate to %v", g.rate())
	}
	if g.throttled(early, 0) || g.rate() != 20 {
		t.Fatalf("a 429 for a call sent before the first was heard cut the rate to %v", g.rate())
	}
	sent := tick()
	tick()
	if !g.throttled(sent, 0) || g.rate() != 10 || lim.Burst() != 10 {
		t.Fatalf("after an informed 429: rate %v burst %d, want 10 and 10", g.rate(), lim.Burst())
	}
	tick()
	if g.throttled(sent, 0) || g.rate() != 10 {
		t.Fatalf("a 429 for a call sent before the cut cut again: rate %v", g.rate())
	}
	sent = tick()
	tick()
	if !g.throttled(sent, 0) || g.rate() != 5 {
		t.Fatalf("a 429 for a call sent at the cut rate should cut to 5, rate %v", g.rate())
	}
	for range 10 {
		sent = tick()
		g.throttled(sent, 0)
	}
	if floor := rate.Limit(20 * throttleFloor); g.rate() != floor || lim.Burst() != 1 {
		t.Fatalf("rate %v burst %d, want the floor %v and 1", g.rate(), lim.Burst(), floor)
	}
	clock.Advance(throttleHold - time.Millisecond)
	if g.rate() != rate.Limit(20*throttleFloor) {
		t.Fatalf("the rate climbed before the hold ended: %v", g.rate())
	}
	clock.Advance(time.Millisecond)
	want := rate.Limit(20*throttleFloor + 20*throttleStep)
	if got := g.rate(); got != want {
		t.Fatalf("first step: %v, want %v", got, want)
	}
	clock.Advance(throttleStepEvery)
	if got := g.rate(); got != want+2 {
		t.Fatalf("second step: %v, want %v", got, want+2)
	}
	clock.Advance(time.Hour)
	if g.rate() != 20 || lim.Burst() != 20 {
		t.Fatalf("recovered to %v burst %d, want 20 and 20", g.rate(), lim.Burst())
	}
	// Calm for longer than the window: the next 429 is isolated again.
	if g.throttled(tick(), 0) || g.rate() != 20 {
		t.Fatalf("rate %v", g.rate())
	}
}

// Retry-After pauses every caller of the limiter; a pause that outlasts
// the deadline fails at once instead of waiting in vain.
func TestGovernorPausesForRetryAfter(t *testing.T) {
	lim := rate.NewLimiter(1000, 1000)
	g := governorFor(lim, time.Now)
	g.throttled(time.Now(), 300*time.Millisecond)
	start := time.Now()
	if err := g.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("waited %v, want the 300ms pause", waited)
	}
	g.throttled(time.Now(), 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start = time.Now()
	if err := g.wait(ctx); !errors.Is(err, errPausePastDeadline) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("wait = %v after %v, want errPausePastDeadline at once", err, time.Since(start))
	}
}

func TestNoGovernorWithoutALimit(t *testing.T) {
	if governorFor(nil, time.Now) != nil || governorFor(rate.NewLimiter(rate.Inf, 0), time.Now) != nil {
		t.Fatal("an unlimited limiter has nothing to slow")
	}
}
