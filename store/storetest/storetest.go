// Package storetest is the behaviour suite every resizer.Store must pass:
// the semantics written on resizer.Store and resizer.Record, checked the same
// way against the in-memory store and against DynamoDB.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// Run runs the suite. newStore is called once per case and must return an
// empty store whose clock is the real one: the suite places leases and
// expiries an hour either side of time.Now(), so it needs no sleeps and no
// clock of its own, and it rounds them to whole seconds so that a store
// keeping expiries to the second (DynamoDB's TTL) gives them back exactly.
func Run(t *testing.T, newStore func(t *testing.T) resizer.Store) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newStore(t), newClock())
		})
	}
}

// clock holds the instants a case uses, all whole seconds.
type clock struct {
	now    time.Time
	future time.Time // a lease or expiry still live during the case
	past   time.Time // a lease or expiry already over
	later  time.Time // a later expiry, to tell two writes apart
}

func newClock() clock {
	now := time.Now().Truncate(time.Second)
	return clock{now: now, future: now.Add(time.Hour), past: now.Add(-time.Hour), later: now.Add(48 * time.Hour)}
}

type testCase struct {
	name string
	run  func(t *testing.T, s resizer.Store, c clock)
}

// outcome is a stored event with bytes a careless store would alter:
// non-ASCII, escapes, a newline, and no trailing newline.
var outcome = []byte("{\"specversion\":\"1.0\",\"data\":{\"reason\":\"Größe \\u00e4ndern\\n\"}}\n  {}")

