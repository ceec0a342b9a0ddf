package resizer_test

import (
	"encoding/json"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
)

// The rig and request builders are shared with the acceptance suites.
type rig = testkit.Rig

var (
	newRig         = testkit.New
	request        = testkit.Request
	resize         = testkit.Resize
	withPolicy     = testkit.WithPolicy
	withSecret     = testkit.WithSecret
	withTransition = testkit.WithTransition
	withCooldown   = testkit.WithCooldown
	withStore      = testkit.WithStore
	allowAll       = testkit.AllowAll
	structured     = testkit.Structured
	withField      = testkit.WithField
	without        = testkit.Without
)

const good = testkit.Good

// decoded is the outcome event as a sink reads it.
func decoded(t *testing.T, out resizer.Outcome) event.Event {
	t.Helper()
	e, err := out.Event.Decode()
	if err != nil {
		t.Fatalf("the outcome event does not decode: %v\n%s", err, out.Event.JSON)
	}
	return e
}

type want struct {
	outcome     string // succeeded or failed
	code        resizer.Code
	reason      string
	retryable   bool
	changed     bool
	resizeCalls int
}

func (w want) check(t *testing.T, r *rig, out resizer.Outcome) {
	t.Helper()
	wantType := resizer.TypeSucceeded
	if w.outcome == "failed" {
		wantType = resizer.TypeFailed
	}
	if out.Event.Type != wantType {
		t.Fatalf("outcome type = %s, want %s (data %s)", out.Event.Type, wantType, decoded(t, out).Data())
	}
	var data resizer.OutcomeData
	if err := json.Unmarshal(decoded(t, out).Data(), &data); err != nil {
		t.Fatalf("outcome data does not parse: %v", err)
	}
	if w.outcome == "failed" {
		if data.Error == nil {
			t.Fatalf("failed outcome without error member: %s", decoded(t, out).Data())
		}
		if data.Error.Code != w.code || data.Error.Reason != w.reason || data.Error.Retryable != w.retryable {
			t.Fatalf("error = %+v, want code %s reason %q retryable %t", *data.Error, w.code, w.reason, w.retryable)
		}
		if out.Retryable() != w.retryable {
			t.Fatalf("Outcome.Retryable() = %t, want %t", out.Retryable(), w.retryable)
		}
	} else if data.Error != nil {
		t.Fatalf("succeeded outcome has error %+v", *data.Error)
	}
	if data.Changed != w.changed {
		t.Fatalf("changed = %t, want %t", data.Changed, w.changed)
	}
	if got := r.Sim.Calls("resizeInstance"); got != w.resizeCalls {
		t.Fatalf("resizeInstance calls = %d, want %d", got, w.resizeCalls)
	}
	if (data.JDCloudRequestID != "") != (w.resizeCalls > 0 && w.outcome == "succeeded") {
		t.Fatalf("jdcloudRequestId = %q with %d resize calls", data.JDCloudRequestID, w.resizeCalls)
	}
	if len(r.Pub.All()) == 0 || r.Pub.All()[len(r.Pub.All())-1].ID() != out.Event.ID {
		t.Fatalf("the outcome event was not published")
	}
	if out.Event.Source != "test-resizer" {
		t.Fatalf("outcome source = %q", out.Event.Source)
	}
}

