package resizer

import (
	"context"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/zap"
)

// maxEchoBytes bounds request attributes echoed into an outcome: a request
// that failed validation may carry megabytes in its id.
const maxEchoBytes = 256

// delivery is one arrival of an event: its context, its logger, the
// request it names, and when it began.
type delivery struct {
	// ctx keeps the caller's values and deadline but not its cancellation:
	// a resize, once begun, must not be cut short by a caller hanging up.
	ctx         context.Context
	cancel      context.CancelFunc
	deadline    time.Time
	log         *zap.Logger
	ref         RequestRef
	traceparent string
	subject     string
	started     time.Time
	tally       *Tally
	// drain, when set, ends the delivery's forward work (see work).
	drain context.Context
}

type drainKey struct{}

// Draining returns a channel closed once the process drains (nil when ctx
// carries no drain), for handlers other than the Handler.
func Draining(ctx context.Context) <-chan struct{} {
	if d, ok := ctx.Value(drainKey{}).(context.Context); ok {
		return d.Done()
	}
	return nil
}

// ContextWithDrain tells every delivery started under ctx that the process
// is shutting down once drain is done: a delivery still changing a machine
// then stops as a timeout, gives back what it stopped, publishes and logs
// its outcome, and stores nothing final, so that a redelivery runs again.
func ContextWithDrain(ctx, drain context.Context) context.Context {
	return context.WithValue(ctx, drainKey{}, drain)
}

// newDelivery starts a delivery of e (nil when not even a partial event
// could be read); a context without deadline is bounded by maxRun.
func newDelivery(ctx context.Context, e *event.Event, fallback *zap.Logger, maxRun time.Duration, now time.Time) *delivery {
	d := &delivery{started: now}
	if e != nil {
		d.ref = RequestRef{ID: Clip(e.ID(), maxEchoBytes), Source: Clip(e.Source(), maxEchoBytes), Type: Clip(e.Type(), maxEchoBytes)}
		d.traceparent = traceparentOf(*e)
	}
	d.log = LoggerFrom(ctx, fallback).With(zap.String("ceId", d.ref.ID), zap.String("ceSource", d.ref.Source))
	dl, ok := ctx.Deadline()
	if !ok {
		dl = now.Add(maxRun)
	}
	d.deadline = dl
	d.ctx, d.cancel = context.WithDeadline(context.WithoutCancel(ctx), dl)
	d.ctx, d.tally = withTally(d.ctx)
	d.drain, _ = ctx.Value(drainKey{}).(context.Context)
	return d
}

// work is the context of the stages that change the machine: it ends
// margin before the delivery's deadline, keeping that margin for storing,
// giving back and publishing, and it ends at once, as a timeout, when a
// shutdown drains the process (ContextWithDrain).
func (d *delivery) work(margin time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancelDeadline := context.WithDeadline(d.ctx, d.deadline.Add(-margin))
	if d.drain == nil {
		return ctx, cancelDeadline
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(d.drain, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() {
		stop()
		cancel(context.Canceled)
		cancelDeadline()
	}
}

// identify names the validated request in every later log line and in the
// outcome.
func (d *delivery) identify(req Request) {
	d.ref = req.ref()
	d.subject = req.InstanceID
	d.traceparent = req.TraceParent
	d.log = d.log.With(zap.String("instanceId", req.InstanceID), zap.String("regionId", req.RegionID),
		zap.String("instanceType", req.InstanceType), zap.Bool("dryRun", req.DryRun))
}
