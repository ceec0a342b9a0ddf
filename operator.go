package resizer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
)

// Applied is what the operator did to the instance.
type Applied struct {
	// Changed says the instance's type changed, whatever else failed.
	Changed bool
	// RequestID is JD Cloud's id of the accepted resizeInstance call.
	RequestID string
	// Stopped and Restarted tell what stopIfRunning did to the instance.
	Stopped, Restarted bool
	// RolledBack says the instance was resized back to its previous type
	// because it would not run at the new one.
	RolledBack bool
	// Timings holds milliseconds per phase (stop, resize, start, total).
	Timings map[string]int64
}

// operator changes the machine: resize a stopped instance, or stop →
// resize → start a running one. Whatever fails on the way, it settles what
// is true by looking at the instance, starts again what it stopped (or may
// have stopped), rolls a resize back when the instance will not run at the
// new type, and reports what happened to the machine. It knows nothing of
// the delivery but its contexts.
type operator struct {
	compute Compute
	poll    *poller
	// margin is kept before the delivery's deadline for storing and
	// publishing; giving back and rolling back may spend two thirds of it.
	margin time.Duration
	now    func() time.Time
}

// apply carries out a checked plan. ctx is bounded by the work deadline
// (and cut by a shutdown); outer is the delivery's context, whose extra
// margin is spent only on giving back. begin is called once, just before
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

// fate is what is known of a state-changing call that failed.
type fate int

// inFlightGrace is how long a state-changing call already sent may still
// take once the delivery's work ends early (a shutdown): JD answers in well
// under a second, so only a hung call is cut.
var inFlightGrace = 10 * time.Second

const (
	refused fate = iota // JD did not carry it out
	unknown             // it may have been carried out: nothing could tell
)

// act makes one state-changing call. A failure whose fate is unknown (a
// sent attempt met a 5xx, a dropped connection or the deadline, and the
// retry was refused) is settled by describing the instance: when took says
// the call took effect, the flow goes on from there as if it had answered.
//
// A shutdown (ContextWithDrain) stops the flow before a call, never during
// one: a call cut in flight may still be carried out by JD after the
// give-back has looked at the machine and found nothing to give back, and
// then the machine stops with nobody to start it. The call still ends at
// the work deadline.
func (o operator) act(ctx context.Context, log *zap.Logger, p *Plan, op string, call func(context.Context) (string, error), took func(*Instance) bool) (string, fate, *Error) {
	if ctx.Err() != nil {
		return "", refused, ErrorFrom(ctx, "jdcloud "+op, context.Cause(ctx))
	}
	callCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		var stopDeadline context.CancelFunc
		callCtx, stopDeadline = context.WithDeadline(callCtx, dl)
		defer stopDeadline()
	}
	// A call that hangs past a shutdown is cut after inFlightGrace: the
	// give-back needs the rest of the drain's time.
	grace := inFlightGrace
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-callCtx.Done():
		}
	})
	defer stop()
	rid, e := call(callCtx)
	if e == nil {
		return rid, refused, nil
	}
	err := ErrorFrom(ctx, "jdcloud "+op, e)
	if !err.Ambiguous {
		return "", refused, err
	}
	inst, derr := o.compute.DescribeInstance(ctx, p.Request.RegionID, p.Request.InstanceID)
	if derr != nil {
		return "", unknown, err
	}
	if took(inst) {
		log.Warn(op+" failed ambiguously, but the instance shows it carried out; going on",
			zap.String("status", inst.Status), zap.String("currentType", inst.InstanceType), zap.String("callError", err.Message))
		return "", refused, nil
	}
	return "", refused, err
}

