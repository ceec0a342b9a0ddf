// Command storm is the storm step of `make bench`: many stopped instances
// of one region resized at once through the real bootstrap binary, against
// the JD Cloud simulator enforcing a gateway rate (429 above it) and
// transitions that take time, twice:
//
//   - http: one bootstrap as the HTTP CloudEvents server, every request a
//     concurrent structured-mode POST (one process, one shared limiter and
//     cache, JDCLOUD_RATE_LIMIT at its default);
//   - sqs: as many bootstraps under aws-lambda-rie as there are batches, as
//     Lambda runs one copy per concurrent SQS batch, each invoked at once
//     with one batch (each copy has its own limiter at the default and its
//     own cache, so the copies together ask the gateway for more than it
//     takes: the 429s and the shared limiter's slowdown are the point).
//
// It reports wall time from the first request to the last answer, JD calls
// per resize (429 answers not counted), the 429s, and the outcomes by type
// as the sink received them, and writes its section into bench/RESULTS.md
// (between storm markers, below sidebyside's part).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jdcloud-vm-resizer/resizer/bench/internal/results"
	"github.com/jdcloud-vm-resizer/resizer/internal/childproc"
	"github.com/jdcloud-vm-resizer/resizer/internal/rie"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

const (
	region     = "cn-north-1"
	template   = "i-stopped01" // the fixture's resizable stopped instance
	targetType = "g.n2.large"
	// JD calls per resize: describeInstance and resizeInstance, the
	// look-ups answered by the cache.
	floorCalls   = 2
	callsTarget  = 2.3
	wallTarget   = 1.3 // × the floor of floorCalls per resize at the gateway's rate
	succeededOut = "com.jdcloud.vm.resize.succeeded"
)

// The markers of this program's section of bench/RESULTS.md.
var beginMarker, endMarker = results.Markers("storm")

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "storm:", err)
		os.Exit(1)
	}
}

type config struct {
	bootstrap  string
	instances  int
	batches    int
	rate       float64
	transition time.Duration
	latency    time.Duration
	env        map[string]string
	trace      bool
}

func run() error {
	var (
		c   config
		out = flag.String("out", "bench/RESULTS.md", "file whose storm section is rewritten; empty for none")
		env results.EnvFlag
	)
	flag.StringVar(&c.bootstrap, "bootstrap", "bin/bootstrap", "the resizer's binary, built for this host")
	flag.IntVar(&c.instances, "instances", 50, "stopped instances resized at once")
	flag.IntVar(&c.batches, "batches", 5, "SQS batches (one function copy each) sharing the instances")
	flag.Float64Var(&c.rate, "rate", 20, "the simulated gateway's requests per second (429 above)")
	flag.DurationVar(&c.transition, "transition", 2*time.Second, "how long the simulator's stop, resize and start take")
	flag.DurationVar(&c.latency, "latency", 30*time.Millisecond, "the simulator's latency per answer")
	flag.Var(&env, "env", "NAME=value added to the resizer's environment (repeatable)")
	flag.BoolVar(&c.trace, "trace", false, "print each storm's JD calls per 250 ms (answered, 429) to stderr")
	flag.Parse()
	c.env = env
	if c.instances < 1 || c.batches < 1 || c.instances%c.batches != 0 || c.rate <= 0 {
		return fmt.Errorf("-instances %d -batches %d -rate %v: want instances a multiple of batches, rate > 0", c.instances, c.batches, c.rate)
	}
	bin, err := filepath.Abs(c.bootstrap)
	if err != nil {
		return err
	}
	c.bootstrap = bin
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	fmt.Fprintf(os.Stderr, "storm: %d concurrent HTTP deliveries\n", c.instances)
	httpRes, err := stormHTTP(ctx, c)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	rs := []result{httpRes}
	// At the default, the copies together ask the gateway for batches
	// times its rate; at the README's rule, for exactly its rate.
	share := strconv.FormatFloat(c.rate/float64(c.batches), 'f', -1, 64)
	for _, limit := range []string{"", share} {
		fmt.Fprintf(os.Stderr, "storm: %d SQS batches of %d, one function copy each, JDCLOUD_RATE_LIMIT=%s\n", c.batches, c.instances/c.batches, or(limit, "default"))
		r, err := stormSQS(ctx, c, limit)
		if err != nil {
			return fmt.Errorf("sqs: %w", err)
		}
		rs = append(rs, r)
	}
	section := report(c, rs)
	fmt.Print(section)
	if *out == "" {
		return nil
	}
	return results.WriteSection(*out, beginMarker, endMarker, section)
}

