package webhook

import (
	"strconv"

	"github.com/jdcloud-vm-resizer/resizer"
)

// value is one request field as a foreign payload gave it, together with
// the name its sender knows it by, for messages: `label "resize_to"`,
// `resize.steps`, `customfield_10052 (instanceType)`.
type value struct {
	v    string // "" means absent
	name string
}

func (v value) set() bool { return v.v != "" }

// spec is one item's request before validation: every decoder fills it
// from its payload and build applies docs/contract.md §3 and §6 to it, so that the
// three routes refuse exactly the same values with the same words.
type spec struct {
	who string // names the item: `alert "HighCPU" (fingerprint "…")`

	instanceID, regionID value
	defaultRegion        string // used when regionID is absent

	instanceType, direction, steps, maxType, minType, fromType value
	dryRun, stopIfRunning, force                               value

	reason, requestedBy string
}

// Steps of docs/contract.md §6.
const minSteps, maxSteps = 1, 8

// build validates the spec and returns the request data. The first rule
// broken is the one reported, in a fixed order (instance, region, target,
// bounds, flags), so one payload always yields one message.
func (s *spec) build() (requestData, *resizer.Error) {
	d := requestData{Reason: freeText(s.reason), RequestedBy: freeText(s.requestedBy)}
	bad := func(v value, rule string) *resizer.Error {
		return invalid("%s: %s %s %s", s.who, v.name, resizer.Quote(v.v), rule)
	}

	switch v := s.instanceID; {
	case !v.set():
		return d, invalid("%s: %s is missing; it names the JD Cloud instance to resize", s.who, v.name)
	case !resizer.ValidInstanceID(v.v):
		return d, bad(v, "is not an instance id (i- followed by 6 to 32 of [0-9a-z])")
	}
	d.InstanceID = s.instanceID.v

	switch v := s.regionID; {
	case v.set() && !resizer.ValidRegionID(v.v):
		return d, bad(v, "is not a region id (e.g. cn-north-1)")
	case v.set():
		d.RegionID = v.v
	case s.defaultRegion == "":
		return d, invalid("%s: %s is missing and DEFAULT_REGION is not set", s.who, v.name)
	case !resizer.ValidRegionID(s.defaultRegion):
		return d, invalid("%s: %s is missing and DEFAULT_REGION %s is not a region id", s.who, v.name, resizer.Quote(s.defaultRegion))
	default:
		d.RegionID = s.defaultRegion
	}

	switch {
	case s.instanceType.set() && s.direction.set():
		return d, invalid("%s: both %s and %s are set; exactly one of them must name the target", s.who, s.instanceType.name, s.direction.name)
	case !s.instanceType.set() && !s.direction.set():
		return d, invalid("%s: neither %s nor %s is set; exactly one of them must name the target", s.who, s.instanceType.name, s.direction.name)
	case s.instanceType.set():
		if !resizer.ValidInstanceType(s.instanceType.v) {
			return d, bad(s.instanceType, "is not an instance type (e.g. g.n2.large)")
		}
		for _, v := range []value{s.steps, s.maxType, s.minType} {
			if v.set() {
				return d, invalid("%s: %s is set without %s; it only bounds a relative resize", s.who, v.name, s.direction.name)
			}
		}
		d.InstanceType = s.instanceType.v
	default:
		if s.direction.v != "up" && s.direction.v != "down" {
			return d, bad(s.direction, "must be up or down")
		}
		d.Direction = s.direction.v
		if s.steps.set() {
			n, ok := parseSteps(s.steps.v)
			if !ok {
				return d, bad(s.steps, "must be an integer from 1 to 8")
			}
			d.Steps = n
		}
		for _, b := range []struct {
			v   value
			dst *string
		}{{s.maxType, &d.MaxInstanceType}, {s.minType, &d.MinInstanceType}} {
			if !b.v.set() {
				continue
			}
			if !resizer.ValidInstanceType(b.v.v) {
				return d, bad(b.v, "is not an instance type (e.g. g.n2.4xlarge)")
			}
			*b.dst = b.v.v
		}
	}

	if v := s.fromType; v.set() {
		if !resizer.ValidInstanceType(v.v) {
			return d, bad(v, "is not an instance type (e.g. g.n2.medium)")
		}
		d.FromInstanceType = v.v
	}

	for _, f := range []struct {
		v   value
		dst *bool
	}{{s.dryRun, &d.DryRun}, {s.stopIfRunning, &d.StopIfRunning}, {s.force, &d.Force}} {
		switch f.v.v {
		case "", "false":
		case "true":
			*f.dst = true
		default:
			return d, bad(f.v, "must be true or false")
		}
	}
	return d, nil
}

// parseSteps accepts a decimal integer from 1 to 8, written with digits
// only: "2.5", "1e9", "+2" and "0x2" are mistakes to report, not to round.
func parseSteps(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < minSteps || n > maxSteps {
		return 0, false
	}
	return n, true
}
