package jdcloudsim

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// A step is "stop ID", "stopcharging ID", "start ID", "resize ID TYPE",
// "look ID" (describeInstance), "wait DURATION", "errorstart ID TYPE" (StartEndsIn error), "failstop"
// (FailAfterApply on the next stop), "dropstop" (DropBeforeApply on the
// next stop) or "resetpeak", followed by the OutOfService expected after it.
type oosStep struct {
	do   string
	want int
}

// Each scenario runs twice, once with every instance described after each
// step and once with nothing described: the counts and the peak must not
// depend on polling.
func TestOutOfServiceAccounting(t *testing.T) {
	const d = 10 * time.Second
	tests := []struct {
		name       string
		transition time.Duration
		steps      []oosStep
		peak       int
	}{
		{"stop, resize, start", d, []oosStep{
			{"stop i-ladderrun01", 1}, {"wait 10s", 1},
			{"resize i-ladderrun01 g.n4.large", 1}, {"wait 10s", 1},
			{"start i-ladderrun01", 1}, {"wait 9.9s", 1}, {"wait 100ms", 0},
		}, 1},
		{"one at a time", d, []oosStep{
			{"stop i-ladderrun01", 1}, {"wait 10s", 1}, {"start i-ladderrun01", 1}, {"wait 10s", 0},
			{"stop i-ladderrun02", 1}, {"wait 10s", 1}, {"start i-ladderrun02", 1}, {"wait 10s", 0},
		}, 1},
		{"overlapping", d, []oosStep{
			{"stop i-ladderrun01", 1}, {"stop i-ladderrun02", 2}, {"wait 10s", 2},
			{"start i-ladderrun01", 2}, {"wait 5s", 2}, {"stop i-running01", 3},
			{"wait 5s", 2}, {"start i-ladderrun02", 2}, {"wait 10s", 1},
		}, 3},
		// Nobody looks between the starts settling and the next stop; the
		// lazily settled statuses must not inflate the peak.
		{"ends settle unobserved", d, []oosStep{
			{"stop i-ladderrun01", 1}, {"stop i-ladderrun02", 2}, {"wait 10s", 2},
			{"start i-ladderrun01", 2}, {"start i-ladderrun02", 2}, {"wait 10s", 0},
			{"stop i-running01", 1}, {"stop i-running02", 2},
		}, 2},
		{"resize of an instance stopped outside the API", d, []oosStep{
			{"resize i-ladder01 g.n4.xlarge", 1}, {"wait 10s", 0},
			{"start i-ladder01", 0}, {"wait 10s", 0},
		}, 1},
		{"a start that ends in error leaves it out", d, []oosStep{
			{"errorstart i-ladderrun01 g.n4.medium", 0},
			{"stop i-ladderrun01", 1}, {"wait 10s", 1}, {"start i-ladderrun01", 1}, {"wait 10s", 1},
		}, 1},
		{"refused calls count nothing", d, []oosStep{
			{"start i-ladderrun01", 0}, {"resize i-ladderrun01 g.n4.large", 0}, {"resize i-ladder02 g.n4.2xlarge", 0},
			{"stop i-ladderrun01", 1}, {"stop i-ladderrun01", 1},
		}, 1},
		{"a lost stop answer counts, a lost request does not", d, []oosStep{
			{"dropstop", 0}, {"stop i-ladderrun01", 0},
			{"failstop", 0}, {"stop i-ladderrun02", 1},
		}, 1},
		{"stopCharging counts alike", d, []oosStep{
			{"stopcharging i-ladderrun01", 1}, {"wait 10s", 1}, {"start i-ladderrun01", 1}, {"wait 10s", 0},
		}, 1},
		{"reset peak", d, []oosStep{
			{"stop i-ladderrun01", 1}, {"stop i-ladderrun02", 2}, {"wait 10s", 2},
			{"start i-ladderrun01", 2}, {"wait 10s", 1}, {"resetpeak", 1},
		}, 1},
		{"fractional transition", 5500 * time.Millisecond, []oosStep{
			{"stop i-ladderrun01", 1}, {"wait 5.5s", 1}, {"start i-ladderrun01", 1}, {"wait 5499ms", 1}, {"wait 1ms", 0},
		}, 1},
		// Under Transition 0 a transition counts as ending when accepted;
		// the statuses still need a describe to settle, hence the looks.
		{"zero transition", 0, []oosStep{
			{"stop i-ladderrun01", 1}, {"stop i-ladderrun02", 2}, {"look i-ladderrun01", 2}, {"look i-ladderrun01", 2},
			{"start i-ladderrun01", 1}, {"resize i-ladder01 g.n4.xlarge", 1},
			{"look i-ladderrun02", 1}, {"look i-ladderrun02", 1}, {"start i-ladderrun02", 0},
		}, 2},
	}
	for _, tt := range tests {
		for _, poll := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/poll=%v", tt.name, poll), func(t *testing.T) {
				clock := &fakeClock{t: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
				s := startSim(t, Options{Transition: tt.transition, Now: clock.Now})
				c := newClient(t, s)
				c.hc = freshConns(t) // dropped stops must reach the caller
				for i, st := range tt.steps {
					runOOSStep(t, s, c, clock, st.do)
					if poll {
						for _, id := range []string{"i-ladderrun01", "i-ladderrun02", "i-running01", "i-running02", "i-ladder01", "i-ladder02"} {
							c.describe(id)
						}
					}
					if got := s.OutOfService(); got != st.want {
						t.Fatalf("step %d %q: OutOfService %d, want %d", i, st.do, got, st.want)
					}
				}
				if got := s.PeakOutOfService(); got != tt.peak {
					t.Errorf("PeakOutOfService %d, want %d", got, tt.peak)
				}
			})
		}
	}
}

