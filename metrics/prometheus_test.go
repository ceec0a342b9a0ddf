package metrics_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/metrics"
)

// parse reads a scrape with prometheus/common's own text parser.
func parse(t testing.TB, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, text)
	}
	return fams
}

// reference is client_golang's registry of the same five series, with the
// help texts the scrape announced, so that the two outputs can be compared
// byte for byte.
type reference struct {
	reg            *prometheus.Registry
	outcomes       *prometheus.CounterVec
	resizeDuration prometheus.Histogram
	jdRequests     *prometheus.CounterVec
	jdDuration     *prometheus.HistogramVec
	inflight       prometheus.Gauge
}

func newReference(t *testing.T, help map[string]string) *reference {
	r := &reference{
		reg: prometheus.NewRegistry(),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metrics.SeriesOutcomes, Help: help[metrics.SeriesOutcomes]},
			[]string{"outcome", "reason"}),
		resizeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: metrics.SeriesResizeDuration, Help: help[metrics.SeriesResizeDuration],
			Buckets: metrics.ResizeDurationBuckets}),
		jdRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metrics.SeriesJDCloudRequests, Help: help[metrics.SeriesJDCloudRequests]},
			[]string{"op", "status"}),
		jdDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metrics.SeriesJDCloudDuration, Help: help[metrics.SeriesJDCloudDuration],
			Buckets: metrics.JDCloudRequestBuckets}, []string{"op"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: metrics.SeriesInflight, Help: help[metrics.SeriesInflight]}),
	}
	r.reg.MustRegister(r.outcomes, r.resizeDuration, r.jdRequests, r.jdDuration, r.inflight)
	return r
}

func (r *reference) observe(o resizer.Observation) {
	outcome, reason := metrics.Labels(o.Outcome)
	r.outcomes.WithLabelValues(outcome, reason).Inc()
	if o.Outcome.Data.Changed && !o.Outcome.Replay {
		r.resizeDuration.Observe(o.Duration.Seconds())
	}
}

func (r *reference) observeCall(op, status string, latency time.Duration) {
	r.jdRequests.WithLabelValues(op, status).Inc()
	r.jdDuration.WithLabelValues(op).Observe(latency.Seconds())
}

