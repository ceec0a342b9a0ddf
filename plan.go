package resizer

import (
	"context"
	"slices"
	"sync"

	"go.uber.org/zap"
)

// Plan is what the describe calls showed about one request and the target
// it resolved to: everything CheckResize and the plan guards judge, and
// everything the operator needs.
type Plan struct {
	Request  Request
	Instance *Instance
	// Target is the instance type the request resolves to.
	Target string
	// CurrentType and TargetType are the region's entries for the
	// instance's type and the target; nil when the region does not list it.
	CurrentType, TargetType *InstanceType
	Image                   *ImageConstraints
}

// NoOp says the instance already has the target type: nothing to do.
func (p *Plan) NoOp() bool { return p.Instance.InstanceType == p.Target }

// planner describes the instance and resolves the request's target.
type planner struct {
	compute Compute
	// allows is ALLOWED_INSTANCE_TYPES: it shapes a relative request's ladder.
	allows func(string) bool
}

// plan describes the instance, stops early when it already has the target
// or is not of the type the request expects, then fetches the instance
// types and the image constraints side by side: both need only the
// describe call's answer.
func (pl planner) plan(ctx context.Context, log *zap.Logger, req Request) (*Plan, *Error) {
	inst, err := pl.compute.DescribeInstance(ctx, req.RegionID, req.InstanceID)
	if err != nil {
		return nil, ErrorFrom(ctx, "jdcloud describeInstance", err)
	}
	p := &Plan{Request: req, Instance: inst, Target: req.InstanceType}
	if p.NoOp() {
		log.Info("instance already has the requested type; nothing to do", zap.String("status", inst.Status))
		return p, nil
	}
	if req.FromInstanceType != "" && inst.InstanceType != req.FromInstanceType {
		return p, Errorf(CodePreconditionFailed, ReasonUnexpectedCurrentType,
			"instance %s is %s, not %s as the request expects; the request may be stale", inst.InstanceID, inst.InstanceType, req.FromInstanceType)
	}
	var typesErr, imageErr *Error
	var wg sync.WaitGroup
	if req.Relative() {
		wg.Go(func() { typesErr = pl.resolve(ctx, p) })
	} else {
		wg.Go(func() { typesErr = pl.types(ctx, p) })
	}
	if inst.ImageID != "" {
		p.Image, imageErr = pl.image(ctx, req.RegionID, inst)
	}
	wg.Wait()
	if typesErr != nil {
		return p, typesErr
	}
	return p, imageErr
}

// types looks up the current and the target type in the region.
func (pl planner) types(ctx context.Context, p *Plan) *Error {
	types, err := pl.compute.DescribeInstanceTypes(ctx, p.Request.RegionID, []string{p.Instance.InstanceType, p.Target})
	if err != nil {
		return ErrorFrom(ctx, "jdcloud describeInstanceTypes", err)
	}
	for i := range types {
		switch types[i].Name {
		case p.Instance.InstanceType:
			p.CurrentType = &types[i]
		case p.Target:
			p.TargetType = &types[i]
		}
	}
	return nil
}

// resolve lists the region's types and climbs the instance's ladder to the
// relative request's target (docs/contract.md §6).
func (pl planner) resolve(ctx context.Context, p *Plan) *Error {
	types, err := pl.compute.DescribeInstanceTypes(ctx, p.Request.RegionID, nil)
	if err != nil {
		return ErrorFrom(ctx, "jdcloud describeInstanceTypes", err)
	}
	current := p.Instance.InstanceType
	if i := slices.IndexFunc(types, func(t InstanceType) bool { return t.Name == current }); i >= 0 {
		p.CurrentType = &types[i]
	}
	target, cerr := climb(p.Request, current, ladderOf(types, current, pl.allows), types)
	if cerr != nil {
		return cerr
	}
	p.Target, p.TargetType = target.Name, target
	return nil
}

// image looks up what the instance's image allows. An image that is gone
// cannot have its constraints checked, and guessing that it allows the type
// is not ours to do.
func (pl planner) image(ctx context.Context, regionID string, inst *Instance) (*ImageConstraints, *Error) {
	img, err := pl.compute.DescribeImageConstraints(ctx, regionID, inst.ImageID)
	switch {
	case err == nil:
		return img, nil
	case ErrorCode(err) == CodeNotFound:
		return nil, Errorf(CodePreconditionFailed, ReasonImageNotSupported,
			"image %s of instance %s no longer exists, so its instance type constraints cannot be checked", inst.ImageID, inst.InstanceID)
	default:
		return nil, ErrorFrom(ctx, "jdcloud describeImageConstraints", err)
	}
}
