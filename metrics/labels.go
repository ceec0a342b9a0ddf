package metrics

import (
	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// The Outcome dimension (EMF) and outcome label (Prometheus): the outcome
// event's type without its prefix.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomePending   = "pending"
)

// The Reason values that are not an error's reason or code.
const (
	// ReasonResized: no error, and the instance's type changed.
	ReasonResized = "resized"
	// ReasonUnchanged: no error and no change: already at the target type,
	// or held for approval (pending).
	ReasonUnchanged = "unchanged"
	// ReasonDryRun: a dry run that passed every check.
	ReasonDryRun = "dry_run"
	// ReasonReplay: a redelivery that republished the stored outcome.
	ReasonReplay = "replay"
	// ReasonOther stands for any reason or code this package does not
	// know, so that no value from outside the allow-list reaches a metric.
	ReasonOther = "other"
)

// Labels returns the Outcome and Reason of a delivery's outcome, each from
// a bounded set, so that no instance id, request id or free text ever
// becomes a dimension or a label:
//   - outcome: succeeded, failed or pending, from the event type (a type
//     this package does not know counts as failed when the outcome carries
//     an error, else as succeeded);
//   - reason: replay for a redelivery; else the error's reason, or its code
//     when it has none; else dry_run, resized or unchanged. A reason or
//     code outside the contract's (knownReason) is other.
func Labels(o *resizer.Outcome) (outcome, reason string) {
	switch o.Event.Type {
	case resizer.TypeSucceeded:
		outcome = OutcomeSucceeded
	case resizer.TypeFailed:
		outcome = OutcomeFailed
	case resizer.TypePending:
		outcome = OutcomePending
	default:
		outcome = OutcomeSucceeded
		if o.Data.Error != nil {
			outcome = OutcomeFailed
		}
	}
	return outcome, reasonOf(o)
}

func reasonOf(o *resizer.Outcome) string {
	if o.Replay {
		return ReasonReplay
	}
	if e := o.Data.Error; e != nil {
		r := e.Reason
		if r == "" {
			r = string(e.Code)
		}
		if !knownReason(r) {
			return ReasonOther
		}
		return r
	}
	switch {
	case o.Data.DryRun:
		return ReasonDryRun
	case o.Data.Changed:
		return ReasonResized
	default:
		return ReasonUnchanged
	}
}

// knownReason is the allow-list: the error codes and reasons of
// docs/contract.md §3, §5 (in_progress) and §11, by the root package's own
// constants, so that a reason added there without being added here shows up
// as other on the dashboard, never as a new unbounded value. A switch rather
// than a map, so that the package costs nothing at init.
func knownReason(r string) bool {
	switch resizer.Code(r) {
	case resizer.CodeInvalidRequest, resizer.CodePolicyDenied, resizer.CodePreconditionFailed,
		resizer.CodeNotFound, resizer.CodeAuthFailed, resizer.CodeAPIError,
		resizer.CodeUnavailable, resizer.CodeTimeout:
		return true
	}
	switch r {
	// policy_denied (§3, §6, §8, §9).
	case resizer.ReasonTypeNotAllowed, resizer.ReasonSourceNotAllowed, resizer.ReasonForceNotAllowed,
		resizer.ReasonStopNotAllowed, resizer.ReasonCooldownActive, resizer.ReasonDirectionNotAllowed,
		resizer.ReasonApprovalRejected, resizer.ReasonApprovalExpired, resizer.ReasonApproverNotAllowed,
		resizer.ReasonFleetLimitReached, resizer.ReasonCircuitOpen, resizer.ReasonOutsideWindow:
		return true
	// precondition_failed (§3, §6).
	case resizer.ReasonInstanceNotStopped, resizer.ReasonUnexpectedCurrentType,
		resizer.ReasonGenerationChangeNotAllowed, resizer.ReasonNICLimitExceeded,
		resizer.ReasonDiskLimitExceeded, resizer.ReasonImageNotSupported, resizer.ReasonInstanceInArrears,
		resizer.ReasonInstanceTypeUnavailable, resizer.ReasonLocalDataDiskRequiresForce,
		resizer.ReasonSizeLimitReached:
		return true
	// not_found (§8), unavailable (§5, §9).
	case resizer.ReasonApprovalNotFound, resizer.ReasonInProgress, resizer.ReasonInstanceBusy,
		resizer.ReasonFleetBusy:
		return true
	}
	return false
}
