package webhook

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

const testJiraFields = "instanceId=customfield_10050,regionId=customfield_10051,instanceType=customfield_10052,direction=customfield_10053,approvalId=customfield_10054,steps=customfield_10055"

func jiraConfig(t testing.TB) JiraConfig {
	t.Helper()
	m, err := ParseJiraFields(testJiraFields)
	if err != nil {
		t.Fatal(err)
	}
	return JiraConfig{Fields: m}
}

func TestJiraSamples(t *testing.T) {
	c := jiraConfig(t)
	at := time.UnixMilli(1773043331602)
	for _, tc := range []struct {
		file, typ, id, data, ignored string
		nearMiss                     bool
	}{
		{file: "jira-approved-request.json", typ: resizer.TypeRequested, id: "OPS-42:10518",
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","instanceType":"g.n2.xlarge","reason":"OPS-42: Resize web-1 to g.n2.xlarge for the March sale","requestedBy":"Li Wei"}`},
		{file: "jira-approved-approval.json", typ: TypeApproved, id: "OPS-42:10519",
			data: `{"approvalId":"apr-5f2c9e0b7d1a4e33","approvedBy":"li.wei@example.com"}`},
		{file: "jira-rejected-approval.json", typ: TypeRejected, id: "OPS-42:10520",
			data: `{"approvalId":"apr-5f2c9e0b7d1a4e33","rejectedBy":"Li Wei"}`},
		{file: "jira-near-miss.json", nearMiss: true,
			ignored: `status changed to "approved", which differs from JIRA_APPROVED_STATUS "Approved" only in letter case`},
		{file: "jira-comment.json", ignored: `webhookEvent "comment_created" is not jira:issue_updated`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body := readSample(t, tc.file)
			res, err := Jira(body, c)
			checkResult(t, body, res, err)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ignored != "" {
				if len(res.Items) != 0 || !strings.Contains(res.Ignored, tc.ignored) || res.NearMiss != tc.nearMiss {
					t.Fatalf("items %d, ignored %q near miss %v", len(res.Items), res.Ignored, res.NearMiss)
				}
				return
			}
			it := only(t, res, err)
			if it.Err != nil {
				t.Fatal(it.Err)
			}
			e := it.Event
			if e.Source() != "jira/OPS" || e.ID() != tc.id || e.Type() != tc.typ || !e.Time().Equal(at) {
				t.Fatalf("attributes:\n%s", e.String())
			}
			if string(e.Data()) != tc.data {
				t.Fatalf("data\n got %s\nwant %s", e.Data(), tc.data)
			}
		})
	}
}

