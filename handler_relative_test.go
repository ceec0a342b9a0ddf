package resizer_test

import (
	"encoding/json"
	"strings"
	"testing"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// relative is request data for a relative resize of instance in cn-north-1.
func relative(instance, direction string, extra ...any) map[string]any {
	d := map[string]any{"regionId": "cn-north-1", "instanceId": instance, "direction": direction}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i].(string)] = extra[i+1]
	}
	return d
}

func outcomeData(t *testing.T, out resizer.Outcome) resizer.OutcomeData {
	t.Helper()
	var data resizer.OutcomeData
	if err := json.Unmarshal(decoded(t, out).Data(), &data); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRelativeSizing climbs the simulator's g.n4 ladder: small(1/2G) <
// medium(2/4G) < large(2/8G) < xlarge(4/16G) < 2xlarge(8/32G, sold out in
// cn-north-1a) < 4xlarge(16/64G) < 8xlarge(32/128G). docs/contract.md §6.
func TestRelativeSizing(t *testing.T) {
	rows := []struct {
		name   string
		policy resizer.Policy
		data   map[string]any
		// target is the resolved type ("" when none), reason the refusal.
		target, reason string
		code           resizer.Code
		changed        bool
	}{
		{name: "one up", data: relative("i-ladder01", "up"), target: "g.n4.xlarge", changed: true},
		{name: "one down", data: relative("i-ladder01", "down"), target: "g.n4.medium", changed: true},
		{name: "two up from xlarge in 1b", data: relative("i-ladder03", "up", "steps", 2), target: "g.n4.4xlarge", changed: true},
		{name: "up past the end stops at the top", data: relative("i-ladder02", "up", "steps", 8), target: "g.n4.8xlarge", changed: true},
		{name: "down past the end stops at the bottom", data: relative("i-ladder02", "down", "steps", 8), target: "g.n4.small", changed: true},
		{name: "bound shortens the move", data: relative("i-ladder01", "up", "steps", 5, "maxInstanceType", "g.n4.4xlarge"), target: "g.n4.4xlarge", changed: true},
		{name: "min bound shortens the move", data: relative("i-ladder02", "down", "steps", 3, "minInstanceType", "g.n4.large"), target: "g.n4.large", changed: true},
		{name: "at the top", data: relative("i-laddertop01", "up"), reason: resizer.ReasonSizeLimitReached, code: resizer.CodePreconditionFailed},
		{name: "at the bottom", data: relative("i-ladderbot01", "down"), reason: resizer.ReasonSizeLimitReached, code: resizer.CodePreconditionFailed},
		{name: "at the bound", data: relative("i-ladder02", "up", "maxInstanceType", "g.n4.xlarge"), reason: resizer.ReasonSizeLimitReached, code: resizer.CodePreconditionFailed},
		{name: "beyond the bound", data: relative("i-ladder02", "up", "maxInstanceType", "g.n4.medium"), reason: resizer.ReasonSizeLimitReached, code: resizer.CodePreconditionFailed},
		{name: "unknown bound", data: relative("i-ladder02", "up", "maxInstanceType", "g.n9.huge"), reason: resizer.ReasonSizeLimitReached, code: resizer.CodePreconditionFailed},
		{name: "the next rung is sold out in the az", data: relative("i-ladder02", "up"), target: "g.n4.2xlarge",
			reason: resizer.ReasonInstanceTypeUnavailable, code: resizer.CodePreconditionFailed},
		{name: "allowed types shape the ladder", policy: resizer.Policy{AllowedInstanceTypes: []string{"g.n4.*large"}},
			data: relative("i-ladder01", "down"), reason: resizer.ReasonSizeLimitReached, code: resizer.CodePreconditionFailed},
		{name: "allowed types skip a rung", policy: resizer.Policy{AllowedInstanceTypes: []string{"g.n4.large", "g.n4.4xlarge"}},
			data: relative("i-ladder01", "up"), target: "g.n4.4xlarge", changed: true},
		{name: "current type off the allowed ladder", policy: resizer.Policy{AllowedInstanceTypes: []string{"g.n4.xlarge"}},
			data: relative("i-ladder01", "up"), reason: resizer.ReasonSizeLimitReached, code: resizer.CodePreconditionFailed},
		{name: "dry run resolves and reports", data: relative("i-ladder01", "up", "dryRun", true), target: "g.n4.xlarge"},
		{name: "direction refused as asked", policy: resizer.Policy{AllowedDirections: []string{"up"}},
			data: relative("i-ladder01", "down"), reason: resizer.ReasonDirectionNotAllowed, code: resizer.CodePolicyDenied},
		{name: "absolute down refused by the guardrail", policy: resizer.Policy{AllowedDirections: []string{"up"}},
			data: resize("i-ladder02", "g.n4.large"), target: "g.n4.large", reason: resizer.ReasonDirectionNotAllowed, code: resizer.CodePolicyDenied},
		{name: "absolute up passes the guardrail", policy: resizer.Policy{AllowedDirections: []string{"up"}},
			data: resize("i-ladder01", "g.n4.xlarge"), target: "g.n4.xlarge", changed: true},
		{name: "same vCPUs less memory is down", policy: resizer.Policy{AllowedDirections: []string{"up"}},
			data: resize("i-ladder01", "g.n4.medium"), target: "g.n4.medium", reason: resizer.ReasonDirectionNotAllowed, code: resizer.CodePolicyDenied},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := newRig(t, withPolicy(row.policy))
			out := r.Handle(t, request(row.data))
			data := outcomeData(t, out)
			if data.InstanceType != row.target {
				t.Fatalf("instanceType = %q, want %q (%s)", data.InstanceType, row.target, out.Event.JSON)
			}
			if e := out.Err(); (e == nil) != (row.reason == "") || e != nil && (e.Reason != row.reason || e.Code != row.code) {
				t.Fatalf("error = %+v, want %s/%s", e, row.code, row.reason)
			}
			if data.Changed != row.changed {
				t.Fatalf("changed = %t, want %t", data.Changed, row.changed)
			}
			if row.changed {
				var sent []string
				for _, q := range r.Sim.Requests() {
					if q.Op == "resizeInstance" {
						sent = append(sent, string(q.Body))
					}
				}
				if want := `{"instanceType":"` + row.target + `"}`; len(sent) != 1 || sent[0] != want {
					t.Fatalf("resizeInstance bodies %q, want one %s", sent, want)
				}
			} else if n := r.StateChanging(); n != 0 {
				t.Fatalf("%d state-changing calls for a request that changes nothing", n)
			}
			if _, rel := row.data["direction"]; rel {
				steps := 1
				if s, ok := row.data["steps"].(int); ok {
					steps = s
				}
				if data.Direction != row.data["direction"] || data.Steps != steps {
					t.Fatalf("direction/steps = %q/%d, want %v/%d", data.Direction, data.Steps, row.data["direction"], steps)
				}
			}
			if row.reason == resizer.ReasonSizeLimitReached && !strings.Contains(data.Error.Message, "ladder") {
				t.Fatalf("message does not name the ladder: %s", data.Error.Message)
			}
		})
	}
}

