package resizer

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// Applied is what the operator did to the instance.
type Applied struct {
	Changed bool
	// RequestID is JD Cloud's id of the accepted resizeInstance call.
	RequestID string
	// Stopped and Restarted tell what stopIfRunning did to the instance.
	Stopped, Restarted bool
	// Timings holds milliseconds per phase (stop, resize, start, total).
	Timings map[string]int64
}

// Poll is how the operator follows an instance through a transition: the
// first pause after a call, growing up to Max.
type Poll struct {
	First, Max time.Duration
}

// operator changes the machine: resize a stopped instance, or stop → resize
// → start a running one, giving back an instance it stopped whatever fails
// after the stop. It knows nothing of the delivery but its contexts.
type operator struct {
	compute Compute
	poll    Poll
	// margin is kept before the delivery's deadline for storing and
	// publishing; a give-back may spend two thirds of it.
	margin time.Duration
	now    func() time.Time
}

// apply carries out a checked plan. ctx is bounded by the work deadline;
// outer is the delivery's context, whose extra margin is spent only on
// giving back an instance we stopped. begin is called once, just before
// the first state-changing call; its refusal stops everything.
func (o operator) apply(ctx, outer context.Context, log *zap.Logger, p *Plan, begin func() *Error) (Applied, *Error) {
	var done Applied
	if err := begin(); err != nil {
		return done, err
	}
	if p.Instance.Status == StatusRunning {
		err := o.stopResizeStart(ctx, outer, log, p, &done)
		return done, err
	}
	err := o.resize(ctx, log, p, &done)
	return done, err
}

// resize calls resizeInstance on a stopped instance.
func (o operator) resize(ctx context.Context, log *zap.Logger, p *Plan, done *Applied) *Error {
	req := p.Request
	rid, err := o.compute.ResizeInstance(ctx, req.RegionID, req.InstanceID, p.Target, req.Force)
	if err != nil {
		e := ErrorFrom(ctx, "jdcloud resizeInstance", err)
		if e.Ambiguous && o.resizeTookEffect(ctx, log, p, e) {
			done.Changed = true
			return nil
		}
		return e
	}
	done.RequestID = rid
	done.Changed = true
	log.Info("resizeInstance accepted", zap.String("jdcloudRequestId", rid), zap.Bool("force", req.Force))
	return nil
}

// resizeTookEffect looks at the instance after a resize failed in a way
// that leaves its fate unknown (a 5xx or a dropped answer, possibly followed
// by a retry that JD refused because the first attempt was under way). An
// instance now resizing, or already of the target type, was resized: we
// checked it was stopped and of another type just before the call.
func (o operator) resizeTookEffect(ctx context.Context, log *zap.Logger, p *Plan, cause *Error) bool {
	inst, err := o.compute.DescribeInstance(ctx, p.Request.RegionID, p.Request.InstanceID)
	if err != nil {
		return false
	}
	if inst.InstanceType == p.Target || inst.Status == StatusResizing {
		log.Warn("resizeInstance failed ambiguously, but the instance shows the resize under way or done; reporting success",
			zap.String("status", inst.Status), zap.String("currentType", inst.InstanceType), zap.String("callError", cause.Message))
		return true
	}
	return false
}

