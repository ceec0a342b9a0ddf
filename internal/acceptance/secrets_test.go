package acceptance_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// Distinctive secrets, so that a leak cannot hide behind a common word.
const (
	jdAccessKey   = "JDAKSECRETSTEST00001"
	jdSecretKey   = "jdsk-7c41e9b2d05f-never-in-a-log"
	webhookSecret = "whsk-2b8f6a13c9e0-never-in-a-log"
	webhookToken  = "whtk-e5d7309a4f1c-never-in-a-log"
	wrongJDSecret = "some-other-secret-xyz"
)

// secrets are every secret any rig below holds, scanned for everywhere.
var secrets = []string{jdSecretKey, webhookSecret, webhookToken, wrongJDSecret, jdcloudsim.DemoSecretKey}

// secretRig is a rig whose simulator accepts only the distinctive key pair.
func secretRig(t *testing.T) *rig {
	t.Helper()
	return newRig(t, testkit.WithCredentials(jdcloud.Credentials{AccessKey: jdAccessKey, SecretKey: jdSecretKey}))
}

// exposure collects everything the outside world can see of a run.
type exposure struct {
	logs  *syncBuffer
	parts []string // answers, headers, returned errors
}

func (x *exposure) add(format string, args ...any) {
	x.parts = append(x.parts, fmt.Sprintf(format, args...))
}

// leaks names each secret found in the logs, answers, errors or the
// published outcome events.
func (x *exposure) leaks(r *rig) []string {
	text := x.logs.String() + strings.Join(x.parts, "\n")
	for _, e := range r.Pub.All() {
		b, _ := json.Marshal(e)
		text += string(b)
	}
	var found []string
	for _, s := range secrets {
		if strings.Contains(text, s) {
			found = append(found, s)
		}
	}
	return found
}

// delivery is one request by one trigger, with what it must come to.
type delivery struct {
	name   string
	setup  func(*rig)
	lambda []byte
	http   func() *http.Request
	// status is the HTTP status wanted (API Gateway and server mode).
	status int
	// check looks at the answer (the API Gateway or HTTP body, or the
	// Lambda answer) beyond the status.
	check func(t *testing.T, answer []byte, err error)
}

func signedHeaders(body string) map[string]string {
	return map[string]string{"x-hub-signature-256": sign(webhookSecret, body)}
}

func bearer(token string) map[string]string {
	return map[string]string{"authorization": "Bearer " + token}
}

func serverRequest(body string, header ...string) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// outcomeCode is the error code of a structured outcome answer ("" for
// succeeded).
func outcomeCode(t *testing.T, answer []byte) resizer.Code {
	t.Helper()
	var o struct {
		Type string              `json:"type"`
		Data resizer.OutcomeData `json:"data"`
	}
	if err := json.Unmarshal(answer, &o); err != nil || o.Type == "" {
		t.Fatalf("not an outcome event: %.300s", answer)
	}
	if o.Data.Error == nil {
		return ""
	}
	return o.Data.Error.Code
}

func wantCode(code resizer.Code) func(*testing.T, []byte, error) {
	return func(t *testing.T, answer []byte, _ error) {
		t.Helper()
		if got := outcomeCode(t, answer); got != code {
			t.Fatalf("outcome code %q, want %q: %.300s", got, code, answer)
		}
	}
}

