package jdcloud

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// How the process slows down when JD's gateway answers 429. JD publishes no
// rates and its quota is the account's: other copies of the function, or
// other tools of the same account, spend it too. A 429 therefore says the
// shared limiter (Options.Limiter, JDCLOUD_RATE_LIMIT) asks too much right
// now, and every delivery of the process hears it, not only the one whose
// call was refused:
//
//   - everyone pauses until the answer's Retry-After has passed: the
//     gateway said when it takes calls again, and since the limiter's bucket
//     fills meanwhile, as the gateway's does, a pause costs little
//     throughput;
//   - a 429 for a call sent after an earlier 429 was heard (within
//     throttleWindow) says the pauses are not enough: the rate is cut by
//     throttleCut, never below throttleFloor of the configured rate, and
//     at most once per round of calls (a 429 for a call sent before the
//     last cut says nothing about the cut rate). An isolated 429 (two
//     buckets of one size, a little jitter on the wire) costs one pause and
//     no rate;
//   - after throttleHold without a further cut the rate climbs back by
//     throttleStep of the configured rate every throttleStepEvery, up to
//     the configured rate.
const (
	throttleWindow    = 10 * time.Second
	throttleCut       = 0.5
	throttleFloor     = 1.0 / 16
	throttleHold      = 10 * time.Second
	throttleStep      = 0.1
	throttleStepEvery = 2 * time.Second
)

// governor adapts one shared *rate.Limiter to the gateway's 429s. Its state
// belongs to the limiter, not to a Client: every Client given the same
// limiter shares one governor (governorFor).
type governor struct {
	l   *rate.Limiter
	now func() time.Time

	mu sync.Mutex
	// ceiling and ceilBurst are the limiter's configured rate and burst.
	ceiling   rate.Limit
	ceilBurst int
	// cutTo is the rate the last cut set, at lastCut; zero lastCut: never cut.
	cutTo   rate.Limit
	lastCut time.Time
	// lastHeard is when the latest 429 arrived.
	lastHeard  time.Time
	pauseUntil time.Time
	cuts       int
}

var governors sync.Map // *rate.Limiter → *governor

// governorFor returns l's governor, made on first use from l's current rate
// and burst; nil for no limiter or an unlimited one (nothing to slow).
func governorFor(l *rate.Limiter, now func() time.Time) *governor {
	if l == nil || l.Limit() == rate.Inf {
		return nil
	}
	g, _ := governors.LoadOrStore(l, &governor{l: l, now: now, ceiling: l.Limit(), ceilBurst: l.Burst()})
	return g.(*governor)
}

// errPausePastDeadline: the gateway's Retry-After outlasts the call's
// deadline.
var errPausePastDeadline = fmt.Errorf("JD Cloud's gateway asked for a pause that would pass the deadline")

// wait blocks until the process may send one more request: past any pause,
// then a token of the limiter at its current rate. It fails, without
// waiting, when ctx's deadline comes first.
func (g *governor) wait(ctx context.Context) error {
	g.mu.Lock()
	now := g.now()
	g.recoverLocked(now)
	pause := g.pauseUntil.Sub(now)
	g.mu.Unlock()
	if pause > 0 {
		if dl, ok := ctx.Deadline(); ok && !now.Add(pause).Before(dl) {
			return errPausePastDeadline
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
	return g.l.Wait(ctx)
}

// throttled is told of one 429, for a call sent at sent, and the
// Retry-After it carried (0: none). It reports whether this 429 cut the
// rate.
func (g *governor) throttled(sent time.Time, retryAfter time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if until := now.Add(retryAfter); until.After(g.pauseUntil) {
		g.pauseUntil = until
	}
	informed := !g.lastHeard.IsZero() && sent.After(g.lastHeard) && now.Sub(g.lastHeard) < throttleWindow
	g.lastHeard = now
	if !informed || (!g.lastCut.IsZero() && !sent.After(g.lastCut)) {
		return false
	}
	g.recoverLocked(now)
	g.cutTo = max(g.l.Limit()*throttleCut, g.ceiling*throttleFloor)
	g.lastCut = now
	g.cuts++
	g.applyLocked(g.cutTo)
	return true
}

// recoverLocked climbs back toward the ceiling as time passes since the
// last cut.
func (g *governor) recoverLocked(now time.Time) {
	if g.lastCut.IsZero() {
		return
	}
	since := now.Sub(g.lastCut)
	if since < throttleHold {
		return
	}
	steps := 1 + int64((since-throttleHold)/throttleStepEvery)
	r := g.cutTo + rate.Limit(float64(steps)*throttleStep)*g.ceiling
	if r >= g.ceiling {
		r = g.ceiling
		g.lastCut = time.Time{} // recovered
	}
	g.applyLocked(r)
}

// applyLocked sets the limiter's rate, and its burst in proportion.
func (g *governor) applyLocked(r rate.Limit) {
	if g.l.Limit() == r {
		return
	}
	g.l.SetLimit(r)
	g.l.SetBurst(max(1, int(math.Round(float64(g.ceilBurst)*float64(r/g.ceiling)))))
}

// rate is the limiter's current rate, after any recovery due.
func (g *governor) rate() rate.Limit {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.recoverLocked(g.now())
	return g.l.Limit()
}
