package trigger

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/zap"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/webhook"
)

// The paths of docs/contract.md §7. HealthPath is the one GET route.
const (
	PathEvents         = "/"
	PathAlertmanager   = "/alertmanager"
	PathGrafana        = "/grafana"
	PathJDCloudMonitor = "/jdcloud-monitor"
	PathJira           = "/jira"
)

// route is one POST path of the table: how its requests authenticate beyond
// §4's bearer token and body HMAC, and how its body becomes request events.
type route struct {
	path string
	// name is the route in log lines ("trigger" field) and in messages.
	name string
	// queryToken also accepts ?token=WEBHOOK_TOKEN: JD Cloud Monitor's
	// callback can set neither a header nor a signature.
	queryToken bool
	// grafanaHMAC also accepts Grafana's X-Grafana-Alerting-Signature.
	grafanaHMAC bool
	// decode turns a JSON body into items; nil means the CloudEvents HTTP
	// binding (binary, structured or batched), which is not JSON-only.
	decode func(d *Dispatcher, body []byte) (webhook.Result, error)
}

// routes is the one table ServeHTTP consults, so the Function URL (Invoke
// turns its requests into *http.Request) and HTTP server mode route alike.
// Paths match exactly: anything else is 404 before its body is read.
var routes = func() map[string]*route {
	table := []*route{
		{path: PathEvents, name: "http"},
		{path: PathAlertmanager, name: "alertmanager", decode: func(d *Dispatcher, body []byte) (webhook.Result, error) {
			return webhook.Alertmanager(body, d.o.Labels)
		}},
		{path: PathGrafana, name: "grafana", grafanaHMAC: true, decode: func(d *Dispatcher, body []byte) (webhook.Result, error) {
			return webhook.Grafana(body, d.o.Labels)
		}},
		{path: PathJDCloudMonitor, name: "jdcloud-monitor", queryToken: true, decode: func(d *Dispatcher, body []byte) (webhook.Result, error) {
			return webhook.JDCloudMonitor(body, d.o.Labels.DefaultRegion)
		}},
		{path: PathJira, name: "jira", decode: func(d *Dispatcher, body []byte) (webhook.Result, error) {
			return webhook.Jira(body, d.o.Jira)
		}},
	}
	m := make(map[string]*route, len(table))
	for _, r := range table {
		m[r.path] = r
	}
	return m
}()

// notFoundMessage lists the routes, so a mistyped receiver URL says what
// would have worked.
const notFoundMessage = "no such route: POST /, /alertmanager, /grafana, /jdcloud-monitor or /jira; GET /healthz"

// ServeHTTP is the HTTP receiver of docs/contract.md §4 and §7: GET /healthz
// answers 200 without authentication; POST on a route of the table is
// authenticated first (a 401 reads, runs and publishes nothing), then its
// body becomes request events that run through the Processor. It needs no
// Lambda types; Invoke runs Function URL and API Gateway requests through it.
func (d *Dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthPath {
		serveHealth(w, r)
		return
	}
	rt, ok := routes[r.URL.Path]
	if !ok {
		writeError(w, http.StatusNotFound, notFoundMessage)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	// The path is one of the table's, never the caller's text; the query
	// is never logged (?token= is a credential).
	ctx := resizer.ContextWithLogger(r.Context(), resizer.LoggerFrom(r.Context(), d.log).With(zap.String("route", rt.path)))
	r = r.WithContext(ctx)
	h := canonicalHeader(r.Header)
	body, ok := d.authenticate(w, r, h, rt)
	if !ok {
		return
	}
	if rt.decode == nil {
		d.serveEvents(ctx, w, h, body)
		return
	}
	d.serveWebhook(ctx, w, h, rt, body)
}

func serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}

// authenticate reads the body of an authenticated request. A request the
// bearer token (or, on the route that takes it, the query token) already
// authenticates is read; one that only a signature could authenticate is
// read and then checked; anything else is refused 401 before its body is
// read. It answers the request itself when it returns false.
func (d *Dispatcher) authenticate(w http.ResponseWriter, r *http.Request, h http.Header, rt *route) ([]byte, bool) {
	authenticated, needBody := d.authNeedsBody(h)
	if !authenticated && rt.queryToken && d.o.WebhookToken != "" && queryTokenMatches(r.URL.RawQuery, d.o.WebhookToken) {
		authenticated, needBody = true, false
	}
	if !authenticated && !needBody {
		d.unauthenticated(w, r)
		return nil, false
	}
	body, err := readBody(r, d.o.MaxBodyBytes)
	if errors.Is(err, errTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, "request body exceeds "+strconv.FormatInt(d.o.MaxBodyBytes, 10)+" bytes")
		return nil, false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "could not read the request body")
		return nil, false
	}
	if authenticated {
		return body, true
	}
	// A signature covers the body only: a binary-mode CloudEvent carries
	// its identity (id, source) in headers it does not cover, so a replay
	// with a new ce-id would pass as a new request. A webhook body carries
	// its identity inside (fingerprint and startsAt, requestId, changelog
	// id), so a body signature covers it.
	signed := d.signatureMatches(h, body) && (rt.decode != nil || !isBinary(h))
	if !signed && rt.grafanaHMAC {
		signed = webhook.VerifyGrafana(d.o.WebhookSecret, h, body, d.now())
	}
	if !signed {
		d.unauthenticated(w, r)
		return nil, false
	}
	return body, true
}

