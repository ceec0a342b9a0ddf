package jdcloudsim

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// settle describes id until its transition is over (Transition 0: the
// transitional status is shown once).
func (c *client) settle(id string) Instance {
	c.t.Helper()
	c.describe(id)
	return c.describe(id)
}

// putCopy adds a copy of the seed instance from, changed by edit.
func putCopy(t *testing.T, s *Server, from, id string, edit func(*Instance)) {
	t.Helper()
	inst := mustInstance(t, s, from)
	inst.InstanceID = id
	edit(&inst)
	s.PutInstance(testRegion, inst)
}

func TestStopChargeOnStopped(t *testing.T) {
	tests := []struct {
		name, instance, body string
		wantStoppedCharging  bool
		refusal              string // "" when accepted
	}{
		{"absent is keepCharging", "i-running01", `{}`, false, ""},
		{"keepCharging", "i-running01", `{"chargeOnStopped":"keepCharging"}`, false, ""},
		{"stopCharging", "i-running01", `{"chargeOnStopped":"stopCharging"}`, true, ""},
		{"null is absent", "i-running01", `{"chargeOnStopped":null}`, false, ""},
		{"other fields ignored", "i-running01", `{"chargeOnStopped":"stopCharging","hibernate":true}`, true, ""},
		{"prepaid always keeps charging", "i-prepaid01", `{"chargeOnStopped":"stopCharging"}`, false, ""},
		{"local system disk keeps charging", "i-localsysrun01", `{"chargeOnStopped":"stopCharging"}`, false, ""},
		{"wrong case", "i-running01", `{"chargeOnStopped":"StopCharging"}`, false, `chargeOnStopped must be "keepCharging" or "stopCharging", got "StopCharging"`},
		{"empty string", "i-running01", `{"chargeOnStopped":""}`, false, "chargeOnStopped"},
		{"not a string", "i-running01", `{"chargeOnStopped":true}`, false, "chargeOnStopped must be"},
		{"not an object", "i-running01", `"stopCharging"`, false, "JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, Options{})
			c := newClient(t, s)
			putCopy(t, s, "i-running01", "i-prepaid01", func(i *Instance) { i.Charge.ChargeMode = "prepaid_by_duration" })
			putCopy(t, s, "i-localsys01", "i-localsysrun01", func(i *Instance) { i.Status = "running" })
			before := mustInstance(t, s, tt.instance)
			a := c.do(http.MethodPost, instancePath(tt.instance)+":stopInstance", []byte(tt.body))
			if tt.refusal != "" {
				wantError(t, a, http.StatusBadRequest, "INVALID_ARGUMENT", tt.refusal)
				if after := mustInstance(t, s, tt.instance); !reflect.DeepEqual(before, after) {
					t.Errorf("a refused stop changed the instance: %+v", after)
				}
				return
			}
			wantOK(t, a)
			if got := c.settle(tt.instance).Status; got != "stopped" {
				t.Fatalf("status %s, want stopped", got)
			}
			if got := s.StoppedCharging(testRegion, tt.instance); got != tt.wantStoppedCharging {
				t.Errorf("StoppedCharging = %v, want %v", got, tt.wantStoppedCharging)
			}
		})
	}
}

// Stopping with stopCharging gives the host back, and a start needs stock
// of the instance's current type in its az; keepCharging kept the host,
// so stock does not matter.
func TestStartAfterStopNeedsStockOnlyWhenChargingStopped(t *testing.T) {
	tests := []struct {
		name, charge string
		inStock      bool
		refusal      string
	}{
		{"keepCharging, sold out", keepCharging, false, ""},
		{"keepCharging, in stock", keepCharging, true, ""},
		{"stopCharging, in stock", stopCharging, true, ""},
		{"stopCharging, sold out", stopCharging, false, "insufficient stock of g.n4.2xlarge in cn-north-1a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, Options{})
			c := newClient(t, s)
			const id = "i-big01"
			putCopy(t, s, "i-ladderrun01", id, func(i *Instance) { i.InstanceType = "g.n4.2xlarge" })
			s.SetStock(testRegion, "g.n4.2xlarge", "cn-north-1a", true)
			wantOK(t, c.do(http.MethodPost, instancePath(id)+":stopInstance", []byte(`{"chargeOnStopped":"`+tt.charge+`"}`)))
			c.settle(id)
			s.SetStock(testRegion, "g.n4.2xlarge", "cn-north-1a", tt.inStock)
			if tt.refusal != "" {
				wantError(t, c.action(id, "startInstance"), http.StatusBadRequest, "FAILED_PRECONDITION", tt.refusal)
				if got := mustInstance(t, s, id); got.Status != "stopped" || !s.StoppedCharging(testRegion, id) {
					t.Fatalf("a refused start changed the instance: %s, stoppedCharging %v", got.Status, s.StoppedCharging(testRegion, id))
				}
				// Stock coming back is all it takes.
				s.SetStock(testRegion, "g.n4.2xlarge", "cn-north-1a", true)
			}
			wantOK(t, c.action(id, "startInstance"))
			if got := c.settle(id).Status; got != "running" {
				t.Fatalf("status %s, want running", got)
			}
			if s.StoppedCharging(testRegion, id) {
				t.Error("StoppedCharging still set on a running instance")
			}
		})
	}
}