// TestHandlerBehaviours is the behaviour table of the resize path, every row
// against the simulator over loopback.
func TestHandlerBehaviours(t *testing.T) {
	failed := func(code resizer.Code, reason string) want {
		return want{outcome: "failed", code: code, reason: reason}
	}
	precond := func(reason string) want { return failed(resizer.CodePreconditionFailed, reason) }
	denied := func(reason string) want { return failed(resizer.CodePolicyDenied, reason) }
	ok := func(changed bool, calls int) want {
		return want{outcome: "succeeded", changed: changed, resizeCalls: calls}
	}

	rows := []struct {
		name  string
		opts  []testkit.Option
		setup func(*rig)
		data  map[string]any
		want  want
		check func(*testing.T, *rig, resizer.Outcome)
	}{
		{name: "stopped instance is resized", data: resize("i-stopped01", "g.n2.large"), want: ok(true, 1),
			check: func(t *testing.T, r *rig, _ resizer.Outcome) {
				for _, q := range r.Sim.Requests() {
					if q.Op == "resizeInstance" {
						if q.Path != "/v1/regions/cn-north-1/instances/i-stopped01:resizeInstance" || string(q.Body) != `{"instanceType":"g.n2.large"}` || !q.SignatureValid {
							t.Fatalf("resize request %s %s signed=%t", q.Path, q.Body, q.SignatureValid)
						}
						return
					}
				}
				t.Fatal("no resizeInstance request recorded")
			}},
		{name: "generation change allowed with a recent cloud system disk", data: resize("i-stopped01", "g.n3.large"), want: ok(true, 1)},
		{name: "fromInstanceType matching is resized", data: resize("i-stopped01", "g.n2.large", "fromInstanceType", "g.n2.medium"), want: ok(true, 1)},
		{name: "already at the target type changes nothing", data: resize("i-stopped01", "g.n2.medium"), want: ok(false, 0)},
		{name: "already at the target type even while running", data: resize("i-running01", "g.n2.medium"), want: ok(false, 0)},
		{name: "dry run runs every check and changes nothing", data: resize("i-stopped02", "g.n2.large", "dryRun", true), want: ok(false, 0),
			check: func(t *testing.T, r *rig, out resizer.Outcome) {
				if !out.Data.DryRun || r.StateChanging() != 0 {
					t.Fatalf("dryRun=%t state-changing calls=%d", out.Data.DryRun, r.StateChanging())
				}
				for _, op := range []string{"describeInstance", "describeInstanceTypes", "describeImageConstraints"} {
					if r.Sim.Calls(op) != 1 {
						t.Fatalf("%s calls = %d, want 1", op, r.Sim.Calls(op))
					}
				}
			}},
		{name: "dry run still refuses what JD would refuse", data: resize("i-running01", "g.n2.large", "dryRun", true), want: precond(resizer.ReasonInstanceNotStopped)},
		{name: "running instance is refused", data: resize("i-running01", "g.n2.large"), want: precond(resizer.ReasonInstanceNotStopped)},
		{name: "transitional status is refused", setup: func(r *rig) { r.Sim.SetStatus("cn-north-1", "i-stopped01", "starting") },
			data: resize("i-stopped01", "g.n2.large"), want: precond(resizer.ReasonInstanceNotStopped)},
		{name: "stale alert: current type differs from fromInstanceType", data: resize("i-stopped01", "g.n2.large", "fromInstanceType", "g.n1.medium"), want: precond(resizer.ReasonUnexpectedCurrentType)},
		{name: "2016 cloud system disk cannot change between gen 1 and 2", data: resize("i-disk2016", "g.n2.large"), want: precond(resizer.ReasonGenerationChangeNotAllowed)},
		{name: "local system disk cannot change generation", data: resize("i-localsys01", "g.n3.large"), want: precond(resizer.ReasonGenerationChangeNotAllowed)},
		{name: "local system disk may stay in its generation", data: resize("i-localsys01", "g.n2.large"), want: ok(true, 1)},
		{name: "availability group member cannot change generation", data: resize("i-agmember01", "g.n3.large"), want: precond(resizer.ReasonGenerationChangeNotAllowed)},
		{name: "too many network interfaces for the target", data: resize("i-manynic01", "c.n2.small"), want: precond(resizer.ReasonNICLimitExceeded)},
		{name: "too many cloud disks for the target", data: resize("i-manydisk01", "c.n2.small"), want: precond(resizer.ReasonDiskLimitExceeded)},
		{name: "image excludes the target type", data: resize("i-exclimg01", "m.n2.large"), want: precond(resizer.ReasonImageNotSupported)},
		{name: "image includes list lacks the target type", data: resize("i-inclimg01", "g.n3.large"), want: precond(resizer.ReasonImageNotSupported)},
		{name: "image includes list has the target type", data: resize("i-inclimg01", "g.n2.large"), want: ok(true, 1)},
		{name: "instance in arrears", data: resize("i-arrears01", "g.n2.large"), want: precond(resizer.ReasonInstanceInArrears)},
		{name: "target type out of stock in the instance's az", data: resize("i-stopped01", "g.n2.xlarge"), want: precond(resizer.ReasonInstanceTypeUnavailable)},
		{name: "target type unknown in the region", data: resize("i-stopped01", "g.n9.huge"), want: precond(resizer.ReasonInstanceTypeUnavailable)},
		{name: "local data disk without force", data: resize("i-localdata01", "g.n2.large"), want: precond(resizer.ReasonLocalDataDiskRequiresForce)},
		{name: "local data disk with force when allowed", opts: []testkit.Option{allowAll()}, data: resize("i-localdata01", "g.n2.large", "force", true), want: ok(true, 1)},
		{name: "force refused by default", data: resize("i-localdata01", "g.n2.large", "force", true), want: denied(resizer.ReasonForceNotAllowed)},
		{name: "stopIfRunning refused by default", data: resize("i-running01", "g.n2.large", "stopIfRunning", true), want: denied(resizer.ReasonStopNotAllowed)},
		{name: "type outside ALLOWED_INSTANCE_TYPES", opts: []testkit.Option{withPolicy(resizer.Policy{AllowedInstanceTypes: []string{"c.n2.*", "g.n3.*"}})},
			data: resize("i-stopped01", "g.n2.large"), want: denied(resizer.ReasonTypeNotAllowed)},
		{name: "type inside ALLOWED_INSTANCE_TYPES", opts: []testkit.Option{withPolicy(resizer.Policy{AllowedInstanceTypes: []string{"c.n2.*", "g.n3.*"}})},
			data: resize("i-stopped01", "g.n3.large"), want: ok(true, 1)},
		{name: "source outside ALLOWED_SOURCES", opts: []testkit.Option{withPolicy(resizer.Policy{AllowedSources: []string{"ticketing/"}})},
			data: resize("i-stopped01", "g.n2.large"), want: denied(resizer.ReasonSourceNotAllowed)},
		{name: "unknown instance is not_found", data: resize("i-missing01", "g.n2.large"), want: failed(resizer.CodeNotFound, "")},
		{name: "unknown region is not_found", data: map[string]any{"regionId": "cn-nowhere-9", "instanceId": "i-stopped01", "instanceType": "g.n2.large"}, want: failed(resizer.CodeNotFound, "")},
		{name: "wrong secret key is auth_failed", opts: []testkit.Option{withSecret("not-the-secret")}, data: resize("i-stopped01", "g.n2.large"), want: failed(resizer.CodeAuthFailed, "")},
		{name: "503 then success is retried", setup: func(r *rig) { r.Sim.Fail("resizeInstance", 503, 1) },
			data: resize("i-stopped01", "g.n2.large"), want: ok(true, 2)},
		{name: "persistent 503 is unavailable and retryable", setup: func(r *rig) { r.Sim.Fail("resizeInstance", 503, 100) },
			data: resize("i-stopped01", "g.n2.large"), want: want{outcome: "failed", code: resizer.CodeUnavailable, retryable: true, resizeCalls: 3}},
		{name: "503 on describe is retried", setup: func(r *rig) { r.Sim.Fail("describeInstance", 503, 2) },
			data: resize("i-stopped01", "g.n2.large"), want: ok(true, 1)},
		{name: "other JD 4xx is api_error with JD's status", setup: func(r *rig) { r.Sim.Fail("resizeInstance", 400, 1) },
			data: resize("i-stopped01", "g.n2.large"), want: want{outcome: "failed", code: resizer.CodeAPIError, resizeCalls: 1},
			check: func(t *testing.T, _ *rig, out resizer.Outcome) {
				if out.Data.Error.Status != 400 {
					t.Fatalf("error.status = %d, want 400", out.Data.Error.Status)
				}
			}},
		{name: "stopped instance with stopIfRunning is resized and left stopped", opts: []testkit.Option{allowAll()},
			data: resize("i-stopped01", "g.n2.large", "stopIfRunning", true), want: ok(true, 1),
			check: func(t *testing.T, r *rig, out resizer.Outcome) {
				inst, _ := r.Sim.Instance("cn-north-1", "i-stopped01")
				if r.Sim.Calls("stopInstance")+r.Sim.Calls("startInstance") != 0 || out.Data.Stopped || out.Data.Restarted {
					t.Fatalf("stop/start calls on an already stopped instance; status %s", inst.Status)
				}
			}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := newRig(t, row.opts...)
			if row.setup != nil {
				row.setup(r)
			}
			out := r.Handle(t, request(row.data))
			row.want.check(t, r, out)
			if row.want.outcome == "failed" && !row.want.retryable && row.want.code != resizer.CodeAPIError && r.StateChanging() != 0 {
				t.Fatalf("a refused request made %d state-changing calls", r.StateChanging())
			}
			if row.check != nil {
				row.check(t, r, out)
			}
		})
	}
}

// TestResizeAcceptedButAnsweredWithAnErrorIsRecognised: JD carries out the
// resize but answers 503; the client's retry is refused (the instance is
// resizing). The handler looks again and reports what happened: a resize.
func TestResizeAcceptedButAnsweredWithAnErrorIsRecognised(t *testing.T) {
	r := newRig(t)
	r.Sim.FailAfterApply("resizeInstance", 503, 1)
	out := r.Handle(t, request(resize("i-stopped01", "g.n2.large")))
	if out.Err() != nil || !out.Data.Changed {
		t.Fatalf("want succeeded with changed=true, got %+v", out.Err())
	}
	if n := r.Sim.Calls("resizeInstance"); n != 2 {
		t.Fatalf("resizeInstance calls = %d, want 2 (the accepted one and the refused retry)", n)
	}
	// A resize JD refused outright is not mistaken for one that happened.
	r2 := newRig(t)
	r2.Sim.Fail("resizeInstance", 503, 3)
	if out := r2.Handle(t, request(resize("i-stopped01", "g.n2.large"))); out.Err() == nil || out.Err().Code != resizer.CodeUnavailable {
		t.Fatalf("want unavailable for a resize that never took effect, got %+v", out.Err())
	}
}