// deliveries are every trigger, authenticated every accepted way and
// refused both ways, for requests that succeed and that fail in JD Cloud.
// authCode is the outcome code a request reaching JD Cloud ends with.
func deliveries(t *testing.T, authCode resizer.Code) []delivery {
	t.Helper()
	reqData := func(instance, target string, dry bool) string {
		return fmt.Sprintf(`{"regionId":"cn-north-1","instanceId":%q,"instanceType":%q,"dryRun":%t,"requestedBy":"secrets-test"}`, instance, target, dry)
	}
	event := func(id, data string) string { return structured(map[string]any{"id": id}, data) }
	cejson := map[string]string{"content-type": "application/cloudevents+json"}
	binary := func(id string) map[string]string {
		return map[string]string{"content-type": "application/json", "ce-specversion": "1.0", "ce-id": id,
			"ce-source": "ticketing/approvals", "ce-type": resizer.TypeRequested}
	}
	structuredBody := event("gw-structured", reqData("i-stopped02", "g.n2.large", true))
	binaryBody := reqData("i-running01", "g.n2.large", true)
	batchBody := "[" + event("gw-batch-1", reqData("i-stopped02", "g.n2.large", false)) + "," + event("gw-batch-2", reqData("i-missing01", "g.n2.large", false)) + "]"
	serverBody := event("srv-structured", reqData("i-disk2016", "g.n2.large", false))
	ok := func(code resizer.Code) func(*testing.T, []byte, error) { return wantCode(code) }
	// A request that reaches JD Cloud ends as authCode when the key is
	// wrong; otherwise as the behaviour its instance calls for.
	jd := func(code resizer.Code) resizer.Code {
		if authCode != "" {
			return authCode
		}
		return code
	}
	retry := func(t *testing.T, _ []byte, err error) {
		t.Helper()
		var re *trigger.RetryError
		if authCode == "" && !errors.As(err, &re) {
			t.Fatalf("a persistent 503 must answer with a RetryError, got %v", err)
		}
	}
	unauth := func(t *testing.T, answer []byte, _ error) {
		t.Helper()
		if !strings.Contains(string(answer), "unauthenticated") {
			t.Fatalf("401 body %q", answer)
		}
	}

	return []delivery{
		{name: "direct invoke, resized", lambda: sample(t, "resize-requested.json"), check: ok(jd(""))},
		{name: "direct invoke, JD 503 until retries run out", setup: func(r *rig) { r.Sim.Fail("describeInstance", 503, 3) },
			lambda: []byte(event("direct-503", reqData("i-stopped02", "g.n2.large", true))), check: retry},
		{name: "direct invoke, not found", lambda: []byte(event("direct-missing", reqData("i-missing01", "g.n2.large", false))), check: ok(jd(resizer.CodeNotFound))},
		{name: "API Gateway structured, HMAC", lambda: apigwRequest(signedHeaders(structuredBody), cejson, structuredBody, false), status: 200, check: ok(jd(""))},
		{name: "API Gateway binary, HMAC only (refused: the signature does not cover ce-*)", lambda: apigwRequest(signedHeaders(binaryBody), binary("gw-binary"), binaryBody, false), status: 401, check: unauth},
		{name: "API Gateway batch, legacy X-Hub-Signature, base64", lambda: apigwRequest(map[string]string{"x-hub-signature": sign(webhookSecret, batchBody)},
			map[string]string{"content-type": "application/cloudevents-batch+json"}, batchBody, true), status: 200},
		{name: "API Gateway bearer token", lambda: apigwRequest(bearer(webhookToken), binary("gw-bearer"), binaryBody, false), status: 200, check: ok(jd(resizer.CodePreconditionFailed))},
		{name: "API Gateway wrong token", lambda: apigwRequest(bearer("not-"+webhookToken[4:]), binary("gw-wrong-token"), binaryBody, false), status: 401, check: unauth},
		{name: "API Gateway invalid HMAC", lambda: apigwRequest(map[string]string{"x-hub-signature-256": sign("not-"+webhookSecret, structuredBody)}, cejson, structuredBody, false), status: 401, check: unauth},
		{name: "SQS", lambda: sample(t, "sqs-batch.json")},
		{name: "SQS, JD 500 on resize", setup: func(r *rig) { r.Sim.Fail("resizeInstance", 500, 3) },
			lambda: sqsOf(event("sqs-500", reqData("i-inclimg01", "g.n2.large", false)))},
		{name: "EventBridge", lambda: sample(t, "eventbridge.json"), check: ok(jd(""))},
		{name: "SNS", lambda: sample(t, "sns.json"), check: ok(jd(""))},
		{name: "server structured, HMAC", http: serverRequest(serverBody, "Content-Type", "application/cloudevents+json", trigger.HeaderSignature256, sign(webhookSecret, serverBody)),
			status: 200, check: ok(jd(resizer.CodePreconditionFailed))},
		{name: "server binary, bearer token", http: serverRequest(binaryBody, "Content-Type", "application/json", "Ce-Specversion", "1.0", "Ce-Id", "srv-bearer",
			"Ce-Source", "ticketing/approvals", "Ce-Type", resizer.TypeRequested, "Authorization", "Bearer "+webhookToken), status: 200, check: ok(jd(resizer.CodePreconditionFailed))},
		{name: "server wrong token", http: serverRequest(serverBody, "Content-Type", "application/cloudevents+json", "Authorization", "Bearer "+webhookSecret), status: 401, check: unauth},
		{name: "server invalid HMAC", http: serverRequest(serverBody, "Content-Type", "application/cloudevents+json", trigger.HeaderSignature256, sign(webhookToken, serverBody)), status: 401, check: unauth},
	}
}

