package metrics_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/metrics"
)

// writes records every Write call apart.
type writes struct {
	mu    sync.Mutex
	calls [][]byte
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, bytes.Clone(p))
	return len(p), nil
}

var emfNow = time.Date(2030, 5, 17, 3, 4, 5, 678_000_000, time.UTC)

// TestEMFDocuments: each kind of delivery writes one document, in one
// Write, on one line, that keeps the specification's rules and says exactly
// what §10 says, and nothing that names an instance or a request.
func TestEMFDocuments(t *testing.T) {
	tests := []struct {
		name             string
		obs              resizer.Observation
		outcome, reason  string
		resized          float64
		duration         float64
		calls, throttled float64
	}{
		{"succeeded", observation(succeededResized, 4321*time.Microsecond+500*time.Nanosecond, 4, 0), "succeeded", "resized", 1, 4.321, 4, 0},
		{"succeeded unchanged", observation(succeededNoop, time.Millisecond, 1, 0), "succeeded", "unchanged", 0, 1, 1, 0},
		{"failed", observation(failedPolicy, 2*time.Second, 3, 2), "failed", "circuit_open", 0, 2000, 3, 2},
		{"failed by code", observation(failedAPI, 0, 7, 3), "failed", "api_error", 0, 0, 7, 3},
		{"failed after the type changed", observation(failedChanged, 90*time.Second, 12, 0), "failed", "timeout", 1, 90000, 12, 0},
		{"pending", observation(pending, 15*time.Millisecond, 3, 0), "pending", "unchanged", 0, 15, 3, 0},
		{"replay", observation(replay, 800*time.Microsecond, 0, 0), "succeeded", "replay", 0, 0.8, 0, 0},
		{"dry run", observation(dryRun, 12*time.Millisecond, 3, 1), "succeeded", "dry_run", 0, 12, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &writes{}
			m := &metrics.EMF{Out: w, Namespace: "Ops/Resizer prod", Now: func() time.Time { return emfNow }}
			m.Observe(tt.obs)
			if len(w.calls) != 1 {
				t.Fatalf("%d Write calls, want 1", len(w.calls))
			}
			line := w.calls[0]
			if !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
				t.Fatalf("not one newline-terminated line: %q", line)
			}
			doc := testkit.CheckEMF(t, line)
			if doc.Timestamp != emfNow.UnixMilli() {
				t.Errorf("Timestamp %d, want %d", doc.Timestamp, emfNow.UnixMilli())
			}
			if len(doc.Directives) != 1 {
				t.Fatalf("%d directives, want 1", len(doc.Directives))
			}
			dir := doc.Directives[0]
			if dir.Namespace != "Ops/Resizer prod" {
				t.Errorf("Namespace %q", dir.Namespace)
			}
			if want := [][]string{{"Outcome"}, {"Outcome", "Reason"}}; fmt.Sprint(dir.Dimensions) != fmt.Sprint(want) {
				t.Errorf("Dimensions %v, want %v", dir.Dimensions, want)
			}
			wantMetrics := []testkit.EMFMetric{
				{Name: "Outcomes", Unit: "Count"}, {Name: "Resized", Unit: "Count"}, {Name: "Duration", Unit: "Milliseconds"},
				{Name: "JDCloudCalls", Unit: "Count"}, {Name: "JDCloudThrottled", Unit: "Count"},
			}
			if !slices.Equal(dir.Metrics, wantMetrics) {
				t.Errorf("Metrics %v, want %v", dir.Metrics, wantMetrics)
			}
			var members []string
			for k := range doc.Root {
				members = append(members, k)
			}
			slices.Sort(members)
			if want := []string{"Duration", "JDCloudCalls", "JDCloudThrottled", "Outcome", "Outcomes", "Reason", "Resized", "_aws"}; !slices.Equal(members, want) {
				t.Errorf("root members %v, want %v", members, want)
			}
			if got := doc.Dimension(t, "Outcome"); got != tt.outcome {
				t.Errorf("Outcome %q, want %q", got, tt.outcome)
			}
			if got := doc.Dimension(t, "Reason"); got != tt.reason {
				t.Errorf("Reason %q, want %q", got, tt.reason)
			}
			for name, want := range map[string]float64{
				"Outcomes": 1, "Resized": tt.resized, "Duration": tt.duration,
				"JDCloudCalls": tt.calls, "JDCloudThrottled": tt.throttled,
			} {
				if got := doc.Metric(t, name); got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			for _, secret := range []string{hostileInstance, hostileRequestID, hostileJDRequest, "oncall", "alertmanager"} {
				if bytes.Contains(line, []byte(secret)) {
					t.Errorf("the document carries %q: %s", secret, line)
				}
			}
		})
	}
}

