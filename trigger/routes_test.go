package trigger

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/webhook"
)

var jsonCT = map[string]string{"Content-Type": "application/json"}

func routeReq(method, path, body string, header map[string]string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

// amAlert is one alert of an Alertmanager message.
func amAlert(status, fingerprint string, labels map[string]string) map[string]any {
	return map[string]any{
		"status": status, "labels": labels, "annotations": map[string]string{"summary": "CPU > 90% for 15m"},
		"startsAt": "2026-11-28T01:00:00.123Z", "endsAt": "0001-01-01T00:00:00Z",
		"generatorURL": "http://prometheus:9090/graph", "fingerprint": fingerprint,
	}
}

// amLabels are an alert's labels asking for instance to go to target.
func amLabels(instance, target string) map[string]string {
	return map[string]string{"alertname": "HighCPU", "jdcloud_instance_id": instance, "jdcloud_region": "cn-north-1", "resize_to": target}
}

// amBody is an Alertmanager 0.25 webhook message (version 4) to receiver.
func amBody(t *testing.T, truncated int, alerts ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"receiver": "prod", "status": "firing", "alerts": alerts,
		"groupLabels": map[string]string{"alertname": "HighCPU"}, "commonLabels": map[string]string{}, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager:9093", "version": "4", "groupKey": "{}:{alertname=\"HighCPU\"}", "truncatedAlerts": truncated,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func dataOf(t *testing.T, e event.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data(), &m); err != nil {
		t.Fatalf("data of %s: %v", e.ID(), err)
	}
	return m
}

// countingBody records whether the handler read the body at all.
type countingBody struct {
	io.Reader
	read bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.read = true
	return b.Reader.Read(p)
}

func (b *countingBody) Close() error { return nil }

// Paths outside the table are 404 and the POST routes take nothing but
// POST: neither reads the body nor reaches the Processor.
func TestRouteTable(t *testing.T) {
	for _, tt := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"POST", "/resize", 404, ""},
		{"POST", "/alertmanager/", 404, ""},
		{"POST", "/Alertmanager", 404, ""},
		{"POST", "/alertmanager/v2", 404, ""},
		{"GET", "/metricsx", 404, ""},
		{"POST", "/healthz/", 404, ""},
		{"GET", "/", 405, "POST"},
		{"GET", "/alertmanager", 405, "POST"},
		{"PUT", "/grafana", 405, "POST"},
		{"DELETE", "/jdcloud-monitor", 405, "POST"},
		{"HEAD", "/jira", 405, "POST"},
		{"POST", "/healthz", 405, "GET, HEAD"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			f := newFake()
			body := &countingBody{Reader: strings.NewReader(amBody(t, 0, amAlert("firing", "a1", amLabels("i-abcdef12", "g.n2.large"))))}
			r := httptest.NewRequest(tt.method, tt.path, body)
			r.Header.Set("Content-Type", "application/json")
			w := serveReq(t, New(f, allowAll()), r)
			if w.Code != tt.status || w.Header().Get("Allow") != tt.allow {
				t.Fatalf("status %d Allow %q, want %d %q: %s", w.Code, w.Header().Get("Allow"), tt.status, tt.allow, w.Body)
			}
			if body.read || len(f.handledEvents())+len(f.rejections()) != 0 {
				t.Fatalf("read the body (%t) or ran something (%d)", body.read, len(f.handledEvents())+len(f.rejections()))
			}
		})
	}
	for _, m := range []string{"GET", "HEAD"} {
		// No credentials configured at all: health needs none.
		w := serveReq(t, New(newFake(), Options{}), httptest.NewRequest(m, "/healthz", nil))
		if w.Code != 200 {
			t.Errorf("%s /healthz = %d", m, w.Code)
		}
	}
}

