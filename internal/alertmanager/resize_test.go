package alertmanager

// The product end to end behind a real Alertmanager: its notifications go
// to the real wiring (the trigger's route table over loopback, the domain
// Handler, the JD Cloud simulator), so what is asserted is what an operator
// would see: one resize per firing alert, repeats that are replays, nothing
// for a resolved alert, a failed outcome naming a rule's missing label, and
// a 503 that Alertmanager answers by sending again.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// outcomeView is an outcome event of the product's answer.
type outcomeView struct {
	ID   string              `json:"id"`
	Type string              `json:"type"`
	Data resizer.OutcomeData `json:"data"`
}

// notification is one webhook request Alertmanager made and the product's
// answer to it.
type notification struct {
	msg    message
	status int
	answer []byte
	outs   []outcomeView
}

// instance is the instance label of the notification's one alert.
func (n notification) instance() string {
	if len(n.msg.Alerts) != 1 {
		return ""
	}
	return n.msg.Alerts[0].Labels["jdcloud_instance_id"]
}

func (n notification) alertname() string {
	if len(n.msg.Alerts) != 1 {
		return ""
	}
	return n.msg.Alerts[0].Labels["alertname"]
}

// product is the function's real wiring on loopback, recording every
// notification it answers.
type product struct {
	*httptest.Server
	rig  *testkit.Rig
	logs *testkit.SyncBuffer
	got  chan notification

	mu  sync.Mutex
	all []notification
}

func newProduct(t *testing.T) *product {
	t.Helper()
	log, logs := testkit.Logger()
	rig := testkit.New(t, testkit.WithLog(log))
	d := trigger.New(rig.Handler, trigger.Options{WebhookToken: token, Log: log})
	p := &product{rig: rig, logs: logs, got: make(chan notification, 200)}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("product: read body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		n := notification{status: rec.Code, answer: rec.Body.Bytes()}
		if err := json.Unmarshal(body, &n.msg); err != nil {
			t.Errorf("product: not a webhook message (%v): %s", err, body)
		}
		if rec.Code == http.StatusOK || rec.Code == http.StatusServiceUnavailable {
			if err := json.Unmarshal(n.answer, &n.outs); err != nil {
				t.Errorf("product: answer %d is not a batch of outcomes (%v): %s", rec.Code, err, n.answer)
			}
		}
		p.mu.Lock()
		p.all = append(p.all, n)
		p.mu.Unlock()
		select {
		case p.got <- n:
		default:
			t.Errorf("product: more than %d notifications", cap(p.got))
		}
	}))
	t.Cleanup(p.Close)
	return p
}

// next waits for the next notification that match accepts, leaving the
// others in p.all; on a timeout it fails t with what Alertmanager holds and
// logged, and what the product logged.
func (p *product) next(t *testing.T, s *Server, what string, match func(notification) bool) notification {
	t.Helper()
	deadline := time.After(deliveryTimeout)
	for {
		select {
		case n := <-p.got:
			if match(n) {
				return n
			}
		case <-deadline:
			alerts, err := s.Alerts()
			t.Fatalf("no %s within %v (alerts %+v, %v)\nalertmanager:\n%s\nproduct:\n%s", what, deliveryTimeout, alerts, err, s.Log(), p.logs)
			return notification{}
		}
	}
}

func (p *product) notifications() []notification {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]notification(nil), p.all...)
}