// resize calls resizeInstance; the instance is stopped.
func (o operator) resize(ctx context.Context, log *zap.Logger, p *Plan, done *Applied) *Error {
	req := p.Request
	rid, _, err := o.act(ctx, log, p, "resizeInstance", func(ctx context.Context) (string, error) {
		return o.compute.ResizeInstance(ctx, req.RegionID, req.InstanceID, p.Target, req.Force)
	}, func(i *Instance) bool { return i.InstanceType == p.Target || i.Status == StatusResizing })
	if err != nil {
		return err
	}
	done.RequestID = rid
	done.Changed = true
	log.Info("resizeInstance accepted", zap.String("jdcloudRequestId", rid), zap.Bool("force", req.Force))
	return nil
}

func stoppedOrStopping(i *Instance) bool {
	return i.Status == StatusStopping || i.Status == StatusStopped
}

func startingOrRunning(i *Instance) bool {
	return i.Status == StatusStarting || i.Status == StatusRunning
}

// stopResizeStart stops a running instance, resizes it, and starts it again.
func (o operator) stopResizeStart(ctx, outer context.Context, log *zap.Logger, p *Plan, done *Applied) (err *Error) {
	req := p.Request
	start := o.now()
	done.Timings = map[string]int64{}
	defer func() { done.Timings["total"] = ms(o.now().Sub(start)) }()

	_, f, err := o.act(ctx, log, p, "stopInstance", func(ctx context.Context) (string, error) {
		return o.compute.StopInstance(ctx, req.RegionID, req.InstanceID)
	}, stoppedOrStopping)
	if err != nil {
		if f == unknown {
			// We cannot tell whether the machine is stopping: make sure
			// it ends up running.
			done.Stopped = true
			if err = o.recover(outer, log, p, done, err); err != nil && !done.Changed {
				// JD may still carry out a stop it never answered.
				err.Message += "; the stopInstance call got no answer, so JD may yet stop the instance: check that it runs"
			}
			return err
		}
		return err
	}
	done.Stopped = true
	log.Info("instance stopping for the resize")
	defer func() {
		if err != nil {
			err = o.recover(outer, log, p, done, err)
		}
	}()
	if _, e := o.waitFor(ctx, p, "stop", start, func(i *Instance) bool { return i.Status == StatusStopped }); e != nil {
		return e
	}
	done.Timings["stop"] = ms(o.now().Sub(start))

	t := o.now()
	if e := o.resize(ctx, log, p, done); e != nil {
		return e
	}
	if _, e := o.waitFor(ctx, p, "resize", t, func(i *Instance) bool {
		return i.Status == StatusStopped && i.InstanceType == p.Target
	}); e != nil {
		return e
	}
	done.Timings["resize"] = ms(o.now().Sub(t))

	t = o.now()
	if e := o.start(ctx, log, p); e != nil {
		return e
	}
	if _, e := o.waitFor(ctx, p, "start", t, func(i *Instance) bool { return i.Status == StatusRunning }); e != nil {
		return e
	}
	done.Restarted = true
	done.Timings["start"] = ms(o.now().Sub(t))
	log.Info("instance running again with the new type")
	return nil
}

func (o operator) start(ctx context.Context, log *zap.Logger, p *Plan) *Error {
	_, _, err := o.act(ctx, log, p, "startInstance", func(ctx context.Context) (string, error) {
		return o.compute.StartInstance(ctx, p.Request.RegionID, p.Request.InstanceID)
	}, startingOrRunning)
	return err
}

