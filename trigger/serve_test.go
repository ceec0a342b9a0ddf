package trigger

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// notifyListener reports when the server closes it, which Shutdown does
// first: from then on the server is draining.
type notifyListener struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func (l *notifyListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func listen(t *testing.T) *notifyListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &notifyListener{Listener: ln, closed: make(chan struct{})}
}

// blockingHandler announces each request and answers when released.
type blockingHandler struct {
	in      chan struct{}
	release chan struct{}
}

func (h *blockingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.in <- struct{}{}
	select {
	case <-h.release:
		_, _ = io.WriteString(w, "done")
	case <-r.Context().Done():
	}
}

type getResult struct {
	body string
	err  error
}

func get(client *http.Client, url string) chan getResult {
	c := make(chan getResult, 1)
	go func() {
		resp, err := client.Get(url)
		if err != nil {
			c <- getResult{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		c <- getResult{string(b), err}
	}()
	return c
}

func TestServeDrainsInFlightRequests(t *testing.T) {
	ln := listen(t)
	h := &blockingHandler{in: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, h, nil, 10*time.Second, 10*time.Second) }()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	res := get(client, "http://"+ln.Addr().String()+"/")
	<-h.in
	cancel()
	<-ln.closed // draining: no new connections, the request is still running
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before its in-flight request finished", err)
	default:
	}
	close(h.release)
	if r := <-res; r.err != nil || r.body != "done" {
		t.Fatalf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil after a graceful shutdown", err)
	}
}

func TestServeBoundsShutdown(t *testing.T) {
	ln := listen(t)
	h := &blockingHandler{in: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, h, nil, 50*time.Millisecond, 50*time.Millisecond) }()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	res := get(client, "http://"+ln.Addr().String()+"/")
	<-h.in
	cancel()
	// The handler never finishes by itself: the grace runs out, the
	// connection is closed and the handler's context ends.
	if err := <-served; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Serve = %v, want the grace deadline", err)
	}
	if r := <-res; r.err == nil && r.body == "done" {
		t.Fatal("a request outliving the grace was answered normally")
	}
}

// drainingHandler answers "drained" once the process drains, as the
// resizer's Handler ends a delivery it stops.
type drainingHandler struct{ in chan struct{} }

func (h *drainingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.in <- struct{}{}
	<-resizer.Draining(r.Context())
	_, _ = io.WriteString(w, "drained")
}

// A request still running when the grace ends is drained, and its answer
// still reaches the client before Serve returns.
func TestServeDrainsWhatOutlivesTheGrace(t *testing.T) {
	ln := listen(t)
	h := &drainingHandler{in: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, h, nil, 50*time.Millisecond, 50*time.Millisecond) }()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	res := get(client, "http://"+ln.Addr().String()+"/")
	<-h.in
	cancel()
	if r := <-res; r.err != nil || r.body != "drained" {
		t.Fatalf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil: the drained request was answered", err)
	}
}

func TestServeHealthzOverTCP(t *testing.T) {
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, New(newFake(), Options{}), nil, time.Second, time.Second) }()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	r := <-get(client, "http://"+ln.Addr().String()+"/healthz")
	cancel()
	if r.err != nil || r.body != "ok" {
		t.Fatalf("healthz: %q, %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

func TestServeListenError(t *testing.T) {
	if err := Serve(context.Background(), "256.0.0.1:http", http.NotFoundHandler(), nil, time.Second); err == nil {
		t.Fatal("listening on an invalid address succeeded")
	}
}

func TestServeStopsOnCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Serve(ctx, "127.0.0.1:0", http.NotFoundHandler(), nil, time.Second); err != nil {
		t.Fatal(err)
	}
}
