package resizer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
)

func withApprovals(c *clock) testkit.Option {
	return testkit.WithOptions(func(o *resizer.Options) {
		o.ApprovalRequired = []string{"alertmanager/"}
		o.ApprovalTTL = time.Hour
		if c != nil {
			o.Now = c.Now
		}
	})
}

// decision builds an approved or rejected event from source.
func decision(typ, source, id, approvalID, by string) event.Event {
	e := event.New()
	e.SetID(id)
	e.SetSource(source)
	e.SetType(typ)
	field := "approvedBy"
	if typ == resizer.TypeRejected {
		field = "rejectedBy"
	}
	_ = e.SetData(event.ApplicationJSON, map[string]any{"approvalId": approvalID, field: by})
	return e
}

// pending runs a request that needs approval and returns its approval id.
func pending(t *testing.T, r *rig, e event.Event) string {
	t.Helper()
	before := r.StateChanging()
	out := r.Handle(t, e)
	if out.Event.Type != resizer.TypePending || out.Err() != nil {
		t.Fatalf("want a pending outcome, got %s", out.Event.JSON)
	}
	a := out.Data.Approval
	if a == nil || a.ID == "" || a.ExpiresAt == "" || out.Data.Changed || out.Data.InstanceType == "" || out.Data.PreviousInstanceType == "" {
		t.Fatalf("pending data %s", out.Event.JSON)
	}
	if r.StateChanging() != before {
		t.Fatalf("a held request changed state: %v", r.Ops())
	}
	return a.ID
}

// Alerts propose, tickets decide: the held request runs in full when a
// ticket approves it, and its outcome names the original request and the
// approval. docs/contract.md §8.
func approvalLoop(t *testing.T, st testkit.Option) {
	c := &clock{t: time.Now()}
	r := newRig(t, st, withApprovals(c))
	req := request(relative("i-ladder01", "up"))
	id := pending(t, r, req)

	// A redelivery of the request republishes the pending outcome.
	if again := r.Handle(t, req); !again.Replay || again.Data.Approval == nil || again.Data.Approval.ID != id {
		t.Fatalf("redelivery: %s", again.Event.JSON)
	}
	out := r.Handle(t, decision(resizer.TypeApproved, "jira/OPS", "OPS-7:10001", id, "ana@example.com"))
	if out.Err() != nil || !out.Data.Changed || out.Event.Type != resizer.TypeSucceeded {
		t.Fatalf("approved run: %s", out.Event.JSON)
	}
	if out.Data.Request.ID != req.ID() || out.Data.Request.Source != req.Source() || out.Data.InstanceType != "g.n4.xlarge" {
		t.Fatalf("the outcome does not name the original request: %s", out.Event.JSON)
	}
	if a := out.Data.Approval; a == nil || a.ID != id || a.ApprovedBy != "ana@example.com" || a.ExpiresAt != "" {
		t.Fatalf("approval member %+v", a)
	}
	if n := r.Sim.Calls("resizeInstance"); n != 1 {
		t.Fatalf("resizeInstance calls = %d", n)
	}
	// A second approval (another Jira event) and a late rejection replay,
	// even once the approval's time is up.
	c.Add(2 * time.Hour)
	for _, e := range []event.Event{
		decision(resizer.TypeApproved, "jira/OPS", "OPS-7:10002", id, "bo@example.com"),
		decision(resizer.TypeRejected, "jira/OPS", "OPS-7:10003", id, "bo@example.com"),
	} {
		if again := r.Handle(t, e); !again.Replay || again.Event.ID != out.Event.ID {
			t.Fatalf("second decision: %s", again.Event.JSON)
		}
	}
	if n := r.Sim.Calls("resizeInstance"); n != 1 {
		t.Fatalf("resizeInstance calls = %d after replays", n)
	}
}

func approvalRefusals(t *testing.T, st testkit.Option) {
	c := &clock{t: time.Now()}
	r := newRig(t, st, withApprovals(c), withCooldown(time.Hour))
	type row struct {
		name   string
		event  func() event.Event
		code   resizer.Code
		reason string
		quoted string // the message names this
	}
	rows := []row{
		{"rejected", func() event.Event {
			id := pending(t, r, request(resize("i-stopped01", "g.n2.large")))
			return decision(resizer.TypeRejected, "jira/OPS", "OPS-1:1", id, "cy@example.com")
		}, resizer.CodePolicyDenied, resizer.ReasonApprovalRejected, "cy@example.com"},
		{"unknown id", func() event.Event {
			return decision(resizer.TypeApproved, "jira/OPS", "OPS-2:1", "never-issued", "x")
		}, resizer.CodeNotFound, resizer.ReasonApprovalNotFound, "never-issued"},
		{"not an approver", func() event.Event {
			id := pending(t, r, request(resize("i-stopped02", "g.n2.large")))
			return decision(resizer.TypeApproved, "alertmanager/prod", "self-approve", id, "bot")
		}, resizer.CodePolicyDenied, resizer.ReasonApproverNotAllowed, "alertmanager/prod"},
		{"expired", func() event.Event {
			id := pending(t, r, request(resize("i-stopped03", "g.n2.large")))
			c.Add(2 * time.Hour)
			return decision(resizer.TypeApproved, "jira/OPS", "OPS-3:1", id, "x")
		}, resizer.CodePolicyDenied, resizer.ReasonApprovalExpired, "expired"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			before := r.StateChanging()
			out := r.Handle(t, row.event())
			e := out.Err()
			if e == nil || e.Code != row.code || e.Reason != row.reason || !strings.Contains(e.Message, row.quoted) {
				t.Fatalf("want %s/%s naming %q, got %s", row.code, row.reason, row.quoted, out.Event.JSON)
			}
			if r.StateChanging() != before {
				t.Fatal("a refused decision changed state")
			}
		})
	}
}

