package resizer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

func indexOf(ops []string, op string) int {
	for i, o := range ops {
		if o == op {
			return i
		}
	}
	return -1
}

func TestStopResizeStart(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(20*time.Millisecond))
	out := r.Handle(t, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
	want{outcome: "succeeded", changed: true, resizeCalls: 1}.check(t, r, out)

	ops := r.Ops()
	stop, rsz, start := indexOf(ops, "stopInstance"), indexOf(ops, "resizeInstance"), indexOf(ops, "startInstance")
	if !(stop > 0 && stop < rsz && rsz < start) {
		t.Fatalf("call order %v: want stop, then resize, then start", ops)
	}
	if ops[stop+1] != "describeInstance" || ops[rsz+1] != "describeInstance" || ops[len(ops)-1] != "describeInstance" {
		t.Fatalf("call order %v: want a wait (describeInstance) after stop, resize and start", ops)
	}
	inst, _ := r.Sim.Instance("cn-north-1", "i-running01")
	if inst.Status != resizer.StatusRunning || inst.InstanceType != "g.n2.large" {
		t.Fatalf("instance is %s %s, want running g.n2.large", inst.Status, inst.InstanceType)
	}
	if !out.Data.Stopped || !out.Data.Restarted {
		t.Fatalf("stopped=%t restarted=%t, want both", out.Data.Stopped, out.Data.Restarted)
	}
	// The stop keeps the machine's resources: stopCharging would release
	// them, and the start at the new type could then find no stock.
	for _, q := range r.Sim.Requests() {
		if q.Op == "stopInstance" && string(q.Body) != `{"chargeOnStopped":"keepCharging"}` {
			t.Fatalf("stopInstance body %s, want keepCharging", q.Body)
		}
	}
	if r.Sim.StoppedCharging("cn-north-1", "i-running01") {
		t.Fatal("the simulator says the instance was stopped with stopCharging")
	}
	for _, k := range []string{"stop", "resize", "start", "total"} {
		if _, ok := out.Data.Timings[k]; !ok {
			t.Fatalf("timings %v lack %s", out.Data.Timings, k)
		}
	}
}

func TestStopResizeStartRestartsAfterFailedResize(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(10*time.Millisecond))
	r.Sim.Fail("resizeInstance", 400, 1)
	out := r.Handle(t, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
	want{outcome: "failed", code: resizer.CodeAPIError, resizeCalls: 1}.check(t, r, out)

	ops := r.Ops()
	if indexOf(ops, "startInstance") < indexOf(ops, "resizeInstance") {
		t.Fatalf("call order %v: want startInstance after the failed resize", ops)
	}
	waitStatus(t, r, "i-running01", resizer.StatusRunning)
	inst, _ := r.Sim.Instance("cn-north-1", "i-running01")
	if inst.InstanceType != "g.n2.medium" {
		t.Fatalf("type = %s, want the original g.n2.medium", inst.InstanceType)
	}
	if !out.Data.Stopped || !out.Data.Restarted {
		t.Fatalf("stopped=%t restarted=%t, want both", out.Data.Stopped, out.Data.Restarted)
	}
}