// Authentication comes first on every route: a 401 reads and runs nothing.
func TestRoutesAuthenticateFirst(t *testing.T) {
	body := amBody(t, 0, amAlert("firing", "a1", amLabels("i-abcdef12", "g.n2.large")))
	for _, path := range []string{"/alertmanager", "/grafana", "/jdcloud-monitor", "/jira"} {
		for name, o := range map[string]Options{
			"nothing configured": {},
			"token":              {WebhookToken: testToken},
			"secret":             {WebhookSecret: testSecret},
		} {
			t.Run(path+" "+name, func(t *testing.T) {
				f := newFake()
				hdr := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer wrong"}
				if o.WebhookSecret != "" {
					hdr[HeaderSignature256] = sign("other", body)
				}
				w := serveReq(t, New(f, o), routeReq("POST", path, body, hdr))
				if w.Code != 401 {
					t.Fatalf("status %d, want 401: %s", w.Code, w.Body)
				}
				if n := len(f.handledEvents()) + len(f.rejections()); n != 0 {
					t.Fatalf("%d outcomes for an unauthenticated request", n)
				}
			})
		}
	}
}

func TestAlertmanagerRoute(t *testing.T) {
	log, logs := testkit.Logger()
	f := newFake()
	d := New(f, Options{WebhookToken: testToken, Log: log})
	body := amBody(t, 0,
		amAlert("firing", "3fa85f6457174562", amLabels("i-abcdef12", "g.n2.large")),
		amAlert("resolved", "0c1d2e3f4a5b6c7d", amLabels("i-abcdef13", "g.n2.large")),
		amAlert("firing", "b2c4d6e8f0a1b3c5", amLabels("i-abcdef14", "g.n2.xlarge")),
	)
	hdr := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + testToken}
	w := serveReq(t, d, routeReq("POST", "/alertmanager", body, hdr))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/cloudevents-batch+json" {
		t.Fatalf("status %d %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	outs := decodeOutcomes(t, w.Body.Bytes())
	evs := f.handledEvents()
	if len(outs) != 2 || len(evs) != 2 || len(f.rejections()) != 0 {
		t.Fatalf("%d outcomes, %d handled, %d rejected; want 2, 2, 0: %s", len(outs), len(evs), len(f.rejections()), w.Body)
	}
	want := map[string]string{"3fa85f6457174562:2026-11-28T01:00:00.123Z": "g.n2.large", "b2c4d6e8f0a1b3c5:2026-11-28T01:00:00.123Z": "g.n2.xlarge"}
	for _, e := range evs {
		if e.Source() != "alertmanager/prod" || e.Type() != resizer.TypeRequested || want[e.ID()] == "" {
			t.Errorf("handled %s from %s, type %s", e.ID(), e.Source(), e.Type())
			continue
		}
		data := dataOf(t, e)
		if data["instanceType"] != want[e.ID()] || data["regionId"] != "cn-north-1" || data["requestedBy"] != "alertmanager" ||
			data["reason"] != "HighCPU: CPU > 90% for 15m" {
			t.Errorf("%s: data %v", e.ID(), data)
		}
	}
	// Outcomes in the message's order.
	if outs[0].Data.Request.ID != "3fa85f6457174562:2026-11-28T01:00:00.123Z" || outs[1].Data.Request.ID != "b2c4d6e8f0a1b3c5:2026-11-28T01:00:00.123Z" {
		t.Errorf("outcomes for %s, %s", outs[0].Data.Request.ID, outs[1].Data.Request.ID)
	}
	if !strings.Contains(logs.String(), `"resolvedAlerts":1`) {
		t.Errorf("the resolved alert is not counted in the log:\n%s", logs)
	}
}

// resize_direction becomes the request's direction: the request carries
// the relative sizing fields for the root package to validate and plan.
func TestAlertmanagerRouteDirection(t *testing.T) {
	f := newFake()
	labels := amLabels("i-abcdef12", "")
	delete(labels, "resize_to")
	labels["resize_direction"] = "up"
	labels["resize_steps"] = "2"
	labels["resize_max_type"] = "g.n2.4xlarge"
	w := serveReq(t, New(f, allowAll()), routeReq("POST", "/alertmanager", amBody(t, 0, amAlert("firing", "a1b2", labels)), jsonCT))
	evs := f.handledEvents()
	if w.Code != 200 || len(evs) != 1 {
		t.Fatalf("status %d, %d handled: %s", w.Code, len(evs), w.Body)
	}
	data := dataOf(t, evs[0])
	if data["direction"] != "up" || data["steps"] != 2.0 || data["maxInstanceType"] != "g.n2.4xlarge" || data["instanceType"] != nil {
		t.Fatalf("data %v, want direction up, steps 2, maxInstanceType and no instanceType", data)
	}
}

