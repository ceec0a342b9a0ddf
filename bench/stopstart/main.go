// Command stopstart is the stop → resize → start step of `make bench`: a
// running instance resized with stopIfRunning through the real bootstrap
// (as the HTTP CloudEvents server, ALLOW_STOP=true) against the JD Cloud
// simulator, whose stop, resize and start each take -transition (5.5 s by
// default, which the poll schedule of poll.go does not line up with). It
// times each resize from the POST to its answer against the sum of the
// three transitions, the target being ≤ 1.15 × that sum (issue 13).
//
// Each run is a fresh simulator and a fresh bootstrap resizing two running
// instances one after the other: the first with nothing learned, the
// second after the process's poller has learned the transitions' length
// from the first. The runs go side by side, each its own simulator and
// process: they sleep through the transitions, so they hardly share the
// CPU, and the step takes one run's time. It writes its section into
// bench/RESULTS.md between stopstart markers.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
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

	"github.com/jdcloud-vm-resizer/resizer/bench/internal/results"
	"github.com/jdcloud-vm-resizer/resizer/internal/childproc"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

const (
	region       = "cn-north-1"
	template     = "i-running01" // the fixture's resizable running instance
	targetType   = "g.n2.large"
	target       = 1.15 // × the sum of the three transitions
	succeededOut = "com.jdcloud.vm.resize.succeeded"
)

// The markers of this program's section of bench/RESULTS.md.
var beginMarker, endMarker = results.Markers("stopstart")

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stopstart:", err)
		os.Exit(1)
	}
}

// resize is one timed stop → resize → start.
type resize struct {
	took      time.Duration
	describes int // describeInstance calls the resize made (its polls included)
}

// result is one run: the resize with nothing learned, then the one after.
type result struct{ first, learned resize }

func run() error {
	var (
		bootstrap  = flag.String("bootstrap", "bin/bootstrap", "the resizer's binary, built for this host")
		transition = flag.Duration("transition", 5500*time.Millisecond, "how long the simulator's stop, resize and start each take")
		runs       = flag.Int("runs", 3, "runs, each a fresh simulator and bootstrap")
		out        = flag.String("out", "bench/RESULTS.md", "file whose stopstart section is rewritten; empty for none")
	)
	flag.Parse()
	bin, err := filepath.Abs(*bootstrap)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fmt.Fprintf(os.Stderr, "stopstart: %d runs side by side, transitions of %v\n", *runs, *transition)
	rs := make([]result, *runs)
	errs := make([]error, *runs)
	var wg sync.WaitGroup
	for i := range rs {
		wg.Go(func() { rs[i], errs[i] = once(ctx, bin, *transition) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	section := report(*transition, rs)
	fmt.Print(section)
	if *out == "" {
		return nil
	}
	return results.WriteSection(*out, beginMarker, endMarker, section)
}

// once starts a simulator and a bootstrap and resizes two running
// instances, one after the other.
func once(ctx context.Context, bin string, transition time.Duration) (result, error) {
	sim, err := jdcloudsim.Start(jdcloudsim.Options{Transition: transition})
	if err != nil {
		return result{}, err
	}
	defer sim.Close()
	sim.SetLatency("", 0)
	tmpl, ok := sim.Instance(region, template)
	if !ok {
		return result{}, fmt.Errorf("the simulator's fixture has no %s", template)
	}
	ids := []string{"i-ssrfirst", "i-ssrlearned"}
	for _, id := range ids {
		inst := tmpl
		inst.InstanceID, inst.InstanceName = id, id
		sim.PutInstance(region, inst)
	}
	var (
		mu       sync.Mutex
		outcomes []string
	)
	sink := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		outcomes = append(outcomes, ev.Type)
		mu.Unlock()
		rw.WriteHeader(http.StatusAccepted)
	}))
	defer sink.Close()

	port, err := childproc.FreePort()
	if err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = results.ServerEnviron(map[string]string{
		"JDCLOUD_ACCESS_KEY":    jdcloudsim.DemoAccessKey,
		"JDCLOUD_SECRET_KEY":    jdcloudsim.DemoSecretKey,
		"JDCLOUD_ENDPOINT":      sim.URL(),
		"RESULT_SINK_URL":       sink.URL,
		"ALLOW_UNAUTHENTICATED": "true",
		"ALLOW_STOP":            "true",
		"PORT":                  strconv.Itoa(port),
	})
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
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	var res [2]resize
	for i, id := range ids {
		d0 := sim.Calls(jdcloudsim.OpDescribeInstance)
		t0 := time.Now()
		typ, raw, err := results.PostEvent(ctx, http.DefaultClient, url, request(tag, id))
		took := time.Since(t0)
		if err != nil {
			return result{}, fmt.Errorf("%s: %w", id, err)
		}
		if typ != succeededOut {
			return result{}, fmt.Errorf("%s: the resizer answered %s, want %s: %.1200s", id, typ, succeededOut, raw)
		}
		inst, _ := sim.Instance(region, id)
		if inst.InstanceType != targetType || inst.Status != "running" {
			return result{}, fmt.Errorf("%s: the simulator has it %s and %s, want %s and running", id, inst.InstanceType, inst.Status, targetType)
		}
		res[i] = resize{took: took, describes: sim.Calls(jdcloudsim.OpDescribeInstance) - d0}
	}
	return result{first: res[0], learned: res[1]}, nil
}

