package jdcloudsim

import (
	"net/http"
	"testing"
	"time"
)

func TestRequestLog(t *testing.T) {
	at := time.Date(2026, 11, 28, 1, 2, 3, 0, time.UTC)
	s := startSim(t, Options{Now: func() time.Time { return at }})
	c := newClient(t, s)
	c.describe("i-stopped01")
	c.resize("i-stopped02", "g.n2.large", false)
	c.do(http.MethodGet, "/v1/regions/cn-north-1/instanceTypes?filters.1.name=az&filters.1.values.1=cn-north-1a", nil)
	bad := newClient(t, s)
	bad.creds.SecretKey = "wrong"
	bad.do(http.MethodPost, instancePath("i-stopped03")+":stopInstance", []byte(`{}`))
	c.do(http.MethodDelete, "/v1/regions/cn-north-1/instances/i-stopped01", nil)

	want := []struct {
		op, method, path, query, body string
		status                        int
		valid                         bool
	}{
		{OpDescribeInstance, "GET", instancePath("i-stopped01"), "", "", 200, true},
		{OpResizeInstance, "POST", instancePath("i-stopped02") + ":resizeInstance", "", `{"instanceType":"g.n2.large"}`, 200, true},
		{OpDescribeInstanceTypes, "GET", "/v1/regions/cn-north-1/instanceTypes", "filters.1.name=az&filters.1.values.1=cn-north-1a", "", 200, true},
		{OpStopInstance, "POST", instancePath("i-stopped03") + ":stopInstance", "", `{}`, 401, false},
		{OpUnknown, "DELETE", instancePath("i-stopped01"), "", "", 404, true},
	}
	got := s.Requests()
	if len(got) != len(want) {
		t.Fatalf("%d requests recorded, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Op != w.op || g.Method != w.method || g.Path != w.path || g.RawQuery != w.query ||
			string(g.Body) != w.body || g.Status != w.status || g.SignatureValid != w.valid {
			t.Errorf("request %d: got %s %s %s ?%s body %q → %d valid=%v\nwant %+v",
				i, g.Op, g.Method, g.Path, g.RawQuery, g.Body, g.Status, g.SignatureValid, w)
		}
		if g.AccessKey != DemoAccessKey {
			t.Errorf("request %d: AccessKey %q", i, g.AccessKey)
		}
		if !g.At.Equal(at) {
			t.Errorf("request %d: At %v, want the simulator clock's %v", i, g.At, at)
		}
		if g.Header.Get("X-Jdcloud-Nonce") == "" || g.Header.Get("Authorization") == "" {
			t.Errorf("request %d: headers not recorded: %v", i, g.Header)
		}
	}

	// The log hands out copies.
	got[1].Body[0] = 'X'
	got[1].Header.Set("Authorization", "changed")
	again := s.Requests()[1]
	if again.Body[0] != '{' || again.Header.Get("Authorization") == "changed" {
		t.Error("Requests shares memory with the simulator's log")
	}
	for op, n := range map[string]int{OpDescribeInstance: 1, OpResizeInstance: 1, OpDescribeInstanceTypes: 1, OpStopInstance: 1, OpStartInstance: 0, OpDescribeImageConstraints: 0, OpUnknown: 1} {
		if got := s.Calls(op); got != n {
			t.Errorf("Calls(%s) = %d, want %d", op, got, n)
		}
	}
}

// Every answer has its own requestId, in the body and the header alike
// (checkEnvelope checks shape and header).
func TestRequestIDsAreFresh(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	seen := map[string]bool{}
	for range 20 {
		a := c.do(http.MethodGet, instancePath("i-stopped01"), nil)
		checkEnvelope(t, a)
		if seen[a.RequestID] {
			t.Fatalf("requestId %s repeated", a.RequestID)
		}
		seen[a.RequestID] = true
	}
	a := c.do(http.MethodGet, instancePath("i-nothere01"), nil)
	checkEnvelope(t, a)
	if seen[a.RequestID] {
		t.Fatal("error answer reused a requestId")
	}
}
