package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/metrics"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
	"github.com/jdcloud-vm-resizer/resizer/webhook"
)

// config is the environment of docs/contract.md §2, parsed and checked once at start.
type config struct {
	AccessKey, SecretKey string
	CredentialsSecret    string
	Endpoint             string
	SinkURL              string
	EventBus             string
	Source               string
	WebhookSecret        string
	WebhookToken         string
	AllowUnauthenticated bool
	Policy               resizer.Policy
	Cooldown             time.Duration
	Table                string
	TTL                  time.Duration
	LogLevel             zapcore.Level
	Port                 int
	ShutdownGrace        time.Duration // HTTP server mode: SIGTERM → in-flight deliveries may finish for this long
	BatchConcurrency     int
	RateLimit            float64            // JD Cloud requests per second, shared by all records
	Labels               webhook.Labels     // ALERT_INSTANCE_LABEL, ALERT_REGION_LABEL, DEFAULT_REGION
	Jira                 webhook.JiraConfig // JIRA_APPROVED_STATUS, JIRA_REJECTED_STATUS, JIRA_FIELDS, DEFAULT_REGION
	Fleet                fleetConfig
	// MetricsNamespace is the CloudWatch namespace of the EMF lines written
	// under Lambda; metrics.Off ("off") writes none.
	MetricsNamespace string
}

// loadConfig reads the environment. Every error names its variable in one
// line, because it is what an operator sees when a deploy fails to start;
// all of them are reported at once.
func loadConfig(getenv func(string) string) (config, error) {
	e := &env{getenv: getenv}
	var c config
	c.readJDCloud(e)
	c.readOutcomes(e)
	c.readWebhooks(e)
	c.readSources(e)
	c.readPolicy(e)
	c.readStore(e)
	c.readFleet(e)
	c.readMetrics(e)
	c.readRuntime(e)
	if len(e.errs) > 0 {
		return c, fmt.Errorf("bad configuration: %s", strings.Join(e.errs, "; "))
	}
	return c, nil
}

func (c *config) readJDCloud(e *env) {
	c.AccessKey = e.getenv("JDCLOUD_ACCESS_KEY")
	c.SecretKey = e.getenv("JDCLOUD_SECRET_KEY")
	c.CredentialsSecret = e.getenv("JDCLOUD_CREDENTIALS_SECRET")
	c.Endpoint = e.str("JDCLOUD_ENDPOINT", "https://vm.jdcloud-api.com")
	// Only names are reported, never values: these are secrets.
	switch {
	case c.CredentialsSecret != "":
	case c.AccessKey == "":
		e.fail("JDCLOUD_ACCESS_KEY", "JDCLOUD_ACCESS_KEY and JDCLOUD_SECRET_KEY are required unless JDCLOUD_CREDENTIALS_SECRET names a Secrets Manager secret")
	case c.SecretKey == "":
		e.fail("JDCLOUD_SECRET_KEY", "JDCLOUD_ACCESS_KEY and JDCLOUD_SECRET_KEY are required unless JDCLOUD_CREDENTIALS_SECRET names a Secrets Manager secret")
	}
	if err := checkURL(c.Endpoint, false); err != nil {
		e.fail("JDCLOUD_ENDPOINT", "%v", err)
	}
	c.RateLimit = 20
	if v := e.getenv("JDCLOUD_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		// Written so that NaN, which ParseFloat accepts, fails too.
		if err != nil || !(f > 0 && f <= 1000) {
			e.fail("JDCLOUD_RATE_LIMIT", "want requests per second above 0 and at most 1000, got %q", v)
		}
		c.RateLimit = f
	}
}

func (c *config) readOutcomes(e *env) {
	c.SinkURL = e.getenv("RESULT_SINK_URL")
	name := "RESULT_SINK_URL"
	if c.SinkURL == "" {
		c.SinkURL, name = e.getenv("K_SINK"), "K_SINK"
	}
	if c.SinkURL != "" {
		if err := checkURL(c.SinkURL, true); err != nil {
			e.fail(name, "%v", err)
		}
	}
	c.EventBus = e.getenv("RESULT_EVENT_BUS")
	c.Source = e.str("RESULT_SOURCE", resizer.DefaultSource)
}

func (c *config) readWebhooks(e *env) {
	c.WebhookSecret = e.getenv("WEBHOOK_SECRET")
	c.WebhookToken = e.getenv("WEBHOOK_TOKEN")
	e.boolean("ALLOW_UNAUTHENTICATED", &c.AllowUnauthenticated)
}

