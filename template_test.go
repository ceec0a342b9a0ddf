package resizer_test

// The SAM template and the sample events are part of the product: these
// tests hold the template to the official SAM schema (vendored in
// internal/samschema), to the README's configuration table and CONTRACT §4,
// and the samples to the CloudEvents and trigger shapes the function reads.
// Helpers carry a tpl/sample prefix: the package is shared with other tests.

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/samschema"
)

type tplObj = map[string]any

func tplJSON(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := samschema.ToJSON(src)
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

// tplAt walks mapping keys and fails the test naming the first missing one.
func tplAt(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		m, ok := v.(tplObj)
		if !ok {
			t.Fatalf("%s is %T, not a mapping", strings.Join(path[:i], "."), v)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s is missing", strings.Join(path[:i+1], "."))
		}
	}
	return v
}

// tplSame compares a converted template value with the JSON it should be.
func tplSame(t *testing.T, what string, got any, wantJSON string) {
	t.Helper()
	var want any
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		t.Fatalf("bad expectation %s: %v", wantJSON, err)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		t.Errorf("%s = %s, want %s", what, g, wantJSON)
	}
}

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
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
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
		mk, err := os.ReadFile("Makefile")
		if err != nil {
			t.Fatal(err)
		}
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
		tplConditionRefs(doc["Resources"], func(name string) {
			if _, ok := conds[name]; !ok {
				t.Errorf("Resources use condition %q, which Conditions does not define", name)
			}
		})
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

	t.Run("function URL", func(t *testing.T) {
		tplSame(t, "FunctionUrlConfig", tplAt(t, props, "FunctionUrlConfig"), `{"AuthType": "NONE"}`)
	})

	t.Run("SQS trigger", func(t *testing.T) {
		tplSame(t, "Events.Queue", tplAt(t, props, "Events", "Queue"), `{"Type": "SQS", "Properties": {
			"Queue": {"Fn::GetAtt": ["ResizeQueue", "Arn"]},
			"BatchSize": 10,
			"FunctionResponseTypes": ["ReportBatchItemFailures"]}}`)
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
			"Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ResizeFunctionRequestRule", "Arn"]}}}}]`)
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
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			tplRefs(e, fn)
		}
	case tplObj:
		for k, e := range x {
			switch k {
			case "Ref":
				if s, ok := e.(string); ok {
					fn(s)
					continue
				}
			case "Fn::GetAtt":
				if l, ok := e.([]any); ok && len(l) > 0 {
					if s, ok := l[0].(string); ok {
						fn(s)
					}
				}
			case "Fn::Sub":
				tmpl, vars := e, tplObj(nil)
				if l, ok := e.([]any); ok && len(l) == 2 {
					tmpl = l[0]
					vars, _ = l[1].(tplObj)
					tplRefs(l[1], fn)
				}
				if s, ok := tmpl.(string); ok {
					for _, m := range tplSubVar.FindAllStringSubmatch(s, -1) {
						name, _, _ := strings.Cut(m[1], ".")
						if strings.HasPrefix(m[1], "AWS::") {
							name = m[1]
						}
						if _, local := vars[name]; !local {
							fn(name)
						}
					}
				}
				continue
			}
			tplRefs(e, fn)
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

// Sample events (events/, for sam local invoke -e and make demo).

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
}

// sampleWebhookSecret is the demo's WEBHOOK_SECRET, which the HTTP samples
// are signed with.
const sampleWebhookSecret = "demo-webhook-secret"

// sampleFields are the request fields of CONTRACT §3. Unknown fields are
// refused here (the function ignores them) so that a misspelt flag in a
// sample cannot go unnoticed.
var sampleFields = []string{"regionId", "instanceId", "instanceType", "fromInstanceType", "force", "stopIfRunning", "dryRun", "reason", "requestedBy"}

// sampleRequest is request data as CONTRACT §3 defines it.
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
	sampleSourceRE   = regexp.MustCompile(`^[a-z0-9-]+/[a-z0-9-]+$`)
)

// sampleViolations lists the CONTRACT §3 rules a request breaks.
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
	raw, err := os.ReadFile(filepath.Join("jdcloud", "jdcloudsim", "fixture.json"))
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
	entries, err := os.ReadDir("events")
	if err != nil {
		t.Fatal(err)
	}
	instances, types := sampleFixture(t)
	seen := map[string]bool{}
	ids := map[string]string{} // CloudEvent id → where it appeared
	for _, e := range entries {
		name := e.Name()
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := sampleFiles[name]
			if !ok {
				t.Fatalf("events/%s is not a known sample: add it to sampleFiles with what it requests", name)
			}
			raw, err := os.ReadFile(filepath.Join("events", name))
			if err != nil {
				t.Fatal(err)
			}
			var payload tplObj
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
func sampleCloudEvents(t *testing.T, name string, raw []byte, p tplObj) []event.Event {
	t.Helper()
	records, _ := p["Records"].([]any)
	var first tplObj
	if len(records) > 0 {
		first, _ = records[0].(tplObj)
	}
	rc, _ := p["requestContext"].(tplObj)
	switch {
	case first["eventSource"] == "aws:sqs":
		var out []event.Event
		msgIDs := map[string]bool{}
		for i, r := range records {
			where := fmt.Sprintf("Records[%d]", i)
			if tplAt(t, r, "eventSource") != "aws:sqs" {
				t.Errorf("%s: eventSource %v, want aws:sqs", where, tplAt(t, r, "eventSource"))
			}
			id, _ := tplAt(t, r, "messageId").(string)
			if id == "" || msgIDs[id] {
				t.Errorf("%s: messageId %q empty or repeated (batchItemFailures name records by it)", where, id)
			}
			msgIDs[id] = true
			body, _ := tplAt(t, r, "body").(string)
			sum := md5.Sum([]byte(body))
			if got := tplAt(t, r, "md5OfBody"); got != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: md5OfBody %v, body's MD5 is %x", where, got, sum)
			}
			out = append(out, sampleStructured(t, where, []byte(body)))
		}
		return out
	case len(records) > 0:
		var out []event.Event
		for i, r := range records {
			where := fmt.Sprintf("Records[%d]", i)
			if rec, _ := r.(tplObj); rec["EventSource"] != "aws:sns" {
				t.Fatalf("%s: neither an SQS nor an SNS record", where)
			}
			if tplAt(t, r, "Sns", "Type") != "Notification" {
				t.Errorf("%s: Sns.Type %v, want Notification", where, tplAt(t, r, "Sns", "Type"))
			}
			msg, _ := tplAt(t, r, "Sns", "Message").(string)
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
	var top tplObj
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
func sampleHTTP(t *testing.T, name string, p tplObj) []event.Event {
	t.Helper()
	tplSame(t, "routeKey", p["routeKey"], `"$default"`)
	tplSame(t, "rawPath", p["rawPath"], `"/"`)
	tplSame(t, "requestContext.http.method", tplAt(t, p, "requestContext", "http", "method"), `"POST"`)
	headers := map[string]string{}
	for k, v := range tplAt(t, p, "headers").(tplObj) {
		if k != strings.ToLower(k) {
			t.Errorf("header %q: API Gateway and Function URLs deliver header names in lower case", k)
		}
		s, ok := v.(string)
		if !ok {
			t.Errorf("header %q is %T, want a string", k, v)
		}
		headers[k] = s
	}
	bodyText, _ := tplAt(t, p, "body").(string)
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
	// The signature covers the bytes as sent, after base64 decoding.
	mac := hmac.New(sha256.New, []byte(sampleWebhookSecret))
	mac.Write(body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); headers["x-hub-signature-256"] != want {
		t.Errorf("x-hub-signature-256 = %q is stale for this body; want %q", headers["x-hub-signature-256"], want)
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
	attrs := tplObj{"datacontenttype": mediaType, "data": json.RawMessage(body)}
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
// detail-type and time from the envelope (CONTRACT §4).
func sampleEventBridge(t *testing.T, p tplObj) event.Event {
	t.Helper()
	detail := tplAt(t, p, "detail").(tplObj)
	if _, whole := detail["specversion"]; whole {
		raw, _ := json.Marshal(detail)
		return sampleStructured(t, "detail", raw)
	}
	if p["detail-type"] != resizer.TypeRequested {
		t.Errorf("detail-type %v, want %s (the rule's pattern)", p["detail-type"], resizer.TypeRequested)
	}
	raw, err := json.Marshal(tplObj{
		"specversion": "1.0", "id": p["id"], "source": p["source"], "type": p["detail-type"],
		"time": p["time"], "datacontenttype": "application/json", "data": detail,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sampleStructured(t, "envelope", raw)
}

// sampleCheckRequest checks one request's data against CONTRACT §3, the
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
			t.Errorf("%s: data has %q, which is not a request field of CONTRACT §3", where, k)
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
		t.Errorf("%s: breaks CONTRACT §3 on %v", where, violations)
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
