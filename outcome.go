package resizer

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
)

// maxEchoBytes bounds request attributes echoed into an outcome: a request
// that failed validation may carry megabytes in its id.
const maxEchoBytes = 256

// newOutcomeEvent builds the outcome CloudEvent (CONTRACT §3): fresh id,
// source RESULT_SOURCE, subject the instance id (only once validated),
// traceparent copied.
func (h *Handler) newOutcomeEvent(data *OutcomeData, err *Error, subject, traceparent string) (event.Event, error) {
	if err != nil {
		data.Error = &ErrorData{Code: err.Code, Reason: err.Reason, Message: err.Message, Status: err.Status, Retryable: err.Retryable()}
	}
	e := event.New()
	e.SetID(h.newID())
	e.SetSource(h.source())
	e.SetTime(h.now().UTC())
	if err != nil {
		e.SetType(TypeFailed)
	} else {
		e.SetType(TypeSucceeded)
	}
	if subject != "" {
		e.SetSubject(subject)
	}
	if traceparent != "" {
		e.SetExtension("traceparent", traceparent)
	}
	if encErr := e.SetData(event.ApplicationJSON, data); encErr != nil {
		return e, encErr
	}
	return e, nil
}

// outcomeFromStored rebuilds an Outcome from a stored outcome event, for a
// redelivery that republishes instead of running again.
func outcomeFromStored(raw []byte) (Outcome, error) {
	var o Outcome
	if err := json.Unmarshal(raw, &o.Event); err != nil {
		return o, err
	}
	if err := json.Unmarshal(o.Event.Data(), &o.Data); err != nil {
		return o, err
	}
	if d := o.Data.Error; d != nil {
		o.Err = &Error{Code: d.Code, Reason: d.Reason, Message: d.Message, Status: d.Status}
	}
	return o, nil
}

// clip shortens an untrusted string to at most n bytes of valid UTF-8.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
