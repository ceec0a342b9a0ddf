package trigger

import (
	"fmt"
	"net/http"

	"github.com/jdcloud-vm-resizer/resizer"
)

// RetryError is the Lambda error of a delivery whose sender should try
// again. Its outcome event was published before it was returned, so a
// retry never races its own failed event.
type RetryError struct {
	Code    resizer.Code
	Message string
}

func (e *RetryError) Error() string { return string(e.Code) + ": " + e.Message }

// retryError returns the Lambda error for the first retryable outcome, nil
// when none is. A publish failure carries no detail here: the sink's error
// is in the log, and its text is not the sender's business.
func retryError(outs []resizer.Outcome) error {
	for i := range outs {
		o := &outs[i]
		if !o.Retryable() {
			continue
		}
		if e := o.Err(); e != nil && e.Retryable {
			return &RetryError{Code: e.Code, Message: e.Message}
		}
		return &RetryError{Code: resizer.CodeUnavailable, Message: "the outcome event did not reach every sink"}
	}
	return nil
}

// statusOf maps one outcome to its HTTP status (docs/contract.md §4): only a
// retryable outcome and an invalid request are not 200; a request refused
// by policy or by JD Cloud was still understood and answered.
func statusOf(o *resizer.Outcome) int {
	switch {
	case o.Retryable():
		return http.StatusServiceUnavailable
	case o.Err() != nil && o.Err().Code == resizer.CodeInvalidRequest:
		return http.StatusBadRequest
	default:
		return http.StatusOK
	}
}

// batchStatus: 503 if any outcome is retryable (the sender must resend),
// else 400 if no event was usable, else 200.
func batchStatus(outs []resizer.Outcome) int {
	allInvalid := true
	for i := range outs {
		switch statusOf(&outs[i]) {
		case http.StatusServiceUnavailable:
			return http.StatusServiceUnavailable
		case http.StatusOK:
			allInvalid = false
		}
	}
	if allInvalid {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// eventsJSON writes outcome events as they were encoded, once: one object,
// or an array when array.
func eventsJSON(outs []resizer.Outcome, array bool) ([]byte, error) {
	for i := range outs {
		if outs[i].Event.JSON == nil {
			return nil, fmt.Errorf("the outcome event %d could not be encoded", i)
		}
	}
	if !array {
		return outs[0].Event.JSON, nil
	}
	n := 2
	for i := range outs {
		n += len(outs[i].Event.JSON) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i := range outs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, outs[i].Event.JSON...)
	}
	return append(b, ']'), nil
}
