package jdcloud_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

// simClient is the real client against a simulator whose gateway takes rps
// requests a second, sharing lim.
func simClient(t *testing.T, rps float64, lim *rate.Limiter, retry backoff.Policy) (*jdcloud.Client, *jdcloudsim.Server) {
	t.Helper()
	sim, err := jdcloudsim.Start(jdcloudsim.Options{RateLimit: rps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.SetLatency("", 0)
	c, err := jdcloud.New(jdcloud.Options{
		Endpoint:    sim.URL(),
		Credentials: jdcloud.StaticCredentials{AccessKey: jdcloudsim.DemoAccessKey, SecretKey: jdcloudsim.DemoSecretKey},
		Limiter:     lim,
		Retry:       retry,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, sim
}

// A process configured far above the gateway's rate (as five copies of the
// function at the default would be) meets 429s, slows its shared limiter,
// and every call still succeeds while the deadline leaves room.
func TestThrottledBurstAllSucceed(t *testing.T) {
	lim := rate.NewLimiter(200, 200)
	c, sim := simClient(t, 20, lim, backoff.Default)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const calls = 60
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			_, err := c.DescribeInstance(ctx, "cn-north-1", "i-stopped01")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if sim.Throttled() == 0 {
		t.Fatal("the gateway never throttled: the test does not test anything")
	}
	if lim.Limit() >= 200 {
		t.Errorf("the shared limiter is still at %v after %d 429s", lim.Limit(), sim.Throttled())
	}
	t.Logf("%d calls, %d answered 429, limiter now %v/s", sim.Calls(jdcloudsim.OpDescribeInstance), sim.Throttled(), lim.Limit())
}

// 429s do not use up the retry budget while the deadline leaves room:
// with two attempts allowed, calls that meet several 429s each succeed.
func TestThrottlingOutlastsTheRetryBudget(t *testing.T) {
	lim := rate.NewLimiter(100, 100)
	c, sim := simClient(t, 2, lim, backoff.Policy{Attempts: 2, Base: 10 * time.Millisecond, Max: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := c.StopInstance(ctx, "cn-north-1", "i-running01")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// The first stop wins; the others find it stopping or stopped,
		// which JD refuses: a refusal, not throttling, is what they answer.
		var e *resizer.Error
		if err != nil && (!errors.As(err, &e) || e.Status == 429) {
			t.Errorf("failed for throttling: %v", err)
		}
	}
	if sim.Throttled() < 3 {
		t.Fatalf("only %d 429s: the budget was never outlasted", sim.Throttled())
	}
}

// When the deadline cannot fit the Retry-After, the 429 is the answer at
// once: timeout, retryable, without sleeping until the deadline.
func TestThrottledPastTheDeadline(t *testing.T) {
	lim := rate.NewLimiter(100, 100)
	c, sim := simClient(t, 0.5, lim, backoff.Default)
	if _, err := c.DescribeInstance(context.Background(), "cn-north-1", "i-stopped01"); err != nil {
		t.Fatal(err) // the bucket's one token
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DescribeInstance(ctx, "cn-north-1", "i-stopped01")
	var e *resizer.Error
	if !errors.As(err, &e) || e.Code != resizer.CodeTimeout || e.Status != 429 {
		t.Fatalf("got %v, want a timeout carrying the 429", err)
	}
	if took := time.Since(start); took > 300*time.Millisecond {
		t.Errorf("took %v: it waited for a Retry-After that could not fit", took)
	}
	if n := sim.Throttled(); n != 1 {
		t.Errorf("%d 429s, want 1", n)
	}
}
