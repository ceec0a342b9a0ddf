package events_test

// The sample events are part of the product (sam local invoke -e, make
// demo): these tests hold them to the CloudEvents and trigger shapes the
// function reads, to docs/contract.md §3 and to the simulator's fixture.

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/webhook"
)

type sampleObj = testkit.Obj

var (
	sampleAt   = testkit.At
	sampleSame = testkit.SameJSON
)

// sampleWant is what one request of a sample asks for.
type sampleWant struct {
	instanceID, instanceType, from string
	dryRun                         bool
}

// sampleFiles lists every sample and its requests: the demo depends on
// exactly these instances of the simulator's fixture.
var sampleFiles = map[string][]sampleWant{
	"resize-requested.json": {{"i-stopped01", "g.n2.large", "g.n2.medium", false}},
	"resize-dry-run.json":   {{"i-stopped02", "g.n2.large", "", true}},
	"resize-invalid.json":   {{"../../etc/passwd", "g.n2.large", "", false}},
	"apigw-binary.json":     {{"i-stopped03", "g.n2.large", "g.n2.medium", false}},
	"apigw-structured.json": {{"i-running01", "g.n2.large", "", true}},
	"apigw-batch.json":      {{"i-running02", "g.n2.large", "", true}, {"i-stopped03", "g.n2.large", "", true}},
	"sqs-batch.json":        {{"i-stopped01", "g.n2.large", "", true}, {"i-stopped02", "g.n2.large", "", true}},
	"eventbridge.json":      {{"i-stopped02", "g.n2.large", "", true}},
	"sns.json":              {{"i-stopped01", "g.n2.large", "", true}},
	// The native routes of docs/contract.md §7, as a Function URL delivers
	// them: dry runs of instances no sample resizes (a resized one is
	// still resizing when the next sample comes), so that the demo can send
	// them in any order.
	"apigw-alertmanager.json":    {{"i-stopped02", "g.n2.large", "", true}, {"i-agmember01", "g.n2.large", "", true}},
	"apigw-grafana.json":         {{"i-agmember01", "g.n2.large", "", true}},
	"apigw-jdcloud-monitor.json": {{"i-stopped02", "g.n2.large", "", true}},
	"apigw-jira.json":            {{"i-stopped02", "g.n2.large", "", true}},
}

// sampleJiraFields is the JIRA_FIELDS the demo (and the end-to-end test)
// runs with, which apigw-jira.json's custom fields follow.
const sampleJiraFields = "instanceId=customfield_10050,regionId=customfield_10051,instanceType=customfield_10052,dryRun=customfield_10055"

// sampleRoutes are the paths of the route samples, and the content type
// each delivers.
var sampleRoutes = map[string]string{
	"apigw-alertmanager.json":    "/alertmanager",
	"apigw-grafana.json":         "/grafana",
	"apigw-jdcloud-monitor.json": "/jdcloud-monitor",
	"apigw-jira.json":            "/jira",
}

// sampleWebhookSecret is the demo's WEBHOOK_SECRET, which the HTTP samples
// are signed with.
const (
	sampleWebhookSecret = "demo-webhook-secret"
	sampleWebhookToken  = "demo-webhook-token"
)

// sampleFields are the request fields of docs/contract.md §3. Unknown fields are
// refused here (the function ignores them) so that a misspelt flag in a
// sample cannot go unnoticed.
var sampleFields = []string{"regionId", "instanceId", "instanceType", "fromInstanceType", "force", "stopIfRunning", "dryRun", "reason", "requestedBy"}

// sampleRequest is request data as docs/contract.md §3 defines it.
type sampleRequest struct {
	RegionID         string `json:"regionId"`
	InstanceID       string `json:"instanceId"`
	InstanceType     string `json:"instanceType"`
	FromInstanceType string `json:"fromInstanceType"`
	Force            bool   `json:"force"`
	StopIfRunning    bool   `json:"stopIfRunning"`
	DryRun           bool   `json:"dryRun"`
	Reason           string `json:"reason"`
	RequestedBy      string `json:"requestedBy"`
}

