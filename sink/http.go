package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/binding/format"
	cecontext "github.com/cloudevents/sdk-go/v2/context"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
)

// HTTPOptions tunes an HTTP sink.
type HTTPOptions struct {
	// Client carries the requests. Pass a shared one so keep-alive
	// connections are reused; it is used as given (its Timeout, its
	// CheckRedirect). nil means a default client that does not follow
	// redirects and bounds each attempt to 10 s.
	Client *http.Client
	// Retry is how often and how patiently to retry; the zero Policy means
	// backoff.Default.
	Retry backoff.Policy
}

// HTTP posts outcome events to a CloudEvents HTTP sink in structured mode
// (Content-Type application/cloudevents+json). It retries network errors,
// 408, 429 and 5xx answers; any other non-2xx answer is permanent.
type HTTP struct {
	proto  *cehttp.Protocol
	target string // the full target, credentials included: never printed
	name   string // "http sink " + target without userinfo or query
	retry  backoff.Policy
}

var _ resizer.Publisher = (*HTTP)(nil)

// defaultAttemptTimeout bounds one attempt of the default client, so that a
// sink that accepts the connection and then hangs leaves time to retry
// within the invocation's deadline.
const defaultAttemptTimeout = 10 * time.Second

// drainLimit is how much of a response body is read so that its connection
// can go back to the keep-alive pool; longer bodies cost a new connection.
const drainLimit = 64 << 10

// NewHTTP returns a sink posting to target, an absolute http or https URL.
// Userinfo in target is sent as basic auth but never appears in messages.
func NewHTTP(target string, o HTTPOptions) (*HTTP, error) {
	u, err := url.Parse(target)
	if err != nil {
		// url.Parse quotes the whole input in its message, credentials and
		// all; only the inner reason is safe to repeat.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("http sink: target is not a valid URL: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("http sink %s: target must be an absolute http or https URL", resizer.SafeURL(target))
	}

	client := http.Client{Timeout: defaultAttemptTimeout}
	if o.Client != nil {
		client = *o.Client
	}
	// Our copy only (it shares the Transport, hence the connection pool).
	client.CheckRedirect = keepMethod(client.CheckRedirect)
	// No observability option is given, so sdk-go adds no tracing.
	name := "http sink " + resizer.SafeURL(target)
	p, err := cehttp.New(cehttp.WithTarget(target), cehttp.WithClient(client))
	if err != nil {
		// sdk-go's option errors may quote the target; ours does not.
		return nil, fmt.Errorf("%s: cannot set up the CloudEvents HTTP protocol", name)
	}
	retry := o.Retry
	if retry == (backoff.Policy{}) {
		retry = backoff.Default
	}
	return &HTTP{proto: p, target: target, name: name, retry: retry}, nil
}

// String names the sink as its errors do, without credentials.
func (h *HTTP) String() string { return h.name }

// Publish posts e, retrying transient failures, and returns nil once the
// sink answered 2xx. Its error is a *resizer.Error with code unavailable:
// the outcome did not reach the sink, so the delivery should be retried.
func (h *HTTP) Publish(ctx context.Context, e resizer.OutcomeEvent) error {
	if len(e.JSON) == 0 {
		return failure(h.name, errors.New("invalid event: the outcome event has no encoding"), 0)
	}
	ctx = h.requestContext(ctx)
	n := 0
	err := backoff.Retry(ctx, h.retry, func(ctx context.Context) (bool, time.Duration, error) {
		n++
		return h.attempt(ctx, e.JSON)
	})
	var se *statusError
	if errors.As(err, &se) && permanentStatus(se.status) {
		return refusal(h.name, err)
	}
	if err != nil {
		return failure(h.name, err, n)
	}
	return nil
}

// permanentStatus: the sink understood and refused the event; sending it
// again cannot help (docs/contract.md §12).
func permanentStatus(code int) bool {
	switch code {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusGone, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// requestContext pins what sdk-go would otherwise take from the caller's
// context: structured mode, no retries of its own (we retry, with jitter,
// Retry-After and the deadline in mind; retries in both layers would
// multiply), our target, and a header map of our own (a map inherited through
// ctx would be written by concurrent publishes).
func (h *HTTP) requestContext(ctx context.Context) context.Context {
	ctx = binding.WithForceStructured(ctx)
	ctx = cecontext.WithRetryParams(ctx, &cecontext.RetryParams{Strategy: cecontext.BackoffStrategyNone})
	ctx = cecontext.WithTarget(ctx, h.target)
	return cehttp.WithCustomHeader(ctx, http.Header{})
}

// attempt makes one request: the event as it was encoded, in structured
// mode. It goes through the protocol's Request rather than the client's
// Send because Send drops the response, and with it the Retry-After header.
func (h *HTTP) attempt(ctx context.Context, structured []byte) (retry bool, wait time.Duration, err error) {
	msg, res := h.proto.Request(ctx, structuredMessage(structured))
	var header http.Header
	var body []byte
	if m, ok := msg.(*cehttp.Message); ok {
		header = m.Header
		body = drain(m.BodyReader)
	}
	if msg != nil {
		_ = msg.Finish(nil)
	}
	if protocol.IsACK(res) {
		return false, 0, nil
	}

	var hr *cehttp.Result
	if errors.As(res, &hr) {
		err := &statusError{status: hr.StatusCode, body: snippet(body)}
		if retryableStatus(hr.StatusCode) {
			return true, backoff.RetryAfter(header.Get("Retry-After"), time.Now(), 2*h.retry.Max), err
		}
		return false, 0, err
	}
	var ue *url.Error
	if errors.As(res, &ue) {
		// A network failure. ue's message quotes the URL with its query,
		// so keep only the cause (which still matches context errors).
		return true, 0, ue.Err
	}
	return false, 0, res
}

// keepMethod follows only redirects that resend the event (307, 308).
// A 301/302/303 turns the POST into a body-less GET whose 200 would look
// like a delivery; the sink reports the 3xx instead. next, when set, still
// has its say on the redirects that are followed.
func keepMethod(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.Method != via[0].Method {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// drain reads what is left of a response body (up to drainLimit) so the
// connection can be reused, and returns its first bytes for messages.
func drain(r io.Reader) []byte {
	if r == nil {
		return nil
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(r, head)
	_, _ = io.CopyN(io.Discard, r, drainLimit)
	return head[:n]
}

func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || (code >= 500 && code <= 599)
}

// statusError is a non-2xx answer of the sink.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
	if e.body != "" {
		s += fmt.Sprintf(" (%q)", e.body)
	}
	return s
}

// structuredMessage is an outcome event already encoded in structured mode,
// as a binding.Message the sdk's protocol sends as it is. Its body is a
// bytes.Reader so that the request can be replayed on a 307/308 redirect.
type structuredMessage []byte

var _ binding.Message = structuredMessage(nil)

func (structuredMessage) ReadEncoding() binding.Encoding { return binding.EncodingStructured }

func (m structuredMessage) ReadStructured(ctx context.Context, w binding.StructuredWriter) error {
	return w.SetStructuredEvent(ctx, format.JSON, bytes.NewReader(m))
}

func (structuredMessage) ReadBinary(context.Context, binding.BinaryWriter) error {
	return binding.ErrNotBinary
}

func (structuredMessage) Finish(error) error { return nil }