// queryTokenMatches compares each token parameter of the query with the
// token in constant time (hashed first, so its length does not leak
// either). Exactly one token parameter is accepted: with two, the sender
// and whoever reads the URL may disagree on which one counts.
func queryTokenMatches(rawQuery, token string) bool {
	if rawQuery == "" {
		return false
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil || len(q["token"]) != 1 {
		return false
	}
	g := sha256.Sum256([]byte(q["token"][0]))
	w := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// serveWebhook decodes a foreign payload (docs/contract.md §7) and runs each
// request it asks for through the Processor: a complete item through
// Handle, like any CloudEvent on /, an item whose alert rule or ticket is
// wrong through Reject, so that its failed outcome is published and logged
// like every other outcome. The answer is the batch of outcomes, an empty
// array when the payload asked for nothing.
func (d *Dispatcher) serveWebhook(ctx context.Context, w http.ResponseWriter, h http.Header, rt *route, body []byte) {
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "expected Content-Type application/json")
		return
	}
	log := resizer.LoggerFrom(ctx, d.log)
	res, err := rt.decode(d, body)
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, webhook.ErrTooMany):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, webhook.ErrConfig):
			// Configuration loading validates it; reaching this is a wiring bug.
			log.Error("the webhook configuration is invalid", zap.String("trigger", rt.name), zap.Error(err))
			writeError(w, http.StatusInternalServerError, "the function's "+rt.name+" configuration is invalid; see its log")
			return
		}
		// The decoders' messages quote caller text only through
		// resizer.Quote: safe to answer and to log.
		log.Info("payload refused", zap.String("trigger", rt.name), zap.Int("status", status), zap.Error(err))
		writeError(w, status, errorMessage(err))
		return
	}
	logResult(log, rt, res)
	items := res.Items
	outs := d.each(len(items), func(i int) resizer.Outcome {
		it := &items[i]
		if it.Err != nil {
			return d.reject(ctx, rt.name, &it.Event, it.Err)
		}
		return d.p.Handle(ctx, it.Event)
	})
	d.writeOutcomes(w, webhookStatus(outs), event.ApplicationCloudEventsBatchJSON, outs, true)
}

// logResult says what a payload asked for beyond its items: resolved alerts
// (they build nothing), alerts the sender left out, and why a well-formed
// payload built nothing.
func logResult(log *zap.Logger, rt *route, res webhook.Result) {
	fields := []zap.Field{zap.String("trigger", rt.name), zap.Int("requests", len(res.Items))}
	if rt.path == PathAlertmanager || rt.path == PathGrafana {
		fields = append(fields, zap.Int("resolvedAlerts", res.Resolved))
	}
	if res.Ignored != "" {
		fields = append(fields, zap.String("ignored", res.Ignored))
	}
	switch {
	case res.NearMiss:
		log.Warn("the Jira status differs from JIRA_APPROVED_STATUS or JIRA_REJECTED_STATUS only by letter case; nothing was built", fields...)
	case res.Resolved > 0 && len(res.Items) == 0:
		log.Info("resolved alerts build nothing", fields...)
	default:
		log.Info("payload decoded", fields...)
	}
	if res.Truncated > 0 {
		log.Warn(fmt.Sprintf("the sender left %d alerts out of this notification (truncatedAlerts, its max_alerts): they build nothing", res.Truncated),
			zap.String("trigger", rt.name), zap.Int("truncatedAlerts", res.Truncated))
	}
}

// webhookStatus is §7's batch rule: 503 (the sender delivers again, and
// idempotency turns what already happened into a replay) if any outcome is
// retryable, else 200. Unlike a CloudEvents batch, failed invalid_request
// outcomes do not make it 400: the payload was understood, the alert rule
// or the ticket is wrong, and a retry cannot help.
func webhookStatus(outs []resizer.Outcome) int {
	for i := range outs {
		if outs[i].Retryable() {
			return http.StatusServiceUnavailable
		}
	}
	return http.StatusOK
}

// errorMessage is a decoder error's message without the code prefix.
func errorMessage(err error) string {
	var e *resizer.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// now is the clock Grafana's signed timestamps are checked against.
func (d *Dispatcher) now() time.Time {
	if d.o.Now != nil {
		return d.o.Now()
	}
	return time.Now()
}

// stripStage removes a named API Gateway stage from the front of path: an
// HTTP API serves stage prod at /prod/..., and hands the function that
// prefix in rawPath. The $default stage (and a Function URL) has none.
func stripStage(path, stage string) string {
	if stage == "" || stage == "$default" {
		return path
	}
	prefix := "/" + stage
	switch {
	case path == prefix:
		return "/"
	case strings.HasPrefix(path, prefix+"/"):
		return path[len(prefix):]
	}
	return path
}
