package webhook

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// JiraConfig says which Jira statuses act and where an issue keeps the
// request's fields (docs/contract.md §7.5). Empty statuses mean their defaults.
type JiraConfig struct {
	Approved string // JIRA_APPROVED_STATUS, default Approved
	Rejected string // JIRA_REJECTED_STATUS, default Rejected
	// Fields maps request fields (instanceId, regionId, instanceType,
	// direction, steps, maxInstanceType, minInstanceType, fromInstanceType,
	// dryRun, stopIfRunning, force, approvalId) to Jira issue fields
	// (customfield_10050): JIRA_FIELDS, read with ParseJiraFields.
	Fields        map[string]string
	DefaultRegion string // DEFAULT_REGION
}

// Default Jira statuses.
const (
	DefaultJiraApproved = "Approved"
	DefaultJiraRejected = "Rejected"
)

// jiraRequestFields are the request fields JIRA_FIELDS may map, in the
// order their problems are reported.
var jiraRequestFields = []string{
	"approvalId", "instanceId", "regionId", "instanceType", "direction", "steps",
	"maxInstanceType", "minInstanceType", "fromInstanceType", "dryRun", "stopIfRunning", "force",
}

// jiraFieldName is a Jira field id: summary, labels, customfield_10050,
// 1 to 255 of [A-Za-z0-9_.-]. (A regexp's {1,255} compiles to 255 copies
// of the class: 3 ms of every cold start.)
var jiraFieldName = fieldNamePattern{regexp.MustCompile(`^[A-Za-z0-9_.-]+$`), 255}

type fieldNamePattern struct {
	re  *regexp.Regexp
	max int
}

func (p fieldNamePattern) MatchString(s string) bool { return len(s) <= p.max && p.re.MatchString(s) }

// ParseJiraFields reads JIRA_FIELDS: comma-separated request=jiraField
// entries, e.g. "instanceId=customfield_10050,regionId=customfield_10051".
// Each request field at most once, each Jira field at most once; an empty
// string maps nothing. Errors name the entry.
func ParseJiraFields(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	byJira := map[string]string{}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		req, field, ok := strings.Cut(entry, "=")
		req, field = strings.TrimSpace(req), strings.TrimSpace(field)
		switch {
		case entry == "":
			return nil, fmt.Errorf("%w: JIRA_FIELDS entry %d is empty", ErrConfig, i+1)
		case !ok:
			return nil, fmt.Errorf("%w: JIRA_FIELDS entry %s is not requestField=jiraField", ErrConfig, resizer.Quote(entry))
		case !isJiraRequestField(req):
			return nil, fmt.Errorf("%w: JIRA_FIELDS entry %s: %s is not a request field Jira can set (%s)", ErrConfig, resizer.Quote(entry), resizer.Quote(req), strings.Join(jiraRequestFields, ", "))
		case !jiraFieldName.MatchString(field):
			return nil, fmt.Errorf("%w: JIRA_FIELDS entry %s: %s is not a Jira field id (e.g. customfield_10050)", ErrConfig, resizer.Quote(entry), resizer.Quote(field))
		}
		if _, dup := m[req]; dup {
			return nil, fmt.Errorf("%w: JIRA_FIELDS maps %s more than once", ErrConfig, resizer.Quote(req))
		}
		if other, dup := byJira[field]; dup {
			return nil, fmt.Errorf("%w: JIRA_FIELDS maps both %s and %s to %s", ErrConfig, resizer.Quote(other), resizer.Quote(req), resizer.Quote(field))
		}
		m[req], byJira[field] = field, req
	}
	return m, nil
}

func isJiraRequestField(s string) bool {
	for _, f := range jiraRequestFields {
		if f == s {
			return true
		}
	}
	return false
}

func (c JiraConfig) withDefaults() JiraConfig {
	if c.Approved == "" {
		c.Approved = DefaultJiraApproved
	}
	if c.Rejected == "" {
		c.Rejected = DefaultJiraRejected
	}
	return c
}

