package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
	"github.com/jdcloud-vm-resizer/resizer/metrics"
	"github.com/jdcloud-vm-resizer/resizer/store"
)

func TestOp(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{"GET", "/v1/regions/cn-north-1/instances/i-y7xnhq39ah", "describeInstance"},
		{"GET", "/v1/regions/cn-north-1/instanceTypes", "describeInstanceTypes"},
		{"GET", "/v1/regions/cn-north-1/images/img-abc/constraints", "describeImageConstraints"},
		{"POST", "/v1/regions/cn-north-1/instances/i-y7xnhq39ah:resizeInstance", "resizeInstance"},
		{"POST", "/v1/regions/cn-north-1/instances/i-y7xnhq39ah:stopInstance", "stopInstance"},
		{"POST", "/v1/regions/cn-north-1/instances/i-y7xnhq39ah:startInstance", "startInstance"},
		{"GET", "/v2/regions/cn-north-1/instances/i-1", "describeInstance"},
		// Everything else, whatever ids or actions it carries, is other.
		{"POST", "/v1/regions/cn-north-1/instances/i-y7xnhq39ah:rebootInstance", "other"},
		{"POST", "/v1/regions/cn-north-1/instances/i-y7xnhq39ah:" + hostileInstance, "other"},
		{"GET", "/v1/regions/cn-north-1/instances/i-1:resizeInstance", "other"},
		{"POST", "/v1/regions/cn-north-1/instances/i-1", "other"},
		{"DELETE", "/v1/regions/cn-north-1/instances/i-1", "other"},
		{"POST", "/v1/regions/cn-north-1/instanceTypes", "other"},
		{"GET", "/v1/regions/cn-north-1/instances/:resizeInstance", "other"},
		{"GET", "/v1/regions/cn-north-1/instances/", "other"},
		{"GET", "/v1/regions//instances/i-1", "other"},
		{"GET", "/v1/regions/cn-north-1/instances/i-1/extra", "other"},
		{"GET", "/v1/regions/cn-north-1/images//constraints", "other"},
		{"GET", "/vx/regions/cn-north-1/instanceTypes", "other"},
		{"GET", "/regions/cn-north-1/instanceTypes", "other"},
		{"GET", "/", "other"},
		{"GET", "", "other"},
		{"GET", "/v1/" + hostileFreeText, "other"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "http://jd.example/", nil)
		r.URL.Path = tt.path
		if got := metrics.Op(r); got != tt.want {
			t.Errorf("%s %q: Op = %s, want %s", tt.method, tt.path, got, tt.want)
		}
	}
	if metrics.Op(nil) != "other" {
		t.Error("Op(nil) is not other")
	}
}

// TestStatusLabelIsBounded: of every status a server could send, at most a
// handful of label values come out.
func TestStatusLabelIsBounded(t *testing.T) {
	seen := map[string]bool{}
	for code := -1; code <= 1200; code++ {
		seen[metrics.StatusLabel(code)] = true
	}
	if len(seen) > 16 {
		t.Errorf("%d status labels: %v", len(seen), seen)
	}
	for code, want := range map[int]string{200: "200", 201: "2xx", 204: "2xx", 301: "3xx", 400: "400", 401: "401", 403: "403",
		404: "404", 409: "4xx", 418: "4xx", 429: "429", 500: "500", 502: "502", 503: "503", 504: "504", 599: "5xx", 0: "other", 999: "other", 101: "1xx"} {
		if got := metrics.StatusLabel(code); got != want {
			t.Errorf("StatusLabel(%d) = %s, want %s", code, got, want)
		}
	}
}

type callRecord struct{ op, status string }

type recorder struct {
	mu    sync.Mutex
	calls []callRecord
}

func (r *recorder) ObserveCall(op, status string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, callRecord{op, status})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTransportRecordsEachAttempt: an answer is recorded with its status
// label, a transport error as error, and the answer or error goes back to
// the caller as it was.
func TestTransportRecordsEachAttempt(t *testing.T) {
	rec := &recorder{}
	boom := errors.New("connection reset")
	codes := []int{200, 429, 503, 418}
	i := 0
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if i == len(codes) {
			return nil, boom
		}
		c := codes[i]
		i++
		return &http.Response{StatusCode: c, Body: http.NoBody, Request: r}, nil
	})
	c := &http.Client{Transport: metrics.Transport(next, rec)}
	for range codes {
		res, err := c.Get("http://jd.example/v1/regions/cn-north-1/instances/i-1")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if _, err := c.Post("http://jd.example/v1/regions/cn-north-1/instances/i-1:resizeInstance", "application/json", nil); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the transport's", err)
	}
	want := []callRecord{{"describeInstance", "200"}, {"describeInstance", "429"}, {"describeInstance", "503"},
		{"describeInstance", "4xx"}, {"resizeInstance", "error"}}
	if len(rec.calls) != len(want) {
		t.Fatalf("recorded %v, want %v", rec.calls, want)
	}
	for i := range want {
		if rec.calls[i] != want[i] {
			t.Errorf("call %d: %v, want %v", i, rec.calls[i], want[i])
		}
	}
	// Without a recorder, and outside a delivery, it only passes through.
	bare := &http.Client{Transport: metrics.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
	}), nil)}
	res, err := bare.Get("http://jd.example/")
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("%v %v", res, err)
	}
	res.Body.Close()
}

type observations struct {
	mu  sync.Mutex
	obs []resizer.Observation
}

func (o *observations) Observe(x resizer.Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.obs = append(o.obs, x)
}

