package resizer

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// execute runs pre-flight and, unless it is a dry run, the resize. ctx is
// bounded by the work deadline; outer is the delivery's context, whose extra
// margin is spent only on giving back an instance we stopped.
func (h *Handler) execute(ctx, outer context.Context, log *zap.Logger, req Request, data *OutcomeData) *Error {
	inst, err := h.Compute.DescribeInstance(ctx, req.RegionID, req.InstanceID)
	if err != nil {
		return computeError(ctx, err)
	}
	data.PreviousInstanceType = inst.InstanceType
	if inst.InstanceType == req.InstanceType {
		log.Info("instance already has the requested type; nothing to do", zap.String("status", inst.Status))
		return nil
	}
	if req.FromInstanceType != "" && inst.InstanceType != req.FromInstanceType {
		return Errorf(CodePreconditionFailed, ReasonUnexpectedCurrentType,
			"instance %s is %s, not %s as the request expects; the request may be stale", inst.InstanceID, inst.InstanceType, req.FromInstanceType)
	}
	pf, perr := h.preflight(ctx, req, inst)
	if perr != nil {
		return perr
	}
	if perr := CheckResize(pf, req); perr != nil {
		return perr
	}
	if req.DryRun {
		log.Info("dry run: every pre-flight check passed", zap.String("status", inst.Status))
		return nil
	}
	if inst.Status == StatusRunning {
		return h.stopResizeStart(ctx, outer, log, req, data)
	}
	return h.resize(ctx, log, req, data)
}

// preflight fetches the instance types and the image constraints; both need
// only describeInstance's answer, so they run at the same time.
func (h *Handler) preflight(ctx context.Context, req Request, inst *Instance) (Preflight, *Error) {
	pf := Preflight{Instance: inst}
	var typesErr, imageErr *Error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		types, err := h.Compute.DescribeInstanceTypes(ctx, req.RegionID, []string{inst.InstanceType, req.InstanceType})
		if err != nil {
			typesErr = computeError(ctx, err)
			return
		}
		for i := range types {
			switch types[i].Name {
			case inst.InstanceType:
				pf.Current = &types[i]
			case req.InstanceType:
				pf.Target = &types[i]
			}
		}
	}()
	if inst.ImageID != "" {
		img, err := h.Compute.DescribeImageConstraints(ctx, req.RegionID, inst.ImageID)
		switch {
		case err == nil:
			pf.Image = img
		case ErrorCode(err) == CodeNotFound:
			// The image is gone: its constraints cannot be checked, and
			// guessing that it allows the type is not ours to do.
			imageErr = Errorf(CodePreconditionFailed, ReasonImageNotSupported,
				"image %s of instance %s no longer exists, so its instance type constraints cannot be checked", inst.ImageID, inst.InstanceID)
		default:
			imageErr = computeError(ctx, err)
		}
	}
	wg.Wait()
	if typesErr != nil {
		return pf, typesErr
	}
	return pf, imageErr
}

// resize calls resizeInstance on a stopped instance.
func (h *Handler) resize(ctx context.Context, log *zap.Logger, req Request, data *OutcomeData) *Error {
	rid, err := h.Compute.ResizeInstance(ctx, req.RegionID, req.InstanceID, req.InstanceType, req.Force)
	if err != nil {
		e := computeError(ctx, err)
		if e.Ambiguous && h.resizeTookEffect(ctx, log, req, e) {
			data.Changed = true
			return nil
		}
		return e
	}
	data.JDCloudRequestID = rid
	data.Changed = true
	log.Info("resizeInstance accepted", zap.String("jdcloudRequestId", rid), zap.Bool("force", req.Force))
	return nil
}

// resizeTookEffect looks at the instance after a resize failed in a way
// that leaves its fate unknown (a 5xx or a dropped answer, possibly followed
// by a retry that JD refused because the first attempt was under way). An
// instance now resizing, or already of the target type, was resized: we
// checked it was stopped and of another type just before the call.
func (h *Handler) resizeTookEffect(ctx context.Context, log *zap.Logger, req Request, cause *Error) bool {
	inst, err := h.Compute.DescribeInstance(ctx, req.RegionID, req.InstanceID)
	if err != nil {
		return false
	}
	if inst.InstanceType == req.InstanceType || inst.Status == StatusResizing {
		log.Warn("resizeInstance failed ambiguously, but the instance shows the resize under way or done; reporting success",
			zap.String("status", inst.Status), zap.String("currentType", inst.InstanceType), zap.String("callError", cause.Message))
		return true
	}
	return false
}