// TestEMFHostileReasons: an error reason from outside the contract becomes
// Reason "other"; the document stays valid and carries none of it.
func TestEMFHostileReasons(t *testing.T) {
	for _, r := range []string{hostileInstance, hostileFreeText, "circuit_open\n", strings.Repeat("r", 5000), `"}],"x":"`} {
		w := &writes{}
		(&metrics.EMF{Out: w, Namespace: metrics.DefaultNamespace}).Observe(observation(failedWith(resizer.CodeAPIError, r), time.Second, 1, 0))
		doc := testkit.CheckEMF(t, w.calls[0])
		if got := doc.Dimension(t, "Reason"); got != "other" {
			t.Errorf("reason %.30q: Reason %q, want other", r, got)
		}
		if bytes.Contains(w.calls[0], []byte(r)) {
			t.Errorf("reason %.30q reached the document", r)
		}
	}
}

// TestEMFWholeLinesUnderConcurrency: deliveries of one batch observe at
// once; every document still arrives whole, one per Write.
func TestEMFWholeLinesUnderConcurrency(t *testing.T) {
	w := &writes{}
	m := &metrics.EMF{Out: w, Namespace: metrics.DefaultNamespace}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { m.Observe(observation(succeededResized, time.Duration(i)*time.Millisecond, i, 0)) })
	}
	wg.Wait()
	if len(w.calls) != 50 {
		t.Fatalf("%d writes, want 50", len(w.calls))
	}
	for _, c := range w.calls {
		testkit.CheckEMF(t, c)
	}
}

// TestEMFNeverFailsADelivery: a writer that fails, a nil outcome, a nil
// writer: nothing panics, nothing is returned.
func TestEMFNeverFailsADelivery(t *testing.T) {
	(&metrics.EMF{Out: failingWriter{}, Namespace: "x"}).Observe(observation(succeededResized, 0, 0, 0))
	(&metrics.EMF{Out: &writes{}, Namespace: "x"}).Observe(resizer.Observation{})
	(&metrics.EMF{Namespace: "x"}).Observe(observation(succeededResized, 0, 0, 0))
	var nilEMF *metrics.EMF
	nilEMF.Observe(observation(succeededResized, 0, 0, 0))
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("stdout closed") }

