// Package jdcloud is the only package that knows JD Cloud's VM OpenAPI: its
// paths, JSON and JDCLOUD2-HMAC-SHA256 signature (docs/jdcloud-api.md). Client
// implements resizer.Compute over it.
package jdcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
)

// DefaultEndpoint is JD Cloud's public VM OpenAPI.
const DefaultEndpoint = "https://vm.jdcloud-api.com"

// DefaultUserAgent names the resizer to JD Cloud when Options.UserAgent is empty.
const DefaultUserAgent = "jdcloud-vm-resizer"

const (
	// signService is the service name in the credential scope.
	signService = "vm"
	// apiVersion prefixes every path: the live API is /v1 whatever doc
	// version the product pages print.
	apiVersion = "/v1"
	// maxAnswerBytes bounds what one answer may make the process hold; JD's
	// answers for these calls are a few KiB.
	maxAnswerBytes = 1 << 20
	// headerRequestID is where JD also repeats the request id.
	headerRequestID = "X-Jdcloud-Request-Id"
)

// Options configure a Client. Only Credentials is required.
type Options struct {
	Endpoint    string           // default DefaultEndpoint; http or https, host[:port], no path
	Credentials CredentialSource // required
	// HTTPClient defaults to one client shared by every Client, with a
	// keep-alive transport and no timeout of its own: ctx and
	// AttemptTimeout govern each call.
	HTTPClient *http.Client
	// Limiter is waited on before every HTTP attempt, retries included;
	// share one across Clients to bound the whole process. nil = unlimited.
	// JD's 429s slow it down for a while (throttle.go), for every Client
	// that shares it.
	Limiter *rate.Limiter
	Retry   backoff.Policy   // zero value = backoff.Default
	Now     func() time.Time // default time.Now; dates the signature
	// UserAgent defaults to DefaultUserAgent; it is not signed.
	UserAgent string
	// AttemptTimeout bounds one HTTP attempt, answer read included, so
	// that a connection that hangs is retried instead of spending the
	// whole deadline; default DefaultAttemptTimeout, negative for none.
	AttemptTimeout time.Duration
}

// DefaultAttemptTimeout is Options.AttemptTimeout's default. JD's API
// answers in well under a second; 30 s leaves room for a slow gateway and
// still lets a hung attempt be retried inside a Lambda deadline.
const DefaultAttemptTimeout = 30 * time.Second

// Client calls JD Cloud's VM OpenAPI. It is safe for concurrent use: its
// fields are fixed by New and every call builds its own request.
type Client struct {
	base      url.URL // scheme and host only
	creds     CredentialSource
	http      *http.Client
	limiter   *rate.Limiter
	gov       *governor // slows limiter when JD answers 429; nil without one
	retry     backoff.Policy
	now       func() time.Time
	userAgent string
	perTry    time.Duration // 0: no bound of its own
}

var _ resizer.Compute = (*Client)(nil)

// String and GoString name only the endpoint: fmt's %+v would otherwise
// walk into the credential source and print the secret key.
func (c Client) String() string   { return "jdcloud.Client{" + c.base.String() + "}" }
func (c Client) GoString() string { return c.String() }

// New checks o and returns a Client. A bad endpoint is refused here, once,
// rather than on every call.
func New(o Options) (*Client, error) {
	base, err := parseEndpoint(o.Endpoint)
	if err != nil {
		return nil, err
	}
	if o.Credentials == nil {
		return nil, errors.New("jdcloud: Options.Credentials is required")
	}
	// A finite limiter with no burst can never grant a token: every call
	// would fail, so say so now.
	if l := o.Limiter; l != nil && l.Limit() != rate.Inf && l.Burst() < 1 {
		return nil, errors.New("jdcloud: Options.Limiter has a burst below 1 and would refuse every call")
	}
	c := &Client{
		base:      *base,
		creds:     o.Credentials,
		http:      o.HTTPClient,
		limiter:   o.Limiter,
		retry:     o.Retry,
		now:       o.Now,
		userAgent: o.UserAgent,
	}
	if c.http == nil {
		c.http = sharedHTTPClient()
	}
	if c.retry == (backoff.Policy{}) {
		c.retry = backoff.Default
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case o.AttemptTimeout == 0:
		c.perTry = DefaultAttemptTimeout
	case o.AttemptTimeout > 0:
		c.perTry = o.AttemptTimeout
	}
	c.gov = governorFor(c.limiter, c.now)
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	return c, nil
}

