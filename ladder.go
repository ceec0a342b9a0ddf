package resizer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// A ladder is the run of instance types one relative request climbs
// (docs/contract.md §6): the region's types that share the current type's
// name prefix before the last '.', that ALLOWED_INSTANCE_TYPES allows,
// ordered by vCPU, then memory, then name. Stock does not shape it.

// ladderPrefix is a type's family as its name spells it: g.n2 of
// g.n2.large. A name without a '.' has no ladder.
func ladderPrefix(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return ""
	}
	return name[:i]
}

// sizeOrder orders types as the ladder does.
func sizeOrder(a, b *InstanceType) int {
	return cmp.Or(cmp.Compare(a.CPU, b.CPU), cmp.Compare(a.MemoryMB, b.MemoryMB), strings.Compare(a.Name, b.Name))
}

// ladderOf picks current's ladder out of the region's types.
func ladderOf(types []InstanceType, current string, allows func(string) bool) []*InstanceType {
	prefix := ladderPrefix(current)
	var l []*InstanceType
	for i := range types {
		t := &types[i]
		if prefix != "" && ladderPrefix(t.Name) == prefix && allows(t.Name) {
			l = append(l, t)
		}
	}
	slices.SortFunc(l, sizeOrder)
	return l
}

// climb resolves a relative request on its ladder: the rung req.Steps above
// (up) or below (down) current, stopped short at the ladder's end or at a
// bound, and strictly beyond current. types is the region's whole list (for
// the bounds, which may lie on another ladder).
func climb(req Request, current string, ladder []*InstanceType, types []InstanceType) (*InstanceType, *Error) {
	at := slices.IndexFunc(ladder, func(t *InstanceType) bool { return t.Name == current })
	if at < 0 {
		return nil, Errorf(CodePreconditionFailed, ReasonSizeLimitReached,
			"instance %s is %s, which is not on a ladder in %s that ALLOWED_INSTANCE_TYPES allows (%s); name the target with instanceType instead",
			req.InstanceID, current, req.RegionID, rungNames(ladder))
	}
	step, bound, boundName := 1, (*InstanceType)(nil), req.MaxInstanceType
	if req.Direction == DirectionDown {
		step, boundName = -1, req.MinInstanceType
	}
	if boundName != "" {
		i := slices.IndexFunc(types, func(t InstanceType) bool { return t.Name == boundName })
		if i < 0 {
			field := "maxInstanceType"
			if step < 0 {
				field = "minInstanceType"
			}
			return nil, Errorf(CodePreconditionFailed, ReasonSizeLimitReached,
				"%s %s is not an instance type of %s, so the bound cannot be placed on the ladder of %s", field, boundName, req.RegionID, current)
		}
		bound = &types[i]
	}
	var target *InstanceType
	limit := "it is the largest type of its ladder"
	if step < 0 {
		limit = "it is the smallest type of its ladder"
	}
	for i, n := at+step, 0; n < req.Steps; i, n = i+step, n+1 {
		if i < 0 || i >= len(ladder) {
			break
		}
		if bound != nil && sizeOrder(ladder[i], bound)*step > 0 {
			limit = fmt.Sprintf("the next type, %s, is beyond the bound %s", ladder[i].Name, bound.Name)
			break
		}
		target = ladder[i]
	}
	if target == nil {
		return nil, Errorf(CodePreconditionFailed, ReasonSizeLimitReached,
			"instance %s cannot go %s from %s: %s (ladder %s); nothing was changed",
			req.InstanceID, req.Direction, current, limit, rungNames(ladder))
	}
	return target, nil
}

func rungNames(l []*InstanceType) string {
	if len(l) == 0 {
		return "empty"
	}
	names := make([]string, len(l))
	for i, t := range l {
		names[i] = t.Name
	}
	return strings.Join(names, " < ")
}
