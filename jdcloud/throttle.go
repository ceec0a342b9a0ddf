package jdcloud

import (
	"context"
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
// call was refused (that call waits for the answer's Retry-After, see
// Client.do):
//
//   - An isolated 429 (the first after a calm spell: two buckets of one
//     size and a little jitter on the wire) changes nothing else.
//   - A 429 for a call sent after an earlier 429 was heard (within
//     throttleWindow) halves the rate (throttleCut), but not below nine
//     tenths of what the gateway has taken from this process over the last
//     throttleWindow (answers that were not 429), nor below throttleFloor
//     of the configured rate; and it empties the limiter's bucket, so that
//     nothing queued goes out in a burst. Halving comes down fast from far
//     too much; the goodput floor keeps several copies of the function
//     that share one quota from halving again and again below their share
//     of it. A 429 for a call sent before the last cut, or within
//     throttleCutSpacing of it, says nothing new about the cut rate.
//   - After throttleHold without a further cut the rate climbs back by
//     throttleStep of the configured rate every throttleStepEvery, up to
//     the configured rate.
const (
	throttleWindow     = 2 * time.Second
	throttleCut        = 0.5
	throttleCutSpacing = 500 * time.Millisecond
	throttleGoodput    = 0.9
	throttleFloor      = 1.0 / 16
	throttleHold       = 10 * time.Second
	throttleStep       = 0.1
	throttleStepEvery  = 2 * time.Second
	// goodputSlots divide throttleWindow for counting answers.
	goodputSlots = 20
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
	// cutTo is the rate the last cut set, at lastCut; zero lastCut: never
	// cut, or recovered since.
	cutTo   rate.Limit
	lastCut time.Time
	// lastHeard is when the latest 429 arrived.
	lastHeard time.Time
	// answered counts answers that were not 429, per slot of
	// throttleWindow/goodputSlots; slot is the index of the newest, at
	// slotAt; since is the first answer's time.
	answered [goodputSlots]int
	slot     int
	slotAt   time.Time
	since    time.Time
	cuts     int
}

var governors sync.Map // *rate.Limiter → *governor

// governorFor returns l's governor, made on first use from l's current rate
// and burst; nil for no limiter or an unlimited one (nothing to slow). The
// map holds every limiter ever given to a Client: one per process.
func governorFor(l *rate.Limiter, now func() time.Time) *governor {
	if l == nil || l.Limit() == rate.Inf {
		return nil
	}
	g, _ := governors.LoadOrStore(l, &governor{l: l, now: now, ceiling: l.Limit(), ceilBurst: l.Burst()})
	return g.(*governor)
}

// wait blocks until the process may send one more request: a token of the
// limiter at its current rate. It fails, without waiting, when ctx's
// deadline comes first.
func (g *governor) wait(ctx context.Context) error {
	g.mu.Lock()
	g.recoverLocked(g.now())
	g.mu.Unlock()
	return g.l.Wait(ctx)
}

// answer is told of every answer that was not a 429.
func (g *governor) answer() {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if g.since.IsZero() {
		g.since = now
	}
	g.advanceLocked(now)
	g.answered[g.slot]++
}

// advanceLocked moves the newest slot up to now, clearing the slots it
// passes.
func (g *governor) advanceLocked(now time.Time) {
	width := throttleWindow / goodputSlots
	if g.slotAt.IsZero() {
		g.slotAt = now
		return
	}
	for n := 0; now.Sub(g.slotAt) >= width && n <= goodputSlots; n++ {
		g.slot = (g.slot + 1) % goodputSlots
		g.answered[g.slot] = 0
		g.slotAt = g.slotAt.Add(width)
	}
	if now.Sub(g.slotAt) >= width { // idle longer than the window
		g.slotAt = now
	}
}

// goodputLocked is the rate of answers that were not 429 over the window;
// zero until the window has been watched whole (a storm's first second
// says nothing about a share).
func (g *governor) goodputLocked(now time.Time) rate.Limit {
	g.advanceLocked(now)
	if g.since.IsZero() || now.Sub(g.since) < throttleWindow {
		return 0
	}
	n := 0
	for _, k := range g.answered {
		n += k
	}
	return rate.Limit(float64(n) / throttleWindow.Seconds())
}

// throttled is told of one 429, for a call sent at sent. It reports
// whether this 429 cut the rate, and the rate it cut to.
func (g *governor) throttled(sent time.Time) (bool, rate.Limit) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	informed := !g.lastHeard.IsZero() && sent.After(g.lastHeard) && now.Sub(g.lastHeard) < throttleWindow
	g.lastHeard = now
	if !informed || (!g.lastCut.IsZero() && (!sent.After(g.lastCut) || now.Sub(g.lastCut) < throttleCutSpacing)) {
		return false, g.l.Limit()
	}
	g.recoverLocked(now)
	cur := g.l.Limit()
	g.cutTo = min(cur, max(cur*throttleCut, g.goodputLocked(now)*throttleGoodput, g.ceiling*throttleFloor))
	g.lastCut = now
	g.cuts++
	g.applyLocked(g.cutTo)
	// Empty the bucket (the limiter runs on the wall clock): what waits
	// now goes out at the cut rate, not in a burst.
	t := time.Now()
	if n := int(g.l.TokensAt(t)); n >= 1 {
		g.l.ReserveN(t, n)
	}
	return true, g.cutTo
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
