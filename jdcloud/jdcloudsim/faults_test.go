package jdcloudsim

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestFailNCallsThenNormal(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	s.Fail(OpResizeInstance, http.StatusServiceUnavailable, 2)
	for i := range 2 {
		wantError(t, c.resize("i-stopped01", "g.n2.large", false), 503, "UNAVAILABLE", "injected")
		if got := mustInstance(t, s, "i-stopped01"); got.Status != "stopped" || got.InstanceType != "g.n2.medium" {
			t.Fatalf("injected fault %d changed state: %s %s", i, got.Status, got.InstanceType)
		}
	}
	// Other ops are untouched while the fault is pending or after.
	wantOK(t, c.do(http.MethodGet, instancePath("i-stopped01"), nil))
	wantOK(t, c.resize("i-stopped01", "g.n2.large", false))
	if got := s.Calls(OpResizeInstance); got != 3 {
		t.Errorf("Calls(resizeInstance) = %d, want 3", got)
	}
}

func TestFailStatusNames(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	for code, name := range map[int]string{
		400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
		429: "RATE_LIMIT_EXCEEDED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
	} {
		s.Fail(OpDescribeInstanceTypes, code, 1)
		wantError(t, c.do(http.MethodGet, "/v1/regions/cn-north-1/instanceTypes", nil), code, name, "")
	}
	wantOK(t, c.do(http.MethodGet, "/v1/regions/cn-north-1/instanceTypes", nil))
}

func TestFailQueuesAndClears(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	s.Fail(OpStopInstance, 503, 1)
	s.Fail(OpStopInstance, 429, 1)
	wantError(t, c.action("i-running01", "stopInstance"), 503, "UNAVAILABLE", "")
	wantError(t, c.action("i-running01", "stopInstance"), 429, "RATE_LIMIT_EXCEEDED", "")
	wantOK(t, c.action("i-running01", "stopInstance"))

	s.Fail(OpStartInstance, 500, 5)
	s.Fail(OpStartInstance, 500, 0)
	c.describe("i-running01") // sees stopping; the next access settles it
	wantOK(t, c.action("i-running01", "startInstance"))
}

// A request refused for its signature does not use up an injected fault.
func TestFailSkipsUnauthenticated(t *testing.T) {
	s := startSim(t, Options{})
	bad := newClient(t, s)
	bad.creds.SecretKey = "wrong"
	s.Fail(OpDescribeInstance, 500, 1)
	wantError(t, bad.do(http.MethodGet, instancePath("i-stopped01"), nil), 401, "UNAUTHENTICATED", "")
	good := newClient(t, s)
	wantError(t, good.do(http.MethodGet, instancePath("i-stopped01"), nil), 500, "INTERNAL", "")
	wantOK(t, good.do(http.MethodGet, instancePath("i-stopped01"), nil))
}

func TestControlPanicsOnUnknownOp(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"Fail":                    func() { s.Fail("resize", 503, 1) },
		"Calls":                   func() { s.Calls("describeInstances") },
		"SetLatency":              func() { s.SetLatency("stop", time.Second) },
		"Fail 200":                func() { s.Fail(OpResizeInstance, 200, 1) },
		"DropBeforeApply unknown": func() { s.DropBeforeApply("stop", 1) },
		"DropBeforeApply 0":       func() { s.DropBeforeApply(OpStopInstance, 0) },
		"DropAfterApply unknown":  func() { s.DropAfterApply("start", 1) },
		"DropAfterApply 0":        func() { s.DropAfterApply(OpStartInstance, 0) },
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
}

func TestLatencyHonoured(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	const d = 100 * time.Millisecond
	s.SetLatency(OpDescribeInstance, d)
	start := time.Now()
	wantOK(t, c.do(http.MethodGet, instancePath("i-stopped01"), nil))
	if el := time.Since(start); el < d {
		t.Errorf("answered after %v, latency %v", el, d)
	}
}

