package trigger

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// waitStarted receives one started id, failing instead of hanging forever
// when the dispatcher never starts it.
func waitStarted(t *testing.T, f *fakeProcessor) string {
	t.Helper()
	select {
	case id := <-f.started:
		return id
	case <-time.After(10 * time.Second):
		t.Fatal("no record started")
		return ""
	}
}

type invokeResult struct {
	out []byte
	err error
}

func blockedSQS(t *testing.T, n int) ([]byte, []string) {
	bodies := map[string]string{}
	var order []string
	for i := range n {
		id := fmt.Sprintf("m%d", i)
		bodies[id] = ce(fmt.Sprintf("block-%d", i))
		order = append(order, id)
	}
	return mustJSON(t, sqsEvent(bodies, order)), order
}

// With Concurrency 3, ten blocked records never have more than three in
// flight, and every record still runs.
func TestConcurrencyBound(t *testing.T) {
	f := newFake()
	d := New(f, Options{Concurrency: 3})
	payload, _ := blockedSQS(t, 10)
	done := make(chan invokeResult, 1)
	go func() {
		out, err := d.Invoke(context.Background(), payload)
		done <- invokeResult{out, err}
	}()
	// Let three start before releasing any, so the bound is reached.
	running := []string{waitStarted(t, f), waitStarted(t, f), waitStarted(t, f)}
	// A fourth must not start while those three are held. Nothing signals
	// the absence of a start, so the dispatcher gets a short window in
	// which an unbounded one would (the fake's own pacing below would hide
	// it otherwise: it releases one record per start it sees).
	select {
	case id := <-f.started:
		t.Fatalf("%s started while 3 records were in flight", id)
	case <-time.After(100 * time.Millisecond):
	}
	for range 7 {
		f.open(running[0])
		running = append(running[1:], waitStarted(t, f))
	}
	for _, id := range running {
		f.open(id)
	}
	r := <-done
	if r.err != nil || string(r.out) != `{"batchItemFailures":[]}` {
		t.Fatalf("answer %s, %v", r.out, r.err)
	}
	if got := f.maxInFlight.Load(); got != 3 {
		t.Errorf("max in flight = %d, want 3", got)
	}
	if n := len(f.handledEvents()); n != 10 {
		t.Errorf("handled %d", n)
	}
}

// With the default Concurrency (10), ten records blocked on one barrier all
// start: none waits for another to finish.
func TestConcurrencyAllStart(t *testing.T) {
	f := newFake()
	d := New(f, Options{})
	payload, _ := blockedSQS(t, 10)
	done := make(chan invokeResult, 1)
	go func() {
		out, err := d.Invoke(context.Background(), payload)
		done <- invokeResult{out, err}
	}()
	var started []string
	for range 10 {
		started = append(started, waitStarted(t, f))
	}
	for _, id := range started {
		f.open(id)
	}
	if r := <-done; r.err != nil {
		t.Fatal(r.err)
	}
	if got := f.maxInFlight.Load(); got != 10 {
		t.Errorf("max in flight = %d, want 10", got)
	}
}

// Results come back in input order even when records finish in reverse:
// SQS failures name the right message, the HTTP batch lines up.
func TestResultsInInputOrder(t *testing.T) {
	t.Run("http batch", func(t *testing.T) {
		f := newFake()
		d := New(f, Options{AllowUnauthenticated: true})
		var items []string
		for i := range 5 {
			items = append(items, ce(fmt.Sprintf("block-%d", i)))
		}
		r := post("["+strings.Join(items, ",")+"]", map[string]string{"Content-Type": "application/cloudevents-batch+json"})
		done := make(chan []byte, 1)
		go func() {
			w := newRecorder()
			d.ServeHTTP(w, r)
			done <- w.body.Bytes()
		}()
		for range 5 {
			waitStarted(t, f)
		}
		for i := 4; i >= 0; i-- {
			f.open(fmt.Sprintf("block-%d", i))
		}
		outs := decodeOutcomes(t, <-done)
		for i, o := range outs {
			if want := fmt.Sprintf("out-block-%d", i); o.ID != want {
				t.Errorf("outcome %d = %s, want %s", i, o.ID, want)
			}
		}
	})
	t.Run("sqs", func(t *testing.T) {
		f := newFake()
		d := New(f, Options{})
		// block-… records finish when opened; a retry-… record in the
		// middle must be reported under its own message id.
		ev := sqsEvent(map[string]string{"a": ce("block-a"), "b": ce("retry-b"), "c": ce("block-c")}, []string{"a", "b", "c"})
		done := make(chan invokeResult, 1)
		go func() {
			out, err := d.Invoke(context.Background(), mustJSON(t, ev))
			done <- invokeResult{out, err}
		}()
		waitStarted(t, f)
		waitStarted(t, f)
		f.open("block-c")
		f.open("block-a")
		r := <-done
		var resp events.SQSEventResponse
		if err := json.Unmarshal(r.out, &resp); err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "b" {
			t.Fatalf("answer %s, %v", r.out, err)
		}
	})
}

// A record that never finishes by itself ends when the invocation's
// context does, so a batch cannot outlive its deadline.
func TestBatchHonoursContext(t *testing.T) {
	f := newFake()
	d := New(f, Options{AllowUnauthenticated: true})
	ctx, cancel := context.WithCancel(context.Background())
	r := post("["+ce("block-1")+","+ce("ok-2")+"]", map[string]string{"Content-Type": "application/cloudevents-batch+json"}).WithContext(ctx)
	done := make(chan *recorder, 1)
	go func() {
		w := newRecorder()
		d.ServeHTTP(w, r)
		done <- w
	}()
	waitStarted(t, f)
	cancel()
	w := <-done
	if w.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", w.status, w.body.String())
	}
}