// The stock a start needs is that of the type the instance has then, after
// a resize made while it was stopped.
func TestStartNeedsStockOfTheTypeAfterAResize(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	const id = "i-ladderrun02"
	wantOK(t, c.do(http.MethodPost, instancePath(id)+":stopInstance", []byte(`{"chargeOnStopped":"stopCharging"}`)))
	c.settle(id)
	s.SetStock(testRegion, "g.n4.large", "cn-north-1a", false) // the old type no longer matters
	wantOK(t, c.resize(id, "g.n4.xlarge", false))
	c.settle(id)
	s.SetStock(testRegion, "g.n4.xlarge", "cn-north-1a", false)
	wantError(t, c.action(id, "startInstance"), http.StatusBadRequest, "FAILED_PRECONDITION", "insufficient stock of g.n4.xlarge in cn-north-1a")
	s.SetStock(testRegion, "g.n4.xlarge", "cn-north-1a", true)
	wantOK(t, c.action(id, "startInstance"))
}

// stopCharging gives back the host's local disks with it; keepCharging
// keeps them.
func TestStopChargingWipesLocalDataDisks(t *testing.T) {
	for charge, wiped := range map[string]bool{keepCharging: false, stopCharging: true} {
		t.Run(charge, func(t *testing.T) {
			s := startSim(t, Options{})
			c := newClient(t, s)
			putCopy(t, s, "i-localdata01", "i-localrun01", func(i *Instance) { i.Status = "running" })
			wantOK(t, c.do(http.MethodPost, instancePath("i-localrun01")+":stopInstance", []byte(`{"chargeOnStopped":"`+charge+`"}`)))
			if got := mustInstance(t, s, "i-localrun01").DataDisks[0].LocalDisk.Wiped; got != wiped {
				t.Errorf("local data disk wiped = %v, want %v", got, wiped)
			}
		})
	}
}

// SetStock is what describeInstanceTypes reports and what resizeInstance
// checks; an az without a state entry gets one.
func TestSetStock(t *testing.T) {
	s := startSim(t, Options{Fixture: []byte(`{"regions":{"r-1":{"azs":["r-1a","r-1b"],
	  "instanceTypes":[{"family":"t.x","instanceType":"t.x.a","state":[{"az":"r-1a","inStock":true}]},
	                   {"family":"t.x","instanceType":"t.x.b","nicLimit":1,"cloudDiskCountLimit":1,"state":[{"az":"r-1a","inStock":true}]}],
	  "instances":[{"instanceId":"i-r1","instanceType":"t.x.a","status":"stopped","az":"r-1a","systemDisk":{"diskCategory":"cloud"},"charge":{"chargeStatus":"normal"}}]}}}`)})
	c := newClient(t, s)
	stateOf := func(name string) string {
		t.Helper()
		a := c.do(http.MethodGet, "/v1/regions/r-1/instanceTypes?filters.1.name=instanceTypes&filters.1.values.1="+name, nil)
		wantOK(t, a)
		return string(a.Result)
	}
	s.SetStock("r-1", "t.x.b", "r-1a", false)
	if got := stateOf("t.x.b"); !strings.Contains(got, `"state":[{"az":"r-1a","inStock":false}]`) {
		t.Errorf("after SetStock false: %s", got)
	}
	wantError(t, c.do(http.MethodPost, "/v1/regions/r-1/instances/i-r1:resizeInstance", []byte(`{"instanceType":"t.x.b"}`)),
		http.StatusBadRequest, "FAILED_PRECONDITION", "not in stock in az r-1a")
	s.SetStock("r-1", "t.x.b", "r-1b", true)
	if got := stateOf("t.x.b"); !strings.Contains(got, `"state":[{"az":"r-1a","inStock":false},{"az":"r-1b","inStock":true}]`) {
		t.Errorf("after SetStock of a new az: %s", got)
	}
	s.SetStock("r-1", "t.x.b", "r-1a", true)
	wantOK(t, c.do(http.MethodPost, "/v1/regions/r-1/instances/i-r1:resizeInstance", []byte(`{"instanceType":"t.x.b"}`)))

	for name, f := range map[string]func(){
		"unknown region": func() { s.SetStock("r-9", "t.x.a", "r-1a", true) },
		"unknown type":   func() { s.SetStock("r-1", "t.x.zzz", "r-1a", true) },
		"unknown az":     func() { s.SetStock("r-1", "t.x.a", "r-1z", true) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetStock with %s did not panic", name)
				}
			}()
			f()
		}()
	}
}
