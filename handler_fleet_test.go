package resizer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/store"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// fleet adds n copies of the fixture's instance like, named i-fleet000…,
// and returns their ids.
func fleet(t *testing.T, r *rig, like string, n int) []string {
	t.Helper()
	base, ok := r.Sim.Instance("cn-north-1", like)
	if !ok {
		t.Fatalf("no instance %s", like)
	}
	ids := make([]string, n)
	for i := range ids {
		inst := base
		inst.InstanceID = fmt.Sprintf("i-fleet%03d", i)
		r.Sim.PutInstance("cn-north-1", inst)
		ids[i] = inst.InstanceID
	}
	return ids
}

func resizesOf(r *rig, instance string) int {
	n := 0
	for _, q := range r.Sim.Requests() {
		if q.Op == "resizeInstance" && strings.Contains(q.Path, "/"+instance+":") {
			n++
		}
	}
	return n
}

// clock is a settable Now for guards that read the time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Two different requests for one instance that overlap: one acts, the
// other is refused before any state-changing call (instance_busy while the
// first holds the instance, cooldown_active after) — never a second resize.
// docs/contract.md §9 "one operation per instance", §12 "the hold comes first".
func TestStaggeredRequestsResizeOnce(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(30*time.Millisecond), withCooldown(time.Hour))
	ids := fleet(t, r, "i-running01", 12)
	var wg sync.WaitGroup
	outs := make([][2]resizer.Outcome, len(ids))
	for i, id := range ids {
		for j := range 2 {
			wg.Go(func() {
				time.Sleep(time.Duration(j*(i%4)) * 5 * time.Millisecond) // staggered
				target := []string{"g.n2.large", "g.n3.large"}[j]
				outs[i][j] = r.Handle(t, request(resize(id, target, "stopIfRunning", true)))
			})
		}
	}
	wg.Wait()
	for i, id := range ids {
		if n := resizesOf(r, id); n != 1 {
			t.Fatalf("%s resized %d times, want once", id, n)
		}
		ok := 0
		for _, out := range outs[i] {
			switch e := out.Err(); {
			case e == nil && out.Data.Changed:
				ok++
			case e != nil && (e.Reason == resizer.ReasonInstanceBusy && e.Retryable || e.Reason == resizer.ReasonCooldownActive):
			default:
				t.Fatalf("%s: unexpected outcome %s", id, out.Event.JSON)
			}
		}
		if ok != 1 {
			t.Fatalf("%s: %d requests succeeded, want 1", id, ok)
		}
		if inst, _ := r.Sim.Instance("cn-north-1", id); inst.Status != resizer.StatusRunning {
			t.Fatalf("%s left %s", id, inst.Status)
		}
	}
}

// MAX_RESIZES_PER_WINDOW: of 8 state-changing requests in one window, 5
// start; the others are refused naming the window's end; the next window
// has a fresh budget. A dry run reports the refusal and takes nothing.
func TestResizesPerWindow(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 2, 14, 10, 0, 0, time.UTC)}
	r := newRig(t, testkit.WithOptions(func(o *resizer.Options) {
		o.MaxPerWindow, o.FleetWindow, o.Now = 5, time.Hour, c.Now
	}))
	ids := fleet(t, r, "i-stopped01", 9)
	var wg sync.WaitGroup
	outs := make([]resizer.Outcome, 8)
	for i := range outs {
		wg.Go(func() { outs[i] = r.Handle(t, request(resize(ids[i], "g.n2.large"))) })
	}
	wg.Wait()
	refused := 0
	for _, out := range outs {
		if e := out.Err(); e != nil {
			if e.Reason != resizer.ReasonFleetLimitReached || e.Code != resizer.CodePolicyDenied || !strings.Contains(e.Message, "2026-12-02T15:00:00Z") || !strings.Contains(e.Message, "MAX_RESIZES_PER_WINDOW") {
				t.Fatalf("refusal %+v", e)
			}
			refused++
		}
	}
	if refused != 3 || r.Sim.Calls("resizeInstance") != 5 {
		t.Fatalf("%d refused, %d resized; want 3 and 5", refused, r.Sim.Calls("resizeInstance"))
	}
	if out := r.Handle(t, request(resize(ids[8], "g.n2.large", "dryRun", true))); out.Err() == nil || out.Err().Reason != resizer.ReasonFleetLimitReached {
		t.Fatalf("dry run in a spent window: %s", out.Event.JSON)
	}
	c.Add(time.Hour)
	if out := r.Handle(t, request(resize(ids[8], "g.n2.large"))); out.Err() != nil {
		t.Fatalf("next window: %s", out.Event.JSON)
	}
}

