package resizer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/jdcloud-vm-resizer/resizer/internal/jsonscan"
)

// Patterns of docs/contract.md §3, the one source of these rules (the jdcloud
// client re-checks with the Valid functions before it builds a URL). They
// are the only gate between a request and a JD Cloud URL path, so they are
// anchored and admit no '/', '.' runs or '%'.
var (
	regionPattern       = regexp.MustCompile(`^[a-z]{2}-[a-z]+-[0-9]+$`)
	instanceIDPattern   = regexp.MustCompile(`^i-[0-9a-z]{6,32}$`)
	instanceTypePattern = regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9-]+){1,3}$`)
)

// Request is a validated resize request: the data of a
// com.jdcloud.vm.resize.requested event plus the event's identity.
type Request struct {
	// Identity of the request event: source + id identify a request.
	ID          string
	Source      string
	Type        string
	TraceParent string // the traceparent extension, copied to the outcome

	RegionID   string
	InstanceID string
	// InstanceType is the target an absolute request names; empty for a
	// relative one (Direction set), whose target the planner resolves.
	InstanceType string
	// Direction (up or down), Steps (1–8) and the bounds make a relative
	// request (docs/contract.md §6).
	Direction                        string
	Steps                            int
	MaxInstanceType, MinInstanceType string
	FromInstanceType                 string
	Force                            bool
	StopIfRunning                    bool
	DryRun                           bool
	Reason                           string
	RequestedBy                      string
}

// Directions of a relative request.
const (
	DirectionUp   = "up"
	DirectionDown = "down"
)

// Relative says the request names a direction, not a type.
func (r Request) Relative() bool { return r.Direction != "" }

// Limits of a relative request's steps.
const (
	MinSteps = 1
	MaxSteps = 8
)

// ref names the request in its outcome.
func (r Request) ref() RequestRef { return RequestRef{ID: r.ID, Source: r.Source, Type: r.Type} }

// instanceKey names the instance in the store's marks and holds.
func (r Request) instanceKey() string { return r.RegionID + "/" + r.InstanceID }

// Limits on request fields.
const (
	maxInstanceTypeLen = 64
	maxFreeTextRunes   = 1024
	// maxAttributeLen bounds id and source: they key the idempotency store.
	maxAttributeLen = 512
	maxRegionLen    = 64
)

// ValidRegionID, ValidInstanceID and ValidInstanceType apply the contract's
// rules; adapters re-check with them before building a URL.
func ValidRegionID(s string) bool   { return len(s) <= maxRegionLen && regionPattern.MatchString(s) }
func ValidInstanceID(s string) bool { return instanceIDPattern.MatchString(s) }
func ValidInstanceType(s string) bool {
	return len(s) <= maxInstanceTypeLen && instanceTypePattern.MatchString(s)
}

// requestData mirrors the fields that decide what a request does, for
// hashing: a fixed field order makes the hash independent of the sender's
// key order and of fields the contract ignores. reason and requestedBy are
// left out: they are free text that an alert re-sends with new values (a
// summary carrying the current reading) while it asks for the same thing,
// and the re-send must be a replay, not a different request.
type requestData struct {
	RegionID         string `json:"regionId"`
	InstanceID       string `json:"instanceId"`
	InstanceType     string `json:"instanceType,omitempty"`
	Direction        string `json:"direction,omitempty"`
	Steps            int    `json:"steps,omitempty"`
	MaxInstanceType  string `json:"maxInstanceType,omitempty"`
	MinInstanceType  string `json:"minInstanceType,omitempty"`
	FromInstanceType string `json:"fromInstanceType,omitempty"`
	Force            bool   `json:"force,omitempty"`
	StopIfRunning    bool   `json:"stopIfRunning,omitempty"`
	DryRun           bool   `json:"dryRun,omitempty"`
}

// ParseRequest validates a request CloudEvent (attributes and data,
// docs/contract.md §3) and returns the Request. Every failure is invalid_request with a
// message naming the attribute or field; attacker-controlled values appear in
// messages only quoted and truncated.
func ParseRequest(e event.Event) (Request, *Error) {
	var r Request
	if err := checkIdentity(e); err != nil {
		return r, err
	}
	if e.Type() != TypeRequested {
		return r, invalid("unknown event type %s; this function accepts %s, %s and %s", Quote(e.Type()), TypeRequested, TypeApproved, TypeRejected)
	}
	if ct := e.DataContentType(); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return r, invalid("datacontenttype must be application/json, got %s", Quote(ct))
		}
	}
	r.ID, r.Source, r.Type = e.ID(), e.Source(), e.Type()
	r.TraceParent = traceparentOf(e)
	if err := parseData(e.Data(), &r); err != nil {
		return r, err
	}
	return r, nil
}

// checkIdentity applies the contract's rules to the attributes that
// identify an event: specversion, id and source.
func checkIdentity(e event.Event) *Error {
	if e.SpecVersion() != event.CloudEventsVersionV1 {
		return invalid("specversion must be %q, got %s", event.CloudEventsVersionV1, Quote(e.SpecVersion()))
	}
	for _, a := range []struct{ name, v string }{{"id", e.ID()}, {"source", e.Source()}} {
		switch {
		case a.v == "":
			return invalid("attribute %s is required", a.name)
		case len(a.v) > maxAttributeLen:
			return invalid("attribute %s is longer than %d bytes", a.name, maxAttributeLen)
		case !utf8.ValidString(a.v) || hasControl(a.v) || hasBidiControl(a.v):
			return invalid("attribute %s must be printable UTF-8, without control or bidirectional formatting characters", a.name)
		}
	}
	return nil
}

func parseData(raw []byte, r *Request) *Error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return invalid("data is required: a JSON object with regionId, instanceId and instanceType or direction")
	}
	if !utf8.Valid(raw) {
		return invalid("data is not valid UTF-8")
	}
	fields, err := objectFields(raw)
	if err != nil {
		return err
	}
	str := func(name string, required bool, dst *string) *Error {
		v, ok := fields[name]
		if !ok || string(v) == "null" {
			if required {
				return invalid("data.%s is required", name)
			}
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return invalid("data.%s must be a string", name)
		}
		if required && *dst == "" {
			return invalid("data.%s must not be empty", name)
		}
		return nil
	}
	boolean := func(name string, dst *bool) *Error {
		v, ok := fields[name]
		if !ok || string(v) == "null" {
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return invalid("data.%s must be a boolean", name)
		}
		return nil
	}
	integer := func(name string, dst *int) *Error {
		v, ok := fields[name]
		if !ok || string(v) == "null" {
			return nil
		}
		var f float64
		if err := json.Unmarshal(v, &f); err != nil || f != float64(int(f)) || f < MinSteps || f > MaxSteps {
			return invalid("data.%s must be an integer from %d to %d", name, MinSteps, MaxSteps)
		}
		*dst = int(f)
		return nil
	}
	for _, f := range []*Error{
		str("regionId", true, &r.RegionID),
		str("instanceId", true, &r.InstanceID),
		str("instanceType", false, &r.InstanceType),
		str("direction", false, &r.Direction),
		integer("steps", &r.Steps),
		str("maxInstanceType", false, &r.MaxInstanceType),
		str("minInstanceType", false, &r.MinInstanceType),
		str("fromInstanceType", false, &r.FromInstanceType),
		boolean("force", &r.Force),
		boolean("stopIfRunning", &r.StopIfRunning),
		boolean("dryRun", &r.DryRun),
		str("reason", false, &r.Reason),
		str("requestedBy", false, &r.RequestedBy),
	} {
		if f != nil {
			return f
		}
	}
	if err := checkTarget(fields, r); err != nil {
		return err
	}
	switch {
	case !ValidRegionID(r.RegionID):
		return invalid("data.regionId %s does not match %s (e.g. cn-north-1)", Quote(r.RegionID), regionPattern)
	case !ValidInstanceID(r.InstanceID):
		return invalid("data.instanceId %s must be i- followed by 6 to 32 of [0-9a-z]", Quote(r.InstanceID))
	}
	for _, t := range []struct{ name, v string }{
		{"instanceType", r.InstanceType}, {"maxInstanceType", r.MaxInstanceType},
		{"minInstanceType", r.MinInstanceType}, {"fromInstanceType", r.FromInstanceType},
	} {
		if t.v != "" && !ValidInstanceType(t.v) {
			return invalid("data.%s %s must match %s and be at most %d characters (e.g. g.n2.large)", t.name, Quote(t.v), instanceTypePattern, maxInstanceTypeLen)
		}
	}
	switch {
	case utf8.RuneCountInString(r.Reason) > maxFreeTextRunes:
		return invalid("data.reason is longer than %d characters", maxFreeTextRunes)
	case utf8.RuneCountInString(r.RequestedBy) > maxFreeTextRunes:
		return invalid("data.requestedBy is longer than %d characters", maxFreeTextRunes)
	case strings.ContainsRune(r.Reason, 0) || strings.ContainsRune(r.RequestedBy, 0):
		return invalid("data.reason and data.requestedBy must not contain NUL characters")
	}
	return nil
}

// checkTarget holds a request to exactly one way of naming its target:
// instanceType, or direction with its optional steps and bounds.
func checkTarget(fields map[string]json.RawMessage, r *Request) *Error {
	_, hasType := fields["instanceType"]
	_, hasDirection := fields["direction"]
	switch {
	case hasType && hasDirection:
		return invalid("data names both instanceType and direction; a request names its target one way: instanceType, or direction (with steps, minInstanceType, maxInstanceType)")
	case hasType && r.InstanceType == "":
		return invalid("data.instanceType must not be empty")
	case hasDirection && r.Direction != DirectionUp && r.Direction != DirectionDown:
		return invalid("data.direction %s must be %q or %q", Quote(r.Direction), DirectionUp, DirectionDown)
	case !hasType && !hasDirection:
		return invalid("data.instanceType or data.direction is required")
	}
	if hasType {
		for _, name := range []string{"steps", "maxInstanceType", "minInstanceType"} {
			if _, ok := fields[name]; ok {
				return invalid("data.%s is only allowed with direction, not with instanceType", name)
			}
		}
		return nil
	}
	if r.Steps == 0 {
		r.Steps = MinSteps
	}
	return nil
}

// objectFields splits a JSON object into its members, refusing anything that
// is not one object and any duplicate key (encoding/json would silently keep
// the last one, letting two readers of one payload disagree), in one strict
// pass over the bytes (internal/jsonscan).
func objectFields(raw []byte) (map[string]json.RawMessage, *Error) {
	fields, err := jsonscan.Object(raw)
	var dup *jsonscan.DuplicateError
	switch {
	case errors.As(err, &dup):
		return nil, invalid("data has the key %s more than once", Quote(dup.Key))
	case errors.Is(err, jsonscan.ErrNotObject):
		return nil, invalid("data must be a JSON object")
	case errors.Is(err, jsonscan.ErrTrailing):
		return nil, invalid("data has content after the JSON object")
	case err != nil:
		return nil, invalid("data is not valid JSON")
	}
	// encoding/json matches keys to fields ignoring case, so a reader in Go
	// would take "InstanceId" for instanceId where we do not. Sorted, so
	// that the message is the same whatever the map's order.
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	folded := make(map[string]string, len(keys))
	for _, key := range keys {
		if first, dup := folded[foldKey(key)]; dup {
			return nil, invalid("data has the key %s more than once (as %s; keys differing only in case are one key to some readers)", Quote(first), Quote(key))
		}
		folded[foldKey(key)] = key
	}
	return fields, nil
}

// hash returns a digest of the request's data fields, to tell a redelivery
// of the same request from a different request reusing its source and id.
func (r Request) hash() string {
	b, _ := json.Marshal(requestData{r.RegionID, r.InstanceID, r.InstanceType, r.Direction, r.Steps,
		r.MaxInstanceType, r.MinInstanceType, r.FromInstanceType, r.Force, r.StopIfRunning, r.DryRun})
	return sha256Hex(b)
}

func invalid(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidRequest, Message: fmt.Sprintf(format, args...)}
}

// foldKey maps every rune to the smallest member of its simple case-folding
// orbit, so that foldKey(a) == foldKey(b) exactly when strings.EqualFold(a,
// b), the rule encoding/json applies to keys (K, k and the Kelvin sign are
// one letter to it).
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, c := range s {
		m := c
		for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// traceparentOf reads the W3C traceparent extension, when it is sane, for
// the outcome to carry on.
func traceparentOf(e event.Event) string {
	if v, ok := e.Extensions()["traceparent"].(string); ok && len(v) <= 128 && !hasControl(v) {
		return v
	}
	return ""
}