// Validate refuses a configuration under which a transition could mean two
// things or nothing: statuses that are blank, padded, or equal ignoring
// case; a mapping ParseJiraFields would refuse; a default region that is no
// region id.
func (c JiraConfig) Validate() error {
	c = c.withDefaults()
	for _, s := range []struct{ variable, v string }{{"JIRA_APPROVED_STATUS", c.Approved}, {"JIRA_REJECTED_STATUS", c.Rejected}} {
		if p := idProblem(s.v, 255); p != "" {
			return fmt.Errorf("%w: %s %s", ErrConfig, s.variable, p)
		}
	}
	if strings.EqualFold(c.Approved, c.Rejected) {
		return fmt.Errorf("%w: JIRA_APPROVED_STATUS and JIRA_REJECTED_STATUS are both %s", ErrConfig, resizer.Quote(c.Approved))
	}
	byJira := map[string]string{}
	for req, field := range c.Fields {
		if !isJiraRequestField(req) {
			return fmt.Errorf("%w: JIRA_FIELDS: %s is not a request field Jira can set", ErrConfig, resizer.Quote(req))
		}
		if !jiraFieldName.MatchString(field) {
			return fmt.Errorf("%w: JIRA_FIELDS: %s is not a Jira field id", ErrConfig, resizer.Quote(field))
		}
		if other, dup := byJira[field]; dup {
			return fmt.Errorf("%w: JIRA_FIELDS maps both %s and %s to %s", ErrConfig, resizer.Quote(other), resizer.Quote(req), resizer.Quote(field))
		}
		byJira[field] = req
	}
	if c.DefaultRegion != "" && !resizer.ValidRegionID(c.DefaultRegion) {
		return fmt.Errorf("%w: DEFAULT_REGION %s is not a region id (e.g. cn-north-1)", ErrConfig, resizer.Quote(c.DefaultRegion))
	}
	return nil
}

// maxApprovalID bounds an approval id taken from a Jira field.
const maxApprovalID = 256

