package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

// world is what the resizer talks to during the measurements: the JD Cloud
// simulator answering at once and an HTTP sink that accepts every event.
type world struct {
	sim       *jdcloudsim.Server
	sink      *httptest.Server
	delivered atomic.Int64 // outcome events the sink accepted
	template  map[string]json.RawMessage
	// marks receives when each describe call and each delivery arrived,
	// for the resizer's timeline.
	marks chan mark
}

// mark is the arrival of one request of the resizer's at the simulator
// (op) or at the sink (op "sink").
type mark struct {
	op string
	at time.Time
}

// markBuffer holds the marks of the longest stretch between two drains.
const markBuffer = 64

func newWorld(samplePath string) (*world, error) {
	raw, err := os.ReadFile(samplePath)
	if err != nil {
		return nil, err
	}
	w := &world{marks: make(chan mark, markBuffer)}
	if err := json.Unmarshal(raw, &w.template); err != nil {
		return nil, fmt.Errorf("%s: %w", samplePath, err)
	}
	w.sim, err = jdcloudsim.Start(jdcloudsim.Options{OnRequest: func(r jdcloudsim.Request) { w.mark(r.Op, r.At) }})
	if err != nil {
		return nil, err
	}
	// "Answering at once" is the point: the floor is then the loopback
	// round trips, and what is left is the function's own work.
	w.sim.SetLatency("", 0)
	w.sink = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/cloudevents+json") || !json.Valid(body) {
			http.Error(rw, "want a structured CloudEvent", http.StatusBadRequest)
			return
		}
		w.delivered.Add(1)
		w.mark("sink", at)
		rw.WriteHeader(http.StatusAccepted)
	}))
	return w, nil
}

// mark never blocks a server: a full buffer means nobody drains, and the
// timeline then reports the marks missing.
func (w *world) mark(op string, at time.Time) {
	select {
	case w.marks <- mark{op, at}:
	default:
	}
}

// timeline is where the time of one resizer invocation went, each phase
// ending at the arrival of a request the resizer sent.
type timeline struct {
	// toDescribe: from sending the invocation to describeInstance arriving
	// (on a cold start: starting the process, init, decoding, signing).
	toDescribe time.Duration
	// toLookups: to the later of describeInstanceTypes and
	// describeImageConstraints, which run side by side.
	toLookups time.Duration
	// toSink: to the outcome arriving at the sink.
	toSink time.Duration
	// toAnswer: to the emulator's answer.
	toAnswer time.Duration
}

// timelineOf waits for the marks one dry run leaves: describeInstance and
// the delivery, and the two look-ups when the process's cache (jdcloud.Cache)
// did not answer them, as on a cold start; the simulator reports a call
// after answering it, so a mark may come after the invocation's answer.
// It splits t0..t1; without look-ups their phase is zero.
func (w *world) timelineOf(t0, t1 time.Time) (timeline, error) {
	var describe, lookups, sink time.Time
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	take := func(m mark) {
		switch m.op {
		case jdcloudsim.OpDescribeInstance:
			describe = m.at
		case "sink":
			sink = m.at
		default:
			if m.at.After(lookups) {
				lookups = m.at
			}
		}
	}
	for describe.IsZero() || sink.IsZero() {
		select {
		case m := <-w.marks:
			take(m)
		case <-t.C:
			return timeline{}, fmt.Errorf("the simulator and the sink did not see the dry run's describeInstance and delivery")
		}
	}
	// Look-ups were answered before the delivery was sent: their marks, if
	// any, are in by now.
	for drained := false; !drained; {
		select {
		case m := <-w.marks:
			take(m)
		default:
			drained = true
		}
	}
	if lookups.IsZero() {
		lookups = describe
	}
	return timeline{
		toDescribe: describe.Sub(t0),
		toLookups:  lookups.Sub(describe),
		toSink:     sink.Sub(lookups),
		toAnswer:   t1.Sub(sink),
	}, nil
}

func (w *world) close() {
	w.sink.Close()
	w.sim.Close()
}

// resizerEnv configures bin/bootstrap as an operator would for a dry run
// with an HTTP sink: demo keys, the simulator, the sink, defaults
// otherwise (LOG_LEVEL info included, since logging is per-event work),
// except JDCLOUD_RATE_LIMIT. Its default, 20 JD Cloud calls a second, is a
// quota guard that back-to-back invocations exhaust at once (then every dry
// run waits 150 ms for three tokens); at the 1000/s maximum the warm run
// measures the function's work instead of the quota.
func (w *world) resizerEnv() map[string]string {
	return map[string]string{
		"JDCLOUD_ACCESS_KEY": jdcloudsim.DemoAccessKey,
		"JDCLOUD_SECRET_KEY": jdcloudsim.DemoSecretKey,
		"JDCLOUD_ENDPOINT":   w.sim.URL(),
		"JDCLOUD_RATE_LIMIT": "1000",
		"RESULT_SINK_URL":    w.sink.URL,
	}
}

// describeCalls counts the describeInstance calls the simulator has
// answered, and the look-ups.
func (w *world) describeCalls() (describes, lookups int64) {
	return int64(w.sim.Calls(jdcloudsim.OpDescribeInstance)),
		int64(w.sim.Calls(jdcloudsim.OpDescribeInstanceTypes) + w.sim.Calls(jdcloudsim.OpDescribeImageConstraints))
}

// payload is the dry-run sample with a fresh id, so that the resizer's
// idempotency store never answers from a previous run.
func (w *world) payload(id string) []byte {
	ev := make(map[string]json.RawMessage, len(w.template))
	for k, v := range w.template {
		ev[k] = v
	}
	ev["id"], _ = json.Marshal(id)
	b, _ := json.Marshal(ev)
	return b
}

// checkResizer makes sure an answer is what a dry run that passed every
// check answers: a succeeded outcome for the request, unchanged.
func checkResizer(id string, answer []byte) error {
	var out struct {
		Type string `json:"type"`
		Data struct {
			Request struct {
				ID string `json:"id"`
			} `json:"request"`
			DryRun  bool `json:"dryRun"`
			Changed bool `json:"changed"`
		} `json:"data"`
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		return fmt.Errorf("resizer answered something that is not an outcome event: %.200s", answer)
	}
	if out.Type != "com.jdcloud.vm.resize.succeeded" || out.Data.Request.ID != id || !out.Data.DryRun || out.Data.Changed {
		return fmt.Errorf("resizer answered %.300s, want a succeeded dry run of %s", answer, id)
	}
	return nil
}

// checkFloor makes sure the floor function answered for the request after
// both look-ups.
func checkFloor(id string, answer []byte) error {
	var out struct {
		ID    string `json:"id"`
		Types int    `json:"types"`
		Image bool   `json:"image"`
	}
	if err := json.Unmarshal(answer, &out); err != nil || out.ID != id || out.Types != 2 || !out.Image {
		return fmt.Errorf("floor function answered %.200s, want %s with two types and the image's constraints", answer, id)
	}
	return nil
}

// checkBare makes sure the bare function echoed the payload.
func checkBare(payload, answer []byte) error {
	var a, b any
	if json.Unmarshal(payload, &a) != nil || json.Unmarshal(answer, &b) != nil || !jsonEqual(a, b) {
		return fmt.Errorf("bare function answered %.200s, want its payload back", answer)
	}
	return nil
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