// One Alertmanager, two alert rules: HighCPU with resize_to on
// i-stopped01, and DiskFull, whose rule forgot the instance label. The
// repeat interval is short, so each is notified again and again.
func TestRealAlertmanagerDrivesTheResizer(t *testing.T) {
	t.Parallel()
	p := newProduct(t)
	s := New(t, Options{
		WebhookURL: p.URL + trigger.PathAlertmanager, Token: token, SendResolved: true,
		GroupWait: time.Second, GroupInterval: time.Second, RepeatInterval: 2 * time.Second,
	})
	sim := p.rig.Sim
	cpu := map[string]string{
		"alertname": "HighCPU", "jdcloud_instance_id": "i-stopped01", "jdcloud_region": "cn-north-1",
		"resize_to": "g.n2.large", "severity": "page",
	}
	disk := map[string]string{"alertname": "DiskFull", "jdcloud_region": "cn-north-1", "resize_to": "g.n2.large"}
	startsAt, err := s.Fire(cpu, map[string]string{"summary": "CPU above 90% for 15m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fire(disk, nil); err != nil {
		t.Fatal(err)
	}
	isCPU := func(status string) func(notification) bool {
		return func(n notification) bool { return n.instance() == "i-stopped01" && n.msg.Status == status }
	}

	// The firing alert resizes the instance: one resizeInstance, succeeded.
	first := p.next(t, s, "HighCPU notification", isCPU("firing"))
	if first.status != http.StatusOK || len(first.outs) != 1 {
		t.Fatalf("HighCPU: answer %d %s, want 200 and one outcome", first.status, first.answer)
	}
	o := first.outs[0]
	// <fingerprint>:<startsAt> with startsAt as Alertmanager wrote it.
	wantID := o.Data.Request.ID
	if fp, at, _ := strings.Cut(wantID, ":"); fp != first.msg.Alerts[0].Fingerprint || !parsesTo(at, startsAt) {
		t.Errorf("HighCPU: request id %q, want %s:<startsAt %v>", wantID, first.msg.Alerts[0].Fingerprint, startsAt)
	}
	if o.Type != resizer.TypeSucceeded || !o.Data.Changed || o.Data.InstanceType != "g.n2.large" || o.Data.PreviousInstanceType != "g.n2.medium" {
		t.Fatalf("HighCPU: outcome %s", first.answer)
	}
	if o.Data.Request.Source != "alertmanager/resizer" {
		t.Errorf("HighCPU: request from %s, want alertmanager/resizer", o.Data.Request.Source)
	}
	if o.Data.Reason != "HighCPU: CPU above 90% for 15m" || o.Data.RequestedBy != "alertmanager" {
		t.Errorf("HighCPU: reason %q requestedBy %q", o.Data.Reason, o.Data.RequestedBy)
	}
	if n := sim.Calls(jdcloudsim.OpResizeInstance); n != 1 {
		t.Fatalf("%d resizeInstance calls after the first notification, want 1", n)
	}
	for _, q := range sim.Requests() {
		if q.Op == jdcloudsim.OpResizeInstance && (!q.SignatureValid || q.Path != "/v1/regions/cn-north-1/instances/i-stopped01:resizeInstance" || string(q.Body) != `{"instanceType":"g.n2.large"}`) {
			t.Fatalf("resizeInstance: signed %t %s %s", q.SignatureValid, q.Path, q.Body)
		}
	}

	// The rule without the instance label: a failed outcome that names the
	// alert and the label, answered 200 (Alertmanager must not retry it).
	bad := p.next(t, s, "DiskFull notification", func(n notification) bool { return n.alertname() == "DiskFull" })
	if bad.status != http.StatusOK || len(bad.outs) != 1 {
		t.Fatalf("DiskFull: answer %d %s, want 200 and one outcome", bad.status, bad.answer)
	}
	if e := bad.outs[0].Data.Error; bad.outs[0].Type != resizer.TypeFailed || e == nil || e.Code != resizer.CodeInvalidRequest ||
		!strings.Contains(e.Message, `alert "DiskFull"`) || !strings.Contains(e.Message, `label "jdcloud_instance_id" is missing`) {
		t.Fatalf("DiskFull: outcome %s, want failed invalid_request naming the alert and the label", bad.answer)
	}

	// The repeat: same fingerprint and startsAt, so the same request: the
	// stored outcome comes back and nothing is called again.
	repeat := p.next(t, s, "HighCPU repeat", isCPU("firing"))
	if repeat.status != http.StatusOK || len(repeat.outs) != 1 || repeat.outs[0].ID != o.ID || repeat.outs[0].Type != resizer.TypeSucceeded {
		t.Fatalf("repeat: answer %d %s, want 200 and the first outcome %s again", repeat.status, repeat.answer, o.ID)
	}
	if n := sim.Calls(jdcloudsim.OpResizeInstance); n != 1 {
		t.Fatalf("%d resizeInstance calls after the repeat, want 1", n)
	}

	// Resolved: built nothing, answered with an empty batch.
	if err := s.Resolve(cpu); err != nil {
		t.Fatal(err)
	}
	resolved := p.next(t, s, "HighCPU resolved", isCPU("resolved"))
	if resolved.status != http.StatusOK || string(resolved.answer) != "[]" {
		t.Fatalf("resolved: answer %d %s, want 200 []", resolved.status, resolved.answer)
	}
	if n := sim.Calls(jdcloudsim.OpResizeInstance); n != 1 {
		t.Fatalf("%d resizeInstance calls after the resolved notification, want 1", n)
	}

	var cpuFiring, replays, diskFull int
	for _, n := range p.notifications() {
		switch {
		case isCPU("firing")(n):
			cpuFiring++
			if len(n.outs) == 1 && n.outs[0].ID == o.ID && n.outs[0].Data.Request.ID == wantID {
				replays++
			}
		case n.alertname() == "DiskFull":
			diskFull++
			if len(n.outs) != 1 || n.outs[0].Data.Error == nil || n.outs[0].Data.Error.Code != resizer.CodeInvalidRequest {
				t.Errorf("a DiskFull notification was answered %d %s", n.status, n.answer)
			}
		}
	}
	replays-- // the first one is the original
	t.Logf("%d notifications: HighCPU firing %d (1 resize, %d replays), HighCPU resolved 1, DiskFull %d (each failed invalid_request); "+
		"the simulator saw %d resizeInstance and %d JD calls in all",
		len(p.notifications()), cpuFiring, replays, diskFull, sim.Calls(jdcloudsim.OpResizeInstance), len(sim.Requests()))
	if replays != cpuFiring-1 {
		t.Errorf("%d of %d HighCPU repeats were replays of the first outcome", replays, cpuFiring-1)
	}
	if logs := p.logs.String() + s.Log(); strings.Contains(logs, token) {
		t.Errorf("the bearer token reached a log")
	}
	if !strings.Contains(p.logs.String(), `"resolvedAlerts":1`) {
		t.Errorf("the resolved alert is not counted in the product's log")
	}
}

// JD Cloud is down for the first delivery: the product answers 503 with
// Retry-After, Alertmanager sends the same notification again, and that
// one resizes, once.
func TestRealAlertmanagerRetriesA503(t *testing.T) {
	t.Parallel()
	p := newProduct(t)
	sim := p.rig.Sim
	// Every try of the client's retry policy (testkit.FastRetry: 3) fails.
	sim.Fail(jdcloudsim.OpDescribeInstance, http.StatusServiceUnavailable, 3)
	s := New(t, Options{WebhookURL: p.URL + trigger.PathAlertmanager, Token: token})
	labels := map[string]string{"alertname": "HighCPU", "jdcloud_instance_id": "i-stopped02", "jdcloud_region": "cn-north-1", "resize_to": "g.n2.large"}
	if _, err := s.Fire(labels, nil); err != nil {
		t.Fatal(err)
	}
	first := p.next(t, s, "first delivery", func(notification) bool { return true })
	if first.status != http.StatusServiceUnavailable || len(first.outs) != 1 || first.outs[0].Data.Error == nil || first.outs[0].Data.Error.Code != resizer.CodeUnavailable {
		t.Fatalf("first delivery: answer %d %s, want 503 and an unavailable outcome", first.status, first.answer)
	}
	retry := p.next(t, s, "retried delivery", func(notification) bool { return true })
	if retry.msg.Alerts[0].Fingerprint != first.msg.Alerts[0].Fingerprint || !retry.msg.Alerts[0].StartsAt.Equal(first.msg.Alerts[0].StartsAt) {
		t.Fatalf("the retry is another alert: %+v", retry.msg.Alerts)
	}
	if retry.status != http.StatusOK || len(retry.outs) != 1 || retry.outs[0].Type != resizer.TypeSucceeded || !retry.outs[0].Data.Changed {
		t.Fatalf("retried delivery: answer %d %s, want 200 and a resize", retry.status, retry.answer)
	}
	if n := sim.Calls(jdcloudsim.OpResizeInstance); n != 1 {
		t.Fatalf("%d resizeInstance calls, want 1", n)
	}
	t.Logf("503 then 200: %d notifications, %d resizeInstance", len(p.notifications()), sim.Calls(jdcloudsim.OpResizeInstance))
}

func parsesTo(s string, want time.Time) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && t.Equal(want)
}