// world is one storm's simulator and sink.
type world struct {
	sim  *jdcloudsim.Server
	sink *httptest.Server
	ids  []string

	mu       sync.Mutex
	outcomes map[string]int // by type, as the sink received them
}

func newWorld(c config) (*world, error) {
	sim, err := jdcloudsim.Start(jdcloudsim.Options{RateLimit: c.rate, Transition: c.transition})
	if err != nil {
		return nil, err
	}
	sim.SetLatency("", c.latency)
	tmpl, ok := sim.Instance(region, template)
	if !ok {
		sim.Close()
		return nil, fmt.Errorf("the simulator's fixture has no %s", template)
	}
	w := &world{sim: sim, outcomes: map[string]int{}}
	for i := range c.instances {
		inst := tmpl
		inst.InstanceID = fmt.Sprintf("i-storm%03d", i+1)
		inst.InstanceName = fmt.Sprintf("storm%03d", i+1)
		sim.PutInstance(region, inst)
		w.ids = append(w.ids, inst.InstanceID)
	}
	w.sink = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var ev struct {
			Type string `json:"type"`
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(rw, "want a structured CloudEvent", http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.outcomes[ev.Type]++
		w.mu.Unlock()
		rw.WriteHeader(http.StatusAccepted)
	}))
	return w, nil
}

func (w *world) close() {
	w.sink.Close()
	w.sim.Close()
}

func (w *world) resetOutcomes() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.outcomes)
}

// awaitOutcomes waits until the sink has n outcomes and returns them by
// type.
func (w *world) awaitOutcomes(n int) map[string]int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		total := 0
		for _, k := range w.outcomes {
			total += k
		}
		got := maps.Clone(w.outcomes)
		w.mu.Unlock()
		if total >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var ops = []string{jdcloudsim.OpDescribeInstance, jdcloudsim.OpDescribeInstanceTypes, jdcloudsim.OpDescribeImageConstraints,
	jdcloudsim.OpResizeInstance, jdcloudsim.OpStopInstance, jdcloudsim.OpStartInstance}

// calls counts the simulator's calls by op, 429s included.
func (w *world) calls() map[string]int {
	m := map[string]int{}
	for _, op := range ops {
		m[op] = w.sim.Calls(op)
	}
	return m
}

// env is the resizer's environment: the simulator, the sink, defaults
// otherwise (JDCLOUD_RATE_LIMIT included).
func (w *world) env(c config) map[string]string {
	m := map[string]string{
		"JDCLOUD_ACCESS_KEY":    jdcloudsim.DemoAccessKey,
		"JDCLOUD_SECRET_KEY":    jdcloudsim.DemoSecretKey,
		"JDCLOUD_ENDPOINT":      w.sim.URL(),
		"RESULT_SINK_URL":       w.sink.URL,
		"ALLOW_UNAUTHENTICATED": "true",
	}
	maps.Copy(m, c.env)
	return m
}

// request is the CloudEvent asking to resize id, for real.
func request(run, id string) []byte {
	b, _ := json.Marshal(map[string]any{
		"specversion":     "1.0",
		"id":              "storm-" + run + "-" + id,
		"source":          "bench/storm",
		"type":            "com.jdcloud.vm.resize.requested",
		"datacontenttype": "application/json",
		"subject":         id,
		"data":            map[string]any{"regionId": region, "instanceId": id, "instanceType": targetType},
	})
	return b
}

// result is one storm's measurements.
type result struct {
	name      string
	how       string
	wall      time.Duration
	answers   []time.Duration // each delivery's (or batch's) time to its answer
	calls     map[string]int
	throttled int
	outcomes  map[string]int
	failures  int // resizes whose answer or outcome was not a success
	resizes   int
}

func (r *result) jdCalls() int {
	n := 0
	for _, k := range r.calls {
		n += k
	}
	return n - r.throttled
}

