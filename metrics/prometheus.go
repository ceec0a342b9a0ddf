package metrics

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// The Prometheus series of HTTP server mode (docs/contract.md §10).
const (
	SeriesOutcomes        = "resizer_outcomes_total"
	SeriesResizeDuration  = "resizer_resize_duration_seconds"
	SeriesJDCloudRequests = "resizer_jdcloud_requests_total"
	SeriesJDCloudDuration = "resizer_jdcloud_request_duration_seconds"
	SeriesInflight        = "resizer_inflight"
)

// MetricsPath is where server mode serves the series; ContentType is the
// text exposition format's media type.
const (
	MetricsPath = "/metrics"
	ContentType = "text/plain; version=0.0.4; charset=utf-8"
)

// Bucket upper bounds, in seconds. A delivery that changed an instance
// spans describe calls, maybe a stop and a start, and JD's resize: seconds
// to minutes. One JD call is milliseconds to a few seconds.
var (
	ResizeDurationBuckets = []float64{1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600}
	JDCloudRequestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
)

var (
	_ resizer.Observer = (*Prometheus)(nil)
	_ CallRecorder     = (*Prometheus)(nil)
	_ http.Handler     = (*Prometheus)(nil)
)

// Prometheus keeps the series of HTTP server mode in a registry of its own
// and serves them: it is the Observer (outcomes, resize durations), the
// CallRecorder under the JD client (JD requests and their latencies), the
// in-flight count (Begin, End) and the GET /metrics handler. Create it
// with NewPrometheus; it is safe for concurrent use.
type Prometheus struct {
	families       []family
	outcomes       *counterVec
	resizeDuration *histogramVec
	jdRequests     *counterVec
	jdDuration     *histogramVec
	inflight       *gauge
}

// NewPrometheus returns an empty registry of the five series.
func NewPrometheus() *Prometheus {
	p := &Prometheus{
		outcomes: newCounterVec(SeriesOutcomes,
			"Deliveries by outcome (succeeded, failed, pending) and reason (the error's reason or code, resized, unchanged, dry_run, replay, other).",
			"outcome", "reason"),
		resizeDuration: newHistogramVec(SeriesResizeDuration,
			"Duration of deliveries that changed an instance's type, from arrival to the outcome's publication.",
			ResizeDurationBuckets),
		jdRequests: newCounterVec(SeriesJDCloudRequests,
			"HTTP attempts at JD Cloud's VM OpenAPI, retries included, by operation and status (the code, its class, or error: no answer).",
			"op", "status"),
		jdDuration: newHistogramVec(SeriesJDCloudDuration,
			"Time from sending a JD Cloud request to its answer's headers (or to the failure), by operation.",
			JDCloudRequestBuckets, "op"),
		inflight: &gauge{name: SeriesInflight, help: "Deliveries being handled now."},
	}
	// By name, as client_golang writes them.
	p.families = []family{p.inflight, p.jdDuration, p.jdRequests, p.outcomes, p.resizeDuration}
	return p
}

// Observe counts the delivery's outcome and, when it changed an instance
// (a replay changed nothing), its duration.
func (p *Prometheus) Observe(o resizer.Observation) {
	if o.Outcome == nil {
		return
	}
	outcome, reason := Labels(o.Outcome)
	p.outcomes.inc(outcome, reason)
	if o.Outcome.Data.Changed && !o.Outcome.Replay {
		p.resizeDuration.observe(o.Duration.Seconds())
	}
}

// ObserveCall counts one JD Cloud attempt and its latency.
func (p *Prometheus) ObserveCall(op, status string, latency time.Duration) {
	p.jdRequests.inc(op, status)
	p.jdDuration.observe(latency.Seconds(), op)
}

// Begin and End bracket one delivery for resizer_inflight: every request of
// a batch is one, and an HTTP request that never becomes a delivery (401,
// 413, a health check, a scrape) is none. Every Begin needs its End.
func (p *Prometheus) Begin() { p.inflight.v.Add(1) }

// End: see Begin.
func (p *Prometheus) End() { p.inflight.v.Add(-1) }

// ServeHTTP answers GET (and HEAD) with every series in the text format;
// other methods get 405. It asks for no authentication: mount it only where
// the series may be read (they carry no id and no secret).
func (p *Prometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	text := p.Text()
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(text)
}

// Text is every series in the text format, as a scrape gets it.
func (p *Prometheus) Text() []byte {
	var b bytes.Buffer
	for _, f := range p.families {
		f.write(&b)
	}
	return b.Bytes()
}
