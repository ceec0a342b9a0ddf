package resizer_test

import (
	"strings"
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

// TestFaultsLeaveATrueOutcomeAndARunningMachine injects, for every
// state-changing call of stop → resize → start, an answer lost before the
// call took effect and one lost after it did (docs/contract.md §12). Each
// time the outcome tells what the simulator says happened, the instance
// ends running, and a resize that happened starts the cooldown.
func TestFaultsLeaveATrueOutcomeAndARunningMachine(t *testing.T) {
	const inst, from, to = "i-running01", "g.n2.medium", "g.n2.large"
	type fault func(*jdcloudsim.Server)
	failAll := func(op string) fault { return func(s *jdcloudsim.Server) { s.Fail(op, 503, 3) } }
	after := func(op string) fault { return func(s *jdcloudsim.Server) { s.FailAfterApply(op, 503, 1) } }
	dropBefore := func(op string) fault { return func(s *jdcloudsim.Server) { s.DropBeforeApply(op, 1) } }
	dropAfter := func(op string) fault { return func(s *jdcloudsim.Server) { s.DropAfterApply(op, 1) } }
	rows := []struct {
		name      string
		fault     fault
		succeeded bool
		reason    string // of a failure; "" when any
	}{
		{"stop refused on every attempt", failAll("stopInstance"), false, ""},
		{"stop done, its answer a 503", after("stopInstance"), true, ""},
		{"stop dropped before it took effect", dropBefore("stopInstance"), true, ""},
		{"stop done, its connection dropped", dropAfter("stopInstance"), true, ""},
		{"resize refused on every attempt", failAll("resizeInstance"), false, ""},
		{"resize done, its answer a 503", after("resizeInstance"), true, ""},
		{"resize dropped before it took effect", dropBefore("resizeInstance"), true, ""},
		{"resize done, its connection dropped", dropAfter("resizeInstance"), true, ""},
		{"start refused on every attempt, then works", failAll("startInstance"), true, ""},
		{"start done, its answer a 503", after("startInstance"), true, ""},
		{"start dropped before it took effect", dropBefore("startInstance"), true, ""},
		{"start done, its connection dropped", dropAfter("startInstance"), true, ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := newRig(t, allowAll(), withTransition(10*time.Millisecond), withCooldown(time.Hour))
			row.fault(r.Sim)
			out := r.Handle(t, request(resize(inst, to, "stopIfRunning", true)))
			got, _ := r.Sim.Instance("cn-north-1", inst)
			waitStatus(t, r, inst, resizer.StatusRunning)
			got, _ = r.Sim.Instance("cn-north-1", inst)
			if changed := got.InstanceType == to; out.Data.Changed != changed {
				t.Fatalf("changed = %t, but the simulator has the instance at %s (ops %v)", out.Data.Changed, got.InstanceType, r.Ops())
			}
			if out.Succeeded() != row.succeeded {
				t.Fatalf("succeeded = %t, want %t: %+v (ops %v)", out.Succeeded(), row.succeeded, out.Err(), r.Ops())
			}
			if out.Succeeded() && (got.InstanceType != to || !out.Data.Restarted) {
				t.Fatalf("succeeded but the instance is %s, restarted=%t", got.InstanceType, out.Data.Restarted)
			}
			if !out.Succeeded() && !strings.Contains(out.Err().Message, "started again") && !strings.Contains(out.Err().Message, "running") && r.Sim.Calls("stopInstance") > 0 && got.Status != resizer.StatusRunning {
				t.Fatalf("failure does not say what happened to the machine: %s", out.Err().Message)
			}
			resizes := 0
			for _, q := range r.Sim.Requests() {
				if q.Op == "resizeInstance" && q.Status == 200 {
					resizes++
				}
			}
			if resizes > 1 {
				t.Fatalf("%d accepted resizes", resizes)
			}
			before := r.StateChanging()
			second := r.Handle(t, request(resize(inst, "g.n3.large", "stopIfRunning", true)))
			if out.Data.Changed {
				if second.Err() == nil || second.Err().Reason != resizer.ReasonCooldownActive || r.StateChanging() != before {
					t.Fatalf("a second request inside the cooldown: %+v, %d new state-changing calls", second.Err(), r.StateChanging()-before)
				}
			}
		})
	}
}

// A start refused at the new type rolls the resize back: the machine runs
// at its previous type and the outcome says so (docs/contract.md §9).
func TestRollbackWhenTheInstanceWillNotRunAtTheNewType(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(*jdcloudsim.Server)
	}{
		{"start refused", func(s *jdcloudsim.Server) { s.RefuseStart("cn-north-1", "i-running01", "g.n2.large") }},
		{"start ends stopped", func(s *jdcloudsim.Server) { s.StartEndsIn("cn-north-1", "i-running01", "g.n2.large", "stopped") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, allowAll(), withTransition(10*time.Millisecond))
			tc.fault(r.Sim)
			out := r.Handle(t, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
			if out.Err() == nil || out.Err().Code != resizer.CodeAPIError || !out.Data.RolledBack || out.Data.Changed || out.Data.InstanceType != "g.n2.large" {
				t.Fatalf("outcome %+v err %+v, want failed api_error rolledBack changed=false (ops %v)", out.Data, out.Err(), r.Ops())
			}
			waitStatus(t, r, "i-running01", resizer.StatusRunning)
			if got, _ := r.Sim.Instance("cn-north-1", "i-running01"); got.InstanceType != "g.n2.medium" {
				t.Fatalf("instance is %s, want rolled back to g.n2.medium", got.InstanceType)
			}
			if !strings.Contains(out.Err().Message, "resized back to g.n2.medium") {
				t.Fatalf("message %q does not tell of the rollback", out.Err().Message)
			}
		})
	}
}

// A rollback that fails too says loudly that the instance needs an operator.
func TestFailedRollbackNeedsAnOperator(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(10*time.Millisecond))
	r.Sim.RefuseStart("cn-north-1", "i-running01", "g.n2.large")
	r.Sim.StartEndsIn("cn-north-1", "i-running01", "g.n2.medium", "error")
	out := r.Handle(t, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
	if out.Err() == nil || out.Data.RolledBack || !strings.Contains(out.Err().Message, "needs an operator") {
		t.Fatalf("outcome %+v err %+v, want a loud failure", out.Data, out.Err())
	}
}

// Someone else changes the instance while the request waits for its
// resize: the wait stops, the instance is given back, and the outcome names
// the type found.
func TestAForeignChangeEndsTheWait(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(300*time.Millisecond))
	go func() {
		for r.Sim.Calls("resizeInstance") == 0 {
			time.Sleep(time.Millisecond)
		}
		inst, _ := r.Sim.Instance("cn-north-1", "i-running01")
		inst.InstanceType, inst.Status = "m.n2.large", resizer.StatusStopped
		r.Sim.PutInstance("cn-north-1", inst)
	}()
	out := r.Handle(t, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
	if out.Err() == nil || out.Err().Code != resizer.CodeAPIError || !strings.Contains(out.Err().Message, "m.n2.large") {
		t.Fatalf("want api_error naming m.n2.large, got %+v (ops %v)", out.Err(), r.Ops())
	}
	if !out.Data.Restarted || !strings.Contains(out.Err().Message, "started again") {
		t.Fatalf("restarted=%t, message %q: what we stopped, we start", out.Data.Restarted, out.Err().Message)
	}
	waitStatus(t, r, "i-running01", resizer.StatusRunning)
}
