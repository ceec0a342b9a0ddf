package trigger

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/jdcloud-vm-resizer/resizer"
)

// invokeEventBridge accepts both ways a rule can deliver a request: detail
// holding a whole structured CloudEvent (it has specversion), or detail
// holding the request data, with the envelope supplying the attributes.
func (d *Dispatcher) invokeEventBridge(ctx context.Context, payload []byte, top map[string]json.RawMessage) ([]byte, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return d.answerEvents([]resizer.Outcome{d.rejectEnvelope(ctx, shapeEventBridge, top, err)}, false)
	}
	var detail map[string]json.RawMessage
	if json.Unmarshal(ev.Detail, &detail) == nil && has(detail, "specversion") {
		return d.answerEvents([]resizer.Outcome{d.handleRaw(ctx, string(shapeEventBridge), ev.Detail)}, false)
	}
	e := fromEnvelope(ev)
	if err := checkEvent(&e); err != nil {
		return d.answerEvents([]resizer.Outcome{d.reject(ctx, string(shapeEventBridge), partialEvent(ev.ID, ev.Source, ""), err)}, false)
	}
	return d.answerEvents([]resizer.Outcome{d.p.Handle(ctx, e)}, false)
}

// fromEnvelope builds the request event from an EventBridge envelope whose
// detail is the request data. Setter errors are collected by the event and
// surface through checkEvent's validation.
func fromEnvelope(ev events.EventBridgeEvent) event.Event {
	e := event.New()
	e.SetID(ev.ID)
	e.SetSource(ev.Source)
	e.SetType(ev.DetailType)
	if !ev.Time.IsZero() {
		e.SetTime(ev.Time)
	}
	e.SetDataContentType(event.ApplicationJSON)
	// detail arrives as JSON already; storing it as is keeps the sender's bytes.
	e.DataEncoded = ev.Detail
	return e
}