// MAX_FAILURES_PER_WINDOW opens the circuit after two api_error failures:
// the third request calls nothing that changes state.
func TestCircuitOpens(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 2, 14, 10, 0, 0, time.UTC)}
	r := newRig(t, testkit.WithOptions(func(o *resizer.Options) { o.MaxFailures, o.Now = 2, c.Now }))
	r.Sim.Fail("resizeInstance", 400, 2)
	for _, id := range []string{"i-stopped01", "i-stopped02"} {
		if out := r.Handle(t, request(resize(id, "g.n2.large"))); out.Err() == nil || out.Err().Code != resizer.CodeAPIError {
			t.Fatalf("want api_error, got %s", out.Event.JSON)
		}
	}
	before := r.Sim.Calls("resizeInstance")
	out := r.Handle(t, request(resize("i-stopped03", "g.n2.large")))
	if e := out.Err(); e == nil || e.Reason != resizer.ReasonCircuitOpen || !strings.Contains(e.Message, "2026-12-02T15:00:00Z") {
		t.Fatalf("want circuit_open naming the window's end, got %s", out.Event.JSON)
	}
	if r.Sim.Calls("resizeInstance") != before {
		t.Fatal("a resize was called with the circuit open")
	}
	// Refusals by policy do not count as failures, and the next window closes the circuit.
	c.Add(time.Hour)
	if out := r.Handle(t, request(resize("i-stopped03", "g.n2.large"))); out.Err() != nil {
		t.Fatalf("next window: %s", out.Event.JSON)
	}
}

// RESIZE_WINDOWS: outside, a request is refused before any state-changing
// call, naming the next opening; a dry run says the same; inside, it runs;
// a no-op needs no window.
func TestResizeWindows(t *testing.T) {
	s, err := resizer.ParseSchedule("Mon-Fri 01:00-05:00", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)} // Wednesday afternoon
	r := newRig(t, testkit.WithOptions(func(o *resizer.Options) { o.Windows, o.Now = s, c.Now }))
	for _, dry := range []bool{false, true} {
		out := r.Handle(t, request(resize("i-stopped01", "g.n2.large", "dryRun", dry)))
		if e := out.Err(); e == nil || e.Reason != resizer.ReasonOutsideWindow || !strings.Contains(e.Message, "2026-12-03T01:00:00Z") {
			t.Fatalf("dry=%t: want outside_window naming the next opening, got %s", dry, out.Event.JSON)
		}
	}
	if r.StateChanging() != 0 {
		t.Fatal("state-changing call outside the window")
	}
	if out := r.Handle(t, request(resize("i-stopped01", "g.n2.medium"))); out.Err() != nil || out.Data.Changed {
		t.Fatalf("a no-op outside the window: %s", out.Event.JSON)
	}
	c.Add(12 * time.Hour) // Thursday 02:00
	if out := r.Handle(t, request(resize("i-stopped01", "g.n2.large"))); out.Err() != nil || !out.Data.Changed {
		t.Fatalf("inside the window: %s", out.Event.JSON)
	}
}