// TestSecretsNeverExposed runs every trigger with distinctive JD and
// webhook secrets, through success, JD failures (wrong key: 401 from JD
// Cloud; 5xx) and refused authentication, and scans every log line of the
// handler and the trigger, every answer and its headers, every returned
// error and every published outcome for each secret.
func TestSecretsNeverExposed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rig      func(*testing.T) *rig
		authCode resizer.Code
	}{
		{"valid JD key", secretRig, ""},
		{"JD answers 401", func(t *testing.T) *rig { return newRig(t, withSecret(wrongJDSecret)) }, resizer.CodeAuthFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rig(t)
			x := &exposure{logs: &syncBuffer{}}
			log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(x.logs), zapcore.DebugLevel))
			r.Rebuild(func(o *resizer.Options) { o.Log = log })
			opts := trigger.Options{WebhookSecret: webhookSecret, WebhookToken: webhookToken, Log: log}
			d := trigger.New(r.Handler, opts)
			x.add("%v %+v %#v %s", opts, opts, opts, opts)
			for _, dv := range deliveries(t, tc.authCode) {
				t.Run(dv.name, func(t *testing.T) {
					if dv.setup != nil {
						dv.setup(r)
					}
					answer, err := deliver(t, x, d, dv)
					if dv.check != nil {
						dv.check(t, answer, err)
					}
				})
			}
			if tc.authCode == "" && r.Sim.Calls("resizeInstance") == 0 {
				t.Fatalf("no delivery reached resizeInstance; the success path went unscanned")
			}
			if tc.authCode != "" && !outcomesHave(r, tc.authCode) {
				t.Fatalf("no outcome is %s; the JD 401 path went unscanned", tc.authCode)
			}
			if !strings.Contains(x.logs.String(), "resize failed") || !strings.Contains(x.logs.String(), "unauthenticated request refused") {
				t.Fatalf("the logs lack the failure and refusal lines the scan is meant to cover")
			}
			if found := x.leaks(r); len(found) != 0 {
				t.Fatalf("secrets exposed: %q", found)
			}
		})
	}
}

// deliver runs one delivery and records all it exposes.
func deliver(t *testing.T, x *exposure, d *trigger.Dispatcher, dv delivery) ([]byte, error) {
	t.Helper()
	if dv.http != nil {
		w := httptest.NewRecorder()
		d.ServeHTTP(w, dv.http())
		x.add("%d %v %s", w.Code, w.Header(), w.Body.Bytes())
		if w.Code != dv.status {
			t.Fatalf("status %d, want %d: %.300s", w.Code, dv.status, w.Body)
		}
		return w.Body.Bytes(), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := d.Invoke(ctx, dv.lambda)
	x.add("%s", out)
	if err != nil {
		x.add("%v %+v %#v", err, err, err)
	}
	if dv.status == 0 {
		return out, err
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("not an API Gateway response: %.300s", out)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		body, _ = base64.StdEncoding.DecodeString(resp.Body)
		x.add("%s", body)
	}
	if resp.StatusCode != dv.status {
		t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, dv.status, body)
	}
	return body, err
}

func outcomesHave(r *rig, code resizer.Code) bool {
	for _, e := range r.Pub.All() {
		var d resizer.OutcomeData
		if json.Unmarshal(e.Data(), &d) == nil && d.Error != nil && d.Error.Code == code {
			return true
		}
	}
	return false
}
