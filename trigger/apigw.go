package trigger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// invokeHTTP serves an API Gateway HTTP API or Function URL request
// (payload 2.0, one shape for both) by converting it into an *http.Request
// and running ServeHTTP, so that both ways in share one implementation.
// HTTP answers carry their own status (503 + Retry-After when retryable),
// so this never returns a Lambda error: API Gateway would turn it into an
// opaque 502.
func (d *Dispatcher) invokeHTTP(ctx context.Context, payload []byte) ([]byte, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		// Nothing is authenticated yet, so no outcome is produced.
		return httpError(http.StatusBadRequest, "malformed API Gateway request")
	}
	hr, msg := toHTTPRequest(ctx, &req)
	if hr == nil {
		return httpError(http.StatusBadRequest, msg)
	}
	rec := newRecorder()
	d.ServeHTTP(rec, hr)
	return json.Marshal(rec.response())
}

// toHTTPRequest returns nil and the reason when the request cannot be
// rebuilt (a body that is not the base64 it claims to be).
func toHTTPRequest(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (*http.Request, string) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, "request body is not valid base64"
		}
		body = b
	}
	u, err := url.Parse(req.RawPath)
	if err != nil || req.RawPath == "" {
		u = &url.URL{Path: "/"}
	}
	// Routes are matched on the path as the function's own: without the
	// named stage an HTTP API puts in front of it.
	u.Path = stripStage(u.Path, req.RequestContext.Stage)
	u.RawPath = ""
	u.RawQuery = req.RawQueryString
	// API Gateway lower-cases header names and already joined repeated
	// headers with commas: Set canonicalises the name, the value stays whole.
	// Sorted keys make the outcome independent of map order should two
	// spellings of one name appear.
	h := make(http.Header, len(req.Headers))
	keys := make([]string, 0, len(req.Headers))
	for k := range req.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Set(k, req.Headers[k])
	}
	method := req.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodGet
	}
	hr := (&http.Request{
		Method:        strings.ToUpper(method),
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          h.Get("Host"),
		RemoteAddr:    req.RequestContext.HTTP.SourceIP,
		RequestURI:    u.RequestURI(),
	}).WithContext(ctx)
	return hr, ""
}

// recorder is a minimal http.ResponseWriter that keeps the response for
// API Gateway.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (r *recorder) response() events.APIGatewayV2HTTPResponse {
	resp := events.APIGatewayV2HTTPResponse{StatusCode: r.status, Headers: map[string]string{}}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	for k, vs := range r.header {
		resp.Headers[k] = strings.Join(vs, ", ")
	}
	// Outcome bodies are JSON, but data the sender supplied is echoed
	// byte for byte; a body API Gateway cannot carry as text goes as base64.
	if utf8.Valid(r.body.Bytes()) {
		resp.Body = r.body.String()
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(r.body.Bytes())
		resp.IsBase64Encoded = true
	}
	return resp
}

func httpError(status int, msg string) ([]byte, error) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	})
}
