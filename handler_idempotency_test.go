package resizer_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

func TestRedeliveryRepublishesTheStoredOutcome(t *testing.T) {
	r := newRig(t)
	e := request(resize("i-stopped01", "g.n2.large"))
	first := r.Handle(t, e)
	second := r.Handle(t, e)
	if first.Err() != nil || second.Err() != nil {
		t.Fatalf("errors: %v / %v", first.Err(), second.Err())
	}
	if second.Event.ID != first.Event.ID {
		t.Fatalf("redelivery produced a new outcome %s, want the stored %s", second.Event.ID, first.Event.ID)
	}
	if r.Sim.Calls("resizeInstance") != 1 || len(r.Pub.All()) != 2 {
		t.Fatalf("resize calls %d, publishes %d: want 1 and 2", r.Sim.Calls("resizeInstance"), len(r.Pub.All()))
	}
}

func TestSameIDDifferentDataIsInvalid(t *testing.T) {
	r := newRig(t)
	e := request(resize("i-stopped01", "g.n2.large"))
	r.Handle(t, e)
	other := e.Clone()
	_ = other.SetData(event.ApplicationJSON, resize("i-stopped02", "g.n2.large"))
	out := r.Handle(t, other)
	if out.Err() == nil || out.Err().Code != resizer.CodeInvalidRequest {
		t.Fatalf("want invalid_request, got %+v", out.Err())
	}
	if r.Sim.Calls("resizeInstance") != 1 {
		t.Fatalf("resize calls = %d, want 1", r.Sim.Calls("resizeInstance"))
	}
}

func TestRetryableOutcomeIsNotStored(t *testing.T) {
	r := newRig(t)
	r.Sim.Fail("resizeInstance", 503, 3) // exactly the client's attempts
	e := request(resize("i-stopped01", "g.n2.large"))
	if out := r.Handle(t, e); !out.Retryable() {
		t.Fatalf("first delivery should be retryable, got %+v", out.Err())
	}
	out := r.Handle(t, e)
	if out.Err() != nil || !out.Data.Changed {
		t.Fatalf("redelivery after a retryable failure should run again and succeed, got %+v", out.Err())
	}
}

func TestConcurrentDeliveriesResizeOnce(t *testing.T) {
	r := newRig(t)
	r.Sim.SetLatency("resizeInstance", 50*time.Millisecond)
	r.Rebuild(func(o *resizer.Options) { o.InProgressWait = 3 * time.Second })
	e := request(resize("i-stopped01", "g.n2.large"))
	outs := deliverConcurrently(r.Handler, e, 50)
	requireOneResizeOneOutcome(t, r, outs)
}

// requireOneResizeOneOutcome: concurrent deliveries of one request made
// exactly one resizeInstance call, none failed permanently, and every one
// that succeeded answered the same (stored) outcome. It returns that id.
func requireOneResizeOneOutcome(t *testing.T, r *rig, outs []resizer.Outcome) string {
	t.Helper()
	if n := r.Sim.Calls("resizeInstance"); n != 1 {
		t.Fatalf("resizeInstance calls = %d, want exactly 1", n)
	}
	ids := map[string]bool{}
	for _, o := range outs {
		switch {
		case o.Err() == nil:
			ids[o.Event.ID] = true
		case !o.Retryable():
			t.Fatalf("a concurrent delivery failed permanently: %+v", o.Err())
		}
	}
	if len(ids) != 1 {
		t.Fatalf("deliveries answered %d different succeeded outcomes, want the stored one", len(ids))
	}
	for id := range ids {
		return id
	}
	return ""
}

func deliverConcurrently(h *resizer.Handler, e event.Event, n int) []resizer.Outcome {
	outs := make([]resizer.Outcome, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			outs[i] = h.Handle(ctx, e.Clone())
		}()
	}
	close(start)
	wg.Wait()
	return outs
}

func TestCooldownRefusesASecondResize(t *testing.T) {
	r := newRig(t, withCooldown(time.Hour))
	if out := r.Handle(t, request(resize("i-stopped01", "g.n2.large"))); out.Err() != nil {
		t.Fatal(out.Err())
	}
	out := r.Handle(t, request(resize("i-stopped01", "g.n3.large")))
	if out.Err() == nil || out.Err().Code != resizer.CodePolicyDenied || out.Err().Reason != resizer.ReasonCooldownActive {
		t.Fatalf("want policy_denied/cooldown_active, got %+v", out.Err())
	}
	if r.Sim.Calls("resizeInstance") != 1 {
		t.Fatalf("resize calls = %d, want 1", r.Sim.Calls("resizeInstance"))
	}
	// Another instance is not affected.
	if out := r.Handle(t, request(resize("i-stopped02", "g.n2.large"))); out.Err() != nil {
		t.Fatalf("cooldown of one instance refused another: %v", out.Err())
	}
}

func TestOutcomeCarriesTraceparentAndSubject(t *testing.T) {
	r := newRig(t)
	e := request(resize("i-stopped01", "g.n2.large", "reason", "cpu > 90%", "requestedBy", "oncall"))
	e.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	out := r.Handle(t, e)
	if out.Event.Subject != "i-stopped01" {
		t.Fatalf("subject = %q", out.Event.Subject)
	}
	ev := decoded(t, out)
	if tp, _ := ev.Extensions()["traceparent"].(string); tp != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Fatalf("traceparent = %q", tp)
	}
	var data map[string]any
	_ = json.Unmarshal(ev.Data(), &data)
	for _, k := range []string{"request", "regionId", "instanceId", "instanceType", "previousInstanceType", "changed", "dryRun", "jdcloudRequestId", "reason", "requestedBy"} {
		if _, ok := data[k]; !ok {
			t.Fatalf("outcome data lacks %s: %s", k, ev.Data())
		}
	}
	if data["previousInstanceType"] != "g.n2.medium" || data["reason"] != "cpu > 90%" {
		t.Fatalf("outcome data %s", ev.Data())
	}
	if out.Event.ID == e.ID() || ev.DataContentType() != "application/json" {
		t.Fatalf("outcome id must be fresh and data JSON")
	}
}
