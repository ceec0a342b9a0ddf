package jdcloudsim

import (
	"fmt"
	"io"
	"net/http"
)

// faultKind is how an injected fault meets the caller.
type faultKind int

const (
	// answerBefore: an error answer, nothing done.
	answerBefore faultKind = iota
	// answerAfter: the operation is carried out, then the answer is the
	// error: a service that did the work and failed to say so.
	answerAfter
	// dropBefore: the connection is closed unanswered, nothing done.
	dropBefore
	// dropAfter: the operation is carried out, then the connection is
	// closed unanswered: the caller cannot tell this from dropBefore.
	dropAfter
)

// fault is one batch of injected failures.
type fault struct {
	kind   faultKind
	status int // for answerBefore and answerAfter
	n      int
}

func (f fault) applies() bool { return f.kind == answerAfter || f.kind == dropAfter }
func (f fault) drops() bool   { return f.kind == dropBefore || f.kind == dropAfter }

// Fail makes the next n authenticated calls of op answer status in JD's
// error envelope without touching state; then op behaves normally again.
// Successive Fail calls for one op queue up (Fail(op, 503, 2) then
// Fail(op, 429, 1) gives 503, 503, 429); n <= 0 clears op's queue.
// Requests refused for their signature do not use up a fault, because the
// faults stand for the service failing a call it accepted.
func (s *Server) Fail(op string, status int, n int) {
	mustKnowOp("Fail", op)
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("jdcloudsim: Fail(%q, %d, …): status must be an HTTP error (400-599)", op, status))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.faults, op)
		return
	}
	s.faults[op] = append(s.faults[op], fault{kind: answerBefore, status: status, n: n})
}

// FailAfterApply makes the next n authenticated calls of op take effect
// and then answer status anyway, as a service does when it acts on a
// request and fails before answering (a gateway timeout, a crash). Faults
// of Fail, FailAfterApply, DropBeforeApply and DropAfterApply share op's
// queue, in the order they were added.
func (s *Server) FailAfterApply(op string, status int, n int) {
	mustKnowOp("FailAfterApply", op)
	if status < 400 || status > 599 || n <= 0 {
		panic(fmt.Sprintf("jdcloudsim: FailAfterApply(%q, %d, %d): want an HTTP error status and n > 0", op, status, n))
	}
	s.queueFault(op, fault{kind: answerAfter, status: status, n: n})
}

// DropBeforeApply makes the next n authenticated calls of op end with the
// connection closed and no answer, having done nothing: a network that
// lost the request. The record of such a call has Dropped set and Status 0.
// Go's http.Transport replays a GET (and a request with an Idempotency-Key
// header) whose reused connection closes unanswered, so a GET may be seen
// twice here while its caller sees one success.
func (s *Server) DropBeforeApply(op string, n int) {
	mustKnowOp("DropBeforeApply", op)
	if n <= 0 {
		panic(fmt.Sprintf("jdcloudsim: DropBeforeApply(%q, %d): want n > 0", op, n))
	}
	s.queueFault(op, fault{kind: dropBefore, n: n})
}

// DropAfterApply makes the next n authenticated calls of op take effect
// and then end with the connection closed and no answer: a network that
// lost the answer. To the caller it looks exactly like DropBeforeApply.
func (s *Server) DropAfterApply(op string, n int) {
	mustKnowOp("DropAfterApply", op)
	if n <= 0 {
		panic(fmt.Sprintf("jdcloudsim: DropAfterApply(%q, %d): want n > 0", op, n))
	}
	s.queueFault(op, fault{kind: dropAfter, n: n})
}

func (s *Server) queueFault(op string, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], f)
}

// dropConnection takes the caller's connection, for ServeHTTP to close
// without a byte of answer once the call is recorded (so that a caller
// who retries at once finds the drop in the record). It returns nil when
// w cannot be hijacked (HTTP/2, a ResponseRecorder); the caller then
// aborts the handler with http.ErrAbortHandler, which net/http turns into
// a reset stream or closed connection all the same.
func dropConnection(w http.ResponseWriter) io.Closer {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil
	}
	return conn
}

// takeFault consumes one injected failure of op, if any is queued.
func (s *Server) takeFault(op string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[op]
	if len(q) == 0 {
		return fault{}, false
	}
	f := q[0]
	if q[0].n--; q[0].n == 0 {
		q = q[1:]
	}
	if len(q) == 0 {
		delete(s.faults, op)
	} else {
		s.faults[op] = q
	}
	return f, true
}
