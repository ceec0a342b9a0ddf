package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

const (
	testFP       = "0123456789abcdef"
	testStartsAt = "2026-03-09T07:41:12.318Z"
)

// amAlert is one alert of a test message.
type amAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    string            `json:"startsAt,omitempty"`
	EndsAt      string            `json:"endsAt"`
	Fingerprint string            `json:"fingerprint,omitempty"`
}

func amMessage(version, receiver string, alerts ...amAlert) []byte {
	b, err := json.Marshal(map[string]any{
		"version": version, "groupKey": "{}:{alertname=\"HighCPU\"}", "truncatedAlerts": 0,
		"status": "firing", "receiver": receiver, "groupLabels": map[string]string{},
		"commonLabels": map[string]string{}, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager:9093", "alerts": alerts,
	})
	if err != nil {
		panic(err)
	}
	return b
}

func firing(labels, annotations map[string]string) amAlert {
	return amAlert{Status: "firing", Labels: labels, Annotations: annotations, StartsAt: testStartsAt,
		EndsAt: "0001-01-01T00:00:00Z", Fingerprint: testFP}
}

// base labels: a valid instance and region, alertname HighCPU.
func base(extra ...string) map[string]string {
	m := map[string]string{"alertname": "HighCPU", "jdcloud_instance_id": "i-y7xnhq39ah", "jdcloud_region": "cn-north-1"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func kv(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// TestAlertmanagerSamples decodes messages exactly as Alertmanager 0.25
// (Debian's; no notification_reason, no routeLabels) and the current
// release encode them (testdata/README.md says how they were made).
func TestAlertmanagerSamples(t *testing.T) {
	for _, tc := range []struct {
		file      string
		truncated int
	}{{"alertmanager-0.25.json", 0}, {"alertmanager-0.28.json", 2}} {
		t.Run(tc.file, func(t *testing.T) {
			body := readSample(t, tc.file)
			res, err := Alertmanager(body, DefaultLabels())
			checkResult(t, body, res, err)
			if err != nil {
				t.Fatal(err)
			}
			if res.Resolved != 1 || res.Truncated != tc.truncated || len(res.Items) != 2 {
				t.Fatalf("resolved %d truncated %d items %d", res.Resolved, res.Truncated, len(res.Items))
			}
			want := []struct{ id, time, data string }{
				{"4b1e0a3f9c2d7e61:2026-03-09T07:41:12.318440511Z", "2026-03-09T07:41:12.318440511Z",
					`{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"up","steps":1,"maxInstanceType":"g.n2.4xlarge","reason":"HighCPU: CPU above 90% for 15m on 10.0.3.17:9100","requestedBy":"alertmanager"}`},
				{"a90c55e1d3b8f027:2026-03-09T07:44:57.902Z", "2026-03-09T07:44:57.902Z",
					`{"regionId":"cn-north-1","instanceId":"i-3kq8zt01mc","instanceType":"g.n2.xlarge","reason":"HighCPU: CPU above 90% for 15m on 10.0.3.22:9100","requestedBy":"alertmanager"}`},
			}
			for i, w := range want {
				e := res.Items[i].Event
				if res.Items[i].Err != nil {
					t.Fatalf("item %d: %v", i, res.Items[i].Err)
				}
				// The receiver jdcloud.resizer arrives QuoteMeta'd as jdcloud\.resizer.
				if e.Source() != "alertmanager/jdcloud.resizer" || e.ID() != w.id || e.Type() != resizer.TypeRequested ||
					e.SpecVersion() != "1.0" || e.DataContentType() != "application/json" {
					t.Fatalf("item %d attributes:\n%s", i, e.String())
				}
				if got := e.Time().Format(time.RFC3339Nano); got != w.time {
					t.Fatalf("item %d time %s, want %s", i, got, w.time)
				}
				if string(e.Data()) != w.data {
					t.Fatalf("item %d data\n got %s\nwant %s", i, e.Data(), w.data)
				}
			}
		})
	}
}

func TestAlertmanagerShapeErrors(t *testing.T) {
	ok := string(amMessage("4", "r", firing(base("resize_to", "g.n2.large"), nil)))
	for _, tc := range []struct {
		name, body, want string
	}{
		{"not JSON", `{"version":"4",`, "not valid JSON"},
		{"empty", ` `, "body is empty"},
		{"null", `null`, "not null"},
		{"array", `[` + ok + `]`, "must be a JSON object, not an array"},
		{"trailing data", ok + `{}`, "data after"},
		{"invalid UTF-8", strings.Replace(ok, `"r"`, "\"\xff\"", 1), "UTF-8"},
		{"no version", strings.Replace(ok, `"version":"4"`, `"versio":"4"`, 1), "no version"},
		{"version 3", strings.Replace(ok, `"version":"4"`, `"version":"3"`, 1), `version "3"`},
		{"version 1 (Grafana's)", strings.Replace(ok, `"version":"4"`, `"version":"1"`, 1), `version "1"`},
		{"version as a number", strings.Replace(ok, `"version":"4"`, `"version":4`, 1), "version must be a string, not a number"},
		{"repeated version", strings.Replace(ok, `"version":"4"`, `"version":"4","version":"3"`, 1), `"version" more than once`},
		{"repeated label", strings.Replace(ok, `"alertname":"HighCPU"`, `"alertname":"HighCPU","jdcloud_instance_id":"i-other0001"`, 1), `"jdcloud_instance_id" more than once`},
		{"no receiver", strings.Replace(ok, `"receiver":"r",`, ``, 1), "no receiver"},
		{"empty receiver", strings.Replace(ok, `"receiver":"r"`, `"receiver":""`, 1), "no receiver"},
		{"receiver not a string", strings.Replace(ok, `"receiver":"r"`, `"receiver":["r"]`, 1), "receiver must be a string"},
		{"huge receiver", strings.Replace(ok, `"receiver":"r"`, `"receiver":"`+strings.Repeat("r", 600)+`"`, 1), "must fit in 512 bytes"},
		{"no alerts", strings.Replace(ok, `"alerts":`, `"alarms":`, 1), "no alerts"},
		{"alerts an object", `{"version":"4","receiver":"r","alerts":{}}`, "alerts must be a JSON array"},
		{"alert a number", `{"version":"4","receiver":"r","alerts":[1]}`, "alerts[0] must be a JSON object, not a number"},
		{"alert a string", `{"version":"4","receiver":"r","alerts":[{"status":"resolved"},"firing"]}`, "alerts[1] must be a JSON object, not a string"},
		{"alert null", `{"version":"4","receiver":"r","alerts":[null]}`, ""},
		{"status a number", `{"version":"4","receiver":"r","alerts":[{"status":1}]}`, "alerts[0].status must be a string"},
		{"labels an array", `{"version":"4","receiver":"r","alerts":[{"status":"firing","labels":["a"]}]}`, "alerts[0].labels must be a JSON object"},
		{"label a number", `{"version":"4","receiver":"r","alerts":[{"status":"firing","labels":{"resize_steps":2}}]}`, `alerts[0].labels["resize_steps"] must be a string, not a number`},
		{"label null", `{"version":"4","receiver":"r","alerts":[{"status":"firing","labels":{"a":null}}]}`, `labels["a"] must be a string, not null`},
		{"annotation an object", `{"version":"4","receiver":"r","alerts":[{"status":"resolved","annotations":{"summary":{}}}]}`, `annotations["summary"] must be a string`},
		{"fingerprint a number", `{"version":"4","receiver":"r","alerts":[{"status":"firing","fingerprint":12}]}`, "fingerprint must be a string"},
		{"startsAt a number", `{"version":"4","receiver":"r","alerts":[{"status":"firing","startsAt":0}]}`, "startsAt must be a string"},
		{"truncatedAlerts negative", strings.Replace(ok, `"truncatedAlerts":0`, `"truncatedAlerts":-1`, 1), "truncatedAlerts must be a non-negative integer"},
		{"truncatedAlerts a string", strings.Replace(ok, `"truncatedAlerts":0`, `"truncatedAlerts":"2"`, 1), "truncatedAlerts must be a non-negative integer"},
		{"label key with control characters quoted", `{"version":"4","receiver":"r","alerts":[{"labels":{"a\u0007b":1}}]}`, `labels["a\ab"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Alertmanager([]byte(tc.body), DefaultLabels())
			checkResult(t, []byte(tc.body), res, err)
			if tc.name == "alert null" {
				// null is Go's encoding of a nil map, not of an alert; an alert
				// must be an object.
				if err == nil {
					t.Fatal("a null alert was accepted")
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; items %+v", res.Items)
			}
			if errors.Is(err, ErrTooMany) {
				t.Fatal("shape error reported as ErrTooMany")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestAlertmanagerTooMany(t *testing.T) {
	many := func(firingN, resolvedN int) []byte {
		alerts := make([]amAlert, 0, firingN+resolvedN)
		for i := 0; i < firingN; i++ {
			a := firing(base("resize_direction", "up"), nil)
			a.Fingerprint = fmt.Sprintf("%016x", i)
			alerts = append(alerts, a)
		}
		for i := 0; i < resolvedN; i++ {
			a := firing(base("resize_direction", "up"), nil)
			a.Status, a.Fingerprint = "resolved", fmt.Sprintf("r%015x", i)
			alerts = append(alerts, a)
		}
		return amMessage("4", "r", alerts...)
	}
	t.Run("10 000 firing alerts", func(t *testing.T) {
		res, err := Alertmanager(many(10000, 0), DefaultLabels())
		if !errors.Is(err, ErrTooMany) || len(res.Items) != 0 {
			t.Fatalf("err %v, %d items", err, len(res.Items))
		}
		var re *resizer.Error
		if !errors.As(err, &re) || re.Code != resizer.CodeInvalidRequest || !strings.Contains(re.Message, "10000 firing alerts") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("10 000 minimal alerts", func(t *testing.T) {
		body := `{"version":"4","receiver":"r","alerts":[` + strings.TrimSuffix(strings.Repeat(`{"status":"firing"},`, 10000), ",") + `]}`
		if _, err := Alertmanager([]byte(body), DefaultLabels()); !errors.Is(err, ErrTooMany) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("101 firing", func(t *testing.T) {
		if _, err := Alertmanager(many(MaxItems+1, 0), DefaultLabels()); !errors.Is(err, ErrTooMany) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("100 firing and 10 000 resolved", func(t *testing.T) {
		res, err := Alertmanager(many(MaxItems, 10000), DefaultLabels())
		if err != nil || len(res.Items) != MaxItems || res.Resolved != 10000 {
			t.Fatalf("err %v, %d items, %d resolved", err, len(res.Items), res.Resolved)
		}
		for _, it := range res.Items {
			if it.Err != nil {
				t.Fatal(it.Err)
			}
		}
	})
	t.Run("a shape error wins over the count", func(t *testing.T) {
		body := `{"version":"4","receiver":"r","alerts":[` + strings.Repeat(`{"status":"firing"},`, 200) + `7]}`
		_, err := Alertmanager([]byte(body), DefaultLabels())
		if err == nil || errors.Is(err, ErrTooMany) {
			t.Fatalf("err %v", err)
		}
	})
}

// TestAlertmanagerItems covers docs/contract.md §7.1's mapping and every way an
// alert's content can be wrong; each wrong alert is one invalid item that
// names the alert and the label.
func TestAlertmanagerItems(t *testing.T) {
	const who = `alert "HighCPU" (fingerprint "0123456789abcdef")`
	huge := strings.Repeat("x", 100<<10)
	for _, tc := range []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		l           Labels
		data        string   // the data when valid
		err         []string // parts of the message when invalid
	}{
		{name: "resize_to", labels: base("resize_to", "g.n2.large"),
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","instanceType":"g.n2.large","reason":"HighCPU","requestedBy":"alertmanager"}`},
		{name: "direction with every option", labels: base(), annotations: kv("resize_direction", "down", "resize_steps", "8",
			"resize_min_type", "g.n2.medium", "resize_max_type", "g.n2.8xlarge", "resize_dry_run", "true",
			"resize_stop_if_running", "true", "resize_force", "true", "summary", "idle for 7 days"),
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"down","steps":8,"maxInstanceType":"g.n2.8xlarge","minInstanceType":"g.n2.medium","dryRun":true,"stopIfRunning":true,"force":true,"reason":"HighCPU: idle for 7 days","requestedBy":"alertmanager"}`},
		{name: "false flags are absent", labels: base("resize_direction", "up", "resize_force", "false", "resize_dry_run", "false"),
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"up","reason":"HighCPU","requestedBy":"alertmanager"}`},
		{name: "annotation wins over label", labels: base("resize_to", "g.n2.large"), annotations: kv("resize_to", "g.n2.xlarge", "jdcloud_instance_id", "i-fromannotation"),
			data: `{"regionId":"cn-north-1","instanceId":"i-fromannotation","instanceType":"g.n2.xlarge","reason":"HighCPU","requestedBy":"alertmanager"}`},
		{name: "empty annotation does not hide its label", labels: base("resize_to", "g.n2.large"), annotations: kv("resize_to", " \n"),
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","instanceType":"g.n2.large","reason":"HighCPU","requestedBy":"alertmanager"}`},
		{name: "templated annotation's newline is trimmed", labels: base(), annotations: kv("resize_to", "g.n2.large\n"),
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","instanceType":"g.n2.large","reason":"HighCPU","requestedBy":"alertmanager"}`},
		{name: "default region", labels: kv("alertname", "HighCPU", "jdcloud_instance_id", "i-y7xnhq39ah", "resize_to", "g.n2.large"), l: Labels{DefaultRegion: "cn-east-2"},
			data: `{"regionId":"cn-east-2","instanceId":"i-y7xnhq39ah","instanceType":"g.n2.large","reason":"HighCPU","requestedBy":"alertmanager"}`},
		{name: "configured label names", labels: kv("alertname", "HighCPU", "vm", "i-y7xnhq39ah", "zone", "cn-south-1", "resize_to", "g.n2.large"), l: Labels{Instance: "vm", Region: "zone"},
			data: `{"regionId":"cn-south-1","instanceId":"i-y7xnhq39ah","instanceType":"g.n2.large","reason":"HighCPU","requestedBy":"alertmanager"}`},
		{name: "reason without control characters", labels: base("resize_to", "g.n2.large"), annotations: kv("summary", "CPU\n\tat 95%\x1b[31m"),
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","instanceType":"g.n2.large","reason":"HighCPU: CPU  at 95% [31m","requestedBy":"alertmanager"}`},

		{name: "instance missing", labels: kv("alertname", "HighCPU", "jdcloud_region", "cn-north-1", "resize_to", "g.n2.large"),
			err: []string{who, `label "jdcloud_instance_id" is missing`}},
		{name: "configured instance label missing", labels: base("resize_to", "g.n2.large"), l: Labels{Instance: "vm"},
			err: []string{who, `label "vm" is missing`}},
		{name: "instance invalid", labels: base("jdcloud_instance_id", "web-1", "resize_to", "g.n2.large"),
			err: []string{who, `label "jdcloud_instance_id" "web-1" is not an instance id`}},
		{name: "instance with control characters", labels: base("jdcloud_instance_id", "i-abc\x00def1\x1b", "resize_to", "g.n2.large"),
			err: []string{`"i-abc\x00def1\x1b" is not an instance id`}},
		{name: "instance huge", labels: base("jdcloud_instance_id", "i-"+huge, "resize_to", "g.n2.large"),
			err: []string{`label "jdcloud_instance_id" "i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…" is not`}},
		{name: "instance as annotation named as such", labels: base("resize_to", "g.n2.large"), annotations: kv("jdcloud_instance_id", "nope"),
			err: []string{`annotation "jdcloud_instance_id" "nope"`}},
		{name: "region missing, no default", labels: kv("alertname", "HighCPU", "jdcloud_instance_id", "i-y7xnhq39ah", "resize_to", "g.n2.large"),
			err: []string{`label "jdcloud_region" is missing and DEFAULT_REGION is not set`}},
		{name: "region invalid", labels: base("jdcloud_region", "CN North 1", "resize_to", "g.n2.large"),
			err: []string{`label "jdcloud_region" "CN North 1" is not a region id`}},
		{name: "default region invalid", labels: kv("alertname", "HighCPU", "jdcloud_instance_id", "i-y7xnhq39ah", "resize_to", "g.n2.large"), l: Labels{DefaultRegion: "north"},
			err: []string{`DEFAULT_REGION "north" is not a region id`}},
		{name: "neither target", labels: base(),
			err: []string{who, `neither label "resize_to" nor label "resize_direction" is set`}},
		{name: "both targets", labels: base("resize_to", "g.n2.large"), annotations: kv("resize_direction", "up"),
			err: []string{who, `both label "resize_to" and annotation "resize_direction" are set`}},
		{name: "target invalid", labels: base("resize_to", "G.N2.LARGE"),
			err: []string{`label "resize_to" "G.N2.LARGE" is not an instance type`}},
		{name: "target huge", labels: base("resize_to", "g."+huge),
			err: []string{`label "resize_to" "g.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"`}},
		{name: "direction sideways", labels: base("resize_direction", "sideways"),
			err: []string{`label "resize_direction" "sideways" must be up or down`}},
		{name: "direction capitalised", labels: base("resize_direction", "Up"),
			err: []string{`"Up" must be up or down`}},
		{name: "steps 0", labels: base("resize_direction", "up", "resize_steps", "0"), err: []string{who, `label "resize_steps" "0" must be an integer from 1 to 8`}},
		{name: "steps -1", labels: base("resize_direction", "up", "resize_steps", "-1"), err: []string{`label "resize_steps" "-1" must be an integer from 1 to 8`}},
		{name: "steps 9", labels: base("resize_direction", "up", "resize_steps", "9"), err: []string{`label "resize_steps" "9" must be`}},
		{name: "steps 1e9", labels: base("resize_direction", "up", "resize_steps", "1e9"), err: []string{`label "resize_steps" "1e9" must be`}},
		{name: "steps many", labels: base("resize_direction", "up", "resize_steps", "many"), err: []string{`label "resize_steps" "many" must be`}},
		{name: "steps 2.5", labels: base("resize_direction", "up", "resize_steps", "2.5"), err: []string{`label "resize_steps" "2.5" must be`}},
		{name: "steps +2", labels: base("resize_direction", "up", "resize_steps", "+2"), err: []string{`"+2" must be`}},
		{name: "steps huge", labels: base("resize_direction", "up", "resize_steps", strings.Repeat("9", 5000)), err: []string{`"` + strings.Repeat("9", 64) + `…" must be`}},
		{name: "steps without direction", labels: base("resize_to", "g.n2.large", "resize_steps", "2"),
			err: []string{`label "resize_steps" is set without label "resize_direction"`}},
		{name: "bound without direction", labels: base("resize_to", "g.n2.large"), annotations: kv("resize_max_type", "g.n2.xlarge"),
			err: []string{`annotation "resize_max_type" is set without label "resize_direction"`}},
		{name: "bound invalid", labels: base("resize_direction", "up", "resize_min_type", "small"),
			err: []string{`label "resize_min_type" "small" is not an instance type`}},
		{name: "flag yes", labels: base("resize_to", "g.n2.large", "resize_dry_run", "yes"), err: []string{`label "resize_dry_run" "yes" must be true or false`}},
		{name: "flag True", labels: base("resize_to", "g.n2.large", "resize_force", "True"), err: []string{`label "resize_force" "True" must be true or false`}},
		{name: "flag 1", labels: base("resize_to", "g.n2.large", "resize_stop_if_running", "1"), err: []string{`label "resize_stop_if_running" "1" must be`}},
		{name: "misspelled bound", labels: base("resize_direction", "up", "resize_max_typ", "g.n2.xlarge"),
			err: []string{who, `label "resize_max_typ" is not a label the resizer knows`}},
		{name: "misspelled annotation", labels: base("resize_direction", "up"), annotations: kv("resize_stepz", "3"),
			err: []string{`annotation "resize_stepz" is not a label`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := amMessage("4", "team-ops", firing(tc.labels, tc.annotations))
			res, err := Alertmanager(body, tc.l)
			checkResult(t, body, res, err)
			it := only(t, res, err)
			if it.Event.ID() != testFP+":"+testStartsAt || it.Event.Source() != "alertmanager/team-ops" || it.Event.Type() != resizer.TypeRequested {
				t.Fatalf("attributes:\n%s", it.Event.String())
			}
			if tc.err != nil {
				wantErrContains(t, it, tc.err...)
				if len(it.Event.Data()) != 0 {
					t.Fatalf("invalid item carries data %s", it.Event.Data())
				}
				return
			}
			if it.Err != nil {
				t.Fatalf("invalid: %v", it.Err)
			}
			if got, want := string(it.Event.Data()), compactJSON(t, tc.data); got != want {
				t.Fatalf("data\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestAlertmanagerIDs: the id is <fingerprint>:<startsAt> exactly as sent,
// and never invented.
func TestAlertmanagerIDs(t *testing.T) {
	ok := base("resize_to", "g.n2.large")
	for _, tc := range []struct {
		name, fp, startsAt string
		id                 string
		err                string
	}{
		{name: "as sent", fp: "4b1e0a3f9c2d7e61", startsAt: "2026-03-09T15:41:12.3184405+08:00", id: "4b1e0a3f9c2d7e61:2026-03-09T15:41:12.3184405+08:00"},
		{name: "unparseable startsAt kept", fp: "ab", startsAt: "yesterday", id: "ab:yesterday"},
		{name: "no fingerprint", startsAt: testStartsAt, err: `alert "HighCPU" (no fingerprint) has no fingerprint`},
		{name: "no startsAt", fp: testFP, err: "has no startsAt"},
		{name: "fingerprint with a colon", fp: "ab:cd", startsAt: testStartsAt, err: "fingerprint must be at most 64 letters and digits"},
		{name: "fingerprint huge", fp: strings.Repeat("a", 65), startsAt: testStartsAt, err: "fingerprint must be"},
		{name: "startsAt with a space", fp: testFP, startsAt: "2026-03-09 07:41:12Z", err: "contains white space"},
		{name: "startsAt with control characters", fp: testFP, startsAt: "2026-03-09T07:41:12Z\r\n", err: "contains control characters"},
		{name: "startsAt huge", fp: testFP, startsAt: strings.Repeat("9", 65), err: "is longer than 64 bytes"},
		{name: "startsAt zero", fp: testFP, startsAt: "0001-01-01T00:00:00Z", err: "zero time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := firing(ok, nil)
			a.Fingerprint, a.StartsAt = tc.fp, tc.startsAt
			body := amMessage("4", "r", a)
			res, err := Alertmanager(body, DefaultLabels())
			checkResult(t, body, res, err)
			it := only(t, res, err)
			if tc.err != "" {
				wantErrContains(t, it, tc.err)
				if it.Event.ID() != "" {
					t.Fatalf("invalid id used: %q", it.Event.ID())
				}
				if it.Event.Source() != "alertmanager/r" {
					t.Fatalf("source %q", it.Event.Source())
				}
				return
			}
			if it.Err != nil || it.Event.ID() != tc.id {
				t.Fatalf("err %v id %q", it.Err, it.Event.ID())
			}
		})
	}
}

func TestAlertmanagerStatuses(t *testing.T) {
	mk := func(status string) amAlert {
		a := firing(base("resize_to", "g.n2.large"), nil)
		a.Status = status
		return a
	}
	body := amMessage("4", "r", mk("firing"), mk("resolved"), mk("Firing"), mk(""), mk("pending"))
	res, err := Alertmanager(body, DefaultLabels())
	checkResult(t, body, res, err)
	if err != nil || len(res.Items) != 1 || res.Resolved != 4 {
		t.Fatalf("err %v, %d items, %d resolved", err, len(res.Items), res.Resolved)
	}
}

func TestAlertmanagerSource(t *testing.T) {
	for receiver, want := range map[string]string{
		`team-ops`:        "alertmanager/team-ops",
		`team\.ops`:       "alertmanager/team.ops", // QuoteMeta("team.ops")
		`a\+b\(c\)`:       "alertmanager/a%2Bb%28c%29",
		`back\\slash`:     "alertmanager/back%5Cslash", // QuoteMeta(`back\slash`)
		`with\qbackslash`: "alertmanager/with%5Cqbackslash",
		`on call/pager`:   "alertmanager/on%20call%2Fpager",
		`运维`:              "alertmanager/%E8%BF%90%E7%BB%B4",
		`a?b#c%d`:         "alertmanager/a%3Fb%23c%25d",
	} {
		body := amMessage("4", receiver, firing(base("resize_to", "g.n2.large"), nil))
		res, err := Alertmanager(body, DefaultLabels())
		checkResult(t, body, res, err)
		it := only(t, res, err)
		if it.Event.Source() != want {
			t.Errorf("receiver %q: source %q, want %q", receiver, it.Event.Source(), want)
		}
	}
}

func TestFreeTextClipped(t *testing.T) {
	body := amMessage("4", "r", firing(base("resize_to", "g.n2.large"), kv("summary", strings.Repeat("é", 5000))))
	res, err := Alertmanager(body, DefaultLabels())
	checkResult(t, body, res, err)
	it := only(t, res, err)
	var d struct{ Reason string }
	if err := json.Unmarshal(it.Event.Data(), &d); err != nil {
		t.Fatal(err)
	}
	if r := []rune(d.Reason); len(r) != maxFreeText || r[len(r)-1] != '…' || !strings.HasPrefix(d.Reason, "HighCPU: éé") {
		t.Fatalf("reason of %d runes: %.40q…", len(r), d.Reason)
	}
}

func TestLabelsValidate(t *testing.T) {
	for _, tc := range []struct {
		l   Labels
		err string
	}{
		{Labels{}, ""},
		{DefaultLabels(), ""},
		{Labels{Instance: "vm", Region: "zone", DefaultRegion: "cn-north-1"}, ""},
		{Labels{Instance: "vm-id"}, "ALERT_INSTANCE_LABEL"},
		{Labels{Region: "1zone"}, "ALERT_REGION_LABEL"},
		{Labels{Instance: "resize_vm"}, "namespace"},
		{Labels{Instance: "x", Region: "x"}, "both"},
		{Labels{DefaultRegion: "North"}, "DEFAULT_REGION"},
	} {
		err := tc.l.Validate()
		if (err == nil) != (tc.err == "") || err != nil && (!strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrConfig)) {
			t.Errorf("%+v: %v, want %q", tc.l, err, tc.err)
		}
	}
}
