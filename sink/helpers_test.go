package sink

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
)

// fast retries without making the tests wait.
var fast = backoff.Policy{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond}

const testTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// outcomeEvent is a realistic outcome event, encoded as the Handler
// encodes it; traceparent is set when tp.
func outcomeEvent(t *testing.T, tp bool) resizer.OutcomeEvent {
	t.Helper()
	a := resizer.EventAttributes{
		ID:      "5f0c1c9e-8a53-4d5e-9d0e-2a9e6c1b7f10",
		Source:  resizer.DefaultSource,
		Subject: "i-y7xnhq39ah",
		Time:    time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
	}
	if tp {
		a.TraceParent = testTraceParent
	}
	out, err := resizer.EncodeOutcome(a, resizer.OutcomeData{
		Request:      resizer.RequestRef{ID: "req-1", Source: "alerts/cpu", Type: resizer.TypeRequested},
		RegionID:     "cn-north-1",
		InstanceID:   "i-y7xnhq39ah",
		InstanceType: "g.n2.large",
		Changed:      true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Event
}

// sameEvent fails the test unless got carries want's identity, data and
// traceparent.
func sameEvent(t *testing.T, got event.Event, encoded resizer.OutcomeEvent) {
	t.Helper()
	want, err := encoded.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != want.ID() || got.Source() != want.Source() || got.Type() != want.Type() || got.Subject() != want.Subject() {
		t.Errorf("event = %s/%s/%s/%s, want %s/%s/%s/%s",
			got.ID(), got.Source(), got.Type(), got.Subject(), want.ID(), want.Source(), want.Type(), want.Subject())
	}
	if !got.Time().Equal(want.Time()) {
		t.Errorf("time = %v, want %v", got.Time(), want.Time())
	}
	if !jsonEqual(t, got.Data(), want.Data()) {
		t.Errorf("data = %s, want %s", got.Data(), want.Data())
	}
	gotTP, _ := got.Extensions()["traceparent"].(string)
	wantTP, _ := want.Extensions()["traceparent"].(string)
	if gotTP != wantTP {
		t.Errorf("traceparent = %q, want %q", gotTP, wantTP)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("not JSON: %s", a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// received is one request a test server saw.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// server is a loopback HTTP server that records requests and answers each
// with handle(n, w, r), n counting requests from 1.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newServer(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, received{header: r.Header.Clone(), body: body, at: time.Now()})
		n := len(s.reqs)
		s.mu.Unlock()
		handle(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.reqs...)
}

// statuses answers the n-th request with codes[n-1], repeating the last.
func statuses(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(codes[min(n, len(codes))-1])
	}
}
