package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
)

// PutEventsAPI is the part of *eventbridge.Client the EventBridge sink uses.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// EventBridge puts outcome events on an EventBridge bus, one PutEvents entry
// per event: Source is RESULT_SOURCE, DetailType the CloudEvent type, Detail
// the whole structured CloudEvent, so rules can match on either and targets
// still receive a CloudEvent.
type EventBridge struct {
	api    PutEventsAPI
	bus    string
	source string
	name   string
	retry  backoff.Policy
}

var _ resizer.Publisher = (*EventBridge)(nil)

// NewEventBridge returns a sink putting events on bus (a name or an ARN)
// with the given source (empty means resizer.DefaultSource). The zero retry
// Policy means backoff.Default.
func NewEventBridge(api PutEventsAPI, bus, source string, retry backoff.Policy) *EventBridge {
	if source == "" {
		source = resizer.DefaultSource
	}
	if retry == (backoff.Policy{}) {
		retry = backoff.Default
	}
	return &EventBridge{api: api, bus: bus, source: source, name: "eventbridge sink " + bus, retry: retry}
}

// String names the sink as its errors do.
func (b *EventBridge) String() string { return b.name }

// singleAttempt turns off the SDK's own retries for our calls, whatever the
// client was built with: we retry ourselves with internal/backoff, and
// retries in both layers would multiply (3 SDK attempts × 4 of ours) and
// ignore our deadline budget.
func singleAttempt(o *eventbridge.Options) { o.RetryMaxAttempts = 1 }

// Publish puts e on the bus, retrying throttling, 5xx, network errors and
// entries that failed with a transient error code. Its error is a
// *resizer.Error with code unavailable, like the HTTP sink's.
func (b *EventBridge) Publish(ctx context.Context, e resizer.OutcomeEvent) error {
	if len(e.JSON) == 0 {
		return failure(b.name, errors.New("invalid event: the outcome event has no encoding"), 0)
	}
	entry := types.PutEventsRequestEntry{
		EventBusName: aws.String(b.bus),
		Source:       aws.String(b.source),
		DetailType:   aws.String(e.Type),
		Detail:       aws.String(string(e.JSON)),
	}
	if t := e.Time; !t.IsZero() {
		entry.Time = aws.Time(t)
	}
	in := &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}}

	n := 0
	err := backoff.Retry(ctx, b.retry, func(ctx context.Context) (bool, time.Duration, error) {
		n++
		out, err := b.api.PutEvents(ctx, in, singleAttempt)
		if err != nil {
			return retryableAPIError(err), 0, apiError(err)
		}
		return entryResult(out)
	})
	if err != nil {
		return failure(b.name, err, n)
	}
	return nil
}

// retryableAPIError classifies a failed call the way the SDK's standard
// retryer would: throttling codes, 500/502/503/504, connection errors and
// timeouts are transient; a cancelled request and anything else
// (ValidationException, AccessDenied, ResourceNotFound …) are not.
func retryableAPIError(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// apiError shortens a modeled AWS error to "Code: message"; the SDK's own
// text repeats the operation and request id around it.
func apiError(err error) error {
	// smithy.APIError's methods, named here so smithy-go stays an indirect
	// dependency.
	var ae interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if errors.As(err, &ae) {
		return &wrapped{msg: fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage()), err: err}
	}
	return err
}

// entryResult reads a PutEvents answer of one entry: a call can succeed
// while its entry failed.
func entryResult(out *eventbridge.PutEventsOutput) (bool, time.Duration, error) {
	if out == nil || out.FailedEntryCount == 0 {
		return false, 0, nil
	}
	var code, msg string
	if len(out.Entries) > 0 {
		code = aws.ToString(out.Entries[0].ErrorCode)
		msg = aws.ToString(out.Entries[0].ErrorMessage)
	}
	err := fmt.Errorf("entry failed: %s: %s", code, msg)
	return retryableEntryCode(code), 0, err
}

// retryableEntryCode says whether an entry that failed with code may be put
// again. EventBridge documents InternalFailure and ThrottlingException as
// the transient ones; MalformedDetail, InvalidArgument, AccessDenied and
// the like would fail the same way again. An empty code on a failed entry
// tells nothing, and an outcome that is lost costs more than a duplicate.
func retryableEntryCode(code string) bool {
	if code == "" || code == "InternalFailure" || code == "InternalException" {
		return true
	}
	_, throttled := retry.DefaultThrottleErrorCodes[code]
	return throttled
}

// wrapped gives err a shorter message while keeping it in the chain.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
