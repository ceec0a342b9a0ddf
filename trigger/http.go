package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"

	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/zap"

	"github.com/jdcloud-vm-resizer/resizer"
)

// HealthPath answers GET (and HEAD) with 200 "ok", without authentication.
const HealthPath = "/healthz"

var errTooLarge = errors.New("request body too large")

// MaxBatchEvents bounds an HTTP batch (docs/contract.md §12).
const MaxBatchEvents = 100

// isBinary: the request is a binary-mode CloudEvent (attributes in ce-*
// headers, no CloudEvents content type).
func isBinary(h http.Header) bool {
	_, binary := h[cePrefix+"Specversion"]
	return binary && format.Lookup(h.Get("Content-Type")) == nil
}

// serveEvents picks the binding mode from the content type (the sdk's
// format lookup, which ignores parameters such as charset).
func (d *Dispatcher) serveEvents(ctx context.Context, w http.ResponseWriter, h http.Header, body []byte) {
	switch f := format.Lookup(h.Get("Content-Type")); {
	case f == format.JSONBatch:
		d.serveBatch(ctx, w, body)
	case f == format.JSON:
		d.answerOne(w, d.handleRaw(ctx, "http", body))
	case isBinary(h):
		e, partial, err := binaryEvent(ctx, h, body)
		if err != nil {
			d.answerOne(w, d.reject(ctx, "http", partial, err))
			return
		}
		d.answerOne(w, d.p.Handle(ctx, e))
	default:
		writeError(w, http.StatusUnsupportedMediaType,
			"expected a CloudEvent: application/cloudevents+json, application/cloudevents-batch+json, or ce-* headers (binary mode)")
	}
}

func (d *Dispatcher) serveBatch(ctx context.Context, w http.ResponseWriter, body []byte) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		d.answerBatch(w, []resizer.Outcome{d.reject(ctx, "http", nil, invalid("batch is not a JSON array of CloudEvents"))})
		return
	}
	if len(raws) == 0 {
		d.answerBatch(w, []resizer.Outcome{d.reject(ctx, "http", nil, invalid("batch contains no events"))})
		return
	}
	if len(raws) > MaxBatchEvents {
		// Refused whole, before anything runs: each event would otherwise
		// cost an outcome and a sink delivery.
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("batch holds %d events; at most %d are accepted", len(raws), MaxBatchEvents))
		return
	}
	d.answerBatch(w, d.each(len(raws), func(i int) resizer.Outcome {
		return d.handleRaw(ctx, "http", raws[i])
	}))
}

func (d *Dispatcher) answerOne(w http.ResponseWriter, o resizer.Outcome) {
	outs := []resizer.Outcome{o}
	d.writeOutcomes(w, statusOf(&o), event.ApplicationCloudEventsJSON, outs, false)
}

func (d *Dispatcher) answerBatch(w http.ResponseWriter, outs []resizer.Outcome) {
	d.writeOutcomes(w, batchStatus(outs), event.ApplicationCloudEventsBatchJSON, outs, true)
}

func (d *Dispatcher) writeOutcomes(w http.ResponseWriter, status int, contentType string, outs []resizer.Outcome, array bool) {
	b, err := eventsJSON(outs, array)
	if err != nil {
		d.log.Error("cannot encode outcome", zap.Error(err))
		writeError(w, http.StatusInternalServerError, "cannot encode the outcome event")
		return
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", d.retryAfterSeconds())
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// retryAfterSeconds rounds up: Retry-After takes whole seconds, and
// rounding down could tell the sender to come back before we asked.
func (d *Dispatcher) retryAfterSeconds() string {
	return strconv.FormatInt(int64(math.Ceil(d.o.RetryAfter.Seconds())), 10)
}

func (d *Dispatcher) unauthenticated(w http.ResponseWriter, r *http.Request) {
	resizer.LoggerFrom(r.Context(), d.log).Warn("unauthenticated request refused", zap.String("remote", r.RemoteAddr))
	if d.o.WebhookToken != "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	writeError(w, http.StatusUnauthorized, "unauthenticated")
}

// readBody reads at most max+1 bytes: enough to know the body is too
// large without buffering whatever a client chooses to send.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errTooLarge
	}
	return b, nil
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