var (
	sampleRegionRE   = regexp.MustCompile(`^[a-z]{2}-[a-z]+-[0-9]+$`)
	sampleInstanceRE = regexp.MustCompile(`^i-[0-9a-z]{6,32}$`)
	sampleTypeRE     = regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9-]+){1,3}$`)
	sampleSourceRE   = regexp.MustCompile(`^[a-z0-9-]+/[A-Za-z0-9-]+$`) // Jira project keys are upper case
)

// sampleViolations lists the docs/contract.md §3 rules a request breaks.
func sampleViolations(r sampleRequest) []string {
	var v []string
	if !sampleRegionRE.MatchString(r.RegionID) {
		v = append(v, "regionId")
	}
	if !sampleInstanceRE.MatchString(r.InstanceID) {
		v = append(v, "instanceId")
	}
	if !sampleTypeRE.MatchString(r.InstanceType) || len(r.InstanceType) > 64 {
		v = append(v, "instanceType")
	}
	if r.FromInstanceType != "" && (!sampleTypeRE.MatchString(r.FromInstanceType) || len(r.FromInstanceType) > 64) {
		v = append(v, "fromInstanceType")
	}
	if len(r.Reason) > 1024 || len(r.RequestedBy) > 1024 {
		v = append(v, "reason/requestedBy length")
	}
	return v
}

// sampleFixture is the part of the JD Cloud simulator's fixture the samples
// rely on: instance id → current type, and the instance types of cn-north-1.
func sampleFixture(t *testing.T) (instances map[string]string, types map[string]bool) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "jdcloud", "jdcloudsim", "fixture.json"))
	if err != nil {
		t.Fatalf("the simulator's fixture: %v", err)
	}
	var f struct {
		Regions map[string]struct {
			InstanceTypes []struct {
				InstanceType string `json:"instanceType"`
			} `json:"instanceTypes"`
			Instances []struct {
				InstanceID   string `json:"instanceId"`
				InstanceType string `json:"instanceType"`
			} `json:"instances"`
		} `json:"regions"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("fixture.json: %v", err)
	}
	region, ok := f.Regions["cn-north-1"]
	if !ok {
		t.Fatal("fixture.json has no cn-north-1")
	}
	instances, types = map[string]string{}, map[string]bool{}
	for _, i := range region.Instances {
		instances[i.InstanceID] = i.InstanceType
	}
	for _, it := range region.InstanceTypes {
		types[it.InstanceType] = true
	}
	return instances, types
}

func TestSampleEventsAreWellFormed(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	instances, types := sampleFixture(t)
	seen := map[string]bool{}
	ids := map[string]string{} // CloudEvent id → where it appeared
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".go") {
			continue // this package's own code, not a sample
		}
		if _, ok := approvalSamples[name]; ok {
			continue // TestApprovalSamples
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := sampleFiles[name]
			if !ok {
				t.Fatalf("events/%s is not a known sample: add it to sampleFiles with what it requests", name)
			}
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var payload sampleObj
			if err := json.Unmarshal(raw, &payload); err != nil {
				t.Fatalf("not a JSON object: %v", err)
			}
			events := sampleCloudEvents(t, name, raw, payload)
			if len(events) != len(want) {
				t.Fatalf("%d CloudEvents, want %d", len(events), len(want))
			}
			for i, ev := range events {
				where := fmt.Sprintf("%s event %d (id %s)", name, i, ev.ID())
				if prev, dup := ids[ev.ID()]; dup {
					t.Errorf("%s: id already used by %s", where, prev)
				}
				ids[ev.ID()] = where
				sampleCheckRequest(t, where, ev, want[i], instances, types)
			}
		})
	}
	for name := range sampleFiles {
		if !seen[name] {
			t.Errorf("events/%s is missing", name)
		}
	}
}

