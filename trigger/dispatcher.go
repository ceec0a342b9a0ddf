// Package trigger turns every way a resize request arrives (a direct Lambda
// invoke, an API Gateway HTTP API or Function URL request, SQS, SNS,
// EventBridge, or a plain HTTP CloudEvents receiver) into CloudEvents, hands
// each to a Processor, and answers in that trigger's own terms: an HTTP
// status, an SQS partial batch response, or a Lambda error when the sender
// should retry.
package trigger

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/zap"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/webhook"
)

// Processor runs requests. The domain Handler implements it; the trigger
// only decides which events reach it and how to answer its outcomes.
type Processor interface {
	// Handle validates and runs one request event; it always returns an Outcome whose Event is the
	// outcome CloudEvent, already published to the sinks (Outcome.PublishErr set if a sink failed).
	Handle(ctx context.Context, e event.Event) resizer.Outcome
	// Reject produces (and publishes) the failed invalid_request outcome for a delivery that is not a usable
	// CloudEvent at all. partial may be nil or carry whatever attributes could be read (id/source/subject).
	Reject(ctx context.Context, partial *event.Event, err error) resizer.Outcome
}

// Defaults of Options.
const (
	DefaultConcurrency  = 10
	DefaultMaxBodyBytes = 256 << 10
	DefaultRetryAfter   = 5 * time.Second
)

// Options tune a Dispatcher. The zero value is usable but refuses every
// HTTP request with 401, because an open resize endpoint must be a choice.
type Options struct {
	Concurrency          int           // records of one batch processed at once; default 10
	WebhookSecret        string        // HMAC-SHA256 over the raw body, header X-Hub-Signature-256 "sha256=<hex>" (also X-Hub-Signature)
	WebhookToken         string        // Authorization: Bearer <token>
	AllowUnauthenticated bool          // with neither secret nor token, accept HTTP requests anyway
	MaxBodyBytes         int64         // default 256 KiB → 413
	RetryAfter           time.Duration // Retry-After on 503; default 5s (send whole seconds)
	Log                  *zap.Logger   // nil = zap.NewNop()
	// Labels name the alert labels of /alertmanager and /grafana
	// (ALERT_INSTANCE_LABEL, ALERT_REGION_LABEL, DEFAULT_REGION); its
	// DefaultRegion is also /jdcloud-monitor's. The zero value is the
	// contract's defaults without a default region.
	Labels webhook.Labels
	// Jira is /jira's configuration (JIRA_APPROVED_STATUS,
	// JIRA_REJECTED_STATUS, JIRA_FIELDS, DEFAULT_REGION).
	Jira webhook.JiraConfig
	// Now is the clock Grafana's signed timestamps are checked against;
	// nil = time.Now.
	Now func() time.Time
}

// String keeps the webhook secret and token out of any log line that
// prints the options.
func (o Options) String() string {
	return fmt.Sprintf("Options{Concurrency:%d WebhookSecret:%s WebhookToken:%s AllowUnauthenticated:%t MaxBodyBytes:%d RetryAfter:%s}",
		o.Concurrency, redacted(o.WebhookSecret), redacted(o.WebhookToken), o.AllowUnauthenticated, o.MaxBodyBytes, o.RetryAfter)
}

// GoString redacts for %#v too.
func (o Options) GoString() string { return o.String() }

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "<redacted>"
}

// Dispatcher recognises each trigger's payload, feeds the Processor and
// answers. It is safe for concurrent use. It implements aws-lambda-go's
// lambda.Handler (Invoke) and http.Handler (ServeHTTP).
type Dispatcher struct {
	p   Processor
	o   Options
	log *zap.Logger
}

// New returns a Dispatcher over p with o's defaults filled in.
func New(p Processor, o Options) *Dispatcher {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	return &Dispatcher{p: p, o: o, log: log}
}

// each runs f for indexes 0..n-1, at most Concurrency at once, and returns
// the outcomes in input order. The semaphore is taken before a goroutine
// starts, so a large batch never has more than Concurrency goroutines.
func (d *Dispatcher) each(n int, f func(i int) resizer.Outcome) []resizer.Outcome {
	out := make([]resizer.Outcome, n)
	if n == 1 {
		out[0] = f(0)
		return out
	}
	sem := make(chan struct{}, d.o.Concurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = f(i)
		})
	}
	wg.Wait()
	return out
}

// handleRaw decodes one structured CloudEvent and runs it, or rejects it
// when it is not a usable CloudEvent.
func (d *Dispatcher) handleRaw(ctx context.Context, shape string, raw []byte) resizer.Outcome {
	e, partial, err := decodeStructured(raw, d.o.MaxBodyBytes)
	if err != nil {
		return d.reject(ctx, shape, partial, err)
	}
	return d.p.Handle(ctx, e)
}

// reject hands an unusable delivery to the Processor. The error text may
// quote the sender's input, so it goes into a field, never the message.
func (d *Dispatcher) reject(ctx context.Context, shape string, partial *event.Event, err *resizer.Error) resizer.Outcome {
	resizer.LoggerFrom(ctx, d.log).Info("delivery rejected", zap.String("trigger", shape), zap.Error(err))
	return d.p.Reject(ctx, partial, err)
}