// An alert whose labels are wrong still yields a failed/invalid_request
// outcome, through Reject (published and logged like any other), naming
// the alert and the label; the answer is 200: a retry cannot help.
func TestAlertmanagerRouteBadLabels(t *testing.T) {
	f := newFake()
	missing := amLabels("", "g.n2.large")
	delete(missing, "jdcloud_instance_id")
	badSteps := amLabels("i-abcdef13", "")
	delete(badSteps, "resize_to")
	badSteps["resize_direction"], badSteps["resize_steps"] = "up", "9"
	body := amBody(t, 0,
		amAlert("firing", "aaaa1111", missing),
		amAlert("firing", "bbbb2222", amLabels("i-abcdef12", "g.n2.large")),
		amAlert("firing", "cccc3333", badSteps),
	)
	w := serveReq(t, New(f, allowAll()), routeReq("POST", "/alertmanager", body, jsonCT))
	if w.Code != 200 {
		t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
	}
	outs := decodeOutcomes(t, w.Body.Bytes())
	rej := f.rejections()
	if len(outs) != 3 || len(rej) != 2 || len(f.handledEvents()) != 1 {
		t.Fatalf("%d outcomes, %d rejected, %d handled: %s", len(outs), len(rej), len(f.handledEvents()), w.Body)
	}
	for i, want := range map[int][]string{0: {`alert "HighCPU"`, `"aaaa1111"`, `label "jdcloud_instance_id"`, "missing"}, 2: {`"cccc3333"`, `label "resize_steps"`, `"9"`}} {
		o := outs[i]
		if errCode(o) != resizer.CodeInvalidRequest || o.Type != resizer.TypeFailed {
			t.Errorf("outcome %d: %s %s, want failed invalid_request", i, o.Type, errCode(o))
			continue
		}
		for _, s := range want {
			if !strings.Contains(o.Data.Error.Message, s) {
				t.Errorf("outcome %d: message %q does not name %s", i, o.Data.Error.Message, s)
			}
		}
	}
	for _, r := range rej { // in any order: items run concurrently
		if p := r.partial; p == nil || p.Source() != "alertmanager/prod" || (!strings.HasPrefix(p.ID(), "aaaa1111:") && !strings.HasPrefix(p.ID(), "cccc3333:")) {
			t.Errorf("Reject got %v, want the alert's id and source", p)
		}
	}
	if errCode(outs[1]) != "" {
		t.Errorf("the good alert between them failed: %+v", outs[1].Data.Error)
	}
}

