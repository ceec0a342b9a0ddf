package jdcloudsim

import (
	"fmt"
	"net/http"
	"time"
)

// Request is the record of one request the simulator received, rejected
// ones included.
type Request struct {
	Op       string // one of the Op constants
	Method   string
	Path     string
	RawQuery string
	Header   http.Header // as received, Authorization included (it holds no secret)
	Body     []byte
	// Status is the HTTP status answered; 0 when nothing was answered:
	// the caller went away during an injected latency, or Dropped.
	Status int
	// Dropped: an injected DropBeforeApply or DropAfterApply closed the
	// connection without an answer.
	Dropped bool
	// SignatureValid: the signature verified with a known key and its
	// credential scope named the path's region.
	SignatureValid bool
	// AccessKey is the key the Authorization header claims, known or not.
	AccessKey string
	At        time.Time
}

func (r Request) clone() Request {
	c := r
	c.Header = r.Header.Clone()
	c.Body = append([]byte(nil), r.Body...)
	return c
}

// begin records a request as it arrives and returns its index.
func (s *Server) begin(rec Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, rec)
	s.calls[rec.Op]++
	return len(s.requests) - 1
}

// finish completes a request's record with how it was answered.
func (s *Server) finish(idx int, rep reply) {
	s.mu.Lock()
	rec := &s.requests[idx]
	rec.Status, rec.AccessKey, rec.SignatureValid, rec.Dropped = rep.status, rep.accessKey, rep.authOK, rep.dropped
	done := rec.clone()
	s.mu.Unlock()
	if s.onRequest != nil {
		s.onRequest(done)
	}
}

// Requests returns every request received so far, in arrival order. A
// request still being answered shows Status 0.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.clone()
	}
	return out
}

// Calls counts the requests routed to op, whatever they were answered.
func (s *Server) Calls(op string) int {
	mustKnowOp("Calls", op)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// SetLatency delays every answer of op by d; op "" sets d for every op,
// replacing the per-op values. The wait ends early when the caller's
// context is done (nothing is answered) or the Server is closed (503).
func (s *Server) SetLatency(op string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "" {
		clear(s.latency)
		s.latency[""] = d
		return
	}
	mustKnowOp("SetLatency", op)
	s.latency[op] = d
}

// mustKnowOp panics on an op name that no route produces: a typo in a
// test would otherwise silently make Fail or Calls do nothing.
func mustKnowOp(fn, op string) {
	if !knownOps[op] {
		panic(fmt.Sprintf("jdcloudsim: %s: unknown op %q", fn, op))
	}
}
