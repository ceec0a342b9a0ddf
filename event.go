package resizer

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// The outcome event: its data, and its one encoding.

// RequestRef names the request an outcome answers.
type RequestRef struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Type   string `json:"type"`
}

// ErrorData is the error member of a failed outcome's data.
type ErrorData struct {
	Code      Code   `json:"code"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message"`
	Status    int    `json:"status,omitempty"`
	Retryable bool   `json:"retryable"`
}

// OutcomeData is the data of an outcome event (docs/contract.md §3).
type OutcomeData struct {
	Request              RequestRef `json:"request"`
	RegionID             string     `json:"regionId,omitempty"`
	InstanceID           string     `json:"instanceId,omitempty"`
	InstanceType         string     `json:"instanceType,omitempty"`
	PreviousInstanceType string     `json:"previousInstanceType,omitempty"`
	// Direction and Steps echo a relative request (docs/contract.md §6).
	Direction        string `json:"direction,omitempty"`
	Steps            int    `json:"steps,omitempty"`
	Changed          bool   `json:"changed"`
	DryRun           bool   `json:"dryRun"`
	JDCloudRequestID string `json:"jdcloudRequestId,omitempty"`
	Reason           string `json:"reason,omitempty"`
	RequestedBy      string `json:"requestedBy,omitempty"`
	// Stopped and Restarted tell what stopIfRunning did to the instance.
	Stopped   bool `json:"stopped,omitempty"`
	Restarted bool `json:"restarted,omitempty"`
	// RolledBack says the instance would not run with the new type and was
	// resized back to its previous one (docs/contract.md §9).
	RolledBack bool `json:"rolledBack,omitempty"`
	// Approval: a pending request's approval id and expiry, or who decided
	// a held one (docs/contract.md §8).
	Approval *ApprovalData `json:"approval,omitempty"`
	// Timings holds milliseconds per phase (stop, resize, start, total).
	Timings map[string]int64 `json:"timings,omitempty"`
	Error   *ErrorData       `json:"error,omitempty"`
}

// OutcomeEvent is an outcome CloudEvent encoded once: the attributes a sink
// routes on, and the structured-mode JSON that the log, the store, every
// sink and the trigger's answer all carry as they are.
type OutcomeEvent struct {
	ID, Type, Source, Subject string
	Time                      time.Time
	JSON                      []byte
}

// Decode parses the event back, for whoever needs the sdk's view of it.
func (e OutcomeEvent) Decode() (event.Event, error) {
	var ev event.Event
	err := json.Unmarshal(e.JSON, &ev)
	return ev, err
}

// Outcome is the result of one delivery.
type Outcome struct {
	// Data is what happened; Data.Error is set exactly when the request failed.
	Data OutcomeData
	// Event is the outcome event that was (or was attempted to be) published.
	Event OutcomeEvent
	// Replay marks an outcome republished from the ledger: the request had
	// already run.
	Replay bool
	// PublishErr is set when a sink still failed after retries (or the
	// event could not be encoded): the delivery must be answered as
	// retryable so the sender tries again.
	PublishErr error
}

// Err is the request's failure, nil when it succeeded.
func (o *Outcome) Err() *ErrorData { return o.Data.Error }

// Succeeded reports whether the request itself succeeded.
func (o *Outcome) Succeeded() bool { return o.Data.Error == nil }

// Retryable reports whether the delivery should be retried by its sender:
// a retryable failure, or an outcome that did not reach a sink for a reason
// a later try may not meet. A sink that refused the event for good (its
// error is not retryable) does not make the delivery retryable.
func (o *Outcome) Retryable() bool {
	return retryablePublish(o.PublishErr) || (o.Data.Error != nil && o.Data.Error.Retryable)
}

// retryablePublish: any failed sink (errors.Join holds one error per sink)
// whose failure is retryable, or of unknown kind.
func retryablePublish(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return slices.ContainsFunc(j.Unwrap(), retryablePublish)
	}
	var e *Error
	return !errors.As(err, &e) || e.Retryable()
}

// EventAttributes are the outcome event's attributes other than its type,
// which follows from the data.
type EventAttributes struct {
	ID, Source, Subject, TraceParent string
	Time                             time.Time
}

// EncodeOutcome builds the outcome event of data (docs/contract.md §3) and
// encodes it, once, in structured mode.
func EncodeOutcome(a EventAttributes, data OutcomeData) (Outcome, error) {
	out := Outcome{Data: data}
	e := event.New()
	e.SetID(a.ID)
	e.SetSource(a.Source)
	e.SetTime(a.Time.UTC())
	e.SetType(outcomeType(&data))
	if a.Subject != "" {
		e.SetSubject(a.Subject)
	}
	if a.TraceParent != "" {
		e.SetExtension("traceparent", a.TraceParent)
	}
	out.Event = OutcomeEvent{ID: e.ID(), Type: e.Type(), Source: e.Source(), Subject: e.Subject(), Time: e.Time()}
	if err := e.SetData(event.ApplicationJSON, data); err != nil {
		return out, err
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return out, err
	}
	out.Event.JSON = raw
	return out, nil
}

func outcomeType(d *OutcomeData) string {
	switch {
	case d.Error != nil:
		return TypeFailed
	case d.Approval != nil && d.Approval.ExpiresAt != "":
		return TypePending
	}
	return TypeSucceeded
}

// errorData is an error as the outcome carries it.
func errorData(e *Error) *ErrorData {
	return &ErrorData{Code: e.Code, Reason: e.Reason, Message: e.Message, Status: e.Status, Retryable: e.Retryable()}
}

// decodeStored rebuilds an Outcome from a stored outcome event, for a
// redelivery that republishes instead of running again.
func decodeStored(raw []byte) (Outcome, error) {
	var w struct {
		ID      string      `json:"id"`
		Type    string      `json:"type"`
		Source  string      `json:"source"`
		Subject string      `json:"subject"`
		Time    time.Time   `json:"time"`
		Data    OutcomeData `json:"data"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Outcome{}, err
	}
	if w.ID == "" || w.Type == "" {
		return Outcome{}, errors.New("stored outcome has no id or type")
	}
	return Outcome{
		Data:   w.Data,
		Event:  OutcomeEvent{ID: w.ID, Type: w.Type, Source: w.Source, Subject: w.Subject, Time: w.Time, JSON: raw},
		Replay: true,
	}, nil
}
