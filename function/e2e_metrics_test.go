package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/rie"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
	"github.com/jdcloud-vm-resizer/resizer/metrics"
)

// ceRequest is a structured request CloudEvent.
func ceRequest(t *testing.T, id, source, typ string, data map[string]any) []byte {
	return cloudEvent(t, typ, source, id, data)
}

// waitEMF waits for the emulator to relay the n-th EMF line of the
// function's output (it relays stdout on its own schedule) and returns all
// of them.
func (e *e2e) waitEMF(t *testing.T, n int) [][]byte {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		lines := testkit.EMFLines(e.logs.String())
		if len(lines) >= n || time.Now().After(deadline) {
			if len(lines) != n {
				t.Fatalf("%d EMF lines, want %d\n%s", len(lines), n, e.logs.String())
			}
			return lines
		}
	}
}

// TestEMFUnderEmulator invokes the real binary under the Lambda Runtime
// Interface Emulator with a succeeded, a failed (with JD answering 429
// once), a pending, an approved, a replayed and a dry-run delivery, and
// parses the EMF line each one wrote: valid by the specification, the
// contract's names and units, the right Outcome and Reason, JD call counts
// equal to what the simulator saw, and no id anywhere in it.
func TestEMFUnderEmulator(t *testing.T) {
	e := startE2E(t, 0, map[string]string{
		"METRICS_NAMESPACE":         "Ops/Resizer",
		"APPROVAL_REQUIRED_SOURCES": "grafana/",
		"JDCLOUD_RATE_LIMIT":        "1000",
	})
	resize := ceRequest(t, "emf-resize-1", "alertmanager/prod", resizer.TypeRequested,
		map[string]any{"regionId": "cn-north-1", "instanceId": "i-stopped01", "instanceType": "g.n2.large"})
	held := ceRequest(t, "emf-held-1", "grafana/ops", resizer.TypeRequested,
		map[string]any{"regionId": "cn-north-1", "instanceId": "i-stopped03", "instanceType": "g.n2.large"})
	var approvalID string
	steps := []struct {
		name            string
		payload         func() []byte
		before          func()
		outcome, reason string
		resized         float64
		throttled       float64
		check           func(o outcomeEvent)
	}{
		{name: "succeeded", payload: func() []byte { return resize }, outcome: "succeeded", reason: "resized", resized: 1},
		{name: "failed, after a 429", outcome: "failed", reason: "instance_not_stopped", throttled: 1,
			before: func() { e.sim.Fail(jdcloudsim.OpDescribeInstance, http.StatusTooManyRequests, 1) },
			payload: func() []byte {
				return ceRequest(t, "emf-fail-1", "alertmanager/prod", resizer.TypeRequested,
					map[string]any{"regionId": "cn-north-1", "instanceId": "i-running01", "instanceType": "g.n2.large"})
			}},
		{name: "pending", payload: func() []byte { return held }, outcome: "pending", reason: "unchanged",
			check: func(o outcomeEvent) {
				if o.Data.Approval == nil || o.Data.Approval.ID == "" {
					t.Fatalf("pending outcome without an approval id: %+v", o.Data)
				}
				approvalID = o.Data.Approval.ID
			}},
		{name: "approved", outcome: "succeeded", reason: "resized", resized: 1,
			payload: func() []byte {
				return ceRequest(t, "emf-approve-1", "jira/OPS", resizer.TypeApproved,
					map[string]any{"approvalId": approvalID, "approvedBy": "alice@example.com"})
			}},
		{name: "replay", payload: func() []byte { return resize }, outcome: "succeeded", reason: "replay"},
		{name: "dry run", payload: func() []byte { return sample(t, "resize-dry-run.json") }, outcome: "succeeded", reason: "dry_run"},
		{name: "invalid", outcome: "failed", reason: "invalid_request",
			payload: func() []byte {
				return []byte(testkit.Structured(map[string]any{"id": "emf-bad-1"}, `{"regionId":"cn-north-1"}`))
			}},
	}
	started := time.Now()
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before()
			}
			before := len(e.sim.Requests())
			body, _ := e.invoke(t, s.payload())
			calls := len(e.sim.Requests()) - before
			o := parseOutcome(t, body)
			if s.check != nil {
				s.check(o)
			}
			lines := e.waitEMF(t, i+1)
			line := lines[i]
			doc := testkit.CheckEMF(t, line)
			if ts := time.UnixMilli(doc.Timestamp); ts.Before(started.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
				t.Errorf("Timestamp %v is not the delivery's time", ts)
			}
			dir := doc.Directives[0]
			if dir.Namespace != "Ops/Resizer" || len(doc.Directives) != 1 {
				t.Errorf("directives %+v, want one in Ops/Resizer", doc.Directives)
			}
			if got, _ := json.Marshal(dir.Dimensions); string(got) != `[["Outcome"],["Outcome","Reason"]]` {
				t.Errorf("Dimensions %s", got)
			}
			units := map[string]string{}
			for _, m := range dir.Metrics {
				units[m.Name] = m.Unit
			}
			if got, _ := json.Marshal(units); string(got) != `{"Duration":"Milliseconds","JDCloudCalls":"Count","JDCloudThrottled":"Count","Outcomes":"Count","Resized":"Count"}` {
				t.Errorf("metrics and units %s", got)
			}
			if doc.Dimension(t, "Outcome") != s.outcome || doc.Dimension(t, "Reason") != s.reason {
				t.Errorf("Outcome/Reason %s/%s, want %s/%s", doc.Dimension(t, "Outcome"), doc.Dimension(t, "Reason"), s.outcome, s.reason)
			}
			if !strings.HasSuffix(o.Type, "."+s.outcome) {
				t.Errorf("the answer is %s, the EMF line says %s", o.Type, s.outcome)
			}
			want := map[string]float64{"Outcomes": 1, "Resized": s.resized, "JDCloudCalls": float64(calls), "JDCloudThrottled": s.throttled}
			for name, w := range want {
				if got := doc.Metric(t, name); got != w {
					t.Errorf("%s = %v, want %v", name, got, w)
				}
			}
			if d := doc.Metric(t, "Duration"); d <= 0 || d > float64(time.Since(started).Milliseconds()) {
				t.Errorf("Duration %v ms", d)
			}
			for _, id := range []string{"i-stopped", "i-running", "emf-", "alertmanager", "grafana", "jira", "alice", approvalIDOr(approvalID)} {
				if strings.Contains(string(line), id) {
					t.Errorf("the EMF line carries %q: %s", id, line)
				}
			}
		})
	}
}