var cases = []testCase{
	{"claim of an absent key is taken", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.future, c.later)
	}},
	{"second claim returns the in_progress record unchanged", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.future, c.later)
		rec := mustRefuse(t, s, "k", "h2", c.future, c.later)
		want := resizer.Record{Key: "k", State: resizer.StateInProgress, DataHash: "h1", LeaseUntil: c.future, Expires: c.later}
		sameRecord(t, rec, want)
		// The refused claim wrote nothing: a third still sees the first.
		sameRecord(t, mustRefuse(t, s, "k", "h3", c.future, c.later), want)
	}},
	{"claim past its lease is taken over", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.past, c.later)
		mustTake(t, s, "k", "h2", c.future, c.later)
		rec := mustRefuse(t, s, "k", "h3", c.future, c.later)
		if rec.DataHash != "h2" {
			t.Errorf("after takeover the record has dataHash %q, want the new claimant's h2", rec.DataHash)
		}
	}},
	{"lease is kept to the millisecond", func(t *testing.T, s resizer.Store, c clock) {
		lease := c.future.Add(123 * time.Millisecond)
		mustTake(t, s, "k", "h1", lease, c.later)
		if rec := mustRefuse(t, s, "k", "h2", c.future, c.later); !rec.LeaseUntil.Equal(lease) {
			t.Errorf("leaseUntil = %v, want %v", rec.LeaseUntil, lease)
		}
	}},
	{"completed record is returned with the exact outcome bytes", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.future, c.later)
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", outcome, c.later))
		rec := mustRefuse(t, s, "k", "h1", c.future, c.later)
		sameRecord(t, rec, resizer.Record{Key: "k", State: resizer.StateCompleted, DataHash: "h1", Outcome: outcome, Expires: c.later})
	}},
	{"claim past its lease does not take over a completed record", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.past, c.later)
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", outcome, c.later))
		if rec := mustRefuse(t, s, "k", "h1", c.future, c.later); rec.State != resizer.StateCompleted {
			t.Errorf("state = %q, want completed", rec.State)
		}
	}},
	{"returned outcome is the caller's own copy", func(t *testing.T, s resizer.Store, c clock) {
		mine := bytes.Clone(outcome)
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", mine, c.later))
		mine[0] = 'X'
		rec := mustRefuse(t, s, "k", "h1", c.future, c.later)
		rec.Outcome[1] = 'X'
		if again := mustRefuse(t, s, "k", "h1", c.future, c.later); !bytes.Equal(again.Outcome, outcome) {
			t.Errorf("stored outcome changed with the caller's slices: %q", again.Outcome)
		}
	}},
	{"complete without a claim stores the outcome", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", outcome, c.later))
		if rec := mustRefuse(t, s, "k", "h1", c.future, c.later); rec.State != resizer.StateCompleted || !bytes.Equal(rec.Outcome, outcome) {
			t.Errorf("record = %+v, want the completed outcome", rec)
		}
	}},
	{"first stored outcome is kept", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.future, c.later)
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", outcome, c.later))
		mustDo(t, "second Complete", s.Complete(ctx(t), "k", "h1", []byte(`{"other":true}`), c.later.Add(time.Hour)))
		rec := mustRefuse(t, s, "k", "h1", c.future, c.later)
		sameRecord(t, rec, resizer.Record{Key: "k", State: resizer.StateCompleted, DataHash: "h1", Outcome: outcome, Expires: c.later})
	}},
	{"data hash tells a reused id from a replay", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.future, c.later)
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", outcome, c.later))
		if rec := mustRefuse(t, s, "k", "other-data", c.future, c.later); rec.DataHash != "h1" {
			t.Errorf("dataHash = %q, want the stored h1 so the caller sees the mismatch", rec.DataHash)
		}
	}},
	{"expired in_progress record is absent", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.future, c.past)
		mustTake(t, s, "k", "h2", c.future, c.later)
	}},
	{"expired completed record is absent", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.future, c.later)
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", outcome, c.past))
		mustTake(t, s, "k", "h2", c.future, c.later)
	}},
	{"complete replaces an expired completed record", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", []byte(`{"old":true}`), c.past))
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h2", outcome, c.later))
		rec := mustRefuse(t, s, "k", "h2", c.future, c.later)
		sameRecord(t, rec, resizer.Record{Key: "k", State: resizer.StateCompleted, DataHash: "h2", Outcome: outcome, Expires: c.later})
	}},
	{"release lets the key be claimed again", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.future, c.later)
		mustDo(t, "Release", s.Release(ctx(t), "k"))
		mustTake(t, s, "k", "h2", c.future, c.later)
	}},
	{"release keeps a completed record", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "k", "h1", c.future, c.later)
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", outcome, c.later))
		mustDo(t, "Release", s.Release(ctx(t), "k"))
		if rec := mustRefuse(t, s, "k", "h1", c.future, c.later); rec.State != resizer.StateCompleted || !bytes.Equal(rec.Outcome, outcome) {
			t.Errorf("after Release the record is %+v, want the completed one", rec)
		}
	}},
	{"release of an absent key is a no-op", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "Release", s.Release(ctx(t), "k"))
		mustTake(t, s, "k", "h1", c.future, c.later)
	}},
	{"keys are independent", func(t *testing.T, s resizer.Store, c clock) {
		mustTake(t, s, "a", "h1", c.future, c.later)
		mustTake(t, s, "b", "h1", c.future, c.later)
		mustDo(t, "Release", s.Release(ctx(t), "a"))
		mustRefuse(t, s, "b", "h1", c.future, c.later)
	}},
	{"keys are opaque strings", func(t *testing.T, s resizer.Store, c clock) {
		// The handler joins source and id with a NUL; sources hold slashes.
		key := "https://example.com/alerts\x00id#1/Größe"
		mustTake(t, s, key, "h1", c.future, c.later)
		mustDo(t, "Complete", s.Complete(ctx(t), key, "h1", outcome, c.later))
		mustTake(t, s, "https://example.com/alerts\x00id#1", "h1", c.future, c.later)
		rec := mustRefuse(t, s, key, "h1", c.future, c.later)
		sameRecord(t, rec, resizer.Record{Key: key, State: resizer.StateCompleted, DataHash: "h1", Outcome: outcome, Expires: c.later})
		mustDo(t, "RecordResize", s.RecordResize(ctx(t), key, c.now, c.later))
		if got := lastResize(t, s, key); !got.Equal(c.now) {
			t.Errorf("LastResize = %v, want %v", got, c.now)
		}
	}},
	{"last resize is zero when never resized", func(t *testing.T, s resizer.Store, c clock) {
		if at := lastResize(t, s, "cn-north-1/i-abc123"); !at.IsZero() {
			t.Errorf("LastResize = %v, want zero", at)
		}
	}},
	{"last resize returns the recorded time", func(t *testing.T, s resizer.Store, c clock) {
		at := c.now.Add(-90*time.Second + 123456789*time.Nanosecond) // sub-millisecond part on purpose
		mustDo(t, "RecordResize", s.RecordResize(ctx(t), "cn-north-1/i-abc123", at, c.later))
		got := lastResize(t, s, "cn-north-1/i-abc123")
		if d := at.Sub(got); d < 0 || d >= time.Millisecond {
			t.Errorf("LastResize = %v, want %v to the millisecond", got, at)
		}
	}},
	{"last resize is zero after the mark expires", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "RecordResize", s.RecordResize(ctx(t), "cn-north-1/i-abc123", c.past.Add(-time.Hour), c.past))
		if at := lastResize(t, s, "cn-north-1/i-abc123"); !at.IsZero() {
			t.Errorf("LastResize = %v, want zero after expiry", at)
		}
	}},
	{"a later resize replaces the mark, an earlier one does not", func(t *testing.T, s resizer.Store, c clock) {
		first, second := c.now.Add(-2*time.Minute), c.now.Add(-time.Minute)
		mustDo(t, "RecordResize", s.RecordResize(ctx(t), "i", first, c.later))
		mustDo(t, "RecordResize", s.RecordResize(ctx(t), "i", second, c.later))
		if got := lastResize(t, s, "i"); !got.Equal(second) {
			t.Errorf("after a later resize LastResize = %v, want %v", got, second)
		}
		mustDo(t, "RecordResize", s.RecordResize(ctx(t), "i", first, c.later))
		if got := lastResize(t, s, "i"); !got.Equal(second) {
			t.Errorf("a late write of an earlier resize moved LastResize to %v, want %v", got, second)
		}
	}},
	{"a resize replaces an expired mark of a later time", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "RecordResize", s.RecordResize(ctx(t), "i", c.now, c.past))
		at := c.now.Add(-time.Minute)
		mustDo(t, "RecordResize", s.RecordResize(ctx(t), "i", at, c.later))
		if got := lastResize(t, s, "i"); !got.Equal(at) {
			t.Errorf("LastResize = %v, want %v", got, at)
		}
	}},
	{"requests and cooldown marks do not share keys", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "RecordResize", s.RecordResize(ctx(t), "k", c.now, c.later))
		mustTake(t, s, "k", "h1", c.future, c.later)
		mustDo(t, "Complete", s.Complete(ctx(t), "k", "h1", outcome, c.later))
		if got := lastResize(t, s, "k"); !got.Equal(c.now) {
			t.Errorf("LastResize = %v after a request of the same key, want %v", got, c.now)
		}
	}},
	{"of 50 concurrent claims exactly one is taken", func(t *testing.T, s resizer.Store, c clock) {
		const n = 50
		type result struct {
			rec *resizer.Record
			err error
		}
		results := make([]result, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				rec, err := s.Claim(ctx(t), "k", fmt.Sprintf("h%d", i), c.future, c.later)
				results[i] = result{rec, err}
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, r := range results {
			switch {
			case r.err != nil:
				t.Errorf("claim %d: %v", i, r.err)
			case r.rec == nil && winner >= 0:
				t.Errorf("claims %d and %d were both taken", winner, i)
			case r.rec == nil:
				winner = i
			}
		}
		if winner < 0 {
			t.Fatal("no claim was taken")
		}
		want := fmt.Sprintf("h%d", winner)
		for i, r := range results {
			if r.rec != nil && (r.rec.State != resizer.StateInProgress || r.rec.DataHash != want) {
				t.Errorf("claim %d saw %s/%s, want in_progress/%s of the winner", i, r.rec.State, r.rec.DataHash, want)
			}
		}
	}},
	{"a canceled context fails retryably", func(t *testing.T, s resizer.Store, c clock) {
		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := s.Claim(canceled, "k", "h1", c.future, c.later)
		retryable(t, "Claim", err)
		retryable(t, "Complete", s.Complete(canceled, "k", "h1", outcome, c.later))
		retryable(t, "Release", s.Release(canceled, "k"))
		_, err = s.LastResize(canceled, "i")
		retryable(t, "LastResize", err)
		retryable(t, "RecordResize", s.RecordResize(canceled, "i", c.now, c.later))
		// Nothing above was stored.
		mustTake(t, s, "k", "h2", c.future, c.later)
	}},
}

