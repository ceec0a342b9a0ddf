package resizer

import (
	"context"
	"errors"
	"fmt"
)

// Code is one of the contract's machine-readable error codes (docs/contract.md
// §3). Every layer maps to it: the outcome event's error.code, the HTTP status
// of the webhook answer, whether a delivery is retried.
type Code string

// The contract's error codes.
const (
	CodeInvalidRequest     Code = "invalid_request"
	CodePolicyDenied       Code = "policy_denied"
	CodePreconditionFailed Code = "precondition_failed"
	CodeNotFound           Code = "not_found"
	CodeAuthFailed         Code = "auth_failed"
	CodeAPIError           Code = "api_error"
	CodeUnavailable        Code = "unavailable"
	CodeTimeout            Code = "timeout"
)

// Reasons refine a code where an operator benefits from the detail.
const (
	ReasonTypeNotAllowed   = "type_not_allowed"
	ReasonSourceNotAllowed = "source_not_allowed"
	ReasonForceNotAllowed  = "force_not_allowed"
	ReasonStopNotAllowed   = "stop_not_allowed"
	ReasonCooldownActive   = "cooldown_active"

	ReasonInstanceNotStopped         = "instance_not_stopped"
	ReasonUnexpectedCurrentType      = "unexpected_current_type"
	ReasonGenerationChangeNotAllowed = "generation_change_not_allowed"
	ReasonNICLimitExceeded           = "nic_limit_exceeded"
	ReasonDiskLimitExceeded          = "disk_limit_exceeded"
	ReasonImageNotSupported          = "image_not_supported"
	ReasonInstanceInArrears          = "instance_in_arrears"
	ReasonInstanceTypeUnavailable    = "instance_type_unavailable"
	ReasonLocalDataDiskRequiresForce = "local_data_disk_requires_force"

	// ReasonInProgress: a second concurrent delivery of one request answers
	// unavailable (retryable) while the first one runs.
	ReasonInProgress = "in_progress"

	// Part two (docs/contract.md §11).
	ReasonSizeLimitReached    = "size_limit_reached"
	ReasonDirectionNotAllowed = "direction_not_allowed"
	ReasonApprovalRejected    = "approval_rejected"
	ReasonApprovalExpired     = "approval_expired"
	ReasonApproverNotAllowed  = "approver_not_allowed"
	ReasonApprovalNotFound    = "approval_not_found"
	ReasonInstanceBusy        = "instance_busy"
	ReasonFleetBusy           = "fleet_busy"
	ReasonFleetLimitReached   = "fleet_limit_reached"
	ReasonCircuitOpen         = "circuit_open"
	ReasonOutsideWindow       = "outside_window"
)

// Error is the product's one error type. It is born with its Code where the
// failure is first understood (validation, a JD Cloud answer, the policy) and
// nothing downstream re-parses messages.
type Error struct {
	Code    Code
	Reason  string // optional refinement, e.g. instance_not_stopped
	Message string // for people; never contains secrets
	Status  int    // HTTP status of the JD Cloud answer, when there was one
	Err     error  // the underlying error, if any
	// Ambiguous marks a failed state-changing call of which an attempt met
	// a 5xx, a dropped connection or the deadline after it was sent: JD
	// Cloud may have carried it out all the same.
	Ambiguous bool
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Reason, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable says whether a later delivery of the same request may succeed.
func (e *Error) Retryable() bool { return e.Code.Retryable() }

// Retryable says whether errors of this code may succeed on a later try.
func (c Code) Retryable() bool { return c == CodeUnavailable || c == CodeTimeout }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorFrom gives any error its contract code; it is the one place an error
// of unknown origin is judged. An *Error anywhere in err's chain is kept as
// it is. Otherwise a passed deadline (of ctx, or in the chain; a shutdown's
// drain ends a context with that cause too) is a timeout; anything else, a cancellation included, is unavailable: failing safe means trying again
// rather than a permanent verdict nobody can justify. what names the
// dependency that failed ("idempotency store", "jdcloud describeInstance").
func ErrorFrom(ctx context.Context, what string, err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	msg := err.Error()
	if what != "" {
		msg = what + ": " + msg
	}
	code := CodeUnavailable
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		code = CodeTimeout
	}
	return &Error{Code: code, Message: msg, Err: err}
}

// ErrorCode returns the contract code of err ("" for nil).
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	return ErrorFrom(context.Background(), "", err).Code
}