func approvalIDOr(id string) string {
	if id == "" {
		return "no approval id yet"
	}
	return id
}

// TestEMFOffUnderEmulator: METRICS_NAMESPACE=off writes no EMF line; the
// outcome line is still there.
func TestEMFOffUnderEmulator(t *testing.T) {
	e := startE2E(t, 0, map[string]string{"METRICS_NAMESPACE": "off"})
	body, _ := e.invoke(t, sample(t, "resize-dry-run.json"))
	if o := parseOutcome(t, body); o.Type != resizer.TypeSucceeded {
		t.Fatalf("answer %s", body)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(e.logs.String(), `"outcomeEvent"`); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no outcome line\n%s", e.logs.String())
		}
	}
	if lines := testkit.EMFLines(e.logs.String()); len(lines) != 0 {
		t.Fatalf("METRICS_NAMESPACE=off, yet %d EMF lines: %s", len(lines), lines[0])
	}
}

// TestMetricsEndpointOfTheServer runs the binary in HTTP server mode, sends
// it a mix of deliveries — a resize, its replay, dry runs (one of them in a
// batch), JD refusals, a throttled describe, an invalid request, a held
// one, an unauthenticated request — and scrapes GET /metrics, read with
// prometheus/common's expfmt parser: every counter equals what was sent and
// what the simulator answered.
func TestMetricsEndpointOfTheServer(t *testing.T) {
	bin := rie.BuildBootstrap(t, "..")
	sim, err := jdcloudsim.Start(jdcloudsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sink := newSink(t, 0)
	const token = "e2e-metrics-token-value"
	cmd, base, exited, logs := startServer(t, bin, sim, sink, token, "JDCLOUD_RATE_LIMIT=1000", "APPROVAL_REQUIRED_SOURCES=grafana/")
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()

	post := func(contentType string, body []byte, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	const structured = "application/cloudevents+json"
	data := func(instance string, extra ...any) map[string]any {
		d := map[string]any{"regionId": "cn-north-1", "instanceId": instance, "instanceType": "g.n2.large"}
		for i := 0; i+1 < len(extra); i += 2 {
			d[extra[i].(string)] = extra[i+1]
		}
		return d
	}
	resize := ceRequest(t, "srv-resize-1", "alertmanager/prod", resizer.TypeRequested, data("i-stopped01"))
	sends := []struct {
		name        string
		contentType string
		body        []byte
		auth        bool
		before      func()
		status      int
		answer      string
	}{
		{"resize", structured, resize, true, nil, 200, resizer.TypeSucceeded},
		{"replay", structured, resize, true, nil, 200, resizer.TypeSucceeded},
		{"dry run", structured, ceRequest(t, "srv-dry-1", "ops/", resizer.TypeRequested, data("i-stopped02", "dryRun", true)), true, nil, 200, resizer.TypeSucceeded},
		{"refused after a 429", structured, ceRequest(t, "srv-running-1", "ops/", resizer.TypeRequested, data("i-running01")), true,
			func() { sim.Fail(jdcloudsim.OpDescribeInstance, http.StatusTooManyRequests, 1) }, 200, resizer.TypeFailed},
		{"not found", structured, ceRequest(t, "srv-nosuch-1", "ops/", resizer.TypeRequested, data("i-nosuch01")), true, nil, 200, resizer.TypeFailed},
		{"invalid", structured, ceRequest(t, "srv-bad-1", "ops/", resizer.TypeRequested, map[string]any{"regionId": "cn-north-1"}), true, nil, 400, resizer.TypeFailed},
		{"held", structured, ceRequest(t, "srv-held-1", "grafana/ops", resizer.TypeRequested, data("i-stopped03")), true, nil, 200, resizer.TypePending},
		{"batch of two dry runs", "application/cloudevents-batch+json", []byte("[" +
			string(ceRequest(t, "srv-batch-1", "ops/", resizer.TypeRequested, data("i-stopped02", "dryRun", true))) + "," +
			string(ceRequest(t, "srv-batch-2", "ops/", resizer.TypeRequested, data("i-ladder01", "dryRun", true, "instanceType", "g.n4.xlarge"))) + "]"),
			true, nil, 200, resizer.TypeSucceeded},
		{"unauthenticated", structured, ceRequest(t, "srv-noauth-1", "ops/", resizer.TypeRequested, data("i-stopped02")), false, nil, 401, ""},
	}
	for _, s := range sends {
		if s.before != nil {
			s.before()
		}
		status, body := post(s.contentType, s.body, s.auth)
		if status != s.status || (s.answer != "" && !strings.Contains(body, `"type":"`+s.answer)) {
			t.Fatalf("%s: answered %d %s, want %d with %s\n%s", s.name, status, body, s.status, s.answer, logs.String())
		}
	}
	// Not a scrape: /metrics takes GET only; a POST goes to the routes.
	req, _ := http.NewRequest(http.MethodPost, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == 200 || bytes.Contains(b, []byte("# TYPE")) {
		t.Fatalf("POST /metrics answered %d %s", res.StatusCode, b)
	}

	// The scrape, without credentials.
	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || expfmt.ResponseFormat(res.Header).FormatType() != expfmt.TypeTextPlain {
		t.Fatalf("GET /metrics: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(scrape))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, scrape)
	}
	for _, name := range []string{"resizer_outcomes_total", "resizer_resize_duration_seconds", "resizer_jdcloud_requests_total",
		"resizer_jdcloud_request_duration_seconds", "resizer_inflight"} {
		if fams[name] == nil {
			t.Errorf("the scrape has no %s", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	got := map[[2]string]float64{}
	for _, m := range fams["resizer_outcomes_total"].GetMetric() {
		got[[2]string{promLabel(m, "outcome"), promLabel(m, "reason")}] = m.GetCounter().GetValue()
	}
	want := map[[2]string]float64{
		{"succeeded", "resized"}: 1, {"succeeded", "replay"}: 1, {"succeeded", "dry_run"}: 3,
		{"failed", "instance_not_stopped"}: 1, {"failed", "not_found"}: 1, {"failed", "invalid_request"}: 1,
		{"pending", "unchanged"}: 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("resizer_outcomes_total\n got %v\nwant %v", got, want)
	}
	if h := fams["resizer_resize_duration_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() <= 0 {
		t.Errorf("resizer_resize_duration_seconds: %d samples, sum %v; want the one resize", h.GetSampleCount(), h.GetSampleSum())
	}
	wantJD, wantLatency := map[[2]string]float64{}, map[string]uint64{}
	for _, q := range sim.Requests() {
		wantJD[[2]string{q.Op, metrics.StatusLabel(q.Status)}]++
		wantLatency[q.Op]++
	}
	gotJD, gotLatency := map[[2]string]float64{}, map[string]uint64{}
	for _, m := range fams["resizer_jdcloud_requests_total"].GetMetric() {
		gotJD[[2]string{promLabel(m, "op"), promLabel(m, "status")}] = m.GetCounter().GetValue()
	}
	for _, m := range fams["resizer_jdcloud_request_duration_seconds"].GetMetric() {
		gotLatency[promLabel(m, "op")] = m.GetHistogram().GetSampleCount()
	}
	if fmt.Sprint(gotJD) != fmt.Sprint(wantJD) || gotJD[[2]string{"describeInstance", "429"}] != 1 || gotJD[[2]string{"resizeInstance", "200"}] != 1 {
		t.Errorf("resizer_jdcloud_requests_total\n got %v\nwant %v (the simulator's log), with one 429 and one resize", gotJD, wantJD)
	}
	if fmt.Sprint(gotLatency) != fmt.Sprint(wantLatency) {
		t.Errorf("resizer_jdcloud_request_duration_seconds counts\n got %v\nwant %v", gotLatency, wantLatency)
	}
	if v := fams["resizer_inflight"].GetMetric()[0].GetGauge().GetValue(); v != 0 {
		t.Errorf("resizer_inflight = %v after every answer, want 0", v)
	}
	for _, id := range []string{"i-stopped", "i-running", "i-nosuch", "srv-", "grafana", "alertmanager"} {
		if bytes.Contains(scrape, []byte(id)) {
			t.Errorf("the scrape carries %q", id)
		}
	}
}

func promLabel(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
