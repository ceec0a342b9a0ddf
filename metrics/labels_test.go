package metrics_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/metrics"
)

func TestLabels(t *testing.T) {
	tests := []struct {
		name            string
		o               *resizer.Outcome
		outcome, reason string
	}{
		{"resized", succeededResized, "succeeded", "resized"},
		{"already at the type", succeededNoop, "succeeded", "unchanged"},
		{"dry run", dryRun, "succeeded", "dry_run"},
		{"failed with a reason", failedPolicy, "failed", "circuit_open"},
		{"failed with a code only", failedAPI, "failed", "api_error"},
		{"failed after the type changed", failedChanged, "failed", "timeout"},
		{"pending", pending, "pending", "unchanged"},
		{"replay", replay, "succeeded", "replay"},
		{"replay of a failure", func() *resizer.Outcome { o := *failedPolicy; o.Replay = true; return &o }(), "failed", "replay"},
		{"in progress", failedWith(resizer.CodeUnavailable, resizer.ReasonInProgress), "failed", "in_progress"},
		{"unknown type without error", outcome("com.example.other", nil), "succeeded", "unchanged"},
		{"unknown type with error", func() *resizer.Outcome {
			o := *failedAPI
			o.Event.Type = ""
			return &o
		}(), "failed", "api_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome, reason := metrics.Labels(tt.o)
			if outcome != tt.outcome || reason != tt.reason {
				t.Errorf("Labels = %s/%s, want %s/%s", outcome, reason, tt.outcome, tt.reason)
			}
		})
	}
}

// TestLabelsHostileReasons: whatever an error's reason or code holds — an
// id, free text, a near miss of a real reason, control characters, a
// megabyte — the Reason label is one of the allow-list or other.
func TestLabelsHostileReasons(t *testing.T) {
	hostile := []string{
		hostileInstance, hostileRequestID, hostileFreeText, "i-y7xnhq39ah", "instance i-y7xnhq39ah is running",
		"Instance_Not_Stopped", "instance_not_stopped ", " circuit_open", "circuit_open\n", "api_error\x00",
		"other_reason", "resized", "dry_run", "replay", "unchanged", "<script>", "Reason=\"x\"", "a,b", "\xff\xfe",
		strings.Repeat("x", 1<<20), "🙂",
	}
	for _, r := range hostile {
		for _, as := range []string{"reason", "code"} {
			o := failedWith(resizer.Code(r), "")
			if as == "reason" {
				o = failedWith(resizer.CodeAPIError, r)
				o.Data.Error.Code = resizer.Code(r)
			}
			outcome, reason := metrics.Labels(o)
			if outcome != "failed" || reason != "other" {
				t.Errorf("%s %s: Labels = %s/%s, want failed/other", as, strconv.Quote(clip(r)), outcome, reason)
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// TestLabelsKnowEveryContractReason reads the root package's Code* and
// Reason* constants from errors.go, so that a reason added there without
// being added to the allow-list fails here rather than showing up as other.
func TestLabelsKnowEveryContractReason(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "errors.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") && !strings.HasPrefix(name.Name, "Reason") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				values = append(values, v)
			}
		}
	}
	if len(values) < 34 { // 8 codes and 26 reasons when this was written
		t.Fatalf("read only %d codes and reasons from errors.go: %v", len(values), values)
	}
	for _, v := range values {
		o := failedWith(resizer.CodeAPIError, v)
		if _, reason := metrics.Labels(o); reason != v {
			t.Errorf("reason %s is labelled %s", v, reason)
		}
	}
}
