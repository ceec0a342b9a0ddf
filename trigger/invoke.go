package trigger

import (
	"context"
	"encoding/json"
	"net/http"

	"go.uber.org/zap"

	"github.com/jdcloud-vm-resizer/resizer"
)

// shape is the kind of Lambda payload Invoke received.
type shape string

const (
	shapeUnknown     shape = "unknown"
	shapeDirect      shape = "direct"
	shapeHTTP        shape = "http"
	shapeSQS         shape = "sqs"
	shapeSNS         shape = "sns"
	shapeEventBridge shape = "eventbridge"
	// shapeAmbiguous: the payload has the markers of more than one shape.
	shapeAmbiguous shape = "ambiguous"
)

const ambiguousShapeMessage = "the payload matches more than one trigger shape (a CloudEvent's specversion beside " +
	"Records, detail-type or an HTTP request's requestContext); send one shape"

const unknownShapeMessage = "unrecognised payload: expected a structured CloudEvent (direct invoke), " +
	"an API Gateway HTTP API or Function URL request (payload 2.0), or an SQS, SNS or EventBridge event"

// Invoke is the Lambda handler: it recognises the payload's shape, runs the
// events it carries and answers as that trigger expects. It returns an
// error only when the sender should retry, after the outcome was published.
func (d *Dispatcher) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	s, top := detect(payload)
	resizer.LoggerFrom(ctx, d.log).Debug("invocation", zap.String("trigger", string(s)))
	if s != shapeDirect && s != shapeUnknown {
		// A direct CloudEvent is checked by decodeStructured and ParseRequest,
		// whose messages name the attribute or field.
		if key, dup := duplicateKey(payload); dup {
			return d.rejectDuplicate(ctx, s, key)
		}
	}
	switch s {
	case shapeHTTP:
		return d.invokeHTTP(ctx, payload)
	case shapeSQS:
		return d.invokeSQS(ctx, payload)
	case shapeSNS:
		return d.invokeSNS(ctx, payload)
	case shapeEventBridge:
		return d.invokeEventBridge(ctx, payload, top)
	case shapeDirect:
		return d.answerEvents([]resizer.Outcome{d.handleRaw(ctx, string(s), payload)}, false)
	case shapeAmbiguous:
		// Whoever routed or filtered it may have read it as the other shape:
		// running either is a guess.
		return d.answerEvents([]resizer.Outcome{d.reject(ctx, string(s), nil, invalid(ambiguousShapeMessage))}, false)
	default:
		return d.answerEvents([]resizer.Outcome{d.reject(ctx, string(s), nil, invalid(unknownShapeMessage))}, false)
	}
}

// detect decides by structure. A payload with the markers of two shapes (a
// CloudEvent, which has specversion, that also carries Records, detail-type
// or an HTTP request context) is ambiguous; otherwise EventBridge, which
// also has id and source, is recognised before a direct CloudEvent.
func detect(payload []byte) (shape, map[string]json.RawMessage) {
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil || top == nil {
		return shapeUnknown, nil
	}
	found := shapeUnknown
	n := 0
	mark := func(s shape) {
		found = s
		n++
	}
	if recs, ok := top["Records"]; ok {
		mark(recordsShape(recs))
	}
	if has(top, "detail-type", "detail", "source") {
		mark(shapeEventBridge)
	}
	if isJSONString(top["version"], "2.0") {
		var rc map[string]json.RawMessage
		if json.Unmarshal(top["requestContext"], &rc) == nil && has(rc, "http") {
			mark(shapeHTTP)
		}
	}
	if _, ok := top["specversion"]; ok {
		mark(shapeDirect)
	}
	switch {
	case n > 1:
		return shapeAmbiguous, top
	case n == 1:
		return found, top
	}
	for _, k := range []string{"type", "id", "source"} {
		if _, ok := top[k]; ok {
			return shapeDirect, top
		}
	}
	return shapeUnknown, top
}

// recordsShape tells SQS from SNS by the first record.
func recordsShape(recs json.RawMessage) shape {
	var rs []map[string]json.RawMessage
	if json.Unmarshal(recs, &rs) != nil || len(rs) == 0 {
		return shapeUnknown
	}
	switch {
	case isJSONString(rs[0]["eventSource"], "aws:sqs"):
		return shapeSQS
	case isJSONString(rs[0]["EventSource"], "aws:sns"):
		return shapeSNS
	}
	return shapeUnknown
}

func has(m map[string]json.RawMessage, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

func isJSONString(raw json.RawMessage, want string) bool {
	s, ok := jsonString(raw)
	return ok && s == want
}

// answerEvents is the answer of direct invoke, EventBridge and SNS: the
// outcome event (an array when array), plus a Lambda error when retryable.
func (d *Dispatcher) answerEvents(outs []resizer.Outcome, array bool) ([]byte, error) {
	b, err := eventsJSON(outs, array)
	if err != nil {
		d.log.Error("cannot encode outcome", zap.Error(err))
		return nil, err
	}
	return b, retryError(outs)
}

// rejectDuplicate answers an envelope with a repeated key as its shape
// answers any malformed envelope. Nothing from it is echoed as the
// request's identity: which of the two values is the real one is the
// question it cannot answer.
func (d *Dispatcher) rejectDuplicate(ctx context.Context, s shape, key string) ([]byte, error) {
	err := duplicateKeyError(key)
	switch s {
	case shapeHTTP:
		// Nothing is authenticated yet, so no outcome is produced.
		return httpError(http.StatusBadRequest, "malformed API Gateway request: "+err.Error())
	case shapeSQS:
		return d.answerMalformedSQS(d.rejectEnvelope(ctx, s, nil, err))
	default:
		return d.answerEvents([]resizer.Outcome{d.rejectEnvelope(ctx, s, nil, err)}, false)
	}
}

// rejectEnvelope answers a payload that has a trigger's markers but not its
// structure, reading what identifies the request from the top level.
func (d *Dispatcher) rejectEnvelope(ctx context.Context, s shape, top map[string]json.RawMessage, err error) resizer.Outcome {
	return d.reject(ctx, string(s), partialFrom(top), invalid("malformed %s event: %v", s, err))
}