// request is the CloudEvent asking to resize the running instance id,
// stopping and starting it.
func request(tag, id string) []byte {
	b, _ := json.Marshal(map[string]any{
		"specversion":     "1.0",
		"id":              "stopstart-" + tag + "-" + id,
		"source":          "bench/stopstart",
		"type":            "com.jdcloud.vm.resize.requested",
		"datacontenttype": "application/json",
		"subject":         id,
		"data":            map[string]any{"regionId": region, "instanceId": id, "instanceType": targetType, "stopIfRunning": true},
	})
	return b
}

func report(transition time.Duration, rs []result) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	sum := 3 * transition
	p("%s\n## Stop → resize → start\n\n%s. ", beginMarker, results.Machine())
	p("A running instance resized to %s with stopIfRunning through `bin/bootstrap` as the HTTP server (ALLOW_STOP=true), timed from the POST to the answer (describeInstance, the look-ups, stopInstance, polls, resizeInstance, polls, startInstance, polls, the sink delivery). ", targetType)
	p("The simulator answers at once and its stop, resize and start take %s each, %s in all; the default poll schedule (options.go and poll.go: 0.5 s, doubling to 3 s) does not line up with them. ", secs(transition), secs(sum))
	p("Each run is a fresh simulator and bootstrap; its second resize, of another running instance in the same process, comes after the poller learned the transitions from the first. The first resize learns as it goes: only its stop is polled on the default schedule, its resize and start on what the stop took (poll.go). The %d runs go side by side (they sleep through the transitions).\n\n", len(rs))
	p("| run | nothing learned | ratio to %s | describeInstance calls | learned | ratio to %s | describeInstance calls |\n|---|---:|---:|---:|---:|---:|---:|\n", secs(sum), secs(sum))
	for i, r := range rs {
		p("| %d | %s | %.3f× | %d | %s | %.3f× | %d |\n", i+1, secs(r.first.took), ratio(r.first.took, sum), r.first.describes,
			secs(r.learned.took), ratio(r.learned.took, sum), r.learned.describes)
	}
	mf := median(rs, func(r result) time.Duration { return r.first.took })
	ml := median(rs, func(r result) time.Duration { return r.learned.took })
	p("| median | %s | %.3f× (≤ %.2f×: %s) | | %s | %.3f× (≤ %.2f×: %s) | |\n", secs(mf), ratio(mf, sum), target, results.Verdict(ratio(mf, sum) <= target),
		secs(ml), ratio(ml, sum), target, results.Verdict(ratio(ml, sum) <= target))
	p("\n%s\n", endMarker)
	return b.String()
}

func median(rs []result, f func(result) time.Duration) time.Duration {
	ds := make([]time.Duration, len(rs))
	for i, r := range rs {
		ds[i] = f(r)
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
func secs(d time.Duration) string      { return fmt.Sprintf("%.2f s", d.Seconds()) }
