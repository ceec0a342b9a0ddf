package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelayStaysUnderExponentialCap(t *testing.T) {
	p := Policy{Attempts: 10, Base: 10 * time.Millisecond, Max: 80 * time.Millisecond}
	caps := []time.Duration{10, 20, 40, 80, 80, 80}
	for n, c := range caps {
		for i := 0; i < 200; i++ {
			if d := p.Delay(n); d < 0 || d > c*time.Millisecond {
				t.Fatalf("Delay(%d) = %v, want within [0, %v]", n, d, c*time.Millisecond)
			}
		}
	}
}

func TestRetryStopsOnSuccessPermanentAndAttempts(t *testing.T) {
	p := Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}
	boom := errors.New("boom")
	calls := 0
	err := Retry(context.Background(), p, func(context.Context) (bool, time.Duration, error) {
		calls++
		return true, 0, boom
	})
	if !errors.Is(err, boom) || calls != 3 {
		t.Fatalf("transient: calls=%d err=%v, want 3 calls and boom", calls, err)
	}
	calls = 0
	err = Retry(context.Background(), p, func(context.Context) (bool, time.Duration, error) {
		calls++
		return false, 0, boom
	})
	if calls != 1 || err == nil {
		t.Fatalf("permanent: calls=%d err=%v", calls, err)
	}
	calls = 0
	err = Retry(context.Background(), p, func(context.Context) (bool, time.Duration, error) {
		calls++
		if calls < 2 {
			return true, 0, boom
		}
		return false, 0, nil
	})
	if calls != 2 || err != nil {
		t.Fatalf("eventual success: calls=%d err=%v", calls, err)
	}
}

func TestRetryNeverSleepsPastDeadline(t *testing.T) {
	p := Policy{Attempts: 5, Base: time.Second, Max: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	calls := 0
	_ = Retry(ctx, p, func(context.Context) (bool, time.Duration, error) {
		calls++
		return true, 2 * time.Second, errors.New("503")
	})
	if calls != 1 {
		t.Fatalf("calls = %d, want 1: a 2 s wait cannot fit in a 50 ms deadline", calls)
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), 0) || !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("a sleep with room refused")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if Sleep(ctx, time.Second) || time.Since(start) > 20*time.Millisecond {
		t.Fatal("a sleep past the deadline did not refuse at once")
	}
	cancel()
	if Sleep(ctx, 0) || Sleep(ctx, time.Millisecond) {
		t.Fatal("a sleep on an ended context succeeded")
	}
}
