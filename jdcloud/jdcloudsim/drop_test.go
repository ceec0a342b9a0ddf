package jdcloudsim

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

// freshConns gives every request its own connection, so that a dropped one
// reaches the caller as an error instead of being replayed by the
// Transport (see TestDroppedGETIsReplayedOnAReusedConnection).
func freshConns(t *testing.T) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// A drop closes the connection with no answer; before applying nothing
// changes, after applying the operation has taken effect. Either way the
// record says Dropped with Status 0, and the next call is answered.
func TestDropsCloseTheConnectionUnanswered(t *testing.T) {
	tests := []struct {
		name, op, instance, body string
		after                    bool
		wantStatus, wantType     string // the instance after the dropped call
	}{
		{"stop before", OpStopInstance, "i-running01", `{}`, false, "running", "g.n2.medium"},
		{"stop after", OpStopInstance, "i-running01", `{}`, true, "stopping", "g.n2.medium"},
		{"start before", OpStartInstance, "i-stopped01", `{}`, false, "stopped", "g.n2.medium"},
		{"start after", OpStartInstance, "i-stopped01", `{}`, true, "starting", "g.n2.medium"},
		{"resize before", OpResizeInstance, "i-stopped01", `{"instanceType":"g.n2.large"}`, false, "stopped", "g.n2.medium"},
		{"resize after", OpResizeInstance, "i-stopped01", `{"instanceType":"g.n2.large"}`, true, "resizing", "g.n2.medium"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan Request, 4)
			s := startSim(t, Options{OnRequest: func(r Request) { seen <- r }})
			c := newClient(t, s)
			c.hc = freshConns(t)
			if tt.after {
				s.DropAfterApply(tt.op, 1)
			} else {
				s.DropBeforeApply(tt.op, 1)
			}
			path := instancePath(tt.instance) + ":" + tt.op
			if a, err := c.try(http.MethodPost, path, []byte(tt.body)); err == nil {
				t.Fatalf("dropped call answered %d: %s", a.Status, a.Raw)
			}
			if got := mustInstance(t, s, tt.instance); got.Status != tt.wantStatus || got.InstanceType != tt.wantType {
				t.Errorf("after the drop: %s %s, want %s %s", got.Status, got.InstanceType, tt.wantStatus, tt.wantType)
			}
			rec := <-seen
			if !rec.Dropped || rec.Status != 0 || !rec.SignatureValid || rec.Op != tt.op {
				t.Errorf("OnRequest record: op %s status %d dropped %v valid %v", rec.Op, rec.Status, rec.Dropped, rec.SignatureValid)
			}
			if log := s.Requests(); len(log) != 1 || !reflect.DeepEqual(log[0], rec) {
				t.Errorf("Requests() = %+v, want the one dropped record", log)
			}
			// The fault is used up: the retry is answered, by JD's rules.
			a := c.do(http.MethodPost, path, []byte(tt.body))
			if tt.after {
				wantError(t, a, http.StatusBadRequest, "FAILED_PRECONDITION", "is "+tt.wantStatus)
			} else {
				wantOK(t, a)
			}
		})
	}
}

// Drops share op's queue with Fail and FailAfterApply, in order, and a
// call refused for its signature does not use one up.
func TestDropsShareTheFaultQueue(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	c.hc = freshConns(t)
	bad := newClient(t, s)
	bad.creds.SecretKey = "wrong"
	s.Fail(OpDescribeInstance, http.StatusServiceUnavailable, 1)
	s.DropBeforeApply(OpDescribeInstance, 2)
	s.FailAfterApply(OpDescribeInstance, http.StatusGatewayTimeout, 1)
	s.DropAfterApply(OpDescribeInstance, 1)
	path := instancePath("i-stopped01")

	wantError(t, bad.do(http.MethodGet, path, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	wantError(t, c.do(http.MethodGet, path, nil), http.StatusServiceUnavailable, "UNAVAILABLE", "injected")
	for range 2 {
		if a, err := c.try(http.MethodGet, path, nil); err == nil {
			t.Fatalf("drop answered %d", a.Status)
		}
	}
	wantError(t, bad.do(http.MethodGet, path, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	wantError(t, c.do(http.MethodGet, path, nil), http.StatusGatewayTimeout, "DEADLINE_EXCEEDED", "after applying")
	if _, err := c.try(http.MethodGet, path, nil); err == nil {
		t.Fatal("DropAfterApply answered")
	}
	wantOK(t, c.do(http.MethodGet, path, nil))

	var got []int
	for _, r := range s.Requests() {
		if r.Dropped {
			got = append(got, 0)
			continue
		}
		got = append(got, r.Status)
	}
	if want := []int{401, 503, 0, 0, 401, 504, 0, 200}; !reflect.DeepEqual(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

// Go's Transport replays a GET whose reused connection closes unanswered:
// a DropBeforeApply of a describe can be invisible to a Go caller, and
// shows here as two records, the first dropped.
func TestDroppedGETIsReplayedOnAReusedConnection(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c.hc = &http.Client{Transport: tr}
	c.describe("i-stopped01") // opens the connection the next call reuses
	s.DropBeforeApply(OpDescribeInstance, 1)
	c.describe("i-stopped01")
	log := s.Requests()
	if len(log) != 3 || !log[1].Dropped || log[2].Dropped || log[2].Status != http.StatusOK {
		t.Fatalf("want describe, dropped describe, replayed describe; got %d records: %+v", len(log), log)
	}
}

// POSTs are not replayed, so a dropped stop reaches the caller as an error
// even on a reused connection.
func TestDroppedPOSTIsNotReplayed(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c.hc = &http.Client{Transport: tr}
	c.describe("i-running01")
	s.DropAfterApply(OpStopInstance, 1)
	if a, err := c.try(http.MethodPost, instancePath("i-running01")+":stopInstance", []byte(`{}`)); err == nil {
		t.Fatalf("dropped stop answered %d", a.Status)
	}
	if n := s.Calls(OpStopInstance); n != 1 {
		t.Errorf("Calls(stopInstance) = %d, want 1", n)
	}
}

// Where the connection cannot be hijacked (HTTP/2) a drop aborts the
// handler instead, which resets the stream: still no answer.
func TestDropOverHTTP2ResetsTheStream(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close)
	c := &client{t: t, base: ts.URL, creds: demoCreds, hc: ts.Client()}
	c.describe("i-running01")
	s.DropAfterApply(OpStopInstance, 1)
	if a, err := c.try(http.MethodPost, instancePath("i-running01")+":stopInstance", []byte(`{}`)); err == nil {
		t.Fatalf("dropped stop answered %d", a.Status)
	}
	log := s.Requests()
	if len(log) != 2 || !log[1].Dropped || log[1].Status != 0 {
		t.Errorf("records %+v", log)
	}
	if got := mustInstance(t, s, "i-running01").Status; got != "stopping" {
		t.Errorf("status %s, want stopping", got)
	}
	if n := s.Calls(OpStopInstance); n != 1 {
		t.Errorf("Calls(stopInstance) = %d, want 1: the reset stream was replayed", n)
	}
	wantOK(t, c.do(http.MethodGet, instancePath("i-running01"), nil))
}
