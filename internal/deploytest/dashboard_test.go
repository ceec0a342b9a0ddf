package deploytest

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Placeholder values for the dashboard body's Fn::Sub variables: what
// CloudFormation would put there, recognisable in the parsed body.
var tplDashboardVars = map[string]string{
	"AWS::Region":                     "eu-west-1",
	"MetricsNamespace":                "NS",
	"ResizeQueue.QueueName":           "resize-queue",
	"ResizeDeadLetterQueue.QueueName": "resize-dlq",
	"EventDeadLetterQueue.QueueName":  "event-dlq",
}

// tplWidget is what the tests and the picture need of a dashboard widget.
type tplWidget struct {
	Type                string `json:"type"`
	X, Y, Width, Height int
	Properties          struct {
		Title   string  `json:"title"`
		Region  string  `json:"region"`
		Stat    string  `json:"stat"`
		Metrics [][]any `json:"metrics"`
	} `json:"properties"`
}

// tplDashboardBody returns the dashboard's widgets as CloudFormation would
// deliver the body, with tplDashboardVars substituted; every variable must
// be one of them.
func tplDashboardBody(t *testing.T, doc tplObj) []tplWidget {
	t.Helper()
	sub, ok := tplAt(t, doc, "Resources", "ResizeDashboard", "Properties", "DashboardBody", "Fn::Sub").(string)
	if !ok {
		t.Fatal("ResizeDashboard's DashboardBody must be a !Sub of one string, so its names resolve")
	}
	body := tplSubVar.ReplaceAllStringFunc(sub, func(m string) string {
		v, ok := tplDashboardVars[m[2:len(m)-1]]
		if !ok {
			t.Errorf("DashboardBody uses %s; the dashboard knows only %v", m, slices.Sorted(maps.Keys(tplDashboardVars)))
		}
		return v
	})
	var d struct {
		Widgets []tplWidget `json:"widgets"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("DashboardBody is not JSON once substituted: %v", err)
	}
	return d.Widgets
}

// tplSeries is one line of a metric widget: a metric or an expression.
type tplSeries struct {
	namespace, metric string
	dims              map[string]string
	expression, id    string
	options           tplObj
}

func tplWidgetSeries(t *testing.T, w tplWidget) []tplSeries {
	t.Helper()
	var out []tplSeries
	for _, m := range w.Properties.Metrics {
		var s tplSeries
		if len(m) > 0 {
			s.options, _ = m[len(m)-1].(tplObj)
		}
		if s.options != nil {
			m = m[:len(m)-1]
		}
		if e, ok := s.options["expression"].(string); ok {
			s.expression = e
			s.id, _ = s.options["id"].(string)
			if len(m) != 0 {
				t.Errorf("%s: an expression row carries a metric too: %v", w.Properties.Title, m)
			}
			out = append(out, s)
			continue
		}
		if len(m) < 2 || len(m)%2 != 0 {
			t.Errorf("%s: metric %v is not [namespace, name, dimension, value, …]", w.Properties.Title, m)
			continue
		}
		s.namespace, _ = m[0].(string)
		s.metric, _ = m[1].(string)
		s.dims = map[string]string{}
		for i := 2; i < len(m); i += 2 {
			k, _ := m[i].(string)
			v, _ := m[i+1].(string)
			s.dims[k] = v
		}
		out = append(out, s)
	}
	return out
}

// What the function emits (docs/contract.md §10).
var (
	tplMetricNames = []string{"Outcomes", "Resized", "Duration", "JDCloudCalls", "JDCloudThrottled"}
	tplOutcomes    = []string{"succeeded", "failed", "pending"}
	// SEARCH('{"<namespace>",<dimensions>} MetricName="<metric>"', '<stat>', <period>)
	tplSearchRE = regexp.MustCompile(`SEARCH\('\{"([^"]+)",([A-Za-z,]+)\} MetricName="([A-Za-z]+)"', '([a-zA-Z0-9.]+)', ([0-9]+)\)`)
)

func TestDashboard(t *testing.T) {
	doc := tplDoc(t)
	dash := tplAt(t, doc, "Resources", "ResizeDashboard").(tplObj)
	tplSame(t, "ResizeDashboard.Type", dash["Type"], `"AWS::CloudWatch::Dashboard"`)
	// METRICS_NAMESPACE=off writes no metrics: no dashboard to show them.
	tplSame(t, "ResizeDashboard.Condition", dash["Condition"], `"HasMetrics"`)
	tplSame(t, "Conditions.HasMetrics", tplAt(t, doc, "Conditions", "HasMetrics"),
		`{"Fn::Not": [{"Fn::Equals": [{"Ref": "MetricsNamespace"}, "off"]}]}`)
	tplSame(t, "MetricsNamespace default", tplAt(t, doc, "Parameters", "MetricsNamespace", "Default"), `"JDCloudVMResizer"`)
	tplSame(t, "Outputs.DashboardName", tplAt(t, doc, "Outputs", "DashboardName"), `{
		"Condition": "HasMetrics",
		"Description": "The CloudWatch dashboard of outcomes, resizes, durations, JD Cloud calls and queues.",
		"Value": {"Ref": "ResizeDashboard"}}`)

	widgets := tplDashboardBody(t, doc)
	byTitle := map[string]tplWidget{}
	for i, w := range widgets {
		title := w.Properties.Title
		if title == "" {
			t.Errorf("widget %d has no title", i)
		}
		if _, dup := byTitle[title]; dup {
			t.Errorf("two widgets are titled %q", title)
		}
		byTitle[title] = w
		if w.Type != "metric" {
			t.Errorf("%s: type %q, want metric", title, w.Type)
		}
		if w.X < 0 || w.Y < 0 || w.Width < 1 || w.Height < 1 || w.X+w.Width > 24 {
			t.Errorf("%s: x %d, y %d, %d×%d does not fit the 24-column grid", title, w.X, w.Y, w.Width, w.Height)
		}
		if w.Properties.Region != tplDashboardVars["AWS::Region"] {
			t.Errorf("%s: region %q, want ${AWS::Region}", title, w.Properties.Region)
		}
		for _, o := range widgets[:i] {
			if w.X < o.X+o.Width && o.X < w.X+w.Width && w.Y < o.Y+o.Height && o.Y < w.Y+w.Height {
				t.Errorf("%s overlaps %s", title, o.Properties.Title)
			}
		}
	}

	// Every series reads what the function emits, as it emits it.
	seen := map[string]bool{}
	ids := map[string]bool{}
	for _, w := range widgets {
		title := w.Properties.Title
		for _, s := range tplWidgetSeries(t, w) {
			if s.expression != "" {
				if !regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`).MatchString(s.id) || ids[title+"/"+s.id] {
					t.Errorf("%s: expression id %q must be unique and start with a lower-case letter", title, s.id)
				}
				ids[title+"/"+s.id] = true
				searches := tplSearchRE.FindAllStringSubmatch(s.expression, -1)
				if len(searches) == 0 {
					t.Errorf("%s: expression %q has no SEARCH of the function's namespace", title, s.expression)
				}
				for _, m := range searches {
					if m[1] != tplDashboardVars["MetricsNamespace"] {
						t.Errorf("%s: SEARCH of namespace %q, want ${MetricsNamespace}", title, m[1])
					}
					if dims := strings.Split(m[2], ","); !slices.Equal(dims, []string{"Outcome"}) && !slices.Equal(dims, []string{"Outcome", "Reason"}) {
						t.Errorf("%s: SEARCH over dimensions %v; the function emits [Outcome] and [Outcome, Reason]", title, dims)
					}
					if !slices.Contains(tplMetricNames, m[3]) {
						t.Errorf("%s: SEARCH for metric %q, which the function does not emit", title, m[3])
					}
					seen[m[3]] = true
				}
				continue
			}
			if s.namespace == "AWS/SQS" {
				continue // checked below
			}
			if s.namespace != tplDashboardVars["MetricsNamespace"] {
				t.Errorf("%s: metric %s in namespace %q, want ${MetricsNamespace}", title, s.metric, s.namespace)
			}
			if !slices.Contains(tplMetricNames, s.metric) {
				t.Errorf("%s: metric %q, which the function does not emit", title, s.metric)
			}
			seen[s.metric] = true
			if k := slices.Sorted(maps.Keys(s.dims)); !slices.Equal(k, []string{"Outcome"}) && !slices.Equal(k, []string{"Outcome", "Reason"}) {
				t.Errorf("%s: %s by %v; the function emits [Outcome] and [Outcome, Reason]", title, s.metric, k)
			}
			if !slices.Contains(tplOutcomes, s.dims["Outcome"]) {
				t.Errorf("%s: %s for Outcome %q, not one of %v", title, s.metric, s.dims["Outcome"], tplOutcomes)
			}
		}
	}
	for _, m := range tplMetricNames {
		if !seen[m] {
			t.Errorf("no widget shows %s", m)
		}
	}

	// The widgets the brief asks for, each showing its subject.
	want := map[string]func(t *testing.T, w tplWidget, series []tplSeries){
		"Outcomes by reason": func(t *testing.T, w tplWidget, series []tplSeries) {
			if len(series) != 1 || !strings.Contains(series[0].expression, `{"NS",Outcome,Reason} MetricName="Outcomes"`) {
				t.Errorf("want one SEARCH of Outcomes over {namespace,Outcome,Reason}, got %+v", series)
			}
		},
		"Resizes": func(t *testing.T, w tplWidget, series []tplSeries) {
			for _, s := range series {
				if s.metric != "Resized" {
					t.Errorf("shows %s", s.metric)
				}
			}
		},
		"Delivery duration p50 / p99 (ms)": func(t *testing.T, w tplWidget, series []tplSeries) {
			stats := map[string]bool{}
			for _, s := range series {
				if s.metric != "Duration" {
					t.Errorf("shows %s", s.metric)
				}
				st, _ := s.options["stat"].(string)
				stats[st] = true
			}
			if !stats["p50"] || !stats["p99"] {
				t.Errorf("stats %v, want p50 and p99", slices.Sorted(maps.Keys(stats)))
			}
		},
		"JD Cloud calls and throttling": func(t *testing.T, w tplWidget, series []tplSeries) {
			var all string
			for _, s := range series {
				all += s.expression
			}
			for _, m := range []string{`MetricName="JDCloudCalls"`, `MetricName="JDCloudThrottled"`} {
				if !strings.Contains(all, m) {
					t.Errorf("no series of %s", m)
				}
			}
		},
		"Queue depths": func(t *testing.T, w tplWidget, series []tplSeries) {
			var queues []string
			for _, s := range series {
				if s.namespace != "AWS/SQS" || s.metric != "ApproximateNumberOfMessagesVisible" {
					t.Errorf("shows %s %s", s.namespace, s.metric)
				}
				queues = append(queues, s.dims["QueueName"])
			}
			if !slices.Equal(queues, []string{"resize-queue", "resize-dlq", "event-dlq"}) {
				t.Errorf("queues %v, want ResizeQueue, ResizeDeadLetterQueue, EventDeadLetterQueue", queues)
			}
		},
	}
	for title, check := range want {
		w, ok := byTitle[title]
		if !ok {
			t.Errorf("no widget titled %q", title)
			continue
		}
		t.Run(title, func(t *testing.T) { check(t, w, tplWidgetSeries(t, w)) })
	}
	if len(widgets) != len(want) {
		t.Errorf("%d widgets, want the %d checked here", len(widgets), len(want))
	}
}

