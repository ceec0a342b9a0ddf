package jdcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jdcloud-vm-resizer/resizer"
)

// APIError is one JD Cloud answer that was not a success: JD's own error
// (Status and Message from the answer's error member) or an answer that does
// not follow JD's format at all (see ErrMalformedAnswer).
type APIError struct {
	Op         string // JD operation, e.g. resizeInstance
	HTTPStatus int
	Status     string // JD status, e.g. NOT_FOUND; empty for a malformed answer
	Message    string
	RequestID  string

	cause error // ErrMalformedAnswer (wrapped) when the answer was not JD's JSON
}

// ErrMalformedAnswer marks an APIError whose answer was not JD's JSON
// envelope (a proxy's HTML page, a truncated body, a wrong shape). Test it
// with errors.Is.
var ErrMalformedAnswer = errors.New("malformed answer")

// Error reads like `jdcloud resizeInstance: 400 INVALID_ARGUMENT: msg (requestId …)`.
func (e *APIError) Error() string {
	var b bytes.Buffer
	b.WriteString("jdcloud ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	if e.Status != "" {
		b.WriteByte(' ')
		b.WriteString(e.Status)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.RequestID != "" {
		b.WriteString(" (requestId ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	return b.String()
}

// Unwrap exposes ErrMalformedAnswer for answers that were not JD's JSON.
func (e *APIError) Unwrap() error { return e.cause }

// Malformed reports whether the answer did not follow JD's format.
func (e *APIError) Malformed() bool { return errors.Is(e.cause, ErrMalformedAnswer) }

// DecodeResponse parses a JD answer body for the given HTTP status into
// result (nil when the caller needs nothing from result) or an *APIError. A
// 2xx answer must be a JSON object without an error member and, when result
// is wanted, with a result member that fits it; anything else is an
// APIError, malformed when it does not follow JD's envelope.
//
// The body is parsed once, straight into the typed result: the envelope's
// result is not first kept as raw JSON and then parsed again.
func DecodeResponse[T any](op string, status int, body []byte, result *T) (requestID string, err error) {
	// JSON's null, a string or a number would decode into an empty envelope
	// without complaint; only an object is JD's answer.
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return "", malformed(op, status, "", body, errors.New("not a JSON object"))
	}
	var (
		rid     string
		werr    *wireError
		got     *T
		misfit  error // the result member does not fit T; the rest was decoded
		decoded error
	)
	if result == nil {
		// No result wanted: json skips the member without building it.
		var env answerHead
		decoded = json.Unmarshal(body, &env)
		rid, werr = env.RequestID, env.Error
	} else {
		var env answer[T]
		decoded = json.Unmarshal(body, &env)
		rid, werr, got = env.RequestID, env.Error, env.Result
	}
	if decoded != nil {
		// encoding/json finishes the value after a type mismatch, so a
		// result of the wrong shape leaves requestId and error readable;
		// anything else (bad syntax, a wrong error member) is not JD's
		// envelope at all.
		var ute *json.UnmarshalTypeError
		if !errors.As(decoded, &ute) || (ute.Field != "result" && !strings.HasPrefix(ute.Field, "result.")) {
			return "", malformed(op, status, "", body, decoded)
		}
		// The first mismatch is the only one json reports: make sure the
		// envelope around the result holds no other (a rare path, so the
		// second pass costs nothing on the usual one).
		var head answerHead
		if err := json.Unmarshal(body, &head); err != nil {
			return "", malformed(op, status, "", body, err)
		}
		misfit = decoded
	}
	// An empty error member ({} or all zero) says nothing failed.
	if werr != nil && *werr != (wireError{}) {
		msg := clip(werr.Message, maxMessageLen)
		if msg == "" {
			msg = "(no message)"
		}
		return rid, &APIError{Op: op, HTTPStatus: status, Status: werr.Status, Message: msg, RequestID: rid}
	}
	if status < 200 || status > 299 {
		return rid, malformed(op, status, rid, body, errors.New("error status without an error member"))
	}
	if result == nil {
		return rid, nil
	}
	if misfit != nil {
		return rid, malformed(op, status, rid, body, misfit)
	}
	if got == nil {
		return rid, malformed(op, status, rid, body, errors.New("no result member"))
	}
	*result = *got
	return rid, nil
}

// maxMessageLen bounds JD's message as carried into errors and outcome
// events; JD's messages are a sentence, anything longer is noise.
const maxMessageLen = 1024

// snippetLen bounds how much of an unexpected body an error quotes: enough
// to recognise a proxy's error page, not enough to flood a log line.
const snippetLen = 64

func malformed(op string, status int, requestID string, body []byte, why error) *APIError {
	return &APIError{
		Op:         op,
		HTTPStatus: status,
		Message:    fmt.Sprintf("answer does not follow JD Cloud's format (%v); %d bytes: %s", why, len(body), snippet(body)),
		RequestID:  requestID,
		cause:      fmt.Errorf("%w: %w", ErrMalformedAnswer, why),
	}
}

// snippet quotes the start of body.
func snippet(body []byte) string {
	return strconv.Quote(clip(string(body[:min(len(body), snippetLen+utf8.UTFMax)]), snippetLen))
}

// clip cuts s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return resizer.Clip(s, n) + "…"
}

// failure maps the last outcome of a call to the contract's codes
// (docs/contract.md §3); spent says the retry budget was used up. Every error keeps the *APIError or network error in Err.
//
// A malformed answer is judged by its status: 429 and 5xx are what a proxy
// or load balancer in front of JD says during an outage (retried, then
// unavailable); a malformed 2xx or other 4xx is api_error, since retrying
// cannot fix a server that answers outside JD's format and, for a 2xx, the
// state-changing call may already have been done. 401 and 403 stay
// auth_failed whatever the body: the status alone says the keys were
// refused. A 404 that is not JD's JSON is api_error, not not_found: it
// points at a wrong endpoint more than at a missing instance.
func failure(ctx context.Context, k *call, o *outcome, attempts int, spent, refreshed bool, refreshErr error) *resizer.Error {
	// The deadline or a cancel ended the call while it could still have
	// succeeded: either it cut an attempt, or it left no room for the next.
	if o.cut || (o.retryable() && (ctx.Err() != nil || !spent)) {
		return &resizer.Error{
			Code:    resizer.CodeTimeout,
			Message: fmt.Sprintf("jdcloud %s: the deadline ended the call after %s; last: %s", k.op, plural(attempts, "attempt"), o.describe()),
			Status:  o.status,
			Err:     o.err(),
		}
	}
	if o.netErr != nil {
		return &resizer.Error{
			Code:    resizer.CodeUnavailable,
			Message: fmt.Sprintf("jdcloud %s: JD Cloud unreachable after %s: %v", k.op, plural(attempts, "attempt"), o.netErr),
			Err:     o.netErr,
		}
	}
	ae := o.apiErr
	e := &resizer.Error{Status: o.status, Err: ae}
	switch {
	case o.status == http.StatusUnauthorized || o.status == http.StatusForbidden:
		e.Code = resizer.CodeAuthFailed
		e.Message = "JD Cloud refused the credentials: " + ae.Error()
		if refreshed {
			if refreshErr != nil {
				e.Message += fmt.Sprintf("; re-reading them failed: %v", refreshErr)
			} else {
				e.Message += "; re-reading them found no new keys"
			}
		}
	case o.retryable():
		e.Code = resizer.CodeUnavailable
		e.Message = fmt.Sprintf("jdcloud %s: JD Cloud unavailable after %s; last answer: %s", k.op, plural(attempts, "attempt"), ae.Error())
	case o.status == http.StatusNotFound && !ae.Malformed():
		e.Code = resizer.CodeNotFound
		e.Message = fmt.Sprintf("%s not found: %s", k.notFound, ae.Error())
	default:
		e.Code = resizer.CodeAPIError
		e.Message = ae.Error()
	}
	return e
}

// describe says what the outcome was, for a message.
func (o *outcome) describe() string {
	if o.netErr != nil {
		return o.netErr.Error()
	}
	return o.apiErr.Error()
}

func (o *outcome) err() error {
	if o.netErr != nil {
		return o.netErr
	}
	return o.apiErr
}

// answerError reports a 2xx answer that lacks what the operation needs.
func answerError(k *call, status int, requestID string, why error) *resizer.Error {
	ae := malformed(k.op, status, requestID, nil, why)
	return &resizer.Error{Code: resizer.CodeAPIError, Message: ae.Error(), Status: status, Err: ae}
}

// credentialsError maps a CredentialSource failure: a source that already
// speaks the contract is trusted; otherwise a secret store that could not be
// read is worth retrying later (unavailable), unless ctx ended (timeout).
func credentialsError(ctx context.Context, k *call, err error) *resizer.Error {
	return resizer.ErrorFrom(ctx, "jdcloud "+k.op+": reading credentials", err)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