func (r *reference) text(t *testing.T) []byte {
	t.Helper()
	fams, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

var allOutcomes = []*resizer.Outcome{succeededResized, succeededNoop, dryRun, failedPolicy, failedAPI, failedChanged, pending, replay,
	failedWith(resizer.CodePreconditionFailed, resizer.ReasonInstanceNotStopped), failedWith(resizer.CodeAPIError, hostileFreeText)}

var allOps = []string{metrics.OpDescribeInstance, metrics.OpDescribeInstanceTypes, metrics.OpDescribeImageConstraints,
	metrics.OpResizeInstance, metrics.OpStopInstance, metrics.OpStartInstance, metrics.OpOther}

var allStatuses = []string{"200", "400", "404", "429", "500", "503", "5xx", "4xx", metrics.StatusError}

// TestPrometheusMatchesClientGolang feeds the same mix of deliveries and JD
// calls — bucket bounds exactly hit, values past the last bucket — to the
// package's registry and to client_golang's, and wants the same scrape,
// byte for byte, and the same families once parsed by expfmt.
func TestPrometheusMatchesClientGolang(t *testing.T) {
	p := metrics.NewPrometheus()
	empty := parse(t, p.Text())
	help := map[string]string{}
	for name, f := range empty {
		help[name] = f.GetHelp()
	}
	if len(help) != 2 { // an empty scrape has the two series without labels
		t.Fatalf("an empty scrape has families %v, want resizer_inflight and resizer_resize_duration_seconds", help)
	}
	// The help of the labelled series appears once they have a sample.
	for _, o := range allOutcomes {
		p.Observe(observation(o, time.Second, 1, 0))
	}
	for _, op := range allOps {
		p.ObserveCall(op, "200", time.Millisecond)
	}
	for name, f := range parse(t, p.Text()) {
		help[name] = f.GetHelp()
	}
	ref := newReference(t, help)
	for _, o := range allOutcomes {
		ref.observe(observation(o, time.Second, 1, 0))
	}
	for _, op := range allOps {
		ref.observeCall(op, "200", time.Millisecond)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	durations := append(slices.Clone(metrics.ResizeDurationBuckets), 0, 0.3, 7, 599.9, 601, 3600)
	latencies := append(slices.Clone(metrics.JDCloudRequestBuckets), 0, 0.0001, 0.0123, 9.99, 30, 120)
	for range 500 {
		o := allOutcomes[rng.IntN(len(allOutcomes))]
		d := time.Duration(durations[rng.IntN(len(durations))] * float64(time.Second))
		p.Observe(observation(o, d, 3, 1))
		ref.observe(observation(o, d, 3, 1))
		op, st := allOps[rng.IntN(len(allOps))], allStatuses[rng.IntN(len(allStatuses))]
		l := time.Duration(latencies[rng.IntN(len(latencies))] * float64(time.Second))
		p.ObserveCall(op, st, l)
		ref.observeCall(op, st, l)
	}
	for range 3 {
		p.Begin()
		ref.inflight.Inc()
	}
	p.End()
	ref.inflight.Dec()

	got, want := p.Text(), ref.text(t)
	if !bytes.Equal(got, want) {
		t.Errorf("scrape differs from client_golang's:\n--- got\n%s\n--- want\n%s", got, want)
	}
	gotF, wantF := parse(t, got), parse(t, want)
	if len(gotF) != 5 || len(gotF) != len(wantF) {
		t.Fatalf("families %d, want 5 as client_golang's %d", len(gotF), len(wantF))
	}
	for name, w := range wantF {
		if g := gotF[name]; g.String() != w.String() {
			t.Errorf("%s:\n got %s\nwant %s", name, g, w)
		}
	}
	if v := gotF[metrics.SeriesInflight].GetMetric()[0].GetGauge().GetValue(); v != 2 {
		t.Errorf("resizer_inflight = %v, want 2", v)
	}
}

// TestPrometheusCounts: the counters say exactly what happened.
func TestPrometheusCounts(t *testing.T) {
	p := metrics.NewPrometheus()
	sent := map[[2]string]int{}
	resized := 0
	for i, o := range allOutcomes {
		for range i + 1 {
			p.Observe(observation(o, 2*time.Second, 1, 0))
			out, r := metrics.Labels(o)
			sent[[2]string{out, r}]++
			if o.Data.Changed && !o.Replay {
				resized++
			}
		}
	}
	fams := parse(t, p.Text())
	got := map[[2]string]int{}
	for _, m := range fams[metrics.SeriesOutcomes].GetMetric() {
		got[[2]string{label(m, "outcome"), label(m, "reason")}] = int(m.GetCounter().GetValue())
	}
	if !equalMaps(got, sent) {
		t.Errorf("resizer_outcomes_total %v, want %v", got, sent)
	}
	h := fams[metrics.SeriesResizeDuration].GetMetric()[0].GetHistogram()
	if int(h.GetSampleCount()) != resized || h.GetSampleSum() != float64(2*resized) {
		t.Errorf("resizer_resize_duration_seconds count %d sum %v, want %d and %d", h.GetSampleCount(), h.GetSampleSum(), resized, 2*resized)
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func equalMaps[K comparable](a, b map[K]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPrometheusCardinality: hostile reasons, ids and free text in every
// field of the outcome leave the label values inside the allow-list.
func TestPrometheusCardinality(t *testing.T) {
	p := metrics.NewPrometheus()
	for _, r := range []string{hostileInstance, hostileRequestID, hostileFreeText, "instance_not_stopped\n", strings.Repeat("z", 4096), "a\"b", `\`} {
		p.Observe(observation(failedWith(resizer.Code(r), r), time.Second, 1, 0))
		p.Observe(observation(failedWith(resizer.CodeAPIError, r), time.Second, 1, 0))
	}
	for _, o := range allOutcomes {
		p.Observe(observation(o, time.Second, 1, 0))
	}
	text := p.Text()
	for _, s := range []string{hostileInstance, hostileRequestID, hostileJDRequest, "oncall", "zzzz"} {
		if bytes.Contains(text, []byte(s)) {
			t.Errorf("the scrape carries %q", s)
		}
	}
	allowed := map[string]bool{"other": true, "resized": true, "unchanged": true, "dry_run": true, "replay": true,
		"api_error": true, "circuit_open": true, "timeout": true, "instance_not_stopped": true}
	for _, m := range parse(t, text)[metrics.SeriesOutcomes].GetMetric() {
		if r := label(m, "reason"); !allowed[r] {
			t.Errorf("reason label %q", r)
		}
		if o := label(m, "outcome"); o != "succeeded" && o != "failed" && o != "pending" {
			t.Errorf("outcome label %q", o)
		}
	}
}

func TestPrometheusHandler(t *testing.T) {
	p := metrics.NewPrometheus()
	p.Observe(observation(succeededResized, time.Second, 2, 0))
	srv := httptest.NewServer(p)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != metrics.ContentType {
		t.Fatalf("GET: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if got := expfmt.ResponseFormat(res.Header); got.FormatType() != expfmt.TypeTextPlain {
		t.Errorf("expfmt reads the answer as %v, want text", got)
	}
	if !bytes.Equal(body, p.Text()) {
		t.Errorf("GET body differs from Text()")
	}
	req, _ := http.NewRequest(http.MethodHead, srv.URL, nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ContentLength != int64(len(body)) {
		t.Errorf("HEAD: %d, length %d, want 200 and %d", res.StatusCode, res.ContentLength, len(body))
	}
	res, err = http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") == "" {
		t.Errorf("POST: %d, Allow %q, want 405 with Allow", res.StatusCode, res.Header.Get("Allow"))
	}
}

// TestPrometheusConcurrent: observations from many goroutines at once (run
// with -race) all count, and scrapes meanwhile always parse.
func TestPrometheusConcurrent(t *testing.T) {
	p := metrics.NewPrometheus()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				p.Begin()
				p.ObserveCall(metrics.OpDescribeInstance, "200", time.Millisecond)
				p.Observe(observation(succeededResized, time.Second, 1, 0))
				p.End()
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			parse(t, p.Text())
		}
	})
	wg.Wait()
	fams := parse(t, p.Text())
	if n := fams[metrics.SeriesOutcomes].GetMetric()[0].GetCounter().GetValue(); n != 1600 {
		t.Errorf("outcomes %v, want 1600", n)
	}
	if n := fams[metrics.SeriesJDCloudDuration].GetMetric()[0].GetHistogram().GetSampleCount(); n != 1600 {
		t.Errorf("JD durations %v, want 1600", n)
	}
	if v := fams[metrics.SeriesInflight].GetMetric()[0].GetGauge().GetValue(); v != 0 {
		t.Errorf("inflight %v, want 0", v)
	}
}
