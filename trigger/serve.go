package trigger

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/jdcloud-vm-resizer/resizer"
)

// ShutdownGrace is SHUTDOWN_GRACE's default: how long in-flight requests
// may finish after SIGTERM. It stays under the 30 s a container platform
// usually waits between SIGTERM and SIGKILL.
const ShutdownGrace = 25 * time.Second

// DrainWait bounds how long the deliveries drained after the grace may take
// to give back what they stopped and publish: a start JD has to wait for
// (the instance is still stopping) takes a transition or two.
const DrainWait = 2 * time.Minute

// answerFlush bounds the wait for drained deliveries' answers to leave.
const answerFlush = 5 * time.Second

// Serve listens on addr and serves h until ctx is cancelled, then shuts
// down (see serve). A listen or serve failure is returned as is.
func Serve(ctx context.Context, addr string, h http.Handler, log *zap.Logger, grace time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return serve(ctx, ln, h, log, grace, DrainWait)
}

// serve shuts down gracefully when ctx ends: it stops accepting, lets
// in-flight requests finish for up to grace, then drains the deliveries
// still running (resizer.ContextWithDrain: they stop changing machines, give
// back what they stopped, publish and log their outcome, and answer), and
// waits for them up to drainWait before closing what is left. It returns
// nil when every request was answered.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *zap.Logger, grace, drainWait time.Duration) error {
	if log == nil {
		log = zap.NewNop()
	}
	drain, drained := context.WithCancel(context.Background())
	defer drained()
	var inflight sync.WaitGroup
	srv := &http.Server{
		Handler: withRequestLogger(withDrain(h, drain, &inflight), log),
		// Bodies are small (MaxBodyBytes); slow senders must not pin
		// connections. No WriteTimeout: a resize with stop and start can
		// legitimately take minutes before the answer is written.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(log),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", zap.String("addr", ln.Addr().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: no new requests; in-flight deliveries may finish", zap.Duration("shutdownGrace", grace))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		log.Warn("server stopped with error", zap.Error(serr))
	}
	if err == nil {
		return nil
	}
	log.Warn("the shutdown grace ended: deliveries still running stop, give back what they stopped and publish their outcome")
	drained()
	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }()
	select {
	case <-done:
		// A handler that returned has not necessarily sent its answer:
		// the server flushes it afterwards. Wait for the connections to
		// go idle (Shutdown again), so that exiting does not cut it off.
		fctx, fcancel := context.WithTimeout(context.Background(), answerFlush)
		defer fcancel()
		_ = srv.Shutdown(fctx)
		return nil
	case <-time.After(drainWait):
		// Closing their connections cancels what is left.
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
}

// withDrain counts in-flight requests and tells each of them when the
// process drains.
func withDrain(h http.Handler, drain context.Context, inflight *sync.WaitGroup) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Done()
		h.ServeHTTP(w, r.WithContext(resizer.ContextWithDrain(r.Context(), drain)))
	})
}

// withRequestLogger gives every request a logger naming it, so the lines of
// one delivery can be found together, as the Lambda request id does there.
func withRequestLogger(h http.Handler, log *zap.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := log.With(zap.String("httpRequestId", uuid.NewString()), zap.String("remote", r.RemoteAddr))
		h.ServeHTTP(w, r.WithContext(resizer.ContextWithLogger(r.Context(), l)))
	})
}
