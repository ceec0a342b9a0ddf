package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// config is the environment of CONTRACT §2, parsed and checked once at start.
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
	BatchConcurrency     int
	RateLimit            float64 // JD Cloud requests per second, shared by all records
}

// loadConfig reads the environment. Every error names its variable in one
// line, because it is what an operator sees when a deploy fails to start.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		AccessKey:         getenv("JDCLOUD_ACCESS_KEY"),
		SecretKey:         getenv("JDCLOUD_SECRET_KEY"),
		CredentialsSecret: getenv("JDCLOUD_CREDENTIALS_SECRET"),
		Endpoint:          orEnv(getenv, "JDCLOUD_ENDPOINT", "https://vm.jdcloud-api.com"),
		SinkURL:           getenv("RESULT_SINK_URL"),
		EventBus:          getenv("RESULT_EVENT_BUS"),
		Source:            orEnv(getenv, "RESULT_SOURCE", resizer.DefaultSource),
		WebhookSecret:     getenv("WEBHOOK_SECRET"),
		WebhookToken:      getenv("WEBHOOK_TOKEN"),
		Table:             getenv("IDEMPOTENCY_TABLE"),
	}
	if c.SinkURL == "" {
		c.SinkURL = getenv("K_SINK")
	}
	var errs []string
	fail := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	switch {
	case c.CredentialsSecret != "":
	case c.AccessKey == "" || c.SecretKey == "":
		fail("JDCLOUD_ACCESS_KEY", "JDCLOUD_ACCESS_KEY and JDCLOUD_SECRET_KEY are required unless JDCLOUD_CREDENTIALS_SECRET names a Secrets Manager secret")
	}
	if err := checkURL(c.Endpoint, false); err != nil {
		fail("JDCLOUD_ENDPOINT", "%v", err)
	}
	if c.SinkURL != "" {
		if err := checkURL(c.SinkURL, true); err != nil {
			name := "RESULT_SINK_URL"
			if getenv("RESULT_SINK_URL") == "" {
				name = "K_SINK"
			}
			fail(name, "%v", err)
		}
	}
	boolVar := func(name string, dst *bool) {
		v := getenv(name)
		if v == "" {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail(name, "want true or false, got %q", v)
		}
		*dst = b
	}
	boolVar("ALLOW_UNAUTHENTICATED", &c.AllowUnauthenticated)
	boolVar("ALLOW_FORCE", &c.Policy.AllowForce)
	boolVar("ALLOW_STOP", &c.Policy.AllowStop)
	c.Policy.AllowedInstanceTypes = resizer.ParsePolicyList(getenv("ALLOWED_INSTANCE_TYPES"))
	c.Policy.AllowedSources = resizer.ParsePolicyList(getenv("ALLOWED_SOURCES"))
	if err := c.Policy.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	durVar := func(name string, def time.Duration, dst *time.Duration) {
		*dst = def
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if v == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 {
			fail(name, "want a Go duration such as 10m or 24h, got %q", v)
		}
		*dst = d
	}
	durVar("COOLDOWN", 0, &c.Cooldown)
	durVar("IDEMPOTENCY_TTL", 24*time.Hour, &c.TTL)
	if getenv("IDEMPOTENCY_TTL") != "" && c.TTL == 0 {
		fail("IDEMPOTENCY_TTL", "must be positive")
	}
	intVar := func(name string, def, lo, hi int, dst *int) {
		*dst = def
		v := getenv(name)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			fail(name, "want an integer from %d to %d, got %q", lo, hi, v)
		}
		*dst = n
	}
	intVar("PORT", 8080, 1, 65535, &c.Port)
	intVar("BATCH_CONCURRENCY", 10, 1, 100, &c.BatchConcurrency)
	c.RateLimit = 20
	if v := getenv("JDCLOUD_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1000 {
			fail("JDCLOUD_RATE_LIMIT", "want requests per second between 0 and 1000, got %q", v)
		}
		c.RateLimit = f
	}
	lvl := orEnv(getenv, "LOG_LEVEL", "info")
	if err := c.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
		fail("LOG_LEVEL", "want debug, info, warn or error, got %q", lvl)
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("bad configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// checkURL accepts http(s)://host[:port], with a path only where allowed.
func checkURL(raw string, pathOK bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %q", redactURL(raw))
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("want an http or https URL, got %q", redactURL(raw))
	case u.Host == "":
		return fmt.Errorf("URL %q has no host", redactURL(raw))
	case !pathOK && (strings.Trim(u.Path, "/") != "" || u.RawQuery != ""):
		return fmt.Errorf("want scheme://host[:port] without a path, got %q", redactURL(raw))
	}
	return nil
}

// redactURL keeps credentials in a URL's userinfo or query out of messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

func orEnv(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
