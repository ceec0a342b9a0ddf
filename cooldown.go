package resizer

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// Cooldown is the StateGuard of COOLDOWN: a second successful resize of one
// instance within Period of the last is refused (cooldown_active), so that
// a flapping alert cannot bounce a machine between sizes.
type Cooldown struct {
	Marks  Marks
	Forget MarkForgetter
	Period time.Duration
	Now    func() time.Time
}

var _ StateGuard = Cooldown{}

// Permit refuses while the instance's last resize is within Period.
func (c Cooldown) Permit(ctx context.Context, a *Attempt) *Error {
	last, err := c.Marks.LastResize(ctx, a.Request.instanceKey())
	if err != nil {
		return ErrorFrom(ctx, "cooldown marks", err)
	}
	if !last.IsZero() && c.Now().Sub(last) < c.Period {
		return Errorf(CodePolicyDenied, ReasonCooldownActive,
			"instance %s was resized at %s; COOLDOWN=%s allows the next resize after %s",
			a.Request.InstanceID, last.UTC().Format(time.RFC3339), c.Period, last.Add(c.Period).UTC().Format(time.RFC3339))
	}
	return nil
}

// Begin writes the mark before the first state-changing call, so that no
// request slips in while this one changes the machine (docs/contract.md
// §12); a store that cannot write it refuses the request, retryable, before
// anything changed. A dry run writes nothing.
func (c Cooldown) Begin(ctx context.Context, a *Attempt) *Error {
	if a.Request.DryRun {
		return nil
	}
	now := c.Now()
	if err := c.Marks.RecordResize(ctx, a.Request.instanceKey(), now, now.Add(c.Period)); err != nil {
		e := ErrorFrom(ctx, "cooldown mark", err)
		e.Message = "could not write the cooldown mark before resizing, so nothing was changed; retry when the store is reachable: " + e.Message
		return e
	}
	a.markedAt = now
	return nil
}

// End renews the mark when the type changed, whatever else failed (a
// request that changed the machine and then reported a failure must not let
// the next one change it again), and takes back the mark of Begin when the
// type did not change, so that a failed attempt does not block its retry.
func (c Cooldown) End(ctx context.Context, a *Attempt, out *Outcome) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeGrace)
	defer cancel()
	key := a.Request.instanceKey()
	switch {
	case out.Data.Changed:
		now := c.Now()
		if err := c.Marks.RecordResize(ctx, key, now, now.Add(c.Period)); err != nil {
			a.Log.Error("could not renew the cooldown mark; the one written before the resize stays", zap.Error(err))
		}
	case !a.markedAt.IsZero():
		if err := c.Forget.ForgetResize(ctx, key, a.markedAt); err != nil {
			a.Log.Error("could not take back the cooldown mark of a resize that did not happen; the instance stays in cooldown until it expires",
				zap.Time("markedAt", a.markedAt), zap.Error(err))
		}
	}
}
