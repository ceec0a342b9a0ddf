package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ErrClosed is returned by Invoke once Close has been called.
var ErrClosed = errors.New("rie: emulator closed")

type answer struct {
	body        []byte
	functionErr bool
	err         error
}

// Invoke sends payload as one invocation and returns the function's answer.
// functionErr reports a Lambda function error (handler error, runtime exit,
// timeout: see "Answers" in the package doc), in which case body is the
// error as the emulator sent it and err is nil. err reports the emulator
// failing to answer, or answering with any other status (body then holds
// what it sent).
//
// Calls are served one at a time, whatever the number of goroutines. When
// ctx ends first Invoke returns ctx's error at once, but the next call still
// waits for the emulator to finish the abandoned invocation.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) (body []byte, functionErr bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	select {
	case e.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case <-e.life.Done():
		return nil, false, ErrClosed
	}
	// The slot is released by the request's goroutine, not here: the
	// emulator crashes on overlapping invocations and does not notice a
	// client going away, so it is busy until it answers.
	done := make(chan answer, 1)
	go func() {
		defer func() { <-e.slot }()
		done <- e.post(payload)
	}()
	select {
	case a := <-done:
		return a.body, a.functionErr, a.err
	case <-ctx.Done():
		return nil, false, fmt.Errorf("rie: invocation abandoned, the emulator finishes it before the next one: %w", ctx.Err())
	}
}

// post runs one invocation for as long as the emulator is open.
func (e *Emulator) post(payload []byte) answer {
	if e.life.Err() != nil {
		return answer{err: ErrClosed}
	}
	req, err := http.NewRequestWithContext(e.life, http.MethodPost, e.url, bytes.NewReader(payload))
	if err != nil {
		return answer{err: fmt.Errorf("rie: invoke: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		return answer{err: e.explain(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{err: e.explain(err)}
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		fnErr := resp.Header.Get("X-Amz-Function-Error") != "" || isErrorObject(body) || isTimeout(body)
		return answer{body: body, functionErr: fnErr}
	case resp.StatusCode == http.StatusBadGateway && isErrorObject(body):
		// The runtime exited or failed its init: Lambda calls these
		// Unhandled function errors too.
		return answer{body: body, functionErr: true}
	default:
		// The status only: the body may carry the function's data.
		return answer{body: body, err: fmt.Errorf("rie: emulator answered %s (%d bytes)", resp.Status, len(body))}
	}
}

// explain turns a transport error into the reason behind it when the
// emulator is gone, which is what a test author needs to see.
func (e *Emulator) explain(err error) error {
	if e.life.Err() != nil {
		return ErrClosed
	}
	// A crashing emulator drops the connection a moment before it is
	// reaped; give it that moment.
	t := time.NewTimer(500 * time.Millisecond)
	defer t.Stop()
	select {
	case <-e.exited:
		return fmt.Errorf("rie: emulator exited (%v): %w", e.waitErr, err)
	case <-e.life.Done():
		return ErrClosed
	case <-t.C:
		return fmt.Errorf("rie: invoke: %w", err)
	}
}

// isErrorObject recognises the Lambda error shape every runtime sends,
// since the emulator drops the X-Amz-Function-Error header.
func isErrorObject(body []byte) bool {
	// A map, not a struct: encoding/json matches struct fields ignoring case.
	var v map[string]json.RawMessage
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	return isString(v["errorType"]) && isString(v["errorMessage"])
}

func isString(raw json.RawMessage) bool {
	var s string
	return len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil
}

// isTimeout recognises the emulator's plain-text timeout answer.
func isTimeout(body []byte) bool {
	return strings.HasPrefix(string(body), "Task timed out after ")
}