func TestAlertmanagerRouteAnswers(t *testing.T) {
	firing := func(n int) []map[string]any {
		var out []map[string]any
		for i := range n {
			out = append(out, amAlert("firing", fmt.Sprintf("f%04d", i), amLabels("i-abcdef12", "g.n2.large")))
		}
		return out
	}
	body := func(v map[string]any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	for _, tt := range []struct {
		name   string
		o      Options
		body   string
		header map[string]string
		status int
		ran    int // outcomes
	}{
		{name: "version 3 is 400", body: strings.Replace(amBody(t, 0, firing(1)...), `"version":"4"`, `"version":"3"`, 1), status: 400},
		{name: "version missing is 400", body: strings.Replace(amBody(t, 0, firing(1)...), `,"version":"4"`, ``, 1), status: 400},
		{name: "alerts not objects is 400", body: body(map[string]any{"version": "4", "receiver": "prod", "alerts": []int{1, 2}}), status: 400},
		{name: "not JSON is 400", body: `{"version":"4",`, status: 400},
		{name: "a JSON array is 400", body: `[]`, status: 400},
		{name: "100 firing alerts run", body: amBody(t, 0, firing(100)...), status: 200, ran: 100},
		{name: "101 firing alerts are 413", body: amBody(t, 0, firing(101)...), status: 413},
		{name: "over 256 KiB is 413", body: amBody(t, 0, amAlert("firing", "a1", map[string]string{"alertname": strings.Repeat("x", 300<<10)})), status: 413},
		{name: "text/plain is 415", body: amBody(t, 0, firing(1)...), header: map[string]string{"Content-Type": "text/plain"}, status: 415},
		{name: "cloudevents content type is 415", body: amBody(t, 0, firing(1)...), header: map[string]string{"Content-Type": "application/cloudevents+json"}, status: 415},
		{name: "no content type is 415", body: amBody(t, 0, firing(1)...), header: map[string]string{}, status: 415},
		{name: "charset parameter is fine", body: amBody(t, 0, firing(1)...), header: map[string]string{"Content-Type": "Application/JSON; charset=utf-8"}, status: 200, ran: 1},
		{name: "only resolved alerts is 200 and an empty batch", body: amBody(t, 0, amAlert("resolved", "r1", amLabels("i-abcdef12", "g.n2.large"))), status: 200},
		{name: "no alerts is 200 and an empty batch", body: amBody(t, 0), status: 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			hdr := tt.header
			if hdr == nil {
				hdr = jsonCT
			}
			w := serveReq(t, New(f, allowAll()), routeReq("POST", "/alertmanager", tt.body, hdr))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %.300s", w.Code, tt.status, w.Body)
			}
			if n := len(f.handledEvents()) + len(f.rejections()); n != tt.ran {
				t.Fatalf("%d ran, want %d", n, tt.ran)
			}
			if tt.status != 200 {
				if !strings.Contains(w.Body.String(), `"error"`) {
					t.Errorf("answer %s has no error", w.Body)
				}
				return
			}
			if w.Header().Get("Content-Type") != "application/cloudevents-batch+json" {
				t.Errorf("Content-Type %q", w.Header().Get("Content-Type"))
			}
			if outs := decodeOutcomes(t, w.Body.Bytes()); len(outs) != tt.ran {
				t.Errorf("%d outcomes, want %d", len(outs), tt.ran)
			}
			if tt.ran == 0 && w.Body.String() != "[]" {
				t.Errorf("answer %q, want []", w.Body)
			}
		})
	}
}

// Any retryable outcome makes the answer 503 with Retry-After, so that
// Alertmanager sends the notification again (idempotency makes the
// succeeded ones replays); every outcome is in the body all the same.
func TestAlertmanagerRouteRetryable(t *testing.T) {
	f := newFake()
	f.retryIf = func(id string) bool { return strings.HasPrefix(id, "dead") }
	body := amBody(t, 0,
		amAlert("firing", "aaaa", amLabels("i-abcdef12", "g.n2.large")),
		amAlert("firing", "dead", amLabels("i-abcdef13", "g.n2.large")),
	)
	w := serveReq(t, New(f, allowAll()), routeReq("POST", "/alertmanager", body, jsonCT))
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" {
		t.Fatalf("status %d Retry-After %q, want 503 5", w.Code, w.Header().Get("Retry-After"))
	}
	if outs := decodeOutcomes(t, w.Body.Bytes()); len(outs) != 2 || errCode(outs[1]) != resizer.CodeUnavailable {
		t.Fatalf("outcomes %s", w.Body)
	}
}

func TestAlertmanagerRouteTruncatedIsAWarning(t *testing.T) {
	log, logs := testkit.Logger()
	w := serveReq(t, New(newFake(), Options{AllowUnauthenticated: true, Log: log}),
		routeReq("POST", "/alertmanager", amBody(t, 3, amAlert("firing", "a1", amLabels("i-abcdef12", "g.n2.large"))), jsonCT))
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var warned bool
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, `"level":"warn"`) && strings.Contains(line, `"truncatedAlerts":3`) {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no warning with truncatedAlerts 3:\n%s", logs)
	}
}

// The alert labels are configurable (ALERT_INSTANCE_LABEL,
// ALERT_REGION_LABEL, DEFAULT_REGION).
func TestAlertmanagerRouteLabelOptions(t *testing.T) {
	f := newFake()
	o := allowAll()
	o.Labels = webhook.Labels{Instance: "instance_id", Region: "region", DefaultRegion: "cn-east-2"}
	labels := map[string]string{"alertname": "HighCPU", "instance_id": "i-abcdef12", "resize_to": "g.n2.large"}
	w := serveReq(t, New(f, o), routeReq("POST", "/alertmanager", amBody(t, 0, amAlert("firing", "a1", labels)), jsonCT))
	evs := f.handledEvents()
	if w.Code != 200 || len(evs) != 1 {
		t.Fatalf("status %d, %d handled: %s", w.Code, len(evs), w.Body)
	}
	if d := dataOf(t, evs[0]); d["instanceId"] != "i-abcdef12" || d["regionId"] != "cn-east-2" {
		t.Fatalf("data %v", d)
	}
}

