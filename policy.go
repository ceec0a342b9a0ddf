package resizer

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Policy holds the operator's guardrails (README "Safety"). The zero Policy
// allows any type and source and refuses force and stopIfRunning, which is
// the safe default. It is a RequestGuard (source, force, stop, and the type
// a request names) and a PlanGuard (the type a request resolved to).
type Policy struct {
	AllowedInstanceTypes []string // globs; empty allows any
	AllowedSources       []string // prefixes; empty allows any
	// AllowedDirections is ALLOWED_DIRECTIONS: up, down; empty allows both.
	AllowedDirections []string
	AllowForce        bool
	AllowStop         bool
}

var (
	_ RequestGuard = Policy{}
	_ PlanGuard    = Policy{}
)

// ParsePolicyList splits a comma-separated setting, dropping blanks.
func ParsePolicyList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate reports a malformed glob, so that a typo stops the start instead
// of refusing every request at 3 a.m.
func (p Policy) Validate() error {
	for _, d := range p.AllowedDirections {
		if d != DirectionUp && d != DirectionDown {
			return fmt.Errorf("ALLOWED_DIRECTIONS: %q is neither %q nor %q", d, DirectionUp, DirectionDown)
		}
	}
	for _, g := range p.AllowedInstanceTypes {
		if _, err := path.Match(g, "g.n2.large"); err != nil {
			return fmt.Errorf("ALLOWED_INSTANCE_TYPES: bad pattern %q: %v", g, err)
		}
	}
	return nil
}

// CheckRequest refuses with policy_denied and its reason, or returns nil.
func (p Policy) CheckRequest(r Request) *Error {
	if len(p.AllowedSources) > 0 && !hasAnyPrefix(r.Source, p.AllowedSources) {
		return Errorf(CodePolicyDenied, ReasonSourceNotAllowed,
			"source %s is not in ALLOWED_SOURCES", Quote(r.Source))
	}
	if err := p.checkType(r.InstanceType); err != nil {
		return err
	}
	if r.Relative() && !p.allowsDirection(r.Direction) {
		return p.directionDenied("the request asks to go " + r.Direction)
	}
	if r.Force && !p.AllowForce {
		return Errorf(CodePolicyDenied, ReasonForceNotAllowed,
			"force wipes local data disks and is refused unless ALLOW_FORCE=true")
	}
	if r.StopIfRunning && !p.AllowStop {
		return Errorf(CodePolicyDenied, ReasonStopNotAllowed,
			"stopIfRunning stops the instance and is refused unless ALLOW_STOP=true")
	}
	return nil
}

// CheckPlan holds the resolved target to ALLOWED_INSTANCE_TYPES and its
// direction to ALLOWED_DIRECTIONS.
func (p Policy) CheckPlan(pl *Plan) *Error {
	if err := p.checkType(pl.Target); err != nil {
		return err
	}
	if len(p.AllowedDirections) == 0 || len(p.AllowedDirections) == 2 {
		return nil
	}
	from, to := pl.CurrentType, pl.TargetType
	switch {
	case to == nil:
		return nil // CheckResize refuses a target the region does not list
	case from == nil:
		return p.directionDenied(fmt.Sprintf("%s is not listed in %s, so whether %s → %s is up or down cannot be told",
			pl.Instance.InstanceType, pl.Request.RegionID, pl.Instance.InstanceType, pl.Target))
	}
	if d := directionOf(from, to); d != "" && !p.allowsDirection(d) {
		return p.directionDenied(fmt.Sprintf("%s (%d vCPU, %d MB) → %s (%d vCPU, %d MB) is %s", from.Name, from.CPU, from.MemoryMB, to.Name, to.CPU, to.MemoryMB, d))
	}
	return nil
}

// directionOf: fewer vCPUs, or as many and less memory, is down; more is
// up; the same size is neither.
func directionOf(from, to *InstanceType) string {
	switch c := cmp.Or(cmp.Compare(to.CPU, from.CPU), cmp.Compare(to.MemoryMB, from.MemoryMB)); {
	case c < 0:
		return DirectionDown
	case c > 0:
		return DirectionUp
	}
	return ""
}

func (p Policy) allowsDirection(d string) bool {
	return len(p.AllowedDirections) == 0 || slices.Contains(p.AllowedDirections, d)
}

func (p Policy) directionDenied(why string) *Error {
	return Errorf(CodePolicyDenied, ReasonDirectionNotAllowed,
		"%s, and ALLOWED_DIRECTIONS=%s", why, strings.Join(p.AllowedDirections, ","))
}

// AllowsType says whether ALLOWED_INSTANCE_TYPES lets a request resize to t.
func (p Policy) AllowsType(t string) bool {
	return len(p.AllowedInstanceTypes) == 0 || matchesAny(t, p.AllowedInstanceTypes)
}

func (p Policy) checkType(t string) *Error {
	if t == "" || p.AllowsType(t) {
		return nil
	}
	return Errorf(CodePolicyDenied, ReasonTypeNotAllowed,
		"instance type %s is not allowed by ALLOWED_INSTANCE_TYPES (%s)", t, strings.Join(p.AllowedInstanceTypes, ","))
}

// String summarises the effective policy for the start-up log line.
func (p Policy) String() string {
	any := func(l []string) string {
		if len(l) == 0 {
			return "any"
		}
		return strings.Join(l, ",")
	}
	return fmt.Sprintf("types=%s sources=%s directions=%s force=%t stop=%t", any(p.AllowedInstanceTypes), any(p.AllowedSources), any(p.AllowedDirections), p.AllowForce, p.AllowStop)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func matchesAny(s string, globs []string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}
