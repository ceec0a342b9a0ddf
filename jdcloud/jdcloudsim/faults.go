package jdcloudsim

import "fmt"

// fault is one batch of injected failures.
type fault struct {
	status int
	n      int
	// afterApply: the operation is carried out, then the answer is the
	// fault: a service that did the work and failed to say so.
	afterApply bool
}

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
	s.faults[op] = append(s.faults[op], fault{status: status, n: n})
}

// FailAfterApply makes the next n authenticated calls of op take effect
// and then answer status anyway, as a service does when it acts on a
// request and fails before answering (a gateway timeout, a crash). Faults
// of Fail and FailAfterApply share op's queue.
func (s *Server) FailAfterApply(op string, status int, n int) {
	mustKnowOp("FailAfterApply", op)
	if status < 400 || status > 599 || n <= 0 {
		panic(fmt.Sprintf("jdcloudsim: FailAfterApply(%q, %d, %d): want an HTTP error status and n > 0", op, status, n))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], fault{status: status, n: n, afterApply: true})
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
