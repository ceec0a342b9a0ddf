package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// The op label: JD Cloud's operation names (docs/jdcloud-api.md), or other.
const (
	OpDescribeInstance         = "describeInstance"
	OpDescribeInstanceTypes    = "describeInstanceTypes"
	OpDescribeImageConstraints = "describeImageConstraints"
	OpResizeInstance           = "resizeInstance"
	OpStopInstance             = "stopInstance"
	OpStartInstance            = "startInstance"
	OpOther                    = "other"
)

// StatusError is the status label of an attempt that got no answer (a
// refused or dropped connection, a timeout, a cancelled context).
const StatusError = "error"

// CallRecorder hears about every HTTP attempt at JD Cloud: its operation
// (Op), its status (StatusLabel, or StatusError) and how long the answer's
// headers took. Both labels come from bounded sets. It must not block.
type CallRecorder interface {
	ObserveCall(op, status string, latency time.Duration)
}

// Transport decorates the RoundTripper under the JD Cloud client. For every
// attempt — each retry is one — it adds the answer to the delivery's
// resizer.Tally (found in the request's context; outside a delivery it
// counts nothing) and, when rec is not nil, tells rec. It reads neither the
// request's body nor the answer's: latency ends when the headers arrive.
// next nil is http.DefaultTransport.
func Transport(next http.RoundTripper, rec CallRecorder) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, rec: rec}
}

type transport struct {
	next http.RoundTripper
	rec  CallRecorder
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	latency := time.Since(start)
	status, label := 0, StatusError
	if err == nil && resp != nil {
		status = resp.StatusCode
		label = StatusLabel(status)
	}
	resizer.TallyFrom(req.Context()).Count(status)
	if t.rec != nil {
		t.rec.ObserveCall(Op(req), label, latency)
	}
	return resp, err
}

// StatusLabel is the status label of an answer: the code itself for the
// codes JD Cloud's API gives a meaning (docs/jdcloud-api.md) and a gateway
// commonly sends, else its class (2xx … 5xx), else other. A misbehaving
// endpoint cannot make a new series per code.
func StatusLabel(code int) string {
	switch code {
	case 200, 400, 401, 403, 404, 429, 500, 502, 503, 504:
		return strconv.Itoa(code)
	}
	switch code / 100 {
	case 1:
		return "1xx"
	case 2:
		return "2xx"
	case 3:
		return "3xx"
	case 4:
		return "4xx"
	case 5:
		return "5xx"
	}
	return OpOther
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on to the
// decorated transport.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Op names the JD Cloud operation of a request from its method and path:
//
//	POST /v1/regions/{r}/instances/{i}:resizeInstance   resizeInstance
//	POST /v1/regions/{r}/instances/{i}:stopInstance     stopInstance
//	POST /v1/regions/{r}/instances/{i}:startInstance    startInstance
//	GET  /v1/regions/{r}/instances/{i}                  describeInstance
//	GET  /v1/regions/{r}/instanceTypes                  describeInstanceTypes
//	GET  /v1/regions/{r}/images/{id}/constraints        describeImageConstraints
//
// Anything else, another version prefix than v<digits> included, is other.
// The ids never leave this function.
func Op(r *http.Request) string {
	if r == nil || r.URL == nil {
		return OpOther
	}
	seg := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(seg) < 4 || !isVersion(seg[0]) || seg[1] != "regions" || seg[2] == "" {
		return OpOther
	}
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch rest := seg[3:]; {
	case len(rest) == 1 && rest[0] == "instanceTypes" && get:
		return OpDescribeInstanceTypes
	case len(rest) == 3 && rest[0] == "images" && rest[1] != "" && rest[2] == "constraints" && get:
		return OpDescribeImageConstraints
	case len(rest) == 2 && rest[0] == "instances" && rest[1] != "":
		id, action, colon := strings.Cut(rest[1], ":")
		switch {
		case id == "":
			return OpOther
		case !colon && get:
			return OpDescribeInstance
		case colon && post && (action == OpResizeInstance || action == OpStopInstance || action == OpStartInstance):
			return action
		}
	}
	return OpOther
}

func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
