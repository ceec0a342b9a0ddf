package trigger

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jdcloud-vm-resizer/resizer"
)

// apigwPayload is what API Gateway (payload 2.0) or a Function URL sends:
// header names lower-cased, repeated headers already joined by commas.
func apigwPayload(t *testing.T, method, path string, headers map[string]string, body string, b64 bool) []byte {
	t.Helper()
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path, Headers: headers, Body: body, IsBase64Encoded: b64,
	}
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = path
	req.RequestContext.HTTP.SourceIP = "192.0.2.1"
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func invokeHTTPResp(t *testing.T, d *Dispatcher, payload []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	out, err := d.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("HTTP triggers never answer with a Lambda error, got %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("not an API Gateway response: %v\n%s", err, out)
	}
	return resp
}

func lowerBinary(id string) map[string]string {
	return map[string]string{
		"content-type":   "application/json",
		"ce-specversion": "1.0",
		"ce-id":          id,
		"ce-source":      "test/alerts",
		"ce-type":        resizer.TypeRequested,
	}
}

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestAPIGateway(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	cejson := map[string]string{"content-type": "application/cloudevents+json"}
	tests := []struct {
		name       string
		o          Options
		payload    func(t *testing.T) []byte
		status     int
		outcome    string
		subject    string // expected subject of the handled event, when set
		retryAfter string
		ctype      string
	}{
		{name: "lower-case binary headers", o: allowAll(), status: 200, outcome: "out-ok-1", subject: "a,b", ctype: "application/cloudevents+json",
			payload: func(t *testing.T) []byte {
				return apigwPayload(t, "POST", "/", with(lowerBinary("ok-1"), "ce-subject", "a,b"), requestData, false)
			}},
		{name: "percent-encoded ce-subject", o: allowAll(), status: 200, outcome: "out-ok-1", subject: "é x",
			payload: func(t *testing.T) []byte {
				return apigwPayload(t, "POST", "/", with(lowerBinary("ok-1"), "ce-subject", "%C3%A9%20x"), requestData, false)
			}},
		{name: "invalid UTF-8 in ce-subject", o: allowAll(), status: 400, outcome: "out-ok-1",
			payload: func(t *testing.T) []byte {
				return apigwPayload(t, "POST", "/", with(lowerBinary("ok-1"), "ce-subject", "%C0%AF"), requestData, false)
			}},
		{name: "base64 binary body", o: allowAll(), status: 200, outcome: "out-ok-1",
			payload: func(t *testing.T) []byte {
				return apigwPayload(t, "POST", "/", lowerBinary("ok-1"), b64([]byte(requestData)), true)
			}},
		{name: "base64 structured body", o: allowAll(), status: 200, outcome: "out-ok-2",
			payload: func(t *testing.T) []byte {
				return apigwPayload(t, "POST", "/", cejson, b64([]byte(ce("ok-2"))), true)
			}},
		{name: "body claimed base64 but is not", o: allowAll(), status: 400,
			payload: func(t *testing.T) []byte { return apigwPayload(t, "POST", "/", cejson, "{not base64}", true) }},
		{name: "retryable is 503 with Retry-After", o: allowAll(), status: 503, outcome: "out-retry-1", retryAfter: "5",
			payload: func(t *testing.T) []byte { return apigwPayload(t, "POST", "/", cejson, ce("retry-1"), false) }},
		{name: "invalid is 400", o: allowAll(), status: 400, outcome: "out-",
			payload: func(t *testing.T) []byte { return apigwPayload(t, "POST", "/", cejson, `{"specversion":"1.0"}`, false) }},
		{name: "unauthenticated by default", o: Options{}, status: 401,
			payload: func(t *testing.T) []byte { return apigwPayload(t, "POST", "/", cejson, ce("ok-1"), false) }},
		{name: "lower-case authorization header", o: Options{WebhookToken: testToken}, status: 200, outcome: "out-ok-1",
			payload: func(t *testing.T) []byte {
				return apigwPayload(t, "POST", "/", with(cejson, "authorization", "Bearer "+testToken), ce("ok-1"), false)
			}},
		{name: "HMAC over the decoded base64 body", o: Options{WebhookSecret: testSecret}, status: 200, outcome: "out-ok-1",
			payload: func(t *testing.T) []byte {
				return apigwPayload(t, "POST", "/", with(cejson, "x-hub-signature-256", sign(testSecret, ce("ok-1"))), b64([]byte(ce("ok-1"))), true)
			}},
		{name: "415 other content type", o: allowAll(), status: 415,
			payload: func(t *testing.T) []byte {
				return apigwPayload(t, "POST", "/", map[string]string{"content-type": "text/plain"}, "hi", false)
			}},
		{name: "405 GET /", o: allowAll(), status: 405,
			payload: func(t *testing.T) []byte { return apigwPayload(t, "GET", "/", nil, "", false) }},
		{name: "healthz", o: Options{}, status: 200,
			payload: func(t *testing.T) []byte { return apigwPayload(t, "GET", "/healthz", nil, "", false) }},
		{name: "a path outside the route table is 404", o: allowAll(), status: 404,
			payload: func(t *testing.T) []byte { return apigwPayload(t, "POST", "/prod/resize", cejson, ce("ok-1"), false) }},
		{name: "413 over the limit", o: Options{AllowUnauthenticated: true, MaxBodyBytes: 100}, status: 413,
			payload: func(t *testing.T) []byte { return apigwPayload(t, "POST", "/", cejson, ce("ok-1"), false) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			resp := invokeHTTPResp(t, New(f, tt.o), tt.payload(t))
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if got := resp.Headers["Retry-After"]; got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if tt.ctype != "" && resp.Headers["Content-Type"] != tt.ctype {
				t.Errorf("Content-Type = %q", resp.Headers["Content-Type"])
			}
			if tt.outcome != "" {
				if o := decodeOutcome(t, []byte(resp.Body)); o.ID != tt.outcome {
					t.Errorf("outcome = %s, want %s", o.ID, tt.outcome)
				}
			}
			if tt.subject != "" {
				evs := f.handledEvents()
				if len(evs) != 1 || evs[0].Subject() != tt.subject {
					t.Fatalf("handled = %v, want subject %q", evs, tt.subject)
				}
				if string(evs[0].Data()) != requestData {
					t.Errorf("data = %s", evs[0].Data())
				}
			}
		})
	}
}

