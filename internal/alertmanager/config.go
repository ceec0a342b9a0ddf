package alertmanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Options describe the one route and the one webhook receiver a Server's
// configuration has. Zero values take the defaults given per field.
type Options struct {
	// WebhookURL is where notifications go (webhook_configs[0].url). Required.
	WebhookURL string
	// Token, when set, is sent as "Authorization: Bearer <Token>"
	// (http_config.authorization): the only authentication Alertmanager's
	// webhook has, as it cannot sign bodies.
	Token string
	// Receiver names the receiver, the notifications' "receiver"; "resizer"
	// by default.
	Receiver string
	// GroupBy is the route's group_by; alertname and jdcloud_instance_id by
	// default, so each instance's alert is its own notification.
	// []string{"..."} groups by every label.
	GroupBy []string
	// GroupWait is how long a new group waits before its first notification;
	// 1s by default.
	GroupWait time.Duration
	// GroupInterval is how long a group waits before notifying of a change
	// (a new alert in it, a resolved one); 1s by default.
	GroupInterval time.Duration
	// RepeatInterval is how long before an unchanged group is notified
	// again; 1h by default, so that tests see no repeat unless they ask.
	RepeatInterval time.Duration
	// SendResolved notifies of resolved alerts too. Off by default, which
	// is written out: Alertmanager's own default is on.
	SendResolved bool
	// MaxAlerts caps the alerts in one notification (max_alerts), the rest
	// counted in truncatedAlerts; 0 sends all.
	MaxAlerts int
}

// DefaultGroupBy is Options.GroupBy's default.
var DefaultGroupBy = []string{"alertname", "jdcloud_instance_id"}

func (o Options) withDefaults() (Options, error) {
	if o.WebhookURL == "" {
		return o, errors.New("alertmanager: Options.WebhookURL is required")
	}
	if u, err := url.Parse(o.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, fmt.Errorf("alertmanager: Options.WebhookURL %q is not an http(s) URL", o.WebhookURL)
	}
	if o.Receiver == "" {
		o.Receiver = "resizer"
	}
	if o.GroupBy == nil {
		o.GroupBy = DefaultGroupBy
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"GroupWait", &o.GroupWait, time.Second},
		{"GroupInterval", &o.GroupInterval, time.Second},
		{"RepeatInterval", &o.RepeatInterval, time.Hour},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
		// Alertmanager's durations have millisecond resolution.
		if *d.v < time.Millisecond || *d.v%time.Millisecond != 0 {
			return o, fmt.Errorf("alertmanager: Options.%s %v is not a positive whole number of milliseconds", d.name, *d.v)
		}
	}
	if o.MaxAlerts < 0 {
		return o, fmt.Errorf("alertmanager: Options.MaxAlerts %d is negative", o.MaxAlerts)
	}
	return o, nil
}

// config is Alertmanager's configuration file. It is JSON, which YAML
// parsers take as it is, so no value ever needs YAML quoting.
func (o Options) config() ([]byte, error) {
	type authorization struct {
		Type        string `json:"type"`
		Credentials string `json:"credentials"`
	}
	type httpConfig struct {
		Authorization authorization `json:"authorization"`
	}
	type webhook struct {
		URL          string      `json:"url"`
		SendResolved bool        `json:"send_resolved"`
		MaxAlerts    int         `json:"max_alerts"`
		HTTPConfig   *httpConfig `json:"http_config,omitempty"`
	}
	type receiver struct {
		Name     string    `json:"name"`
		Webhooks []webhook `json:"webhook_configs"`
	}
	type route struct {
		Receiver       string   `json:"receiver"`
		GroupBy        []string `json:"group_by"`
		GroupWait      string   `json:"group_wait"`
		GroupInterval  string   `json:"group_interval"`
		RepeatInterval string   `json:"repeat_interval"`
	}
	w := webhook{URL: o.WebhookURL, SendResolved: o.SendResolved, MaxAlerts: o.MaxAlerts}
	if o.Token != "" {
		w.HTTPConfig = &httpConfig{Authorization: authorization{Type: "Bearer", Credentials: o.Token}}
	}
	return json.MarshalIndent(struct {
		Route     route      `json:"route"`
		Receivers []receiver `json:"receivers"`
	}{
		Route: route{
			Receiver:       o.Receiver,
			GroupBy:        o.GroupBy,
			GroupWait:      duration(o.GroupWait),
			GroupInterval:  duration(o.GroupInterval),
			RepeatInterval: duration(o.RepeatInterval),
		},
		Receivers: []receiver{{Name: o.Receiver, Webhooks: []webhook{w}}},
	}, "", "  ")
}

// duration writes d as Prometheus's duration syntax takes it (not Go's
// "1.5s").
func duration(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }
