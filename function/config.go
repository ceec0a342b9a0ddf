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
	// Only names are reported, never values: these are secrets.
	switch {
	case c.CredentialsSecret != "":
	case c.AccessKey == "":
		fail("JDCLOUD_ACCESS_KEY", "JDCLOUD_ACCESS_KEY and JDCLOUD_SECRET_KEY are required unless JDCLOUD_CREDENTIALS_SECRET names a Secrets Manager secret")
	case c.SecretKey == "":
		fail("JDCLOUD_SECRET_KEY", "JDCLOUD_ACCESS_KEY and JDCLOUD_SECRET_KEY are required unless JDCLOUD_CREDENTIALS_SECRET names a Secrets Manager secret")
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
	// One error per variable: an unparseable TTL is not also "not positive".
	durVar := func(name string, def time.Duration, positive bool, dst *time.Duration) {
		*dst = def
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			fail(name, "want a Go duration such as 10m or 24h, got %q", v)
		case positive && d <= 0:
			fail(name, "must be positive, got %q", v)
		case d < 0:
			fail(name, "must not be negative, got %q", v)
		}
		*dst = d
	}
	durVar("COOLDOWN", 0, false, &c.Cooldown)
	durVar("IDEMPOTENCY_TTL", 24*time.Hour, true, &c.TTL)
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
		// Written so that NaN, which ParseFloat accepts, fails too.
		if err != nil || !(f > 0 && f <= 1000) {
			fail("JDCLOUD_RATE_LIMIT", "want requests per second above 0 and at most 1000, got %q", v)
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

// checkURL accepts an absolute http(s) URL that names a host. An endpoint
// (pathOK false) must be exactly scheme://host[:port], which is what
// jdcloud.New accepts: a value it would refuse must fail here, in one line
// naming the variable, not later as a wiring error.
func checkURL(raw string, pathOK bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %q", redactURL(raw))
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("want an http or https URL, got %q", redactURL(raw))
	case u.Opaque != "" || u.Hostname() == "":
		return fmt.Errorf("URL %q has no host", redactURL(raw))
	case !validPort(u.Port()):
		return fmt.Errorf("URL %q has a port outside 1-65535", redactURL(raw))
	case !pathOK && (u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != ""):
		return fmt.Errorf("want scheme://host[:port] without user information, path, query or fragment, got %q", redactURL(raw))
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

// redactURL keeps what may carry credentials out of messages: userinfo,
// query and fragment, and all of an opaque URL ("http:user:pass@host" puts
// the password there, not in userinfo).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	if u.Opaque != "" {
		return u.Scheme + ":(redacted)"
	}
	u.User = nil
	u.RawQuery, u.ForceQuery = "", false
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

func orEnv(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
