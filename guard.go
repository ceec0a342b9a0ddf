package resizer

import (
	"context"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/zap"
)

// The moment a guard runs is the interface it implements. A guard that
// refuses returns the *Error the outcome reports; the first refusal wins, so
// guards are listed from the most fundamental to the most situational.

// RequestGuard is pure and runs before the ledger's claim and before any
// store or JD Cloud call: it judges the request as sent (Policy: sources,
// force, stop, a named type).
type RequestGuard interface {
	CheckRequest(r Request) *Error
}

// StateGuard judges a request against state kept between deliveries
// (cooldown marks; fleet limits and maintenance windows). It sees the
// request three times:
//
//   - Permit, after the claim and before the first describe call;
//   - Begin, just before the first state-changing call (for a dry run,
//     where that call would have been: a guard then reports what a real
//     request would meet, and takes nothing);
//   - End, once the outcome is built and stored, with what happened.
//
// End is called for every guard whose Permit admitted the attempt, however
// the attempt ended, so a guard can give back what it took.
type StateGuard interface {
	Permit(ctx context.Context, a *Attempt) *Error
	Begin(ctx context.Context, a *Attempt) *Error
	End(ctx context.Context, a *Attempt, out *Outcome)
}

// PlanGuard is pure and judges the resolved plan: the target type a request
// resolved to (allowed types, directions).
type PlanGuard interface {
	CheckPlan(p *Plan) *Error
}

// Attempt is one delivery's run of a request past the state guards.
type Attempt struct {
	Request Request
	// Holder names this delivery uniquely: a hold it takes is its own.
	Holder string
	// Deadline is the delivery's; a lease taken for it ends there.
	Deadline time.Time
	// Log names the delivery and the instance.
	Log *zap.Logger

	// approved: the request was held and a person approved it; event is
	// the request event as it arrived, for the approval gate to keep.
	approved bool
	event    *event.Event

	// What the guards took, for End to give back.
	held     bool      // Hold took the instance
	began    bool      // every Begin passed for a state-changing request
	markedAt time.Time // Cooldown's mark written at Begin
}

// stateGuards runs a chain of StateGuards and remembers how far Permit got.
type stateGuards struct {
	guards   []StateGuard
	admitted int
}

func (g *stateGuards) permit(ctx context.Context, a *Attempt) *Error {
	for _, s := range g.guards {
		if err := s.Permit(ctx, a); err != nil {
			return err
		}
		g.admitted++
	}
	return nil
}

func (g *stateGuards) begin(ctx context.Context, a *Attempt) *Error {
	for _, s := range g.guards[:g.admitted] {
		if err := s.Begin(ctx, a); err != nil {
			return err
		}
	}
	a.began = !a.Request.DryRun
	return nil
}

// end tells every guard that admitted the attempt how it ended, the last
// admitted first, as a stack unwinds.
func (g *stateGuards) end(ctx context.Context, a *Attempt, out *Outcome) {
	for i := g.admitted - 1; i >= 0; i-- {
		g.guards[i].End(ctx, a, out)
	}
}
