package resizer

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// The fleet-safety state guards (docs/contract.md §9). Each refuses before
// the first state-changing call; a dry run meets the same checks at the
// same point and takes nothing.

// Hold gives one operation per instance: a state-changing request holds its
// instance from before the first describe call until its outcome is stored,
// and at most Max requests hold instances at once, fleet-wide. A dry run
// takes no hold (it changes nothing another request could collide with).
type Hold struct {
	Holds Holds
	Max   int // MAX_CONCURRENT_RESIZES; 0 = no limit
}

func (h Hold) Permit(ctx context.Context, a *Attempt) *Error {
	if a.Request.DryRun {
		return nil
	}
	if err := h.Holds.Hold(ctx, a.Request.instanceKey(), a.Holder, a.Deadline, h.Max); err != nil {
		return ErrorFrom(ctx, "instance hold", err)
	}
	a.held = true
	return nil
}

func (Hold) Begin(context.Context, *Attempt) *Error { return nil }

func (h Hold) End(ctx context.Context, a *Attempt, _ *Outcome) {
	if !a.held {
		return
	}
	// The outcome is stored; the hold may go even if the delivery's own
	// context has ended.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeGrace)
	defer cancel()
	if err := h.Holds.Unhold(ctx, a.Request.instanceKey(), a.Holder); err != nil {
		a.Log.Error("could not release the instance hold; it lapses at its lease", zap.Time("leaseUntil", a.Deadline), zap.Error(err))
	}
}

// storeGrace bounds a store write made after the delivery's context ended.
const storeGrace = 3 * time.Second

// fleetWindowOf is the fixed window, aligned to the Unix epoch, that t lies
// in.
func fleetWindowOf(t time.Time, d time.Duration) (start, end time.Time) {
	secs := int64(d / time.Second)
	if secs <= 0 {
		secs = 3600
	}
	u := t.Unix()
	s := u - ((u%secs)+secs)%secs
	return time.Unix(s, 0).UTC(), time.Unix(s+secs, 0).UTC()
}

// Counter names in the store.
const (
	counterResizes  = "resizes"
	counterFailures = "failures"
)

// WindowLimit is what the per-window guards share: a fleet-wide count in
// fixed windows, and its limit.
type WindowLimit struct {
	Counters Counters
	Max      int
	Window   time.Duration // FLEET_WINDOW
	Now      func() time.Time
}

// current is the window now lies in.
func (w WindowLimit) current() (start, end time.Time) { return fleetWindowOf(w.Now(), w.Window) }

// Budget is MAX_RESIZES_PER_WINDOW: at most Max state-changing requests start
// per Window, the budget taken atomically just before the first
// state-changing call.
type Budget struct{ WindowLimit }

func (Budget) Permit(context.Context, *Attempt) *Error { return nil }

func (b Budget) Begin(ctx context.Context, a *Attempt) *Error {
	start, end := b.current()
	var taken bool
	var n int
	var err error
	if a.Request.DryRun {
		n, err = b.Counters.Count(ctx, counterResizes, start)
		taken = n < b.Max
	} else {
		taken, n, err = b.Counters.Take(ctx, counterResizes, start, b.Max, end.Add(b.Window))
	}
	if err != nil {
		return ErrorFrom(ctx, "fleet budget", err)
	}
	if !taken {
		return Errorf(CodePolicyDenied, ReasonFleetLimitReached,
			"%d resizes already started in the window that ends %s (MAX_RESIZES_PER_WINDOW=%d, FLEET_WINDOW=%s); raise MAX_RESIZES_PER_WINDOW or wait",
			n, end.Format(time.RFC3339), b.Max, b.Window)
	}
	return nil
}

func (Budget) End(context.Context, *Attempt, *Outcome) {}

// Circuit is MAX_FAILURES_PER_WINDOW (SSM's MaxErrors): after Max
// state-changing requests ended failed with api_error, timeout, unavailable
// or a rollback in the current window, the rest of the window is refused.
type Circuit struct{ WindowLimit }

func (Circuit) Permit(context.Context, *Attempt) *Error { return nil }

func (c Circuit) Begin(ctx context.Context, a *Attempt) *Error {
	start, end := c.current()
	n, err := c.Counters.Count(ctx, counterFailures, start)
	if err != nil {
		return ErrorFrom(ctx, "failure count", err)
	}
	if n >= c.Max {
		return Errorf(CodePolicyDenied, ReasonCircuitOpen,
			"%d state-changing requests failed (api_error, timeout, unavailable or rollback) in the window that ends %s (MAX_FAILURES_PER_WINDOW=%d); read their outcomes and fix the cause, then wait for the window to end or raise MAX_FAILURES_PER_WINDOW",
			n, end.Format(time.RFC3339), c.Max)
	}
	return nil
}

func (c Circuit) End(ctx context.Context, a *Attempt, out *Outcome) {
	if !a.began || !countsAsFailure(out) {
		return
	}
	start, end := c.current()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeGrace)
	defer cancel()
	if n, err := c.Counters.Add(ctx, counterFailures, start, end.Add(c.Window)); err != nil {
		a.Log.Error("could not count the failure for MAX_FAILURES_PER_WINDOW", zap.Error(err))
	} else if n >= c.Max {
		a.Log.Error("circuit open: MAX_FAILURES_PER_WINDOW reached; state-changing requests are refused until the window ends",
			zap.Int("failures", n), zap.Time("windowEnds", end))
	}
}

func countsAsFailure(out *Outcome) bool {
	if out.Data.RolledBack {
		return true
	}
	e := out.Err()
	return e != nil && (e.Code == CodeAPIError || e.Code == CodeTimeout || e.Code == CodeUnavailable)
}

// Window is RESIZE_WINDOWS: state-changing requests only inside one of the
// schedule's windows.
type Window struct {
	Schedule *Schedule
	Now      func() time.Time
}

func (Window) Permit(context.Context, *Attempt) *Error { return nil }

func (w Window) Begin(_ context.Context, a *Attempt) *Error {
	now := w.Now()
	if open, _ := w.Schedule.Open(now); open {
		return nil
	}
	return Errorf(CodePolicyDenied, ReasonOutsideWindow,
		"instance %s may be changed only inside RESIZE_WINDOWS (%s); the next window opens %s: wait, or change RESIZE_WINDOWS",
		a.Request.InstanceID, w.Schedule, nextOpening(w.Schedule, now))
}

func (Window) End(context.Context, *Attempt, *Outcome) {}

func nextOpening(s *Schedule, now time.Time) string {
	n := s.Next(now)
	if n.IsZero() {
		return "never"
	}
	return fmt.Sprintf("%s (%s)", n.Format(time.RFC3339), n.UTC().Format("15:04Z"))
}
