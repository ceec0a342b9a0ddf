package jdcloudsim

import (
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Every resizeInstance rule of docs/jdcloud-api.md, each on the seed instance
// that breaks exactly that rule: a 400 and nothing changed.
func TestResizeRefusesEachRule(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	tests := []struct {
		name, instance, target string
		force                  bool
		status, msg            string
	}{
		{"not stopped", "i-running01", "g.n2.large", false, "FAILED_PRECONDITION", "must be stopped"},
		{"2016 system disk, gen 1 to 2", "i-disk2016", "g.n2.medium", false, "FAILED_PRECONDITION", "created in 2016"},
		{"2016 system disk, gen 1 to 2 larger", "i-disk2016", "g.n2.large", false, "FAILED_PRECONDITION", "created in 2016"},
		{"local system disk, gen 2 to 3", "i-localsys01", "g.n3.large", false, "FAILED_PRECONDITION", "local system disk"},
		{"local system disk, gen 2 to 1", "i-localsys01", "g.n1.medium", false, "FAILED_PRECONDITION", "local system disk"},
		{"availability group, gen 2 to 3", "i-agmember01", "g.n3.large", false, "FAILED_PRECONDITION", "availability group ag-abc123"},
		{"availability group, gen 2 to 1", "i-agmember01", "g.n1.medium", false, "FAILED_PRECONDITION", "availability group"},
		{"3 NICs over nicLimit 2", "i-manynic01", "g.n1.medium", false, "FAILED_PRECONDITION", "3 network interfaces"},
		{"3 NICs over nicLimit 1", "i-manynic01", "c.n2.small", false, "FAILED_PRECONDITION", "nicLimit"},
		{"4 cloud disks over limit 2", "i-manydisk01", "c.n2.small", false, "FAILED_PRECONDITION", "4 cloud disks"},
		{"image excludes target", "i-exclimg01", "m.n2.large", false, "FAILED_PRECONDITION", "image img-excl01 does not support"},
		{"image includes list lacks target", "i-inclimg01", "g.n3.large", false, "FAILED_PRECONDITION", "image img-incl01 does not support"},
		{"image includes list lacks small target", "i-inclimg01", "c.n2.small", false, "FAILED_PRECONDITION", "does not support"},
		{"in arrears", "i-arrears01", "g.n2.large", false, "FAILED_PRECONDITION", "arrear"},
		{"local data disk without force", "i-localdata01", "g.n2.large", false, "FAILED_PRECONDITION", "set force to true"},
		{"not in stock in the instance's az", "i-stopped01", "g.n2.xlarge", false, "FAILED_PRECONDITION", "not in stock in az cn-north-1a"},
		{"type unknown in region", "i-stopped01", "g.n9.huge", false, "INVALID_ARGUMENT", "does not exist"},
		{"same type", "i-stopped01", "g.n2.medium", false, "FAILED_PRECONDITION", "already"},
		{"force does not lift other rules", "i-running01", "g.n2.large", true, "FAILED_PRECONDITION", "must be stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := mustInstance(t, s, tt.instance)
			a := c.resize(tt.instance, tt.target, tt.force)
			wantError(t, a, http.StatusBadRequest, tt.status, tt.msg)
			if after := mustInstance(t, s, tt.instance); !reflect.DeepEqual(before, after) {
				t.Errorf("state changed by a refused resize:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

func TestResizeRefusesMalformedBody(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	before := mustInstance(t, s, "i-stopped01")
	for _, body := range []string{``, `null`, `[]`, `{"instanceType":`, `{}`, `{"instanceType":""}`, `{"instanceType":7}`, `{"instanceType":"g.n2.large","force":"yes"}`, `{"instanceType":"g.n2.large"} {}`} {
		a := c.do(http.MethodPost, instancePath("i-stopped01")+":resizeInstance", []byte(body))
		wantError(t, a, http.StatusBadRequest, "INVALID_ARGUMENT", "")
		if t.Failed() {
			t.Fatalf("body %q", body)
		}
	}
	if after := mustInstance(t, s, "i-stopped01"); !reflect.DeepEqual(before, after) {
		t.Errorf("state changed by malformed resizes")
	}
}

// An accepted resize shows resizing to exactly the next describeInstance
// (Transition 0), then stopped with the new type.
func TestResizeAccepted(t *testing.T) {
	tests := []struct {
		name, instance, target string
		force                  bool
	}{
		{"plain", "i-stopped01", "g.n2.large", false},
		{"limits met exactly", "i-stopped02", "c.n2.small", false},
		{"2016 disk may go from gen 1 to 3", "i-disk2016", "g.n3.large", false},
		{"local system disk within a generation", "i-localsys01", "g.n2.large", false},
		{"availability group within a generation", "i-agmember01", "m.n2.large", false},
		{"cloud system disk may change generation", "i-manydisk01", "g.n1.medium", false},
		{"NICs fit the target", "i-manynic01", "g.n2.large", false},
		{"image excludes another type", "i-exclimg01", "g.n2.large", false},
		{"image includes the target", "i-inclimg01", "g.n2.large", false},
		{"local data disk with force", "i-localdata01", "g.n2.large", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, Options{})
			c := newClient(t, s)
			before := mustInstance(t, s, tt.instance)
			a := c.resize(tt.instance, tt.target, tt.force)
			wantOK(t, a)
			if string(a.Result) != "{}" {
				t.Errorf("result %s, want {}", a.Result)
			}
			if got := c.describe(tt.instance); got.Status != "resizing" || got.InstanceType != before.InstanceType {
				t.Errorf("first describe: %s %s, want resizing %s", got.Status, got.InstanceType, before.InstanceType)
			}
			if got := c.describe(tt.instance); got.Status != "stopped" || got.InstanceType != tt.target {
				t.Errorf("second describe: %s %s, want stopped %s", got.Status, got.InstanceType, tt.target)
			}
			if s.Calls(OpResizeInstance) != 1 {
				t.Errorf("Calls(resizeInstance) = %d", s.Calls(OpResizeInstance))
			}
		})
	}
}

func TestForcedResizeWipesLocalDataDisksOnly(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	if mustInstance(t, s, "i-localdata01").DataDisks[0].LocalDisk.Wiped {
		t.Fatal("seed disk already wiped")
	}
	wantOK(t, c.resize("i-localdata01", "g.n2.large", true))
	if !mustInstance(t, s, "i-localdata01").DataDisks[0].LocalDisk.Wiped {
		t.Error("forced resize did not wipe the local data disk")
	}
	// force on an instance without local data disks is harmless.
	wantOK(t, c.resize("i-stopped01", "g.n2.large", true))
	if got := mustInstance(t, s, "i-stopped01"); got.DataDisks[0].CloudDisk == nil || got.DataDisks[0].LocalDisk != nil {
		t.Errorf("cloud data disk changed: %+v", got.DataDisks[0])
	}
}

// Stock is per az: the type sold out in cn-north-1a resizes in cn-north-1b.
func TestResizeInStockInOtherAZ(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	inst := mustInstance(t, s, "i-stopped01")
	inst.InstanceID, inst.AZ = "i-inazb01", "cn-north-1b"
	s.PutInstance(testRegion, inst)
	wantOK(t, c.resize("i-inazb01", "g.n2.xlarge", false))
}

func TestResizeWhileResizingRefused(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	wantOK(t, c.resize("i-stopped01", "g.n2.large", false))
	wantError(t, c.resize("i-stopped01", "m.n2.large", false), http.StatusBadRequest, "FAILED_PRECONDITION", "resizing")
}

// With a Transition, resizing lasts exactly that long on the simulator's
// clock, however often it is described.
func TestResizeTransitionDuration(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 28, 1, 2, 3, 0, time.UTC)}
	s := startSim(t, Options{Transition: time.Minute, Now: clock.Now})
	c := newClient(t, s)
	wantOK(t, c.resize("i-stopped01", "g.n2.large", false))
	for range 3 {
		if got := c.describe("i-stopped01"); got.Status != "resizing" {
			t.Fatalf("status %s before the transition elapsed", got.Status)
		}
	}
	clock.Advance(time.Minute - time.Nanosecond)
	if got := mustInstance(t, s, "i-stopped01"); got.Status != "resizing" || got.InstanceType != "g.n2.medium" {
		t.Fatalf("just before the end: %s %s", got.Status, got.InstanceType)
	}
	clock.Advance(time.Nanosecond)
	if got := c.describe("i-stopped01"); got.Status != "stopped" || got.InstanceType != "g.n2.large" {
		t.Fatalf("after the transition: %s %s, want stopped g.n2.large", got.Status, got.InstanceType)
	}
}

// Concurrent resizes of one instance: exactly one is accepted, the others
// see it resizing.
func TestConcurrentResizesAcceptOne(t *testing.T) {
	s := startSim(t, Options{})
	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			a, err := newClient(t, s).try(http.MethodPost, instancePath("i-stopped03")+":resizeInstance", []byte(`{"instanceType":"g.n2.large"}`))
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = a.Status
		})
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
		default:
			t.Errorf("unexpected status %d", st)
		}
	}
	if ok != 1 {
		t.Errorf("%d resizes accepted, want exactly 1 (%v)", ok, statuses)
	}
}