// stormHTTP runs one bootstrap as the HTTP server and POSTs every request
// at once.
func stormHTTP(ctx context.Context, c config) (result, error) {
	w, err := newWorld(c)
	if err != nil {
		return result{}, err
	}
	defer w.close()
	port, err := childproc.FreePort()
	if err != nil {
		return result{}, err
	}
	env := w.env(c)
	env["PORT"] = strconv.Itoa(port)
	cmd := exec.CommandContext(ctx, c.bootstrap)
	cmd.Env = results.ServerEnviron(env)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if err := results.AwaitListening(ctx, url); err != nil {
		return result{}, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.instances}}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	res := result{name: "http", how: fmt.Sprintf("%d concurrent structured-mode POSTs to one bootstrap (HTTP server)", c.instances), resizes: c.instances}
	res.answers = make([]time.Duration, c.instances)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fails []string
		last  time.Time
	)
	start := time.Now()
	for i, id := range w.ids {
		wg.Go(func() {
			t0 := time.Now()
			typ, _, err := results.PostEvent(ctx, client, url, request(run, id))
			t1 := time.Now()
			mu.Lock()
			defer mu.Unlock()
			res.answers[i] = t1.Sub(t0)
			if t1.After(last) {
				last = t1
			}
			if err != nil || typ != succeededOut {
				fails = append(fails, fmt.Sprintf("%s: %s %v", id, typ, err))
			}
		})
	}
	wg.Wait()
	res.wall = last.Sub(start)
	if c.trace {
		w.trace("http", start)
	}
	res.calls, res.throttled = w.calls(), w.sim.Throttled()
	res.outcomes = w.awaitOutcomes(c.instances)
	res.failures = max(len(fails), notSucceeded(res.outcomes, c.instances))
	for _, f := range fails[:min(len(fails), 5)] {
		fmt.Fprintln(os.Stderr, "storm: http:", f)
	}
	return res, nil
}

// stormSQS starts one bootstrap per batch under its own emulator, warms
// each (a payload no trigger recognises: no JD call), then invokes them all
// at once with one batch each.
func stormSQS(ctx context.Context, c config, rateLimit string) (result, error) {
	w, err := newWorld(c)
	if err != nil {
		return result{}, err
	}
	defer w.close()
	per := c.instances / c.batches
	env := w.env(c)
	asked := fmt.Sprintf("JDCLOUD_RATE_LIMIT at its default, 20: %d × 20 = %d/s asked of the gateway", c.batches, c.batches*20)
	if rateLimit != "" {
		env["JDCLOUD_RATE_LIMIT"] = rateLimit
		asked = fmt.Sprintf("JDCLOUD_RATE_LIMIT=%s: %d × %s = %g/s, the gateway's rate", rateLimit, c.batches, rateLimit, c.rate)
	}
	emus := make([]*rie.Emulator, c.batches)
	for i := range emus {
		o := rie.Options{Binary: c.bootstrap, Env: env, Timeout: time.Minute}
		if c.trace {
			o.Stdout = &prefixed{fmt.Sprintf("storm: sqs copy %d: ", i+1), os.Stderr}
		}
		e, err := rie.Start(ctx, o)
		if err != nil {
			return result{}, err
		}
		defer e.Close()
		if _, _, err := e.Invoke(ctx, []byte(`{"warm":"up"}`)); err != nil {
			return result{}, fmt.Errorf("warming copy %d: %w", i+1, err)
		}
		emus[i] = e
	}
	w.awaitOutcomes(c.batches) // the warm-ups' rejections
	w.resetOutcomes()
	c0 := w.calls()
	t0 := w.sim.Throttled()
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	payloads := make([][]byte, c.batches)
	for b := range payloads {
		var ev events.SQSEvent
		for k := range per {
			id := w.ids[b*per+k]
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: fmt.Sprintf("m-%s-%d", run, b*per+k), EventSource: "aws:sqs",
				EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:resize", Body: string(request(run, id)),
			})
		}
		payloads[b], _ = json.Marshal(ev)
	}
	res := result{name: "sqs", how: fmt.Sprintf("%d SQS batches of %d, each to its own bootstrap copy under aws-lambda-rie, invoked at once; %s", c.batches, per, asked), resizes: c.instances}
	if rateLimit != "" {
		res.name = "sqs at the share"
	}
	res.answers = make([]time.Duration, c.batches)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fails []string
		last  time.Time
	)
	start := time.Now()
	for b, e := range emus {
		wg.Go(func() {
			t0 := time.Now()
			answer, fnErr, err := e.Invoke(ctx, payloads[b])
			t1 := time.Now()
			mu.Lock()
			defer mu.Unlock()
			res.answers[b] = t1.Sub(t0)
			if t1.After(last) {
				last = t1
			}
			var resp events.SQSEventResponse
			switch {
			case err != nil || fnErr:
				fails = append(fails, fmt.Sprintf("batch %d: %v %.200s", b+1, err, answer))
			case json.Unmarshal(answer, &resp) != nil:
				fails = append(fails, fmt.Sprintf("batch %d: answer %.200s", b+1, answer))
			default:
				for _, f := range resp.BatchItemFailures {
					fails = append(fails, fmt.Sprintf("batch %d: record %s failed", b+1, f.ItemIdentifier))
				}
			}
		})
	}
	wg.Wait()
	res.wall = last.Sub(start)
	if c.trace {
		w.trace("sqs", start)
	}
	res.calls = w.calls()
	for op := range res.calls {
		res.calls[op] -= c0[op]
	}
	res.throttled = w.sim.Throttled() - t0
	res.outcomes = w.awaitOutcomes(c.instances)
	res.failures = max(len(fails), notSucceeded(res.outcomes, c.instances))
	for _, f := range fails[:min(len(fails), 5)] {
		fmt.Fprintln(os.Stderr, "storm: sqs:", f)
	}
	return res, nil
}