// sampleCloudEvents recognises a sample's trigger shape the way the
// function does (by structure), checks the envelope, and returns the
// CloudEvents inside.
func sampleCloudEvents(t *testing.T, name string, raw []byte, p sampleObj) []event.Event {
	t.Helper()
	records, _ := p["Records"].([]any)
	var first sampleObj
	if len(records) > 0 {
		first, _ = records[0].(sampleObj)
	}
	rc, _ := p["requestContext"].(sampleObj)
	switch {
	case first["eventSource"] == "aws:sqs":
		var out []event.Event
		msgIDs := map[string]bool{}
		for i, r := range records {
			where := fmt.Sprintf("Records[%d]", i)
			if sampleAt(t, r, "eventSource") != "aws:sqs" {
				t.Errorf("%s: eventSource %v, want aws:sqs", where, sampleAt(t, r, "eventSource"))
			}
			id, _ := sampleAt(t, r, "messageId").(string)
			if id == "" || msgIDs[id] {
				t.Errorf("%s: messageId %q empty or repeated (batchItemFailures name records by it)", where, id)
			}
			msgIDs[id] = true
			body, _ := sampleAt(t, r, "body").(string)
			sum := md5.Sum([]byte(body))
			if got := sampleAt(t, r, "md5OfBody"); got != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: md5OfBody %v, body's MD5 is %x", where, got, sum)
			}
			out = append(out, sampleStructured(t, where, []byte(body)))
		}
		return out
	case len(records) > 0:
		var out []event.Event
		for i, r := range records {
			where := fmt.Sprintf("Records[%d]", i)
			if rec, _ := r.(sampleObj); rec["EventSource"] != "aws:sns" {
				t.Fatalf("%s: neither an SQS nor an SNS record", where)
			}
			if sampleAt(t, r, "Sns", "Type") != "Notification" {
				t.Errorf("%s: Sns.Type %v, want Notification", where, sampleAt(t, r, "Sns", "Type"))
			}
			msg, _ := sampleAt(t, r, "Sns", "Message").(string)
			out = append(out, sampleStructured(t, where+".Sns.Message", []byte(msg)))
		}
		return out
	case p["version"] == "2.0" && rc != nil && rc["http"] != nil:
		return sampleHTTP(t, name, p)
	case p["detail-type"] != nil && p["detail"] != nil && p["source"] != nil:
		return []event.Event{sampleEventBridge(t, p)}
	case p["specversion"] != nil:
		return []event.Event{sampleStructured(t, "direct invoke", raw)}
	}
	t.Fatalf("%s: not a payload shape the function accepts (direct CloudEvent, API Gateway 2.0, SQS, SNS, EventBridge)", name)
	return nil
}

// sampleStructured decodes a structured-mode CloudEvent with the SDK the
// function uses, and checks the attributes every request must carry.
func sampleStructured(t *testing.T, where string, raw []byte) event.Event {
	t.Helper()
	var top sampleObj
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatalf("%s: not JSON: %v", where, err)
	}
	if top["specversion"] != "1.0" {
		t.Errorf("%s: specversion %v, want \"1.0\"", where, top["specversion"])
	}
	var ev event.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("%s: not a CloudEvent: %v", where, err)
	}
	if err := ev.Validate(); err != nil {
		t.Errorf("%s: %v", where, err)
	}
	if ev.Type() != resizer.TypeRequested {
		t.Errorf("%s: type %q, want %q", where, ev.Type(), resizer.TypeRequested)
	}
	if ev.DataContentType() != "application/json" {
		t.Errorf("%s: datacontenttype %q, want application/json", where, ev.DataContentType())
	}
	if !sampleSourceRE.MatchString(ev.Source()) {
		t.Errorf("%s: source %q, want the form system/instance (alertmanager/prod)", where, ev.Source())
	}
	return ev
}