func TestStopResizeStartTimeoutStillRestarts(t *testing.T) {
	// Each transition takes 600 ms; the work must end 1 s before a 1.5 s
	// deadline, so the stop cannot finish in time, and the give-back has
	// the time to start the instance but not to see it running at the new
	// type (then the request would have succeeded after all).
	r := newRig(t, allowAll(), withTransition(600*time.Millisecond))
	r.Rebuild(func(o *resizer.Options) { o.PublishMargin = time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	out := r.Handler.Handle(ctx, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
	if out.Err() == nil || out.Err().Code != resizer.CodeTimeout || !out.Retryable() {
		t.Fatalf("want a retryable timeout, got %+v", out.Err())
	}
	if indexOf(r.Ops(), "startInstance") < 0 || !out.Data.Restarted {
		t.Fatalf("the instance was not started again: ops %v restarted=%t", r.Ops(), out.Data.Restarted)
	}
	waitStatus(t, r, "i-running01", resizer.StatusRunning)
}

func TestAlreadyStoppedInstanceStaysStopped(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(10*time.Millisecond))
	out := r.Handle(t, request(resize("i-stopped03", "g.n2.large", "stopIfRunning", true)))
	want{outcome: "succeeded", changed: true, resizeCalls: 1}.check(t, r, out)
	if r.Sim.Calls("startInstance") != 0 || r.Sim.Calls("stopInstance") != 0 {
		t.Fatalf("ops %v: an instance that was stopped must stay stopped", r.Ops())
	}
}

// waitStatus waits for the simulator to settle a transition we started.
func waitStatus(t *testing.T, r *rig, id, status string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		inst, _ := r.Sim.Instance("cn-north-1", id)
		if inst.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s is %s, want %s", id, inst.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFailedStopLeavesARunningInstanceAlone(t *testing.T) {
	r := newRig(t, allowAll())
	r.Sim.Fail("stopInstance", 503, 3) // every attempt of the client
	out := r.Handle(t, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
	if out.Err() == nil || out.Err().Code != resizer.CodeUnavailable || !out.Retryable() {
		t.Fatalf("want retryable unavailable, got %+v", out.Err())
	}
	if r.Sim.Calls("startInstance") != 0 || r.Sim.Calls("resizeInstance") != 0 || out.Data.Stopped || out.Data.Restarted {
		t.Fatalf("ops %v stopped=%t restarted=%t: the instance never stopped, nothing to give back", r.Ops(), out.Data.Stopped, out.Data.Restarted)
	}
	inst, _ := r.Sim.Instance("cn-north-1", "i-running01")
	if inst.Status != resizer.StatusRunning {
		t.Fatalf("instance is %s", inst.Status)
	}
}

// A shutdown drains a delivery mid-flow: it stops changing the machine,
// ends as a retryable timeout, gives back what it stopped, publishes, and
// stores nothing final, so that a redelivery runs again (docs/contract.md §12).
func TestDrainEndsTheFlowAndGivesBack(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(300*time.Millisecond))
	drain, drained := context.WithCancel(context.Background())
	go func() {
		for r.Sim.Calls("stopInstance") == 0 {
			time.Sleep(time.Millisecond)
		}
		drained()
	}()
	e := request(resize("i-running01", "g.n2.large", "stopIfRunning", true))
	ctx, cancel := context.WithTimeout(resizer.ContextWithDrain(context.Background(), drain), 10*time.Second)
	defer cancel()
	out := r.Handler.Handle(ctx, e)
	if out.Err() == nil || out.Err().Code != resizer.CodeTimeout || !out.Retryable() {
		t.Fatalf("want a retryable timeout, got %+v", out.Err())
	}
	if r.Sim.Calls("resizeInstance") != 0 || !out.Data.Restarted {
		t.Fatalf("ops %v restarted=%t: a drained delivery changes nothing more and gives back", r.Ops(), out.Data.Restarted)
	}
	if got := r.Pub.All(); len(got) != 1 || got[0].ID() != out.Event.ID {
		t.Fatalf("published %d events, want the outcome", len(got))
	}
	waitStatus(t, r, "i-running01", resizer.StatusRunning)
	again := r.Handle(t, e)
	if again.Replay || !again.Succeeded() || !again.Data.Changed {
		t.Fatalf("redelivery: replay=%t %+v, want a fresh run that resizes", again.Replay, again.Err())
	}
}

// drainWhen drains the delivery started under the returned context once
// the simulator has received a stopInstance.
func drainWhenStopSent(r *rig) (context.Context, context.CancelFunc) {
	drain, drained := context.WithCancel(context.Background())
	go func() {
		for r.Sim.Calls("stopInstance") == 0 {
			time.Sleep(time.Millisecond)
		}
		drained()
	}()
	return context.WithTimeout(resizer.ContextWithDrain(context.Background(), drain), 20*time.Second)
}

// A shutdown that comes while stopInstance is on its way does not cut it:
// JD may carry out a call whose caller gave up, after the give-back looked
// and found the machine running. The stop is answered, the flow goes no
// further, and the give-back starts the machine.
func TestDrainLetsAStopInFlightFinish(t *testing.T) {
	r := newRig(t, allowAll(), withTransition(100*time.Millisecond))
	r.Sim.SetLatency("stopInstance", 300*time.Millisecond)
	ctx, cancel := drainWhenStopSent(r)
	defer cancel()
	out := r.Handler.Handle(ctx, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
	if out.Err() == nil || out.Err().Code != resizer.CodeTimeout || !out.Retryable() {
		t.Fatalf("want a retryable timeout, got %+v", out.Err())
	}
	if r.Sim.Calls("resizeInstance") != 0 || r.Sim.Calls("startInstance") != 1 || !out.Data.Stopped || !out.Data.Restarted {
		t.Fatalf("ops %v stopped=%t restarted=%t: the stop finishes, nothing more changes, the give-back starts it", r.Ops(), out.Data.Stopped, out.Data.Restarted)
	}
	waitStatus(t, r, "i-running01", resizer.StatusRunning)
}

// A call that hangs past a shutdown is cut after the in-flight grace, so a
// hung JD does not hold the process past its drain.
func TestDrainCutsAHungCall(t *testing.T) {
	defer resizer.SetInFlightGrace(200 * time.Millisecond)()
	r := newRig(t, allowAll())
	r.Sim.SetLatency("stopInstance", time.Minute)
	ctx, cancel := drainWhenStopSent(r)
	defer cancel()
	start := time.Now()
	out := r.Handler.Handle(ctx, request(resize("i-running01", "g.n2.large", "stopIfRunning", true)))
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the drained delivery took %s", took)
	}
	if out.Err() == nil || !out.Retryable() {
		t.Fatalf("want a retryable failure, got %+v", out.Err())
	}
	if !strings.Contains(out.Err().Message, "JD may yet stop the instance") {
		t.Fatalf("the outcome does not warn that the unanswered stop may still happen: %s", out.Err().Message)
	}
	if r.Sim.Calls("resizeInstance") != 0 {
		t.Fatalf("ops %v: a drained delivery resized", r.Ops())
	}
	if inst, _ := r.Sim.Instance("cn-north-1", "i-running01"); inst.Status != resizer.StatusRunning {
		t.Fatalf("instance is %s", inst.Status)
	}
}
