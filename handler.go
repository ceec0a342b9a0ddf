package resizer

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Handler runs one resize request: validate → policy → idempotency →
// cooldown → pre-flight → resize → publish. It is safe for concurrent use;
// its fields are set once at start.
type Handler struct {
	Compute   Compute
	Publisher Publisher // nil: the outcome goes to the log only
	Store     Store     // nil: no idempotency and no cooldown
	Policy    Policy
	Log       *zap.Logger
	Source    string // RESULT_SOURCE; empty = DefaultSource

	Cooldown       time.Duration // 0 = off
	IdempotencyTTL time.Duration // default 24h
	// PublishMargin is kept free before the invocation's deadline to store
	// and publish the outcome (and to restart an instance we stopped).
	PublishMargin time.Duration // default 5s
	// MaxRun bounds a delivery whose context has no deadline (HTTP server mode).
	MaxRun time.Duration // default 10m
	// PollInterval is the first wait between describe calls while an
	// instance stops, resizes or starts; it doubles up to PollMax.
	PollInterval, PollMax time.Duration // defaults 1s, 5s
	// InProgressWait is how long a concurrent delivery of a request that is
	// running elsewhere waits for its outcome before answering retryable.
	InProgressWait time.Duration // default 2s

	Now   func() time.Time // default time.Now
	NewID func() string    // default UUID v4
}

// Handle runs one delivery of a request event and returns its outcome, which
// has been logged, stored (when final) and published to every sink.
func (h *Handler) Handle(ctx context.Context, e event.Event) Outcome {
	log := LoggerFrom(ctx, h.Log).With(
		zap.String("ceId", clip(e.ID(), maxEchoBytes)),
		zap.String("ceSource", clip(e.Source(), maxEchoBytes)))
	// A resize, once begun, must not be cut short by a caller hanging up:
	// only the deadline bounds it.
	ctx, cancel := detach(ctx, h.maxRun())
	defer cancel()
	ref := refOf(e)

	req, verr := ParseRequest(e)
	if verr != nil {
		return h.conclude(ctx, log, &OutcomeData{Request: ref}, verr, "", traceparentOf(e), nil)
	}
	log = log.With(zap.String("instanceId", req.InstanceID), zap.String("regionId", req.RegionID),
		zap.String("instanceType", req.InstanceType), zap.Bool("dryRun", req.DryRun))
	data := &OutcomeData{
		Request:  RequestRef{ID: req.ID, Source: req.Source, Type: req.Type},
		RegionID: req.RegionID, InstanceID: req.InstanceID, InstanceType: req.InstanceType,
		DryRun: req.DryRun, Reason: req.Reason, RequestedBy: req.RequestedBy,
	}
	if err := h.Policy.Check(req); err != nil {
		return h.conclude(ctx, log, data, err, req.InstanceID, req.TraceParent, nil)
	}

	var claim *claim
	if h.Store != nil {
		c, replay, err := h.claim(ctx, log, req)
		if replay != nil {
			return *replay
		}
		if err != nil {
			return h.conclude(ctx, log, data, err, req.InstanceID, req.TraceParent, nil)
		}
		claim = c
	}

	err := h.checkCooldown(ctx, req)
	if err == nil {
		workCtx, cancel := context.WithDeadline(ctx, h.workDeadline(ctx))
		err = h.execute(workCtx, ctx, log, req, data)
		cancel()
	}
	return h.conclude(ctx, log, data, err, req.InstanceID, req.TraceParent, claim)
}

// Reject answers a delivery that is not a usable CloudEvent at all (bad JSON,
// wrong shape): a failed invalid_request outcome, logged and published.
// partial carries whatever attributes could be read, or is nil.
func (h *Handler) Reject(ctx context.Context, partial *event.Event, err error) Outcome {
	var ref RequestRef
	var tp string
	if partial != nil {
		ref = refOf(*partial)
		tp = traceparentOf(*partial)
	}
	e := AsError(err)
	if e == nil || e.Code != CodeInvalidRequest {
		msg := "the delivery is not a valid CloudEvent"
		if err != nil {
			msg = err.Error()
		}
		e = &Error{Code: CodeInvalidRequest, Message: msg, Err: err}
	}
	log := LoggerFrom(ctx, h.Log).With(zap.String("ceId", ref.ID), zap.String("ceSource", ref.Source))
	ctx, cancel := detach(ctx, h.maxRun())
	defer cancel()
	return h.conclude(ctx, log, &OutcomeData{Request: ref}, e, "", tp, nil)
}

