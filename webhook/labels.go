package webhook

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/jdcloud-vm-resizer/resizer"
)

// Labels names the labels (or annotations) of an alert that carry the
// instance and its region (docs/contract.md §7.1). An empty name means its default,
// so the zero Labels is DefaultLabels without a default region.
type Labels struct {
	Instance      string // ALERT_INSTANCE_LABEL, default jdcloud_instance_id
	Region        string // ALERT_REGION_LABEL, default jdcloud_region
	DefaultRegion string // DEFAULT_REGION: the region of alerts without the region label; "" = none
}

// Default label names (docs/contract.md §7.1).
const (
	DefaultInstanceLabel = "jdcloud_instance_id"
	DefaultRegionLabel   = "jdcloud_region"
)

// The fixed label and annotation names of the sizing fields (docs/contract.md §7.1).
const (
	labelTo            = "resize_to"
	labelDirection     = "resize_direction"
	labelSteps         = "resize_steps"
	labelMaxType       = "resize_max_type"
	labelMinType       = "resize_min_type"
	labelDryRun        = "resize_dry_run"
	labelStopIfRunning = "resize_stop_if_running"
	labelForce         = "resize_force"

	// reservedPrefix is the resizer's namespace among an alert's labels: a
	// name under it that is none of the above is a typo (resize_max_typ)
	// whose silent omission would lift a bound, so it makes the item invalid.
	reservedPrefix = "resize_"
)

var knownLabels = []string{labelTo, labelDirection, labelSteps, labelMaxType, labelMinType, labelDryRun, labelStopIfRunning, labelForce}

// DefaultLabels is the contract's default mapping, without a default region.
func DefaultLabels() Labels {
	return Labels{Instance: DefaultInstanceLabel, Region: DefaultRegionLabel}
}

// labelName is Prometheus's label name syntax; Grafana's is the same.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Validate refuses a mapping no alert can satisfy as meant: a name that is
// no label name, the two names equal or inside the resizer's resize_
// namespace, a default region that is no region id. Configuration loading
// calls it so that a bad value stops the start.
func (l Labels) Validate() error {
	l = l.withDefaults()
	for _, n := range []struct{ variable, name string }{{"ALERT_INSTANCE_LABEL", l.Instance}, {"ALERT_REGION_LABEL", l.Region}} {
		if !labelName.MatchString(n.name) {
			return fmt.Errorf("%w: %s %s is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)", ErrConfig, n.variable, resizer.Quote(n.name))
		}
		if strings.HasPrefix(n.name, reservedPrefix) {
			return fmt.Errorf("%w: %s %s is inside the resizer's %s label namespace", ErrConfig, n.variable, resizer.Quote(n.name), reservedPrefix)
		}
	}
	if l.Instance == l.Region {
		return fmt.Errorf("%w: ALERT_INSTANCE_LABEL and ALERT_REGION_LABEL are both %s", ErrConfig, resizer.Quote(l.Instance))
	}
	if l.DefaultRegion != "" && !resizer.ValidRegionID(l.DefaultRegion) {
		return fmt.Errorf("%w: DEFAULT_REGION %s is not a region id (e.g. cn-north-1)", ErrConfig, resizer.Quote(l.DefaultRegion))
	}
	return nil
}

func (l Labels) withDefaults() Labels {
	if l.Instance == "" {
		l.Instance = DefaultInstanceLabel
	}
	if l.Region == "" {
		l.Region = DefaultRegionLabel
	}
	return l
}

// alertSpec maps one alert's labels and annotations to a request (docs/contract.md
// §7.1). An annotation wins over a label of the same name; a value is
// trimmed of surrounding white space (a templated annotation often ends in
// a newline), and an empty value counts as absent, as Prometheus treats an
// empty label, so an empty annotation does not hide its label.
func alertSpec(l Labels, who, requestedBy string, labels, annotations map[string]string) (spec, *resizer.Error) {
	l = l.withDefaults()
	get := func(name string) value {
		if v := strings.TrimSpace(annotations[name]); v != "" {
			return value{v: v, name: "annotation " + resizer.Quote(name)}
		}
		return value{v: strings.TrimSpace(labels[name]), name: "label " + resizer.Quote(name)}
	}
	if name := unknownReserved(l, labels, annotations); name != "" {
		return spec{}, invalid("%s: %s is not a label the resizer knows (%s); a misspelled sizing label must not be ignored",
			who, name, strings.Join(knownLabels, ", "))
	}
	s := spec{
		who:           who,
		instanceID:    get(l.Instance),
		regionID:      get(l.Region),
		defaultRegion: l.DefaultRegion,
		instanceType:  get(labelTo),
		direction:     get(labelDirection),
		steps:         get(labelSteps),
		maxType:       get(labelMaxType),
		minType:       get(labelMinType),
		dryRun:        get(labelDryRun),
		stopIfRunning: get(labelStopIfRunning),
		force:         get(labelForce),
		requestedBy:   requestedBy,
	}
	s.reason = alertReason(labels["alertname"], annotations["summary"])
	return s, nil
}

// unknownReserved returns the first (in sorted order, so that the message
// is stable) label or annotation under resize_ that is not one of ours,
// described for a message; "" when there is none.
func unknownReserved(l Labels, labels, annotations map[string]string) string {
	var found []string
	for _, m := range []struct {
		what string
		kv   map[string]string
	}{{"label", labels}, {"annotation", annotations}} {
		for k := range m.kv {
			if strings.HasPrefix(k, reservedPrefix) && !isKnown(l, k) {
				found = append(found, m.what+" "+resizer.Quote(k))
			}
		}
	}
	if len(found) == 0 {
		return ""
	}
	sort.Strings(found)
	return found[0]
}

func isKnown(l Labels, name string) bool {
	if name == l.Instance || name == l.Region {
		return true
	}
	for _, k := range knownLabels {
		if k == name {
			return true
		}
	}
	return false
}

// alertReason is `<alertname>: <summary>`, or whichever of the two is set.
func alertReason(alertname, summary string) string {
	alertname, summary = strings.TrimSpace(alertname), strings.TrimSpace(summary)
	switch {
	case alertname != "" && summary != "":
		return alertname + ": " + summary
	case alertname != "":
		return alertname
	}
	return summary
}
