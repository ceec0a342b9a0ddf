package resizer

import (
	"fmt"
	"path"
	"strings"
)

// Policy holds the operator's guardrails (CONTRACT §2). It is checked before
// any JD Cloud call; the zero Policy allows any type and source and refuses
// force and stopIfRunning, which is the safe default.
type Policy struct {
	AllowedInstanceTypes []string // globs; empty allows any
	AllowedSources       []string // prefixes; empty allows any
	AllowForce           bool
	AllowStop            bool
}

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
	for _, g := range p.AllowedInstanceTypes {
		if _, err := path.Match(g, "g.n2.large"); err != nil {
			return fmt.Errorf("ALLOWED_INSTANCE_TYPES: bad pattern %q: %v", g, err)
		}
	}
	return nil
}

// Check returns policy_denied with its reason, or nil.
func (p Policy) Check(r Request) *Error {
	if len(p.AllowedSources) > 0 && !hasAnyPrefix(r.Source, p.AllowedSources) {
		return Errorf(CodePolicyDenied, ReasonSourceNotAllowed,
			"source %s is not in ALLOWED_SOURCES", Quote(r.Source))
	}
	if len(p.AllowedInstanceTypes) > 0 && !matchesAny(r.InstanceType, p.AllowedInstanceTypes) {
		return Errorf(CodePolicyDenied, ReasonTypeNotAllowed,
			"instance type %s is not allowed by ALLOWED_INSTANCE_TYPES (%s)", r.InstanceType, strings.Join(p.AllowedInstanceTypes, ","))
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

// String summarises the effective policy for the start-up log line.
func (p Policy) String() string {
	any := func(l []string) string {
		if len(l) == 0 {
			return "any"
		}
		return strings.Join(l, ",")
	}
	return fmt.Sprintf("types=%s sources=%s force=%t stop=%t", any(p.AllowedInstanceTypes), any(p.AllowedSources), p.AllowForce, p.AllowStop)
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