// TestValidateEMFRefuses holds the validator itself to the rules, so that
// the documents above pass because they are right, not because the check
// is loose: each mutation of a good document must be refused.
func TestValidateEMFRefuses(t *testing.T) {
	w := &writes{}
	(&metrics.EMF{Out: w, Namespace: metrics.DefaultNamespace, Now: func() time.Time { return emfNow }}).Observe(observation(failedPolicy, time.Second, 2, 1))
	good := w.calls[0]
	if err := testkit.ValidateEMF(good); err != nil {
		t.Fatalf("the good document is refused: %v", err)
	}
	aws := func(m map[string]any) map[string]any { return m["_aws"].(map[string]any) }
	dir := func(m map[string]any) map[string]any { return aws(m)["CloudWatchMetrics"].([]any)[0].(map[string]any) }
	mutations := map[string]func(m map[string]any){
		"timestamp in seconds":     func(m map[string]any) { aws(m)["Timestamp"] = emfNow.Unix() },
		"timestamp in nanoseconds": func(m map[string]any) { aws(m)["Timestamp"] = emfNow.UnixNano() },
		"fractional timestamp":     func(m map[string]any) { aws(m)["Timestamp"] = float64(emfNow.UnixMilli()) + 0.5 },
		"timestamp as a string":    func(m map[string]any) { aws(m)["Timestamp"] = fmt.Sprint(emfNow.UnixMilli()) },
		"no timestamp":             func(m map[string]any) { delete(aws(m), "Timestamp") },
		"no directives":            func(m map[string]any) { aws(m)["CloudWatchMetrics"] = []any{} },
		"no _aws":                  func(m map[string]any) { delete(m, "_aws") },
		"empty namespace":          func(m map[string]any) { dir(m)["Namespace"] = "" },
		"AWS namespace":            func(m map[string]any) { dir(m)["Namespace"] = "AWS/Lambda" },
		"null dimensions":          func(m map[string]any) { dir(m)["Dimensions"] = nil },
		"dimension not a member":   func(m map[string]any) { delete(m, "Reason") },
		"dimension not a string":   func(m map[string]any) { m["Outcome"] = 1 },
		"empty dimension value":    func(m map[string]any) { m["Outcome"] = " " },
		"dimension value too long": func(m map[string]any) { m["Reason"] = strings.Repeat("r", 1025) },
		"metric not a member":      func(m map[string]any) { delete(m, "Duration") },
		"metric not a number":      func(m map[string]any) { m["Outcomes"] = "1" },
		"metric as a dimension":    func(m map[string]any) { dir(m)["Dimensions"] = []any{[]any{"Outcome", "Outcomes"}} },
		"unknown unit":             func(m map[string]any) { dir(m)["Metrics"].([]any)[2].(map[string]any)["Unit"] = "Millis" },
		"metric defined twice": func(m map[string]any) {
			dir(m)["Metrics"] = append(dir(m)["Metrics"].([]any), map[string]any{"Name": "Outcomes", "Unit": "Count"})
		},
		"31 dimensions in a set": func(m map[string]any) {
			var set []any
			for i := range 31 {
				k := fmt.Sprintf("D%d", i)
				m[k] = "v"
				set = append(set, k)
			}
			dir(m)["Dimensions"] = []any{set}
		},
		"101 metrics": func(m map[string]any) {
			var ms []any
			for i := range 101 {
				k := fmt.Sprintf("M%d", i)
				m[k] = 1
				ms = append(ms, map[string]any{"Name": k, "Unit": "Count"})
			}
			dir(m)["Metrics"] = ms
		},
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			mutate(m)
			b, _ := json.Marshal(m)
			if err := testkit.ValidateEMF(b); err == nil {
				t.Errorf("accepted %s", b)
			}
		})
	}
	for name, line := range map[string]string{
		"two lines":     strings.TrimSuffix(string(good), "\n") + "\n" + string(good),
		"text after":    strings.TrimSuffix(string(good), "\n") + " trailing",
		"prefix":        "INFO " + string(good),
		"not an object": `[1,2]`,
		"over 256 KiB":  strings.TrimSuffix(string(good), "}\n") + `,"pad":"` + strings.Repeat("p", 256<<10) + `"}`,
	} {
		if err := testkit.ValidateEMF([]byte(line)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckNamespace(t *testing.T) {
	for _, ok := range []string{"JDCloudVMResizer", "a", "Ops/Resizer prod#1:a-b_c.d", strings.Repeat("n", 255), "AWSx/y", "aws/lower"} {
		if err := metrics.CheckNamespace(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", " lead", "AWS/Lambda", strings.Repeat("n", 256), "a,b", `a"b`, "a\nb", "a\tb", "ns\u00e9", "{x}", "a*b"} {
		if err := metrics.CheckNamespace(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
