package jdcloudsim

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestStartFaults(t *testing.T) {
	const id = "i-stopped01" // g.n2.medium, stopped
	tests := []struct {
		name    string
		set     func(*Server)
		refusal string // "" when the start is accepted
		final   string // the status the accepted start settles into
	}{
		{"none", func(*Server) {}, "", "running"},
		{"refused on its type", func(s *Server) { s.RefuseStart(testRegion, id, "g.n2.medium") }, "injected by RefuseStart", ""},
		{"refusal for another type", func(s *Server) { s.RefuseStart(testRegion, id, "g.n2.large") }, "", "running"},
		{"refusal cleared", func(s *Server) { s.RefuseStart(testRegion, id, "g.n2.medium"); s.RefuseStart(testRegion, id, "") }, "", "running"},
		{"ends stopped", func(s *Server) { s.StartEndsIn(testRegion, id, "g.n2.medium", "stopped") }, "", "stopped"},
		{"ends in error", func(s *Server) { s.StartEndsIn(testRegion, id, "g.n2.medium", "error") }, "", "error"},
		{"ending for another type", func(s *Server) { s.StartEndsIn(testRegion, id, "g.n2.large", "error") }, "", "running"},
		{"ending cleared", func(s *Server) {
			s.StartEndsIn(testRegion, id, "g.n2.medium", "error")
			s.StartEndsIn(testRegion, id, "", "")
		}, "", "running"},
		{"all cleared", func(s *Server) {
			s.RefuseStart(testRegion, id, "g.n2.medium")
			s.StartEndsIn(testRegion, id, "g.n2.medium", "error")
			s.ClearStartFaults()
		}, "", "running"},
		{"refusal wins over ending", func(s *Server) {
			s.StartEndsIn(testRegion, id, "g.n2.medium", "error")
			s.RefuseStart(testRegion, id, "g.n2.medium")
		}, "injected by RefuseStart", ""},
		{"survives PutInstance", func(s *Server) {
			s.RefuseStart(testRegion, id, "g.n2.medium")
			s.PutInstance(testRegion, mustInstance(t, s, id))
		}, "injected by RefuseStart", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, Options{})
			c := newClient(t, s)
			tt.set(s)
			before := mustInstance(t, s, id)
			a := c.action(id, "startInstance")
			if tt.refusal != "" {
				wantError(t, a, http.StatusBadRequest, "FAILED_PRECONDITION", tt.refusal)
				if after := mustInstance(t, s, id); !reflect.DeepEqual(before, after) {
					t.Errorf("a refused start changed the instance: %+v", after)
				}
				return
			}
			wantOK(t, a)
			if got := c.describe(id).Status; got != "starting" {
				t.Errorf("first describe: %s, want starting", got)
			}
			if got := c.describe(id).Status; got != tt.final {
				t.Errorf("settled into %s, want %s", got, tt.final)
			}
		})
	}
}

// The rollback a resizer performs: the start on the new type fails, the
// instance is resized back, and the start on the old type succeeds.
func TestStartFaultsFollowTheType(t *testing.T) {
	for _, refuse := range []bool{true, false} {
		name := "ends stopped"
		if refuse {
			name = "refused"
		}
		t.Run(name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
			s := startSim(t, Options{Transition: 5 * time.Second, Now: clock.Now})
			c := newClient(t, s)
			const id = "i-ladder01"
			if refuse {
				s.RefuseStart(testRegion, id, "g.n4.xlarge")
			} else {
				s.StartEndsIn(testRegion, id, "g.n4.xlarge", "stopped")
			}
			wantOK(t, c.resize(id, "g.n4.xlarge", false))
			clock.Advance(5 * time.Second)
			if refuse {
				wantError(t, c.action(id, "startInstance"), http.StatusBadRequest, "FAILED_PRECONDITION", "g.n4.xlarge")
			} else {
				wantOK(t, c.action(id, "startInstance"))
				if got := c.describe(id).Status; got != "starting" {
					t.Fatalf("status %s during the start, want starting", got)
				}
				clock.Advance(5 * time.Second)
			}
			if got := c.describe(id); got.Status != "stopped" || got.InstanceType != "g.n4.xlarge" {
				t.Fatalf("after the failed start: %s %s", got.Status, got.InstanceType)
			}
			wantOK(t, c.resize(id, "g.n4.large", false))
			clock.Advance(5 * time.Second)
			wantOK(t, c.action(id, "startInstance"))
			clock.Advance(5 * time.Second)
			if got := c.describe(id); got.Status != "running" || got.InstanceType != "g.n4.large" {
				t.Fatalf("after the rollback: %s %s", got.Status, got.InstanceType)
			}
		})
	}
}

func TestStartFaultControlsPanic(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"RefuseStart unknown instance": func() { s.RefuseStart(testRegion, "i-nothere01", "g.n2.large") },
		"StartEndsIn unknown instance": func() { s.StartEndsIn(testRegion, "i-nothere01", "g.n2.large", "error") },
		"StartEndsIn unknown region":   func() { s.StartEndsIn("cn-east-9", "i-stopped01", "g.n2.large", "error") },
		"StartEndsIn running":          func() { s.StartEndsIn(testRegion, "i-stopped01", "g.n2.large", "running") },
		"StartEndsIn empty status":     func() { s.StartEndsIn(testRegion, "i-stopped01", "g.n2.large", "") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
	// Clearing needs no instance.
	s.RefuseStart(testRegion, "i-nothere01", "")
	s.StartEndsIn(testRegion, "i-nothere01", "", "")
}
