package alertmanager

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	opts, err := Options{WebhookURL: "http://127.0.0.1:1/alertmanager"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Route struct {
			Receiver       string   `json:"receiver"`
			GroupBy        []string `json:"group_by"`
			GroupWait      string   `json:"group_wait"`
			GroupInterval  string   `json:"group_interval"`
			RepeatInterval string   `json:"repeat_interval"`
		} `json:"route"`
		Receivers []struct {
			Name     string           `json:"name"`
			Webhooks []map[string]any `json:"webhook_configs"`
		} `json:"receivers"`
	}
	parse := func(o Options) {
		t.Helper()
		body, err := o.config()
		if err != nil {
			t.Fatal(err)
		}
		c.Receivers = nil
		if err := json.Unmarshal(body, &c); err != nil {
			t.Fatal(err)
		}
	}
	parse(opts)
	r := c.Route
	if r.Receiver != "resizer" || !slices.Equal(r.GroupBy, DefaultGroupBy) ||
		r.GroupWait != "1000ms" || r.GroupInterval != "1000ms" || r.RepeatInterval != "3600000ms" {
		t.Errorf("route %+v", r)
	}
	if len(c.Receivers) != 1 || c.Receivers[0].Name != "resizer" || len(c.Receivers[0].Webhooks) != 1 {
		t.Fatalf("receivers %+v", c.Receivers)
	}
	w := c.Receivers[0].Webhooks[0]
	// Written out although false: Alertmanager's default is true.
	if w["send_resolved"] != false || w["url"] != opts.WebhookURL {
		t.Errorf("webhook %v", w)
	}
	if _, ok := w["http_config"]; ok {
		t.Errorf("http_config without a token: %v", w)
	}

	opts.Token, opts.SendResolved, opts.GroupBy = `tok"en`, true, []string{"..."}
	parse(opts)
	w = c.Receivers[0].Webhooks[0]
	auth, _ := w["http_config"].(map[string]any)["authorization"].(map[string]any)
	if auth["type"] != "Bearer" || auth["credentials"] != `tok"en` || w["send_resolved"] != true {
		t.Errorf("webhook %v", w)
	}
	if !slices.Equal(c.Route.GroupBy, []string{"..."}) {
		t.Errorf("group_by %v", c.Route.GroupBy)
	}
}

func TestOptionsRejected(t *testing.T) {
	for _, o := range []Options{
		{},
		{WebhookURL: "127.0.0.1:8080/path"},
		{WebhookURL: "http://127.0.0.1:1", GroupWait: 1500 * time.Microsecond},
		{WebhookURL: "http://127.0.0.1:1", GroupInterval: -time.Second},
		{WebhookURL: "http://127.0.0.1:1", MaxAlerts: -1},
	} {
		if _, err := Start(o); err == nil || !strings.HasPrefix(err.Error(), "alertmanager: Options.") {
			t.Errorf("Start(%+v) = %v, want an Options error", o, err)
		}
	}
}

func TestStartWithoutInstall(t *testing.T) {
	t.Setenv("ALERTMANAGER_BIN", filepath.Join(t.TempDir(), "alertmanager"))
	s, err := Start(Options{WebhookURL: "http://127.0.0.1:1"})
	if err == nil {
		s.Close()
		t.Fatal("Start succeeded without an alertmanager bin")
	}
	for _, want := range []string{"scripts/alertmanager.sh", "make test", "ALERTMANAGER_BIN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestPair(t *testing.T) {
	for value, want := range map[string]string{
		"plain":       `k="plain"`,
		` spaced `:    `k=" spaced "`,
		`a"b\c`:       `k="a\"b\\c"`,
		"line\nbreak": `k="line\nbreak"`,
		"":            `k=""`,
	} {
		if got := pair("k", value); got != want {
			t.Errorf("pair(k, %q) = %s, want %s", value, got, want)
		}
	}
}

// A missing install fails, naming the script; only SkipEnv=1 makes it a
// skip.
func TestInstalledWithoutInstall(t *testing.T) {
	t.Setenv("ALERTMANAGER_BIN", filepath.Join(t.TempDir(), "alertmanager"))
	for _, skip := range []string{"", "1"} {
		t.Setenv(SkipEnv, skip)
		r := &recordingTB{TB: t}
		func() {
			defer func() { _ = recover() }() // Fatalf and Skipf stop with a panic here
			Installed(r)
		}()
		if skip == "1" && (!r.skipped || r.failed) {
			t.Errorf("%s=1: skipped %t failed %t, want a skip", SkipEnv, r.skipped, r.failed)
		}
		if skip == "" && (!r.failed || r.skipped || !strings.Contains(r.msg, "scripts/alertmanager.sh")) {
			t.Errorf("unset %s: failed %t skipped %t %q, want a failure naming scripts/alertmanager.sh", SkipEnv, r.failed, r.skipped, r.msg)
		}
	}
}

// recordingTB records Fatalf and Skipf instead of ending the test.
type recordingTB struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	panic("Fatalf")
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	panic("Skipf")
}
