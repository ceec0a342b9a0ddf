package trigger

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jdcloud-vm-resizer/resizer"
)

// invokeSQS runs each record's body as a structured CloudEvent and answers
// a partial batch response naming only the records worth redelivering. A
// body that is no CloudEvent gets a failed outcome and is consumed, since
// redelivering it cannot help.
func (d *Dispatcher) invokeSQS(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return d.answerMalformedSQS(d.rejectEnvelope(ctx, shapeSQS, nil, err))
	}
	for i, r := range ev.Records {
		if r.EventSource != "aws:sqs" {
			return d.answerMalformedSQS(d.rejectEnvelope(ctx, shapeSQS, nil, fmt.Errorf("record %d is not from aws:sqs", i)))
		}
	}
	outs := d.each(len(ev.Records), func(i int) resizer.Outcome {
		return d.handleRaw(ctx, string(shapeSQS), []byte(ev.Records[i].Body))
	})
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i := range outs {
		if outs[i].Retryable() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return json.Marshal(resp)
}

// answerMalformedSQS consumes a batch whose envelope cannot be read (no
// message ids to name), unless even its failed outcome could not be
// published: then the whole batch comes back.
func (d *Dispatcher) answerMalformedSQS(o resizer.Outcome) ([]byte, error) {
	if err := retryError([]resizer.Outcome{o}); err != nil {
		return nil, err
	}
	return json.Marshal(events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}})
}