func ctx(t *testing.T) context.Context { return t.Context() }

func mustTake(t *testing.T, s resizer.Store, key, hash string, lease, expires time.Time) {
	t.Helper()
	rec, err := s.Claim(ctx(t), key, hash, lease, expires)
	if err != nil {
		t.Fatalf("Claim(%q, %q): %v", key, hash, err)
	}
	if rec != nil {
		t.Fatalf("Claim(%q, %q) was refused by %+v, want it taken", key, hash, *rec)
	}
}

func mustRefuse(t *testing.T, s resizer.Store, key, hash string, lease, expires time.Time) *resizer.Record {
	t.Helper()
	rec, err := s.Claim(ctx(t), key, hash, lease, expires)
	if err != nil {
		t.Fatalf("Claim(%q, %q): %v", key, hash, err)
	}
	if rec == nil {
		t.Fatalf("Claim(%q, %q) was taken, want the existing record", key, hash)
	}
	return rec
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func lastResize(t *testing.T, s resizer.Store, key string) time.Time {
	t.Helper()
	at, err := s.LastResize(ctx(t), key)
	if err != nil {
		t.Fatalf("LastResize(%q): %v", key, err)
	}
	return at
}

func retryable(t *testing.T, what string, err error) {
	t.Helper()
	var e *resizer.Error
	if !errors.As(err, &e) {
		t.Errorf("%s with a canceled context: error %v, want a *resizer.Error", what, err)
		return
	}
	if !e.Retryable() {
		t.Errorf("%s with a canceled context: %v, want a retryable code", what, err)
	}
}

func sameRecord(t *testing.T, got *resizer.Record, want resizer.Record) {
	t.Helper()
	if got.Key != want.Key || got.State != want.State || got.DataHash != want.DataHash ||
		!bytes.Equal(got.Outcome, want.Outcome) || !got.LeaseUntil.Equal(want.LeaseUntil) || !got.Expires.Equal(want.Expires) {
		t.Errorf("record:\n got %+v\nwant %+v", *got, want)
	}
}
