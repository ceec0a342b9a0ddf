package deploytest

// The SAM template is part of the product: these tests hold it to the
// official SAM schema (vendored in internal/samschema), to the README's
// configuration table, to docs/contract.md §4's triggers and to the Makefile target
// SAM builds with.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/samschema"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
)

// repoRoot is where the files under test live, relative to this package.
const repoRoot = "../.."

// tplRepoFile reads a file at the repository root.
func tplRepoFile(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

type tplObj = testkit.Obj

func tplJSON(t *testing.T) []byte {
	t.Helper()
	js, err := samschema.ToJSON(tplRepoFile(t, "template.yaml"))
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return js
}

func tplDoc(t *testing.T) tplObj {
	t.Helper()
	var doc tplObj
	if err := json.Unmarshal(tplJSON(t), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

var (
	tplAt   = testkit.At
	tplSame = testkit.SameJSON
)

func TestTemplateMatchesSAMSchema(t *testing.T) {
	schema, err := samschema.SAM()
	if err != nil {
		t.Fatal(err)
	}
	js := tplJSON(t)
	if err := schema.Validate(js); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}

	// The validator must bite: each mutation is a mistake the schema knows
	// about. (Runtime: 42 would not do: the schema passes Runtime, Timeout
	// and most CloudFormation properties through untyped, which is why
	// TestTemplateWiring checks their values.)
	fn := []string{"Resources", "ResizeFunction"}
	props := append(slices.Clone(fn), "Properties")
	mutations := []struct {
		name   string
		path   []string
		mutate func(m tplObj)
	}{
		{"unknown function property", props, func(m tplObj) { m["Runtimes"] = "provided.al2023" }},
		// What goformation would silently drop.
		{"misspelled SQS event property", append(slices.Clone(props), "Events", "Queue", "Properties"), func(m tplObj) {
			m["FunctionResponseType"] = m["FunctionResponseTypes"]
			delete(m, "FunctionResponseTypes")
		}},
		{"unknown event type", append(slices.Clone(props), "Events", "Queue"), func(m tplObj) { m["Type"] = "SQSQueue" }},
		{"Function URL without AuthType", append(slices.Clone(props), "FunctionUrlConfig"), func(m tplObj) { delete(m, "AuthType") }},
		{"retry count as text", append(slices.Clone(props), "EventInvokeConfig"), func(m tplObj) { m["MaximumRetryAttempts"] = "two" }},
		// Only the ECMAScript look-ahead ^(?!AWS::Serverless::) tells this
		// from a plain CloudFormation resource type.
		{"misspelled serverless type", fn, func(m tplObj) { m["Type"] = "AWS::Serverless::Functon" }},
	}
	for _, mu := range mutations {
		t.Run(mu.name, func(t *testing.T) {
			var doc tplObj
			if err := json.Unmarshal(js, &doc); err != nil {
				t.Fatal(err)
			}
			target, ok := tplAt(t, doc, mu.path...).(tplObj)
			if !ok {
				t.Fatalf("%s is not a mapping", strings.Join(mu.path, "."))
			}
			mu.mutate(target)
			mutated, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(mutated); err == nil {
				t.Errorf("the schema accepted the template with %s", mu.name)
			}
		})
	}
}

// tplConfigVar is a variable of the README's configuration table.
type tplConfigVar struct {
	name, def string
	// serverOnly: the row is marked "(server mode only)"; the variable
	// matters only to the HTTP server, never under Lambda.
	serverOnly bool
	// alias: another spelling of the row's variable, written "(or `X`)"
	// after it (K_SINK, which Knative injects, for RESULT_SINK_URL).
	alias bool
}

var (
	tplAliasRE   = regexp.MustCompile("\\(or (`[A-Z][A-Z0-9_]+`(, `[A-Z][A-Z0-9_]+`)*)\\)")
	tplVarNameRE = regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	tplDefaultRE = regexp.MustCompile("`([^`]*)`")
)

// tplConfigVars reads the variables and their defaults from the table of
// the README's "## Configuration" section, the users' reference, so that a
// variable documented there fails this test until the template passes it
// on (or the row says it is for server mode only).
func tplConfigVars(t *testing.T) []tplConfigVar {
	t.Helper()
	raw := tplRepoFile(t, "README.md")
	_, sec, ok := strings.Cut(string(raw), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no \"## Configuration\" section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var vars []tplConfigVar
	for line := range strings.SplitSeq(sec, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		def := ""
		if m := tplDefaultRE.FindStringSubmatch(cells[2]); m != nil {
			def = m[1]
		}
		serverOnly := strings.Contains(cells[3], "(server mode only)")
		names := cells[1]
		for _, m := range tplAliasRE.FindAllStringSubmatch(names, -1) {
			for _, n := range tplVarNameRE.FindAllStringSubmatch(m[1], -1) {
				vars = append(vars, tplConfigVar{name: n[1], def: def, serverOnly: serverOnly, alias: true})
			}
		}
		names = tplAliasRE.ReplaceAllString(names, "")
		for _, m := range tplVarNameRE.FindAllStringSubmatch(names, -1) {
			vars = append(vars, tplConfigVar{name: m[1], def: def, serverOnly: serverOnly})
		}
	}
	if len(vars) < 15 {
		t.Fatalf("read only %d variables from the README's configuration table: %v", len(vars), vars)
	}
	return vars
}

func TestTemplateWiring(t *testing.T) {
	doc := tplDoc(t)
	res := tplAt(t, doc, "Resources").(tplObj)
	params := tplAt(t, doc, "Parameters").(tplObj)
	fn := tplAt(t, res, "ResizeFunction").(tplObj)
	props := tplAt(t, fn, "Properties").(tplObj)

	t.Run("function", func(t *testing.T) {
		tplSame(t, "Type", fn["Type"], `"AWS::Serverless::Function"`)
		tplSame(t, "Runtime", props["Runtime"], `"provided.al2023"`)
		tplSame(t, "Architectures", props["Architectures"], `["arm64"]`)
		tplSame(t, "Handler", props["Handler"], `"bootstrap"`)
		tplSame(t, "CodeUri", props["CodeUri"], `"."`)
		tplSame(t, "Metadata", fn["Metadata"], `{"BuildMethod": "makefile"}`)
		tplSame(t, "Timeout", props["Timeout"], `120`)
		tplSame(t, "MemorySize", props["MemorySize"], `256`)
		// The Makefile target SAM calls must build for the template's arch.
		mk := tplRepoFile(t, "Makefile")
		target := regexp.MustCompile(`(?m)^build-ResizeFunction:\n\t.*GOARCH=arm64.*\$\(ARTIFACTS_DIR\)/bootstrap`)
		if !target.Match(mk) {
			t.Error("Makefile: build-ResizeFunction must build GOARCH=arm64 into $(ARTIFACTS_DIR)/bootstrap")
		}
	})

	t.Run("environment", func(t *testing.T) {
		env := tplAt(t, props, "Environment", "Variables").(tplObj)
		documented := map[string]bool{}
		for _, v := range tplConfigVars(t) {
			documented[v.name] = true
			val, ok := env[v.name]
			switch {
			case v.alias:
				// Another spelling of a variable the template sets under
				// its own name: K_SINK is Knative's RESULT_SINK_URL.
				continue
			case v.serverOnly:
				if ok {
					t.Errorf("%s is for HTTP server mode only (README), yet the template sets it for Lambda", v.name)
				}
				continue
			case !ok:
				t.Errorf("README variable %s is not in the function's Environment", v.name)
			case v.name == "IDEMPOTENCY_TABLE":
				tplSame(t, v.name, val, `{"Ref": "IdempotencyTable"}`)
			case v.name == "ALLOW_UNAUTHENTICATED":
				// Pinned: the Function URL is public.
				tplSame(t, v.name, val, `"false"`)
			default:
				tplCheckParamDefault(t, params, v.name, val, v.def)
			}
		}
		// A setting users cannot look up is one they cannot use.
		for _, name := range slices.Sorted(maps.Keys(env)) {
			if !documented[name] {
				t.Errorf("the function's Environment sets %s, which the README's configuration table does not list", name)
			}
		}
		tplCheckParamDefault(t, params, "BATCH_CONCURRENCY", env["BATCH_CONCURRENCY"], "10")
		tplCheckParamDefault(t, params, "JDCLOUD_RATE_LIMIT", env["JDCLOUD_RATE_LIMIT"], "20")
	})

	t.Run("parameters", func(t *testing.T) {
		secret := []string{"JDCloudAccessKey", "JDCloudSecretKey", "WebhookSecret", "WebhookToken"}
		for _, name := range slices.Sorted(maps.Keys(params)) {
			p := tplAt(t, params, name).(tplObj)
			isSecret := slices.Contains(secret, name)
			if isSecret != (p["NoEcho"] == true) {
				t.Errorf("parameter %s: NoEcho = %v, want %v", name, p["NoEcho"], isSecret)
			}
			if isSecret && p["Default"] != "" {
				t.Errorf("parameter %s: a secret's default must be empty, got %v", name, p["Default"])
			}
			tplCheckParamConstraints(t, name, p)
		}
		// A parameter nothing reads is a setting that silently does nothing.
		used := map[string]bool{}
		for _, section := range []string{"Resources", "Conditions", "Outputs"} {
			tplRefs(doc[section], func(name string) { used[name] = true })
		}
		for name := range params {
			if !used[name] {
				t.Errorf("parameter %s is never referenced", name)
			}
		}
		// The console's deploy form shows parameters by group; one left out
		// lands in an unlabelled heap at the end.
		grouped := map[string]int{}
		for _, g := range tplAt(t, doc, "Metadata", "AWS::CloudFormation::Interface", "ParameterGroups").([]any) {
			for _, name := range tplAt(t, g, "Parameters").([]any) {
				grouped[name.(string)]++
			}
		}
		for _, name := range slices.Sorted(maps.Keys(params)) {
			if grouped[name] != 1 {
				t.Errorf("parameter %s is in %d parameter groups, want 1", name, grouped[name])
			}
		}
		for name := range grouped {
			if params[name] == nil {
				t.Errorf("parameter group lists %s, which is not a parameter", name)
			}
		}
	})

	// The constraints of Part two's parameters must refuse what the
	// function would refuse at start, so that a bad value fails the deploy
	// rather than every invocation.
	t.Run("constraints refuse bad values", func(t *testing.T) {
		for name, c := range map[string]struct{ good, bad []string }{
			"AllowedDirections":    {[]string{"up", "down", "up,down"}, []string{"", "sideways", "up,sideways", "UP"}},
			"AlertInstanceLabel":   {[]string{"instance", "jd_id2"}, []string{"", "2x", "a-b", "a b"}},
			"DefaultRegion":        {[]string{"", "cn-north-1", "cn-east-2"}, []string{"cn-north", "CN-NORTH-1", "../x"}},
			"JiraFields":           {[]string{"", "instanceId=customfield_10050", "instanceId=customfield_1,regionId=customfield_2"}, []string{"instanceId", "instanceId=", "=x", "a=b,"}},
			"ApprovalTtl":          {[]string{"24h", "90m", "1h30m"}, []string{"", "0", "24", "1d", "-1h"}},
			"FleetWindow":          {[]string{"1h", "15m"}, []string{"", "0", "1w", "-1h"}},
			"MaxConcurrentResizes": {[]string{"0", "3", "100"}, []string{"", "-1", "1.5", "three"}},
			"MaxResizesPerWindow":  {[]string{"0", "10"}, []string{"", "-1", "1e3"}},
			"MaxFailuresPerWindow": {[]string{"0", "3"}, []string{"", "-3", "x"}},
			"ResizeWindows":        {[]string{"", "Mon-Fri 01:00-05:00,Sat 00:00-06:00", "22:00-02:00"}, []string{"Mon-Fri 01:00-05:00;Sat", "$(x)"}},
			"ResizeWindowsTz":      {[]string{"UTC", "Asia/Shanghai", "America/Argentina/Buenos_Aires", "Etc/GMT+8"}, []string{"", "/UTC", "Asia/", "UTC offset"}},
			"PendingTargetArn": {[]string{"", "arn:aws:events:eu-west-1:123456789012:api-destination/jira/0f1e", "arn:aws:sqs:eu-west-1:123456789012:tickets"},
				[]string{"jira", "arn:aws:events", "https://example.atlassian.net/"}},
			"AlarmTopicArn": {[]string{"", "arn:aws:sns:eu-west-1:123456789012:ops-alerts"},
				[]string{"ops-alerts", "arn:aws:sqs:eu-west-1:123456789012:q", "arn:aws:sns:eu-west-1:1234:ops"}},
			"MetricsNamespace": {[]string{"JDCloudVMResizer", "off", "Team/Resizer", "My Resizer"}, []string{"", " x", "a\"b", strings.Repeat("n", 256)}},
		} {
			p := tplAt(t, params, name).(tplObj)
			ok := func(v string) bool {
				if pat, has := p["AllowedPattern"].(string); has {
					return regexp.MustCompile(pat).MatchString(v)
				}
				if av, has := p["AllowedValues"].([]any); has {
					return slices.Contains(av, any(v))
				}
				t.Fatalf("parameter %s has neither AllowedPattern nor AllowedValues", name)
				return false
			}
			for _, v := range c.good {
				if !ok(v) {
					t.Errorf("parameter %s refuses %q", name, v)
				}
			}
			for _, v := range c.bad {
				if ok(v) {
					t.Errorf("parameter %s accepts %q", name, v)
				}
			}
		}
	})

	t.Run("references resolve", func(t *testing.T) {
		known := map[string]bool{}
		for _, n := range []string{"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"} {
			known[n] = true
		}
		for n := range params {
			known[n] = true
		}
		for n, r := range res {
			known[n] = true
			// Resources SAM generates from a function, by its naming rules.
			if tplAt(t, r, "Type") == "AWS::Serverless::Function" {
				rp, _ := r.(tplObj)["Properties"].(tplObj)
				known[n+"Role"] = true
				if rp["FunctionUrlConfig"] != nil {
					known[n+"Url"] = true
				}
				evs, _ := rp["Events"].(tplObj)
				for e := range evs {
					known[n+e] = true
				}
			}
		}
		for _, section := range []string{"Resources", "Conditions", "Outputs", "Rules"} {
			tplRefs(doc[section], func(name string) {
				if !known[name] {
					t.Errorf("%s refers to %q, which nothing defines", section, name)
				}
			})
		}
		conds := tplAt(t, doc, "Conditions").(tplObj)
		usedConds := map[string]bool{}
		for _, section := range []string{"Resources", "Outputs", "Conditions"} {
			tplConditionRefs(doc[section], func(name string) {
				usedConds[name] = true
				if _, ok := conds[name]; !ok {
					t.Errorf("%s use condition %q, which Conditions does not define", section, name)
				}
			})
		}
		for name := range conds {
			if !usedConds[name] {
				t.Errorf("condition %s is defined but nothing uses it", name)
			}
		}
	})

	// A reference to a resource that may not exist fails the deploy
	// whenever it does not: each one must sit under that resource's own
	// condition, as the referring resource's or output's Condition or an
	// Fn::If branch around the reference.
	t.Run("conditional resources are referenced under their condition", func(t *testing.T) {
		for _, section := range []string{"Resources", "Outputs"} {
			entries, _ := doc[section].(tplObj)
			for name, e := range entries {
				em, _ := e.(tplObj)
				var under []string
				if c, ok := em["Condition"].(string); ok {
					under = []string{c}
				}
				tplRefsUnder(e, under, func(ref string, under []string) {
					r, ok := res[ref].(tplObj)
					if !ok {
						return
					}
					if c, ok := r["Condition"].(string); ok && !slices.Contains(under, c) {
						t.Errorf("%s.%s refers to %s outside its condition %s (under %v)", section, name, ref, c, under)
					}
				})
			}
		}
	})

	t.Run("permissions are scoped", func(t *testing.T) {
		stmts := tplStatements(t, tplAt(t, props, "Policies").([]any), "")
		byService := map[string][]tplStatement{}
		for _, s := range stmts {
			if s.effect != "Allow" {
				t.Errorf("statement %s: Effect %q, want Allow", s.sid, s.effect)
			}
			services := map[string]bool{}
			for _, a := range s.actions {
				svc, _, _ := strings.Cut(a, ":")
				if strings.Contains(a, "*") {
					t.Errorf("statement %s: wildcard action %q", s.sid, a)
				}
				services[svc] = true
			}
			for svc := range services {
				byService[svc] = append(byService[svc], s)
			}
			for _, r := range s.resources {
				if str, ok := r.(string); ok && strings.Contains(str, "*") {
					t.Errorf("statement %s: wildcard resource %q", s.sid, str)
				}
			}
		}
		ddb := byService["dynamodb"]
		if len(ddb) != 1 {
			t.Fatalf("want one DynamoDB statement, got %d", len(ddb))
		}
		s := ddb[0]
		s.actions = slices.Sorted(slices.Values(s.actions))
		tplSame(t, "DynamoDB actions", tplAnySlice(s.actions), `["dynamodb:DeleteItem","dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem"]`)
		tplSame(t, "DynamoDB resources", s.resources, `[{"Fn::GetAtt": ["IdempotencyTable", "Arn"]}]`)
		if s.condition != "" {
			t.Errorf("DynamoDB access is conditional on %s; the store always needs it", s.condition)
		}

		if sm := byService["secretsmanager"]; len(sm) != 1 {
			t.Errorf("want exactly one Secrets Manager grant, got %d", len(sm))
		} else {
			tplSame(t, "Secrets Manager actions", tplAnySlice(sm[0].actions), `["secretsmanager:GetSecretValue"]`)
			tplSame(t, "Secrets Manager resources", sm[0].resources, `[{"Ref": "JDCloudCredentialsSecret"}]`)
			if sm[0].condition != "HasCredentialsSecret" {
				t.Errorf("Secrets Manager grant under condition %q, want HasCredentialsSecret", sm[0].condition)
			}
		}
		if ev := byService["events"]; len(ev) != 1 {
			t.Errorf("want exactly one EventBridge grant, got %d", len(ev))
		} else {
			tplSame(t, "EventBridge actions", tplAnySlice(ev[0].actions), `["events:PutEvents"]`)
			tplSame(t, "EventBridge resources", ev[0].resources,
				`[{"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${ResultEventBus}"}]`)
			if ev[0].condition != "HasResultEventBus" {
				t.Errorf("EventBridge grant under condition %q, want HasResultEventBus", ev[0].condition)
			}
		}
		tplSame(t, "Conditions.HasCredentialsSecret", tplAt(t, doc, "Conditions", "HasCredentialsSecret"),
			`{"Fn::Not": [{"Fn::Equals": [{"Ref": "JDCloudCredentialsSecret"}, ""]}]}`)
		tplSame(t, "Conditions.HasResultEventBus", tplAt(t, doc, "Conditions", "HasResultEventBus"),
			`{"Fn::Not": [{"Fn::Equals": [{"Ref": "ResultEventBus"}, ""]}]}`)
	})

	// sam deploy takes its capabilities from samconfig.toml: the template
	// creates roles (the function's, the pending target's), which needs
	// CAPABILITY_IAM, and CAPABILITY_NAMED_IAM as soon as one is named.
	t.Run("samconfig capabilities", func(t *testing.T) {
		cfg := string(tplRepoFile(t, "samconfig.toml"))
		m := regexp.MustCompile(`(?m)^capabilities = "([A-Z_ ]+)"$`).FindStringSubmatch(cfg)
		if m == nil {
			t.Fatal(`samconfig.toml: no capabilities = "…" line`)
		}
		caps := strings.Fields(m[1])
		if !slices.Contains(caps, "CAPABILITY_IAM") {
			t.Errorf("samconfig.toml capabilities %v lack CAPABILITY_IAM", caps)
		}
		for name, r := range res {
			if tplAt(t, r, "Type") != "AWS::IAM::Role" {
				continue
			}
			if _, named := tplAt(t, r, "Properties").(tplObj)["RoleName"]; named && !slices.Contains(caps, "CAPABILITY_NAMED_IAM") {
				t.Errorf("%s has a RoleName, which needs CAPABILITY_NAMED_IAM in samconfig.toml", name)
			}
		}
	})

	t.Run("function URL", func(t *testing.T) {
		tplSame(t, "FunctionUrlConfig", tplAt(t, props, "FunctionUrlConfig"), `{"AuthType": "NONE"}`)
	})

	t.Run("SQS trigger", func(t *testing.T) {
		tplSame(t, "Events.Queue", tplAt(t, props, "Events", "Queue"), `{"Type": "SQS", "Properties": {
			"Queue": {"Fn::GetAtt": ["ResizeQueue", "Arn"]},
			"BatchSize": 10,
			"FunctionResponseTypes": ["ReportBatchItemFailures"],
			"ScalingConfig": {"MaximumConcurrency": {"Ref": "SqsMaximumConcurrency"}}}}`)
		// MaximumConcurrency × JDCLOUD_RATE_LIMIT bounds the account's JD
		// Cloud request rate from the queue; AWS refuses less than 2.
		mc := tplAt(t, params, "SqsMaximumConcurrency").(tplObj)
		tplSame(t, "SqsMaximumConcurrency", tplObj{"Type": mc["Type"], "Default": mc["Default"], "MinValue": mc["MinValue"], "MaxValue": mc["MaxValue"]},
			`{"Type": "Number", "Default": 2, "MinValue": 2, "MaxValue": 1000}`)
		if d, _ := mc["Description"].(string); !strings.Contains(d, "JDCloudRateLimit") {
			t.Errorf("SqsMaximumConcurrency's Description should say it bounds the JD Cloud rate with JDCloudRateLimit: %q", d)
		}
		q := tplAt(t, res, "ResizeQueue").(tplObj)
		tplSame(t, "ResizeQueue.Type", q["Type"], `"AWS::SQS::Queue"`)
		vis, _ := tplAt(t, q, "Properties", "VisibilityTimeout").(float64)
		timeout, _ := props["Timeout"].(float64)
		if timeout <= 0 || vis < 6*timeout {
			t.Errorf("ResizeQueue VisibilityTimeout %v, want at least 6 × the function Timeout %v", vis, timeout)
		}
		tplSame(t, "ResizeQueue.RedrivePolicy", tplAt(t, q, "Properties", "RedrivePolicy"),
			`{"deadLetterTargetArn": {"Fn::GetAtt": ["ResizeDeadLetterQueue", "Arn"]}, "maxReceiveCount": 5}`)
		dlq := tplAt(t, res, "ResizeDeadLetterQueue").(tplObj)
		tplSame(t, "ResizeDeadLetterQueue.Type", dlq["Type"], `"AWS::SQS::Queue"`)
		// SQS keeps a dead letter's first enqueue time: a DLQ retaining less
		// than its source would drop messages on arrival.
		keep, _ := tplAt(t, q, "Properties", "MessageRetentionPeriod").(float64)
		dlqKeep, _ := tplAt(t, dlq, "Properties", "MessageRetentionPeriod").(float64)
		if dlqKeep <= keep {
			t.Errorf("ResizeDeadLetterQueue retention %v s, want more than ResizeQueue's %v s", dlqKeep, keep)
		}
	})

	t.Run("EventBridge trigger", func(t *testing.T) {
		rule := tplAt(t, props, "Events", "RequestRule").(tplObj)
		tplSame(t, "RequestRule.Type", rule["Type"], `"EventBridgeRule"`)
		tplSame(t, "RequestRule pattern", tplAt(t, rule, "Properties", "Pattern"), fmt.Sprintf(`{"detail-type": [%q]}`, resizer.TypeRequested))
		tplSame(t, "RequestRule bus", tplAt(t, rule, "Properties", "EventBusName"), `{"Ref": "RequestEventBus"}`)
		tplSame(t, "RequestEventBus default", tplAt(t, params, "RequestEventBus", "Default"), `"default"`)
		tplSame(t, "RequestRule DLQ", tplAt(t, rule, "Properties", "DeadLetterConfig"), `{"Arn": {"Fn::GetAtt": ["EventDeadLetterQueue", "Arn"]}}`)
		if rp, ok := tplAt(t, rule, "Properties", "RetryPolicy").(tplObj); !ok || rp["MaximumRetryAttempts"] == nil || rp["MaximumEventAgeInSeconds"] == nil {
			t.Errorf("RequestRule RetryPolicy = %v, want MaximumRetryAttempts and MaximumEventAgeInSeconds", rp)
		}
		// The function's own failures on asynchronous invocations.
		tplSame(t, "EventInvokeConfig.DestinationConfig", tplAt(t, props, "EventInvokeConfig", "DestinationConfig"),
			`{"OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["EventDeadLetterQueue", "Arn"]}}}`)
		// EventBridge may write to the DLQ only on behalf of the rule SAM
		// generates, named <function><event>.
		stmts := tplAt(t, res, "EventDeadLetterQueuePolicy", "Properties", "PolicyDocument", "Statement").([]any)
		tplSame(t, "EventDeadLetterQueuePolicy", stmts, `[{
			"Sid": "RequestRuleDeadLetters", "Effect": "Allow",
			"Principal": {"Service": "events.amazonaws.com"},
			"Action": "sqs:SendMessage",
			"Resource": {"Fn::GetAtt": ["EventDeadLetterQueue", "Arn"]},
			"Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ResizeFunctionRequestRule", "Arn"]}}}},
			{"Fn::If": ["HasPendingTarget", {
			"Sid": "PendingRuleDeadLetters", "Effect": "Allow",
			"Principal": {"Service": "events.amazonaws.com"},
			"Action": "sqs:SendMessage",
			"Resource": {"Fn::GetAtt": ["EventDeadLetterQueue", "Arn"]},
			"Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["PendingRule", "Arn"]}}}},
			{"Ref": "AWS::NoValue"}]}]`)
	})

	t.Run("pending rule", func(t *testing.T) {
		const apiDest = "arn:aws:events:eu-west-1:123456789012:api-destination/jira/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
		// Which resources exist for which settings: the rule needs both the
		// bus and the target, the role only an API destination.
		for _, c := range []struct {
			bus, target    string
			rule, withRole bool
		}{
			{"", "", false, false},
			{"outcomes", "", false, false},
			{"", apiDest, false, false}, // refused by the PendingTargetNeedsResultEventBus rule
			{"outcomes", apiDest, true, true},
			{"outcomes", "arn:aws-cn:events:cn-north-1:123456789012:api-destination/t/1", true, true},
			{"outcomes", "arn:aws:sqs:eu-west-1:123456789012:tickets", true, false},
			{"outcomes", "arn:aws:lambda:eu-west-1:123456789012:function:ticket", true, false},
			{"outcomes", "arn:aws:events:eu-west-1:123456789012:event-bus/other", true, false},
		} {
			p := map[string]string{"ResultEventBus": c.bus, "PendingTargetArn": c.target}
			if got := tplCondition(t, doc, "HasPendingTarget", p); got != c.rule {
				t.Errorf("bus %q, target %q: HasPendingTarget = %v, want %v", c.bus, c.target, got, c.rule)
			}
			if got := tplCondition(t, doc, "PendingTargetIsApiDestination", p); got != c.withRole {
				t.Errorf("bus %q, target %q: PendingTargetIsApiDestination = %v, want %v", c.bus, c.target, got, c.withRole)
			}
		}
		tplSame(t, "Rules.PendingTargetNeedsResultEventBus", tplAt(t, doc, "Rules", "PendingTargetNeedsResultEventBus"), `{
			"RuleCondition": {"Fn::Not": [{"Fn::Equals": [{"Ref": "PendingTargetArn"}, ""]}]},
			"Assertions": [{"Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ResultEventBus"}, ""]}]},
				"AssertDescription": "PendingTargetArn is fed from ResultEventBus; set ResultEventBus too."}]}`)

		rule := tplAt(t, res, "PendingRule").(tplObj)
		tplSame(t, "PendingRule.Type", rule["Type"], `"AWS::Events::Rule"`)
		tplSame(t, "PendingRule.Condition", rule["Condition"], `"HasPendingTarget"`)
		rp := tplAt(t, rule, "Properties").(tplObj)
		tplSame(t, "PendingRule bus", rp["EventBusName"], `{"Ref": "ResultEventBus"}`)
		// The sink puts outcomes with Source = RESULT_SOURCE and DetailType
		// = the CloudEvent type; docs/contract.md §8 names the pending type.
		tplSame(t, "PendingRule pattern", rp["EventPattern"],
			`{"source": [{"Ref": "ResultSource"}], "detail-type": ["com.jdcloud.vm.resize.pending"]}`)
		tplSame(t, "PendingRule state", rp["State"], `"ENABLED"`)
		tplSame(t, "PendingRule targets", rp["Targets"], `[{
			"Id": "PendingTarget",
			"Arn": {"Ref": "PendingTargetArn"},
			"RoleArn": {"Fn::If": ["PendingTargetIsApiDestination", {"Fn::GetAtt": ["PendingTargetRole", "Arn"]}, {"Ref": "AWS::NoValue"}]},
			"InputPath": "$.detail",
			"RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
			"DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["EventDeadLetterQueue", "Arn"]}}}]`)

		role := tplAt(t, res, "PendingTargetRole").(tplObj)
		tplSame(t, "PendingTargetRole.Type", role["Type"], `"AWS::IAM::Role"`)
		tplSame(t, "PendingTargetRole.Condition", role["Condition"], `"PendingTargetIsApiDestination"`)
		tplSame(t, "PendingTargetRole trust", tplAt(t, role, "Properties", "AssumeRolePolicyDocument"), `{
			"Version": "2012-10-17",
			"Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole",
				"Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]}`)
		tplSame(t, "PendingTargetRole policies", tplAt(t, role, "Properties", "Policies"), `[{
			"PolicyName": "InvokePendingTarget",
			"PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Sid": "InvokeApiDestination", "Effect": "Allow",
				"Action": "events:InvokeApiDestination", "Resource": {"Ref": "PendingTargetArn"}}]}}]`)
		for _, k := range []string{"ManagedPolicyArns", "RoleName", "PermissionsBoundary"} {
			if _, ok := tplAt(t, role, "Properties").(tplObj)[k]; ok {
				t.Errorf("PendingTargetRole sets %s: it should hold exactly its one inline statement", k)
			}
		}
	})

	t.Run("idempotency table", func(t *testing.T) {
		tbl := tplAt(t, res, "IdempotencyTable").(tplObj)
		tplSame(t, "IdempotencyTable.Type", tbl["Type"], `"AWS::DynamoDB::Table"`)
		tp := tplAt(t, tbl, "Properties").(tplObj)
		tplSame(t, "BillingMode", tp["BillingMode"], `"PAY_PER_REQUEST"`)
		tplSame(t, "KeySchema", tp["KeySchema"], `[{"AttributeName": "id", "KeyType": "HASH"}]`)
		tplSame(t, "AttributeDefinitions", tp["AttributeDefinitions"], `[{"AttributeName": "id", "AttributeType": "S"}]`)
		tplSame(t, "TimeToLiveSpecification", tp["TimeToLiveSpecification"], `{"AttributeName": "expiration", "Enabled": true}`)
	})

	t.Run("outputs", func(t *testing.T) {
		out := tplAt(t, doc, "Outputs").(tplObj)
		for name, want := range map[string]string{
			"ResizeFunctionArn":        `{"Fn::GetAtt": ["ResizeFunction", "Arn"]}`,
			"ResizeFunctionUrl":        `{"Fn::GetAtt": ["ResizeFunctionUrl", "FunctionUrl"]}`,
			"ResizeQueueUrl":           `{"Ref": "ResizeQueue"}`,
			"ResizeDeadLetterQueueUrl": `{"Ref": "ResizeDeadLetterQueue"}`,
			"EventDeadLetterQueueUrl":  `{"Ref": "EventDeadLetterQueue"}`,
			"IdempotencyTableName":     `{"Ref": "IdempotencyTable"}`,
		} {
			tplSame(t, "Outputs."+name, tplAt(t, out, name, "Value"), want)
		}
	})
}

// tplCondition evaluates a template condition for the given parameter
// values (the others take their defaults), with the few functions the
// template's conditions use. An unsupported function fails the test rather
// than guessing.
func tplCondition(t *testing.T, doc tplObj, name string, values map[string]string) bool {
	t.Helper()
	params := tplAt(t, doc, "Parameters").(tplObj)
	conds := tplAt(t, doc, "Conditions").(tplObj)
	ref := func(p string) string {
		if v, ok := values[p]; ok {
			return v
		}
		pm, ok := params[p].(tplObj)
		if !ok {
			t.Fatalf("condition refers to %q, which is not a parameter", p)
		}
		return tplScalar(pm["Default"])
	}
	var eval func(v any) any
	evalBool := func(v any) bool {
		b, ok := eval(v).(bool)
		if !ok {
			t.Fatalf("%v is not a condition", v)
		}
		return b
	}
	evalString := func(v any) string {
		s, ok := eval(v).(string)
		if !ok {
			t.Fatalf("%v is not a string", v)
		}
		return s
	}
	eval = func(v any) any {
		switch x := v.(type) {
		case string:
			return x
		case tplObj:
			if len(x) != 1 {
				break
			}
			for fn, arg := range x {
				l, _ := arg.([]any)
				switch fn {
				case "Ref":
					return ref(arg.(string))
				case "Condition":
					c, ok := conds[arg.(string)]
					if !ok {
						t.Fatalf("condition %v is not defined", arg)
					}
					return evalBool(c)
				case "Fn::Not":
					return !evalBool(l[0])
				case "Fn::And", "Fn::Or":
					all, anyOf := true, false
					for _, e := range l {
						b := evalBool(e)
						all, anyOf = all && b, anyOf || b
					}
					if fn == "Fn::And" {
						return all
					}
					return anyOf
				case "Fn::Equals":
					return evalString(l[0]) == evalString(l[1])
				case "Fn::Split":
					parts := strings.Split(evalString(l[1]), evalString(l[0]))
					out := make([]any, len(parts))
					for i, p := range parts {
						out[i] = p
					}
					return out
				case "Fn::Select":
					i, _ := l[0].(float64)
					list, _ := eval(l[1]).([]any)
					if int(i) >= len(list) {
						t.Fatalf("Fn::Select index %v out of range of %v: CloudFormation would fail the deploy", i, list)
					}
					return list[int(i)]
				case "Fn::Sub":
					tmpl, _ := arg.(string)
					return tplSubVar.ReplaceAllStringFunc(tmpl, func(m string) string {
						return ref(m[2 : len(m)-1])
					})
				}
			}
		}
		t.Fatalf("cannot evaluate %v", v)
		return nil
	}
	c, ok := conds[name]
	if !ok {
		t.Fatalf("condition %s is not defined", name)
	}
	return evalBool(c)
}

// tplCheckParamDefault checks that an environment value is a parameter whose
// default is the documented default (empty meaning unset).
func tplCheckParamDefault(t *testing.T, params tplObj, env string, val any, want string) {
	t.Helper()
	ref, ok := val.(tplObj)["Ref"].(string)
	if !ok {
		t.Errorf("%s = %v, want a Ref to a parameter", env, val)
		return
	}
	p, ok := params[ref].(tplObj)
	if !ok {
		t.Errorf("%s refers to %s, which is not a parameter", env, ref)
		return
	}
	if got := tplScalar(p["Default"]); got != want {
		t.Errorf("%s: parameter %s defaults to %q, the README says %q", env, ref, got, want)
	}
}

// tplCheckParamConstraints checks that a parameter's default passes its own
// constraints: CloudFormation would otherwise refuse a deploy that takes the
// defaults. The patterns are simple enough to mean the same in Go as in
// CloudFormation's Java regular expressions.
func tplCheckParamConstraints(t *testing.T, name string, p tplObj) {
	t.Helper()
	def := tplScalar(p["Default"])
	if pat, ok := p["AllowedPattern"].(string); ok {
		re, err := regexp.Compile(pat)
		if err != nil {
			t.Errorf("parameter %s: AllowedPattern: %v", name, err)
		} else if !re.MatchString(def) {
			t.Errorf("parameter %s: default %q does not match its AllowedPattern %s", name, def, pat)
		}
	}
	if av, ok := p["AllowedValues"].([]any); ok && !slices.Contains(av, any(def)) {
		t.Errorf("parameter %s: default %q is not among its AllowedValues %v", name, def, av)
	}
	if p["Type"] == "Number" {
		n, err := strconv.ParseFloat(def, 64)
		if err != nil {
			t.Errorf("parameter %s: Number with default %q", name, def)
		}
		if lo, ok := p["MinValue"].(float64); ok && n < lo {
			t.Errorf("parameter %s: default %v below MinValue %v", name, n, lo)
		}
		if hi, ok := p["MaxValue"].(float64); ok && n > hi {
			t.Errorf("parameter %s: default %v above MaxValue %v", name, n, hi)
		}
	}
}

func tplScalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func tplAnySlice(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

var tplSubVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// tplRefs calls fn with every name a value refers to: Ref, the resource of
// Fn::GetAtt, and the ${Name} or ${Name.Attr} variables of Fn::Sub that its
// own variable map does not define.
func tplRefs(v any, fn func(string)) {
	tplRefsUnder(v, nil, func(name string, _ []string) { fn(name) })
}

// tplRefsUnder is tplRefs that also tells, for each reference, the
// conditions it sits under: those of the Fn::If branches around it, the
// false branch as "!" + condition.
func tplRefsUnder(v any, under []string, fn func(name string, under []string)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			tplRefsUnder(e, under, fn)
		}
	case tplObj:
		if l, ok := x["Fn::If"].([]any); ok && len(x) == 1 && len(l) == 3 {
			c, _ := l[0].(string)
			tplRefsUnder(l[1], append(slices.Clip(under), c), fn)
			tplRefsUnder(l[2], append(slices.Clip(under), "!"+c), fn)
			return
		}
		for k, e := range x {
			switch k {
			case "Ref":
				if s, ok := e.(string); ok {
					fn(s, under)
					continue
				}
			case "Fn::GetAtt":
				if l, ok := e.([]any); ok && len(l) > 0 {
					if s, ok := l[0].(string); ok {
						fn(s, under)
					}
				}
			case "Fn::Sub":
				tmpl, vars := e, tplObj(nil)
				if l, ok := e.([]any); ok && len(l) == 2 {
					tmpl = l[0]
					vars, _ = l[1].(tplObj)
					tplRefsUnder(l[1], under, fn)
				}
				if s, ok := tmpl.(string); ok {
					for _, m := range tplSubVar.FindAllStringSubmatch(s, -1) {
						name, _, _ := strings.Cut(m[1], ".")
						if strings.HasPrefix(m[1], "AWS::") {
							name = m[1]
						}
						if _, local := vars[name]; !local {
							fn(name, under)
						}
					}
				}
				continue
			}
			tplRefsUnder(e, under, fn)
		}
	}
}

// tplConditionRefs calls fn with every condition named by Fn::If or a
// resource's Condition attribute.
func tplConditionRefs(v any, fn func(string)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			tplConditionRefs(e, fn)
		}
	case tplObj:
		for k, e := range x {
			if l, ok := e.([]any); ok && k == "Fn::If" && len(l) == 3 {
				if s, ok := l[0].(string); ok {
					fn(s)
				}
			}
			if s, ok := e.(string); ok && k == "Condition" {
				fn(s)
			}
			tplConditionRefs(e, fn)
		}
	}
}

