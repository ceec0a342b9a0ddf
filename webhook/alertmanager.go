package webhook

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jdcloud-vm-resizer/resizer"
)

// sender is what differs between Alertmanager's webhook message and
// Grafana's, which is Alertmanager's shape with a version of its own and
// extra members (ignored here).
type sender struct {
	name    string // for messages: "Alertmanager"
	prefix  string // of the source, and the requestedBy: "alertmanager"
	version string // the one payload version accepted
}

var (
	alertmanagerSender = sender{name: "Alertmanager", prefix: "alertmanager", version: "4"}
	grafanaSender      = sender{name: "Grafana", prefix: "grafana", version: "1"}
)

// Alertmanager decodes a Prometheus Alertmanager webhook message (payload
// version 4, docs/contract.md §7.2): one item per firing alert, in the message's
// order. The error, when not nil, is an invalid_request *resizer.Error: the
// body is not that shape (HTTP 400), or it has more than MaxItems firing
// alerts (errors.Is(err, ErrTooMany), HTTP 413). Its message is safe to send
// back: caller text appears in it only through resizer.Quote.
func Alertmanager(body []byte, l Labels) (Result, error) {
	return decodeAlerts(body, l, alertmanagerSender)
}

// alert is the part of one alert the resizer reads.
type alert struct {
	status, fingerprint, startsAt string
	hasFingerprint, hasStartsAt   bool
	labels, annotations           map[string]string
}

func decodeAlerts(body []byte, l Labels, s sender) (Result, error) {
	var res Result
	what := s.name + " webhook"
	top, err := parseBody(body, what)
	if err != nil {
		return res, err
	}
	where := "the " + what + " body"
	switch v, ok, err := top.str("version", where); {
	case err != nil:
		return res, err
	case !ok:
		return res, shape("%s has no version; %s sends version %q", where, s.name, s.version)
	case v != s.version:
		return res, shape("%s has version %s; only version %q is understood", where, resizer.Quote(v), s.version)
	}
	receiver, ok, err := top.str("receiver", where)
	switch {
	case err != nil:
		return res, err
	case !ok || receiver == "":
		return res, shape("%s has no receiver; it names the request's source", where)
	}
	source := s.prefix + "/" + escapeSegment(unquoteMeta(receiver))
	if len(source) > maxAttributeLen {
		return res, shape("%s has a receiver of %d bytes; the source %s/<receiver> must fit in %d bytes", where, len(receiver), s.prefix, maxAttributeLen)
	}
	if res.Truncated, err = truncated(top["truncatedAlerts"], where); err != nil {
		return res, err
	}
	if _, ok := top["alerts"]; !ok {
		return res, shape("%s has no alerts", where)
	}
	rawAlerts, err := parseArray(top["alerts"], where+".alerts")
	if err != nil {
		return res, err
	}

	// Read every alert before building any item: a shape error anywhere
	// refuses the whole body, and so does a count over MaxItems.
	alerts := make([]alert, 0, len(rawAlerts))
	firing := 0
	for i, raw := range rawAlerts {
		a, err := readAlert(raw, where+".alerts["+strconv.Itoa(i)+"]")
		if err != nil {
			return res, err
		}
		if a.status == "firing" {
			firing++
		} else {
			res.Resolved++
		}
		alerts = append(alerts, a)
	}
	if firing > MaxItems {
		return Result{}, tooMany("firing alerts", firing)
	}
	res.Items = make([]Item, 0, firing)
	for _, a := range alerts {
		if a.status == "firing" {
			res.Items = append(res.Items, alertItem(a, l, s, source))
		}
	}
	return res, nil
}

// readAlert checks one alert's shape: an object whose status, fingerprint
// and startsAt are strings when present and whose labels and annotations
// are objects of strings.
func readAlert(raw json.RawMessage, where string) (alert, *resizer.Error) {
	var a alert
	if isNull(raw) {
		return a, shape("%s must be a JSON object, not null", where)
	}
	o, err := parseObject(raw, where)
	if err != nil {
		return a, err
	}
	if a.status, _, err = o.str("status", where); err != nil {
		return a, err
	}
	if a.fingerprint, a.hasFingerprint, err = o.str("fingerprint", where); err != nil {
		return a, err
	}
	if a.startsAt, a.hasStartsAt, err = o.str("startsAt", where); err != nil {
		return a, err
	}
	if a.labels, err = strMap(o["labels"], where+".labels"); err != nil {
		return a, err
	}
	if a.annotations, err = strMap(o["annotations"], where+".annotations"); err != nil {
		return a, err
	}
	return a, nil
}