func TestAlarms(t *testing.T) {
	doc := tplDoc(t)
	res := tplAt(t, doc, "Resources").(tplObj)
	actions := `{"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}`
	tplSame(t, "Conditions.HasAlarmTopic", tplAt(t, doc, "Conditions", "HasAlarmTopic"),
		`{"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}`)
	tplSame(t, "AlarmTopicArn default", tplAt(t, doc, "Parameters", "AlarmTopicArn", "Default"), `""`)
	for _, c := range []struct {
		condition string
		values    map[string]string
		want      bool
	}{
		{"HasMetrics", nil, true},
		{"HasMetrics", map[string]string{"MetricsNamespace": "off"}, false},
		{"HasAlarmTopic", nil, false},
		{"HasAlarmTopic", map[string]string{"AlarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops"}, true},
	} {
		if got := tplCondition(t, doc, c.condition, c.values); got != c.want {
			t.Errorf("%s with %v = %v, want %v", c.condition, c.values, got, c.want)
		}
	}

	// The SQS dead-letter queues: any message in either.
	for name, queue := range map[string]string{
		"ResizeDeadLetterAlarm": "ResizeDeadLetterQueue",
		"EventDeadLetterAlarm":  "EventDeadLetterQueue",
	} {
		a := tplAt(t, res, name).(tplObj)
		tplSame(t, name+".Type", a["Type"], `"AWS::CloudWatch::Alarm"`)
		if c, ok := a["Condition"]; ok {
			t.Errorf("%s is under condition %v; dead letters matter whatever else is configured", name, c)
		}
		p := tplAt(t, a, "Properties").(tplObj)
		if d, _ := p["AlarmDescription"].(string); !strings.Contains(d, queue) {
			t.Errorf("%s: AlarmDescription %q should name %s", name, d, queue)
		}
		delete(p, "AlarmDescription")
		tplSame(t, name, p, fmt.Sprintf(`{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
			"Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [%q, "QueueName"]}}],
			"Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1,
			"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"TreatMissingData": "notBreaching",
			"AlarmActions": %s, "OKActions": %s}`, queue, actions, actions))
	}

	// Failed outcomes that point at JD Cloud or the fleet (docs/contract.md §10):
	// Reason is the error reason, else the error code.
	for name, reason := range map[string]string{
		"FailedApiErrorAlarm":    "api_error",
		"FailedTimeoutAlarm":     "timeout",
		"FailedCircuitOpenAlarm": "circuit_open",
	} {
		a := tplAt(t, res, name).(tplObj)
		tplSame(t, name+".Type", a["Type"], `"AWS::CloudWatch::Alarm"`)
		tplSame(t, name+".Condition", a["Condition"], `"HasMetrics"`)
		p := tplAt(t, a, "Properties").(tplObj)
		if d, _ := p["AlarmDescription"].(string); !strings.Contains(d, reason) {
			t.Errorf("%s: AlarmDescription %q should name %s", name, d, reason)
		}
		delete(p, "AlarmDescription")
		tplSame(t, name, p, fmt.Sprintf(`{
			"Namespace": {"Ref": "MetricsNamespace"}, "MetricName": "Outcomes",
			"Dimensions": [{"Name": "Outcome", "Value": "failed"}, {"Name": "Reason", "Value": %q}],
			"Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1,
			"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"TreatMissingData": "notBreaching",
			"AlarmActions": %s, "OKActions": %s}`, reason, actions, actions))
	}

	// No alarm beyond those: each one here is documented and tested.
	var alarms []string
	for name, r := range res {
		if tplAt(t, r, "Type") == "AWS::CloudWatch::Alarm" {
			alarms = append(alarms, name)
		}
	}
	slices.Sort(alarms)
	tplSame(t, "alarms", tplAnySlice(alarms),
		`["EventDeadLetterAlarm","FailedApiErrorAlarm","FailedCircuitOpenAlarm","FailedTimeoutAlarm","ResizeDeadLetterAlarm"]`)
}
