package resizer

import (
	"context"
	"time"
)

// The ports: what the domain needs from the world, each implemented by an
// adapter package. Every error a port returns should be an *Error carrying
// the contract code named on the method; ErrorFrom judges anything else
// (unavailable, or timeout when the context ended).

// Compute is what the resizer needs from JD Cloud's VM service; package
// jdcloud implements it over the signed OpenAPI.
type Compute interface {
	// DescribeInstance: not_found, auth_failed, api_error, unavailable, timeout.
	DescribeInstance(ctx context.Context, regionID, instanceID string) (*Instance, error)
	// DescribeInstanceTypes returns the named types that exist in the region;
	// unknown names are simply absent from the answer.
	DescribeInstanceTypes(ctx context.Context, regionID string, types []string) ([]InstanceType, error)
	// DescribeImageConstraints: not_found when the image is gone.
	DescribeImageConstraints(ctx context.Context, regionID, imageID string) (*ImageConstraints, error)
	// ResizeInstance returns JD Cloud's request id of the accepted call. A
	// failure whose fate is unknown is marked Error.Ambiguous.
	ResizeInstance(ctx context.Context, regionID, instanceID, instanceType string, force bool) (requestID string, err error)
	StopInstance(ctx context.Context, regionID, instanceID string) (requestID string, err error)
	StartInstance(ctx context.Context, regionID, instanceID string) (requestID string, err error)
}

// Publisher delivers outcome events to wherever operators listen (an HTTP
// CloudEvents sink, EventBridge). Publish returns only after every sink has
// the event or retries are exhausted (unavailable).
type Publisher interface {
	Publish(ctx context.Context, e OutcomeEvent) error
}

// Observer is told about every delivery once, after its outcome was
// published and logged (metrics). It must not block.
type Observer interface {
	Observe(o Observation)
}

// Record states of the ledger.
const (
	StateInProgress = "in_progress"
	StateCompleted  = "completed"
)

// Record is what the Ledger knows about one request (source + id).
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

// Ledger keeps one record per request, so that a request runs once.
// Failures are unavailable (or timeout): nothing ran, a redelivery is safe.
type Ledger interface {
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
}

// Marks keeps when each instance was last resized, for the cooldown.
type Marks interface {
	// LastResize returns when instanceKey was last resized successfully;
	// zero when never or when the mark has expired.
	LastResize(ctx context.Context, instanceKey string) (time.Time, error)
	// RecordResize marks instanceKey as resized at `at`, kept until expires.
	RecordResize(ctx context.Context, instanceKey string, at, expires time.Time) error
}

// Store is everything the function keeps between deliveries; the in-memory
// store (one process) and DynamoDB (every copy at once) implement it.
type Store interface {
	Ledger
	Marks
	MarkForgetter
	Holds
	Counters
	Approvals
}

// NopStore keeps nothing: every claim and hold is taken, no instance was
// ever resized, no budget is ever spent and no request is ever held. It
// stands in when no store is configured (tests); the function always has
// one.
type NopStore struct{}

var _ Store = NopStore{}

func (NopStore) Claim(context.Context, string, string, time.Time, time.Time) (*Record, error) {
	return nil, nil
}
func (NopStore) Complete(context.Context, string, string, []byte, time.Time) error { return nil }
func (NopStore) Release(context.Context, string) error                             { return nil }
func (NopStore) LastResize(context.Context, string) (time.Time, error) {
	return time.Time{}, nil
}
func (NopStore) RecordResize(context.Context, string, time.Time, time.Time) error { return nil }
func (NopStore) ForgetResize(context.Context, string, time.Time) error            { return nil }
func (NopStore) Hold(context.Context, string, string, time.Time, int) error       { return nil }
func (NopStore) Unhold(context.Context, string, string) error                     { return nil }
func (NopStore) Take(context.Context, string, time.Time, int, time.Time) (bool, int, error) {
	return true, 1, nil
}
func (NopStore) Add(context.Context, string, time.Time, time.Time) (int, error) { return 1, nil }
func (NopStore) Count(context.Context, string, time.Time) (int, error)          { return 0, nil }
func (NopStore) PutHeld(context.Context, Held) error                            { return nil }
func (NopStore) GetHeld(context.Context, string) (*Held, error)                 { return nil, nil }

// NopPublisher publishes nothing: the log line is then the only outcome.
type NopPublisher struct{}

func (NopPublisher) Publish(context.Context, OutcomeEvent) error { return nil }

// NopObserver observes nothing.
type NopObserver struct{}

func (NopObserver) Observe(Observation) {}

// The ports below are what fleet safety and approvals keep; the stores
// implement them beside Ledger and Marks, in the same table.

// MarkForgetter takes back a cooldown mark written before a resize that
// did not happen (the mark comes first so that no second request slips in
// while the first changes the machine).
type MarkForgetter interface {
	// ForgetResize removes instanceKey's mark only if it is the one written
	// at `at`; a later mark stays.
	ForgetResize(ctx context.Context, instanceKey string, at time.Time) error
}

// Holds gives one operation per instance and bounds the fleet's
// concurrent operations.
type Holds interface {
	// Hold takes instanceKey for holder until leaseUntil. It refuses with an
	// *Error of code unavailable, reason instance_busy, while another
	// holder's hold is live (unexpired lease), and, when max > 0, with
	// reason fleet_busy while max holds are live fleet-wide. A holder that
	// already holds the key renews its lease. A lapsed hold is taken over.
	Hold(ctx context.Context, instanceKey, holder string, leaseUntil time.Time, max int) error
	// Unhold releases holder's hold of instanceKey; another holder's hold,
	// or none, is left as it is.
	Unhold(ctx context.Context, instanceKey, holder string) error
}

// Counters counts events per fixed window, fleet-wide.
type Counters interface {
	// Take adds one to the count of name in the window starting at window,
	// atomically and only while the count is below max; it reports whether
	// it did and the count after the attempt. The count is kept until
	// expires.
	Take(ctx context.Context, name string, window time.Time, max int, expires time.Time) (taken bool, count int, err error)
	// Add adds one whatever the count, and returns the count after.
	Add(ctx context.Context, name string, window time.Time, expires time.Time) (count int, err error)
	// Count reads the count of name in the window (0 when none).
	Count(ctx context.Context, name string, window time.Time) (int, error)
}

// Held is a request waiting for a person's approval.
type Held struct {
	// ID is the approval id the pending outcome announced.
	ID string
	// Request is the request event as it arrived (structured JSON).
	Request []byte
	// Expires is when an approval no longer counts; the record itself is
	// kept a while longer so that a late approval hears approval_expired.
	Expires time.Time
}

// Approvals keeps held requests by approval id.
type Approvals interface {
	// PutHeld stores h; an id already stored is kept as it is.
	PutHeld(ctx context.Context, h Held) error
	// GetHeld returns the held request of id, expired or not, or nil when
	// there is none.
	GetHeld(ctx context.Context, id string) (*Held, error)
}
