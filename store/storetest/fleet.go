package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jdcloud-vm-resizer/resizer"
)

// The fleet state's cases: cooldown marks taken back, holds, counters and
// held approvals (resizer.MarkForgetter, Holds, Counters, Approvals).
func init() { cases = append(cases, fleetCases...) }

func retryableErr(err error) bool {
	e, ok := err.(*resizer.Error)
	return ok && e.Retryable()
}

func reason(err error) string {
	if e, ok := err.(*resizer.Error); ok {
		return e.Reason
	}
	return ""
}

var fleetCases = []testCase{
	{"forget resize removes only the mark written at that time", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "record", s.RecordResize(ctx(t), "i", c.now, c.future))
		mustDo(t, "forget other", s.ForgetResize(ctx(t), "i", c.past))
		if got := lastResize(t, s, "i"); !got.Equal(c.now) {
			t.Fatalf("a forget of another time removed the mark: %v", got)
		}
		mustDo(t, "forget", s.ForgetResize(ctx(t), "i", c.now))
		if got := lastResize(t, s, "i"); !got.IsZero() {
			t.Fatalf("mark still there: %v", got)
		}
		mustDo(t, "forget absent", s.ForgetResize(ctx(t), "absent", c.now))
	}},
	{"hold is exclusive, renewable, lapses and is released only by its holder", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "hold", s.Hold(ctx(t), "i", "a", c.future, 0))
		if err := s.Hold(ctx(t), "i", "b", c.future, 0); reason(err) != resizer.ReasonInstanceBusy || !retryableErr(err) {
			t.Fatalf("second holder: %v, want retryable instance_busy", err)
		}
		mustDo(t, "renew", s.Hold(ctx(t), "i", "a", c.later, 0))
		mustDo(t, "unhold by another", s.Unhold(ctx(t), "i", "b"))
		if err := s.Hold(ctx(t), "i", "b", c.future, 0); reason(err) != resizer.ReasonInstanceBusy {
			t.Fatalf("an unhold by another holder released the hold: %v", err)
		}
		mustDo(t, "unhold", s.Unhold(ctx(t), "i", "a"))
		mustDo(t, "hold after unhold", s.Hold(ctx(t), "i", "b", c.future, 0))
		mustDo(t, "lapsed hold", s.Hold(ctx(t), "j", "dead", c.past, 0))
		mustDo(t, "take over a lapsed hold", s.Hold(ctx(t), "j", "alive", c.future, 0))
	}},
	{"fleet bound refuses fleet_busy until a hold goes", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "hold 1", s.Hold(ctx(t), "i1", "h1", c.future, 2))
		mustDo(t, "hold 2", s.Hold(ctx(t), "i2", "h2", c.future, 2))
		if err := s.Hold(ctx(t), "i3", "h3", c.future, 2); reason(err) != resizer.ReasonFleetBusy || !retryableErr(err) {
			t.Fatalf("third: %v, want retryable fleet_busy", err)
		}
		mustDo(t, "i3 was given back", s.Hold(ctx(t), "i3", "h4", c.future, 0))
		mustDo(t, "unhold i3", s.Unhold(ctx(t), "i3", "h4"))
		mustDo(t, "unhold 1", s.Unhold(ctx(t), "i1", "h1"))
		mustDo(t, "hold 3 after", s.Hold(ctx(t), "i3", "h3", c.future, 2))
	}},
	{"of 20 holders of one instance exactly one wins", func(t *testing.T, s resizer.Store, c clock) {
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				err := s.Hold(ctx(t), "i", fmt.Sprint("h", i), c.future, 0)
				switch {
				case err == nil:
					won.Add(1)
				case reason(err) != resizer.ReasonInstanceBusy:
					t.Errorf("holder %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d holders won", won.Load())
		}
	}},
	{"of 12 instances held at once under a bound of 3 exactly 3 win", func(t *testing.T, s resizer.Store, c clock) {
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				err := s.Hold(ctx(t), fmt.Sprint("i", i), fmt.Sprint("h", i), c.future, 3)
				switch {
				case err == nil:
					won.Add(1)
				case reason(err) != resizer.ReasonFleetBusy:
					t.Errorf("holder %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if won.Load() != 3 {
			t.Fatalf("%d holders won, want 3", won.Load())
		}
	}},
	{"take counts atomically up to max; windows are apart", func(t *testing.T, s resizer.Store, c clock) {
		var taken atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				ok, _, err := s.Take(ctx(t), "resizes", c.now, 5, c.later)
				if err != nil {
					t.Error(err)
				}
				if ok {
					taken.Add(1)
				}
			})
		}
		wg.Wait()
		n, err := s.Count(ctx(t), "resizes", c.now)
		mustDo(t, "count", err)
		if taken.Load() != 5 || n != 5 {
			t.Fatalf("taken %d, count %d; want 5 and 5", taken.Load(), n)
		}
		if ok, n, err := s.Take(ctx(t), "resizes", c.now, 5, c.later); ok || n != 5 || err != nil {
			t.Fatalf("take over max: %t %d %v", ok, n, err)
		}
		if ok, n, err := s.Take(ctx(t), "resizes", c.future, 5, c.later); !ok || n != 1 || err != nil {
			t.Fatalf("take in the next window: %t %d %v", ok, n, err)
		}
		if n, err := s.Count(ctx(t), "failures", c.now); n != 0 || err != nil {
			t.Fatalf("count of another name: %d %v", n, err)
		}
		for want := 1; want <= 3; want++ {
			if n, err := s.Add(ctx(t), "failures", c.now, c.later); n != want || err != nil {
				t.Fatalf("add: %d %v, want %d", n, err, want)
			}
		}
	}},
	{"held requests round-trip, are kept once, and are returned past expiry", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "put", s.PutHeld(ctx(t), resizer.Held{ID: "a1", Request: outcome, Expires: c.future}))
		mustDo(t, "put again", s.PutHeld(ctx(t), resizer.Held{ID: "a1", Request: []byte("{}"), Expires: c.later}))
		h, err := s.GetHeld(ctx(t), "a1")
		mustDo(t, "get", err)
		if h == nil || h.ID != "a1" || !bytes.Equal(h.Request, outcome) || !h.Expires.Equal(c.future) {
			t.Fatalf("held = %+v", h)
		}
		mustDo(t, "put expired", s.PutHeld(ctx(t), resizer.Held{ID: "a2", Request: outcome, Expires: c.past}))
		if h, err := s.GetHeld(ctx(t), "a2"); err != nil || h == nil || !h.Expires.Equal(c.past) {
			t.Fatalf("a held request past its expiry must still be found: %+v %v", h, err)
		}
		if h, err := s.GetHeld(ctx(t), "never"); h != nil || err != nil {
			t.Fatalf("unknown id: %+v %v", h, err)
		}
	}},
}
