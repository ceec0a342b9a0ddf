package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// DefaultNamespace is the CloudWatch namespace when METRICS_NAMESPACE is
// unset; Off (its value "off") turns metrics off.
const (
	DefaultNamespace = "JDCloudVMResizer"
	Off              = "off"
)

// The EMF metric and dimension names (docs/contract.md §10), which
// template.yaml's dashboard and alarms read.
const (
	MetricOutcomes         = "Outcomes"
	MetricResized          = "Resized"
	MetricDuration         = "Duration"
	MetricJDCloudCalls     = "JDCloudCalls"
	MetricJDCloudThrottled = "JDCloudThrottled"

	DimensionOutcome = "Outcome"
	DimensionReason  = "Reason"
)

// CheckNamespace accepts what template.yaml's MetricsNamespace parameter
// accepts — CloudWatch's namespace characters (letters, digits, space and
// . _ / # : -), 1 to 255 of them, not starting with a space — and refuses
// the AWS/ prefix, which CloudWatch keeps for AWS's own namespaces.
func CheckNamespace(ns string) error {
	if ns == "" || len(ns) > 255 {
		return fmt.Errorf("want 1 to 255 characters, got %d", len(ns))
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("._/#:-", c) >= 0 || (c == ' ' && i > 0)
		if !ok {
			return fmt.Errorf("want letters, digits, space and . _ / # : - (not starting with a space), got %s", resizer.Quote(ns))
		}
	}
	if strings.HasPrefix(ns, "AWS/") {
		return fmt.Errorf("the AWS/ prefix is reserved for AWS's own metrics, got %s", resizer.Quote(ns))
	}
	return nil
}

// EMF is the Observer used under Lambda: for every delivery it writes one
// CloudWatch Embedded Metric Format document, on a line of its own, with a
// single Write, so that it never interleaves with the logger's lines
// (concurrent Writes to one *os.File are serialised by the runtime). Lambda
// sends the function's stdout to CloudWatch Logs, which extracts the
// metrics. The zero value is not usable: set Out and Namespace.
type EMF struct {
	Out       io.Writer
	Namespace string
	// Now stamps each document; nil is time.Now.
	Now func() time.Time
}

var _ resizer.Observer = (*EMF)(nil)

// emfDoc is one document: _aws first, then the dimensions, then the
// metrics, in the order the directive names them.
type emfDoc struct {
	AWS              emfMetadata `json:"_aws"`
	Outcome          string      `json:"Outcome"`
	Reason           string      `json:"Reason"`
	Outcomes         int         `json:"Outcomes"`
	Resized          int         `json:"Resized"`
	Duration         float64     `json:"Duration"`
	JDCloudCalls     int         `json:"JDCloudCalls"`
	JDCloudThrottled int         `json:"JDCloudThrottled"`
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Laid out by the linker: no init-time cost.
var (
	emfDimensions = [][]string{{DimensionOutcome}, {DimensionOutcome, DimensionReason}}
	emfMetrics    = []emfMetric{
		{MetricOutcomes, "Count"},
		{MetricResized, "Count"},
		{MetricDuration, "Milliseconds"},
		{MetricJDCloudCalls, "Count"},
		{MetricJDCloudThrottled, "Count"},
	}
)

// Observe writes o's document. Resized is 1 when the delivery changed the
// instance's type (also when it then failed); a replay changed nothing, so
// its Resized is 0 whatever the stored outcome says. A failed write is
// dropped: metrics never fail a delivery.
func (m *EMF) Observe(o resizer.Observation) {
	if m == nil || m.Out == nil || o.Outcome == nil {
		return
	}
	if doc := m.Document(o); doc != nil {
		_, _ = m.Out.Write(doc)
	}
}

// Document is the line Observe writes for o, newline included (nil only if
// encoding failed, which strings, ints and a finite float cannot make it).
func (m *EMF) Document(o resizer.Observation) []byte {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	outcome, reason := Labels(o.Outcome)
	d := emfDoc{
		AWS: emfMetadata{
			Timestamp: now().UnixMilli(),
			CloudWatchMetrics: []emfDirective{{
				Namespace: m.Namespace, Dimensions: emfDimensions, Metrics: emfMetrics,
			}},
		},
		Outcome:          outcome,
		Reason:           reason,
		Outcomes:         1,
		Duration:         float64(o.Duration.Microseconds()) / 1000,
		JDCloudCalls:     o.JDCalls,
		JDCloudThrottled: o.JDThrottled,
	}
	if o.Outcome.Data.Changed && !o.Outcome.Replay {
		d.Resized = 1
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil
	}
	return append(b, '\n')
}