func runOOSStep(t *testing.T, s *Server, c *client, clock *fakeClock, step string) {
	t.Helper()
	f := strings.Fields(step)
	post := func(id, op, body string) {
		// Refusals are part of the scenarios; answers are not checked here.
		_, _ = c.try(http.MethodPost, instancePath(id)+":"+op, []byte(body))
	}
	switch f[0] {
	case "stop":
		post(f[1], OpStopInstance, `{}`)
	case "stopcharging":
		post(f[1], OpStopInstance, `{"chargeOnStopped":"stopCharging"}`)
	case "start":
		post(f[1], OpStartInstance, `{}`)
	case "resize":
		post(f[1], OpResizeInstance, `{"instanceType":"`+f[2]+`"}`)
	case "look":
		c.describe(f[1])
	case "errorstart":
		s.StartEndsIn(testRegion, f[1], f[2], "error")
	case "failstop":
		s.FailAfterApply(OpStopInstance, http.StatusGatewayTimeout, 1)
	case "dropstop":
		s.DropBeforeApply(OpStopInstance, 1)
	case "resetpeak":
		s.ResetPeak()
	case "wait":
		d, err := time.ParseDuration(f[1])
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(d)
	default:
		t.Fatalf("unknown step %q", step)
	}
}

// SetStatus to running ends an outage; PutInstance forgets it; the peak
// stays.
func TestOutOfServiceAndTestControls(t *testing.T) {
	s := startSim(t, Options{Transition: time.Minute})
	c := newClient(t, s)
	wantOK(t, c.action("i-running01", "stopInstance"))
	wantOK(t, c.action("i-running02", "stopInstance"))
	s.SetStatus(testRegion, "i-running01", "stopped")
	if got := s.OutOfService(); got != 2 {
		t.Fatalf("after SetStatus stopped: %d, want 2", got)
	}
	s.SetStatus(testRegion, "i-running01", "running")
	if got := s.OutOfService(); got != 1 {
		t.Fatalf("after SetStatus running: %d, want 1", got)
	}
	s.PutInstance(testRegion, mustInstance(t, s, "i-running02"))
	if got, peak := s.OutOfService(), s.PeakOutOfService(); got != 0 || peak != 2 {
		t.Fatalf("after PutInstance: %d out, peak %d; want 0 and 2", got, peak)
	}
}

// Concurrent callers on the real clock: the accounting stays consistent
// under -race and ends at zero.
func TestOutOfServiceConcurrent(t *testing.T) {
	const d = 20 * time.Millisecond
	s := startSim(t, Options{Transition: d})
	ids := []string{"i-running01", "i-running02", "i-ladderrun01", "i-ladderrun02"}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			c := newClient(t, s)
			for _, op := range []string{"stopInstance", "startInstance"} {
				if a, err := c.try(http.MethodPost, instancePath(id)+":"+op, []byte(`{}`)); err != nil || a.Status != http.StatusOK {
					t.Errorf("%s %s: %v %d", op, id, err, a.Status)
					return
				}
				for c.describe(id).Status != map[string]string{"stopInstance": "stopped", "startInstance": "running"}[op] {
					time.Sleep(d / 4)
				}
			}
		})
	}
	wg.Wait()
	if got := s.OutOfService(); got != 0 {
		t.Errorf("OutOfService %d after every instance is running again", got)
	}
	if peak := s.PeakOutOfService(); peak < 1 || peak > len(ids) {
		t.Errorf("PeakOutOfService %d, want 1..%d", peak, len(ids))
	}
}
