package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/dynalite"
	"github.com/jdcloud-vm-resizer/resizer/internal/rie"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

// e2eWebhookSecret signs the API Gateway samples in events/.
const e2eWebhookSecret = "demo-webhook-secret"

// sinkServer is an HTTP CloudEvents sink that records every structured
// event it accepts and can refuse the first N deliveries with 503.
type sinkServer struct {
	*httptest.Server
	mu       sync.Mutex
	refuse   int
	attempts int
	received []map[string]any
}

func newSink(t *testing.T, refuse int) *sinkServer {
	s := &sinkServer{refuse: refuse}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.attempts++
		if s.refuse > 0 {
			s.refuse--
			http.Error(w, "sink down", http.StatusServiceUnavailable)
			return
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/cloudevents+json") {
			http.Error(w, "want structured mode, got "+ct, http.StatusUnsupportedMediaType)
			return
		}
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		s.received = append(s.received, ev)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sinkServer) events() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.received...)
}

type e2e struct {
	sim  *jdcloudsim.Server
	sink *sinkServer
	emu  *rie.Emulator
	logs *lockedBuffer
}

type lockedBuffer = testkit.SyncBuffer

func startE2E(t *testing.T, sinkRefusals int, env map[string]string) *e2e {
	t.Helper()
	bin := rie.BuildBootstrap(t, "..")
	sim, err := jdcloudsim.Start(jdcloudsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sink := newSink(t, sinkRefusals)
	fenv := map[string]string{
		"JDCLOUD_ACCESS_KEY": jdcloudsim.DemoAccessKey,
		"JDCLOUD_SECRET_KEY": jdcloudsim.DemoSecretKey,
		"JDCLOUD_ENDPOINT":   sim.URL(),
		"RESULT_SINK_URL":    sink.URL + "/outcomes",
		"WEBHOOK_SECRET":     e2eWebhookSecret,
		"WEBHOOK_TOKEN":      "demo-webhook-token",
		"LOG_LEVEL":          "debug",
	}
	for k, v := range env {
		fenv[k] = v
	}
	return startEmulator(t, bin, sim, sink, fenv)
}

// startEmulator runs bin under the emulator with env, its output logged.
func startEmulator(t *testing.T, bin string, sim *jdcloudsim.Server, sink *sinkServer, env map[string]string) *e2e {
	t.Helper()
	logs := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	emu, err := rie.Start(ctx, rie.Options{Binary: bin, Env: env, Stdout: logs, Stderr: logs, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	return &e2e{sim: sim, sink: sink, emu: emu, logs: logs}
}

func (e *e2e) invoke(t *testing.T, payload []byte) ([]byte, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	body, functionErr, err := e.emu.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke: %v\nlogs:\n%s", err, e.logs.String())
	}
	return body, functionErr
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type outcomeEvent struct {
	ID      string              `json:"id"`
	Type    string              `json:"type"`
	Source  string              `json:"source"`
	Subject string              `json:"subject"`
	Data    resizer.OutcomeData `json:"data"`
}

func parseOutcome(t *testing.T, raw []byte) outcomeEvent {
	t.Helper()
	var o outcomeEvent
	if err := json.Unmarshal(raw, &o); err != nil || o.Type == "" {
		t.Fatalf("not an outcome event (%v): %s", err, raw)
	}
	return o
}

// TestBootstrapUnderEmulator invokes the real binary under the Lambda
// Runtime Interface Emulator with every sample in events/, serially, and
// checks each answer, the simulator's request log and the sink.
func TestBootstrapUnderEmulator(t *testing.T) {
	// The demo's JIRA_FIELDS, which events/apigw-jira.json follows.
	e := startE2E(t, 0, map[string]string{
		"JIRA_FIELDS": "instanceId=customfield_10050,regionId=customfield_10051,instanceType=customfield_10052,dryRun=customfield_10055",
	})
	wantSunk := 0

	t.Run("direct resize", func(t *testing.T) {
		body, ferr := e.invoke(t, sample(t, "resize-requested.json"))
		o := parseOutcome(t, body)
		if ferr || o.Type != resizer.TypeSucceeded || !o.Data.Changed || o.Data.JDCloudRequestID == "" || o.Subject != "i-stopped01" || o.Source != resizer.DefaultSource {
			t.Fatalf("answer %s", body)
		}
		var found bool
		for _, q := range e.sim.Requests() {
			if q.Op == jdcloudsim.OpResizeInstance {
				found = true
				if !q.SignatureValid || q.Path != "/v1/regions/cn-north-1/instances/i-stopped01:resizeInstance" || string(q.Body) != `{"instanceType":"g.n2.large"}` {
					t.Fatalf("resize request: signed=%t %s %s", q.SignatureValid, q.Path, q.Body)
				}
			}
			if !q.SignatureValid {
				t.Fatalf("unsigned request %s %s", q.Method, q.Path)
			}
		}
		if !found {
			t.Fatal("no resizeInstance call reached the simulator")
		}
		wantSunk++
	})
	t.Run("direct dry run", func(t *testing.T) {
		before := e.sim.Calls(jdcloudsim.OpResizeInstance)
		body, _ := e.invoke(t, sample(t, "resize-dry-run.json"))
		o := parseOutcome(t, body)
		if o.Type != resizer.TypeSucceeded || o.Data.Changed || !o.Data.DryRun || e.sim.Calls(jdcloudsim.OpResizeInstance) != before {
			t.Fatalf("answer %s", body)
		}
		wantSunk++
	})
	t.Run("direct invalid", func(t *testing.T) {
		before := len(e.sim.Requests())
		body, ferr := e.invoke(t, sample(t, "resize-invalid.json"))
		o := parseOutcome(t, body)
		if ferr || o.Type != resizer.TypeFailed || o.Data.Error == nil || o.Data.Error.Code != resizer.CodeInvalidRequest {
			t.Fatalf("answer %s", body)
		}
		if len(e.sim.Requests()) != before {
			t.Fatal("an invalid request reached JD Cloud")
		}
		wantSunk++
	})
	// The structured sample is a dry run against a running instance: JD
	// Cloud would refuse it, so the dry run reports instance_not_stopped.
	wantHTTP := map[string]string{"apigw-binary.json": resizer.TypeSucceeded, "apigw-structured.json": resizer.TypeFailed}
	for _, name := range []string{"apigw-binary.json", "apigw-structured.json", "apigw-batch.json"} {
		t.Run(name, func(t *testing.T) {
			body, ferr := e.invoke(t, sample(t, name))
			var resp events.APIGatewayV2HTTPResponse
			if ferr || json.Unmarshal(body, &resp) != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("answer %s", body)
			}
			n := 1
			if name == "apigw-batch.json" {
				var batch []outcomeEvent
				if err := json.Unmarshal([]byte(resp.Body), &batch); err != nil || len(batch) != 2 {
					t.Fatalf("batch answer %s", resp.Body)
				}
				n = 2
			} else if o := parseOutcome(t, []byte(resp.Body)); o.Type != wantHTTP[name] {
				t.Fatalf("answer %s, want %s", resp.Body, wantHTTP[name])
			}
			wantSunk += n
		})
	}
	t.Run("sqs batch", func(t *testing.T) {
		body, ferr := e.invoke(t, sample(t, "sqs-batch.json"))
		var resp events.SQSEventResponse
		if ferr || json.Unmarshal(body, &resp) != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("answer %s", body)
		}
		wantSunk += 2
	})
	// The native routes' samples: each builds dry runs of stopped
	// instances, answered as a batch; the resolved alert builds nothing.
	for name, n := range map[string]int{"apigw-alertmanager.json": 2, "apigw-grafana.json": 1, "apigw-jdcloud-monitor.json": 1, "apigw-jira.json": 1} {
		t.Run(name, func(t *testing.T) {
			body, ferr := e.invoke(t, sample(t, name))
			var resp events.APIGatewayV2HTTPResponse
			if ferr || json.Unmarshal(body, &resp) != nil || resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "application/cloudevents-batch+json" {
				t.Fatalf("answer %s", body)
			}
			var batch []outcomeEvent
			if err := json.Unmarshal([]byte(resp.Body), &batch); err != nil || len(batch) != n {
				t.Fatalf("batch answer %s, want %d outcomes", resp.Body, n)
			}
			for _, o := range batch {
				if o.Type != resizer.TypeSucceeded || !o.Data.DryRun || o.Data.RequestedBy == "" {
					t.Fatalf("outcome %+v %+v, want a succeeded dry run", o, o.Data.Error)
				}
			}
			wantSunk += n
		})
	}
	for _, name := range []string{"eventbridge.json", "sns.json"} {
		t.Run(name, func(t *testing.T) {
			body, ferr := e.invoke(t, sample(t, name))
			raw := bytes.TrimSpace(body)
			if len(raw) > 0 && raw[0] == '[' {
				var list []json.RawMessage
				_ = json.Unmarshal(raw, &list)
				if len(list) != 1 {
					t.Fatalf("answer %s", body)
				}
				raw = list[0]
			}
			if o := parseOutcome(t, raw); ferr || o.Type != resizer.TypeSucceeded {
				t.Fatalf("answer %s", body)
			}
			wantSunk++
		})
	}
	t.Run("simulator saw only signed calls and two resizes", func(t *testing.T) {
		// Only resize-requested.json and apigw-binary.json ask for a real
		// resize; every other sample is a dry run, invalid, or refused.
		if n := e.sim.Calls(jdcloudsim.OpResizeInstance); n != 2 {
			t.Fatalf("resizeInstance calls = %d, want 2", n)
		}
		if n := e.sim.Calls(jdcloudsim.OpStopInstance) + e.sim.Calls(jdcloudsim.OpStartInstance); n != 0 {
			t.Fatalf("%d stop/start calls, want none", n)
		}
		for _, q := range e.sim.Requests() {
			if !q.SignatureValid || q.Status == 401 {
				t.Fatalf("request %s %s: signed=%t status %d", q.Method, q.Path, q.SignatureValid, q.Status)
			}
		}
	})
	t.Run("sink got one outcome per request", func(t *testing.T) {
		got := e.sink.events()
		if len(got) != wantSunk {
			t.Fatalf("sink received %d outcome events, want %d", len(got), wantSunk)
		}
		for _, ev := range got {
			if ev["specversion"] != "1.0" || ev["source"] != resizer.DefaultSource || !strings.HasPrefix(ev["type"].(string), "com.jdcloud.vm.resize.") {
				t.Fatalf("sink event %v", ev)
			}
		}
	})
	t.Run("logs carry the request id and never the secret", func(t *testing.T) {
		// The emulator relays the function's stdout on its own schedule: an
		// invocation's answer can arrive before its last log line.
		var logs string
		var outcomeLines int
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			logs, outcomeLines = e.logs.String(), 0
			for _, line := range strings.Split(logs, "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) != nil || m["outcomeEvent"] == nil {
					continue
				}
				outcomeLines++
				if m["awsRequestId"] == nil || m["ceId"] == nil {
					t.Fatalf("outcome log line without awsRequestId/ceId: %s", line)
				}
			}
			if outcomeLines >= wantSunk || time.Now().After(deadline) {
				break
			}
		}
		// The token too: apigw-jdcloud-monitor.json carries it in its query.
		if strings.Contains(logs, jdcloudsim.DemoSecretKey) || strings.Contains(logs, e2eWebhookSecret) || strings.Contains(logs, "demo-webhook-token") {
			t.Fatal("a secret appears in the function's log output")
		}
		if outcomeLines != wantSunk {
			t.Fatalf("%d outcome log lines, want %d", outcomeLines, wantSunk)
		}
	})
}

