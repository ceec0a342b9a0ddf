package resizer_test

import (
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/dynalite"
	"github.com/jdcloud-vm-resizer/resizer/store"
)

func dynamoStore(t *testing.T) resizer.Store {
	t.Helper()
	srv, err := dynalite.Shared()
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	return store.NewDynamoDB(c, dynalite.NewTable(t, c))
}

// TestExactlyOnceWithDynamoDB: 50 deliveries of one event at once, sharing a
// real DynamoDB-compatible table as separate Lambda copies would, make
// exactly one resizeInstance call.
func TestExactlyOnceWithDynamoDB(t *testing.T) {
	r := newRig(t, withStore(dynamoStore(t)))
	r.Sim.SetLatency("resizeInstance", 100*time.Millisecond)
	r.Rebuild(func(o *resizer.Options) { o.InProgressWait = 5 * time.Second })
	e := request(resize("i-stopped01", "g.n2.large"))
	outs := deliverConcurrently(r.Handler, e, 50)
	stored := requireOneResizeOneOutcome(t, r, outs)
	// A later redelivery is a pure republish.
	again := r.Handle(t, e)
	if again.Event.ID != stored || r.StateChanging() != 1 {
		t.Fatalf("redelivery: outcome %s, state-changing calls %d", again.Event.ID, r.StateChanging())
	}
}

func TestCooldownWithDynamoDB(t *testing.T) {
	r := newRig(t, withStore(dynamoStore(t)), withCooldown(time.Hour))
	if out := r.Handle(t, request(resize("i-stopped01", "g.n2.large"))); out.Err() != nil {
		t.Fatal(out.Err())
	}
	out := r.Handle(t, request(resize("i-stopped01", "g.n3.large")))
	if out.Err() == nil || out.Err().Reason != resizer.ReasonCooldownActive {
		t.Fatalf("want cooldown_active, got %+v", out.Err())
	}
}