func grafanaBody(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "webhook", "testdata", "grafana.json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hexHMAC(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestGrafanaRoute(t *testing.T) {
	body := grafanaBody(t)
	now := time.Unix(1795828320, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	stale := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	for _, tt := range []struct {
		name   string
		path   string
		header map[string]string
		status int
	}{
		{"HMAC over the body", "/grafana", map[string]string{webhook.HeaderGrafanaSignature: hexHMAC(testSecret, body)}, 200},
		{"HMAC over timestamp:body", "/grafana", map[string]string{webhook.HeaderGrafanaSignature: hexHMAC(testSecret, ts+":"+body), webhook.HeaderGrafanaTimestamp: ts}, 200},
		{"stale timestamp", "/grafana", map[string]string{webhook.HeaderGrafanaSignature: hexHMAC(testSecret, stale+":"+body), webhook.HeaderGrafanaTimestamp: stale}, 401},
		{"timestamp stripped", "/grafana", map[string]string{webhook.HeaderGrafanaSignature: hexHMAC(testSecret, ts+":"+body)}, 401},
		{"other secret", "/grafana", map[string]string{webhook.HeaderGrafanaSignature: hexHMAC("other", body)}, 401},
		{"bearer", "/grafana", map[string]string{"Authorization": "Bearer " + testToken}, 200},
		{"X-Hub-Signature-256", "/grafana", map[string]string{HeaderSignature256: sign(testSecret, body)}, 200},
		{"Grafana's header is for /grafana only", "/alertmanager", map[string]string{webhook.HeaderGrafanaSignature: hexHMAC(testSecret, body)}, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			d := New(f, Options{WebhookSecret: testSecret, WebhookToken: testToken, Now: func() time.Time { return now }})
			hdr := map[string]string{"Content-Type": "application/json"}
			for k, v := range tt.header {
				hdr[k] = v
			}
			w := serveReq(t, d, routeReq("POST", tt.path, body, hdr))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				if n := len(f.handledEvents()) + len(f.rejections()); n != 0 {
					t.Fatalf("%d ran", n)
				}
				return
			}
			outs := decodeOutcomes(t, w.Body.Bytes())
			if len(outs) == 0 {
				t.Fatalf("no outcomes: %s", w.Body)
			}
			for _, e := range f.handledEvents() {
				if !strings.HasPrefix(e.Source(), "grafana/") || dataOf(t, e)["requestedBy"] != "grafana" {
					t.Errorf("handled %s from %s: %s", e.ID(), e.Source(), e.Data())
				}
			}
		})
	}
}

const jdBody = `{"requestId":"c0b7d2a4e6f81357","resourceId":"i-abcdef12","region":"cn-north-1","metric":"cpu_util",` +
	`"currentValue":"93.5","threshold":"90","alertTime":"2026-11-28T01:00:00Z","resize":{"direction":"up","steps":1,"maxInstanceType":"g.n2.4xlarge"}}`

