package trigger

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// ShutdownGrace bounds how long in-flight requests may finish after the
// context is cancelled; it stays under the 30 s a container platform
// usually waits between SIGTERM and SIGKILL.
const ShutdownGrace = 25 * time.Second

// Serve listens on addr and serves h until ctx is cancelled, then shuts
// down gracefully: it stops accepting, lets in-flight requests finish
// (bounded by ShutdownGrace), and returns nil. A listen or serve failure
// is returned as is.
func Serve(ctx context.Context, addr string, h http.Handler, log *zap.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return serve(ctx, ln, h, log, ShutdownGrace)
}

func serve(ctx context.Context, ln net.Listener, h http.Handler, log *zap.Logger, grace time.Duration) error {
	if log == nil {
		log = zap.NewNop()
	}
	srv := &http.Server{
		Handler: h,
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
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		log.Warn("server stopped with error", zap.Error(serr))
	}
	if err != nil {
		// In-flight requests outlived the grace: closing their connections
		// cancels their contexts, so they end with a timeout outcome.
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
