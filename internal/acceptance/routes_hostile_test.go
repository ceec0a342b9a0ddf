package acceptance_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
	"github.com/jdcloud-vm-resizer/resizer/webhook"
)

// Hostile input on the native routes (docs/contract.md §7): each gets §7's
// answer, nothing invalid reaches JD Cloud, nothing panics, and no log
// message carries the input or the token.
func TestHostileRouteInputs(t *testing.T) {
	alert := func(labels string) string {
		return `{"version":"4","receiver":"resizer","status":"firing","groupKey":"g","alerts":[{"status":"firing","fingerprint":"f1",` +
			`"startsAt":"2026-12-02T01:00:00Z","labels":{"alertname":"HighCPU",` + labels + `},"annotations":{}}]}`
	}
	inst := `"jdcloud_instance_id":"i-stopped01","jdcloud_region":"cn-north-1"`
	bigAlerts := `{"version":"4","receiver":"r","status":"firing","alerts":[` + strings.TrimSuffix(strings.Repeat(`{"status":"firing","fingerprint":"f","startsAt":"2026-12-02T01:00:00Z","labels":{}},`, 10000), ",") + `]}`
	jd := func(members string) string {
		return `{` + members + `,"region":"cn-north-1","metric":"cpu","currentValue":"95","threshold":"90","alertTime":"2026-12-02 01:00:00","resize":{"direction":"up"}}`
	}
	cases := []struct {
		name, path, query, body string
		headers                 []string
		status                  int
		failed                  int // failed/invalid_request outcomes the answer carries
	}{
		{name: "version 3", path: "/alertmanager", body: `{"version":"3","receiver":"r","alerts":[]}`, status: 400},
		{name: "alerts not objects", path: "/alertmanager", body: `{"version":"4","receiver":"r","alerts":[1,"x",null]}`, status: 400},
		{name: "10 000 alerts", path: "/alertmanager", body: bigAlerts, status: 413},
		{name: "label with control characters", path: "/alertmanager", body: alert(`"jdcloud_instance_id":"i-stop\u0007ZQXMARK\r\nX-Evil: 1","resize_to":"g.n2.large"`), status: 200, failed: 1},
		{name: "1 MB label", path: "/alertmanager", body: alert(inst + `,"resize_to":"` + strings.Repeat("g", 1<<20) + `"`), status: 413},
		{name: "steps 0", path: "/alertmanager", body: alert(inst + `,"resize_direction":"up","resize_steps":"0"`), status: 200, failed: 1},
		{name: "steps -1", path: "/alertmanager", body: alert(inst + `,"resize_direction":"up","resize_steps":"-1"`), status: 200, failed: 1},
		{name: "steps 9", path: "/alertmanager", body: alert(inst + `,"resize_direction":"up","resize_steps":"9"`), status: 200, failed: 1},
		{name: "steps 1e9", path: "/alertmanager", body: alert(inst + `,"resize_direction":"up","resize_steps":"1e9"`), status: 200, failed: 1},
		{name: "steps many", path: "/alertmanager", body: alert(inst + `,"resize_direction":"up","resize_steps":"many"`), status: 200, failed: 1},
		{name: "resize_to and resize_direction", path: "/alertmanager", body: alert(inst + `,"resize_to":"g.n2.large","resize_direction":"up"`), status: 200, failed: 1},
		{name: "no instance label", path: "/alertmanager", body: alert(`"resize_to":"g.n2.large"`), status: 200, failed: 1},
		{name: "grafana signature over another body", path: "/grafana", body: `{"version":"1","receiver":"r","status":"firing","alerts":[]}`,
			headers: []string{webhook.HeaderGrafanaSignature, strings.Repeat("ab", 32)}, status: 401},
		{name: "jd monitor without requestId", path: "/jdcloud-monitor", query: "token=" + hostileToken, body: jd(`"resourceId":"i-stopped01"`), status: 400},
		{name: "jd monitor token one byte off", path: "/jdcloud-monitor", query: "token=" + hostileToken[:len(hostileToken)-1] + "X", body: jd(`"requestId":"r1","resourceId":"i-stopped01"`), status: 401},
		{name: "jira signed with another secret", path: "/jira", body: `{"webhookEvent":"jira:issue_updated"}`,
			headers: []string{"X-Hub-Signature", sign("another-secret", `{"webhookEvent":"jira:issue_updated"}`)}, status: 401},
		{name: "jira fields holding arrays and objects", path: "/jira", body: `{"webhookEvent":"jira:issue_updated","user":{"displayName":"x"},` +
			`"issue":{"key":"OPS-1","fields":{"project":{"key":"OPS"},"summary":"s","customfield_10050":["i-stopped01"],"customfield_10051":{"a":{"b":1}}}},` +
			`"changelog":{"id":"1","items":[{"field":"status","fieldtype":"jira","fieldId":"status","toString":"Approved"}]}}`, status: 200, failed: 1},
		{name: "unknown path", path: "/alertmanager/../etc", body: `{}`, status: 404},
		{name: "not json content", path: "/alertmanager", body: alert(inst), headers: []string{"Content-Type", "text/plain"}, status: 415},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			logs := &syncBuffer{}
			log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logs), zapcore.DebugLevel))
			r.Rebuild(func(o *resizer.Options) { o.Log = log })
			fields, err := webhook.ParseJiraFields("instanceId=customfield_10050,regionId=customfield_10051,instanceType=customfield_10052")
			if err != nil {
				t.Fatal(err)
			}
			d := trigger.New(r.Handler, trigger.Options{WebhookSecret: hostileSecret, WebhookToken: hostileToken, Log: log,
				Labels: webhook.DefaultLabels(), Jira: webhook.JiraConfig{Approved: "Approved", Rejected: "Rejected", Fields: fields}})
			url := c.path
			if c.query != "" {
				url += "?" + c.query
			}
			req := httptest.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(c.body)))
			req.Header.Set("Content-Type", "application/json")
			if c.path != "/grafana" && c.path != "/jira" && c.query == "" {
				req.Header.Set("Authorization", "Bearer "+hostileToken)
			}
			if c.path == "/jira" && len(c.headers) == 0 {
				req.Header.Set("X-Hub-Signature", sign(hostileSecret, c.body))
			}
			for i := 0; i+1 < len(c.headers); i += 2 {
				req.Header.Set(c.headers[i], c.headers[i+1])
			}
			w := httptest.NewRecorder()
			d.ServeHTTP(w, req)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %.300s", w.Code, c.status, w.Body.String())
			}
			if n := r.JDCalls(); n != 0 {
				t.Fatalf("JD Cloud was called %d times", n)
			}
			if c.status == 200 {
				var outs []map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &outs); err != nil || len(outs) != c.failed {
					t.Fatalf("answer %.300s (%v), want %d outcomes", w.Body.String(), err, c.failed)
				}
				for _, o := range outs {
					raw, _ := json.Marshal(o["data"])
					checkInvalidOutcome(t, fmt.Sprint(o["type"]), raw)
				}
			}
			if strings.Contains(logs.String(), hostileToken) {
				t.Fatal("the token reached the log")
			}
			checkLogs(t, logs.String(), c.failed > 0)
		})
	}
}