// parseEndpoint accepts scheme://host[:port] with an optional trailing "/".
func parseEndpoint(s string) (*url.URL, error) {
	if s == "" {
		s = DefaultEndpoint
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Error quotes the whole input, which may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("jdcloud: endpoint %s is not a URL: %w", resizer.SafeURL(s), err)
	}
	bad := func(why string) error {
		// Only scheme and host: a path or query may carry a token.
		return fmt.Errorf("jdcloud: endpoint %s: %s; want http(s)://host[:port]", resizer.SafeURL(s), why)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("scheme must be http or https")
	case u.Opaque != "" || u.Host == "":
		return nil, bad("no host")
	case u.User != nil:
		return nil, bad("user information is not allowed")
	case u.Path != "" && u.Path != "/":
		return nil, bad("a path is not allowed (the client adds " + apiVersion + ")")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, bad("a query is not allowed")
	case u.Fragment != "":
		return nil, bad("a fragment is not allowed")
	case u.Hostname() == "":
		return nil, bad("no host name")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// sharedHTTPClient is the default client: one pool of keep-alive
// connections for the process, so that warm Lambda invocations reuse TLS
// sessions. Redirects are not followed: JD's API does not redirect, and a
// signed request re-sent elsewhere would only fail verification.
var sharedHTTPClient = sync.OnceValue(func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 64
	t.MaxIdleConnsPerHost = 16
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
})

// DescribeInstance returns what describeInstance tells about instanceID.
func (c *Client) DescribeInstance(ctx context.Context, regionID, instanceID string) (*resizer.Instance, error) {
	const op = "describeInstance"
	if err := validate(op, regionField(regionID), instanceField(instanceID)); err != nil {
		return nil, err
	}
	k := c.newCall(op, http.MethodGet, regionID, nil, "", "regions", regionID, "instances", instanceID)
	k.notFound = "instance " + instanceID + " in region " + regionID
	var res describeInstanceResult
	k.decode = decodeInto(op, &res)
	rid, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if res.Instance == nil {
		return nil, answerError(k, http.StatusOK, rid, errors.New("no result.instance"))
	}
	return res.Instance.toInstance(), nil
}

// DescribeInstanceTypes returns those of types that exist in the region;
// with no types, every type of the region (JD has no family filter, so a
// ladder is read from the whole list).
func (c *Client) DescribeInstanceTypes(ctx context.Context, regionID string, types []string) ([]resizer.InstanceType, error) {
	const op = "describeInstanceTypes"
	fields := []field{regionField(regionID)}
	for _, t := range types {
		fields = append(fields, typeField(t))
	}
	if err := validate(op, fields...); err != nil {
		return nil, err
	}
	// JD reads the filter as written: name first, then values in order.
	var q strings.Builder
	if len(types) > 0 {
		q.WriteString("filters.1.name=instanceTypes")
	}
	for i, t := range types {
		fmt.Fprintf(&q, "&filters.1.values.%d=%s", i+1, url.QueryEscape(t))
	}
	k := c.newCall(op, http.MethodGet, regionID, nil, q.String(), "regions", regionID, "instanceTypes")
	k.notFound = "region " + regionID
	var res describeInstanceTypesResult
	k.decode = decodeInto(op, &res)
	if _, err := c.do(ctx, k); err != nil {
		return nil, err
	}
	// Keep only what was asked for, so that a server ignoring the filter
	// cannot hand the rules a type nobody requested.
	wanted := make(map[string]bool, len(types))
	for _, t := range types {
		wanted[t] = true
	}
	out := make([]resizer.InstanceType, 0, max(len(types), len(res.InstanceTypes)))
	for i := range res.InstanceTypes {
		if len(types) == 0 || wanted[res.InstanceTypes[i].InstanceType] {
			out = append(out, res.InstanceTypes[i].toInstanceType())
		}
	}
	return out, nil
}

// DescribeImageConstraints returns which instance types imageID allows.
func (c *Client) DescribeImageConstraints(ctx context.Context, regionID, imageID string) (*resizer.ImageConstraints, error) {
	const op = "describeImageConstraints"
	if err := validate(op, regionField(regionID), imageField(imageID)); err != nil {
		return nil, err
	}
	k := c.newCall(op, http.MethodGet, regionID, nil, "", "regions", regionID, "images", imageID, "constraints")
	k.notFound = "image " + imageID + " in region " + regionID
	var res describeImageConstraintsResult
	k.decode = decodeInto(op, &res)
	if _, err := c.do(ctx, k); err != nil {
		return nil, err
	}
	return res.toImageConstraints(imageID), nil
}

// ResizeInstance asks JD to change instanceID's type; force (wiping local
// data disks) is sent only when true.
func (c *Client) ResizeInstance(ctx context.Context, regionID, instanceID, instanceType string, force bool) (string, error) {
	const op = "resizeInstance"
	if err := validate(op, regionField(regionID), instanceField(instanceID), typeField(instanceType)); err != nil {
		return "", err
	}
	body, err := json.Marshal(resizeBody{InstanceType: instanceType, Force: force})
	if err != nil {
		return "", resizer.Errorf(resizer.CodeInvalidRequest, "", "jdcloud %s: encoding the body: %v", op, err)
	}
	return c.instanceAction(ctx, op, regionID, instanceID, body)
}

// stopBody keeps the machine's CPU, memory and local disks while it is
// stopped: with stopCharging JD gives them back, and the start at the new
// type can then fail for lack of stock, leaving the instance stopped.
var stopBody = []byte(`{"chargeOnStopped":"keepCharging"}`)

// StopInstance stops instanceID, keeping its resources (stopBody).
func (c *Client) StopInstance(ctx context.Context, regionID, instanceID string) (string, error) {
	const op = "stopInstance"
	if err := validate(op, regionField(regionID), instanceField(instanceID)); err != nil {
		return "", err
	}
	return c.instanceAction(ctx, op, regionID, instanceID, stopBody)
}

// StartInstance starts instanceID.
func (c *Client) StartInstance(ctx context.Context, regionID, instanceID string) (string, error) {
	const op = "startInstance"
	if err := validate(op, regionField(regionID), instanceField(instanceID)); err != nil {
		return "", err
	}
	return c.instanceAction(ctx, op, regionID, instanceID, []byte("{}"))
}

// instanceAction POSTs /regions/{r}/instances/{i}:{op}, whose result is {}.
func (c *Client) instanceAction(ctx context.Context, op, regionID, instanceID string, body []byte) (string, error) {
	k := c.newCall(op, http.MethodPost, regionID, body, "", "regions", regionID, "instances", instanceID+":"+op)
	k.notFound = "instance " + instanceID + " in region " + regionID
	k.decode = decodeInto[struct{}](op, nil)
	return c.do(ctx, k)
}

// call is one JD operation, ready to be sent as many times as retries need.
type call struct {
	op       string
	method   string
	url      string
	region   string // signing region: the path's regionId
	body     []byte // nil for GET
	notFound string // what a 404 says is missing
	// decode reads one answer body into the operation's result, once.
	decode func(status int, body []byte) (requestID string, err error)
}

// decodeInto decodes answers of op into res (nil: the result is not read).
func decodeInto[T any](op string, res *T) func(int, []byte) (string, error) {
	return func(status int, body []byte) (string, error) {
		return DecodeResponse(op, status, body, res)
	}
}

// newCall builds the URL from path segments, each escaped even though
// validate already allows only [a-z0-9.:-]: defence in depth.
func (c *Client) newCall(op, method, region string, body []byte, query string, segments ...string) *call {
	var raw strings.Builder
	raw.WriteString(apiVersion)
	for _, s := range segments {
		raw.WriteByte('/')
		raw.WriteString(escapeSegment(s))
	}
	u := c.base
	u.RawPath = raw.String()
	u.Path, _ = url.PathUnescape(u.RawPath) // cannot fail: every % came from PathEscape
	u.RawQuery = query
	return &call{op: op, method: method, url: u.String(), region: region, body: body}
}

// escapeSegment escapes a segment but keeps the ':' of "{id}:{action}",
// which JD's paths carry literally.
func escapeSegment(s string) string {
	id, action, ok := strings.Cut(s, ":")
	if !ok {
		return url.PathEscape(s)
	}
	return url.PathEscape(id) + ":" + url.PathEscape(action)
}

// outcome is what one HTTP attempt came to.
type outcome struct {
	status     int       // HTTP status; 0 when there was no answer
	requestID  string    // JD's request id, when the answer had one
	apiErr     *APIError // a non-success answer
	netErr     error     // no (complete) answer: transport, limiter, ctx
	cut        bool      // netErr came from ctx ending (or the limiter seeing it would)
	sent       bool      // the request went out: the server may have acted on it
	retryAfter time.Duration
	sentAt     time.Time // when the request went out (the governor's clock)
}

// unknownFate reports whether the server may have acted on an attempt that
// failed: it was sent and then met a 5xx or no complete answer. A 429 or
// another 4xx is a refusal.
func (o *outcome) unknownFate() bool {
	return o.sent && (o.netErr != nil || o.status >= 500)
}

// retryable reports whether a later attempt may fare better: 429, 5xx and
// network failures, but nothing the ctx cut.
func (o *outcome) retryable() bool {
	if o.netErr != nil {
		return !o.cut
	}
	return o.apiErr != nil && (o.status == http.StatusTooManyRequests || o.status >= 500)
}

// do runs k with retries and maps the result to the contract's codes. On
// the first 401 it re-reads the credentials and, if they changed, re-signs
// and tries once more at once.
//
// A 429 is the gateway's quota, not a fault: it may slow the shared
// limiter for every delivery (throttle.go) and, while ctx has a deadline,
// does not use up the retry budget. The call waits (Retry-After, then the limiter)
// and tries again for as long as the deadline leaves room for the wait;
// only when it does not is the 429 the answer (timeout). Without a deadline
// a 429 counts as an attempt, as any other failure does.
func (c *Client) do(ctx context.Context, k *call) (string, error) {
	creds, err := c.creds.Credentials(ctx)
	if err != nil {
		return "", credentialsError(ctx, k, err)
	}
	var (
		last       outcome
		rounds     int // failed rounds that count toward the retry budget
		throttled  int // 429 rounds that did not count
		attempts   int // HTTP attempts, the 401 re-try included
		refreshed  bool
		refreshErr error
		unknown    bool // a sent attempt of a state-changing call met a 5xx or no answer
	)
	budget := max(c.retry.Attempts, 1)
	_, deadline := ctx.Deadline()
	// Retry-After is honoured but bounded, so that a misbehaving server
	// cannot park an invocation for an hour.
	maxWait := 2 * c.retry.Max
	for {
		attempts++
		last = c.attempt(ctx, k, creds)
		if last.status == http.StatusUnauthorized && !refreshed {
			refreshed = true
			fresh, changed, err := c.creds.Refresh(ctx)
			refreshErr = err
			// Comparing too covers a source that another call already
			// refreshed: its keys are new to this call.
			if err == nil && (changed || fresh != creds) {
				creds = fresh
				attempts++
				last = c.attempt(ctx, k, creds)
			}
		}
		if last.apiErr == nil && last.netErr == nil {
			return last.requestID, nil
		}
		unknown = unknown || (k.method == http.MethodPost && last.unknownFate())
		if !last.retryable() {
			break
		}
		var wait time.Duration
		if last.status == http.StatusTooManyRequests {
			if c.gov != nil {
				if cut, r := c.gov.throttled(last.sentAt); cut {
					resizer.LoggerFrom(ctx, nil).Warn("JD Cloud throttled the account: this process slows down",
						zap.String("op", k.op), zap.Float64("jdcloudRate", float64(r)))
				}
			}
		}
		if last.status == http.StatusTooManyRequests && deadline {
			throttled++
			// Not before Retry-After, and a little after it, at random:
			// callers refused together must not come back together.
			wait = max(last.retryAfter+jitter(last.retryAfter/4), c.retry.Delay(min(throttled-1, 3)))
		} else {
			rounds++
			if rounds >= budget {
				break
			}
			wait = max(c.retry.Delay(rounds-1), min(last.retryAfter, maxWait))
		}
		if !backoff.Sleep(ctx, wait) {
			break
		}
	}
	e := failure(ctx, k, &last, attempts, rounds >= budget, refreshed, refreshErr)
	e.Ambiguous = unknown
	return "", e
}

// attempt sends k once: wait for the limiter, stamp, sign, send, read at
// most maxAnswerBytes, decode.
func (c *Client) attempt(ctx context.Context, k *call, creds Credentials) outcome {
	if c.gov != nil {
		if err := c.gov.wait(ctx); err != nil {
			return outcome{netErr: fmt.Errorf("waiting for the rate limiter: %w", err), cut: true}
		}
	} else if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			// The limiter fails only when ctx has ended or would end first.
			return outcome{netErr: fmt.Errorf("waiting for the rate limiter: %w", err), cut: true}
		}
	}
	actx := ctx
	if c.perTry > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.perTry)
		defer cancel()
	}
	// hung names an attempt that its own bound ended: ctx is still
	// alive, so the call retries it.
	hung := func(err error) error {
		if ctx.Err() == nil && actx.Err() != nil {
			return fmt.Errorf("no answer within %s: %w", c.perTry, err)
		}
		return err
	}
	req, err := c.newRequest(actx, k, creds)
	if err != nil {
		return outcome{netErr: err}
	}
	sentAt := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		return outcome{netErr: hung(err), cut: ctx.Err() != nil, sent: true}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return outcome{netErr: hung(fmt.Errorf("reading the answer: %w", err)), cut: ctx.Err() != nil, sent: true}
	}
	if c.gov != nil && resp.StatusCode != http.StatusTooManyRequests {
		c.gov.answer()
	}
	o := outcome{status: resp.StatusCode, sent: true, sentAt: sentAt, retryAfter: backoff.RetryAfter(resp.Header.Get("Retry-After"), c.now(), 2*c.retry.Max)}
	if len(body) > maxAnswerBytes {
		o.apiErr = malformed(k.op, resp.StatusCode, resp.Header.Get(headerRequestID), body, fmt.Errorf("more than %d bytes", maxAnswerBytes))
		return o
	}
	rid, err := k.decode(resp.StatusCode, body)
	if rid == "" {
		rid = resp.Header.Get(headerRequestID)
	}
	o.requestID = rid
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			ae = &APIError{Op: k.op, HTTPStatus: resp.StatusCode, Message: err.Error()}
		}
		if ae.RequestID == "" {
			ae.RequestID = rid
		}
		o.apiErr = ae
	}
	return o
}

