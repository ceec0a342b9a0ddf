package resizer

import (
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// report is what the pipeline learned about one delivery, for its outcome.
type report struct {
	req     *Request // nil when the event was not a valid request
	plan    *Plan    // nil when the instance was not described
	applied Applied
	err     *Error
	// approval: the request is held (id, expiry) or was decided (who).
	approval *ApprovalData
}

// outcomes is the one place an outcome is built and announced: built and
// encoded once, then published, logged and observed once per delivery.
type outcomes struct {
	source    string
	now       func() time.Time
	newID     func() string
	publisher Publisher
	observer  Observer
}

// build turns a report into the delivery's outcome.
func (b outcomes) build(d *delivery, r report) Outcome {
	data := OutcomeData{Request: d.ref}
	if q := r.req; q != nil {
		data.RegionID, data.InstanceID, data.InstanceType = q.RegionID, q.InstanceID, q.InstanceType
		data.DryRun, data.Reason, data.RequestedBy = q.DryRun, q.Reason, q.RequestedBy
		data.Direction, data.Steps = q.Direction, q.Steps
	}
	if p := r.plan; p != nil {
		data.PreviousInstanceType, data.InstanceType = p.Instance.InstanceType, p.Target
	}
	a := r.applied
	data.Changed, data.JDCloudRequestID, data.Stopped, data.Restarted, data.Timings = a.Changed, a.RequestID, a.Stopped, a.Restarted, a.Timings
	data.RolledBack = a.RolledBack
	data.Approval = r.approval
	if r.err != nil {
		data.Error = errorData(r.err)
	}
	out, err := EncodeOutcome(EventAttributes{
		ID: b.newID(), Source: b.source, Subject: d.subject, TraceParent: d.traceparent, Time: b.now(),
	}, data)
	if err != nil {
		d.log.Error("could not encode the outcome event", zap.Error(err))
		out.PublishErr = fmt.Errorf("the outcome event could not be encoded: %w", err)
	}
	return out
}

// announce publishes the outcome to every sink, writes it to the log (the
// outcome of last resort: the line carries the whole event) and tells the
// observer.
func (b outcomes) announce(d *delivery, out Outcome) Outcome {
	if out.Event.JSON != nil {
		out.PublishErr = b.publisher.Publish(d.ctx, out.Event)
	}
	fields := []zap.Field{
		zap.String("outcome", out.Event.Type),
		zap.String("outcomeId", out.Event.ID),
		zap.Bool("changed", out.Data.Changed),
		zap.Bool("retryable", out.Retryable()),
		zap.Bool("replay", out.Replay),
		zap.Any("outcomeEvent", json.RawMessage(out.Event.JSON)),
	}
	level, msg := zapcore.InfoLevel, "resize succeeded"
	if out.Event.Type == TypePending {
		msg = "resize pending approval"
	}
	if e := out.Err(); e != nil {
		fields = append(fields, zap.String("code", string(e.Code)), zap.String("reason", e.Reason), zap.String("error", e.Message))
		level, msg = zapcore.WarnLevel, "resize failed"
	}
	switch {
	case retryablePublish(out.PublishErr):
		fields = append(fields, zap.NamedError("publishError", out.PublishErr))
		level, msg = zapcore.ErrorLevel, msg+"; outcome not delivered to every sink, the delivery will be retried"
	case out.PublishErr != nil:
		fields = append(fields, zap.NamedError("publishError", out.PublishErr))
		level, msg = zapcore.ErrorLevel, msg+"; a sink refused the outcome for good: it is only in this log line"
	}
	d.log.Log(level, msg, fields...)
	b.observer.Observe(Observation{
		Outcome:     &out,
		Duration:    b.now().Sub(d.started),
		JDCalls:     d.tally.Calls(),
		JDThrottled: d.tally.Throttled(),
	})
	return out
}