// Jira decodes a Jira Cloud / Jira Service Management webhook (docs/contract.md
// §7.5). Only jira:issue_updated with one changelog entry that changes the
// workflow status (field "status", fieldtype "jira") to c.Approved or
// c.Rejected builds an item:
//
//   - to Approved with the approvalId field set: a TypeApproved event,
//     data {"approvalId", "approvedBy"};
//   - to Rejected with it set: a TypeRejected event, {"approvalId", "rejectedBy"};
//   - to Approved without it: a request from the mapped fields, reason
//     "<issue key>: <summary>";
//   - to Rejected without it: nothing (there is no held request to reject).
//
// source is jira/<project key>, id <issue key>:<changelog id>, which Jira's
// retries repeat. approvedBy, rejectedBy and requestedBy are the webhook
// user's emailAddress, else displayName, else accountId. Any other event
// builds nothing and says why in Result.Ignored. The error is a shape
// error (HTTP 400, an invalid_request *resizer.Error), or wraps ErrConfig
// when c fails Validate.
func Jira(body []byte, c JiraConfig) (Result, error) {
	var res Result
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return res, err
	}
	const what = "Jira webhook"
	top, err := parseBody(body, what)
	if err != nil {
		return res, err
	}
	where := "the " + what + " body"
	switch ev, ok, err := top.str("webhookEvent", where); {
	case err != nil:
		return res, err
	case !ok:
		return res, shape("%s has no webhookEvent; this route takes Jira's issue webhooks", where)
	case ev != "jira:issue_updated":
		res.Ignored = "webhookEvent " + resizer.Quote(ev) + " is not jira:issue_updated"
		return res, nil
	}
	if raw, ok := top["changelog"]; !ok || isNull(raw) {
		res.Ignored = "the issue update has no changelog"
		return res, nil
	}
	changelog, err := parseObject(top["changelog"], where+".changelog")
	if err != nil {
		return res, err
	}
	to, found, err := statusChange(changelog, where+".changelog")
	if err != nil {
		return res, err
	}
	if !found {
		res.Ignored = "the issue update changes no workflow status"
		return res, nil
	}
	var approve bool
	switch to {
	case c.Approved:
		approve = true
	case c.Rejected:
	default:
		res.Ignored, res.NearMiss = statusMiss(to, c)
		return res, nil
	}

	issue, err := parseObject(top["issue"], where+".issue")
	if err != nil {
		return res, err
	}
	key, ok, err := issue.str("key", where+".issue")
	if err != nil {
		return res, err
	}
	if !ok || key == "" {
		return res, shape("%s.issue has no key; the request id is <issue key>:<changelog id>", where)
	}
	if p := idProblem(key, 255); p != "" {
		return res, shape("%s.issue.key %s", where, p)
	}
	fields, err := parseObject(issue["fields"], where+".issue.fields")
	if err != nil {
		return res, err
	}
	project, err := projectKey(fields, key, where+".issue.fields")
	if err != nil {
		return res, err
	}
	clID, err := scalarText(changelog["id"], where+".changelog.id")
	if err != nil {
		return res, err
	}
	if clID == "" {
		return res, shape("%s.changelog has no id; the request id is <issue key>:<changelog id>", where)
	}
	id := ident{id: key + ":" + clID, source: "jira/" + escapeSegment(project), typ: resizer.TypeRequested}
	if p := idProblem(id.id, maxAttributeLen); p != "" {
		return res, shape("%s: the request id <issue key>:<changelog id> %s", where, p)
	}
	if len(id.source) > maxAttributeLen {
		return res, shape("%s: the project key makes a source longer than %d bytes", where, maxAttributeLen)
	}
	actor, err := jiraActor(top, where)
	if err != nil {
		return res, err
	}
	id.time = jiraTime(top["timestamp"])
	who := "Jira issue " + resizer.Quote(key)

	approval := value{name: "approvalId (not mapped in JIRA_FIELDS)"}
	var approvalErr *resizer.Error
	if f, mapped := c.Fields["approvalId"]; mapped {
		approval, approvalErr = jiraValue(who, fields, f, "approvalId")
	}
	if approval.set() || approvalErr != nil {
		id.typ = TypeRejected
		if approve {
			id.typ = TypeApproved
		}
		if approvalErr != nil {
			return withItem(res, failedItem(id, approvalErr)), nil
		}
		if p := idProblem(approval.v, maxApprovalID); p != "" {
			return withItem(res, failedItem(id, invalid("%s: %s %s %s", who, approval.name, resizer.Quote(approval.v), p))), nil
		}
		data := approvalData{ApprovalID: approval.v}
		if approve {
			data.ApprovedBy = actor
		} else {
			data.RejectedBy = actor
		}
		return withItem(res, newItem(id, data)), nil
	}
	if !approve {
		res.Ignored = "issue " + resizer.Quote(key) + " moved to " + resizer.Quote(to) + " without an approval id: there is no held request to reject"
		return res, nil
	}

	sp := spec{who: who, defaultRegion: c.DefaultRegion, requestedBy: actor}
	vals := map[string]*value{
		"instanceId": &sp.instanceID, "regionId": &sp.regionID, "instanceType": &sp.instanceType,
		"direction": &sp.direction, "steps": &sp.steps, "maxInstanceType": &sp.maxType,
		"minInstanceType": &sp.minType, "fromInstanceType": &sp.fromType, "dryRun": &sp.dryRun,
		"stopIfRunning": &sp.stopIfRunning, "force": &sp.force,
	}
	for _, req := range jiraRequestFields {
		dst, ok := vals[req]
		if !ok {
			continue
		}
		f, mapped := c.Fields[req]
		if !mapped {
			*dst = value{name: req + " (not mapped in JIRA_FIELDS)"}
			continue
		}
		v, err := jiraValue(who, fields, f, req)
		if err != nil {
			return withItem(res, failedItem(id, err)), nil
		}
		*dst = v
	}
	summary, _, _ := fields.str("summary", where)
	sp.reason = alertReason(key, summary)
	data, ierr := sp.build()
	if ierr != nil {
		return withItem(res, failedItem(id, ierr)), nil
	}
	return withItem(res, newItem(id, data)), nil
}

func withItem(res Result, it Item) Result {
	res.Items = []Item{it}
	return res
}

// statusChange finds the changelog entry that moves the workflow status:
// field "status" with fieldtype "jira". A custom field that someone named
// "status" (fieldtype "custom") does not count: editing a field must not
// pass for a workflow transition, which Jira guards by its own permissions.
// Two such entries in one changelog are refused rather than chosen between.
func statusChange(changelog object, where string) (to string, found bool, err *resizer.Error) {
	if _, ok := changelog["items"]; !ok {
		return "", false, nil
	}
	items, err := parseArray(changelog["items"], where+".items")
	if err != nil {
		return "", false, err
	}
	for i, raw := range items {
		w := where + ".items[" + strconv.Itoa(i) + "]"
		it, err := parseObject(raw, w)
		if err != nil {
			return "", false, err
		}
		field, _, err := it.str("field", w)
		if err != nil {
			return "", false, err
		}
		fieldType, _, err := it.str("fieldtype", w)
		if err != nil {
			return "", false, err
		}
		toString, _, err := it.str("toString", w)
		if err != nil {
			return "", false, err
		}
		if field != "status" || fieldType != "jira" {
			continue
		}
		if found {
			return "", false, shape("%s has more than one status change", where)
		}
		to, found = strings.TrimSpace(toString), true
	}
	return to, found, nil
}

