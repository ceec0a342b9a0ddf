package trigger_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// benchSecret signs the structured API Gateway sample in events/;
// benchToken is the bearer token of the binary one (binary mode needs it).
const (
	benchSecret = "demo-webhook-secret"
	benchToken  = "demo-webhook-token"
)

// validator is a Processor that does what the Handler does first with each
// event, resizer.ParseRequest, and answers a small prebuilt outcome: the
// benchmarks then time the trigger's decoding and validation, not the
// resize. It counts what it saw so a benchmark cannot pass by rejecting.
type validator struct {
	out              resizer.Outcome
	parsed, rejected atomic.Int64
}

func newValidator(b *testing.B) *validator {
	out, err := resizer.EncodeOutcome(resizer.EventAttributes{ID: "f3b1c2d4-0000-4000-8000-000000000001", Source: resizer.DefaultSource, Time: time.Now()},
		resizer.OutcomeData{DryRun: true})
	if err != nil {
		b.Fatal(err)
	}
	return &validator{out: out}
}

func (v *validator) Handle(_ context.Context, e event.Event) resizer.Outcome {
	if _, err := resizer.ParseRequest(e); err != nil {
		v.rejected.Add(1)
		return v.failed(err)
	}
	v.parsed.Add(1)
	return v.out
}

func (v *validator) Reject(context.Context, *event.Event, error) resizer.Outcome {
	v.rejected.Add(1)
	return v.failed(&resizer.Error{Code: resizer.CodeInvalidRequest, Message: "rejected"})
}

func (v *validator) failed(err *resizer.Error) resizer.Outcome {
	out := v.out
	out.Data.Error = &resizer.ErrorData{Code: err.Code, Message: err.Message}
	return out
}

func sample(b *testing.B, name string) []byte {
	raw, err := os.ReadFile(filepath.Join("..", "events", name))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// firstSQSRecord cuts the SQS sample down to its first record: the
// benchmark is per record, like the others.
func firstSQSRecord(b *testing.B) []byte {
	var ev map[string][]json.RawMessage
	if err := json.Unmarshal(sample(b, "sqs-batch.json"), &ev); err != nil || len(ev["Records"]) == 0 {
		b.Fatalf("sqs sample: %v", err)
	}
	raw, err := json.Marshal(map[string][]json.RawMessage{"Records": ev["Records"][:1]})
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkDecode measures one request through Dispatcher.Invoke per
// trigger shape, as Lambda hands it over: recognising the shape, unwrapping
// the envelope, authenticating (API Gateway), decoding the CloudEvent,
// validating it with resizer.ParseRequest, and encoding the answer around a
// small fixed outcome. "structured" is trigger.DecodeStructured plus
// ParseRequest alone, the part every shape shares.
func BenchmarkDecode(b *testing.B) {
	shapes := []struct {
		name    string
		payload func(*testing.B) []byte
	}{
		{"direct", func(b *testing.B) []byte { return sample(b, "resize-dry-run.json") }},
		{"sqs-record", firstSQSRecord},
		{"eventbridge", func(b *testing.B) []byte { return sample(b, "eventbridge.json") }},
		{"sns", func(b *testing.B) []byte { return sample(b, "sns.json") }},
		{"apigw-binary", func(b *testing.B) []byte { return sample(b, "apigw-binary.json") }},
		{"apigw-structured", func(b *testing.B) []byte { return sample(b, "apigw-structured.json") }},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			payload := s.payload(b)
			v := newValidator(b)
			d := trigger.New(v, trigger.Options{WebhookSecret: benchSecret, WebhookToken: benchToken})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Invoke(ctx, payload); err != nil {
					b.Fatal(err)
				}
			}
			if v.rejected.Load() != 0 || v.parsed.Load() == 0 {
				b.Fatalf("%d requests parsed, %d rejected: the sample must pass validation", v.parsed.Load(), v.rejected.Load())
			}
		})
	}
	b.Run("structured", func(b *testing.B) {
		raw := sample(b, "resize-dry-run.json")
		b.ReportAllocs()
		for b.Loop() {
			e, err := trigger.DecodeStructured(raw)
			if err != nil {
				b.Fatal(err)
			}
			if _, verr := resizer.ParseRequest(e); verr != nil {
				b.Fatal(verr)
			}
		}
	})
}