// sampleHTTP checks an API Gateway HTTP API (payload 2.0) request as a
// Function URL delivers it, its HMAC, and decodes its CloudEvents in the
// HTTP binding's binary, structured or batched mode.
func sampleHTTP(t *testing.T, name string, p sampleObj) []event.Event {
	t.Helper()
	sampleSame(t, "routeKey", p["routeKey"], `"$default"`)
	path := "/"
	if r, ok := sampleRoutes[name]; ok {
		path = r
	}
	sampleSame(t, "rawPath", p["rawPath"], strconv.Quote(path))
	sampleSame(t, "requestContext.http.path", sampleAt(t, p, "requestContext", "http", "path"), strconv.Quote(path))
	sampleSame(t, "requestContext.http.method", sampleAt(t, p, "requestContext", "http", "method"), `"POST"`)
	headers := map[string]string{}
	for k, v := range sampleAt(t, p, "headers").(sampleObj) {
		if k != strings.ToLower(k) {
			t.Errorf("header %q: API Gateway and Function URLs deliver header names in lower case", k)
		}
		s, ok := v.(string)
		if !ok {
			t.Errorf("header %q is %T, want a string", k, v)
		}
		headers[k] = s
	}
	bodyText, _ := sampleAt(t, p, "body").(string)
	body := []byte(bodyText)
	b64 := p["isBase64Encoded"] == true
	if b64 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(bodyText); err != nil {
			t.Fatalf("isBase64Encoded body: %v", err)
		}
	}
	if wantB64 := name == "apigw-batch.json"; b64 != wantB64 {
		t.Errorf("isBase64Encoded = %v, want %v", b64, wantB64)
	}
	if path != "/" {
		return sampleRoute(t, name, path, p["rawQueryString"], headers, body)
	}
	if name == "apigw-binary.json" {
		// A signature covers the body only, not the ce-* headers that
		// carry a binary event's identity: binary mode carries the token.
		if headers["authorization"] != "Bearer "+sampleWebhookToken || headers["x-hub-signature-256"] != "" {
			t.Errorf("authorization = %q, signature %q: binary mode authenticates with the bearer token alone", headers["authorization"], headers["x-hub-signature-256"])
		}
	} else {
		// The signature covers the bytes as sent, after base64 decoding.
		mac := hmac.New(sha256.New, []byte(sampleWebhookSecret))
		mac.Write(body)
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); headers["x-hub-signature-256"] != want {
			t.Errorf("x-hub-signature-256 = %q is stale for this body; want %q", headers["x-hub-signature-256"], want)
		}
	}
	if cl, ok := headers["content-length"]; ok && cl != strconv.Itoa(len(body)) {
		t.Errorf("content-length %s, body is %d bytes", cl, len(body))
	}
	mt, _, err := mime.ParseMediaType(headers["content-type"])
	if err != nil {
		t.Fatalf("content-type %q: %v", headers["content-type"], err)
	}
	wantMode := map[string]string{
		"apigw-binary.json":     "application/json",
		"apigw-structured.json": "application/cloudevents+json",
		"apigw-batch.json":      "application/cloudevents-batch+json",
	}[name]
	if mt != wantMode {
		t.Errorf("content type %q, want %q", mt, wantMode)
	}
	switch mt {
	case "application/cloudevents+json":
		return []event.Event{sampleStructured(t, "body", body)}
	case "application/cloudevents-batch+json":
		var batch []json.RawMessage
		if err := json.Unmarshal(body, &batch); err != nil {
			t.Fatalf("batch body: %v", err)
		}
		var out []event.Event
		for i, raw := range batch {
			out = append(out, sampleStructured(t, fmt.Sprintf("batch[%d]", i), raw))
		}
		return out
	}
	return []event.Event{sampleBinary(t, headers, mt, body)}
}

var samplePercent = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)

// sampleBinary rebuilds a binary-mode CloudEvent from ce-* headers,
// percent-decoding their values as the HTTP binding requires.
func sampleBinary(t *testing.T, headers map[string]string, mediaType string, body []byte) event.Event {
	t.Helper()
	attrs := sampleObj{"datacontenttype": mediaType, "data": json.RawMessage(body)}
	for k, v := range headers {
		attr, ok := strings.CutPrefix(k, "ce-")
		if !ok {
			continue
		}
		dv, err := url.PathUnescape(v)
		if err != nil || !utf8.ValidString(dv) {
			t.Errorf("header %s: %q does not percent-decode to UTF-8 (%v)", k, v, err)
		}
		attrs[attr] = dv
	}
	if !samplePercent.MatchString(headers["ce-subject"]) {
		t.Error("the binary sample should carry a percent-encoded ce-subject, to exercise the decoding")
	}
	raw, err := json.Marshal(attrs)
	if err != nil {
		t.Fatal(err)
	}
	return sampleStructured(t, "ce-* headers", raw)
}