// A hold whose holder died lapses at its lease and is taken over; a live
// one refuses instance_busy.
func TestHoldTakeover(t *testing.T) {
	mem := store.NewMemory(100)
	r := newRig(t, withStore(mem))
	ctx := context.Background()
	if err := mem.Hold(ctx, "cn-north-1/i-stopped01", "dead-holder", time.Now().Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	out := r.Handle(t, request(resize("i-stopped01", "g.n2.large")))
	if e := out.Err(); e == nil || e.Reason != resizer.ReasonInstanceBusy || !e.Retryable {
		t.Fatalf("want instance_busy while another holds the instance, got %s", out.Event.JSON)
	}
	if err := mem.Hold(ctx, "cn-north-1/i-stopped02", "dead-holder", time.Now().Add(-time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if out := r.Handle(t, request(resize("i-stopped02", "g.n2.large"))); out.Err() != nil {
		t.Fatalf("a lapsed hold was not taken over: %s", out.Event.JSON)
	}
}

// failingMarks is a store whose cooldown marks cannot be written.
type failingMarks struct{ resizer.Store }

func (failingMarks) RecordResize(context.Context, string, time.Time, time.Time) error {
	return &resizer.Error{Code: resizer.CodeUnavailable, Message: "store down", Err: errors.New("connection refused")}
}

// The cooldown mark comes before the first state-changing call: a store
// that cannot write it refuses the request, retryable, with nothing changed.
func TestCooldownMarkFirst(t *testing.T) {
	r := newRig(t, allowAll(), withCooldown(time.Hour), withStore(failingMarks{store.NewMemory(100)}))
	out := r.Handle(t, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
	if e := out.Err(); e == nil || e.Code != resizer.CodeUnavailable || !e.Retryable || !strings.Contains(e.Message, "nothing was changed") {
		t.Fatalf("want retryable unavailable, got %s", out.Event.JSON)
	}
	if r.StateChanging() != 0 {
		t.Fatalf("state-changing calls: %v", r.Ops())
	}
}

// A resize that JD refuses takes its mark back: the retry is not refused
// cooldown_active.
func TestCooldownMarkTakenBackOnFailure(t *testing.T) {
	r := newRig(t, withCooldown(time.Hour))
	r.Sim.Fail("resizeInstance", 400, 1)
	if out := r.Handle(t, request(resize("i-stopped01", "g.n2.large"))); out.Err() == nil {
		t.Fatal("want the injected failure")
	}
	if out := r.Handle(t, request(resize("i-stopped01", "g.n2.large"))); out.Err() != nil {
		t.Fatalf("retry after a failed resize: %s", out.Event.JSON)
	}
	if out := r.Handle(t, request(resize("i-stopped01", "g.n3.large"))); out.Err() == nil || out.Err().Reason != resizer.ReasonCooldownActive {
		t.Fatalf("want cooldown_active after the resize, got %s", out.Event.JSON)
	}
}

// The memory store never evicts a cooldown mark to make room: thousands of
// other requests later, the instance is still in cooldown.
func TestMemoryStoreKeepsMarks(t *testing.T) {
	r := newRig(t, withCooldown(time.Hour), withStore(store.NewMemory(50)))
	if out := r.Handle(t, request(resize("i-stopped01", "g.n2.large"))); out.Err() != nil {
		t.Fatal(out.Err())
	}
	for i := range 500 {
		r.Handle(t, request(resize(fmt.Sprintf("i-missing%04d", i), "g.n2.large", "dryRun", true)))
	}
	if out := r.Handle(t, request(resize("i-stopped01", "g.n3.large"))); out.Err() == nil || out.Err().Reason != resizer.ReasonCooldownActive {
		t.Fatalf("want cooldown_active, got %s", out.Event.JSON)
	}
}

// The staggered-request race of docs/contract.md §12: a second request for
// one instance sent at every point of the first's stop → resize → start
// (every 60 ms of a ~1 s flow) never makes a second resize, and the first
// never waits out its deadline.
func TestStaggeredAtEveryPointOfTheFlow(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(200*time.Millisecond), withCooldown(time.Hour))
	ids := fleet(t, r, "i-running01", 18)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			var first resizer.Outcome
			var took time.Duration
			done := make(chan struct{})
			go func() {
				defer close(done)
				start := time.Now()
				first = r.Handle(t, request(resize(id, "g.n2.large", "stopIfRunning", true)))
				took = time.Since(start)
			}()
			time.Sleep(time.Duration(i) * 60 * time.Millisecond)
			second := r.Handle(t, request(resize(id, "g.n3.large", "stopIfRunning", true)))
			<-done
			// At 0 ms either may come first: one acts, the other is refused.
			acted := 0
			for _, out := range []resizer.Outcome{first, second} {
				switch e := out.Err(); {
				case e == nil && out.Data.Changed:
					acted++
				case e != nil && (e.Reason == resizer.ReasonInstanceBusy || e.Reason == resizer.ReasonCooldownActive):
				default:
					t.Errorf("%s (second after %d ms): %s", id, i*60, out.Event.JSON)
				}
			}
			if acted != 1 || (i > 0 && first.Err() != nil) {
				t.Errorf("%s (second after %d ms): %d acted; first %s", id, i*60, acted, first.Event.JSON)
			}
			if n := resizesOf(r, id); n != 1 {
				t.Errorf("%s resized %d times", id, n)
			}
			if took > 5*time.Second {
				t.Errorf("%s: the first request took %s", id, took)
			}
		})
	}
	wg.Wait()
}

