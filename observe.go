package resizer

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// Observation is what an Observer learns of one delivery.
type Observation struct {
	Outcome *Outcome
	// Duration is the delivery's, from its arrival to its outcome's publication.
	Duration time.Duration
	// JDCalls counts the delivery's HTTP attempts at JD Cloud, retries
	// included; JDThrottled those answered 429.
	JDCalls, JDThrottled int
}

// Tally counts one delivery's JD Cloud calls. The Handler puts a Tally in
// every delivery's context; whatever carries JD calls (an HTTP transport
// decorator) adds to the one it finds there with TallyFrom.
type Tally struct {
	calls, throttled atomic.Int64
}

type tallyKey struct{}

func withTally(ctx context.Context) (context.Context, *Tally) {
	t := &Tally{}
	return context.WithValue(ctx, tallyKey{}, t), t
}

// TallyFrom returns the delivery's Tally, or nil outside a delivery; a nil
// Tally counts nothing.
func TallyFrom(ctx context.Context) *Tally {
	t, _ := ctx.Value(tallyKey{}).(*Tally)
	return t
}

// Count records one JD Cloud answer (status 0: no answer).
func (t *Tally) Count(status int) {
	if t == nil {
		return
	}
	t.calls.Add(1)
	if status == http.StatusTooManyRequests {
		t.throttled.Add(1)
	}
}

// Calls and Throttled read the counts.
func (t *Tally) Calls() int     { return int(t.calls.Load()) }
func (t *Tally) Throttled() int { return int(t.throttled.Load()) }