func TestAPIGatewayBatchWithCharset(t *testing.T) {
	body := "[" + ce("ok-1") + "," + ce("perm-1") + "]"
	p := apigwPayload(t, "POST", "/", map[string]string{"content-type": "application/cloudevents-batch+json; charset=utf-8"}, body, false)
	resp := invokeHTTPResp(t, New(newFake(), allowAll()), p)
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/cloudevents-batch+json" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Headers)
	}
	outs := decodeOutcomes(t, []byte(resp.Body))
	if len(outs) != 2 || outs[0].ID != "out-ok-1" || outs[1].ID != "out-perm-1" {
		t.Fatalf("outcomes = %+v", outs)
	}
}

// Malformed 2.0 envelopes are answered 400 without an outcome: nothing
// about them could be authenticated.
func TestAPIGatewayMalformedEnvelope(t *testing.T) {
	for _, p := range []string{
		`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"headers":5}`,
		`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":{"a":1}}`,
		`{"version":"2.0","requestContext":{"http":"POST"}}`,
		`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"isBase64Encoded":"yes"}`,
	} {
		f := newFake()
		resp := invokeHTTPResp(t, New(f, allowAll()), []byte(p))
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, `"error"`) {
			t.Errorf("%s: status %d body %s", p, resp.StatusCode, resp.Body)
		}
		if n := len(f.handledEvents()) + len(f.rejections()); n != 0 {
			t.Errorf("%s: %d outcomes", p, n)
		}
	}
}
