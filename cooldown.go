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

// Begin takes nothing.
func (Cooldown) Begin(context.Context, *Attempt) *Error { return nil }

// End marks the instance when its type changed, whatever else failed: a
// request that changed the machine and then reported a failure must not let
// the next one change it again.
func (c Cooldown) End(ctx context.Context, a *Attempt, out *Outcome) {
	if !out.Data.Changed {
		return
	}
	now := c.Now()
	if err := c.Marks.RecordResize(ctx, a.Request.instanceKey(), now, now.Add(c.Period)); err != nil {
		a.Log.Error("could not record the cooldown mark", zap.Error(err))
	}
}
