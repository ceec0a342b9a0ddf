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
	return d
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