// newRequest builds one signed request: a fresh date and nonce each time, so
// that a retry is never a replay.
func (c *Client) newRequest(ctx context.Context, k *call, creds Credentials) (*http.Request, error) {
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, k.url, body)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	nonce, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("making a nonce: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	Stamp(req.Header, c.now(), nonce.String())
	Sign(req, k.body, creds, k.region, signService)
	return req, nil
}

// field is one input that becomes a path segment or a query value.
type field struct {
	name, value string
	valid       func(string) bool
	want        string // the rule, for people
}

// imageRE is JD's image id format. The other fields follow the request's
// rules, which the resizer package keeps in one place. Only [a-z0-9.-] can
// pass any of them, so no value can climb out of its path segment.
var imageRE = regexp.MustCompile(`^img-[0-9a-z]{4,32}$`)

func regionField(v string) field {
	return field{"regionId", v, resizer.ValidRegionID, "like cn-north-1"}
}

func instanceField(v string) field {
	return field{"instanceId", v, resizer.ValidInstanceID, "i- then 6 to 32 of [0-9a-z]"}
}

func typeField(v string) field {
	return field{"instanceType", v, resizer.ValidInstanceType, "like g.n2.large, at most 64 characters"}
}

func imageField(v string) field {
	return field{"imageId", v, func(s string) bool { return len(s) <= 36 && imageRE.MatchString(s) }, "img- then 4 to 32 of [0-9a-z]"}
}

// validate re-checks every input before anything is sent: the handler
// validates too, but this package builds URLs from them and must not trust
// its callers for that.
func validate(op string, fields ...field) error {
	for _, f := range fields {
		if f.valid(f.value) {
			continue
		}
		return resizer.Errorf(resizer.CodeInvalidRequest, "", "jdcloud %s: %s %s is not valid: want %s", op, f.name, resizer.Quote(f.value), f.want)
	}
	return nil
}

// jitter is a uniform draw from [0, d].
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}