// alertItem builds the request of one firing alert, or the invalid item
// that tells the operator what is wrong with the alert rule.
func alertItem(a alert, l Labels, s sender, source string) Item {
	who := alertName(a)
	id := ident{source: source, typ: resizer.TypeRequested}
	if err := alertIDProblem(a, who); err != nil {
		return failedItem(id, err)
	}
	id.id = a.fingerprint + ":" + a.startsAt
	if t, err := time.Parse(time.RFC3339Nano, a.startsAt); err == nil {
		id.time = t
	}
	sp, err := alertSpec(l, who, s.prefix, a.labels, a.annotations)
	if err != nil {
		return failedItem(id, err)
	}
	data, err := sp.build()
	if err != nil {
		return failedItem(id, err)
	}
	return newItem(id, data)
}

// alertName names an alert in messages by its alertname and fingerprint.
func alertName(a alert) string {
	name := "alert without alertname"
	if n, ok := a.labels["alertname"]; ok {
		name = "alert " + resizer.Quote(n)
	}
	if a.fingerprint == "" {
		return name + " (no fingerprint)"
	}
	return name + " (fingerprint " + resizer.Quote(a.fingerprint) + ")"
}

// maxFingerprint bounds a fingerprint; Alertmanager's and Grafana's are 16
// hex digits.
const maxFingerprint = 64

// alertIDProblem checks what the request id <fingerprint>:<startsAt> is
// made of. Both are taken exactly as sent, so that a re-sent alert (repeat
// interval, group change, the other Alertmanager of an HA pair) has the
// same id and is a replay; neither is invented when missing.
func alertIDProblem(a alert, who string) *resizer.Error {
	switch {
	case !a.hasFingerprint || a.fingerprint == "":
		return invalid("%s has no fingerprint; the request id is <fingerprint>:<startsAt>", who)
	case len(a.fingerprint) > maxFingerprint || !isAlnum(a.fingerprint):
		return invalid("%s: fingerprint must be at most %d letters and digits", who, maxFingerprint)
	case !a.hasStartsAt || a.startsAt == "":
		return invalid("%s has no startsAt; the request id is <fingerprint>:<startsAt>", who)
	}
	if p := idProblem(a.startsAt, 64); p != "" || strings.ContainsFunc(a.startsAt, unicode.IsSpace) {
		if p == "" {
			p = "contains white space"
		}
		return invalid("%s: startsAt %s %s", who, resizer.Quote(a.startsAt), p)
	}
	if t, err := time.Parse(time.RFC3339Nano, a.startsAt); err == nil && t.IsZero() {
		// Every episode of the alert would share one id, and the next one's
		// resize would be taken for a replay of this one.
		return invalid("%s: startsAt is the zero time, which cannot tell one firing of the alert from the next", who)
	}
	return nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// truncated reads truncatedAlerts: a non-negative integer when present.
func truncated(raw json.RawMessage, where string) (int, *resizer.Error) {
	if raw == nil || isNull(raw) {
		return 0, nil
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		if kind(raw) == "a number" && strings.Trim(string(raw), "0123456789") == "" {
			return math.MaxInt, nil // beyond uint64: still "many"
		}
		return 0, shape("%s.truncatedAlerts must be a non-negative integer", where)
	}
	return int(min(n, math.MaxInt)), nil
}

// unquoteMeta undoes the regexp.QuoteMeta that Alertmanager (and Grafana,
// which reuses its template data) applies to the receiver name, so that the
// source reads alertmanager/team.ops for the receiver team.ops, as the
// operator configured it, rather than alertmanager/team%5C.ops. Only a
// backslash before one of QuoteMeta's special characters is removed.
func unquoteMeta(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`\.+*?()|[]{}^$`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
