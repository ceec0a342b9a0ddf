package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jdcloud-vm-resizer/resizer"
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetect(t *testing.T) {
	tests := []struct {
		payload string
		want    shape
	}{
		{ce("x"), shapeDirect},
		{`{"specversion":"1.0"}`, shapeDirect},
		{`{"id":"x"}`, shapeDirect},
		{`{"type":"x","data":{}}`, shapeDirect},
		{`{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`, shapeSQS},
		{`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{}"}}]}`, shapeSNS},
		{`{"Records":[{"eventsource":"aws:sqs"}]}`, shapeUnknown}, // keys are exact, unlike encoding/json's matching
		{`{"Records":[{"eventSource":"aws:s3"}]}`, shapeUnknown},
		{`{"Records":[]}`, shapeUnknown},
		{`{"Records":"x"}`, shapeUnknown},
		{`{"id":"1","source":"s","detail-type":"t","detail":{}}`, shapeEventBridge},
		{`{"id":"1","source":"s","detail":{}}`, shapeDirect}, // no detail-type: not EventBridge
		{`{"version":"2.0","requestContext":{"http":{"method":"POST"}}}`, shapeHTTP},
		{`{"version":"2.0","requestContext":{}}`, shapeUnknown},
		{`{"version":"1.0","requestContext":{"http":{}}}`, shapeUnknown},
		{`{"version":2.0,"requestContext":{"http":{}}}`, shapeUnknown},
		{`{}`, shapeUnknown},
		{`[]`, shapeUnknown},
		{`null`, shapeUnknown},
		{`"x"`, shapeUnknown},
		{`not json`, shapeUnknown},
		{``, shapeUnknown},
	}
	for _, tt := range tests {
		if got, _ := detect([]byte(tt.payload)); got != tt.want {
			t.Errorf("detect(%s) = %s, want %s", tt.payload, got, tt.want)
		}
	}
}

func TestDirectInvoke(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		outcome  string
		code     resizer.Code
		lambdaEr string // expected Lambda error message, "" for none
		rejected bool
	}{
		{name: "succeeded", payload: ce("ok-1"), outcome: "out-ok-1"},
		{name: "permanent failure is no Lambda error", payload: ce("perm-1"), outcome: "out-perm-1", code: resizer.CodePreconditionFailed},
		{name: "retryable: outcome and Lambda error", payload: ce("retry-1"), outcome: "out-retry-1", code: resizer.CodeUnavailable,
			lambdaEr: "unavailable: JD Cloud answered 503"},
		{name: "publish failure: Lambda error", payload: ce("pubfail-1"), outcome: "out-pubfail-1",
			lambdaEr: "unavailable: the outcome event did not reach every sink"},
		{name: "not a valid CloudEvent", payload: `{"id":"r-1","source":"s","type":"t"}`, outcome: "out-r-1", code: resizer.CodeInvalidRequest, rejected: true},
		{name: "duplicate id", payload: `{"specversion":"1.0","id":"a","id":"b","source":"s","type":"t"}`, outcome: "out-", code: resizer.CodeInvalidRequest, rejected: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			out, err := New(f, Options{}).Invoke(context.Background(), []byte(tt.payload))
			if tt.lambdaEr == "" && err != nil {
				t.Fatalf("Lambda error %v", err)
			}
			if tt.lambdaEr != "" {
				var re *RetryError
				if !errors.As(err, &re) || err.Error() != tt.lambdaEr {
					t.Fatalf("Lambda error = %v, want %q", err, tt.lambdaEr)
				}
			}
			o := decodeOutcome(t, out)
			if o.ID != tt.outcome || errCode(o) != tt.code {
				t.Errorf("outcome = %s (%s), want %s (%s)", o.ID, errCode(o), tt.outcome, tt.code)
			}
			if got := len(f.rejections()) > 0; got != tt.rejected {
				t.Errorf("rejected = %v", got)
			}
		})
	}
}

func TestUnknownShape(t *testing.T) {
	for _, p := range []string{`not json`, ``, `[]`, `"x"`, `42`, `null`, `{}`, `{"foo":1}`,
		`{"Records":[]}`, `{"Records":[{"eventSource":"aws:s3"}]}`, `{"version":"2.0"}`} {
		f := newFake()
		out, err := New(f, Options{}).Invoke(context.Background(), []byte(p))
		if err != nil {
			t.Errorf("%q: Lambda error %v; an unusable payload is not retryable", p, err)
		}
		if o := decodeOutcome(t, out); errCode(o) != resizer.CodeInvalidRequest {
			t.Errorf("%q: outcome %+v", p, o)
		}
		rj := f.rejections()
		if len(rj) != 1 {
			t.Fatalf("%q: %d rejections", p, len(rj))
		}
		msg := messageOf(rj[0].err)
		for _, shape := range []string{"CloudEvent", "API Gateway", "Function URL", "SQS", "SNS", "EventBridge"} {
			if !strings.Contains(msg, shape) {
				t.Errorf("%q: message %q does not name %s", p, msg, shape)
			}
		}
	}
}