// A request that would be refused is refused now, not held; a dry run and
// a source that needs no approval are not held; the approved run meets
// every guard again with fresh describe calls.
func approvalGateChecksNow(t *testing.T, st testkit.Option) {
	r := newRig(t, st, withApprovals(nil), withCooldown(time.Hour))
	if out := r.Handle(t, request(resize("i-arrears01", "g.n2.large"))); out.Err() == nil || out.Event.Type != resizer.TypeFailed {
		t.Fatalf("a request JD would refuse was not refused now: %s", out.Event.JSON)
	}
	if out := r.Handle(t, request(resize("i-stopped01", "g.n2.large", "dryRun", true))); out.Event.Type != resizer.TypeSucceeded {
		t.Fatalf("dry run: %s", out.Event.JSON)
	}
	other := request(resize("i-stopped01", "g.n2.large"))
	other.SetSource("ticketing/approved")
	if out := r.Handle(t, other); out.Event.Type != resizer.TypeSucceeded || !out.Data.Changed {
		t.Fatalf("a source that needs no approval: %s", out.Event.JSON)
	}
	// Held before the cooldown began; approved inside it: refused then.
	id := pending(t, r, request(resize("i-stopped02", "g.n2.large")))
	if out := r.Handle(t, request(resize("i-stopped02", "g.n3.large", "dryRun", true))); out.Err() != nil {
		t.Fatal(out.Err())
	}
	direct := request(resize("i-stopped02", "g.n3.large"))
	direct.SetSource("ticketing/approved")
	if out := r.Handle(t, direct); !out.Data.Changed {
		t.Fatalf("direct resize: %s", out.Event.JSON)
	}
	out := r.Handle(t, decision(resizer.TypeApproved, "jira/OPS", "OPS-9:1", id, "x"))
	if e := out.Err(); e == nil || e.Reason != resizer.ReasonCooldownActive || out.Data.Approval == nil || out.Data.Approval.ID != id {
		t.Fatalf("want cooldown_active at approval time, got %s", out.Event.JSON)
	}
}

// An approval never resizes a machine that changed type after it was held:
// the approved run finds it at another type and refuses.
func approvalOfAChangedInstance(t *testing.T, st testkit.Option) {
	r := newRig(t, st, withApprovals(nil))
	id := pending(t, r, request(resize("i-stopped01", "g.n2.large")))
	inst, _ := r.Sim.Instance("cn-north-1", "i-stopped01")
	inst.InstanceType = "g.n3.large"
	r.Sim.PutInstance("cn-north-1", inst)
	before := r.StateChanging()
	out := r.Handle(t, decision(resizer.TypeApproved, "jira/OPS", "OPS-11:1", id, "x"))
	if e := out.Err(); e == nil || e.Reason != resizer.ReasonUnexpectedCurrentType {
		t.Fatalf("want unexpected_current_type, got %s", out.Event.JSON)
	}
	if r.StateChanging() != before {
		t.Fatal("the approval changed a machine that changed type meanwhile")
	}
	long := decision(resizer.TypeApproved, "jira/OPS", "OPS-12:1", strings.Repeat("a", 10<<10), "x")
	if out := r.Handle(t, long); out.Err() == nil || out.Err().Code != resizer.CodeInvalidRequest {
		t.Fatalf("a 10 KB approval id: %s", out.Event.JSON)
	}
}

// TestApprovals runs every row of docs/contract.md §8 against both stores.
func TestApprovals(t *testing.T) {
	for _, st := range []struct {
		name  string
		store func(*testing.T) testkit.Option
	}{
		{"memory", func(*testing.T) testkit.Option { return testkit.WithOptions(func(*resizer.Options) {}) }},
		{"dynamodb", func(t *testing.T) testkit.Option { return withStore(dynamoStore(t)) }},
	} {
		t.Run(st.name, func(t *testing.T) {
			t.Run("loop", func(t *testing.T) { approvalLoop(t, st.store(t)) })
			t.Run("refusals", func(t *testing.T) { approvalRefusals(t, st.store(t)) })
			t.Run("checks now", func(t *testing.T) { approvalGateChecksNow(t, st.store(t)) })
			t.Run("changed instance", func(t *testing.T) { approvalOfAChangedInstance(t, st.store(t)) })
		})
	}
}