// stopResizeStart stops a running instance, resizes it, and starts it again.
// Whatever fails after the stop, the instance is started again before the
// failure is reported: we never leave a machine stopped that we stopped.
func (o operator) stopResizeStart(ctx, outer context.Context, log *zap.Logger, p *Plan, done *Applied) (err *Error) {
	req := p.Request
	start := o.now()
	done.Timings = map[string]int64{}
	defer func() { done.Timings["total"] = ms(o.now().Sub(start)) }()

	if _, e := o.compute.StopInstance(ctx, req.RegionID, req.InstanceID); e != nil {
		err := ErrorFrom(ctx, "jdcloud stopInstance", e)
		if err.Retryable() {
			// A stop that timed out or met a 5xx may still have been
			// accepted: make sure the machine ends up running.
			o.giveBack(outer, log, p, done, err)
		}
		return err
	}
	done.Stopped = true
	log.Info("instance stopping for the resize")
	defer func() {
		if err != nil {
			o.giveBack(outer, log, p, done, err)
		}
	}()
	if _, e := o.waitFor(ctx, req, func(i *Instance) bool { return i.Status == StatusStopped }); e != nil {
		return e
	}
	done.Timings["stop"] = ms(o.now().Sub(start))

	t := o.now()
	if e := o.resize(ctx, log, p, done); e != nil {
		return e
	}
	if _, e := o.waitFor(ctx, req, func(i *Instance) bool {
		return i.Status == StatusStopped && i.InstanceType == p.Target
	}); e != nil {
		return e
	}
	done.Timings["resize"] = ms(o.now().Sub(t))

	t = o.now()
	if _, e := o.compute.StartInstance(ctx, req.RegionID, req.InstanceID); e != nil {
		return ErrorFrom(ctx, "jdcloud startInstance", e)
	}
	if _, e := o.waitFor(ctx, req, func(i *Instance) bool { return i.Status == StatusRunning }); e != nil {
		// Started but not yet running: it is on its way back, not left stopped.
		done.Restarted = true
		return e
	}
	done.Restarted = true
	done.Timings["start"] = ms(o.now().Sub(t))
	log.Info("instance running again with the new type")
	return nil
}

// giveBack starts an instance we stopped after a later step failed. It may
// use two thirds of the margin kept before the delivery's deadline: an
// instance left stopped is worse than a late answer. The outcome's message
// says what happened to the machine.
func (o operator) giveBack(outer context.Context, log *zap.Logger, p *Plan, done *Applied, cause *Error) {
	if done.Restarted {
		return
	}
	req := p.Request
	dl, _ := outer.Deadline()
	ctx, cancel := context.WithDeadline(outer, dl.Add(-o.margin/3))
	defer cancel()
	inst, werr := o.waitFor(ctx, req, func(i *Instance) bool {
		return i.Status == StatusStopped || i.Status == StatusRunning || i.Status == StatusStarting
	})
	if werr == nil && inst.Status != StatusStopped {
		// Running or on its way: nothing to give back. It counts as a
		// restart only if we had seen it stopped.
		done.Restarted = done.Stopped
		return
	}
	if werr == nil {
		_, e := o.compute.StartInstance(ctx, req.RegionID, req.InstanceID)
		if e == nil {
			done.Restarted = true
			log.Warn("instance started again after a failed resize", zap.String("cause", cause.Message))
			cause.Message += "; the instance was started again"
			return
		}
		werr = ErrorFrom(ctx, "jdcloud startInstance", e)
	}
	log.Error("could not start the instance again; it is left stopped and needs an operator",
		zap.String("cause", cause.Message), zap.String("restartError", werr.Message))
	cause.Message += "; WARNING: the instance was stopped for the resize and could not be started again (" + werr.Message + "): start it by hand"
}

// waitFor polls describeInstance with growing pauses until done says so or
// the deadline would pass (then: timeout).
func (o operator) waitFor(ctx context.Context, req Request, done func(*Instance) bool) (*Instance, *Error) {
	pause := o.poll.First
	for {
		inst, err := o.compute.DescribeInstance(ctx, req.RegionID, req.InstanceID)
		if err != nil {
			return nil, ErrorFrom(ctx, "jdcloud describeInstance", err)
		}
		if done(inst) {
			return inst, nil
		}
		if inst.Status == StatusError {
			return inst, Errorf(CodeAPIError, "", "instance %s went into status error", inst.InstanceID)
		}
		dl, _ := ctx.Deadline()
		if !o.now().Add(pause).Before(dl) {
			return inst, Errorf(CodeTimeout, "", "instance %s is still %s and the invocation's deadline is near", inst.InstanceID, inst.Status)
		}
		select {
		case <-ctx.Done():
			return inst, Errorf(CodeTimeout, "", "instance %s is still %s and the invocation's deadline came", inst.InstanceID, inst.Status)
		case <-time.After(pause):
		}
		pause = min(pause*2, o.poll.Max)
	}
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