// sampleEventBridge returns the CloudEvent an EventBridge event stands for:
// detail itself when it is one, otherwise the request data with id, source,
// detail-type and time from the envelope (docs/contract.md §4).
func sampleEventBridge(t *testing.T, p sampleObj) event.Event {
	t.Helper()
	detail := sampleAt(t, p, "detail").(sampleObj)
	if _, whole := detail["specversion"]; whole {
		raw, _ := json.Marshal(detail)
		return sampleStructured(t, "detail", raw)
	}
	if p["detail-type"] != resizer.TypeRequested {
		t.Errorf("detail-type %v, want %s (the rule's pattern)", p["detail-type"], resizer.TypeRequested)
	}
	raw, err := json.Marshal(sampleObj{
		"specversion": "1.0", "id": p["id"], "source": p["source"], "type": p["detail-type"],
		"time": p["time"], "datacontenttype": "application/json", "data": detail,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sampleStructured(t, "envelope", raw)
}

// sampleCheckRequest checks one request's data against docs/contract.md §3, the
// simulator's fixture and what the sample is meant to ask.
func sampleCheckRequest(t *testing.T, where string, ev event.Event, want sampleWant, instances map[string]string, types map[string]bool) {
	t.Helper()
	// encoding/json matches names case-insensitively; a consumer in another
	// language would not, so the names are checked exactly first.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(ev.Data(), &fields); err != nil {
		t.Errorf("%s: data: %v", where, err)
		return
	}
	for k := range fields {
		if !slices.Contains(sampleFields, k) {
			t.Errorf("%s: data has %q, which is not a request field of docs/contract.md §3", where, k)
		}
	}
	var r sampleRequest
	if err := json.Unmarshal(ev.Data(), &r); err != nil {
		t.Errorf("%s: data: %v", where, err)
		return
	}
	got := sampleWant{r.InstanceID, r.InstanceType, r.FromInstanceType, r.DryRun}
	if got != want {
		t.Errorf("%s: asks %+v, want %+v", where, got, want)
	}
	if r.RegionID != "cn-north-1" {
		t.Errorf("%s: regionId %q, the simulator's region is cn-north-1", where, r.RegionID)
	}
	if r.Reason == "" || r.RequestedBy == "" {
		t.Errorf("%s: reason and requestedBy should be set, to show them echoed in the outcome", where)
	}
	if r.Force || r.StopIfRunning {
		t.Errorf("%s: force/stopIfRunning are refused by the default policy; a sample should not need them", where)
	}
	violations := sampleViolations(r)
	if strings.HasPrefix(where, "resize-invalid.json") {
		// The one sample that must be refused, and only for its instance id.
		if !slices.Equal(violations, []string{"instanceId"}) {
			t.Errorf("%s: breaks %v, want exactly [instanceId]", where, violations)
		}
		return
	}
	if len(violations) > 0 {
		t.Errorf("%s: breaks docs/contract.md §3 on %v", where, violations)
	}
	current, ok := instances[r.InstanceID]
	if !ok {
		t.Errorf("%s: %s is not an instance of the simulator's fixture", where, r.InstanceID)
	}
	if !types[r.InstanceType] {
		t.Errorf("%s: %s is not an instance type of the simulator's fixture", where, r.InstanceType)
	}
	if r.FromInstanceType != "" && r.FromInstanceType != current {
		t.Errorf("%s: fromInstanceType %s, but the fixture's %s is %s", where, r.FromInstanceType, r.InstanceID, current)
	}
}

// sampleRoute checks a route sample's authentication the way its sender
// makes it, and decodes its body with the decoder the function runs on that
// route, returning the request events it builds.
func sampleRoute(t *testing.T, name, path string, query any, headers map[string]string, body []byte) []event.Event {
	t.Helper()
	if cl := headers["content-length"]; cl != strconv.Itoa(len(body)) {
		t.Errorf("content-length %s, body is %d bytes", cl, len(body))
	}
	if mt, _, err := mime.ParseMediaType(headers["content-type"]); err != nil || mt != "application/json" {
		t.Errorf("content-type %q, want application/json", headers["content-type"])
	}
	hexMAC := func(msg []byte) string {
		mac := hmac.New(sha256.New, []byte(sampleWebhookSecret))
		mac.Write(msg)
		return hex.EncodeToString(mac.Sum(nil))
	}
	// Exactly the credential the sender can carry, and no other, so that
	// each sample shows one way in.
	want := map[string]string{}
	wantQuery := ""
	switch path {
	case "/alertmanager":
		want["authorization"] = "Bearer " + sampleWebhookToken // http_config.authorization: it cannot sign
	case "/grafana":
		want["x-grafana-alerting-signature"] = hexMAC(body) // no timestamp header: a sample must not go stale
	case "/jdcloud-monitor":
		wantQuery = "token=" + sampleWebhookToken // the callback URL is all JD lets the operator set
	case "/jira":
		want["x-hub-signature"] = "sha256=" + hexMAC(body)
	}
	for _, h := range []string{"authorization", "x-hub-signature", "x-hub-signature-256", "x-grafana-alerting-signature", "x-grafana-alerting-timestamp"} {
		if headers[h] != want[h] {
			t.Errorf("header %s = %q, want %q", h, headers[h], want[h])
		}
	}
	if query != wantQuery {
		t.Errorf("rawQueryString %v, want %q", query, wantQuery)
	}

	var res webhook.Result
	var err error
	switch path {
	case "/alertmanager":
		res, err = webhook.Alertmanager(body, webhook.DefaultLabels())
	case "/grafana":
		res, err = webhook.Grafana(body, webhook.DefaultLabels())
	case "/jdcloud-monitor":
		res, err = webhook.JDCloudMonitor(body, "")
	case "/jira":
		fields, ferr := webhook.ParseJiraFields(sampleJiraFields)
		if ferr != nil {
			t.Fatal(ferr)
		}
		res, err = webhook.Jira(body, webhook.JiraConfig{Fields: fields})
	}
	if err != nil {
		t.Fatalf("%s: the function refuses the body: %v", path, err)
	}
	if path == "/alertmanager" && res.Resolved != 1 {
		t.Errorf("%d resolved alerts, want 1: the demo shows that a resolved alert builds nothing", res.Resolved)
	}
	var out []event.Event
	for i, it := range res.Items {
		if it.Err != nil {
			t.Errorf("item %d: %v", i, it.Err)
			continue
		}
		raw, err := json.Marshal(it.Event)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sampleStructured(t, fmt.Sprintf("%s item %d", path, i), raw))
	}
	return out
}