// recover runs after a step failed once the instance was (or may have been)
// stopped. It looks at the machine and makes it run: at the new type when
// the resize happened (then the request succeeded after all, and the cause
// is only logged), at the previous type by rolling back when it will not
// run at the new one, or as it was when the resize never happened. It may
// use two thirds of the margin kept before the delivery's deadline: an
// instance left stopped is worse than a late answer. The returned error,
// nil on success, says what happened to the machine.
func (o operator) recover(outer context.Context, log *zap.Logger, p *Plan, done *Applied, cause *Error) *Error {
	dl, _ := outer.Deadline()
	ctx, cancel := context.WithDeadline(outer, dl.Add(-o.margin/3))
	defer cancel()
	inst, err := o.waitFor(ctx, p, "settle", o.now(), settled)
	if err != nil {
		return o.needsOperator(log, cause, fmt.Sprintf("it did not settle (%s)", err.Message))
	}
	done.Changed = done.Changed || inst.InstanceType == p.Target
	switch inst.Status {
	case StatusRunning, StatusStarting:
		done.Restarted = done.Stopped
		if inst.InstanceType == p.Target {
			return o.resizedAfterAll(ctx, log, p, done, cause)
		}
		cause.Message += "; the instance is running with its previous type"
		return cause
	case StatusStopped:
		if inst.InstanceType == p.Target {
			return o.startAtNewType(ctx, log, p, done, cause)
		}
		started, e := o.startAndWait(ctx, log, p)
		if e != nil && !started {
			return o.needsOperator(log, cause, "starting it again failed ("+e.Message+")")
		}
		// Started, running or on its way: not left stopped.
		done.Restarted = true
		log.Warn("instance started again after a failed resize", zap.String("cause", cause.Message))
		cause.Message += "; the instance was started again"
		return cause
	default:
		return o.needsOperator(log, cause, "it is in status "+inst.Status)
	}
}

// resizedAfterAll: the instance runs (or is starting) at the new type, so
// the request did what it asked, whatever step reported a failure.
func (o operator) resizedAfterAll(ctx context.Context, log *zap.Logger, p *Plan, done *Applied, cause *Error) *Error {
	if _, e := o.waitFor(ctx, p, "start", o.now(), func(i *Instance) bool { return i.Status == StatusRunning }); e != nil {
		// It is on its way back, not left stopped: the cause stands.
		return cause
	}
	done.Restarted = true
	log.Warn("a step failed, but the instance runs with the new type; reporting success", zap.String("stepError", cause.Message))
	return nil
}

// startAtNewType starts an instance stopped at the new type; when it will
// not run there, it rolls the resize back.
func (o operator) startAtNewType(ctx context.Context, log *zap.Logger, p *Plan, done *Applied, cause *Error) *Error {
	started, e := o.startAndWait(ctx, log, p)
	if e == nil {
		done.Restarted = true
		log.Warn("a step failed, but the instance now runs with the new type; reporting success", zap.String("stepError", cause.Message))
		return nil
	}
	if started && e.Code == CodeTimeout {
		done.Restarted = true
		return cause
	}
	if cause.Retryable() {
		// The start, not the network, is what failed: say so.
		cause = e
	}
	return o.rollback(ctx, log, p, done, cause, e)
}

// rollback resizes the instance back to its previous type and starts it.
func (o operator) rollback(ctx context.Context, log *zap.Logger, p *Plan, done *Applied, cause, startErr *Error) *Error {
	req, prev := p.Request, p.Instance.InstanceType
	log.Warn("the instance does not run with the new type; rolling back", zap.String("previousType", prev), zap.String("startError", startErr.Message))
	// The rollback is a resize from the new type to the previous one.
	back, now := *p, *p.Instance
	now.InstanceType = p.Target
	back.Instance, back.Target = &now, prev
	if _, err := o.waitFor(ctx, p, "settle", o.now(), func(i *Instance) bool { return i.Status == StatusStopped }); err != nil {
		return o.needsOperator(log, cause, "the rollback to "+prev+" could not begin ("+err.Message+")")
	}
	_, _, err := o.act(ctx, log, &back, "resizeInstance", func(ctx context.Context) (string, error) {
		return o.compute.ResizeInstance(ctx, req.RegionID, req.InstanceID, prev, req.Force)
	}, func(i *Instance) bool { return i.InstanceType == prev || i.Status == StatusResizing })
	if err == nil {
		_, err = o.waitFor(ctx, &back, "resize", o.now(), func(i *Instance) bool {
			return i.Status == StatusStopped && i.InstanceType == prev
		})
	}
	if err == nil {
		_, err = o.startAndWait(ctx, log, &back)
	}
	if err != nil {
		return o.needsOperator(log, cause, "it would not run with "+p.Target+" ("+startErr.Message+") and the rollback to "+prev+" failed ("+err.Message+")")
	}
	done.RolledBack, done.Changed, done.Restarted = true, false, true
	cause.Message += fmt.Sprintf("; the instance would not run with %s, so it was resized back to %s and runs again", p.Target, prev)
	return cause
}

