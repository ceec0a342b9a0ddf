package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// EMFUnits are the units the Embedded Metric Format accepts (CloudWatch's
// StandardUnit).
var EMFUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// EMFDoc is one checked Embedded Metric Format document.
type EMFDoc struct {
	// Root is every root member, _aws included, numbers as json.Number.
	Root map[string]any
	// Timestamp is _aws.Timestamp, milliseconds since the epoch.
	Timestamp int64
	// Directives are _aws.CloudWatchMetrics.
	Directives []EMFDirective
}

// EMFDirective is one MetricDirective.
type EMFDirective struct {
	Namespace  string
	Dimensions [][]string
	Metrics    []EMFMetric
}

// EMFMetric is one MetricDefinition.
type EMFMetric struct{ Name, Unit string }

// Metric returns the value of the root member name as a float64.
func (d EMFDoc) Metric(t testing.TB, name string) float64 {
	t.Helper()
	n, ok := d.Root[name].(json.Number)
	if !ok {
		t.Fatalf("EMF member %s = %v, not a number", name, d.Root[name])
	}
	f, _ := n.Float64()
	return f
}

// Dimension returns the value of the root member name, which must be a string.
func (d EMFDoc) Dimension(t testing.TB, name string) string {
	t.Helper()
	s, ok := d.Root[name].(string)
	if !ok {
		t.Fatalf("EMF member %s = %v, not a string", name, d.Root[name])
	}
	return s
}

// CheckEMF parses one log line as an Embedded Metric Format document and
// holds it to the specification's rules
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// one JSON object and nothing around it, under 256 KiB (a log event's
// limit); _aws with an integer Timestamp in milliseconds and a non-empty
// CloudWatchMetrics array; each directive with a Namespace of 1 to 255
// characters, at most 100 metrics whose names are unique and root members
// holding a number (or an array of at most 100 numbers), each Unit one of
// EMFUnits, and dimension sets of at most 30 names, each a root member
// holding a non-empty string of at most 1024 characters; no member is both
// a dimension and a metric.
func CheckEMF(t testing.TB, line []byte) EMFDoc {
	t.Helper()
	if err := ValidateEMF(line); err != nil {
		t.Fatalf("not a valid EMF document: %v\n%s", err, line)
	}
	doc, _ := parseEMF(line)
	return doc
}

// IsEMF reports whether a log line is meant as an EMF document: a JSON
// object with an _aws member.
func IsEMF(line []byte) bool {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	var root map[string]json.RawMessage
	if json.Unmarshal(line, &root) != nil {
		return false
	}
	_, ok := root["_aws"]
	return ok
}