// stopResizeStart stops a running instance, resizes it, and starts it again.
// Whatever fails after the stop, the instance is started again before the
// failure is reported: we never leave a machine stopped that we stopped.
func (h *Handler) stopResizeStart(ctx, outer context.Context, log *zap.Logger, req Request, data *OutcomeData) (err *Error) {
	start := h.now()
	data.Timings = map[string]int64{}
	defer func() { data.Timings["total"] = ms(h.now().Sub(start)) }()

	if _, e := h.Compute.StopInstance(ctx, req.RegionID, req.InstanceID); e != nil {
		err := computeError(ctx, e)
		if err.Retryable() {
			// A stop that timed out or met a 5xx may still have been
			// accepted: make sure the machine ends up running.
			h.giveBack(outer, log, req, data, err)
		}
		return err
	}
	data.Stopped = true
	log.Info("instance stopping for the resize")
	defer func() {
		if err != nil {
			h.giveBack(outer, log, req, data, err)
		}
	}()
	if _, e := h.waitFor(ctx, req, func(i *Instance) bool { return i.Status == StatusStopped }); e != nil {
		return e
	}
	data.Timings["stop"] = ms(h.now().Sub(start))

	t := h.now()
	if e := h.resize(ctx, log, req, data); e != nil {
		return e
	}
	if _, e := h.waitFor(ctx, req, func(i *Instance) bool {
		return i.Status == StatusStopped && i.InstanceType == req.InstanceType
	}); e != nil {
		return e
	}
	data.Timings["resize"] = ms(h.now().Sub(t))

	t = h.now()
	if _, e := h.Compute.StartInstance(ctx, req.RegionID, req.InstanceID); e != nil {
		return computeError(ctx, e)
	}
	if _, e := h.waitFor(ctx, req, func(i *Instance) bool { return i.Status == StatusRunning }); e != nil {
		// Started but not yet running: it is on its way back, not left stopped.
		data.Restarted = true
		return e
	}
	data.Restarted = true
	data.Timings["start"] = ms(h.now().Sub(t))
	log.Info("instance running again with the new type")
	return nil
}

// giveBack starts an instance we stopped after a later step failed. It may
// use the margin kept before the invocation's deadline: an instance left
// stopped is worse than a late answer. The outcome's message says what
// happened to the machine.
func (h *Handler) giveBack(outer context.Context, log *zap.Logger, req Request, data *OutcomeData, cause *Error) {
	if data.Restarted {
		return
	}
	dl, _ := outer.Deadline()
	ctx, cancel := context.WithDeadline(outer, dl.Add(-h.publishMargin()/3))
	defer cancel()
	inst, werr := h.waitFor(ctx, req, func(i *Instance) bool {
		return i.Status == StatusStopped || i.Status == StatusRunning || i.Status == StatusStarting
	})
	if werr == nil && inst.Status != StatusStopped {
		// Running or on its way: nothing to give back. It counts as a
		// restart only if we had seen it stopped.
		data.Restarted = data.Stopped
		return
	}
	if werr == nil {
		_, e := h.Compute.StartInstance(ctx, req.RegionID, req.InstanceID)
		if e == nil {
			data.Restarted = true
			log.Warn("instance started again after a failed resize", zap.String("cause", cause.Message))
			cause.Message += "; the instance was started again"
			return
		}
		werr = computeError(ctx, e)
	}
	log.Error("could not start the instance again; it is left stopped and needs an operator",
		zap.String("cause", cause.Message), zap.String("restartError", werr.Message))
	cause.Message += "; WARNING: the instance was stopped for the resize and could not be started again (" + werr.Message + "): start it by hand"
}

// waitFor polls describeInstance with growing pauses until done says so or
// the deadline would pass (then: timeout).
func (h *Handler) waitFor(ctx context.Context, req Request, done func(*Instance) bool) (*Instance, *Error) {
	pause := orDefault(h.PollInterval, time.Second)
	limit := orDefault(h.PollMax, 5*time.Second)
	for {
		inst, err := h.Compute.DescribeInstance(ctx, req.RegionID, req.InstanceID)
		if err != nil {
			return nil, computeError(ctx, err)
		}
		if done(inst) {
			return inst, nil
		}
		if inst.Status == StatusError {
			return inst, Errorf(CodeAPIError, "", "instance %s went into status error", inst.InstanceID)
		}
		dl, _ := ctx.Deadline()
		if !h.now().Add(pause).Before(dl) {
			return inst, Errorf(CodeTimeout, "", "instance %s is still %s and the invocation's deadline is near", inst.InstanceID, inst.Status)
		}
		select {
		case <-ctx.Done():
			return inst, Errorf(CodeTimeout, "", "instance %s is still %s and the invocation's deadline came", inst.InstanceID, inst.Status)
		case <-time.After(pause):
		}
		pause = min(pause*2, limit)
	}
}
