// Package resizer is the domain of the JD Cloud VM resizer: a CloudEvent asks
// for an instance to be resized, the Handler validates it, checks operator
// policy and JD Cloud's resize rules against what the describe calls show,
// resizes through a Compute, and announces the outcome as a CloudEvent
// through a Publisher. Adapters (jdcloud, sink, store, trigger) live in
// subpackages; function/ wires them.
package resizer

import (
	"context"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// CloudEvent types of the contract (CONTRACT §3).
const (
	TypeRequested = "com.jdcloud.vm.resize.requested"
	TypeSucceeded = "com.jdcloud.vm.resize.succeeded"
	TypeFailed    = "com.jdcloud.vm.resize.failed"
)

// DefaultSource is the source of outcome events unless RESULT_SOURCE says otherwise.
const DefaultSource = "jdcloud-vm-resizer"

// Request is a validated resize request: the data of a
// com.jdcloud.vm.resize.requested event plus the event's identity.
type Request struct {
	// Identity of the request event: source + id identify a request.
	ID          string
	Source      string
	Type        string
	TraceParent string // the traceparent extension, copied to the outcome

	RegionID         string
	InstanceID       string
	InstanceType     string
	FromInstanceType string
	Force            bool
	StopIfRunning    bool
	DryRun           bool
	Reason           string
	RequestedBy      string
}

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

// OutcomeData is the data of an outcome event (CONTRACT §3).
type OutcomeData struct {
	Request              RequestRef `json:"request"`
	RegionID             string     `json:"regionId,omitempty"`
	InstanceID           string     `json:"instanceId,omitempty"`
	InstanceType         string     `json:"instanceType,omitempty"`
	PreviousInstanceType string     `json:"previousInstanceType,omitempty"`
	Changed              bool       `json:"changed"`
	DryRun               bool       `json:"dryRun"`
	JDCloudRequestID     string     `json:"jdcloudRequestId,omitempty"`
	Reason               string     `json:"reason,omitempty"`
	RequestedBy          string     `json:"requestedBy,omitempty"`
	// Stopped and Restarted tell what stopIfRunning did to the instance.
	Stopped   bool `json:"stopped,omitempty"`
	Restarted bool `json:"restarted,omitempty"`
	// Timings holds milliseconds per phase (stop, resize, start, total).
	Timings map[string]int64 `json:"timings,omitempty"`
	Error   *ErrorData       `json:"error,omitempty"`
}

// Outcome is the result of one delivery: the outcome event that was (or was
// attempted to be) published, and what the trigger should answer.
type Outcome struct {
	Event event.Event
	Data  OutcomeData
	// Err is the request's failure, nil when it succeeded.
	Err *Error
	// PublishErr is set when a sink still failed after retries: the delivery
	// must be answered as retryable so the sender tries again.
	PublishErr error
}

// Succeeded reports whether the request itself succeeded.
func (o *Outcome) Succeeded() bool { return o.Err == nil }

// Retryable reports whether the delivery should be retried by its sender:
// a retryable failure, or an outcome that did not reach every sink.
func (o *Outcome) Retryable() bool {
	return o.PublishErr != nil || (o.Err != nil && o.Err.Retryable())
}

// Publisher delivers outcome events to wherever operators listen (an HTTP
// CloudEvents sink, EventBridge). Publish returns only after every sink has
// the event or retries are exhausted.
type Publisher interface {
	Publish(ctx context.Context, e event.Event) error
}

// Record states of the idempotency store.
const (
	StateInProgress = "in_progress"
	StateCompleted  = "completed"
)

// Record is what the Store knows about one request (source + id).
type Record struct {
	Key      string
	State    string // in_progress or completed
	DataHash string // hash of the request data, to tell a replay from a reuse of an id
	// Outcome is the stored outcome event (structured CloudEvent JSON), set when completed.
	Outcome []byte
	// LeaseUntil is when an in_progress claim may be taken over.
	LeaseUntil time.Time
	// Expires is when the record is forgotten.
	Expires time.Time
}

// Store keeps idempotency records and cooldown marks. Implementations: the
// in-memory store (one process) and DynamoDB (shared by all copies).
type Store interface {
	// Claim takes key for this attempt until leaseUntil, recording it
	// in_progress with dataHash, when there is no live record (absent,
	// expired, or in_progress past its lease). It returns (nil, nil) when the
	// claim was taken, and the existing live record, unchanged, otherwise.
	// Of many concurrent claims of one key exactly one is taken.
	Claim(ctx context.Context, key, dataHash string, leaseUntil, expires time.Time) (*Record, error)
	// Complete stores the outcome of a claimed key until expires.
	Complete(ctx context.Context, key, dataHash string, outcome []byte, expires time.Time) error
	// Release forgets an in_progress claim, so that a redelivery runs again.
	Release(ctx context.Context, key string) error
	// LastResize returns when instanceKey was last resized successfully;
	// zero when never or when the mark has expired.
	LastResize(ctx context.Context, instanceKey string) (time.Time, error)
	// RecordResize marks instanceKey as resized at `at`, kept until expires.
	RecordResize(ctx context.Context, instanceKey string, at, expires time.Time) error
}
