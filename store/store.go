// Package store keeps the resizer's idempotency records and cooldown marks:
// Memory for one process, DynamoDB for every copy of the function at once.
// Both implement resizer.Store with the same semantics, checked by one
// behaviour suite (storetest.Run).
//
// Both stores hold requests and cooldown marks in one key space, told apart
// by a prefix, because the contract gives them one DynamoDB table.
package store

import (
	"context"
	"errors"

	"github.com/jdcloud-vm-resizer/resizer"
)

// Key prefixes of the table layout (CONTRACT §2).
const (
	requestPrefix  = "req#"
	cooldownPrefix = "cooldown#"
)

// ctxError turns a finished context into the contract's code: a deadline is
// a timeout, a cancellation is unavailable; both are retryable because the
// store was not consulted and nothing ran.
func ctxError(err error, what string) *resizer.Error {
	code := resizer.CodeUnavailable
	if errors.Is(err, context.DeadlineExceeded) {
		code = resizer.CodeTimeout
	}
	return &resizer.Error{Code: code, Message: what + ": " + err.Error(), Err: err}
}
