package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/sink"
	"github.com/jdcloud-vm-resizer/resizer/webhook"
)

// Secret values present in every environment below, so that every error
// case also checks that none of them is ever echoed.
const (
	cfgAccessKey     = "AKTESTCONFIG0001"
	cfgSecretKey     = "sk-config-must-not-leak-7f3a"
	cfgWebhookSecret = "whs-config-must-not-leak-91c2"
	cfgWebhookToken  = "tok-config-must-not-leak-55e0"
)

var cfgSecrets = []string{cfgSecretKey, cfgWebhookSecret, cfgWebhookToken}

// cfgEnv is a getenv over a valid base environment with overrides; an
// override to "" unsets the variable, as an empty value does in the process.
func cfgEnv(overrides map[string]string) func(string) string {
	env := map[string]string{
		"JDCLOUD_ACCESS_KEY": cfgAccessKey,
		"JDCLOUD_SECRET_KEY": cfgSecretKey,
		"WEBHOOK_SECRET":     cfgWebhookSecret,
		"WEBHOOK_TOKEN":      cfgWebhookToken,
	}
	for k, v := range overrides {
		env[k] = v
	}
	return func(name string) string { return env[name] }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(cfgEnv(map[string]string{"WEBHOOK_SECRET": "", "WEBHOOK_TOKEN": ""}))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	want := config{
		AccessKey:            cfgAccessKey,
		SecretKey:            cfgSecretKey,
		Endpoint:             "https://vm.jdcloud-api.com",
		Source:               resizer.DefaultSource,
		TTL:                  24 * time.Hour,
		LogLevel:             zapcore.InfoLevel,
		Port:                 8080,
		ShutdownGrace:        25 * time.Second,
		RateLimit:            20, // as template.yaml's JDCloudRateLimit default
		Policy:               resizer.Policy{},
		Cooldown:             0,
		SinkURL:              "",
		EventBus:             "",
		Table:                "",
		BatchConcurrency:     10,
		AllowUnauthenticated: false,
		Labels:               webhook.Labels{Instance: "jdcloud_instance_id", Region: "jdcloud_region"},
		Jira:                 webhook.JiraConfig{Approved: "Approved", Rejected: "Rejected", Fields: map[string]string{}},
		Fleet: fleetConfig{
			FleetWindow: time.Hour, Approvers: []string{"jira/"}, ApprovalTTL: 24 * time.Hour,
		},
		MetricsNamespace: "JDCloudVMResizer", // as template.yaml's MetricsNamespace default
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestLoadConfigValidValues(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		got  func(config) any
		want any
	}{
		{"secret instead of keys", map[string]string{"JDCLOUD_ACCESS_KEY": "", "JDCLOUD_SECRET_KEY": "", "JDCLOUD_CREDENTIALS_SECRET": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jd-AbCdEf"},
			func(c config) any { return c.CredentialsSecret }, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jd-AbCdEf"},
		{"keys kept", nil, func(c config) any { return [2]string{c.AccessKey, c.SecretKey} }, [2]string{cfgAccessKey, cfgSecretKey}},
		{"endpoint http with port", map[string]string{"JDCLOUD_ENDPOINT": "http://127.0.0.1:8080"},
			func(c config) any { return c.Endpoint }, "http://127.0.0.1:8080"},
		{"endpoint https trailing slash", map[string]string{"JDCLOUD_ENDPOINT": "https://vm.example.com/"},
			func(c config) any { return c.Endpoint }, "https://vm.example.com/"},
		{"endpoint IPv6", map[string]string{"JDCLOUD_ENDPOINT": "http://[::1]:9000"},
			func(c config) any { return c.Endpoint }, "http://[::1]:9000"},
		{"sink with path and query", map[string]string{"RESULT_SINK_URL": "https://sink.example.com/hooks/resize?channel=ops"},
			func(c config) any { return c.SinkURL }, "https://sink.example.com/hooks/resize?channel=ops"},
		{"K_SINK when RESULT_SINK_URL unset", map[string]string{"K_SINK": "http://broker-ingress.knative-eventing.svc.cluster.local/ns/default"},
			func(c config) any { return c.SinkURL }, "http://broker-ingress.knative-eventing.svc.cluster.local/ns/default"},
		{"RESULT_SINK_URL wins over K_SINK", map[string]string{"RESULT_SINK_URL": "http://a.example/", "K_SINK": "http://b.example/"},
			func(c config) any { return c.SinkURL }, "http://a.example/"},
		{"a bad K_SINK is ignored when RESULT_SINK_URL is set", map[string]string{"RESULT_SINK_URL": "http://a.example/", "K_SINK": "ftp://b.example/"},
			func(c config) any { return c.SinkURL }, "http://a.example/"},
		{"event bus", map[string]string{"RESULT_EVENT_BUS": "arn:aws:events:eu-west-1:123456789012:event-bus/ops"},
			func(c config) any { return c.EventBus }, "arn:aws:events:eu-west-1:123456789012:event-bus/ops"},
		{"source", map[string]string{"RESULT_SOURCE": "urn:example:resizer"},
			func(c config) any { return c.Source }, "urn:example:resizer"},
		{"webhook secret and token", nil,
			func(c config) any { return [2]string{c.WebhookSecret, c.WebhookToken} }, [2]string{cfgWebhookSecret, cfgWebhookToken}},
		{"allow unauthenticated true", map[string]string{"ALLOW_UNAUTHENTICATED": "true"},
			func(c config) any { return c.AllowUnauthenticated }, true},
		{"allow unauthenticated 1", map[string]string{"ALLOW_UNAUTHENTICATED": "1"},
			func(c config) any { return c.AllowUnauthenticated }, true},
		{"allow unauthenticated false", map[string]string{"ALLOW_UNAUTHENTICATED": "false"},
			func(c config) any { return c.AllowUnauthenticated }, false},
		{"allow force", map[string]string{"ALLOW_FORCE": "TRUE"},
			func(c config) any { return c.Policy.AllowForce }, true},
		{"allow stop", map[string]string{"ALLOW_STOP": "true"},
			func(c config) any { return c.Policy.AllowStop }, true},
		{"allow stop does not imply force", map[string]string{"ALLOW_STOP": "true"},
			func(c config) any { return c.Policy.AllowForce }, false},
		{"allowed instance types", map[string]string{"ALLOWED_INSTANCE_TYPES": " g.n2.*, c.n3.large ,,"},
			func(c config) any { return c.Policy.AllowedInstanceTypes }, []string{"g.n2.*", "c.n3.large"}},
		{"allowed sources", map[string]string{"ALLOWED_SOURCES": "ops/,urn:example:"},
			func(c config) any { return c.Policy.AllowedSources }, []string{"ops/", "urn:example:"}},
		{"allowed directions", map[string]string{"ALLOWED_DIRECTIONS": "up"},
			func(c config) any { return c.Policy.AllowedDirections }, []string{"up"}},
		{"fleet limits", map[string]string{"MAX_CONCURRENT_RESIZES": "3", "MAX_RESIZES_PER_WINDOW": "10", "MAX_FAILURES_PER_WINDOW": "2", "FLEET_WINDOW": "30m"},
			func(c config) any {
				f := c.Fleet
				return []any{f.MaxConcurrent, f.MaxPerWindow, f.MaxFailures, f.FleetWindow}
			}, []any{3, 10, 2, 30 * time.Minute}},
		{"fleet defaults", map[string]string{},
			func(c config) any {
				f := c.Fleet
				return []any{f.MaxConcurrent, f.MaxPerWindow, f.MaxFailures, f.FleetWindow, f.Windows == nil, f.ApprovalTTL, f.Approvers, len(f.ApprovalRequired)}
			}, []any{0, 0, 0, time.Hour, true, 24 * time.Hour, []string{"jira/"}, 0}},
		{"resize windows", map[string]string{"RESIZE_WINDOWS": "Mon-Fri 01:00-05:00", "RESIZE_WINDOWS_TZ": "Europe/Berlin"},
			func(c config) any { return c.Fleet.Windows.String() }, "Mon-Fri 01:00-05:00 Europe/Berlin"},
		{"approvals", map[string]string{"APPROVAL_REQUIRED_SOURCES": "alertmanager/,grafana/", "APPROVER_SOURCES": "jira/OPS,ops/", "APPROVAL_TTL": "4h"},
			func(c config) any {
				f := c.Fleet
				return []any{f.ApprovalRequired, f.Approvers, f.ApprovalTTL}
			}, []any{[]string{"alertmanager/", "grafana/"}, []string{"jira/OPS", "ops/"}, 4 * time.Hour}},
		{"metrics namespace", map[string]string{"METRICS_NAMESPACE": "Ops/Resizer prod#1:a-b_c.d"},
			func(c config) any { return c.MetricsNamespace }, "Ops/Resizer prod#1:a-b_c.d"},
		{"metrics off", map[string]string{"METRICS_NAMESPACE": "off"},
			func(c config) any { return c.MetricsNamespace }, "off"},
		{"metrics namespace of 255 characters", map[string]string{"METRICS_NAMESPACE": strings.Repeat("n", 255)},
			func(c config) any { return len(c.MetricsNamespace) }, 255},
		{"cooldown", map[string]string{"COOLDOWN": "10m"},
			func(c config) any { return c.Cooldown }, 10 * time.Minute},
		{"cooldown compound", map[string]string{"COOLDOWN": "1h30m"},
			func(c config) any { return c.Cooldown }, 90 * time.Minute},
		{"cooldown zero", map[string]string{"COOLDOWN": "0"},
			func(c config) any { return c.Cooldown }, time.Duration(0)},
		{"idempotency table", map[string]string{"IDEMPOTENCY_TABLE": "resizer-idempotency"},
			func(c config) any { return c.Table }, "resizer-idempotency"},
		{"idempotency ttl", map[string]string{"IDEMPOTENCY_TTL": "1h"},
			func(c config) any { return c.TTL }, time.Hour},
		{"log level debug", map[string]string{"LOG_LEVEL": "debug"},
			func(c config) any { return c.LogLevel }, zapcore.DebugLevel},
		{"log level warn", map[string]string{"LOG_LEVEL": "warn"},
			func(c config) any { return c.LogLevel }, zapcore.WarnLevel},
		{"log level upper case", map[string]string{"LOG_LEVEL": "ERROR"},
			func(c config) any { return c.LogLevel }, zapcore.ErrorLevel},
		{"port low", map[string]string{"PORT": "1"},
			func(c config) any { return c.Port }, 1},
		{"port high", map[string]string{"PORT": "65535"},
			func(c config) any { return c.Port }, 65535},
		{"batch concurrency low", map[string]string{"BATCH_CONCURRENCY": "1"},
			func(c config) any { return c.BatchConcurrency }, 1},
		{"batch concurrency high", map[string]string{"BATCH_CONCURRENCY": "100"},
			func(c config) any { return c.BatchConcurrency }, 100},
		{"rate limit fraction", map[string]string{"JDCLOUD_RATE_LIMIT": "0.5"},
			func(c config) any { return c.RateLimit }, 0.5},
		{"rate limit high", map[string]string{"JDCLOUD_RATE_LIMIT": "1000"},
			func(c config) any { return c.RateLimit }, 1000.0},
		{"alert labels and default region", map[string]string{"ALERT_INSTANCE_LABEL": "instance", "ALERT_REGION_LABEL": "jd_region", "DEFAULT_REGION": "cn-east-2"},
			func(c config) any { return c.Labels }, webhook.Labels{Instance: "instance", Region: "jd_region", DefaultRegion: "cn-east-2"}},
		{"the default region is Jira's too", map[string]string{"DEFAULT_REGION": "cn-east-2"},
			func(c config) any { return c.Jira.DefaultRegion }, "cn-east-2"},
		{"jira statuses", map[string]string{"JIRA_APPROVED_STATUS": "Go ahead", "JIRA_REJECTED_STATUS": "Won't do"},
			func(c config) any { return [2]string{c.Jira.Approved, c.Jira.Rejected} }, [2]string{"Go ahead", "Won't do"}},
		{"jira fields", map[string]string{"JIRA_FIELDS": "instanceId=customfield_10050, regionId=customfield_10051,approvalId=customfield_10054"},
			func(c config) any { return c.Jira.Fields },
			map[string]string{"instanceId": "customfield_10050", "regionId": "customfield_10051", "approvalId": "customfield_10054"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(cfgEnv(tt.env))
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLoadConfigBadValues(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		variable string   // the variable the one error must name
		hidden   []string // besides cfgSecrets, must not appear in the error
	}{
		{"no credentials at all", map[string]string{"JDCLOUD_ACCESS_KEY": "", "JDCLOUD_SECRET_KEY": ""}, "JDCLOUD_ACCESS_KEY", nil},
		{"access key without secret key", map[string]string{"JDCLOUD_SECRET_KEY": ""}, "JDCLOUD_SECRET_KEY", []string{cfgAccessKey}},
		{"secret key without access key", map[string]string{"JDCLOUD_ACCESS_KEY": ""}, "JDCLOUD_ACCESS_KEY", nil},

		{"endpoint unparseable", map[string]string{"JDCLOUD_ENDPOINT": "http://[::1"}, "JDCLOUD_ENDPOINT", nil},
		{"endpoint unparseable with password", map[string]string{"JDCLOUD_ENDPOINT": "http://jd:pw%zzendpointpw@host"}, "JDCLOUD_ENDPOINT", []string{"endpointpw"}},
		{"endpoint without scheme", map[string]string{"JDCLOUD_ENDPOINT": "vm.jdcloud-api.com"}, "JDCLOUD_ENDPOINT", nil},
		{"endpoint non-http scheme", map[string]string{"JDCLOUD_ENDPOINT": "ftp://vm.jdcloud-api.com"}, "JDCLOUD_ENDPOINT", nil},
		{"endpoint with a path", map[string]string{"JDCLOUD_ENDPOINT": "https://vm.jdcloud-api.com/v1"}, "JDCLOUD_ENDPOINT", nil},
		{"endpoint with a double slash path", map[string]string{"JDCLOUD_ENDPOINT": "https://vm.jdcloud-api.com//"}, "JDCLOUD_ENDPOINT", nil},
		{"endpoint with a query", map[string]string{"JDCLOUD_ENDPOINT": "https://vm.jdcloud-api.com?sig=endpointquerysecret"}, "JDCLOUD_ENDPOINT", []string{"endpointquerysecret"}},
		{"endpoint with an empty query", map[string]string{"JDCLOUD_ENDPOINT": "https://vm.jdcloud-api.com?"}, "JDCLOUD_ENDPOINT", nil},
		{"endpoint with a fragment", map[string]string{"JDCLOUD_ENDPOINT": "https://vm.jdcloud-api.com#frag"}, "JDCLOUD_ENDPOINT", nil},
		{"endpoint with user information", map[string]string{"JDCLOUD_ENDPOINT": "https://jduser:endpointpw@vm.jdcloud-api.com"}, "JDCLOUD_ENDPOINT", []string{"endpointpw"}},
		{"endpoint without host name", map[string]string{"JDCLOUD_ENDPOINT": "http://:8080"}, "JDCLOUD_ENDPOINT", nil},
		{"endpoint opaque", map[string]string{"JDCLOUD_ENDPOINT": "http:jduser:opaquepw@host"}, "JDCLOUD_ENDPOINT", []string{"opaquepw"}},
		{"endpoint port out of range", map[string]string{"JDCLOUD_ENDPOINT": "http://127.0.0.1:99999"}, "JDCLOUD_ENDPOINT", nil},

		{"sink non-http scheme with credentials", map[string]string{"RESULT_SINK_URL": "ftp://sinkuser:hunter2pw@sink.example/x?token=sinkquerysecret#sinkfragsecret"},
			"RESULT_SINK_URL", []string{"hunter2pw", "sinkquerysecret", "sinkfragsecret"}},
		{"sink unparseable with password", map[string]string{"RESULT_SINK_URL": "https://u:bad%zzsinkpw@sink.example/"}, "RESULT_SINK_URL", []string{"sinkpw"}},
		{"sink opaque", map[string]string{"RESULT_SINK_URL": "https:sinkuser:opaquesinkpw@sink.example"}, "RESULT_SINK_URL", []string{"opaquesinkpw"}},
		{"sink without host", map[string]string{"RESULT_SINK_URL": "https:///hooks?token=nohostsecret"}, "RESULT_SINK_URL", []string{"nohostsecret"}},
		{"sink relative", map[string]string{"RESULT_SINK_URL": "/hooks"}, "RESULT_SINK_URL", nil},
		{"sink port zero", map[string]string{"RESULT_SINK_URL": "http://sink.example:0/"}, "RESULT_SINK_URL", nil},
		{"bad K_SINK", map[string]string{"K_SINK": "ftp://kuser:ksinkpw@broker/?t=ksinkquery"}, "K_SINK", []string{"ksinkpw", "ksinkquery"}},

		{"allow unauthenticated yes", map[string]string{"ALLOW_UNAUTHENTICATED": "yes"}, "ALLOW_UNAUTHENTICATED", nil},
		{"allow force maybe", map[string]string{"ALLOW_FORCE": "maybe"}, "ALLOW_FORCE", nil},
		{"allow stop on", map[string]string{"ALLOW_STOP": "on"}, "ALLOW_STOP", nil},
		{"bad glob", map[string]string{"ALLOWED_INSTANCE_TYPES": "g.n2.*,c.n3.["}, "ALLOWED_INSTANCE_TYPES", nil},
		{"bad glob escape", map[string]string{"ALLOWED_INSTANCE_TYPES": `g.n2.\`}, "ALLOWED_INSTANCE_TYPES", nil},

		{"cooldown unparseable", map[string]string{"COOLDOWN": "abc"}, "COOLDOWN", nil},
		{"cooldown without unit", map[string]string{"COOLDOWN": "10"}, "COOLDOWN", nil},
		{"cooldown negative", map[string]string{"COOLDOWN": "-5m"}, "COOLDOWN", nil},
		{"cooldown overflow", map[string]string{"COOLDOWN": "9999999999h"}, "COOLDOWN", nil},
		{"ttl unparseable", map[string]string{"IDEMPOTENCY_TTL": "abc"}, "IDEMPOTENCY_TTL", nil},
		{"ttl zero", map[string]string{"IDEMPOTENCY_TTL": "0"}, "IDEMPOTENCY_TTL", nil},
		{"ttl zero seconds", map[string]string{"IDEMPOTENCY_TTL": "0s"}, "IDEMPOTENCY_TTL", nil},
		{"ttl negative", map[string]string{"IDEMPOTENCY_TTL": "-1h"}, "IDEMPOTENCY_TTL", nil},

		{"bad resize windows", map[string]string{"RESIZE_WINDOWS": "Mon-Fri 1-5"}, "RESIZE_WINDOWS", nil},
		{"bad resize windows zone", map[string]string{"RESIZE_WINDOWS": "Mon 01:00-02:00", "RESIZE_WINDOWS_TZ": "Mars/Olympus"}, "RESIZE_WINDOWS_TZ", nil},
		{"max concurrent negative", map[string]string{"MAX_CONCURRENT_RESIZES": "-1"}, "MAX_CONCURRENT_RESIZES", nil},
		{"max per window word", map[string]string{"MAX_RESIZES_PER_WINDOW": "ten"}, "MAX_RESIZES_PER_WINDOW", nil},
		{"max failures fraction", map[string]string{"MAX_FAILURES_PER_WINDOW": "1.5"}, "MAX_FAILURES_PER_WINDOW", nil},
		{"fleet window zero", map[string]string{"FLEET_WINDOW": "0s"}, "FLEET_WINDOW", nil},
		{"fleet window fraction", map[string]string{"FLEET_WINDOW": "1500ms"}, "FLEET_WINDOW", nil},
		{"approval ttl zero", map[string]string{"APPROVAL_TTL": "0"}, "APPROVAL_TTL", nil},

		{"metrics namespace reserved by AWS", map[string]string{"METRICS_NAMESPACE": "AWS/Lambda"}, "METRICS_NAMESPACE", nil},
		{"metrics namespace too long", map[string]string{"METRICS_NAMESPACE": strings.Repeat("n", 256)}, "METRICS_NAMESPACE", nil},
		{"metrics namespace with a comma", map[string]string{"METRICS_NAMESPACE": "a,b"}, "METRICS_NAMESPACE", nil},
		{"metrics namespace with a quote", map[string]string{"METRICS_NAMESPACE": `a"b`}, "METRICS_NAMESPACE", nil},
		{"metrics namespace with a newline", map[string]string{"METRICS_NAMESPACE": "a\nb"}, "METRICS_NAMESPACE", nil},
		{"metrics namespace starting with a space", map[string]string{"METRICS_NAMESPACE": " ns"}, "METRICS_NAMESPACE", nil},

		{"log level unknown", map[string]string{"LOG_LEVEL": "verbose"}, "LOG_LEVEL", nil},
		{"log level with newline", map[string]string{"LOG_LEVEL": "info\nerror"}, "LOG_LEVEL", nil},

		{"port zero", map[string]string{"PORT": "0"}, "PORT", nil},
		{"port too high", map[string]string{"PORT": "65536"}, "PORT", nil},
		{"port negative", map[string]string{"PORT": "-1"}, "PORT", nil},
		{"port not a number", map[string]string{"PORT": "http"}, "PORT", nil},
		{"batch concurrency zero", map[string]string{"BATCH_CONCURRENCY": "0"}, "BATCH_CONCURRENCY", nil},
		{"batch concurrency too high", map[string]string{"BATCH_CONCURRENCY": "101"}, "BATCH_CONCURRENCY", nil},
		{"batch concurrency fraction", map[string]string{"BATCH_CONCURRENCY": "2.5"}, "BATCH_CONCURRENCY", nil},
		{"rate limit zero", map[string]string{"JDCLOUD_RATE_LIMIT": "0"}, "JDCLOUD_RATE_LIMIT", nil},
		{"rate limit negative", map[string]string{"JDCLOUD_RATE_LIMIT": "-1"}, "JDCLOUD_RATE_LIMIT", nil},
		{"rate limit too high", map[string]string{"JDCLOUD_RATE_LIMIT": "1000.5"}, "JDCLOUD_RATE_LIMIT", nil},
		{"rate limit NaN", map[string]string{"JDCLOUD_RATE_LIMIT": "NaN"}, "JDCLOUD_RATE_LIMIT", nil},
		{"rate limit infinite", map[string]string{"JDCLOUD_RATE_LIMIT": "+Inf"}, "JDCLOUD_RATE_LIMIT", nil},
		{"rate limit not a number", map[string]string{"JDCLOUD_RATE_LIMIT": "fast"}, "JDCLOUD_RATE_LIMIT", nil},

		{"instance label not a label name", map[string]string{"ALERT_INSTANCE_LABEL": "jdcloud-instance"}, "ALERT_INSTANCE_LABEL", nil},
		{"instance label in the resize_ namespace", map[string]string{"ALERT_INSTANCE_LABEL": "resize_instance"}, "ALERT_INSTANCE_LABEL", nil},
		{"region label with a newline", map[string]string{"ALERT_REGION_LABEL": "region\nx"}, "ALERT_REGION_LABEL", nil},
		{"the two labels equal", map[string]string{"ALERT_INSTANCE_LABEL": "host", "ALERT_REGION_LABEL": "host"}, "ALERT_REGION_LABEL", nil},
		{"region label is the default instance label", map[string]string{"ALERT_REGION_LABEL": "jdcloud_instance_id"}, "ALERT_REGION_LABEL", nil},
		{"default region not a region", map[string]string{"DEFAULT_REGION": "north"}, "DEFAULT_REGION", nil},
		{"jira statuses equal but for case", map[string]string{"JIRA_APPROVED_STATUS": "Done", "JIRA_REJECTED_STATUS": "done"}, "JIRA_REJECTED_STATUS", nil},
		{"jira approved status padded", map[string]string{"JIRA_APPROVED_STATUS": " Approved"}, "JIRA_APPROVED_STATUS", nil},
		{"jira fields without =", map[string]string{"JIRA_FIELDS": "instanceId"}, "JIRA_FIELDS", nil},
		{"jira fields unknown request field", map[string]string{"JIRA_FIELDS": "reason=summary"}, "JIRA_FIELDS", nil},
		{"jira fields trailing comma", map[string]string{"JIRA_FIELDS": "instanceId=customfield_1,"}, "JIRA_FIELDS", nil},
		{"jira fields mapped twice", map[string]string{"JIRA_FIELDS": "instanceId=customfield_1,instanceId=customfield_2"}, "JIRA_FIELDS", nil},
		{"jira fields one Jira field twice", map[string]string{"JIRA_FIELDS": "instanceId=customfield_1,regionId=customfield_1"}, "JIRA_FIELDS", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(cfgEnv(tt.env))
			if err == nil {
				t.Fatal("loadConfig accepted it")
			}
			msg := err.Error()
			cfgCheckOneLine(t, msg)
			// Exactly one complaint, about the variable: a bad value is not
			// also reported as some second, derived problem.
			if want := "bad configuration: " + tt.variable + ": "; !strings.HasPrefix(msg, want) {
				t.Errorf("error %q does not start with %q", msg, want)
			}
			if strings.Contains(msg, "; ") {
				t.Errorf("error %q holds more than one complaint", msg)
			}
			cfgCheckHidden(t, msg, append(tt.hidden, cfgSecrets...))
		})
	}
}

// Several bad variables are all named, still in one line, so that a deploy
// is fixed in one round.
func TestLoadConfigReportsEveryBadVariable(t *testing.T) {
	_, err := loadConfig(cfgEnv(map[string]string{
		"COOLDOWN":         "abc",
		"PORT":             "0",
		"LOG_LEVEL":        "loud",
		"RESULT_SINK_URL":  "gopher://u:multipw@x/",
		"JDCLOUD_ENDPOINT": "https://vm.jdcloud-api.com/v1",
	}))
	if err == nil {
		t.Fatal("loadConfig accepted it")
	}
	msg := err.Error()
	cfgCheckOneLine(t, msg)
	for _, name := range []string{"COOLDOWN: ", "PORT: ", "LOG_LEVEL: ", "RESULT_SINK_URL: ", "JDCLOUD_ENDPOINT: "} {
		if !strings.Contains(msg, name) {
			t.Errorf("error %q does not name %s", msg, name)
		}
	}
	cfgCheckHidden(t, msg, append([]string{"multipw"}, cfgSecrets...))
}

func cfgCheckOneLine(t *testing.T, msg string) {
	t.Helper()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
}

func cfgCheckHidden(t *testing.T, msg string, hidden []string) {
	t.Helper()
	for _, h := range hidden {
		if strings.Contains(msg, h) {
			t.Errorf("error %q leaks %q", msg, h)
		}
	}
}

// TestBinary runs the built command: the bad-configuration path through
// main's os.Exit, and the HTTP receiver from start to a graceful SIGTERM.
func TestBinary(t *testing.T) {
	bin := cfgBuildBinary(t)

	t.Run("bad configuration exits at once with one line", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = []string{
			"COOLDOWN=abc",
			"JDCLOUD_ACCESS_KEY=" + cfgAccessKey,
			"JDCLOUD_SECRET_KEY=" + cfgSecretKey,
			"WEBHOOK_SECRET=" + cfgWebhookSecret,
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		elapsed := time.Since(start)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
			t.Fatalf("want a non-zero exit, got %v (stderr %q)", err, stderr.String())
		}
		if elapsed > 5*time.Second {
			t.Errorf("took %v to refuse a bad configuration", elapsed)
		}
		out := stderr.String()
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
			t.Errorf("want exactly one stderr line, got %q", out)
		}
		if !strings.Contains(out, "COOLDOWN") {
			t.Errorf("stderr %q does not name COOLDOWN", out)
		}
		cfgCheckHidden(t, out+stdout.String(), cfgSecrets)
	})

	t.Run("HTTP receiver serves healthz and stops on SIGTERM", func(t *testing.T) {
		port := cfgFreePort(t)
		cmd := exec.Command(bin)
		// An explicit environment: no AWS_LAMBDA_RUNTIME_API, hence HTTP mode.
		cmd.Env = []string{
			"PORT=" + strconv.Itoa(port),
			"JDCLOUD_ENDPOINT=http://127.0.0.1:1",
			"JDCLOUD_ACCESS_KEY=" + cfgAccessKey,
			"JDCLOUD_SECRET_KEY=" + cfgSecretKey,
			"WEBHOOK_TOKEN=" + cfgWebhookToken,
			"ALLOW_UNAUTHENTICATED=true",
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := false
		t.Cleanup(func() {
			if !exited {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})

		// The "listening" log line is written once the socket is bound, so
		// it is the signal to start talking to it.
		listening := make(chan struct{})
		logDone := make(chan []string, 1)
		go func() {
			var lines []string
			seen := false
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines = append(lines, sc.Text())
				var entry struct{ Msg string }
				if !seen && json.Unmarshal(sc.Bytes(), &entry) == nil && entry.Msg == "listening" {
					seen = true
					close(listening)
				}
			}
			logDone <- lines
		}()
		var lines []string
		select {
		case <-listening:
		case lines = <-logDone:
			exited = true
			t.Fatalf("exited before listening: %v; stdout %q; stderr %q", cmd.Wait(), lines, stderr.String())
		case <-time.After(30 * time.Second):
			t.Fatalf("not listening after 30s; stderr %q", stderr.String())
		}

		client := &http.Client{Timeout: 5 * time.Second}
		resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		client.CloseIdleConnections()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /healthz: %d, want 200", resp.StatusCode)
		}

		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case lines = <-logDone:
		case <-time.After(5 * time.Second):
			t.Fatal("still running 5s after SIGTERM")
		}
		exited = true
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v, want 0; stderr %q", err, stderr.String())
		}
		cfgCheckHidden(t, strings.Join(lines, "\n")+stderr.String(), cfgSecrets)
	})
}

// cfgBuildBinary builds the command once for this test; the package's own
// compiled dependencies are already in the build cache.
func cfgBuildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cfgFreePort asks the kernel for a loopback port and releases it for the
// binary; the window in which another process could take it is tiny.
func cfgFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// A URL loadConfig lets through must not be refused by the adapter using it,
// where the failure would surface as a wiring error instead of one line
// naming the variable.
func TestURLsAcceptedByConfigAreAcceptedDownstream(t *testing.T) {
	for _, ep := range []string{
		"http://127.0.0.1:8080", "https://vm.jdcloud-api.com", "https://vm.jdcloud-api.com/", "http://[::1]:9000",
		"https://vm.jdcloud-api.com//", "https://vm.jdcloud-api.com?", "https://vm.jdcloud-api.com#f",
		"https://u:p@vm.jdcloud-api.com", "http://:8080", "http:opaque", "https://vm.jdcloud-api.com/v1",
		"HTTPS://VM.JDCLOUD-API.COM", "http://host:", "ftp://host",
	} {
		if _, err := loadConfig(cfgEnv(map[string]string{"JDCLOUD_ENDPOINT": ep})); err != nil {
			continue
		}
		if _, err := jdcloud.New(jdcloud.Options{Endpoint: ep, Credentials: jdcloud.StaticCredentials{AccessKey: "a", SecretKey: "b"}}); err != nil {
			t.Errorf("loadConfig accepts JDCLOUD_ENDPOINT=%q, jdcloud.New refuses it: %v", ep, err)
		}
	}
	// Likewise RESULT_SINK_URL and sink.NewHTTP.
	for _, u := range []string{
		"https://sink.example/a/b?c=d#e", "http://[::1]:9/", "http://:80/x", "https:sink.example", "http://sink.example:65535",
	} {
		if _, err := loadConfig(cfgEnv(map[string]string{"RESULT_SINK_URL": u})); err != nil {
			continue
		}
		if _, err := sink.NewHTTP(u, sink.HTTPOptions{}); err != nil {
			t.Errorf("loadConfig accepts RESULT_SINK_URL=%q, sink.NewHTTP refuses it: %v", u, err)
		}
	}
}
