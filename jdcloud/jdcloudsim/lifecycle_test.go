package jdcloudsim

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestStopAndStartTransitions(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	id := "i-running01"

	wantError(t, c.action(id, "startInstance"), http.StatusBadRequest, "FAILED_PRECONDITION", "running")
	wantOK(t, c.action(id, "stopInstance"))
	if got := mustInstance(t, s, id).Status; got != "stopping" {
		t.Fatalf("after stop, before any describe: %s, want stopping", got)
	}
	// A transitional status refuses both actions.
	wantError(t, c.action(id, "stopInstance"), http.StatusBadRequest, "FAILED_PRECONDITION", "stopping")
	wantError(t, c.action(id, "startInstance"), http.StatusBadRequest, "FAILED_PRECONDITION", "stopping")
	wantError(t, c.resize(id, "g.n2.large", false), http.StatusBadRequest, "FAILED_PRECONDITION", "must be stopped")
	if got := c.describe(id).Status; got != "stopping" {
		t.Fatalf("first describe: %s, want stopping", got)
	}
	if got := c.describe(id).Status; got != "stopped" {
		t.Fatalf("second describe: %s, want stopped", got)
	}
	wantError(t, c.action(id, "stopInstance"), http.StatusBadRequest, "FAILED_PRECONDITION", "stopped")

	wantOK(t, c.action(id, "startInstance"))
	if got := c.describe(id).Status; got != "starting" {
		t.Fatalf("first describe after start: %s, want starting", got)
	}
	if got := c.describe(id).Status; got != "running" {
		t.Fatalf("second describe after start: %s, want running", got)
	}
}

func TestStopStartWithTransitionDuration(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := startSim(t, Options{Transition: 30 * time.Second, Now: clock.Now})
	c := newClient(t, s)
	wantOK(t, c.action("i-running02", "stopInstance"))
	c.describe("i-running02")
	if got := c.describe("i-running02").Status; got != "stopping" {
		t.Fatalf("status %s before 30s", got)
	}
	clock.Advance(30 * time.Second)
	if got := c.describe("i-running02").Status; got != "stopped" {
		t.Fatalf("status %s after 30s", got)
	}
}

// InTransition lists what has not settled, by the simulator's clock.
func TestInTransition(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := startSim(t, Options{Transition: 30 * time.Second, Now: clock.Now})
	c := newClient(t, s)
	if got := s.InTransition(); len(got) != 0 {
		t.Fatalf("at rest: %v", got)
	}
	wantOK(t, c.action("i-running02", "stopInstance"))
	if got := s.InTransition(); len(got) != 1 || got[0] != testRegion+"/i-running02" {
		t.Fatalf("stopping: %v", got)
	}
	clock.Advance(30 * time.Second)
	if got := s.InTransition(); len(got) != 0 {
		t.Fatalf("after 30s: %v", got)
	}
}

func TestActionBodiesMustBeObjects(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	for _, body := range []string{"", "null", "[]", "{"} {
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		wantError(t, c.do(http.MethodPost, instancePath("i-running01")+":stopInstance", b), http.StatusBadRequest, "INVALID_ARGUMENT", "JSON object")
	}
	if got := mustInstance(t, s, "i-running01").Status; got != "running" {
		t.Fatalf("status %s after refused stops", got)
	}
}

func TestSetStatusAndPutInstance(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	wantOK(t, c.action("i-running01", "stopInstance"))
	s.SetStatus(testRegion, "i-running01", "error")
	if got := c.describe("i-running01").Status; got != "error" {
		t.Fatalf("SetStatus did not end the transition: %s", got)
	}
	if got := c.describe("i-running01").Status; got != "error" {
		t.Fatalf("a stale transition settled after SetStatus: %s", got)
	}

	inst := mustInstance(t, s, "i-stopped01")
	inst.InstanceID = "i-new0001"
	inst.InstanceType = "g.n3.large"
	s.PutInstance(testRegion, inst)
	inst.InstanceType = "mutated-after-put"
	if got := c.describe("i-new0001"); got.InstanceType != "g.n3.large" {
		t.Fatalf("PutInstance kept a reference to the caller's value: %s", got.InstanceType)
	}

	// A new region exists for describeInstance but offers no types.
	s.PutInstance("cn-east-2", inst)
	wantOK(t, c.do(http.MethodGet, "/v1/regions/cn-east-2/instances/i-new0001", nil))
	a := c.do(http.MethodGet, "/v1/regions/cn-east-2/instanceTypes", nil)
	wantOK(t, a)
	if string(a.Result) != `{"instanceTypes":[],"totalCount":0}` {
		t.Errorf("types of a new region: %s", a.Result)
	}
}

func TestSetStatusPanicsOnUnknownInstance(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SetStatus on a missing instance did not panic")
		}
	}()
	s.SetStatus(testRegion, "i-nothere01", "running")
}

// A fractional Transition lasts exactly that long on the simulator's
// clock for every kind of transition, however often it is described or
// not described at all.
func TestFractionalTransition(t *testing.T) {
	const d = 5500 * time.Millisecond
	tests := []struct {
		name, instance, op, body string
		during, after, afterType string
	}{
		{"stop", "i-ladderrun01", "stopInstance", `{}`, "stopping", "stopped", "g.n4.medium"},
		{"start", "i-ladder01", "startInstance", `{}`, "starting", "running", "g.n4.large"},
		{"resize", "i-ladder01", "resizeInstance", `{"instanceType":"g.n4.xlarge"}`, "resizing", "stopped", "g.n4.xlarge"},
	}
	for _, tt := range tests {
		for _, poll := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/poll=%v", tt.name, poll), func(t *testing.T) {
				clock := &fakeClock{t: time.Date(2026, 9, 10, 11, 12, 13, 0, time.UTC)}
				s := startSim(t, Options{Transition: d, Now: clock.Now})
				c := newClient(t, s)
				wantOK(t, c.do(http.MethodPost, instancePath(tt.instance)+":"+tt.op, []byte(tt.body)))
				for _, step := range []time.Duration{time.Second, 4 * time.Second, 499 * time.Millisecond, 999 * time.Microsecond} {
					clock.Advance(step)
					if poll {
						if got := c.describe(tt.instance).Status; got != tt.during {
							t.Fatalf("described before %v: %s, want %s", d, got, tt.during)
						}
					}
				}
				if got := mustInstance(t, s, tt.instance).Status; got != tt.during {
					t.Fatalf("1µs before %v: %s, want %s", d, got, tt.during)
				}
				clock.Advance(time.Microsecond)
				if got := c.describe(tt.instance); got.Status != tt.after || got.InstanceType != tt.afterType {
					t.Fatalf("at %v: %s %s, want %s %s", d, got.Status, got.InstanceType, tt.after, tt.afterType)
				}
			})
		}
	}
}