// jiraBody is an issue_updated body with one status change to `to` and
// the given issue fields; extra top-level members replace the defaults.
func jiraBody(to string, fields map[string]any, top ...any) []byte {
	f := map[string]any{"summary": "Resize web-1", "project": map[string]any{"key": "OPS", "id": "10003"}}
	for k, v := range fields {
		f[k] = v
	}
	m := map[string]any{
		"timestamp": 1773043331602, "webhookEvent": "jira:issue_updated",
		"user":  map[string]any{"accountId": "712020:abc", "displayName": "Li Wei", "emailAddress": "li.wei@example.com"},
		"issue": map[string]any{"id": "10234", "key": "OPS-42", "fields": f},
		"changelog": map[string]any{"id": "10518", "items": []any{
			map[string]any{"field": "status", "fieldtype": "jira", "fieldId": "status", "fromString": "Waiting", "toString": to}}},
	}
	for i := 0; i+1 < len(top); i += 2 {
		if top[i+1] == nil {
			delete(m, top[i].(string))
			continue
		}
		m[top[i].(string)] = top[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func request(extra map[string]any) map[string]any {
	m := map[string]any{"customfield_10050": "i-y7xnhq39ah", "customfield_10051": map[string]any{"value": "cn-north-1", "id": "1"},
		"customfield_10052": "g.n2.xlarge", "customfield_10053": nil, "customfield_10054": nil}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestJira(t *testing.T) {
	const who = `Jira issue "OPS-42"`
	const reqData = `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","instanceType":"g.n2.xlarge","reason":"OPS-42: Resize web-1","requestedBy":"li.wei@example.com"}`
	huge := strings.Repeat("a", 10<<10)
	for _, tc := range []struct {
		name    string
		body    []byte
		c       func(*JiraConfig)
		typ     string
		data    string
		err     []string
		ignored string
		near    bool
		shape   string
	}{
		{name: "request", body: jiraBody("Approved", request(nil)), typ: resizer.TypeRequested, data: reqData},
		{name: "status padded", body: jiraBody("  Approved \n", request(nil)), typ: resizer.TypeRequested, data: reqData},
		{name: "relative request with Jira's number", body: jiraBody("Approved", request(map[string]any{"customfield_10052": nil,
			"customfield_10053": map[string]any{"value": "up"}, "customfield_10055": 2.0})), typ: resizer.TypeRequested,
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"up","steps":2,"reason":"OPS-42: Resize web-1","requestedBy":"li.wei@example.com"}`},
		{name: "number as written", body: []byte(strings.Replace(string(jiraBody("Approved", request(map[string]any{"customfield_10052": nil,
			"customfield_10053": "down", "customfield_10055": 3}))), `"customfield_10055":3`, `"customfield_10055":3.0`, 1)), typ: resizer.TypeRequested,
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"down","steps":3,"reason":"OPS-42: Resize web-1","requestedBy":"li.wei@example.com"}`},
		{name: "default region", body: jiraBody("Approved", request(map[string]any{"customfield_10051": nil})), c: func(c *JiraConfig) { c.DefaultRegion = "cn-east-2" },
			typ: resizer.TypeRequested, data: strings.Replace(reqData, "cn-north-1", "cn-east-2", 1)},
		{name: "custom statuses", body: jiraBody("Go", request(nil)), c: func(c *JiraConfig) { c.Approved, c.Rejected = "Go", "No go" },
			typ: resizer.TypeRequested, data: reqData},
		{name: "requestedBy without e-mail", body: jiraBody("Approved", request(nil), "user", map[string]any{"displayName": "Li\nWei", "accountId": "x"}),
			typ: resizer.TypeRequested, data: strings.Replace(reqData, "li.wei@example.com", "Li Wei", 1)},
		{name: "requestedBy from accountId", body: jiraBody("Approved", request(nil), "user", map[string]any{"accountId": "712020:abc"}),
			typ: resizer.TypeRequested, data: strings.Replace(reqData, "li.wei@example.com", "712020:abc", 1)},
		{name: "approval", body: jiraBody("Approved", request(map[string]any{"customfield_10054": "apr-1"})), typ: TypeApproved,
			data: `{"approvalId":"apr-1","approvedBy":"li.wei@example.com"}`},
		{name: "approval id as an option", body: jiraBody("Approved", request(map[string]any{"customfield_10054": map[string]any{"value": "apr-2"}})), typ: TypeApproved,
			data: `{"approvalId":"apr-2","approvedBy":"li.wei@example.com"}`},
		{name: "approval ignores bad request fields", body: jiraBody("Approved", map[string]any{"customfield_10054": "apr-1", "customfield_10050": []any{"x"}}), typ: TypeApproved,
			data: `{"approvalId":"apr-1","approvedBy":"li.wei@example.com"}`},
		{name: "rejection", body: jiraBody("Rejected", request(map[string]any{"customfield_10054": "apr-1"})), typ: TypeRejected,
			data: `{"approvalId":"apr-1","rejectedBy":"li.wei@example.com"}`},

		{name: "instance field an array", body: jiraBody("Approved", request(map[string]any{"customfield_10050": []any{"i-y7xnhq39ah"}})),
			typ: resizer.TypeRequested, err: []string{who, "customfield_10050 (instanceId) is an array; it must be a string, a number or an option"}},
		{name: "field a nested object", body: jiraBody("Approved", request(map[string]any{"customfield_10052": map[string]any{"value": map[string]any{"value": "g.n2.large"}}})),
			typ: resizer.TypeRequested, err: []string{"customfield_10052 (instanceType) is an object without a string value"}},
		{name: "option without value", body: jiraBody("Approved", request(map[string]any{"customfield_10052": map[string]any{"id": "10047"}})),
			typ: resizer.TypeRequested, err: []string{"customfield_10052 (instanceType) is an object without"}},
		{name: "field a boolean", body: jiraBody("Approved", request(map[string]any{"customfield_10053": true, "customfield_10052": nil})),
			typ: resizer.TypeRequested, err: []string{"customfield_10053 (direction) is a boolean"}},
		{name: "instance missing", body: jiraBody("Approved", request(map[string]any{"customfield_10050": nil})),
			typ: resizer.TypeRequested, err: []string{who, "customfield_10050 (instanceId) is missing"}},
		{name: "instance empty", body: jiraBody("Approved", request(map[string]any{"customfield_10050": "  "})),
			typ: resizer.TypeRequested, err: []string{"customfield_10050 (instanceId) is missing"}},
		{name: "instance not mapped", body: jiraBody("Approved", request(nil)), c: func(c *JiraConfig) { delete(c.Fields, "instanceId") },
			typ: resizer.TypeRequested, err: []string{"instanceId (not mapped in JIRA_FIELDS) is missing"}},
		{name: "nothing mapped", body: jiraBody("Approved", request(nil)), c: func(c *JiraConfig) { c.Fields = nil },
			typ: resizer.TypeRequested, err: []string{"instanceId (not mapped in JIRA_FIELDS) is missing"}},
		{name: "region missing", body: jiraBody("Approved", request(map[string]any{"customfield_10051": nil})),
			typ: resizer.TypeRequested, err: []string{"customfield_10051 (regionId) is missing and DEFAULT_REGION is not set"}},
		{name: "no target", body: jiraBody("Approved", request(map[string]any{"customfield_10052": nil})),
			typ: resizer.TypeRequested, err: []string{"neither customfield_10052 (instanceType) nor customfield_10053 (direction) is set"}},
		{name: "steps as text 2.0", body: jiraBody("Approved", request(map[string]any{"customfield_10052": nil, "customfield_10053": "up", "customfield_10055": "2.0"})),
			typ: resizer.TypeRequested, err: []string{`customfield_10055 (steps) "2.0" must be an integer from 1 to 8`}},
		{name: "steps 2.5", body: jiraBody("Approved", request(map[string]any{"customfield_10052": nil, "customfield_10053": "up", "customfield_10055": 2.5})),
			typ: resizer.TypeRequested, err: []string{`customfield_10055 (steps) "2.5" must be`}},
		{name: "steps 9", body: jiraBody("Approved", request(map[string]any{"customfield_10052": nil, "customfield_10053": "up", "customfield_10055": 9})),
			typ: resizer.TypeRequested, err: []string{`customfield_10055 (steps) "9" must be`}},
		{name: "approval id of 10 KB", body: jiraBody("Approved", request(map[string]any{"customfield_10054": huge})),
			typ: TypeApproved, err: []string{`customfield_10054 (approvalId) "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is longer than 256 bytes`}},
		{name: "approval id with control characters", body: jiraBody("Rejected", request(map[string]any{"customfield_10054": "apr\u0000-1\u001b"})),
			typ: TypeRejected, err: []string{`customfield_10054 (approvalId) "apr\x00-1\x1b" contains control characters`}},
		{name: "approval id with bidi override", body: jiraBody("Approved", request(map[string]any{"customfield_10054": "apr-\u202e1"})),
			typ: TypeApproved, err: []string{"bidirectional"}},
		{name: "approval id an array", body: jiraBody("Approved", request(map[string]any{"customfield_10054": []any{"apr-1"}})),
			typ: TypeApproved, err: []string{"customfield_10054 (approvalId) is an array"}},

		{name: "status lower case", body: jiraBody("approved", request(nil)), near: true,
			ignored: `status changed to "approved", which differs from JIRA_APPROVED_STATUS "Approved" only in letter case`},
		{name: "status upper case rejected", body: jiraBody("REJECTED", request(map[string]any{"customfield_10054": "apr-1"})), near: true,
			ignored: `differs from JIRA_REJECTED_STATUS "Rejected" only in letter case`},
		{name: "other status", body: jiraBody("In Progress", request(nil)), ignored: `status changed to "In Progress", which is neither "Approved" nor "Rejected"`},
		{name: "rejected without approval id", body: jiraBody("Rejected", request(nil)), ignored: "without an approval id: there is no held request to reject"},
		{name: "other event", body: jiraBody("Approved", request(nil), "webhookEvent", "jira:issue_created"), ignored: `"jira:issue_created" is not jira:issue_updated`},
		{name: "no changelog", body: jiraBody("Approved", request(nil), "changelog", nil), ignored: "no changelog"},
		{name: "no status change", body: jiraBody("Approved", request(nil), "changelog", map[string]any{"id": "1", "items": []any{
			map[string]any{"field": "summary", "fieldtype": "jira", "toString": "Approved"}}}), ignored: "changes no workflow status"},
		{name: "custom field named status", body: jiraBody("Approved", request(nil), "changelog", map[string]any{"id": "1", "items": []any{
			map[string]any{"field": "status", "fieldtype": "custom", "fieldId": "customfield_10099", "toString": "Approved"}}}), ignored: "changes no workflow status"},

		{name: "no webhookEvent", body: jiraBody("Approved", request(nil), "webhookEvent", nil), shape: "has no webhookEvent"},
		{name: "two status changes", body: jiraBody("Approved", request(nil), "changelog", map[string]any{"id": "1", "items": []any{
			map[string]any{"field": "status", "fieldtype": "jira", "toString": "Approved"},
			map[string]any{"field": "status", "fieldtype": "jira", "toString": "Rejected"}}}), shape: "more than one status change"},
		{name: "items an object", body: jiraBody("Approved", request(nil), "changelog", map[string]any{"id": "1", "items": map[string]any{}}), shape: "items must be a JSON array"},
		{name: "item a string", body: jiraBody("Approved", request(nil), "changelog", map[string]any{"id": "1", "items": []any{"status"}}), shape: "items[0] must be a JSON object"},
		{name: "toString a number", body: jiraBody("Approved", request(nil), "changelog", map[string]any{"id": "1", "items": []any{
			map[string]any{"field": "status", "fieldtype": "jira", "toString": 3}}}), shape: "toString must be a string"},
		{name: "no changelog id", body: jiraBody("Approved", request(nil), "changelog", map[string]any{"items": []any{
			map[string]any{"field": "status", "fieldtype": "jira", "toString": "Approved"}}}), shape: "changelog has no id"},
		{name: "no issue", body: jiraBody("Approved", request(nil), "issue", nil), shape: "issue has no key"},
		{name: "issue key with a newline", body: jiraBody("Approved", request(nil), "issue", map[string]any{"key": "OPS-42\n"}), shape: "issue.key contains control characters"},
		{name: "user not an object", body: jiraBody("Approved", request(nil), "user", "li"), shape: "user must be a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := jiraConfig(t)
			if tc.c != nil {
				tc.c(&c)
			}
			res, err := Jira(tc.body, c)
			checkResult(t, tc.body, res, err)
			switch {
			case tc.shape != "":
				if err == nil || !strings.Contains(err.Error(), tc.shape) {
					t.Fatalf("error %v, want %q", err, tc.shape)
				}
				return
			case tc.ignored != "":
				if err != nil || len(res.Items) != 0 || !strings.Contains(res.Ignored, tc.ignored) || res.NearMiss != tc.near {
					t.Fatalf("err %v items %d ignored %q near miss %v", err, len(res.Items), res.Ignored, res.NearMiss)
				}
				return
			}
			it := only(t, res, err)
			if it.Event.Source() != "jira/OPS" || it.Event.ID() != "OPS-42:10518" || it.Event.Type() != tc.typ {
				t.Fatalf("attributes:\n%s", it.Event.String())
			}
			if tc.err != nil {
				wantErrContains(t, it, tc.err...)
				return
			}
			if it.Err != nil {
				t.Fatalf("invalid: %v", it.Err)
			}
			if got, want := string(it.Event.Data()), compactJSON(t, tc.data); got != want {
				t.Fatalf("data\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestJiraIDs(t *testing.T) {
	// A numeric changelog id, a project key from the issue key, and a
	// source that stays a valid URI reference.
	body := []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"OPS_2-7","fields":{"customfield_10054":"apr-1"}},
	  "changelog":{"id":10518,"items":[{"field":"status","fieldtype":"jira","toString":"Approved"}]}}`)
	res, err := Jira(body, jiraConfig(t))
	checkResult(t, body, res, err)
	it := only(t, res, err)
	if it.Err != nil || it.Event.Source() != "jira/OPS_2" || it.Event.ID() != "OPS_2-7:10518" {
		t.Fatalf("err %v\n%s", it.Err, it.Event.String())
	}
	// Jira's retry resends the same body: the same id.
	again, err := Jira(body, jiraConfig(t))
	if err != nil || again.Items[0].Event.ID() != it.Event.ID() || string(again.Items[0].Event.Data()) != string(it.Event.Data()) {
		t.Fatal("a retried body built another request")
	}
}

func TestJiraConfig(t *testing.T) {
	for _, tc := range []struct {
		c   JiraConfig
		err string
	}{
		{JiraConfig{}, ""},
		{JiraConfig{Approved: "Go", Rejected: "No go", DefaultRegion: "cn-north-1"}, ""},
		{JiraConfig{Approved: "Rejected"}, "both"},
		{JiraConfig{Approved: "done", Rejected: "DONE"}, "both"},
		{JiraConfig{Approved: " Approved"}, "JIRA_APPROVED_STATUS has leading or trailing white space"},
		{JiraConfig{Rejected: "No\ngo"}, "JIRA_REJECTED_STATUS contains control characters"},
		{JiraConfig{Fields: map[string]string{"reason": "summary"}}, "not a request field"},
		{JiraConfig{Fields: map[string]string{"instanceId": "custom field"}}, "not a Jira field id"},
		{JiraConfig{Fields: map[string]string{"instanceId": "cf", "approvalId": "cf"}}, "maps both"},
		{JiraConfig{DefaultRegion: "x"}, "DEFAULT_REGION"},
	} {
		err := tc.c.Validate()
		if (err == nil) != (tc.err == "") || err != nil && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.err)
		}
		if tc.err != "" {
			if _, err := Jira(jiraBody("Approved", request(nil)), tc.c); !errors.Is(err, ErrConfig) {
				t.Errorf("%+v: Jira ran with a bad configuration: %v", tc.c, err)
			}
		}
	}
}

func TestParseJiraFields(t *testing.T) {
	m, err := ParseJiraFields(" instanceId = customfield_10050 ,regionId=customfield_10051,dryRun=customfield_1,approvalId=customfield_10054")
	if err != nil || len(m) != 4 || m["instanceId"] != "customfield_10050" || m["dryRun"] != "customfield_1" {
		t.Fatalf("%v %v", m, err)
	}
	if m, err := ParseJiraFields(""); err != nil || len(m) != 0 {
		t.Fatalf("empty: %v %v", m, err)
	}
	for in, want := range map[string]string{
		"instanceId":                              `entry "instanceId" is not requestField=jiraField`,
		"instanceId=cf_1,":                        "entry 2 is empty",
		"reason=summary":                          `"reason" is not a request field`,
		"instanceid=cf_1":                         `"instanceid" is not a request field`,
		"instanceId=":                             `"" is not a Jira field id`,
		"instanceId=custom field":                 `"custom field" is not a Jira field id`,
		"instanceId=cf_1,instanceId=cf_2":         `maps "instanceId" more than once`,
		"instanceId=cf_1,approvalId=cf_1":         `maps both "instanceId" and "approvalId" to "cf_1"`,
		"instanceId=" + strings.Repeat("c", 300):  "not a Jira field id",
		"instanceId=cf\x00":                       `"cf\x00" is not a Jira field id`,
		strings.Repeat("instanceId=cf_1;", 20):    "not a Jira field id",
		"instanceId=cf_1=cf_2":                    `"cf_1=cf_2" is not a Jira field id`,
		"approvalId=cf_1, requestedBy=reporter":   `"requestedBy" is not a request field`,
		"direction=customfield_10053,steps=a b c": `"a b c" is not a Jira field id`,
	} {
		_, err := ParseJiraFields(in)
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestJiraFieldNameLength(t *testing.T) {
	for n, want := range map[int]bool{1: true, 255: true, 256: false} {
		if got := jiraFieldName.MatchString(strings.Repeat("a", n)); got != want {
			t.Errorf("a field name of %d characters: match %t, want %t", n, got, want)
		}
	}
	for _, bad := range []string{"", "custom field", "cf/1", "cf\n"} {
		if jiraFieldName.MatchString(bad) {
			t.Errorf("%q matched", bad)
		}
	}
}
