package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// Grafana decodes a Grafana alerting webhook contact point's message
// (docs/contract.md §7.3): Alertmanager's shape with version "1" and Grafana's own
// members (orgId, title, state, message; per alert values, silenceURL,
// dashboardURL, panelURL, imageURL, ruleUID, …), which the resizer does not
// need and ignores. Items, errors and messages are as Alertmanager's; the
// source is grafana/<receiver> and requestedBy is grafana.
func Grafana(body []byte, l Labels) (Result, error) {
	return decodeAlerts(body, l, grafanaSender)
}

// Grafana's HMAC headers. The signature header is Grafana's default name
// (a contact point may rename it; then this route does not see it).
// Grafana has no default name for the timestamp header: the contact point
// must set "Timestamp header" to this one for the timestamped form.
const (
	HeaderGrafanaSignature = "X-Grafana-Alerting-Signature"
	HeaderGrafanaTimestamp = "X-Grafana-Alerting-Timestamp"
)

// GrafanaMaxSkew is how far a signed timestamp may be from now, either way.
const GrafanaMaxSkew = 5 * time.Minute

// VerifyGrafana tells whether the request carries Grafana's HMAC signature
// of body by secret: the header HeaderGrafanaSignature holds the hex
// HMAC-SHA256 of the raw body, or, when HeaderGrafanaTimestamp is present,
// of "<timestamp>:<body>" with the header's Unix seconds exactly as sent
// (what grafana/alerting's HMACRoundTripper signs). A timestamp more than
// GrafanaMaxSkew from now, one that is not decimal digits, or more than
// one of either header, is refused. An empty secret verifies nothing. The
// comparison is constant-time; nothing is logged.
func VerifyGrafana(secret string, h http.Header, body []byte, now time.Time) bool {
	if secret == "" {
		return false
	}
	sigs := h.Values(HeaderGrafanaSignature)
	if len(sigs) != 1 {
		return false
	}
	got, err := hex.DecodeString(sigs[0])
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	switch ts := h.Values(HeaderGrafanaTimestamp); len(ts) {
	case 0:
	case 1:
		sec, ok := unixSeconds(ts[0])
		if !ok {
			return false
		}
		// Compare in seconds: a time.Duration overflows far inside int64.
		if d := now.Unix() - sec; d > int64(GrafanaMaxSkew/time.Second) || d < -int64(GrafanaMaxSkew/time.Second) {
			return false
		}
		mac.Write([]byte(ts[0]))
		mac.Write([]byte{':'})
	default:
		return false
	}
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// unixSeconds parses a timestamp header: decimal digits only, as Grafana's
// strconv.FormatInt writes a time after 1970.
func unixSeconds(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
