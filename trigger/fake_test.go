package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/goleak"

	"github.com/jdcloud-vm-resizer/resizer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeProcessor stands in for the domain Handler. Its behaviour is chosen
// by the request id's prefix, so one batch can mix behaviours:
//
//	retry-…    fails retryable (unavailable)
//	perm-…     fails permanently (precondition_failed)
//	invalid-…  fails invalid_request (as the Handler does for bad data)
//	pubfail-…  succeeds but its outcome did not reach a sink
//	block-…    announces itself on started, then waits for open(id) or ctx
//	anything else succeeds
type fakeProcessor struct {
	rejectPublishFails bool
	// retryIf, when set, makes Handle fail retryable for the ids it
	// picks, whatever their prefix: webhook ids (fingerprint:startsAt)
	// cannot carry one.
	retryIf func(id string) bool

	started chan string // buffered; block-… ids as they start

	mu       sync.Mutex
	handled  []event.Event
	rejected []rejection
	gates    map[string]chan struct{}

	inFlight, maxInFlight atomic.Int64
}

type rejection struct {
	partial *event.Event
	err     error
}

func newFake() *fakeProcessor {
	return &fakeProcessor{started: make(chan string, 100), gates: map[string]chan struct{}{}}
}

func (f *fakeProcessor) gate(id string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.gates[id]
	if !ok {
		g = make(chan struct{})
		f.gates[id] = g
	}
	return g
}

// open releases the blocked request id.
func (f *fakeProcessor) open(id string) { close(f.gate(id)) }

func (f *fakeProcessor) Handle(ctx context.Context, e event.Event) resizer.Outcome {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.handled = append(f.handled, e)
	f.mu.Unlock()

	id := e.ID()
	switch {
	case strings.HasPrefix(id, "retry-") || (f.retryIf != nil && f.retryIf(id)):
		return outcomeFor(&e, resizer.Errorf(resizer.CodeUnavailable, "", "JD Cloud answered 503"), nil)
	case strings.HasPrefix(id, "perm-"):
		return outcomeFor(&e, resizer.Errorf(resizer.CodePreconditionFailed, resizer.ReasonInstanceNotStopped, "instance is running"), nil)
	case strings.HasPrefix(id, "invalid-"):
		return outcomeFor(&e, resizer.Errorf(resizer.CodeInvalidRequest, "", "bad data"), nil)
	case strings.HasPrefix(id, "pubfail-"):
		return outcomeFor(&e, nil, errors.New("sink down"))
	case strings.HasPrefix(id, "block-"):
		g := f.gate(id)
		f.started <- id
		select {
		case <-g:
		case <-ctx.Done():
			return outcomeFor(&e, resizer.Errorf(resizer.CodeTimeout, "", "deadline"), nil)
		}
	}
	return outcomeFor(&e, nil, nil)
}

func (f *fakeProcessor) Reject(_ context.Context, partial *event.Event, err error) resizer.Outcome {
	f.mu.Lock()
	f.rejected = append(f.rejected, rejection{partial, err})
	f.mu.Unlock()
	var pubErr error
	if f.rejectPublishFails {
		pubErr = errors.New("sink down")
	}
	return outcomeFor(partial, resizer.Errorf(resizer.CodeInvalidRequest, "", "%s", messageOf(err)), pubErr)
}

func messageOf(err error) string {
	var e *resizer.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func (f *fakeProcessor) handledEvents() []event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]event.Event(nil), f.handled...)
}

func (f *fakeProcessor) rejections() []rejection {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rejection(nil), f.rejected...)
}

// outcomeFor builds an outcome event the way the Handler would: a fresh id
// derived from the request's (so tests can match them), succeeded or failed.
func outcomeFor(req *event.Event, rerr *resizer.Error, pubErr error) resizer.Outcome {
	ref := resizer.RequestRef{Type: resizer.TypeRequested}
	if req != nil {
		ref.ID, ref.Source = req.ID(), req.Source()
	}
	data := resizer.OutcomeData{Request: ref}
	if rerr != nil {
		data.Error = &resizer.ErrorData{Code: rerr.Code, Reason: rerr.Reason, Message: rerr.Message, Retryable: rerr.Retryable()}
	}
	out, err := resizer.EncodeOutcome(resizer.EventAttributes{ID: "out-" + ref.ID, Source: "test-resizer", Time: time.Now()}, data)
	if err != nil {
		panic(err)
	}
	out.PublishErr = pubErr
	return out
}

// --- helpers shared by the tests ---

// ce returns a structured CloudEvent JSON for a request with id.
func ce(id string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"test/alerts","type":"com.jdcloud.vm.resize.requested",` +
		`"datacontenttype":"application/json","data":{"regionId":"cn-north-1","instanceId":"i-abcdef12","instanceType":"g.n2.large"}}`
}

type outcomeView struct {
	ID   string              `json:"id"`
	Type string              `json:"type"`
	Data resizer.OutcomeData `json:"data"`
}

func decodeOutcome(t *testing.T, b []byte) outcomeView {
	t.Helper()
	var v outcomeView
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("answer is not an outcome event: %v\n%s", err, b)
	}
	return v
}

func decodeOutcomes(t *testing.T, b []byte) []outcomeView {
	t.Helper()
	var v []outcomeView
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("answer is not an array of outcome events: %v\n%s", err, b)
	}
	return v
}

func errCode(v outcomeView) resizer.Code {
	if v.Data.Error == nil {
		return ""
	}
	return v.Data.Error.Code
}
