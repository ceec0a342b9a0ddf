// Package backoff retries an operation with exponential backoff and full
// jitter, never sleeping past the context's deadline.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy says how often and how patiently to retry.
type Policy struct {
	Attempts int           // total tries, including the first; <1 means 1
	Base     time.Duration // cap of the first backoff
	Max      time.Duration // cap of any backoff
}

// Default suits JD Cloud and sink calls: 4 tries over about 3 s at most.
var Default = Policy{Attempts: 4, Base: 200 * time.Millisecond, Max: 2 * time.Second}

// Delay returns the full-jitter backoff before try n+1 (n counts from 0):
// a uniform draw from [0, min(Max, Base·2ⁿ)].
func (p Policy) Delay(n int) time.Duration {
	ceil := p.Base
	for i := 0; i < n && ceil < p.Max; i++ {
		ceil *= 2
	}
	if p.Max > 0 && ceil > p.Max {
		ceil = p.Max
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// Retry calls op until it succeeds, says the error is permanent, the
// attempts are spent, or the next sleep would end after ctx's deadline. It
// returns op's last error. wait, when positive, is a lower bound the server
// asked for (Retry-After) and replaces the jittered delay if longer.
func Retry(ctx context.Context, p Policy, op func(ctx context.Context) (retry bool, wait time.Duration, err error)) error {
	attempts := max(p.Attempts, 1)
	var err error
	for n := 0; n < attempts; n++ {
		var retry bool
		var wait time.Duration
		retry, wait, err = op(ctx)
		if err == nil || !retry || n == attempts-1 {
			return err
		}
		d := max(p.Delay(n), wait)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
			return err
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
	return err
}

// Sleep waits d unless ctx's deadline would pass first (then it returns
// false at once) or ctx ends meanwhile (false). A d of zero or less
// returns true at once, unless ctx has already ended.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
