package acceptance_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// mark is in the strings an attacker controls below wherever it fits, so a log line
// whose message (rather than a field) carries input is easy to spot.
const mark = "ZQXMARK"

// injected are substrings that only hostile input brings: none may reach a
// log line's "msg", whose text is ours.
var injected = []string{mark, "X-Evil", "passwd", "\r", "\n", "%0d", "%2f", `\`, "\u202e", "\u200d", "ｉ", "і", "\u0301", "\ufffd", "\x00"}

const (
	hostileSecret = "hostile-test-webhook-secret"
	// hostileToken authenticates binary mode, which a signature cannot.
	hostileToken = "hostile-test-webhook-token"
)

// sign is the X-Hub-Signature-256 value of body.
func sign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// sqsOf wraps bodies as SQS records, as the SQS event source does.
func sqsOf(bodies ...string) []byte {
	ev := events.SQSEvent{}
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: "msg-" + string(rune('a'+i)), Body: b, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:resize",
		})
	}
	b, _ := json.Marshal(ev)
	return b
}

// sqsRaw is an SQS event with one record given as raw JSON members.
func sqsRaw(members string) []byte {
	return []byte(`{"Records":[{"messageId":"msg-a","eventSource":"aws:sqs",` + members + `}]}`)
}

// snsRaw is an SNS event whose Message member is raw JSON.
func snsRaw(message string) []byte {
	return []byte(`{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0","Sns":{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:123456789012:resize","Message":` + message + `}}]}`)
}

func snsOf(message string) []byte {
	b, _ := json.Marshal(message)
	return snsRaw(string(b))
}

// ebRaw is an EventBridge event: envelope members overridden by over (raw
// JSON values), detail raw.
func ebRaw(over map[string]string, detail string) []byte {
	m := map[string]string{
		`"version"`: `"0"`, `"id"`: `"eb-` + mark + `"`, `"detail-type"`: `"` + resizer.TypeRequested + `"`,
		`"source"`: `"ticketing/approvals"`, `"account"`: `"123456789012"`, `"time"`: `"2026-11-28T01:25:00Z"`,
		`"region"`: `"us-east-1"`, `"detail"`: detail,
	}
	for k, v := range over {
		m[`"`+k+`"`] = v
	}
	var b strings.Builder
	b.WriteString("{")
	first := true
	for _, k := range []string{`"version"`, `"id"`, `"detail-type"`, `"source"`, `"account"`, `"time"`, `"region"`, `"detail"`} {
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(k + ":" + m[k])
	}
	b.WriteString("}")
	return []byte(b.String())
}

// apigw is an API Gateway HTTP API (payload 2.0) request; the body is
// signed with hostileSecret unless headers already carry a signature.
func apigw(headers map[string]string, body string, b64 bool) []byte {
	if _, binary := headers["ce-specversion"]; binary {
		return apigwRequest(map[string]string{"authorization": "Bearer " + hostileToken}, headers, body, b64)
	}
	return apigwRequest(map[string]string{"x-hub-signature-256": sign(hostileSecret, body)}, headers, body, b64)
}

// apigwRequest builds the payload 2.0 request from auth headers, the
// other headers (which win) and the body.
func apigwRequest(auth, headers map[string]string, body string, b64 bool) []byte {
	h := map[string]string{}
	for k, v := range auth {
		h[k] = v
	}
	for k, v := range headers {
		h[k] = v
	}
	wire := body
	if b64 {
		wire = base64.StdEncoding.EncodeToString([]byte(body))
	}
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: "/", Headers: h, Body: wire, IsBase64Encoded: b64}
	req.RequestContext.HTTP.Method = http.MethodPost
	req.RequestContext.HTTP.Path = "/"
	req.RequestContext.HTTP.SourceIP = "203.0.113.10"
	b, _ := json.Marshal(req)
	return b
}

// binaryHeaders are a binary-mode request's headers (lower case, as API
// Gateway sends them), overridden by kv pairs.
func binaryHeaders(kv ...string) map[string]string {
	h := map[string]string{
		"content-type": "application/json", "ce-specversion": "1.0", "ce-id": "bin-" + mark,
		"ce-source": "ticketing/approvals", "ce-type": resizer.TypeRequested,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// post is a server-mode request; header values are set raw (no
// validation), as a hostile client can send them. Unless unsigned, the
// body is signed.
func post(body string, unsigned bool, header ...string) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			r.Header[http.CanonicalHeaderKey(header[i])] = append(r.Header[http.CanonicalHeaderKey(header[i])], header[i+1])
		}
		if !unsigned {
			r.Header.Set(trigger.HeaderSignature256, sign(hostileSecret, body))
		}
		return r
	}
}

func binaryPost(body string, kv ...string) func() *http.Request {
	h := []string{"Content-Type", "application/json", "Ce-Specversion", "1.0", "Ce-Id", "bin-" + mark,
		"Ce-Source", "ticketing/approvals", "Ce-Type", resizer.TypeRequested}
	override := map[string]bool{}
	for i := 0; i+1 < len(kv); i += 2 {
		override[http.CanonicalHeaderKey(kv[i])] = true
	}
	var out []string
	for i := 0; i+1 < len(h); i += 2 {
		if !override[h[i]] {
			out = append(out, h[i], h[i+1])
		}
	}
	out = append(out, "Authorization", "Bearer "+hostileToken)
	return post(body, true, append(out, kv...)...)
}

// hostileCase is one bad delivery. Exactly one of lambda and http is set.
type hostileCase struct {
	name   string
	lambda []byte
	http   func() *http.Request
	// status is the HTTP status expected (ServeHTTP and API Gateway);
	// zero for the other Lambda shapes, which must produce a failed
	// invalid_request outcome.
	status int
	// mention must appear in the error the sender sees (outcome
	// error.message or the HTTP error body); "" when there is no such text
	// worth naming.
	mention string
	sqs     bool // the answer is an SQS partial batch response
}

func hostileCases() []hostileCase {
	huge := strings.Repeat("z", 1<<20)
	big := strings.Repeat("b", 300<<10)
	dryGood := strings.TrimSuffix(good, "}") + `,"dryRun":true}`
	goodCE := structured(map[string]any{"id": "ok-" + mark}, good)
	var cases []hostileCase
	direct := func(name, payload, mention string) {
		cases = append(cases, hostileCase{name: "direct/" + name, lambda: []byte(payload), mention: mention})
	}
	sqs := func(name string, payload []byte, mention string) {
		cases = append(cases, hostileCase{name: "sqs/" + name, lambda: payload, mention: mention, sqs: true})
	}
	eb := func(name string, payload []byte, mention string) {
		cases = append(cases, hostileCase{name: "eventbridge/" + name, lambda: payload, mention: mention})
	}
	sns := func(name string, payload []byte, mention string) {
		cases = append(cases, hostileCase{name: "sns/" + name, lambda: payload, mention: mention})
	}
	gw := func(name string, payload []byte, status int, mention string) {
		cases = append(cases, hostileCase{name: "apigw/" + name, lambda: payload, status: status, mention: mention})
	}
	srv := func(name string, r func() *http.Request, status int, mention string) {
		cases = append(cases, hostileCase{name: "server/" + name, http: r, status: status, mention: mention})
	}

	// A caller's header name appears quoted and clipped, never whole.
	srv("120 KB ce- header name", binaryPost(good, "Ce-"+strings.Repeat("x", 120<<10), "1"), 400, "does not name a CloudEvents attribute")
	srv("120 KB ce- header name with a dash", binaryPost(good, "Ce-"+strings.Repeat("x-", 60<<10), "1"), 400, "does not name a CloudEvents attribute")

	// Two shapes in one payload: whoever routed it may have read the other.
	direct("CloudEvent that also carries SQS Records", strings.TrimSuffix(goodCE, "}")+`,"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":`+jsonString(goodCE)+`}]}`, "more than one trigger shape")
	direct("CloudEvent that also carries detail-type", strings.TrimSuffix(goodCE, "}")+`,"detail-type":"x","detail":{}}`, "more than one trigger shape")

	// Truncated and mistyped JSON.
	direct("truncated JSON", goodCE[:len(goodCE)-25], "unrecognised payload")
	direct("truncated inside data", strings.TrimSuffix(goodCE, "}}"), "unrecognised payload")
	direct("id is a number", `{"specversion":"1.0","id":7,"source":"s/`+mark+`","type":"`+resizer.TypeRequested+`","data":`+good+`}`, `"id"`)
	direct("type is an array", `{"specversion":"1.0","id":"`+mark+`","source":"s","type":["`+resizer.TypeRequested+`"],"data":`+good+`}`, `"type"`)
	direct("data is a number", structured(map[string]any{"id": mark}, `42`), "data")
	direct("instanceId is an object", structured(nil, withField("instanceId", `{"id":"i-stopped01"}`)), "instanceId")
	direct("dryRun is a string", structured(nil, strings.TrimSuffix(good, "}")+`,"dryRun":"`+mark+`"}`), "dryRun")
	// Sizes: a megabyte id is refused by size, and never echoed whole.
	direct("1 MiB id", structured(map[string]any{"id": mark + huge}, good), "at most")
	// Duplicate keys, in the envelope and in data, exact and by case.
	direct("duplicate envelope source", strings.TrimSuffix(structured(nil, good), "}")+`,"source":"evil/`+mark+`"}`, `duplicate key "source"`)
	direct("duplicate envelope key via escape", strings.TrimSuffix(structured(nil, good), "}")+`,"\u0069d":"`+mark+`"}`, `duplicate key "id"`)
	direct("duplicate data instanceId", structured(nil, strings.TrimSuffix(good, "}")+`,"instanceId":"i-running01"}`), "more than once")
	direct("data key differing only in case", structured(nil, strings.TrimSuffix(dryGood, "}")+`,"InstanceId":"i-running01"}`), "more than once")
	direct("data key folding to stopIfRunning (long s)", structured(nil, strings.TrimSuffix(dryGood, "}")+`,"stopIfRunning":false,"ſtopIfRunning":true}`), "more than once")
	// NUL and control characters.
	direct("NUL in id", structured(map[string]any{"id": "a\x00" + mark}, good), `"id"`)
	direct("NUL in instanceId", structured(nil, withField("instanceId", `"i-stopped01\u0000`+mark+`"`)), "instanceId")
	direct("CRLF in id", structured(map[string]any{"id": mark + "\r\nX-Evil: 1"}, good), `"id"`)
	direct("C1 control NEL in source", structured(map[string]any{"source": "alert/\u0085" + mark}, good), `"source"`)
	// Unicode tricks in ids.
	direct("RTL override in event id", structured(map[string]any{"id": "req-\u202e" + mark}, good), "id")
	direct("RTL override in instanceId", structured(nil, withField("instanceId", `"i-\u202eabcdef`+mark+`"`)), "instanceId")
	direct("zero-width joiner in instanceId", structured(nil, withField("instanceId", `"i-abc\u200ddef"`)), "instanceId")
	direct("fullwidth i in instanceId", structured(nil, withField("instanceId", `"ｉ-abcdef"`)), "instanceId")
	direct("Cyrillic і homoglyph in instanceId", structured(nil, withField("instanceId", `"і-abcdef"`)), "instanceId")
	direct("combining mark in instanceId", structured(nil, withField("instanceId", `"i-abcdef\u0301"`)), "instanceId")
	direct("fullwidth digits in regionId", structured(nil, withField("regionId", `"cn-north-１"`)), "regionId")
	direct("invalid UTF-8 in instanceId", structured(nil, withField("instanceId", "\"i-abc\xff\xfedef\"")), "UTF-8")
	direct("invalid UTF-8 in event id", strings.Replace(structured(nil, good), `"bad-1"`, "\"bad-\xff"+mark+"\"", 1), `id`)
	// Path traversal, raw and encoded, in every value that reaches a URL.
	direct("traversal in instanceId", structured(nil, withField("instanceId", `"../../etc/passwd"`)), "instanceId")
	direct("encoded traversal in instanceId", structured(nil, withField("instanceId", `"i-abcdef..%2f..%2f`+mark+`"`)), "instanceId")
	direct("backslash traversal in instanceId", structured(nil, withField("instanceId", `"i-abcdef\\..\\..\\`+mark+`"`)), "instanceId")
	direct("traversal in regionId", structured(nil, withField("regionId", `"cn-north-1/../../`+mark+`"`)), "regionId")
	direct("encoded traversal in regionId", structured(nil, withField("regionId", `"..%2fcn-north-1"`)), "regionId")
	direct("backslash in regionId", structured(nil, withField("regionId", `"cn-north-1\\..\\x"`)), "regionId")
	direct("traversal in instanceType", structured(nil, withField("instanceType", `"g.n2.large/../../`+mark+`"`)), "instanceType")
	direct("encoded traversal in instanceType", structured(nil, withField("instanceType", `"g.n2..%2f..%2fx"`)), "instanceType")
	direct("backslash in instanceType", structured(nil, withField("instanceType", `"g.n2\\large"`)), "instanceType")

	// SQS: whatever the body, the record is consumed with a failed outcome.
	sqs("body is not a CloudEvent", sqsOf("resize i-stopped01 please "+mark), "CloudEvent")
	sqs("body is a JSON array", sqsOf(`[`+goodCE+`]`), "not an object")
	sqs("body is a number", sqsRaw(`"body":42`), "body")
	sqs("body is bare request data", sqsOf(good), "specversion")
	sqs("body with traversal instanceId", sqsOf(structured(map[string]any{"id": mark}, withField("instanceId", `"../`+mark+`"`))), "instanceId")
	sqs("body with 1 MiB id", sqsOf(structured(map[string]any{"id": mark + huge}, good)), "at most")
	sqs("record with body twice", sqsRaw(`"body":`+jsonString(structured(map[string]any{"id": mark}, withField("instanceId", `"../x"`)))+`,"body":`+jsonString(goodCE)), "more than once")
	sqs("two bad records", sqsOf("not json "+mark, structured(nil, withField("regionId", `"../`+mark+`"`))), "")

	// EventBridge: detail of every wrong type, envelope tricks.
	eb("detail is a string", ebRaw(nil, jsonString(good)), "data")
	eb("detail is an array", ebRaw(nil, `[`+good+`]`), "data")
	eb("detail is a number", ebRaw(nil, `7`), "data")
	eb("detail is null", ebRaw(nil, `null`), "data")
	eb("detail-type is a number", ebRaw(map[string]string{"detail-type": `5`}, good), "detail-type")
	eb("envelope id twice", bytes.Replace(ebRaw(nil, good), []byte(`"version":"0",`), []byte(`"version":"0","id":"first-`+mark+`",`), 1), "more than once")
	eb("detail with duplicate instanceId", ebRaw(nil, strings.TrimSuffix(good, "}")+`,"instanceId":"i-running01"}`), "more than once")
	eb("detail with Cyrillic instanceId", ebRaw(nil, withField("instanceId", `"і-abcdef`+mark+`"`)), "instanceId")
	eb("detail CloudEvent with encoded traversal", ebRaw(nil, structured(nil, withField("instanceId", `"..%2f..%2f`+mark+`"`))), "instanceId")
	eb("envelope id of 1 MiB", ebRaw(map[string]string{"id": jsonString(mark + huge)}, good), "id")
	eb("envelope id with CRLF", ebRaw(map[string]string{"id": jsonString(mark + "\r\nX-Evil: 1")}, good), "id")

	// SNS: Message must be a string holding a CloudEvent.
	sns("Message is an object", snsRaw(goodCE), "Message")
	sns("Message is a number", snsRaw(`12`), "Message")
	sns("Message is not a CloudEvent", snsOf("please resize "+mark), "CloudEvent")
	sns("Message with CRLF in id", snsOf(structured(map[string]any{"id": mark + "\r\nX-Evil: 1"}, good)), `"id"`)
	sns("Message with RTL override in id", snsOf(structured(map[string]any{"id": "alert-\u202e" + mark}, good)), "id")

	// API Gateway HTTP API through Invoke: statuses, header tricks.
	gw("300 KiB body", apigw(map[string]string{"content-type": "application/cloudevents+json"}, big, false), 413, "exceeds")
	gw("300 KiB base64 body", apigw(map[string]string{"content-type": "application/cloudevents+json"}, big, true), 413, "exceeds")
	gw("truncated structured body", apigw(map[string]string{"content-type": "application/cloudevents+json"}, goodCE[:60], false), 400, "CloudEvent")
	gw("CR LF in ce-id", apigw(binaryHeaders("ce-id", mark+"\r\nX-Evil: 1"), good, false), 400, "id")
	gw("percent-encoded CR LF in ce-id", apigw(binaryHeaders("ce-id", mark+"%0d%0aX-Evil:%201"), good, false), 400, "id")
	gw("ce-subject a,b with a list for instanceId", apigw(binaryHeaders("ce-subject", "i-stopped01,i-running01"), withField("instanceId", `"i-stopped01,i-running01"`), false), 400, "instanceId")
	gw("joined ce-type", apigw(binaryHeaders("ce-type", resizer.TypeRequested+","+resizer.TypeRequested), good, false), 400, "type")
	gw("1 MiB ce-id", apigw(binaryHeaders("ce-id", mark+huge), good, false), 400, "id")
	gw("percent-encoded RTL override in ce-id", apigw(binaryHeaders("ce-id", "alert-%E2%80%AE"+mark), good, false), 400, "id")
	gw("encoded traversal in regionId", apigw(binaryHeaders(), withField("regionId", `"..%2f..%2f`+mark+`"`), false), 400, "regionId")
	gw("batch of bad events", apigw(map[string]string{"content-type": "application/cloudevents-batch+json"},
		`[`+structured(map[string]any{"id": mark + "-1"}, withField("instanceId", `"../x"`))+`,`+structured(map[string]any{"id": mark + "-2"}, withField("instanceType", `"a\\b"`))+`]`, false), 400, "")
	gw("body is not base64", []byte(strings.Replace(string(apigw(binaryHeaders(), good, false)), `"isBase64Encoded":false`, `"isBase64Encoded":true`, 1)), 400, "base64")
	gw("body is a number", []byte(strings.Replace(string(apigw(binaryHeaders(), good, false)), `"body":`+jsonString(good), `"body":42`, 1)), 400, "malformed")
	gw("header named twice", []byte(strings.Replace(string(apigw(binaryHeaders(), good, false)), `"headers":{`, `"headers":{"ce-id":"`+mark+`",`, 1)), 400, "more than once")
	gw("wrong signature", apigwRequest(map[string]string{"x-hub-signature-256": sign("not-the-secret", goodCE)}, map[string]string{"content-type": "application/cloudevents+json"}, goodCE, false), 401, "unauthenticated")
	// A signature covers the body, not the ce-* headers: replayed with a
	// new ce-id, a signed binary request would pass as a new request.
	gw("binary mode signed, replayed with a new ce-id", apigwRequest(map[string]string{"x-hub-signature-256": sign(hostileSecret, good)}, binaryHeaders("ce-id", "replay-"+mark), good, false), 401, "unauthenticated")
	srv("binary mode signed, replayed with a new ce-id", post(good, false, "Content-Type", "application/json", "Ce-Specversion", "1.0", "Ce-Id", "replay-"+mark,
		"Ce-Source", "ticketing/approvals", "Ce-Type", resizer.TypeRequested), 401, "unauthenticated")
	gw("text/plain", apigw(map[string]string{"content-type": "text/plain"}, goodCE, false), 415, "expected a CloudEvent")

	// Server mode (ServeHTTP): the same, with headers a client sets raw.
	srv("300 KiB body", post(big, false, "Content-Type", "application/cloudevents+json"), 413, "exceeds")
	srv("300 KiB unsigned body", post(big, true, "Content-Type", "application/cloudevents+json"), 413, "exceeds")
	srv("CR LF in ce-id", binaryPost(good, "Ce-Id", mark+"\r\nX-Evil: 1"), 400, "id")
	srv("percent-encoded CR LF in ce-id", binaryPost(good, "Ce-Id", mark+"%0d%0aX-Evil:%201"), 400, "id")
	srv("NUL in ce-source", binaryPost(good, "Ce-Source", "a\x00"+mark), 400, "source")
	srv("invalid UTF-8 in ce-source", binaryPost(good, "Ce-Source", "a\xff"+mark), 400, "UTF-8")
	srv("C1 control in ce-id", binaryPost(good, "Ce-Id", mark+"%C2%85x"), 400, "id")
	srv("1 MiB ce-source with a NUL", binaryPost(good, "Ce-Source", "a%00"+mark+huge), 400, "source")
	srv("1 MiB ce-time", binaryPost(good, "Ce-Time", mark+huge), 400, "time")
	srv("ce-specversion twice", binaryPost(good, "Ce-Specversion", "1.0", "Ce-Specversion", "1.0"), 400, "specversion")
	srv("ce-subject a,b with a list for instanceId", binaryPost(withField("instanceId", `"i-stopped01,i-running01"`), "Ce-Subject", "a,b"), 400, "instanceId")
	srv("encoded traversal in instanceId", binaryPost(withField("instanceId", `"i-abcdef..%2F..%2F`+mark+`"`)), 400, "instanceId")
	srv("backslash in instanceType", post(structured(nil, withField("instanceType", `"g.n2\\..\\`+mark+`"`)), false, "Content-Type", "application/cloudevents+json"), 400, "instanceType")
	srv("fullwidth instanceId", post(structured(nil, withField("instanceId", `"ｉ-abcdef"`)), false, "Content-Type", "application/cloudevents+json"), 400, "instanceId")
	srv("duplicate data key", post(structured(nil, strings.TrimSuffix(good, "}")+`,"regionId":"cn-south-1"}`), false, "Content-Type", "application/cloudevents+json"), 400, "more than once")
	srv("unsigned", post(goodCE, true, "Content-Type", "application/cloudevents+json"), 401, "unauthenticated")
	srv("signature for another body", post(goodCE, true, "Content-Type", "application/cloudevents+json", trigger.HeaderSignature256, sign(hostileSecret, good)), 401, "unauthenticated")
	srv("no content type", post(goodCE, false), 415, "expected a CloudEvent")
	return cases
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestHostileInputs runs every bad delivery through the Dispatcher with a
// real Handler against the simulator: each ends in a clear refusal, none
// reaches JD Cloud, and no log message carries the sender's text.
func TestHostileInputs(t *testing.T) {
	cases := hostileCases()
	if len(cases) < 40 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			logs := &syncBuffer{}
			log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logs), zapcore.DebugLevel))
			r.Rebuild(func(o *resizer.Options) { o.Log = log })
			d := trigger.New(r.Handler, trigger.Options{WebhookSecret: hostileSecret, WebhookToken: hostileToken, Log: log})

			var status int
			var answer []byte
			if c.http != nil {
				w := httptest.NewRecorder()
				d.ServeHTTP(w, c.http())
				status, answer = w.Code, w.Body.Bytes()
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				out, err := d.Invoke(ctx, c.lambda)
				if err != nil {
					t.Fatalf("a refused delivery is not retryable, but Invoke returned %v", err)
				}
				answer = out
				if c.status != 0 {
					var resp events.APIGatewayV2HTTPResponse
					if err := json.Unmarshal(out, &resp); err != nil {
						t.Fatalf("answer is not an API Gateway response: %v: %.300s", err, out)
					}
					status, answer = resp.StatusCode, []byte(resp.Body)
					if resp.IsBase64Encoded {
						answer, _ = base64.StdEncoding.DecodeString(resp.Body)
					}
				}
			}

			if n := r.JDCalls(); n != 0 {
				t.Fatalf("JD Cloud was called %d times", n)
			}
			if len(answer) > 16<<10 {
				t.Fatalf("the answer has %d bytes: it echoes too much of the input", len(answer))
			}
			published := r.Pub.All()
			for _, e := range published {
				checkInvalidOutcome(t, e.Type(), e.Data())
			}
			if c.status != 0 {
				checkHTTPAnswer(t, c, status, answer, len(published))
			} else {
				checkLambdaAnswer(t, c, answer, published)
			}
			checkLogs(t, logs.String(), len(published) > 0)
		})
	}
}

// checkInvalidOutcome: every published outcome is failed/invalid_request,
// not retryable.
func checkInvalidOutcome(t *testing.T, typ string, data []byte) resizer.OutcomeData {
	t.Helper()
	var d resizer.OutcomeData
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("outcome data does not parse: %v", err)
	}
	if typ != resizer.TypeFailed || d.Error == nil || d.Error.Code != resizer.CodeInvalidRequest || d.Error.Retryable {
		t.Fatalf("want a failed, non-retryable invalid_request outcome, got %s %.500s", typ, data)
	}
	return d
}

func checkHTTPAnswer(t *testing.T, c hostileCase, status int, body []byte, published int) {
	t.Helper()
	if status != c.status {
		t.Fatalf("status %d, want %d: %.500s", status, c.status, body)
	}
	msg := httpMessage(t, body)
	t.Logf("%d %s", status, msg)
	if c.mention != "" && !strings.Contains(msg, c.mention) {
		t.Fatalf("answer %q does not name %q", msg, c.mention)
	}
	// Only a request that was authenticated and read can have an outcome.
	if (status == http.StatusUnauthorized || status == http.StatusRequestEntityTooLarge || status == http.StatusUnsupportedMediaType) && published != 0 {
		t.Fatalf("status %d published %d outcomes", status, published)
	}
}

// httpMessage is the error text of an HTTP answer: the outcome's
// error.message (all of them, for a batch) or the {"error": …} member.
func httpMessage(t *testing.T, body []byte) string {
	t.Helper()
	var one struct {
		Error string              `json:"error"`
		Data  resizer.OutcomeData `json:"data"`
	}
	if json.Unmarshal(body, &one) == nil {
		if one.Data.Error != nil {
			return one.Data.Error.Message
		}
		return one.Error
	}
	var batch []struct {
		Type string              `json:"type"`
		Data resizer.OutcomeData `json:"data"`
	}
	if err := json.Unmarshal(body, &batch); err != nil {
		t.Fatalf("answer is neither an outcome, a batch nor an error: %.300s", body)
	}
	var msgs []string
	for _, o := range batch {
		if o.Type != resizer.TypeFailed || o.Data.Error == nil || o.Data.Error.Code != resizer.CodeInvalidRequest {
			t.Fatalf("batch answer has an outcome that is not invalid_request: %.300s", body)
		}
		msgs = append(msgs, o.Data.Error.Message)
	}
	return strings.Join(msgs, "; ")
}

func checkLambdaAnswer(t *testing.T, c hostileCase, answer []byte, published []event.Event) {
	t.Helper()
	if len(published) == 0 {
		t.Fatalf("no outcome was published")
	}
	if c.sqs {
		var resp events.SQSEventResponse
		if err := json.Unmarshal(answer, &resp); err != nil {
			t.Fatalf("SQS answer is not a batch response: %v: %.300s", err, answer)
		}
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("a record that cannot succeed was returned for redelivery: %+v", resp.BatchItemFailures)
		}
	} else {
		var out struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(answer, &out); err != nil || out.Type != resizer.TypeFailed {
			t.Fatalf("answer is not the failed outcome: %.300s", answer)
		}
	}
	var msgs []string
	for _, e := range published {
		var d resizer.OutcomeData
		_ = json.Unmarshal(e.Data(), &d)
		msgs = append(msgs, d.Error.Message)
	}
	t.Logf("%s", strings.Join(msgs, "; "))
	for _, m := range msgs {
		if strings.Contains(m, c.mention) {
			return
		}
	}
	t.Fatalf("messages %q do not name %q", msgs, c.mention)
}

// checkLogs parses every line as JSON (an injected line break would
// split one) and requires the message to be free of injected text.
func checkLogs(t *testing.T, text string, wantLines bool) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	if wantLines && len(lines) == 0 {
		t.Fatalf("an outcome was published but nothing was logged")
	}
	for _, line := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line is not one JSON object (%v): %.300q", err, line)
		}
		msg, _ := entry["msg"].(string)
		if msg == "" {
			t.Fatalf("log line without a message: %.300s", line)
		}
		for _, s := range injected {
			if strings.Contains(msg, s) {
				t.Fatalf("log message %q carries injected text %q", msg, s)
			}
		}
		if len(line) > 64<<10 {
			t.Fatalf("log line of %d bytes echoes too much input", len(line))
		}
	}
}
