package resizer

import (
	"context"

	"go.uber.org/zap"
)

type loggerKey struct{}

// ContextWithLogger carries a logger that already names the delivery (the
// Lambda request id, the HTTP request), so every line of the handler does.
func ContextWithLogger(ctx context.Context, l *zap.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// LoggerFrom returns the context's logger, or fallback.
func LoggerFrom(ctx context.Context, fallback *zap.Logger) *zap.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*zap.Logger); ok && l != nil {
		return l
	}
	if fallback == nil {
		return zap.NewNop()
	}
	return fallback
}