// TestSinkOutageUnderEmulator: the sink refuses the first deliveries, so
// the first invocation answers with a Lambda error; the retried invocation
// republishes the stored outcome (same id) and resizes nothing again. The
// store is DynamoDB, on a real DynamoDB-compatible server.
func TestSinkOutageUnderEmulator(t *testing.T) {
	srv, err := dynalite.Shared()
	if err != nil {
		t.Fatal(err)
	}
	table := dynalite.NewTable(t, srv.Client())
	e := startE2E(t, 4, map[string]string{
		"IDEMPOTENCY_TABLE":         table,
		"AWS_ENDPOINT_URL_DYNAMODB": srv.Endpoint(),
		"AWS_ACCESS_KEY_ID":         dynalite.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     dynalite.SecretAccessKey,
		"AWS_REGION":                "us-east-1",
	})
	payload := sample(t, "resize-requested.json")

	body, ferr := e.invoke(t, payload)
	if !ferr {
		t.Fatalf("first invocation with the sink down should be a Lambda error, got %s", body)
	}
	if len(e.sink.events()) != 0 {
		t.Fatal("the sink accepted an event while refusing")
	}
	body, ferr = e.invoke(t, payload)
	if ferr {
		t.Fatalf("retried invocation failed: %s\n%s", body, e.logs.String())
	}
	o := parseOutcome(t, body)
	got := e.sink.events()
	if len(got) != 1 || got[0]["id"] != o.ID || o.Type != resizer.TypeSucceeded {
		t.Fatalf("sink got %v, answer %s", got, body)
	}
	if n := e.sim.Calls(jdcloudsim.OpResizeInstance); n != 1 {
		t.Fatalf("resizeInstance calls = %d, want exactly 1", n)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	dynalite.CloseShared()
	os.Exit(code)
}
