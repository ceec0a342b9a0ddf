package webhook

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// TestGrafanaSample decodes a message exactly as grafana/alerting's webhook
// notifier marshals it (testdata/README.md).
func TestGrafanaSample(t *testing.T) {
	body := readSample(t, "grafana.json")
	res, err := Grafana(body, DefaultLabels())
	checkResult(t, body, res, err)
	it := only(t, res, err)
	if it.Err != nil {
		t.Fatal(it.Err)
	}
	e := it.Event
	if e.Source() != "grafana/JD%20Cloud%20resizer" || e.ID() != "e3c1a8d2f0b74956:2026-03-09T08:15:40Z" ||
		e.Type() != resizer.TypeRequested || !e.Time().Equal(time.Date(2026, 3, 9, 8, 15, 40, 0, time.UTC)) {
		t.Fatalf("attributes:\n%s", e.String())
	}
	want := `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"up","maxInstanceType":"g.n2.2xlarge","reason":"VM memory high: Memory at 94% on web-1","requestedBy":"grafana"}`
	if string(e.Data()) != want {
		t.Fatalf("data\n got %s\nwant %s", e.Data(), want)
	}
}

func TestGrafanaVersions(t *testing.T) {
	grafana := readSample(t, "grafana.json")
	if _, err := Alertmanager(grafana, DefaultLabels()); err == nil || !strings.Contains(err.Error(), `version "1"; only version "4"`) {
		t.Fatalf("Alertmanager took Grafana's message: %v", err)
	}
	am := readSample(t, "alertmanager-0.25.json")
	if _, err := Grafana(am, DefaultLabels()); err == nil || !strings.Contains(err.Error(), `the Grafana webhook body has version "4"; only version "1"`) {
		t.Fatalf("Grafana took Alertmanager's message: %v", err)
	}
}

func TestGrafanaItems(t *testing.T) {
	body := []byte(`{"receiver":"ops","status":"firing","orgId":1,"title":"t","state":"alerting","message":"m","version":"1",
	"groupKey":"k","truncatedAlerts":3,"alerts":[
	 {"status":"firing","labels":{"alertname":"Disk","jdcloud_instance_id":"i-y7xnhq39ah"},"annotations":{},
	  "startsAt":"2026-03-09T08:15:40Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"e3c1a8d2f0b74956",
	  "values":{"A":1.5},"valueString":"","silenceURL":"","dashboardURL":"","panelURL":"","imageURL":"https://x/y.png","ruleUID":"u1"},
	 {"status":"resolved","labels":{},"annotations":{},"startsAt":"2026-03-09T08:15:40Z","fingerprint":"aa","values":null}]}`)
	res, err := Grafana(body, Labels{DefaultRegion: "cn-north-1"})
	checkResult(t, body, res, err)
	it := only(t, res, err)
	if res.Truncated != 3 || res.Resolved != 1 {
		t.Fatalf("truncated %d resolved %d", res.Truncated, res.Resolved)
	}
	wantErrContains(t, it, `alert "Disk" (fingerprint "e3c1a8d2f0b74956"): neither label "resize_to" nor label "resize_direction" is set`)
	if it.Event.Source() != "grafana/ops" || it.Event.ID() != "e3c1a8d2f0b74956:2026-03-09T08:15:40Z" {
		t.Fatalf("attributes:\n%s", it.Event.String())
	}
}

// Vectors computed with OpenSSL over testdata/grafana.json (README.md).
const (
	grafanaSecret     = "gr4fana-s3cret"
	grafanaSigBody    = "64c1250c30b393a5efd4c9c0087c9e30037ce73ccadb0c3b6cb713dbe36fb499"
	grafanaTimestamp  = "1773044200"
	grafanaSigStamped = "7cb66abd9bf8839a7401113665955533dfc5c84e653337212c1e074eafe36ae7"
)

