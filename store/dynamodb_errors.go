package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jdcloud-vm-resizer/resizer"
)

// apiError is what smithy's API errors offer, named here so the store does
// not import smithy-go for two methods.
type apiError interface {
	ErrorCode() string
	ErrorMessage() string
}

func isConditionFailed(err error) bool {
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &failed)
}

// fail maps a failed DynamoDB call to the contract. Every such failure is
// retryable: the request has not run, so a later delivery is safe, and that
// holds for a missing table or a denied role too: an operator fixes those
// and redelivered requests then succeed, where a permanent verdict would
// drop them. A passed deadline is timeout; anything else (throttling, 5xx,
// network, configuration) is unavailable. The message names the table and
// the operation and quotes the key (request keys hold a NUL separator). AWS
// error messages carry no credentials, and the SDK's own error text names
// only the operation, the endpoint and the cause.
func (d *DynamoDB) fail(op, id string, err error) *resizer.Error {
	code := resizer.CodeUnavailable
	if errors.Is(err, context.DeadlineExceeded) {
		code = resizer.CodeTimeout
	}
	cause := err.Error()
	var api apiError
	if errors.As(err, &api) {
		cause = api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return &resizer.Error{
		Code:    code,
		Message: fmt.Sprintf("DynamoDB table %q: %s %q: %s", d.table, op, id, cause),
		Err:     err,
	}
}
