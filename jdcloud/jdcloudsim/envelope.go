package jdcloudsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// HeaderRequestID carries the answer's requestId, as JD's gateway does.
const HeaderRequestID = "X-Jdcloud-Request-Id"

// envelope is every answer's body: result on success, error otherwise.
type envelope struct {
	RequestID string     `json:"requestId"`
	Result    any        `json:"result,omitempty"`
	Error     *wireError `json:"error,omitempty"`
}

type wireError struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// apiError is a refusal on its way to the wire.
type apiError struct {
	code    int
	status  string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.code, e.status, e.message) }

func invalidArgument(format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf(format, a...)}
}

func failedPrecondition(format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, "FAILED_PRECONDITION", fmt.Sprintf(format, a...)}
}

func notFound(format string, a ...any) *apiError {
	return &apiError{http.StatusNotFound, "NOT_FOUND", fmt.Sprintf(format, a...)}
}

func unauthenticated(format string, a ...any) *apiError {
	return &apiError{http.StatusUnauthorized, "UNAUTHENTICATED", fmt.Sprintf(format, a...)}
}

// statusName maps an HTTP code to the status of JD's OpenAPI code table,
// so injected faults look like the service's own answers. A 400 is
// INVALID_ARGUMENT and a 429 RATE_LIMIT_EXCEEDED, the more common of the
// two names each code has.
func statusName(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RATE_LIMIT_EXCEEDED"
	case http.StatusInternalServerError:
		return "INTERNAL"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	return "UNKNOWN"
}

// newRequestID makes a JD-looking request id: "c" and 20 lowercase hex digits.
func newRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "c" + hex.EncodeToString(b[:])
}

// writeEnvelope sends one answer and returns its status code.
func writeEnvelope(w http.ResponseWriter, result any, apiErr *apiError) int {
	env := envelope{RequestID: newRequestID()}
	code := http.StatusOK
	if apiErr != nil {
		code = apiErr.code
		env.Error = &wireError{Code: apiErr.code, Status: apiErr.status, Message: apiErr.message}
	} else {
		env.Result = result
	}
	body, err := json.Marshal(env)
	if err != nil {
		// Only the simulator's own types are marshalled; failing here is a bug.
		panic(fmt.Sprintf("jdcloudsim: marshal answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(HeaderRequestID, env.RequestID)
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return code
}