func TestVerifyGrafana(t *testing.T) {
	body := readSample(t, "grafana.json")
	signedAt := time.Unix(1773044200, 0)
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	sig, ts := HeaderGrafanaSignature, HeaderGrafanaTimestamp
	for _, tc := range []struct {
		name   string
		secret string
		h      http.Header
		body   []byte
		now    time.Time
		want   bool
	}{
		{"body only", grafanaSecret, hdr(sig, grafanaSigBody), body, signedAt, true},
		{"body only, any time", grafanaSecret, hdr(sig, grafanaSigBody), body, signedAt.Add(1000 * time.Hour), true},
		{"header name sent in lower case", grafanaSecret, hdr("x-grafana-alerting-signature", grafanaSigBody), body, signedAt, true},
		{"upper-case hex", grafanaSecret, hdr(sig, strings.ToUpper(grafanaSigBody)), body, signedAt, true},
		{"timestamped", grafanaSecret, hdr(sig, grafanaSigStamped, ts, grafanaTimestamp), body, signedAt, true},
		{"timestamped, 5 minutes later", grafanaSecret, hdr(sig, grafanaSigStamped, ts, grafanaTimestamp), body, signedAt.Add(5 * time.Minute), true},
		{"timestamped, 5 minutes early", grafanaSecret, hdr(sig, grafanaSigStamped, ts, grafanaTimestamp), body, signedAt.Add(-5 * time.Minute), true},
		{"stale timestamp", grafanaSecret, hdr(sig, grafanaSigStamped, ts, grafanaTimestamp), body, signedAt.Add(5*time.Minute + time.Second), false},
		{"future timestamp", grafanaSecret, hdr(sig, grafanaSigStamped, ts, grafanaTimestamp), body, signedAt.Add(-6 * time.Minute), false},
		{"timestamp stripped", grafanaSecret, hdr(sig, grafanaSigStamped), body, signedAt, false},
		{"timestamp added to a body signature", grafanaSecret, hdr(sig, grafanaSigBody, ts, grafanaTimestamp), body, signedAt, false},
		{"timestamp changed", grafanaSecret, hdr(sig, grafanaSigStamped, ts, "1773044201"), body, signedAt, false},
		{"timestamp with a sign", grafanaSecret, hdr(sig, grafanaSigStamped, ts, "+1773044200"), body, signedAt, false},
		{"timestamp not a number", grafanaSecret, hdr(sig, grafanaSigStamped, ts, "now"), body, signedAt, false},
		{"timestamp huge", grafanaSecret, hdr(sig, grafanaSigStamped, ts, "99999999999999999999"), body, signedAt, false},
		{"two timestamps", grafanaSecret, hdr(sig, grafanaSigStamped, ts, grafanaTimestamp, ts, grafanaTimestamp), body, signedAt, false},
		{"two signatures", grafanaSecret, hdr(sig, grafanaSigBody, sig, grafanaSigBody), body, signedAt, false},
		{"wrong secret", "other", hdr(sig, grafanaSigBody), body, signedAt, false},
		{"empty secret", "", hdr(sig, grafanaSigBody), body, signedAt, false},
		{"body changed", grafanaSecret, hdr(sig, grafanaSigBody), append([]byte(" "), body...), signedAt, false},
		{"sha256= prefix", grafanaSecret, hdr(sig, "sha256="+grafanaSigBody), body, signedAt, false},
		{"short signature", grafanaSecret, hdr(sig, grafanaSigBody[:62]), body, signedAt, false},
		{"no signature", grafanaSecret, hdr(ts, grafanaTimestamp), body, signedAt, false},
		{"GitHub's header instead", grafanaSecret, hdr("X-Hub-Signature-256", "sha256="+grafanaSigBody), body, signedAt, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := VerifyGrafana(tc.secret, tc.h, tc.body, tc.now); got != tc.want {
				t.Fatalf("VerifyGrafana = %v, want %v", got, tc.want)
			}
		})
	}
}