func parseEMF(line []byte) (EMFDoc, error) {
	var doc EMFDoc
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&doc.Root); err != nil {
		return doc, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return doc, fmt.Errorf("data after the JSON object")
	}
	var meta struct {
		AWS *struct {
			Timestamp         *json.Number `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  *string    `json:"Namespace"`
				Dimensions [][]string `json:"Dimensions"`
				Metrics    []struct {
					Name *string `json:"Name"`
					Unit *string `json:"Unit"`
				} `json:"Metrics"`
			} `json:"CloudWatchMetrics"`
		} `json:"_aws"`
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&meta); err != nil {
		return doc, fmt.Errorf("_aws is not shaped as the specification says: %w", err)
	}
	if meta.AWS == nil {
		return doc, fmt.Errorf("no _aws member")
	}
	if meta.AWS.Timestamp == nil {
		return doc, fmt.Errorf("no _aws.Timestamp")
	}
	// json.Number also takes a string holding digits; the format wants a number.
	if a, _ := doc.Root["_aws"].(map[string]any); a != nil {
		if _, ok := a["Timestamp"].(json.Number); !ok {
			return doc, fmt.Errorf("_aws.Timestamp %v is not a JSON number", a["Timestamp"])
		}
	}
	ts, err := meta.AWS.Timestamp.Int64()
	if err != nil {
		return doc, fmt.Errorf("_aws.Timestamp %s is not an integer", *meta.AWS.Timestamp)
	}
	doc.Timestamp = ts
	for _, m := range meta.AWS.CloudWatchMetrics {
		var dir EMFDirective
		if m.Namespace == nil {
			return doc, fmt.Errorf("a directive has no Namespace")
		}
		if m.Dimensions == nil {
			return doc, fmt.Errorf("a directive has no Dimensions (it may be [], not absent or null)")
		}
		dir.Namespace, dir.Dimensions = *m.Namespace, m.Dimensions
		for _, md := range m.Metrics {
			if md.Name == nil {
				return doc, fmt.Errorf("a metric definition has no Name")
			}
			u := ""
			if md.Unit != nil {
				u = *md.Unit
				if u == "" {
					return doc, fmt.Errorf("metric %s has an empty Unit", *md.Name)
				}
			}
			dir.Metrics = append(dir.Metrics, EMFMetric{Name: *md.Name, Unit: u})
		}
		doc.Directives = append(doc.Directives, dir)
	}
	return doc, nil
}

// ValidateEMF is CheckEMF's judgement: nil when line keeps every rule.
func ValidateEMF(line []byte) error {
	if len(line) > 256<<10 {
		return fmt.Errorf("%d bytes, over a log event's 256 KiB", len(line))
	}
	if bytes.ContainsAny(bytes.TrimRight(line, "\n"), "\n") {
		return fmt.Errorf("more than one line")
	}
	doc, err := parseEMF(line)
	if err != nil {
		return err
	}
	// Milliseconds: 2001-09-09 to 2286 is 13 digits. Seconds or
	// nanoseconds would be off by a factor of 1000 or more.
	if doc.Timestamp < 1e12 || doc.Timestamp >= 1e13 {
		return fmt.Errorf("_aws.Timestamp %d is not milliseconds since the epoch", doc.Timestamp)
	}
	if len(doc.Directives) == 0 {
		return fmt.Errorf("_aws.CloudWatchMetrics is empty")
	}
	for _, dir := range doc.Directives {
		if n := len([]rune(dir.Namespace)); n < 1 || n > 255 {
			return fmt.Errorf("namespace %q: want 1 to 255 characters", dir.Namespace)
		}
		if strings.HasPrefix(dir.Namespace, "AWS/") {
			return fmt.Errorf("namespace %q: AWS/ is reserved", dir.Namespace)
		}
		if len(dir.Metrics) == 0 || len(dir.Metrics) > 100 {
			return fmt.Errorf("%d metric definitions, want 1 to 100", len(dir.Metrics))
		}
		var names []string
		for _, m := range dir.Metrics {
			if m.Name == "" || len([]rune(m.Name)) > 1024 {
				return fmt.Errorf("metric name %q: want 1 to 1024 characters", m.Name)
			}
			if slices.Contains(names, m.Name) {
				return fmt.Errorf("metric %s defined twice", m.Name)
			}
			names = append(names, m.Name)
			if m.Unit != "" && !slices.Contains(EMFUnits, m.Unit) {
				return fmt.Errorf("metric %s: unit %q is not a CloudWatch unit", m.Name, m.Unit)
			}
			switch v := doc.Root[m.Name].(type) {
			case json.Number:
			case []any:
				if len(v) == 0 || len(v) > 100 {
					return fmt.Errorf("metric %s: %d values, want 1 to 100", m.Name, len(v))
				}
				for _, x := range v {
					if _, ok := x.(json.Number); !ok {
						return fmt.Errorf("metric %s: value %v is not a number", m.Name, x)
					}
				}
			case nil:
				return fmt.Errorf("metric %s is not a root member", m.Name)
			default:
				return fmt.Errorf("metric %s = %v, not a number", m.Name, v)
			}
		}
		for _, set := range dir.Dimensions {
			if len(set) > 30 {
				return fmt.Errorf("a dimension set of %d, over 30", len(set))
			}
			for _, name := range set {
				if slices.Contains(names, name) {
					return fmt.Errorf("%s is both a dimension and a metric", name)
				}
				v, ok := doc.Root[name]
				if !ok {
					return fmt.Errorf("dimension %s is not a root member", name)
				}
				s, ok := v.(string)
				if !ok {
					return fmt.Errorf("dimension %s = %v, not a string", name, v)
				}
				if strings.TrimSpace(s) == "" || len([]rune(s)) > 1024 {
					return fmt.Errorf("dimension %s = %q: want 1 to 1024 characters, not only white space", name, s)
				}
			}
		}
	}
	return nil
}

// EMFLines returns every line of logs that is meant as an EMF document.
func EMFLines(logs string) [][]byte {
	var out [][]byte
	for line := range strings.SplitSeq(logs, "\n") {
		if IsEMF([]byte(line)) {
			out = append(out, []byte(line))
		}
	}
	return out
}