// MAX_CONCURRENT_RESIZES bounds the machines out of service at once,
// through SQS as the template deploys it: 30 requests in
// three batches of 10 run at once (three Lambda copies), the simulator's
// transitions take 150 ms, and each batch's fleet_busy records come back
// as batchItemFailures that the queue redelivers until every instance is
// done; never more than 3 out of service at once.
func TestMaxConcurrentResizesThroughSQS(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(150*time.Millisecond), testkit.WithOptions(func(o *resizer.Options) { o.MaxConcurrent = 3 }))
	ids := fleet(t, r, "i-running01", 30)
	d := trigger.New(r.Handler, trigger.Options{Concurrency: 10})
	body := func(id string) string {
		b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "sqs-" + id, "source": "alertmanager/prod",
			"type": resizer.TypeRequested, "datacontenttype": "application/json",
			"data": resize(id, "g.n2.large", "stopIfRunning", true)})
		return string(b)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	redeliveries := 0
	for copy := range 3 {
		wg.Go(func() {
			pending := ids[copy*10 : copy*10+10]
			for round := 0; len(pending) > 0; round++ {
				if round > 100 {
					t.Errorf("copy %d: %d records never got through", copy, len(pending))
					return
				}
				var ev events.SQSEvent
				for _, id := range pending {
					ev.Records = append(ev.Records, events.SQSMessage{MessageId: id, Body: body(id), EventSource: "aws:sqs"})
				}
				payload, _ := json.Marshal(ev)
				out, err := d.Invoke(context.Background(), payload)
				if err != nil {
					t.Errorf("invoke: %v", err)
					return
				}
				var resp events.SQSEventResponse
				_ = json.Unmarshal(out, &resp)
				pending = pending[:0:0]
				for _, f := range resp.BatchItemFailures {
					pending = append(pending, f.ItemIdentifier)
				}
				mu.Lock()
				redeliveries += len(pending)
				mu.Unlock()
				time.Sleep(100 * time.Millisecond) // the queue's redelivery delay
			}
		})
	}
	wg.Wait()
	if p := r.Sim.PeakOutOfService(); p > 3 || p == 0 {
		t.Fatalf("peak out of service = %d, want 1..3", p)
	}
	for _, id := range ids {
		if n := resizesOf(r, id); n != 1 {
			t.Fatalf("%s resized %d times", id, n)
		}
		if inst, _ := r.Sim.Instance("cn-north-1", id); inst.Status != resizer.StatusRunning || inst.InstanceType != "g.n2.large" {
			t.Fatalf("%s is %s %s", id, inst.Status, inst.InstanceType)
		}
	}
	if redeliveries == 0 {
		t.Fatal("no record was redelivered: the bound was not exercised")
	}
	t.Logf("30 resizes through SQS under MAX_CONCURRENT_RESIZES=3: peak %d out of service, %d redeliveries", r.Sim.PeakOutOfService(), redeliveries)
}