// readSources reads what the native routes of docs/contract.md §7 need: the
// alert label names, the default region and Jira's statuses and fields.
// The webhook package judges the values, so that configuration and
// decoders can never disagree on what is valid.
func (c *config) readSources(e *env) {
	c.Labels = webhook.Labels{
		Instance:      e.str("ALERT_INSTANCE_LABEL", webhook.DefaultInstanceLabel),
		Region:        e.str("ALERT_REGION_LABEL", webhook.DefaultRegionLabel),
		DefaultRegion: e.getenv("DEFAULT_REGION"),
	}
	c.Jira = webhook.JiraConfig{
		Approved:      e.str("JIRA_APPROVED_STATUS", webhook.DefaultJiraApproved),
		Rejected:      e.str("JIRA_REJECTED_STATUS", webhook.DefaultJiraRejected),
		DefaultRegion: c.Labels.DefaultRegion,
	}
	fields, err := webhook.ParseJiraFields(e.getenv("JIRA_FIELDS"))
	if err != nil {
		e.webhookErr(err)
	}
	c.Jira.Fields = fields
	// The two checks whose message names two variables are made here, so
	// that each complaint starts with one variable's name.
	if c.Labels.Instance == c.Labels.Region {
		e.fail("ALERT_REGION_LABEL", "is %s, as ALERT_INSTANCE_LABEL is, and the two labels must differ", resizer.Quote(c.Labels.Region))
	} else if err := c.Labels.Validate(); err != nil {
		e.webhookErr(err)
	}
	if strings.EqualFold(c.Jira.Approved, c.Jira.Rejected) {
		e.fail("JIRA_REJECTED_STATUS", "is %s, as JIRA_APPROVED_STATUS is (letter case aside), and a transition cannot mean both", resizer.Quote(c.Jira.Rejected))
		return
	}
	// DEFAULT_REGION was judged with the labels: once is enough.
	jira := c.Jira
	jira.DefaultRegion = ""
	if err := jira.Validate(); err != nil {
		e.webhookErr(err)
	}
}

// webhookErr reports an error of the webhook package's Validate or
// ParseJiraFields, whose messages start with the variable's name, in env's
// "NAME: problem" form.
func (e *env) webhookErr(err error) {
	msg := strings.TrimPrefix(err.Error(), webhook.ErrConfig.Error()+": ")
	name, rest, _ := strings.Cut(msg, " ")
	e.fail(name, "%s", rest)
}

func (c *config) readPolicy(e *env) {
	e.boolean("ALLOW_FORCE", &c.Policy.AllowForce)
	e.boolean("ALLOW_STOP", &c.Policy.AllowStop)
	c.Policy.AllowedInstanceTypes = resizer.ParsePolicyList(e.getenv("ALLOWED_INSTANCE_TYPES"))
	c.Policy.AllowedSources = resizer.ParsePolicyList(e.getenv("ALLOWED_SOURCES"))
	c.Policy.AllowedDirections = resizer.ParsePolicyList(e.getenv("ALLOWED_DIRECTIONS"))
	if err := c.Policy.Validate(); err != nil {
		e.errs = append(e.errs, err.Error())
	}
	e.duration("COOLDOWN", 0, false, &c.Cooldown)
}

func (c *config) readStore(e *env) {
	c.Table = e.getenv("IDEMPOTENCY_TABLE")
	e.duration("IDEMPOTENCY_TTL", resizer.DefaultIdempotencyTTL, true, &c.TTL)
}

func (c *config) readMetrics(e *env) {
	c.MetricsNamespace = e.str("METRICS_NAMESPACE", metrics.DefaultNamespace)
	if c.MetricsNamespace == metrics.Off {
		return
	}
	if err := metrics.CheckNamespace(c.MetricsNamespace); err != nil {
		e.fail("METRICS_NAMESPACE", "%v (off turns metrics off)", err)
	}
}

func (c *config) readRuntime(e *env) {
	e.integer("PORT", 8080, 1, 65535, &c.Port)
	e.duration("SHUTDOWN_GRACE", trigger.ShutdownGrace, true, &c.ShutdownGrace)
	e.integer("BATCH_CONCURRENCY", 10, 1, 100, &c.BatchConcurrency)
	lvl := e.str("LOG_LEVEL", "info")
	if err := c.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
		e.fail("LOG_LEVEL", "want debug, info, warn or error, got %q", lvl)
	}
}

// env reads variables and collects one error per bad variable: an
// unparseable TTL is not also "not positive".
type env struct {
	getenv func(string) string
	errs   []string
}

func (e *env) fail(name, format string, args ...any) {
	e.errs = append(e.errs, name+": "+fmt.Sprintf(format, args...))
}

func (e *env) str(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

func (e *env) boolean(name string, dst *bool) {
	v := e.getenv(name)
	if v == "" {
		return
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(name, "want true or false, got %q", v)
	}
	*dst = b
}

func (e *env) duration(name string, def time.Duration, positive bool, dst *time.Duration) {
	*dst = def
	v := e.getenv(name)
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		e.fail(name, "want a Go duration such as 10m or 24h, got %q", v)
	case positive && d <= 0:
		e.fail(name, "must be positive, got %q", v)
	case d < 0:
		e.fail(name, "must not be negative, got %q", v)
	}
	*dst = d
}

func (e *env) integer(name string, def, lo, hi int, dst *int) {
	*dst = def
	v := e.getenv(name)
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.fail(name, "want an integer from %d to %d, got %q", lo, hi, v)
	}
	*dst = n
}

// checkURL accepts an absolute http(s) URL that names a host. An endpoint
// (pathOK false) must be exactly scheme://host[:port], which is what
// jdcloud.New accepts: a value it would refuse must fail here, in one line
// naming the variable, not later as a wiring error.
func checkURL(raw string, pathOK bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %q", resizer.SafeURL(raw))
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("want an http or https URL, got %q", resizer.SafeURL(raw))
	case u.Opaque != "" || u.Hostname() == "":
		return fmt.Errorf("URL %q has no host", resizer.SafeURL(raw))
	case !validPort(u.Port()):
		return fmt.Errorf("URL %q has a port outside 1-65535", resizer.SafeURL(raw))
	case !pathOK && (u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != ""):
		return fmt.Errorf("want scheme://host[:port] without user information, path, query or fragment, got %q", resizer.SafeURL(raw))
	}
	return nil
}

// validPort: url.Parse checks that a port is digits, not that it fits.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}
