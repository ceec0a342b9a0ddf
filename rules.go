package resizer

import (
	"fmt"
	"slices"
)

// CheckResize applies JD Cloud's resize rules (docs/jdcloud-api.md
// "resizeInstance rules") to what the describe calls showed, so that a request the service
// would refuse is refused here, with the contract's reason, before any
// state-changing call. Checks run from the most fundamental (can the target
// be had at all) to the most situational (the instance's current status), so
// the reason given is the one an operator must fix first.
func CheckResize(p *Plan) *Error {
	inst, target, r, to := p.Instance, p.TargetType, p.Request, p.Target
	refuse := func(reason, format string, args ...any) *Error {
		return Errorf(CodePreconditionFailed, reason, format, args...)
	}
	if target == nil {
		return refuse(ReasonInstanceTypeUnavailable, "instance type %s does not exist in region %s", to, r.RegionID)
	}
	if !target.InStock[inst.AZ] {
		return refuse(ReasonInstanceTypeUnavailable, "instance type %s is not in stock in %s, the az of instance %s", to, inst.AZ, inst.InstanceID)
	}
	if inst.ChargeStatus != "normal" {
		return refuse(ReasonInstanceInArrears, "instance %s has charge status %s; JD Cloud resizes only instances in good standing", inst.InstanceID, Quote(inst.ChargeStatus))
	}
	if img := p.Image; img != nil {
		listed := slices.Contains(img.InstanceTypes, to)
		if (img.ConstraintsType == "includes" && !listed) || (img.ConstraintsType == "excludes" && listed) {
			return refuse(ReasonImageNotSupported, "image %s of instance %s does not support instance type %s", img.ImageID, inst.InstanceID, to)
		}
	}
	if err := checkGeneration(p); err != nil {
		return err
	}
	if inst.NICs > target.NICLimit {
		return refuse(ReasonNICLimitExceeded, "instance %s has %d network interfaces; %s allows %d", inst.InstanceID, inst.NICs, to, target.NICLimit)
	}
	if n := cloudDisks(inst); n > target.CloudDiskCountLimit {
		return refuse(ReasonDiskLimitExceeded, "instance %s has %d cloud disks attached; %s allows %d", inst.InstanceID, n, to, target.CloudDiskCountLimit)
	}
	if hasLocalDataDisk(inst) && !r.Force {
		return refuse(ReasonLocalDataDiskRequiresForce, "instance %s has local data disks; resizing erases them and needs force=true (and ALLOW_FORCE=true)", inst.InstanceID)
	}
	if inst.Status != StatusStopped && !(inst.Status == StatusRunning && r.StopIfRunning) {
		hint := "stop it first, or send stopIfRunning=true (needs ALLOW_STOP=true)"
		if inst.Status != StatusRunning {
			hint = "wait until it settles, then retry"
		}
		return refuse(ReasonInstanceNotStopped, "instance %s is %s; it must be stopped (%s)", inst.InstanceID, inst.Status, hint)
	}
	return nil
}

// checkGeneration applies the three generation rules. When the current type's
// generation cannot be known and a rule applies, it refuses: guessing wrong
// would send a call JD Cloud refuses at best.
func checkGeneration(p *Plan) *Error {
	inst, target, to := p.Instance, p.TargetType, p.Target
	var rule string
	switch {
	case inst.SystemDisk.Category == DiskLocal:
		rule = "its system disk is local"
	case inst.AGID != "":
		rule = fmt.Sprintf("it is in availability group %s", inst.AGID)
	case inst.SystemDisk.Category == DiskCloud && inst.SystemDisk.CreateTime.Year() == 2016:
		if p.CurrentType != nil && !isGen1And2(p.CurrentType.Generation, target.Generation) {
			return nil
		}
		rule = "its cloud system disk was created in 2016 (no change between first and second generation)"
	default:
		return nil
	}
	if p.CurrentType == nil {
		return Errorf(CodePreconditionFailed, ReasonGenerationChangeNotAllowed,
			"instance %s cannot change generation because %s, and the generation of its current type %s is unknown", inst.InstanceID, rule, inst.InstanceType)
	}
	if p.CurrentType.Generation != target.Generation {
		return Errorf(CodePreconditionFailed, ReasonGenerationChangeNotAllowed,
			"instance %s cannot change from generation %d (%s) to %d (%s) because %s", inst.InstanceID, p.CurrentType.Generation, inst.InstanceType, target.Generation, to, rule)
	}
	return nil
}

func isGen1And2(a, b int) bool { return (a == 1 && b == 2) || (a == 2 && b == 1) }

func cloudDisks(inst *Instance) int {
	n := 0
	if inst.SystemDisk.Category == DiskCloud {
		n++
	}
	for _, d := range inst.DataDisks {
		if d.Category == DiskCloud {
			n++
		}
	}
	return n
}

func hasLocalDataDisk(inst *Instance) bool {
	for _, d := range inst.DataDisks {
		if d.Category == DiskLocal {
			return true
		}
	}
	return false
}
