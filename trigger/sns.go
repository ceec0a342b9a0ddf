package trigger

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jdcloud-vm-resizer/resizer"
)

// invokeSNS runs each record's Message as a structured CloudEvent. SNS
// invokes asynchronously and retries a whole invocation, so the answer is
// the outcome event (an array for several records) and a Lambda error only
// when some outcome is retryable.
func (d *Dispatcher) invokeSNS(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.SNSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return d.answerEvents([]resizer.Outcome{d.rejectEnvelope(ctx, shapeSNS, nil, err)}, false)
	}
	for i, r := range ev.Records {
		if r.EventSource != "aws:sns" {
			return d.answerEvents([]resizer.Outcome{d.rejectEnvelope(ctx, shapeSNS, nil, fmt.Errorf("record %d is not from aws:sns", i))}, false)
		}
	}
	outs := d.each(len(ev.Records), func(i int) resizer.Outcome {
		return d.handleRaw(ctx, string(shapeSNS), []byte(ev.Records[i].SNS.Message))
	})
	return d.answerEvents(outs, len(outs) > 1)
}