// tplStatement is one IAM statement of the function's Policies, with the
// condition (if any) under which it exists.
type tplStatement struct {
	sid, effect, condition string
	actions                []string
	resources              []any
}

// tplStatements flattens the function's Policies. Only inline documents,
// possibly under Fn::If, are accepted: a managed policy or SAM policy
// template would hide what is granted on which resource.
func tplStatements(t *testing.T, policies []any, cond string) []tplStatement {
	t.Helper()
	var out []tplStatement
	for _, p := range policies {
		m, ok := p.(tplObj)
		if !ok {
			t.Errorf("policy %v: want an inline policy document", p)
			continue
		}
		if l, ok := m["Fn::If"].([]any); ok && len(l) == 3 {
			c, _ := l[0].(string)
			for i, branch := range l[1:] {
				if reflect.DeepEqual(branch, tplObj{"Ref": "AWS::NoValue"}) {
					continue
				}
				if i == 1 {
					c = "!" + c // the else branch
				}
				out = append(out, tplStatements(t, []any{branch}, c)...)
			}
			continue
		}
		stmts, ok := m["Statement"].([]any)
		if !ok {
			t.Errorf("policy %v: want an inline policy document with a Statement list", p)
			continue
		}
		for _, s := range stmts {
			sm, _ := s.(tplObj)
			st := tplStatement{condition: cond}
			st.sid, _ = sm["Sid"].(string)
			st.effect, _ = sm["Effect"].(string)
			switch a := sm["Action"].(type) {
			case string:
				st.actions = []string{a}
			case []any:
				for _, x := range a {
					s, _ := x.(string)
					st.actions = append(st.actions, s)
				}
			}
			if r, ok := sm["Resource"].([]any); ok {
				st.resources = r
			} else {
				st.resources = []any{sm["Resource"]}
			}
			out = append(out, st)
		}
	}
	return out
}
