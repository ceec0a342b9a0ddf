package jdcloud

import (
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

// An isolated 429 changes nothing; a 429 for a call sent after an earlier
// one was heard halves the shared rate (and the burst with it) and empties
// the bucket, once per round of calls; the rate holds, then climbs back
// step by step.
func TestGovernorCutsHoldsAndRecovers(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 7, 8, 9, 0, 0, 0, time.UTC)}
	lim := rate.NewLimiter(20, 20)
	g := governorFor(lim, clock.Now)
	if governorFor(lim, time.Now) != g {
		t.Fatal("two governors for one limiter: Clients sharing it would not share the slowdown")
	}
	tick := func() time.Time { clock.Advance(10 * time.Millisecond); return clock.Now() }
	early := tick()
	if cut(g, early) || g.rate() != 20 {
		t.Fatalf("an isolated 429 cut the rate to %v", g.rate())
	}
	if cut(g, early) || g.rate() != 20 {
		t.Fatalf("a 429 for a call sent before the first was heard cut the rate to %v", g.rate())
	}
	sent := tick()
	tick()
	if !cut(g, sent) || g.rate() != 10 || lim.Burst() != 10 {
		t.Fatalf("after an informed 429: rate %v burst %d, want 10 and 10", g.rate(), lim.Burst())
	}
	if tokens := lim.TokensAt(time.Now()); tokens >= 1 {
		t.Fatalf("the cut left %v tokens in the bucket: they would go out in a burst", tokens)
	}
	tick()
	if cut(g, sent) || g.rate() != 10 {
		t.Fatalf("a 429 for a call sent before the cut cut again: rate %v", g.rate())
	}
	sent = tick()
	tick()
	if cut(g, sent) || g.rate() != 10 {
		t.Fatalf("a 429 within %v of the cut cut again: rate %v", throttleCutSpacing, g.rate())
	}
	clock.Advance(throttleCutSpacing)
	sent = tick()
	tick()
	if !cut(g, sent) || g.rate() != 5 {
		t.Fatalf("a 429 for a call sent at the cut rate should cut to 5, rate %v", g.rate())
	}
	for range 10 {
		clock.Advance(throttleCutSpacing)
		sent = tick()
		cut(g, sent)
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
	if cut(g, tick()) || g.rate() != 20 {
		t.Fatalf("rate %v", g.rate())
	}
}

// Once a whole window has been watched, a cut stops at nine tenths of what
// the gateway took: several copies sharing one quota do not halve below
// their share of it.
func TestGovernorCutStopsAtTheGoodput(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 7, 8, 9, 0, 0, 0, time.UTC)}
	g := governorFor(rate.NewLimiter(20, 20), clock.Now)
	g.answer()
	for range 32 { // 16 a second
		clock.Advance(throttleWindow / 32)
		g.answer()
	}
	clock.Advance(time.Millisecond)
	cut(g, clock.Now())
	clock.Advance(time.Millisecond)
	sent := clock.Now()
	clock.Advance(time.Millisecond)
	// The window holds 31 or 32 of the answers: its oldest slot ages out.
	if !cut(g, sent) || g.rate() < 15.5*throttleGoodput || g.rate() > 16*throttleGoodput {
		t.Fatalf("rate %v, want about %v, not the half", g.rate(), 16*throttleGoodput)
	}
}

func TestNoGovernorWithoutALimit(t *testing.T) {
	if governorFor(nil, time.Now) != nil || governorFor(rate.NewLimiter(rate.Inf, 0), time.Now) != nil {
		t.Fatal("an unlimited limiter has nothing to slow")
	}
}

func cut(g *governor, sent time.Time) bool {
	ok, _ := g.throttled(sent)
	return ok
}