// Latency is per op: an op with an hour's latency does not hold up others.
// The client deadline turns a wrong implementation into a failure rather
// than a hang.
func TestLatencyIsPerOp(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	s.SetLatency("", time.Hour)
	s.SetLatency(OpDescribeInstance, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.ctx = ctx
	wantOK(t, c.do(http.MethodGet, instancePath("i-stopped01"), nil))
	// "" replaces every per-op value.
	s.SetLatency("", 0)
	wantOK(t, c.do(http.MethodGet, "/v1/regions/cn-north-1/instanceTypes", nil))
}

// A caller that gives up during the latency is abandoned: the handler
// returns, nothing changes, and the record shows Status 0.
func TestLatencyCancelledByContext(t *testing.T) {
	done := make(chan Request, 1)
	s := startSim(t, Options{OnRequest: func(r Request) { done <- r }})
	s.SetLatency(OpResizeInstance, time.Hour)
	c := newClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c.ctx = ctx
	if _, err := c.try(http.MethodPost, instancePath("i-stopped01")+":resizeInstance", []byte(`{"instanceType":"g.n2.large"}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("client error %v, want deadline exceeded", err)
	}
	select {
	case r := <-done:
		if r.Op != OpResizeInstance || r.Status != 0 {
			t.Errorf("record: op %s status %d, want resizeInstance 0", r.Op, r.Status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler kept waiting after the caller gave up")
	}
	if got := mustInstance(t, s, "i-stopped01"); got.Status != "stopped" || got.InstanceType != "g.n2.medium" {
		t.Errorf("abandoned resize changed state: %s %s", got.Status, got.InstanceType)
	}
}

// Close ends a latency wait with 503 instead of leaving the caller hanging.
// Whichever of Close and the wait comes first, the answer is the same.
func TestCloseCutsLatencyShort(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLatency("", time.Hour)
	rec := httptest.NewRecorder()
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, instancePath("i-stopped01"), nil))
	}()
	s.Close()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the latency wait")
	}
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
	s.Close() // a second Close is harmless
}

// FailAfterApply works alike for every state-changing op: the operation
// takes effect, the answer is the fault, and a retry meets JD's status rule
// because the first call already moved the instance on.
func TestFailAfterApplyChangesStateAndAnswersTheFault(t *testing.T) {
	tests := []struct {
		op, instance, body string
		code               int
		status, during     string
	}{
		{OpResizeInstance, "i-stopped01", `{"instanceType":"g.n2.large"}`, http.StatusGatewayTimeout, "DEADLINE_EXCEEDED", "resizing"},
		{OpStopInstance, "i-running01", `{}`, http.StatusServiceUnavailable, "UNAVAILABLE", "stopping"},
		{OpStopInstance, "i-running02", `{"chargeOnStopped":"keepCharging"}`, http.StatusInternalServerError, "INTERNAL", "stopping"},
		{OpStartInstance, "i-stopped01", `{}`, http.StatusGatewayTimeout, "DEADLINE_EXCEEDED", "starting"},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.instance, func(t *testing.T) {
			s := startSim(t, Options{})
			c := newClient(t, s)
			path := instancePath(tt.instance) + ":" + tt.op
			s.FailAfterApply(tt.op, tt.code, 1)
			wantError(t, c.do(http.MethodPost, path, []byte(tt.body)), tt.code, tt.status, "after applying")
			if got := mustInstance(t, s, tt.instance); got.Status != tt.during {
				t.Fatalf("the %s was not applied: status %s, want %s", tt.op, got.Status, tt.during)
			}
			wantError(t, c.do(http.MethodPost, path, []byte(tt.body)), http.StatusBadRequest, "FAILED_PRECONDITION", "instance "+tt.instance+" is "+tt.during)
			if got := s.Calls(tt.op); got != 2 {
				t.Errorf("Calls(%s) = %d, want 2", tt.op, got)
			}
		})
	}
}
