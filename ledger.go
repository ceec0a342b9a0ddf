package resizer

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// ledger is the idempotency protocol in one place: claim a request, wait
// for a concurrent delivery of it, replay its stored outcome, settle it.
type ledger struct {
	store Ledger
	ttl   time.Duration
	// wait is how long a delivery waits for a concurrent one of the same
	// request before answering retryable in_progress.
	wait time.Duration
	now  func() time.Time
}

// claim is one delivery's hold on a request's record.
type claim struct {
	key, hash string
}

// idempotencyKey is the store key of a request: CloudEvents source + id.
// The NUL separator cannot occur in either (ParseRequest refuses control
// characters), so no two pairs share a key.
func idempotencyKey(r Request) string { return r.Source + "\x00" + r.ID }

// claim takes the request's record for this delivery until lease. When
// another delivery holds or has completed it, it returns instead the
// outcome to answer: the stored one, to republish, or an error (retryable
// in_progress; invalid_request for an id reused with other data).
func (l ledger) claim(ctx context.Context, log *zap.Logger, req Request, lease time.Time) (*claim, *Outcome, *Error) {
	return l.claimKey(ctx, log, idempotencyKey(req), req.hash(), "source "+Quote(req.Source)+" and id "+Quote(req.ID), lease)
}

// claimKey is claim for any key; name says what the key stands for, in
// messages.
func (l ledger) claimKey(ctx context.Context, log *zap.Logger, key, hash, name string, lease time.Time) (*claim, *Outcome, *Error) {
	waitUntil := l.now().Add(l.wait)
	pause := 50 * time.Millisecond
	for {
		now := l.now()
		rec, err := l.store.Claim(ctx, key, hash, lease, now.Add(l.ttl))
		if err != nil {
			return nil, nil, ErrorFrom(ctx, "idempotency store unavailable", err)
		}
		if rec == nil {
			return &claim{key: key, hash: hash}, nil, nil
		}
		if rec.DataHash != hash {
			return nil, nil, Errorf(CodeInvalidRequest, "",
				"a different request with %s was already received; CloudEvent ids must be unique per source", name)
		}
		if rec.State == StateCompleted {
			out, err := decodeStored(rec.Outcome)
			if err != nil {
				log.Error("stored outcome is unreadable; running the request again", zap.Error(err))
				if rerr := l.store.Release(ctx, key); rerr != nil {
					return nil, nil, ErrorFrom(ctx, "idempotency store unavailable", rerr)
				}
				continue
			}
			log.Info("request already handled; republishing its stored outcome", zap.String("outcomeId", out.Event.ID))
			return nil, &out, nil
		}
		if !now.Add(pause).Before(waitUntil) {
			return nil, nil, Errorf(CodeUnavailable, ReasonInProgress,
				"%s is being handled by another delivery; retry later", name)
		}
		select {
		case <-ctx.Done():
			return nil, nil, Errorf(CodeTimeout, ReasonInProgress, "the deadline came while another delivery handled the request")
		case <-time.After(pause):
		}
		pause = min(pause*2, 500*time.Millisecond)
	}
}

// settle records the delivery's result: a final outcome is stored so that
// redeliveries republish it; a retryable one releases the claim so that a
// redelivery runs again.
func (l ledger) settle(ctx context.Context, log *zap.Logger, c *claim, out *Outcome) {
	if out.Err() != nil && out.Err().Retryable {
		if err := l.store.Release(ctx, c.key); err != nil {
			log.Error("could not release the idempotency claim; redeliveries wait for its lease to expire", zap.Error(err))
		}
		return
	}
	if out.Event.JSON == nil {
		log.Error("the outcome could not be encoded, so it is not stored; a redelivery would run the request again")
		return
	}
	if err := l.store.Complete(ctx, c.key, c.hash, out.Event.JSON, l.now().Add(l.ttl)); err != nil {
		log.Error("could not store the outcome; a redelivery would run the request again", zap.Error(err))
	}
}
