package trigger

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/jdcloud-vm-resizer/resizer"
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
		Handler: withRequestLogger(h, log),
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

// withRequestLogger gives every request a logger naming it, so the lines of
// one delivery can be found together, as the Lambda request id does there.
func withRequestLogger(h http.Handler, log *zap.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := log.With(zap.String("httpRequestId", uuid.NewString()), zap.String("remote", r.RemoteAddr))
		h.ServeHTTP(w, r.WithContext(resizer.ContextWithLogger(r.Context(), l)))
	})
}
