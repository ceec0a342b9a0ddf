package main

import (
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// fleetConfig is docs/contract.md §8 and §9: approvals and fleet safety.
type fleetConfig struct {
	MaxConcurrent    int
	MaxPerWindow     int
	MaxFailures      int
	FleetWindow      time.Duration
	Windows          *resizer.Schedule
	ApprovalRequired []string
	Approvers        []string
	ApprovalTTL      time.Duration
}

func (c *config) readFleet(e *env) {
	f := &c.Fleet
	const big = 1_000_000
	e.integer("MAX_CONCURRENT_RESIZES", 0, 0, big, &f.MaxConcurrent)
	e.integer("MAX_RESIZES_PER_WINDOW", 0, 0, big, &f.MaxPerWindow)
	e.integer("MAX_FAILURES_PER_WINDOW", 0, 0, big, &f.MaxFailures)
	e.duration("FLEET_WINDOW", resizer.DefaultFleetWindow, true, &f.FleetWindow)
	if f.FleetWindow%time.Second != 0 {
		e.fail("FLEET_WINDOW", "want whole seconds, got %s", f.FleetWindow)
	}
	s, err := resizer.ParseSchedule(e.getenv("RESIZE_WINDOWS"), e.getenv("RESIZE_WINDOWS_TZ"))
	if err != nil {
		e.errs = append(e.errs, err.Error())
	}
	f.Windows = s
	f.ApprovalRequired = resizer.ParsePolicyList(e.getenv("APPROVAL_REQUIRED_SOURCES"))
	f.Approvers = resizer.DefaultApprovers
	if v := e.getenv("APPROVER_SOURCES"); v != "" {
		f.Approvers = resizer.ParsePolicyList(v)
	}
	e.duration("APPROVAL_TTL", resizer.DefaultApprovalTTL, true, &f.ApprovalTTL)
}

// apply puts the settings into the handler's options.
func (f fleetConfig) apply(o *resizer.Options) {
	o.MaxConcurrent, o.MaxPerWindow, o.MaxFailures, o.FleetWindow = f.MaxConcurrent, f.MaxPerWindow, f.MaxFailures, f.FleetWindow
	o.Windows = f.Windows
	o.ApprovalRequired, o.Approvers, o.ApprovalTTL = f.ApprovalRequired, f.Approvers, f.ApprovalTTL
}
