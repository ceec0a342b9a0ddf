package acceptance_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/store"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// The seed corpus lives in testdata/fuzz/FuzzHandle/ (real payloads of
// every shape) and runs with every go test.

// FuzzHandle: any payload, through the Dispatcher and a real Handler, never
// panics and never reaches Compute with a value that fails validation.
func FuzzHandle(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		_, out, err := invokeGuarded(t, payload)
		var re *trigger.RetryError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("Lambda error %v is not a RetryError", err)
		}
		if err == nil && !json.Valid(out) {
			t.Fatalf("answer is not JSON: %.300q", out)
		}
	})
}

// invokeGuarded runs payload through a Dispatcher over a Handler whose
// Compute is the guard.
func invokeGuarded(t *testing.T, payload []byte) (*testkit.Guard, []byte, error) {
	g := testkit.NewGuard(t)
	h := resizer.NewHandler(resizer.Options{
		Compute: g, Publisher: &testkit.Publisher{}, Store: store.NewMemory(100),
		Policy: resizer.Policy{AllowForce: true, AllowStop: true}, Source: "fuzz-resizer",
		PublishMargin: 50 * time.Millisecond, PollInterval: time.Millisecond, PollMax: time.Millisecond,
		InProgressWait: 10 * time.Millisecond,
	})
	d := trigger.New(h, trigger.Options{AllowUnauthenticated: true, Concurrency: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := d.Invoke(ctx, payload)
	return g, out, err
}

// TestFuzzHandleReachesCompute holds the guard to being obliging enough:
// the sample events reach the state-changing calls, so the fuzzer explores
// the whole resize path, not only validation.
func TestFuzzHandleReachesCompute(t *testing.T) {
	for file, op := range map[string]string{
		"../../events/resize-requested.json": "resizeInstance",
		"../../events/resize-dry-run.json":   "describeImageConstraints",
		"../../events/sqs-batch.json":        "describeImageConstraints",
		"../../events/apigw-structured.json": "describeImageConstraints",
		"../../events/eventbridge.json":      "describeImageConstraints",
	} {
		payload, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		g, _, err := invokeGuarded(t, payload)
		if err != nil || g.Count(op) == 0 {
			t.Errorf("%s: err %v, %s calls %d", file, err, op, g.Count(op))
		}
	}
	running := strings.TrimSuffix(good, "}") + `,"instanceId":"i-running01","stopIfRunning":true}`
	running = strings.Replace(running, `"instanceId":"i-stopped01",`, "", 1)
	g, _, err := invokeGuarded(t, []byte(structured(nil, running)))
	for _, op := range []string{"stopInstance", "resizeInstance", "startInstance"} {
		if err != nil || g.Count(op) != 1 {
			t.Errorf("stopIfRunning: err %v, %s calls %d", err, op, g.Count(op))
		}
	}
}

// TestFuzzGuardCatchesInvalidValues: the guard the fuzzer relies on does
// fail on every kind of value validation exists to stop.
func TestFuzzGuardCatchesInvalidValues(t *testing.T) {
	for _, call := range []func(*testkit.Guard) error{
		func(g *testkit.Guard) error {
			_, err := g.DescribeInstance(context.Background(), "cn-north-1/..", "i-abcdef12")
			return err
		},
		func(g *testkit.Guard) error {
			_, err := g.DescribeInstance(context.Background(), "cn-north-1", "i-abc%2f")
			return err
		},
		func(g *testkit.Guard) error {
			_, err := g.DescribeInstanceTypes(context.Background(), "cn-north-1", []string{"g.n2.large", "../x"})
			return err
		},
		func(g *testkit.Guard) error {
			_, err := g.ResizeInstance(context.Background(), "cn-north-1", "i-abcdef12", "G.N2", false)
			return err
		},
		func(g *testkit.Guard) error {
			_, err := g.StopInstance(context.Background(), "cn-north-1", "і-abcdef")
			return err
		},
		func(g *testkit.Guard) error {
			_, err := g.StartInstance(context.Background(), "", "i-abcdef12")
			return err
		},
		func(g *testkit.Guard) error {
			_, err := g.DescribeImageConstraints(context.Background(), "cn-north-1", "img-other")
			return err
		},
	} {
		rec := &errorRecorder{}
		if err := call(testkit.NewGuard(rec)); err == nil || rec.n == 0 {
			t.Errorf("the guard let an invalid value through (err %v, %d reports)", err, rec.n)
		}
	}
}

type errorRecorder struct {
	mu sync.Mutex
	n  int
}

func (r *errorRecorder) Errorf(string, ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
}