// trace prints the JD calls after start per 250 ms: answered, 429.
func (w *world) trace(name string, start time.Time) {
	const step = 250 * time.Millisecond
	var ok, throttled []int
	for _, r := range w.sim.Requests() {
		if r.At.Before(start) {
			continue
		}
		i := int(r.At.Sub(start) / step)
		for len(ok) <= i {
			ok, throttled = append(ok, 0), append(throttled, 0)
		}
		if r.Status == http.StatusTooManyRequests {
			throttled[i]++
		} else {
			ok[i]++
		}
	}
	for i := range ok {
		fmt.Fprintf(os.Stderr, "storm: %s %5.2fs %3d ok %3d 429\n", name, (time.Duration(i) * step).Seconds(), ok[i], throttled[i])
	}
}

// prefixed writes the function's log lines that tell of throttling, each
// after a prefix.
type prefixed struct {
	prefix string
	w      io.Writer
}

func (p *prefixed) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if strings.Contains(line, "throttled") {
			fmt.Fprint(p.w, p.prefix+line)
		}
	}
	return len(b), nil
}

// notSucceeded counts the outcomes that are not succeeded, and the ones
// missing.
func notSucceeded(outcomes map[string]int, want int) int {
	n, total := 0, 0
	for t, k := range outcomes {
		total += k
		if t != succeededOut {
			n += k
		}
	}
	return n + max(0, want-total)
}

func report(c config, rs []result) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	floor := time.Duration(float64(c.instances*floorCalls) / c.rate * float64(time.Second))
	p("%s\n## Storm\n\n", beginMarker)
	p("%s; `%s`. %d stopped instances of one region resized at once to %s (describeInstance, then the two look-ups, then resizeInstance); ",
		results.Machine(), filepath.Base(c.bootstrap), c.instances, targetType)
	p("the JD Cloud simulator takes %g requests a second over every op (429 RATE_LIMIT_EXCEEDED with Retry-After: 1 above it), answers after %v, and its transitions take %v. ",
		c.rate, c.latency, c.transition)
	p("The resizer runs with its defaults (JDCLOUD_RATE_LIMIT=20, BATCH_CONCURRENCY=10) unless the row says otherwise")
	if len(c.env) > 0 {
		for _, k := range slices.Sorted(maps.Keys(c.env)) {
			p(", `%s=%s`", k, c.env[k])
		}
	}
	p(". Floor: %d JD calls per resize at the gateway's rate, %d × %d ÷ %g/s = %v.\n\n", floorCalls, c.instances, floorCalls, c.rate, floor)
	p("| storm | wall time, first request → last answer | ratio to the floor | JD calls per resize (429s not counted) | 429s seen | outcomes | failures |\n|---|---:|---:|---:|---:|---|---:|\n")
	for _, r := range rs {
		ratio := float64(r.wall) / float64(floor)
		per := float64(r.jdCalls()) / float64(r.resizes)
		p("| %s: %s | %.2f s | %.2f× (≤ %.1f×: %s) | %.2f (≤ %.1f: %s) | %d | %s | %d (must be 0: %s) |\n",
			r.name, r.how, r.wall.Seconds(), ratio, wallTarget, results.Verdict(ratio <= wallTarget),
			per, callsTarget, results.Verdict(per <= callsTarget), r.throttled, outcomes(r.outcomes), r.failures, results.Verdict(r.failures == 0))
	}
	p("\nJD calls by op (429 answers included):\n\n| storm |")
	for _, op := range ops {
		p(" %s |", op)
	}
	p("\n|---|%s\n", strings.Repeat("---:|", len(ops)))
	for _, r := range rs {
		p("| %s |", r.name)
		for _, op := range ops {
			p(" %d |", r.calls[op])
		}
		p("\n")
	}
	p("\n%s\n", endMarker)
	return b.String()
}

func outcomes(m map[string]int) string {
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", strings.TrimPrefix(t, "com.jdcloud.vm.resize."), m[t]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
