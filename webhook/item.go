package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/jdcloud-vm-resizer/resizer"
)

// Approval event types (docs/contract.md §8), the root package's.
const (
	TypeApproved = resizer.TypeApproved
	TypeRejected = resizer.TypeRejected
)

// MaxItems bounds the requests one payload may build, as docs/contract.md §12 bounds
// an HTTP batch: a payload asking for more is refused whole (HTTP 413) and
// runs nothing.
const MaxItems = 100

// ErrTooMany marks the error of a payload that would build more than
// MaxItems items; test with errors.Is. The error itself is an
// invalid_request *resizer.Error whose message gives the count.
var ErrTooMany = errors.New("too many items in one payload")

// ErrConfig marks an error from a decoder given a configuration that
// Validate refuses: the fault is the operator's, not the caller's (HTTP
// 500, not 400).
var ErrConfig = errors.New("invalid webhook configuration")

// Item is one request a foreign payload asked for.
//
// When Err is nil, Event is a complete CloudEvent (specversion 1.0, type
// resizer.TypeRequested, TypeApproved or TypeRejected, datacontenttype
// application/json, data a JSON object) ready for the ordinary pipeline,
// which validates it again like any other request.
//
// When the payload's content is wrong for that one item (an alert whose
// labels lack the instance, a bad resize_steps, a Jira field holding an
// array), Err is an invalid_request *resizer.Error whose message names the
// item and the label or field, and Event carries only the id, source and
// type the item would have had, so that its failed outcome can name it.
// The id is empty when the payload did not give what it is made of
// (no fingerprint or startsAt): ids are never invented.
type Item struct {
	Event event.Event
	Err   *resizer.Error
}

// Result is what one payload asked for.
type Result struct {
	// Items are the requests built, in the payload's order; at most MaxItems.
	Items []Item
	// Resolved counts the alerts that were not firing (Alertmanager, Grafana):
	// they build nothing and are worth a log line.
	Resolved int
	// Truncated is the payload's truncatedAlerts: alerts the sender left out
	// (its max_alerts). Greater than 0 deserves a warning.
	Truncated int
	// Ignored says why a payload built nothing although it was well formed
	// (a Jira event that is no transition to a configured status).
	Ignored string
	// NearMiss is set when Ignored describes a Jira status that equals a
	// configured one except for letter case: the workflow and
	// JIRA_APPROVED_STATUS/JIRA_REJECTED_STATUS disagree, which deserves a
	// warning rather than an info line.
	NearMiss bool
}

// requestData is the data of a request event: the fields of docs/contract.md §3 and
// §6, in a fixed order, absent when unset.
type requestData struct {
	RegionID         string `json:"regionId"`
	InstanceID       string `json:"instanceId"`
	InstanceType     string `json:"instanceType,omitempty"`
	Direction        string `json:"direction,omitempty"`
	Steps            int    `json:"steps,omitempty"`
	MaxInstanceType  string `json:"maxInstanceType,omitempty"`
	MinInstanceType  string `json:"minInstanceType,omitempty"`
	FromInstanceType string `json:"fromInstanceType,omitempty"`
	DryRun           bool   `json:"dryRun,omitempty"`
	StopIfRunning    bool   `json:"stopIfRunning,omitempty"`
	Force            bool   `json:"force,omitempty"`
	Reason           string `json:"reason,omitempty"`
	RequestedBy      string `json:"requestedBy,omitempty"`
}

// approvalData is the data of an approved or rejected event (docs/contract.md §8).
type approvalData struct {
	ApprovalID string `json:"approvalId"`
	ApprovedBy string `json:"approvedBy,omitempty"`
	RejectedBy string `json:"rejectedBy,omitempty"`
}

// ident is what names an item: the CloudEvent attributes it has or would
// have had.
type ident struct {
	id, source, typ string
	time            time.Time
}

// newItem builds a complete item from data that marshals to a JSON object.
func newItem(who ident, data any) Item {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the data is read by the resizer, not a browser
	if err := enc.Encode(data); err != nil {
		// requestData and approvalData hold only strings, ints and bools.
		return failedItem(who, invalid("could not encode the request: %v", err))
	}
	e := skeleton(who)
	if !who.time.IsZero() {
		e.SetTime(who.time)
	}
	e.SetDataContentType(event.ApplicationJSON)
	// Stored as JSON text, not base64: SetData with []byte would mark it binary.
	e.DataEncoded = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return Item{Event: e}
}

// failedItem is an item whose content is wrong: it carries only its name.
func failedItem(who ident, err *resizer.Error) Item {
	return Item{Event: skeleton(who), Err: err}
}

// skeleton is the event with the identifying attributes only. The id and
// source were checked (validID, escapeSegment), so the setters cannot fail;
// an empty id stays unset.
func skeleton(who ident) event.Event {
	e := event.New(event.CloudEventsVersionV1)
	if who.id != "" {
		e.SetID(who.id)
	}
	e.SetSource(who.source)
	e.SetType(who.typ)
	return e
}

// maxAttributeLen is resizer.ParseRequest's bound on id and source: they
// key the idempotency store.
const maxAttributeLen = 512

// maxFreeText is docs/contract.md §3's bound on reason and requestedBy, in runes.
const maxFreeText = 1024

// idProblem says what keeps s from being used as (part of) a CloudEvent id
// as it is, "" when nothing does: ids are taken as sent, never repaired.
func idProblem(s string, max int) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > max:
		return "is longer than " + strconv.Itoa(max) + " bytes"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "contains control characters"
	case strings.ContainsFunc(s, isBidiControl):
		return "contains bidirectional formatting characters"
	case strings.TrimSpace(s) != s:
		return "has leading or trailing white space"
	}
	return ""
}

func isBidiControl(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }

// escapeSegment percent-escapes every byte of s except RFC 3986's
// unreserved characters, so that "<prefix>/<segment>" is always a valid
// URI reference and reads as the name the operator configured when that
// name is plain (team-ops, cn-north-1, OPS).
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// freeText makes a caller's text fit reason or requestedBy: each control
// character (the newlines of a templated annotation included) becomes a
// space, the ends are trimmed, and the result is clipped to 1024 runes, its
// last one an ellipsis when clipped.
func freeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
	if utf8.RuneCountInString(s) > maxFreeText {
		r := []rune(s)
		s = string(r[:maxFreeText-1]) + "…"
	}
	return s
}

// invalid is an invalid_request error; its message must quote caller
// values with resizer.Quote.
func invalid(format string, args ...any) *resizer.Error {
	return resizer.Errorf(resizer.CodeInvalidRequest, "", format, args...)
}

// tooMany is the ErrTooMany error of a payload that asks for n items.
func tooMany(what string, n int) error {
	// Not max_alerts: it drops the alerts beyond it instead of sending them later.
	e := invalid("the payload has %d %s; at most %d are accepted in one delivery (a finer group_by in the route splits the group)", n, what, MaxItems)
	e.Err = ErrTooMany
	return e
}
