package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	{"a renewed hold keeps its one fleet slot", func(t *testing.T, s resizer.Store, c clock) {
		// Two holders take turns under a bound of 2, the first renewing
		// after the second let go; a renewal that took a second slot
		// would leave no room for a third instance. Of three names two
		// start their search for a slot at the same place, whatever a
		// store hashes them to, so one of the pairs meets that case.
		names := []string{"ha", "hb", "hc"}
		for i, a := range names {
			for _, b := range names[i+1:] {
				mustDo(t, "b holds", s.Hold(ctx(t), "ib", b, c.future, 2))
				mustDo(t, "a holds", s.Hold(ctx(t), "ia", a, c.future, 2))
				mustDo(t, "b lets go", s.Unhold(ctx(t), "ib", b))
				mustDo(t, "a renews", s.Hold(ctx(t), "ia", a, c.later, 2))
				mustDo(t, "a renews again", s.Hold(ctx(t), "ia", a, c.later, 2))
				mustDo(t, a+" renewed: a second instance fits", s.Hold(ctx(t), "ic", "other", c.future, 2))
				if err := s.Hold(ctx(t), "id", "third", c.future, 2); reason(err) != resizer.ReasonFleetBusy {
					t.Fatalf("a third instance under a bound of 2: %v, want fleet_busy", err)
				}
				mustDo(t, "unhold a", s.Unhold(ctx(t), "ia", a))
				mustDo(t, "unhold other", s.Unhold(ctx(t), "ic", "other"))
				mustDo(t, "the bound is free again", s.Hold(ctx(t), "id", "third", c.future, 2))
				mustDo(t, "unhold third", s.Unhold(ctx(t), "id", "third"))
			}
		}
	}},
	{"a lapsed hold gives back its fleet slot, and its holder cannot free the next one's", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "crashed holder", s.Hold(ctx(t), "i1", "dead", c.past, 1))
		mustDo(t, "another instance takes the lapsed slot", s.Hold(ctx(t), "i2", "h2", c.future, 1))
		mustDo(t, "unhold by the dead holder", s.Unhold(ctx(t), "i1", "dead"))
		if err := s.Hold(ctx(t), "i3", "h3", c.future, 1); reason(err) != resizer.ReasonFleetBusy {
			t.Fatalf("bound of 1 with i2 held: %v, want fleet_busy", err)
		}
		mustDo(t, "unhold i2", s.Unhold(ctx(t), "i2", "h2"))
		mustDo(t, "crashed again", s.Hold(ctx(t), "i4", "dead", c.past, 1))
		mustDo(t, "the lapsed instance is taken over", s.Hold(ctx(t), "i4", "alive", c.future, 1))
		mustDo(t, "unhold by the dead holder", s.Unhold(ctx(t), "i4", "dead"))
		if err := s.Hold(ctx(t), "i5", "h5", c.future, 1); reason(err) != resizer.ReasonFleetBusy {
			t.Fatalf("the dead holder's unhold freed the live holder's slot: %v, want fleet_busy", err)
		}
		if err := s.Hold(ctx(t), "i4", "h6", c.future, 1); reason(err) != resizer.ReasonInstanceBusy {
			t.Fatalf("the dead holder's unhold freed the live holder's hold: %v, want instance_busy", err)
		}
	}},
	{"instance_busy names the holder and when its hold lapses", func(t *testing.T, s resizer.Store, c clock) {
		mustDo(t, "hold", s.Hold(ctx(t), "cn-north-1/i-x", "delivery-1", c.future, 2))
		err := s.Hold(ctx(t), "cn-north-1/i-x", "delivery-2", c.future, 2)
		msg := fmt.Sprint(err)
		for _, want := range []string{"cn-north-1/i-x", `"delivery-1"`, c.future.UTC().Format(time.RFC3339), "retry later"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not name %s", msg, want)
			}
		}
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
	{"of 30 instances held at once under a bound of 3 exactly 3 win", func(t *testing.T, s resizer.Store, c clock) {
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range 30 {
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
		if ok, n, err := s.Take(ctx(t), "zero", c.now, 0, c.later); ok || n != 0 || err != nil {
			t.Fatalf("take under a max of 0: %t %d %v, want refused at 0", ok, n, err)
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
		mustDo(t, "put empty", s.PutHeld(ctx(t), resizer.Held{ID: "a3", Expires: c.future}))
		if h, err := s.GetHeld(ctx(t), "a3"); err != nil || h == nil || len(h.Request) != 0 {
			t.Fatalf("empty request: %+v %v", h, err)
		}
	}},
	{"the returned held request is the caller's own copy", func(t *testing.T, s resizer.Store, c clock) {
		mine := bytes.Clone(outcome)
		mustDo(t, "put", s.PutHeld(ctx(t), resizer.Held{ID: "a1", Request: mine, Expires: c.future}))
		mine[0] = 'X'
		h, err := s.GetHeld(ctx(t), "a1")
		mustDo(t, "get", err)
		h.Request[1] = 'X'
		if again, err := s.GetHeld(ctx(t), "a1"); err != nil || !bytes.Equal(again.Request, outcome) {
			t.Fatalf("stored request changed with the caller's slices: %q %v", again.Request, err)
		}
	}},
	{"fleet state fails retryably on a canceled context and stores nothing", func(t *testing.T, s resizer.Store, c clock) {
		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		retryable(t, "Hold", s.Hold(canceled, "i", "a", c.future, 1))
		_, _, err := s.Take(canceled, "n", c.now, 5, c.later)
		retryable(t, "Take", err)
		_, err = s.Add(canceled, "n", c.now, c.later)
		retryable(t, "Add", err)
		_, err = s.Count(canceled, "n", c.now)
		retryable(t, "Count", err)
		retryable(t, "PutHeld", s.PutHeld(canceled, resizer.Held{ID: "a", Request: outcome, Expires: c.future}))
		_, err = s.GetHeld(canceled, "a")
		retryable(t, "GetHeld", err)
		mustDo(t, "record", s.RecordResize(ctx(t), "i", c.now, c.later))
		retryable(t, "ForgetResize", s.ForgetResize(canceled, "i", c.now))
		if got := lastResize(t, s, "i"); !got.Equal(c.now) {
			t.Errorf("a canceled ForgetResize removed the mark")
		}
		mustDo(t, "the hold was not taken", s.Hold(ctx(t), "i", "b", c.future, 1))
		if n, err := s.Count(ctx(t), "n", c.now); n != 0 || err != nil {
			t.Errorf("count after canceled writes: %d %v", n, err)
		}
		if h, err := s.GetHeld(ctx(t), "a"); h != nil || err != nil {
			t.Errorf("held after a canceled put: %+v %v", h, err)
		}
	}},
}