// statusMiss explains a status that acts on nothing; a status equal to a
// configured one but for letter case is a near miss, worth a warning: the
// match is exact (after trimming) so that a renamed status fails closed.
func statusMiss(to string, c JiraConfig) (string, bool) {
	for _, s := range []struct{ variable, v string }{{"JIRA_APPROVED_STATUS", c.Approved}, {"JIRA_REJECTED_STATUS", c.Rejected}} {
		if strings.EqualFold(to, s.v) {
			return "status changed to " + resizer.Quote(to) + ", which differs from " + s.variable + " " + resizer.Quote(s.v) +
				" only in letter case; statuses match exactly, so nothing was done", true
		}
	}
	return "status changed to " + resizer.Quote(to) + ", which is neither " + resizer.Quote(c.Approved) + " nor " + resizer.Quote(c.Rejected), false
}

// projectKey is issue.fields.project.key, else the issue key's prefix
// (OPS for OPS-42), which Jira builds from the project key.
func projectKey(fields object, issueKey, where string) (string, *resizer.Error) {
	if raw, ok := fields["project"]; ok && !isNull(raw) {
		p, err := parseObject(raw, where+".project")
		if err != nil {
			return "", err
		}
		k, ok, err := p.str("key", where+".project")
		if err != nil {
			return "", err
		}
		if ok && k != "" {
			if pr := idProblem(k, 255); pr != "" {
				return "", shape("%s.project.key %s", where, pr)
			}
			return k, nil
		}
	}
	if i := strings.LastIndexByte(issueKey, '-'); i > 0 {
		return issueKey[:i], nil
	}
	return "", shape("%s has no project key and the issue key has no project prefix", where)
}

// jiraActor names who moved the issue: emailAddress (Jira Cloud hides it
// unless the user's profile shows it), else displayName, else accountId.
func jiraActor(top object, where string) (string, *resizer.Error) {
	raw, ok := top["user"]
	if !ok || isNull(raw) {
		return "", nil
	}
	u, err := parseObject(raw, where+".user")
	if err != nil {
		return "", err
	}
	for _, k := range []string{"emailAddress", "displayName", "accountId", "name"} {
		v, _, err := u.str(k, where+".user")
		if err != nil {
			return "", err
		}
		if v = freeText(v); v != "" {
			return v, nil
		}
	}
	return "", nil
}

// jiraTime is the webhook's timestamp (Unix milliseconds), zero when absent
// or not a plausible number.
func jiraTime(raw []byte) time.Time {
	raw = bytes.TrimSpace(raw)
	if kind(raw) != "a number" {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || ms <= 0 || ms > 1<<53 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// jiraValue reads one mapped issue field: a string, a number (as written),
// or an option object whose value is one of those (a select list's
// {"self", "value", "id"}). Absent, null and empty are unset. Anything else
// (an array such as a multi-select or checkboxes, an object without value,
// a boolean) makes the item invalid, naming the Jira field.
func jiraValue(who string, fields object, jiraField, reqField string) (value, *resizer.Error) {
	v := value{name: jiraField + " (" + reqField + ")"}
	raw := bytes.TrimSpace(fields[jiraField])
	if len(raw) == 0 || isNull(raw) {
		return v, nil
	}
	if kind(raw) == "an object" {
		o, err := parseObject(raw, "issue field "+jiraField)
		if err != nil {
			return v, invalid("%s: %s", who, err.Message)
		}
		inner := bytes.TrimSpace(o["value"])
		switch kind(inner) {
		case "a string", "a number":
			raw = inner
		case "null":
			return v, nil
		default:
			return v, invalid("%s: %s is an object without a string value; it must be a string, a number or an option {\"value\": …}", who, v.name)
		}
	}
	switch kind(raw) {
	case "a string":
		var s string
		_ = asString(raw, &s)
		v.v = strings.TrimSpace(s)
	case "a number":
		v.v = string(raw)
		if reqField == "steps" {
			v.v = integralNumber(v.v)
		}
	default:
		return v, invalid("%s: %s is %s; it must be a string, a number or an option {\"value\": …}", who, v.name, kind(raw))
	}
	return v, nil
}

// integralNumber turns a Jira number field's rendering of a whole number of
// steps (Jira sends 2.0) into digits, leaving anything else (2.5, 1e9) for
// build to refuse. A string "2.0" is not converted: text is taken as typed.
func integralNumber(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < minSteps || f > maxSteps {
		return s
	}
	return strconv.Itoa(int(f))
}