func sqsEvent(bodies map[string]string, order []string) events.SQSEvent {
	var ev events.SQSEvent
	for _, id := range order {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: id, EventSource: "aws:sqs", Body: bodies[id]})
	}
	return ev
}

func TestSQS(t *testing.T) {
	order := []string{"m1", "m2", "m3", "m4", "m5", "m6"}
	bodies := map[string]string{
		"m1": ce("ok-1"),
		"m2": ce("perm-1"),
		"m3": ce("retry-1"),
		"m4": "this is not a CloudEvent",
		"m5": ce("pubfail-1"),
		"m6": `{"specversion":"1.0","id":"r-6","source":"s"}`,
	}
	f := newFake()
	out, err := New(f, Options{}).Invoke(context.Background(), mustJSON(t, sqsEvent(bodies, order)))
	if err != nil {
		t.Fatalf("Lambda error %v: SQS answers per record", err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range resp.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	if strings.Join(got, ",") != "m3,m5" {
		t.Errorf("batchItemFailures = %v, want [m3 m5]", got)
	}
	if rj := f.rejections(); len(rj) != 2 {
		t.Errorf("%d rejections, want 2 (m4, m6)", len(rj))
	}
	if n := len(f.handledEvents()); n != 4 {
		t.Errorf("handled %d, want 4", n)
	}
}

func TestSQSAllSucceededAnswersEmptyList(t *testing.T) {
	out, err := New(newFake(), Options{}).Invoke(context.Background(), mustJSON(t, sqsEvent(map[string]string{"m1": ce("ok-1")}, []string{"m1"})))
	if err != nil || string(out) != `{"batchItemFailures":[]}` {
		t.Fatalf("answer %s, %v", out, err)
	}
}

func TestSQSMalformedEnvelope(t *testing.T) {
	for _, p := range []string{
		`{"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":42}]}`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":"{}"},{"eventSource":"aws:sns"}]}`,
	} {
		f := newFake()
		out, err := New(f, Options{}).Invoke(context.Background(), []byte(p))
		if err != nil || string(out) != `{"batchItemFailures":[]}` {
			t.Errorf("%s: answer %s, %v; want the batch consumed", p, out, err)
		}
		if len(f.rejections()) != 1 || len(f.handledEvents()) != 0 {
			t.Errorf("%s: %d rejections, %d handled", p, len(f.rejections()), len(f.handledEvents()))
		}
		// If even the failed outcome cannot be published, the batch comes back.
		f = newFake()
		f.rejectPublishFails = true
		if _, err := New(f, Options{}).Invoke(context.Background(), []byte(p)); err == nil {
			t.Errorf("%s: unpublished rejection answered without a Lambda error", p)
		}
	}
}

func snsEvent(messages ...string) events.SNSEvent {
	var ev events.SNSEvent
	for _, m := range messages {
		ev.Records = append(ev.Records, events.SNSEventRecord{EventSource: "aws:sns", SNS: events.SNSEntity{Message: m}})
	}
	return ev
}

func TestSNS(t *testing.T) {
	t.Run("one record answers one event", func(t *testing.T) {
		out, err := New(newFake(), Options{}).Invoke(context.Background(), mustJSON(t, snsEvent(ce("ok-1"))))
		if err != nil {
			t.Fatal(err)
		}
		if o := decodeOutcome(t, out); o.ID != "out-ok-1" {
			t.Errorf("outcome %s", o.ID)
		}
	})
	t.Run("several records answer an array in order", func(t *testing.T) {
		out, err := New(newFake(), Options{}).Invoke(context.Background(), mustJSON(t, snsEvent(ce("ok-1"), "garbage", ce("perm-1"))))
		if err != nil {
			t.Fatal(err)
		}
		outs := decodeOutcomes(t, out)
		if len(outs) != 3 || outs[0].ID != "out-ok-1" || errCode(outs[1]) != resizer.CodeInvalidRequest || outs[2].ID != "out-perm-1" {
			t.Errorf("outcomes %+v", outs)
		}
	})
	t.Run("retryable is a Lambda error", func(t *testing.T) {
		out, err := New(newFake(), Options{}).Invoke(context.Background(), mustJSON(t, snsEvent(ce("ok-1"), ce("retry-1"))))
		var re *RetryError
		if !errors.As(err, &re) || re.Code != resizer.CodeUnavailable {
			t.Fatalf("err = %v", err)
		}
		if len(decodeOutcomes(t, out)) != 2 {
			t.Errorf("answer %s", out)
		}
	})
	t.Run("malformed envelope", func(t *testing.T) {
		f := newFake()
		out, err := New(f, Options{}).Invoke(context.Background(), []byte(`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":{"a":1}}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if o := decodeOutcome(t, out); errCode(o) != resizer.CodeInvalidRequest || len(f.rejections()) != 1 {
			t.Errorf("outcome %+v", o)
		}
	})
}

func TestEventBridge(t *testing.T) {
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	envelope := func(id, detail string) []byte {
		return []byte(`{"version":"0","id":"` + id + `","detail-type":"com.jdcloud.vm.resize.requested","source":"com.example.alerts",` +
			`"account":"123456789012","time":"` + when.Format(time.RFC3339) + `","region":"eu-west-1","resources":[],"detail":` + detail + `}`)
	}

	t.Run("detail is the request data", func(t *testing.T) {
		f := newFake()
		out, err := New(f, Options{}).Invoke(context.Background(), envelope("ok-eb", requestData))
		if err != nil {
			t.Fatal(err)
		}
		if o := decodeOutcome(t, out); o.ID != "out-ok-eb" {
			t.Errorf("outcome %s", o.ID)
		}
		evs := f.handledEvents()
		if len(evs) != 1 {
			t.Fatalf("handled %d", len(evs))
		}
		e := evs[0]
		if e.SpecVersion() != "1.0" || e.ID() != "ok-eb" || e.Source() != "com.example.alerts" || e.Type() != resizer.TypeRequested ||
			!e.Time().Equal(when) || e.DataContentType() != "application/json" || string(e.Data()) != requestData {
			t.Errorf("event %s", e.String())
		}
	})
	t.Run("detail is a whole CloudEvent", func(t *testing.T) {
		f := newFake()
		out, err := New(f, Options{}).Invoke(context.Background(), envelope("envelope-id", ce("ok-inner")))
		if err != nil {
			t.Fatal(err)
		}
		if o := decodeOutcome(t, out); o.ID != "out-ok-inner" {
			t.Errorf("outcome %s", o.ID)
		}
		if evs := f.handledEvents(); len(evs) != 1 || evs[0].Source() != "test/alerts" {
			t.Errorf("handled %v", evs)
		}
	})
	t.Run("detail CloudEvent that is invalid", func(t *testing.T) {
		f := newFake()
		out, err := New(f, Options{}).Invoke(context.Background(), envelope("envelope-id", `{"specversion":"0.3","id":"inner"}`))
		if err != nil {
			t.Fatal(err)
		}
		if o := decodeOutcome(t, out); o.ID != "out-inner" || errCode(o) != resizer.CodeInvalidRequest {
			t.Errorf("outcome %+v", o)
		}
	})
	t.Run("retryable is a Lambda error", func(t *testing.T) {
		out, err := New(newFake(), Options{}).Invoke(context.Background(), envelope("retry-eb", requestData))
		if err == nil || err.Error() != "unavailable: JD Cloud answered 503" {
			t.Fatalf("err = %v", err)
		}
		if o := decodeOutcome(t, out); o.ID != "out-retry-eb" {
			t.Errorf("outcome %s", o.ID)
		}
	})
	t.Run("empty envelope id", func(t *testing.T) {
		f := newFake()
		out, err := New(f, Options{}).Invoke(context.Background(), envelope("", requestData))
		if err != nil {
			t.Fatal(err)
		}
		if o := decodeOutcome(t, out); errCode(o) != resizer.CodeInvalidRequest || len(f.rejections()) != 1 {
			t.Errorf("outcome %+v", o)
		}
		if rj := f.rejections(); rj[0].partial == nil || rj[0].partial.Source() != "com.example.alerts" {
			t.Errorf("partial %v", rj[0].partial)
		}
	})
	t.Run("malformed envelope", func(t *testing.T) {
		f := newFake()
		p := `{"id":"eb-1","source":"com.example.alerts","detail-type":"x","time":"yesterday","detail":{}}`
		out, err := New(f, Options{}).Invoke(context.Background(), []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		if o := decodeOutcome(t, out); o.ID != "out-eb-1" || errCode(o) != resizer.CodeInvalidRequest {
			t.Errorf("outcome %+v", o)
		}
	})
}