// A relative request makes one describeInstanceTypes call for the whole
// region, not one per rung.
func TestRelativeSizingCalls(t *testing.T) {
	r := newRig(t)
	out := r.Handle(t, request(relative("i-ladder03", "up", "steps", 2)))
	if out.Err() != nil {
		t.Fatal(out.Err())
	}
	if n := r.Sim.Calls("describeInstanceTypes"); n != 1 {
		t.Fatalf("describeInstanceTypes calls = %d, want 1", n)
	}
}

func TestRelativeRequestValidation(t *testing.T) {
	rows := []struct {
		name string
		data map[string]any
		want string
	}{
		{"both", relative("i-ladder01", "up", "instanceType", "g.n4.xlarge"), "both instanceType and direction"},
		{"neither", map[string]any{"regionId": "cn-north-1", "instanceId": "i-ladder01"}, "instanceType or data.direction is required"},
		{"bad direction", relative("i-ladder01", "sideways"), `"up" or "down"`},
		{"steps zero", relative("i-ladder01", "up", "steps", 0), "integer from 1 to 8"},
		{"steps nine", relative("i-ladder01", "up", "steps", 9), "integer from 1 to 8"},
		{"steps fraction", relative("i-ladder01", "up", "steps", 1.5), "integer from 1 to 8"},
		{"steps string", relative("i-ladder01", "up", "steps", "2"), "integer from 1 to 8"},
		{"steps with a type", resize("i-ladder01", "g.n4.xlarge", "steps", 2), "only allowed with direction"},
		{"bound with a type", resize("i-ladder01", "g.n4.xlarge", "maxInstanceType", "g.n4.2xlarge"), "only allowed with direction"},
		{"bad bound", relative("i-ladder01", "up", "maxInstanceType", "G N4"), "maxInstanceType"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := newRig(t)
			out := r.Handle(t, request(row.data))
			e := out.Err()
			if e == nil || e.Code != resizer.CodeInvalidRequest || !strings.Contains(e.Message, row.want) {
				t.Fatalf("error = %+v, want invalid_request containing %q", e, row.want)
			}
			if r.JDCalls() != 0 {
				t.Fatalf("%d JD calls for an invalid request", r.JDCalls())
			}
		})
	}
}

// The idempotency hash covers direction, steps and the bounds, and not the
// free text an alert re-sends with new values.
func TestRelativeHash(t *testing.T) {
	r := newRig(t)
	e := request(relative("i-ladder01", "up", "reason", "cpu 91%"))
	first := r.Handle(t, e)
	if first.Err() != nil {
		t.Fatal(first.Err())
	}
	resent := e.Clone()
	_ = resent.SetData("application/json", relative("i-ladder01", "up", "steps", 1, "reason", "cpu 97%", "requestedBy", "alertmanager"))
	if out := r.Handle(t, resent); !out.Replay {
		t.Fatalf("re-sent alert with new summary and explicit steps 1 is not a replay: %s", out.Event.JSON)
	}
	for _, change := range []map[string]any{
		relative("i-ladder01", "up", "steps", 2),
		relative("i-ladder01", "down"),
		relative("i-ladder01", "up", "maxInstanceType", "g.n4.4xlarge"),
	} {
		other := e.Clone()
		_ = other.SetData("application/json", change)
		if out := r.Handle(t, other); out.Err() == nil || out.Err().Code != resizer.CodeInvalidRequest {
			t.Fatalf("same id with %v: want invalid_request, got %s", change, out.Event.JSON)
		}
	}
	if n := r.Sim.Calls("resizeInstance"); n != 1 {
		t.Fatalf("resizeInstance calls = %d, want 1", n)
	}
}
