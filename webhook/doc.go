// Package webhook decodes the foreign payloads of docs/contract.md §7 — Prometheus
// Alertmanager (§7.2), Grafana alerting (§7.3), JD Cloud Cloud Monitor
// (§7.4) and Jira (§7.5) — into the CloudEvents the resizer runs: one Item
// per request the payload asks for. It is pure: no HTTP server, no bearer
// tokens (the HTTP layer authenticates first), no JD Cloud calls. The one
// piece of authentication here is VerifyGrafana, because its signed string
// is Grafana's own.
//
// # Answers
//
// Each decoder returns a Result and an error. The error means the body is
// not the route's JSON shape (HTTP 400, builds nothing), or it asks for
// more than MaxItems items (errors.Is(err, ErrTooMany), HTTP 413, runs
// nothing), or, for Jira only, the configuration fails Validate
// (errors.Is(err, ErrConfig), HTTP 500). Shape errors and the ErrTooMany
// error are invalid_request *resizer.Error values whose messages are safe
// to send back: caller text appears in them only through resizer.Quote (at
// most 64 runes, quoted, control characters escaped), and they name the
// member (`alerts[3].labels["x"] must be a string`).
//
// A well-formed payload whose content is wrong for one item (an alert
// without the instance label, resize_steps "9", a Jira field holding an
// array) yields an Item with Err set rather than an error: the operator's
// rule is wrong and must hear about it through a failed outcome, answered
// 200 because a retry cannot help (§7.1).
//
// # Decisions where the contract is silent
//
// Exact keys, no repeats. Payloads are read member by member: keys match
// exactly (encoding/json would take "Version" for "version"), a key repeated
// in any object the decoder reads is a shape error (readers disagree on
// which one counts), and a body that is not valid UTF-8 is refused. Members
// the decoders do not read are ignored, whatever they hold.
//
// Version. Alertmanager's "version" must be the string "4" and Grafana's
// "1"; missing or anything else is 400. notification_reason and routeLabels
// (newer Alertmanagers; Debian's 0.25 sends neither) are optional and
// unread. A missing or empty "receiver" is 400: it makes the source of
// every item. "alerts" must be present (null counts as empty); each alert
// must be an object (null is not), its labels and annotations objects of
// strings (null counts as empty), truncatedAlerts a non-negative integer.
//
// Receiver. Alertmanager (and Grafana, which reuses its template data)
// sends the receiver through regexp.QuoteMeta, so "team.ops" arrives as
// "team\.ops". The decoders undo exactly that escaping, then percent-escape
// every byte outside RFC 3986's unreserved set, so the source is
// alertmanager/team.ops — what the operator configured and writes in
// ALLOWED_SOURCES — and always a valid URI reference ("My Hook" becomes
// grafana/My%20Hook, "a/b" alertmanager/a%2Fb).
//
// Firing. An alert acts only when its status is exactly "firing";
// every other status (resolved, missing, unknown) is counted in Resolved:
// an unknown state must not resize a VM. The MaxItems bound counts firing
// alerts, invalid ones included; resolved alerts are free.
//
// Request ids. <fingerprint>:<startsAt>, both exactly as sent. A missing
// fingerprint or startsAt makes the item invalid with an empty id (ids are
// never invented). The fingerprint must be at most 64 letters and digits
// (Alertmanager and Grafana send 16 hex digits); startsAt must be free of
// white space and control characters and at most 64 bytes. A startsAt of
// the zero time is refused: every firing of the alert would share one id,
// and the next episode's resize would be taken for a replay. time is
// startsAt when it parses as RFC 3339.
//
// Label values. An annotation wins over a label of the same name. Values
// are trimmed of surrounding white space (a templated annotation often ends
// in a newline), and an empty value counts as absent, as Prometheus treats
// an empty label — so an empty annotation does not hide its label. The
// booleans resize_dry_run, resize_stop_if_running and resize_force take
// exactly "true" (on) or "false" (same as absent); any other value, "True"
// and "1" included, makes the item invalid: a flag that may stop a machine
// or wipe its local disks is not guessed at. resize_steps is digits only,
// 1 to 8 ("2.5", "1e9", "+1", "0", "9" are invalid) and is sent as a JSON
// number. direction is "up" or "down", lower case.
//
// The resize_ namespace. A label or annotation whose name starts with
// resize_ but is none of the contract's (resize_max_typ, resize_step) makes
// the item invalid, naming it: silently ignoring a misspelled bound would
// let a relative resize run past the limit the operator meant to set.
// ALERT_INSTANCE_LABEL and ALERT_REGION_LABEL may not be inside it
// (Labels.Validate).
//
// Zero configuration. An empty Labels name means the default label; empty
// JiraConfig statuses mean Approved and Rejected. Labels.Validate and
// JiraConfig.Validate let configuration loading stop the start on a bad
// value; Jira calls Validate itself and refuses to run on a failure.
//
// Text. reason and requestedBy get every control character replaced by a
// space, surrounding white space trimmed, and at most 1024 runes (the last
// an ellipsis when clipped). reason is "<alertname>: <summary annotation>",
// or whichever of the two exists; the summary is read from the annotations
// only, the alertname from the labels only.
//
// JD Cloud Monitor. The callback template is written once by the
// operator, so the resize object's members must have their JSON types
// (booleans true/false, steps a number; a string where a number belongs is
// invalid naming resize.<field>), and a member the resizer does not know is
// refused, naming it, for the same reason as the resize_ namespace. Besides
// the sizing fields of §6, resize may carry fromInstanceType, dryRun,
// stopIfRunning and force (the optional fields of §3). A missing resize
// object is an invalid item, not a 400: the body is JD's, the template is
// wrong. metric, currentValue, threshold and alertTime may be strings or
// numbers (an unquoted ${currentValue}). requestId is the id exactly as
// sent, so it must be printable, unpadded and at most 512 bytes (else 400).
// The source region is region, else the default region, percent-escaped.
// reason is "<metric> <currentValue> over <threshold> at <alertTime>", with
// "over …" and "at …" left out when the template does not send them.
//
// Jira statuses. toString is trimmed, then compared exactly, case
// included, with JIRA_APPROVED_STATUS and JIRA_REJECTED_STATUS: a
// transition is an approval, so it fails closed. A status equal to one of
// them but for letter case builds nothing, and Result.Ignored says so with
// Result.NearMiss set, so that the HTTP layer logs a warning. Only a
// changelog entry with field "status" and fieldtype "jira" is a transition:
// a custom field someone named "status" is edited, not transitioned, under
// weaker Jira permissions. Two status entries in one changelog are a 400.
// A webhook without webhookEvent is a 400 (it is not Jira's issue webhook);
// any other webhookEvent, an update without changelog or without a status
// change, and a move to the rejected status without an approval id, build
// nothing, with Ignored saying why.
//
// Jira fields. A mapped field's value may be a string (trimmed), a number
// (taken as written; for steps, Jira's 2.0 is 2), or an option object whose
// "value" is one of those; absent, null and "" are unset. Arrays
// (multi-select, checkboxes), objects without a string or number value and
// booleans make the item invalid, naming "customfield_10050 (instanceId)".
// An unmapped field is named "instanceId (not mapped in JIRA_FIELDS)". An
// approval id longer than 256 bytes, or with control or bidirectional
// formatting characters, or padded, is invalid. The project key is
// issue.fields.project.key, else the issue key's prefix. approvedBy,
// rejectedBy and requestedBy are user.emailAddress, else displayName, else
// accountId (Jira Cloud often hides the e-mail address), else name (Jira
// Server), else empty (and approvedBy/rejectedBy then left out). time is the
// webhook's timestamp (Unix milliseconds). An invalid approval or rejection
// item keeps the type it would have had, so its outcome tells what failed.
//
// Grafana's HMAC. The signature header is X-Grafana-Alerting-Signature,
// Grafana's default; hex of either case is accepted (Grafana writes lower
// case). Grafana has no default timestamp header: the contact point's
// "Timestamp header" must be set to X-Grafana-Alerting-Timestamp for the
// timestamped form. A timestamp must be decimal digits within five minutes
// of now, either way; more than one signature or timestamp header fails.
// Stripping the timestamp header cannot downgrade a timestamped signature:
// the body-only HMAC differs.
package webhook
