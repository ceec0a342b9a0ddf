package resizer

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// claim is this delivery's hold on a request's idempotency record.
type claim struct {
	key, hash string
}

// idempotencyKey is the store key of a request: CloudEvents source + id.
// The NUL separator cannot occur in either (ParseRequest refuses control
// characters), so no two pairs share a key.
func idempotencyKey(r Request) string { return r.Source + "\x00" + r.ID }

// claim takes the request's record for this delivery. When another delivery
// holds or has completed it, it returns the outcome to answer instead: the
// stored one republished, or a retryable in_progress one.
func (h *Handler) claim(ctx context.Context, log *zap.Logger, req Request) (*claim, *Outcome, *Error) {
	key, hash := idempotencyKey(req), req.hash()
	lease := h.workDeadline(ctx).Add(h.publishMargin())
	waitUntil := h.now().Add(orDefault(h.InProgressWait, 2*time.Second))
	pause := 50 * time.Millisecond
	for {
		now := h.now()
		rec, err := h.Store.Claim(ctx, key, hash, lease, now.Add(h.ttl()))
		if err != nil {
			return nil, nil, storeError(err)
		}
		if rec == nil {
			return &claim{key: key, hash: hash}, nil, nil
		}
		if rec.DataHash != hash {
			return nil, nil, Errorf(CodeInvalidRequest, "",
				"a different request with source %s and id %s was already received; CloudEvent ids must be unique per source", Quote(req.Source), Quote(req.ID))
		}
		if rec.State == StateCompleted {
			out, err := outcomeFromStored(rec.Outcome)
			if err != nil {
				log.Error("stored outcome is unreadable; running the request again", zap.Error(err))
				if rerr := h.Store.Release(ctx, key); rerr != nil {
					return nil, nil, storeError(rerr)
				}
				continue
			}
			log.Info("request already handled; republishing its stored outcome", zap.String("outcomeId", out.Event.ID()))
			h.publish(ctx, log, &out, rec.Outcome, true)
			return nil, &out, nil
		}
		if !now.Add(pause).Before(waitUntil) {
			return nil, nil, Errorf(CodeUnavailable, ReasonInProgress,
				"request source %s id %s is being handled by another delivery; retry later", Quote(req.Source), Quote(req.ID))
		}
		select {
		case <-ctx.Done():
			return nil, nil, Errorf(CodeTimeout, ReasonInProgress, "the deadline came while another delivery handled the request")
		case <-time.After(pause):
		}
		pause = min(pause*2, 500*time.Millisecond)
	}
}

// settle records the delivery's result in the store: a final outcome is
// stored so redeliveries republish it; a retryable one releases the claim
// so a redelivery runs again. A successful change starts the cooldown.
func (h *Handler) settle(ctx context.Context, log *zap.Logger, c *claim, out *Outcome, raw []byte) {
	now := h.now()
	if out.Err != nil && out.Err.Retryable() {
		if err := h.Store.Release(ctx, c.key); err != nil {
			log.Error("could not release the idempotency claim; redeliveries wait for its lease to expire", zap.Error(err))
		}
		return
	}
	if out.Err == nil && out.Data.Changed && h.Cooldown > 0 {
		if err := h.Store.RecordResize(ctx, cooldownKey(Request{RegionID: out.Data.RegionID, InstanceID: out.Data.InstanceID}), now, now.Add(h.Cooldown)); err != nil {
			log.Error("could not record the cooldown mark", zap.Error(err))
		}
	}
	err := errors.New("the outcome event could not be encoded")
	if raw != nil {
		err = h.Store.Complete(ctx, c.key, c.hash, raw, now.Add(h.ttl()))
	}
	if err != nil {
		log.Error("could not store the outcome; a redelivery would run the request again", zap.Error(err))
	}
}

// storeError keeps an adapter's *Error as it is and names the store in
// anything else, which is retryable: the request has not run.
func storeError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeUnavailable, Message: "idempotency store unavailable: " + err.Error(), Err: err}
}
