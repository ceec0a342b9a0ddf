package resizer_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// TestInvalidRequestsNeverReachJDCloud: every malformed delivery ends as a
// failed invalid_request outcome naming the problem, published, with zero
// JD Cloud calls.
func TestInvalidRequestsNeverReachJDCloud(t *testing.T) {
	long := strings.Repeat("a", 1025)
	rows := []struct {
		name, payload, mention string
	}{
		{"missing regionId", structured(nil, without("regionId")), "regionId"},
		{"missing instanceId", structured(nil, without("instanceId")), "instanceId"},
		{"missing instanceType", structured(nil, without("instanceType")), "instanceType"},
		{"empty instanceId", structured(nil, withField("instanceId", `""`)), "instanceId"},
		{"empty regionId", structured(nil, withField("regionId", `""`)), "regionId"},
		{"null instanceType", structured(nil, withField("instanceType", `null`)), "instanceType"},
		{"uppercase instanceId", structured(nil, withField("instanceId", `"i-ABCDEF12"`)), "instanceId"},
		{"instanceId too short", structured(nil, withField("instanceId", `"i-abc"`)), "instanceId"},
		{"instanceId too long", structured(nil, withField("instanceId", `"i-`+strings.Repeat("a", 33)+`"`)), "instanceId"},
		{"path traversal instanceId", structured(nil, withField("instanceId", `"../../x"`)), "instanceId"},
		{"path traversal inside instanceId", structured(nil, withField("instanceId", `"i-abc/../y"`)), "instanceId"},
		{"percent-encoded slash in instanceId", structured(nil, withField("instanceId", `"i-abcdef%2F.."`)), "instanceId"},
		{"instanceId with query", structured(nil, withField("instanceId", `"i-abcdef?x=1"`)), "instanceId"},
		{"path traversal regionId", structured(nil, withField("regionId", `"cn-north-1/../../x"`)), "regionId"},
		{"uppercase regionId", structured(nil, withField("regionId", `"CN-NORTH-1"`)), "regionId"},
		{"instanceType with slash", structured(nil, withField("instanceType", `"g.n2.large/../x"`)), "instanceType"},
		{"instanceType without family dot", structured(nil, withField("instanceType", `"large"`)), "instanceType"},
		{"instanceType over 64 characters", structured(nil, withField("instanceType", `"g.`+strings.Repeat("n", 63)+`"`)), "instanceType"},
		{"bad fromInstanceType", structured(nil, strings.TrimSuffix(good, "}")+`,"fromInstanceType":"G N2"}`), "fromInstanceType"},
		{"instanceId is a number", structured(nil, withField("instanceId", `123`)), "instanceId"},
		{"dryRun is a string", structured(nil, strings.TrimSuffix(good, "}")+`,"dryRun":"yes"}`), "dryRun"},
		{"force is a number", structured(nil, strings.TrimSuffix(good, "}")+`,"force":1}`), "force"},
		{"reason over 1024 characters", structured(nil, strings.TrimSuffix(good, "}")+`,"reason":"`+long+`"}`), "reason"},
		{"requestedBy is an object", structured(nil, strings.TrimSuffix(good, "}")+`,"requestedBy":{"a":1}}`), "requestedBy"},
		{"NUL in reason", structured(nil, strings.TrimSuffix(good, "}")+`,"reason":"a\u0000b"}`), "NUL"},
		{"duplicate instanceId key", structured(nil, strings.TrimSuffix(good, "}")+`,"instanceId":"i-running01"}`), "more than once"},
		{"data is an array", structured(nil, `[1,2]`), "object"},
		{"data is a string", structured(nil, `"resize please"`), "data"},
		{"data missing", structured(nil, ""), "data"},
		{"data is not JSON", structured(map[string]any{"data_base64": "bm90IGpzb24="}, ""), "data"},
		{"wrong datacontenttype", structured(map[string]any{"datacontenttype": "text/plain"}, good), "datacontenttype"},
		{"specversion 0.3", structured(map[string]any{"specversion": "0.3"}, good), "specversion"},
		{"specversion 2.0", structured(map[string]any{"specversion": "2.0"}, good), "specversion"},
		{"specversion missing", structured(map[string]any{"specversion": nil}, good), "specversion"},
		{"unknown event type", structured(map[string]any{"type": "com.example.delete"}, good), "type"},
		{"missing id", structured(map[string]any{"id": nil}, good), "id"},
		{"missing source", structured(map[string]any{"source": nil}, good), "source"},
		{"oversized id", structured(map[string]any{"id": strings.Repeat("z", 4096)}, good), "id"},
		{"control character in source", structured(map[string]any{"source": "alert\u0007manager"}, good), "source"},
		{"payload is not JSON", `resize i-stopped01 please`, ""},
		{"payload is a JSON array", `[` + structured(nil, good) + `]`, ""},
		{"payload is truncated", structured(nil, good)[:40], ""},
		{"empty payload", ``, ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := newRig(t)
			d := trigger.New(r.Handler, trigger.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			answer, err := d.Invoke(ctx, []byte(row.payload))
			if err != nil {
				t.Fatalf("invalid input returned a Lambda error (it is not retryable): %v", err)
			}
			var out struct {
				Type string              `json:"type"`
				Data resizer.OutcomeData `json:"data"`
			}
			if err := json.Unmarshal(answer, &out); err != nil {
				t.Fatalf("answer is not an outcome event: %v: %s", err, answer)
			}
			if out.Type != resizer.TypeFailed || out.Data.Error == nil || out.Data.Error.Code != resizer.CodeInvalidRequest || out.Data.Error.Retryable {
				t.Fatalf("want failed invalid_request, got %s", answer)
			}
			if row.mention != "" && !strings.Contains(out.Data.Error.Message, row.mention) {
				t.Fatalf("message %q does not name %q", out.Data.Error.Message, row.mention)
			}
			if n := r.JDCalls(); n != 0 {
				t.Fatalf("JD Cloud was called %d times for an invalid request", n)
			}
			if len(r.Pub.All()) != 1 {
				t.Fatalf("published %d outcomes, want 1", len(r.Pub.All()))
			}
			if len(answer) > 8<<10 {
				t.Fatalf("outcome of %d bytes echoes too much of the input", len(answer))
			}
		})
	}
}