// startAndWait starts a stopped instance and waits until it runs; started
// says JD took the start.
func (o operator) startAndWait(ctx context.Context, log *zap.Logger, p *Plan) (started bool, err *Error) {
	t := o.now()
	if e := o.start(ctx, log, p); e != nil {
		return false, e
	}
	_, e := o.waitFor(ctx, p, "start", t, func(i *Instance) bool { return i.Status == StatusRunning })
	return true, e
}

// needsOperator says loudly that the machine could not be brought back.
func (o operator) needsOperator(log *zap.Logger, cause *Error, why string) *Error {
	log.Error("the instance needs an operator: it was stopped for the resize and is not running",
		zap.String("cause", cause.Message), zap.String("why", why))
	cause.Message += "; WARNING: the instance was stopped for the resize and is not running: " + why + "; it needs an operator: start it by hand"
	return cause
}

// settled: the instance is in a status a call can act on, or running.
func settled(i *Instance) bool {
	switch i.Status {
	case StatusStopped, StatusRunning, StatusError:
		return true
	}
	return false
}

// waitFor polls describeInstance until done says so, following phase's
// learned schedule. It gives up with a timeout when the next poll would
// pass the deadline, with api_error when the instance goes into status
// error, falls back to stopped after a start, or turns up with a type that
// is neither its previous nor the requested one (someone else changed it:
// no wait outlasts that; only the give-back's wait, which must start the
// machine whatever it became, takes any type).
func (o operator) waitFor(ctx context.Context, p *Plan, phase string, since time.Time, done func(*Instance) bool) (*Instance, *Error) {
	req := p.Request
	known := []string{p.Instance.InstanceType, p.Target}
	pause := o.poll.schedule(phase)
	sawStarting, polls := false, 0
	for {
		inst, err := o.compute.DescribeInstance(ctx, req.RegionID, req.InstanceID)
		if err != nil {
			return nil, ErrorFrom(ctx, "jdcloud describeInstance", err)
		}
		polls++
		if done(inst) {
			if phase != "settle" && polls > 1 {
				o.poll.learn(phase, o.now().Sub(since))
			}
			return inst, nil
		}
		switch {
		case phase != "settle" && !slices.Contains(known, inst.InstanceType):
			return inst, Errorf(CodeAPIError, "", "instance %s turned up with type %s, neither %s nor the requested %s: someone else changed it, so the resize stopped waiting",
				inst.InstanceID, inst.InstanceType, p.Instance.InstanceType, p.Target)
		case inst.Status == StatusError:
			return inst, Errorf(CodeAPIError, "", "instance %s went into status error", inst.InstanceID)
		case phase == "start" && inst.Status == StatusStarting:
			sawStarting = true
		case phase == "start" && inst.Status == StatusStopped && (sawStarting || polls >= 3):
			return inst, Errorf(CodeAPIError, "", "instance %s was started but is stopped again", inst.InstanceID)
		}
		d := pause()
		dl, _ := ctx.Deadline()
		if !o.now().Add(d).Before(dl) {
			return inst, Errorf(CodeTimeout, "", "instance %s is still %s and the invocation's deadline is near", inst.InstanceID, inst.Status)
		}
		select {
		case <-ctx.Done():
			return inst, Errorf(CodeTimeout, "", "instance %s is still %s and the invocation's deadline came", inst.InstanceID, inst.Status)
		case <-time.After(d):
		}
	}
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