// conclude builds the outcome event, stores it when final, records the
// cooldown mark, publishes it, and logs it.
func (h *Handler) conclude(ctx context.Context, log *zap.Logger, data *OutcomeData, err *Error, subject, traceparent string, c *claim) Outcome {
	ev, encErr := h.newOutcomeEvent(data, err, subject, traceparent)
	out := Outcome{Event: ev, Data: *data, Err: err}
	var raw []byte
	if encErr == nil {
		raw, encErr = json.Marshal(out.Event)
	}
	if encErr != nil {
		log.Error("could not encode the outcome event", zap.Error(encErr))
	}
	if c != nil {
		h.settle(ctx, log, c, &out, raw)
	}
	h.publish(ctx, log, &out, raw, false)
	return out
}

// publish sends the outcome to the sinks and writes it to the log: the log
// line is the outcome of last resort, so it carries the whole event (raw,
// its JSON, encoded once by the caller).
func (h *Handler) publish(ctx context.Context, log *zap.Logger, out *Outcome, raw []byte, replay bool) {
	if h.Publisher != nil {
		out.PublishErr = h.Publisher.Publish(ctx, out.Event)
	}
	fields := []zap.Field{
		zap.String("outcome", out.Event.Type()),
		zap.String("outcomeId", out.Event.ID()),
		zap.Bool("changed", out.Data.Changed),
		zap.Bool("retryable", out.Retryable()),
		zap.Bool("replay", replay),
		zap.Any("outcomeEvent", json.RawMessage(raw)),
	}
	level, msg := zapcore.InfoLevel, "resize succeeded"
	if out.Err != nil {
		fields = append(fields, zap.String("code", string(out.Err.Code)), zap.String("reason", out.Err.Reason), zap.String("error", out.Err.Message))
		level, msg = zapcore.WarnLevel, "resize failed"
	}
	if out.PublishErr != nil {
		fields = append(fields, zap.NamedError("publishError", out.PublishErr))
		level, msg = zapcore.ErrorLevel, msg+"; outcome not delivered to every sink, the delivery will be retried"
	}
	log.Log(level, msg, fields...)
}

func (h *Handler) checkCooldown(ctx context.Context, req Request) *Error {
	if h.Store == nil || h.Cooldown <= 0 {
		return nil
	}
	last, err := h.Store.LastResize(ctx, cooldownKey(req))
	if err != nil {
		return storeError(err)
	}
	if !last.IsZero() && h.now().Sub(last) < h.Cooldown {
		return Errorf(CodePolicyDenied, ReasonCooldownActive,
			"instance %s was resized at %s; COOLDOWN=%s allows the next resize after %s",
			req.InstanceID, last.UTC().Format(time.RFC3339), h.Cooldown, last.Add(h.Cooldown).UTC().Format(time.RFC3339))
	}
	return nil
}

func (h *Handler) workDeadline(ctx context.Context) time.Time {
	dl, _ := ctx.Deadline() // detach always sets one
	return dl.Add(-h.publishMargin())
}

// detach keeps ctx's values and deadline but not its cancellation, and
// bounds a context without deadline by max.
func detach(ctx context.Context, max time.Duration) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(max)
	}
	return context.WithDeadline(context.WithoutCancel(ctx), dl)
}

// refOf names the request an outcome answers, clipped: the attributes of a
// request that failed validation may be megabytes long.
func refOf(e event.Event) RequestRef {
	return RequestRef{ID: clip(e.ID(), maxEchoBytes), Source: clip(e.Source(), maxEchoBytes), Type: clip(e.Type(), maxEchoBytes)}
}

func traceparentOf(e event.Event) string {
	if v, ok := e.Extensions()["traceparent"].(string); ok && len(v) <= 128 && !hasControl(v) {
		return v
	}
	return ""
}

func cooldownKey(r Request) string { return r.RegionID + "/" + r.InstanceID }

// computeError gives an error from a Compute call its contract code: the
// adapter should have, but a bare context error means the deadline won.
func computeError(ctx context.Context, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: "the invocation's deadline came before JD Cloud answered", Err: err}
	}
	return &Error{Code: CodeUnavailable, Message: err.Error(), Err: err}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) newID() string {
	if h.NewID != nil {
		return h.NewID()
	}
	return uuid.NewString()
}

func (h *Handler) source() string { return orDefault(h.Source, DefaultSource) }
func (h *Handler) maxRun() time.Duration {
	return orDefault(h.MaxRun, 10*time.Minute)
}
func (h *Handler) publishMargin() time.Duration { return orDefault(h.PublishMargin, 5*time.Second) }
func (h *Handler) ttl() time.Duration           { return orDefault(h.IdempotencyTTL, 24*time.Hour) }

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