// JD Cloud Monitor's callback can carry the token in its URL; it is
// compared in constant time and never logged or echoed.
func TestJDCloudMonitorRoute(t *testing.T) {
	const token = "jd-query-token-Zq9" // not testToken: must not be found in logs by accident
	for _, tt := range []struct {
		name, path, query string
		header            map[string]string
		status            int
	}{
		{"query token", "/jdcloud-monitor", "?token=" + token, nil, 200},
		{"query token among other parameters", "/jdcloud-monitor", "?rule=cpu&token=" + token, nil, 200},
		{"bearer", "/jdcloud-monitor", "", map[string]string{"Authorization": "Bearer " + token}, 200},
		{"one byte off", "/jdcloud-monitor", "?token=" + token[:len(token)-1] + "X", nil, 401},
		{"a prefix", "/jdcloud-monitor", "?token=" + token[:5], nil, 401},
		{"two tokens", "/jdcloud-monitor", "?token=" + token + "&token=" + token, nil, 401},
		{"no token", "/jdcloud-monitor", "", nil, 401},
		{"the query token is for /jdcloud-monitor only", "/alertmanager", "?token=" + token, nil, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			log, logs := testkit.Logger()
			d := New(f, Options{WebhookToken: token, Log: log})
			hdr := map[string]string{"Content-Type": "application/json"}
			for k, v := range tt.header {
				hdr[k] = v
			}
			w := serveReq(t, d, routeReq("POST", tt.path+tt.query, jdBody, hdr))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if strings.Contains(logs.String(), token[:8]) || strings.Contains(w.Body.String(), token[:8]) {
				t.Fatalf("the token reached the log or the answer:\n%s\n%s", logs, w.Body)
			}
			evs := f.handledEvents()
			if tt.status != 200 {
				if len(evs)+len(f.rejections()) != 0 {
					t.Fatal("an unauthenticated callback ran")
				}
				return
			}
			if len(evs) != 1 || evs[0].Source() != "jdcloud-monitor/cn-north-1" || evs[0].ID() != "c0b7d2a4e6f81357" {
				t.Fatalf("handled %v", evs)
			}
			if d := dataOf(t, evs[0]); d["direction"] != "up" || d["instanceId"] != "i-abcdef12" || d["requestedBy"] != "jdcloud-monitor" {
				t.Fatalf("data %v", d)
			}
		})
	}
	t.Run("no requestId is 400", func(t *testing.T) {
		f := newFake()
		body := strings.Replace(jdBody, `"requestId":"c0b7d2a4e6f81357",`, "", 1)
		w := serveReq(t, New(f, allowAll()), routeReq("POST", "/jdcloud-monitor", body, jsonCT))
		if w.Code != 400 || len(f.handledEvents())+len(f.rejections()) != 0 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

func jiraBody(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "webhook", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jiraOptions(t *testing.T) Options {
	t.Helper()
	fields, err := webhook.ParseJiraFields("instanceId=customfield_10050,regionId=customfield_10051,instanceType=customfield_10052,approvalId=customfield_10054")
	if err != nil {
		t.Fatal(err)
	}
	return Options{WebhookSecret: testSecret, Jira: webhook.JiraConfig{Fields: fields}}
}

// Jira signs with X-Hub-Signature: sha256=…. A transition to the approved
// or rejected status with an approval id is handed to the Processor as an
// approval CloudEvent (the approvals gate judges it); without one, the
// approved ticket is a request of its own.
func TestJiraRoute(t *testing.T) {
	for _, tt := range []struct {
		file, typ, id string
		data          map[string]any
	}{
		{"jira-approved-approval.json", webhook.TypeApproved, "OPS-42:10519", map[string]any{"approvalId": "apr-5f2c9e0b7d1a4e33", "approvedBy": "li.wei@example.com"}},
		{"jira-rejected-approval.json", webhook.TypeRejected, "OPS-42:10520", map[string]any{"approvalId": "apr-5f2c9e0b7d1a4e33", "rejectedBy": "Li Wei"}},
		{"jira-approved-request.json", resizer.TypeRequested, "OPS-42:10518", map[string]any{"instanceId": "i-y7xnhq39ah", "regionId": "cn-north-1", "instanceType": "g.n2.xlarge"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			f := newFake()
			body := jiraBody(t, tt.file)
			w := serveReq(t, New(f, jiraOptions(t)), routeReq("POST", "/jira", body, map[string]string{
				"Content-Type": "application/json; charset=UTF-8", HeaderSignature: sign(testSecret, body),
			}))
			evs := f.handledEvents()
			if w.Code != 200 || len(evs) != 1 || len(decodeOutcomes(t, w.Body.Bytes())) != 1 {
				t.Fatalf("status %d, %d handled: %s", w.Code, len(evs), w.Body)
			}
			e := evs[0]
			if e.Type() != tt.typ || e.Source() != "jira/OPS" || e.ID() != tt.id {
				t.Fatalf("handled %s %s %s, want %s jira/OPS %s", e.Type(), e.Source(), e.ID(), tt.typ, tt.id)
			}
			data := dataOf(t, e)
			for k, v := range tt.data {
				if data[k] != v {
					t.Errorf("data.%s = %v, want %v (data %v)", k, data[k], v, data)
				}
			}
		})
	}
	t.Run("anything but a transition is an empty batch", func(t *testing.T) {
		for _, file := range []string{"jira-comment.json", "jira-near-miss.json"} {
			f := newFake()
			body := jiraBody(t, file)
			w := serveReq(t, New(f, jiraOptions(t)), routeReq("POST", "/jira", body, map[string]string{
				"Content-Type": "application/json", HeaderSignature: sign(testSecret, body),
			}))
			if w.Code != 200 || w.Body.String() != "[]" || len(f.handledEvents())+len(f.rejections()) != 0 {
				t.Errorf("%s: status %d %s", file, w.Code, w.Body)
			}
		}
	})
	t.Run("unmapped fields are a failed outcome naming them", func(t *testing.T) {
		f := newFake()
		o := jiraOptions(t)
		o.Jira.Fields = map[string]string{"regionId": "customfield_10051"}
		body := jiraBody(t, "jira-approved-request.json")
		w := serveReq(t, New(f, o), routeReq("POST", "/jira", body, map[string]string{
			"Content-Type": "application/json", HeaderSignature: sign(testSecret, body),
		}))
		outs := decodeOutcomes(t, w.Body.Bytes())
		if w.Code != 200 || len(outs) != 1 || len(f.rejections()) != 1 || errCode(outs[0]) != resizer.CodeInvalidRequest ||
			!strings.Contains(outs[0].Data.Error.Message, "instanceId (not mapped in JIRA_FIELDS)") {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

// The Function URL serves the same table: its requests become
// *http.Request for ServeHTTP. A named API Gateway stage is not part of the
// route.
func TestRoutesThroughAPIGateway(t *testing.T) {
	body := amBody(t, 0, amAlert("firing", "a1", amLabels("i-abcdef12", "g.n2.large")))
	for _, tt := range []struct {
		name, rawPath, stage string
		status               int
	}{
		{"Function URL", "/alertmanager", "$default", 200},
		{"no stage given", "/alertmanager", "", 200},
		{"named stage", "/prod/alertmanager", "prod", 200},
		{"named stage, root", "/prod", "prod", 415}, // "/" takes CloudEvents: plain JSON is 415
		{"stage-like prefix on $default", "/prod/alertmanager", "$default", 404},
		{"another stage's prefix", "/dev/alertmanager", "prod", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			req := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "$default", RawPath: tt.rawPath, RawQueryString: "",
				Headers: map[string]string{"content-type": "application/json"}, Body: body,
			}
			req.RequestContext.Stage = tt.stage
			req.RequestContext.HTTP.Method = "POST"
			req.RequestContext.HTTP.Path = tt.rawPath
			p, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			resp := invokeHTTPResp(t, New(f, allowAll()), p)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.status == 200 && (len(f.handledEvents()) != 1 || resp.Headers["Content-Type"] != "application/cloudevents-batch+json") {
				t.Fatalf("handled %d, headers %v", len(f.handledEvents()), resp.Headers)
			}
		})
	}
}

// HTTP server mode serves the same table, and its request logging never
// writes the query (JD Cloud Monitor's ?token=).
func TestRoutesInServerMode(t *testing.T) {
	const token = "jd-server-token-Kx2"
	log, logs := testkit.Logger()
	f := newFake()
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, ln, New(f, Options{WebhookToken: token, Log: log}), log, time.Second, time.Second)
	}()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	base := "http://" + ln.Addr().String()
	post := func(path string) int {
		resp, err := client.Post(base+path, "application/json", strings.NewReader(jdBody))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	codes := []int{post("/jdcloud-monitor?token=" + token), post("/jdcloud-monitor?token=" + token + "x"), post("/nowhere?token=" + token)}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if codes[0] != 200 || codes[1] != 401 || codes[2] != 404 {
		t.Fatalf("statuses %v, want 200 401 404", codes)
	}
	if len(f.handledEvents()) != 1 {
		t.Fatalf("%d handled, want 1", len(f.handledEvents()))
	}
	if strings.Contains(logs.String(), token[:8]) {
		t.Fatalf("the query token reached the log:\n%s", logs)
	}
	if !strings.Contains(logs.String(), `"route":"/jdcloud-monitor"`) {
		t.Errorf("the log does not name the route:\n%s", logs)
	}
}