// approvalSamples are the samples of the approval loop (docs/contract.md
// §8), with the event type each builds: an alert that needs approval, and
// the decisions that `make demo` sends with the approval id the pending
// outcome announced in place of samplePlaceholder.
var approvalSamples = map[string]string{
	"approval-request.json":    resizer.TypeRequested,
	"approval-approved.json":   resizer.TypeApproved,
	"approval-rejected.json":   resizer.TypeRejected,
	"apigw-jira-approval.json": resizer.TypeApproved,
}

const samplePlaceholder = "REPLACE-WITH-THE-PENDING-OUTCOME-APPROVAL-ID"

func TestApprovalSamples(t *testing.T) {
	for name, typ := range approvalSamples {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var ev event.Event
			if name == "apigw-jira-approval.json" {
				ev = sampleJiraApproval(t, raw)
			} else if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatalf("not a CloudEvent: %v", err)
			}
			if err := ev.Validate(); err != nil || ev.Type() != typ {
				t.Fatalf("type %q (%v), want %q", ev.Type(), err, typ)
			}
			if typ == resizer.TypeRequested {
				req, perr := resizer.ParseRequest(ev)
				if perr != nil {
					t.Fatalf("the function refuses it: %v", perr)
				}
				if !strings.HasPrefix(req.Source, "alertmanager/oncall") || !req.Relative() || req.DryRun {
					t.Fatalf("want a state-changing relative request from alertmanager/oncall (the demo's APPROVAL_REQUIRED_SOURCES), got %+v", req)
				}
				return
			}
			if !strings.HasPrefix(ev.Source(), "jira/") {
				t.Errorf("source %q: the default APPROVER_SOURCES is jira/", ev.Source())
			}
			var data map[string]string
			if err := json.Unmarshal(ev.Data(), &data); err != nil || data["approvalId"] != samplePlaceholder {
				t.Errorf("data %s: approvalId must be the placeholder %s", ev.Data(), samplePlaceholder)
			}
		})
	}
}

// sampleJiraApproval checks the Jira approval's Function URL event and
// returns the approval the /jira route builds from it.
func sampleJiraApproval(t *testing.T, raw []byte) event.Event {
	t.Helper()
	var p struct {
		RawPath string            `json:"rawPath"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.RawPath != "/jira" {
		t.Fatalf("want a Function URL event to /jira: %v", err)
	}
	mac := hmac.New(sha256.New, []byte(sampleWebhookSecret))
	mac.Write([]byte(p.Body))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); p.Headers["x-hub-signature"] != want {
		t.Errorf("x-hub-signature is stale for this body; want %s", want)
	}
	if cl := p.Headers["content-length"]; cl != strconv.Itoa(len(p.Body)) {
		t.Errorf("content-length %s, body is %d bytes", cl, len(p.Body))
	}
	fields, err := webhook.ParseJiraFields(sampleJiraFields + ",approvalId=customfield_10054")
	if err != nil {
		t.Fatal(err)
	}
	res, err := webhook.Jira([]byte(p.Body), webhook.JiraConfig{Fields: fields})
	if err != nil || len(res.Items) != 1 || res.Items[0].Err != nil {
		t.Fatalf("the /jira route builds %+v (%v), want one approval", res.Items, err)
	}
	return res.Items[0].Event
}