func (o *observations) last(t *testing.T) resizer.Observation {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.obs) == 0 {
		t.Fatal("nothing observed")
	}
	return o.obs[len(o.obs)-1]
}

// TestTransportUnderTheJDClient wires the decorator as the function does —
// under the signed JD client, over loopback to the simulator — and checks
// that each delivery's Observation counts exactly the HTTP attempts the
// simulator saw, 429s and retries included, and that the recorder heard
// each attempt with the op and status the simulator recorded.
func TestTransportUnderTheJDClient(t *testing.T) {
	sim, err := jdcloudsim.Start(jdcloudsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	prom := metrics.NewPrometheus()
	rec := &recorder{}
	both := multiRecorder{prom, rec}
	client, err := jdcloud.New(jdcloud.Options{
		Endpoint:    sim.URL(),
		Credentials: jdcloud.StaticCredentials{AccessKey: jdcloudsim.DemoAccessKey, SecretKey: jdcloudsim.DemoSecretKey},
		HTTPClient:  &http.Client{Transport: metrics.Transport(http.DefaultTransport.(*http.Transport).Clone(), both)},
		Retry:       testkit.FastRetry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	obs := &observations{}
	h := resizer.NewHandler(resizer.Options{
		Compute: client, Publisher: &testkit.Publisher{}, Store: store.NewMemory(100), Source: "test",
		Observer:     multiObserver{obs, prom},
		PollInterval: 5 * time.Millisecond, PollMax: 20 * time.Millisecond,
	})
	handle := func(data map[string]any) resizer.Observation {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		before := len(sim.Requests())
		h.Handle(ctx, testkit.Request(data))
		o := obs.last(t)
		if n := len(sim.Requests()) - before; o.JDCalls != n {
			t.Errorf("JDCalls %d, the simulator saw %d", o.JDCalls, n)
		}
		return o
	}

	sim.Fail(jdcloudsim.OpDescribeInstance, http.StatusTooManyRequests, 2)
	o := handle(testkit.Resize("i-stopped01", "g.n2.large"))
	if o.Outcome.Event.Type != resizer.TypeSucceeded || !o.Outcome.Data.Changed || o.JDThrottled != 2 || o.JDCalls < 5 {
		t.Fatalf("throttled resize: %s, %d calls, %d throttled", o.Outcome.Event.JSON, o.JDCalls, o.JDThrottled)
	}
	sim.Fail(jdcloudsim.OpResizeInstance, http.StatusServiceUnavailable, 1)
	o = handle(testkit.Resize("i-stopped02", "g.n2.large", "dryRun", true))
	if !o.Outcome.Data.DryRun || o.JDThrottled != 0 {
		t.Fatalf("dry run: %s, %d throttled", o.Outcome.Event.JSON, o.JDThrottled)
	}
	sim.Fail(jdcloudsim.OpResizeInstance, http.StatusServiceUnavailable, 0) // the dry run did not use it up
	o = handle(testkit.Resize("i-running01", "g.n2.large"))
	if o.Outcome.Data.Error == nil || o.Outcome.Data.Error.Reason != resizer.ReasonInstanceNotStopped {
		t.Fatalf("refusal: %s", o.Outcome.Event.JSON)
	}
	o = handle(testkit.Resize("i-nosuch01", "g.n2.large"))
	if o.Outcome.Data.Error == nil || o.Outcome.Data.Error.Code != resizer.CodeNotFound {
		t.Fatalf("not found: %s", o.Outcome.Event.JSON)
	}

	// What the recorder heard is what the simulator answered (the type and
	// image look-ups run side by side, so in either order).
	reqs := sim.Requests()
	want, heard := map[callRecord]int{}, map[callRecord]int{}
	for _, q := range reqs {
		want[callRecord{q.Op, metrics.StatusLabel(q.Status)}]++
	}
	for _, c := range rec.calls {
		heard[c]++
	}
	if !equalMaps(heard, want) {
		t.Errorf("recorded %v, the simulator answered %v", heard, want)
	}
	// And the scrape says the same.
	got := map[callRecord]int{}
	for _, m := range parse(t, prom.Text())[metrics.SeriesJDCloudRequests].GetMetric() {
		got[callRecord{label(m, "op"), label(m, "status")}] = int(m.GetCounter().GetValue())
	}
	if !equalMaps(got, want) {
		t.Errorf("resizer_jdcloud_requests_total %v, want %v", got, want)
	}
	if got[callRecord{"describeInstance", "429"}] != 2 || got[callRecord{"describeInstance", "404"}] == 0 {
		t.Errorf("resizer_jdcloud_requests_total %v: want 2 throttled describes and a 404", got)
	}
	for _, m := range parse(t, prom.Text())[metrics.SeriesJDCloudDuration].GetMetric() {
		if op := label(m, "op"); m.GetHistogram().GetSampleCount() != uint64(countOp(reqs, op)) {
			t.Errorf("latency samples of %s: %d, want %d", op, m.GetHistogram().GetSampleCount(), countOp(reqs, op))
		}
	}
}

func countOp(reqs []jdcloudsim.Request, op string) int {
	n := 0
	for _, q := range reqs {
		if q.Op == op {
			n++
		}
	}
	return n
}

type multiRecorder []metrics.CallRecorder

func (m multiRecorder) ObserveCall(op, status string, latency time.Duration) {
	for _, r := range m {
		r.ObserveCall(op, status, latency)
	}
}

type multiObserver []resizer.Observer

func (m multiObserver) Observe(o resizer.Observation) {
	for _, x := range m {
		x.Observe(o)
	}
}
