package resizer_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/store"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// The seed corpora live in testdata/fuzz/<Name>/ (real payloads of every
// shape) and run with every go test.

// FuzzParseRequest: whatever the attributes and data, ParseRequest does not
// panic, refuses with invalid_request, and what it accepts is safe to put
// in a JD Cloud URL path.
func FuzzParseRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, id, source, typ, contentType string, data []byte) {
		e := event.New()
		e.SetID(id)
		e.SetSource(source)
		e.SetType(typ)
		if contentType != "" {
			e.SetDataContentType(contentType)
		}
		e.DataEncoded = data
		req, err := resizer.ParseRequest(e)
		if err != nil {
			if err.Code != resizer.CodeInvalidRequest || err.Retryable() {
				t.Fatalf("refusal with code %s, want invalid_request", err.Code)
			}
			if len(err.Message) > 1024 {
				t.Fatalf("a %d-byte message echoes too much input", len(err.Message))
			}
			return
		}
		checkPathSafe(t, "regionId", req.RegionID, resizer.ValidRegionID)
		checkPathSafe(t, "instanceId", req.InstanceID, resizer.ValidInstanceID)
		if !resizer.ValidInstanceType(req.InstanceType) || strings.ContainsAny(req.InstanceType, `/\%`) || strings.Contains(req.InstanceType, "..") {
			t.Fatalf("accepted instanceType %q", req.InstanceType)
		}
		if req.FromInstanceType != "" && !resizer.ValidInstanceType(req.FromInstanceType) {
			t.Fatalf("accepted fromInstanceType %q", req.FromInstanceType)
		}
		if req.Type != resizer.TypeRequested {
			t.Fatalf("accepted type %q", req.Type)
		}
		for name, v := range map[string]string{"id": req.ID, "source": req.Source} {
			if v == "" || len(v) > 512 || !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) ||
				strings.ContainsFunc(v, func(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }) {
				t.Fatalf("accepted %s %q", name, v)
			}
		}
		if utf8.RuneCountInString(req.Reason) > 1024 || utf8.RuneCountInString(req.RequestedBy) > 1024 {
			t.Fatalf("accepted free text over 1024 characters")
		}
	})
}

// checkPathSafe: the value is valid and is one path segment as it stands,
// with nothing an URL would escape ('/', '%', '?', '#', spaces, non-ASCII)
// and no dot segment.
func checkPathSafe(t *testing.T, name, v string, valid func(string) bool) {
	t.Helper()
	if !valid(v) || url.PathEscape(v) != v || strings.ContainsAny(v, `/\%.`) {
		t.Fatalf("accepted %s %q, which is not one plain path segment", name, v)
	}
}

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
func invokeGuarded(t *testing.T, payload []byte) (*guardCompute, []byte, error) {
	g := newGuardCompute(t)
	h := &resizer.Handler{
		Compute: g, Publisher: &recorder{}, Store: store.NewMemory(100),
		Policy: resizer.Policy{AllowForce: true, AllowStop: true}, Source: "fuzz-resizer",
		PublishMargin: 50 * time.Millisecond, PollInterval: time.Millisecond, PollMax: time.Millisecond,
		InProgressWait: 10 * time.Millisecond,
	}
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
		"events/resize-requested.json": "resizeInstance",
		"events/resize-dry-run.json":   "describeImageConstraints",
		"events/sqs-batch.json":        "describeImageConstraints",
		"events/apigw-structured.json": "describeImageConstraints",
		"events/eventbridge.json":      "describeImageConstraints",
	} {
		payload, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		g, _, err := invokeGuarded(t, payload)
		if err != nil || g.count(op) == 0 {
			t.Errorf("%s: err %v, %s calls %d", file, err, op, g.count(op))
		}
	}
	running := strings.TrimSuffix(good, "}") + `,"instanceId":"i-running01","stopIfRunning":true}`
	running = strings.Replace(running, `"instanceId":"i-stopped01",`, "", 1)
	g, _, err := invokeGuarded(t, []byte(structured(nil, running)))
	for _, op := range []string{"stopInstance", "resizeInstance", "startInstance"} {
		if err != nil || g.count(op) != 1 {
			t.Errorf("stopIfRunning: err %v, %s calls %d", err, op, g.count(op))
		}
	}
}

// TestFuzzGuardCatchesInvalidValues: the guard the fuzzer relies on does
// fail on every kind of value validation exists to stop.
func TestFuzzGuardCatchesInvalidValues(t *testing.T) {
	for _, call := range []func(*guardCompute) error{
		func(g *guardCompute) error {
			_, err := g.DescribeInstance(context.Background(), "cn-north-1/..", "i-abcdef12")
			return err
		},
		func(g *guardCompute) error {
			_, err := g.DescribeInstance(context.Background(), "cn-north-1", "i-abc%2f")
			return err
		},
		func(g *guardCompute) error {
			_, err := g.DescribeInstanceTypes(context.Background(), "cn-north-1", []string{"g.n2.large", "../x"})
			return err
		},
		func(g *guardCompute) error {
			_, err := g.ResizeInstance(context.Background(), "cn-north-1", "i-abcdef12", "G.N2", false)
			return err
		},
		func(g *guardCompute) error {
			_, err := g.StopInstance(context.Background(), "cn-north-1", "і-abcdef")
			return err
		},
		func(g *guardCompute) error {
			_, err := g.StartInstance(context.Background(), "", "i-abcdef12")
			return err
		},
		func(g *guardCompute) error {
			_, err := g.DescribeImageConstraints(context.Background(), "cn-north-1", "img-other")
			return err
		},
	} {
		rec := &errorRecorder{}
		if err := call(&guardCompute{t: rec, state: map[string]*resizer.Instance{}, calls: map[string]int{}}); err == nil || rec.n == 0 {
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

// guardCompute is a Compute that fails the test when called with a value
// that did not pass validation, and otherwise plays a small, obliging JD
// Cloud: every instance exists (running when its id says "run", else
// stopped), every type
// is in stock, so the fuzzer reaches resize, stop and start.
type guardCompute struct {
	t  interface{ Errorf(string, ...any) }
	mu sync.Mutex
	// state keeps what stop, start and resize did, per instance.
	state map[string]*resizer.Instance
	calls map[string]int
}

const guardImage = "img-fuzz"

func newGuardCompute(t *testing.T) *guardCompute {
	return &guardCompute{t: t, state: map[string]*resizer.Instance{}, calls: map[string]int{}}
}

func (g *guardCompute) count(op string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[op]
}

// check reports through Errorf: Compute is called from the Dispatcher's
// goroutines, where Fatalf must not be used.
func (g *guardCompute) check(op, regionID, instanceID string, types ...string) bool {
	g.mu.Lock()
	g.calls[op]++
	g.mu.Unlock()
	ok := true
	if !resizer.ValidRegionID(regionID) || url.PathEscape(regionID) != regionID {
		g.t.Errorf("%s called with regionId %q", op, regionID)
		ok = false
	}
	if instanceID != "" && (!resizer.ValidInstanceID(instanceID) || url.PathEscape(instanceID) != instanceID) {
		g.t.Errorf("%s called with instanceId %q", op, instanceID)
		ok = false
	}
	for _, ty := range types {
		if !resizer.ValidInstanceType(ty) {
			g.t.Errorf("%s called with instanceType %q", op, ty)
			ok = false
		}
	}
	return ok
}

func (g *guardCompute) instance(regionID, instanceID string) *resizer.Instance {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := regionID + "/" + instanceID
	inst, ok := g.state[key]
	if !ok {
		status := resizer.StatusStopped
		if strings.Contains(instanceID, "run") {
			status = resizer.StatusRunning
		}
		inst = &resizer.Instance{
			InstanceID: instanceID, InstanceType: "g.n2.medium", Status: status, AZ: "az-a", ImageID: guardImage,
			SystemDisk: resizer.Disk{Category: resizer.DiskCloud, DiskID: "vol-1", CreateTime: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)},
			NICs:       1, ChargeStatus: "normal",
		}
		g.state[key] = inst
	}
	return inst
}

func (g *guardCompute) update(regionID, instanceID string, f func(*resizer.Instance)) {
	inst := g.instance(regionID, instanceID)
	g.mu.Lock()
	defer g.mu.Unlock()
	f(inst)
}

var errRefused = &resizer.Error{Code: resizer.CodeAPIError, Message: "refused by the guard: invalid argument", Status: 400}

func (g *guardCompute) DescribeInstance(_ context.Context, regionID, instanceID string) (*resizer.Instance, error) {
	if !g.check("describeInstance", regionID, instanceID) {
		return nil, errRefused
	}
	inst := g.instance(regionID, instanceID)
	g.mu.Lock()
	defer g.mu.Unlock()
	c := *inst
	return &c, nil
}

func (g *guardCompute) DescribeInstanceTypes(_ context.Context, regionID string, types []string) ([]resizer.InstanceType, error) {
	if !g.check("describeInstanceTypes", regionID, "", types...) {
		return nil, errRefused
	}
	out := make([]resizer.InstanceType, 0, len(types))
	for _, name := range types {
		family, _, _ := strings.Cut(name, ".")
		out = append(out, resizer.InstanceType{Name: name, Family: family, Generation: 2, CPU: 2, MemoryMB: 4096,
			NICLimit: 8, CloudDiskCountLimit: 8, InStock: map[string]bool{"az-a": true}})
	}
	return out, nil
}

func (g *guardCompute) DescribeImageConstraints(_ context.Context, regionID, imageID string) (*resizer.ImageConstraints, error) {
	ok := g.check("describeImageConstraints", regionID, "")
	if imageID != guardImage {
		g.t.Errorf("describeImageConstraints called with image %q, which describeInstance never gave", imageID)
		ok = false
	}
	if !ok {
		return nil, errRefused
	}
	return &resizer.ImageConstraints{ImageID: imageID}, nil
}

func (g *guardCompute) ResizeInstance(_ context.Context, regionID, instanceID, instanceType string, _ bool) (string, error) {
	if !g.check("resizeInstance", regionID, instanceID, instanceType) {
		return "", errRefused
	}
	g.update(regionID, instanceID, func(i *resizer.Instance) { i.InstanceType = instanceType })
	return "req-resize", nil
}

func (g *guardCompute) StopInstance(_ context.Context, regionID, instanceID string) (string, error) {
	if !g.check("stopInstance", regionID, instanceID) {
		return "", errRefused
	}
	g.update(regionID, instanceID, func(i *resizer.Instance) { i.Status = resizer.StatusStopped })
	return "req-stop", nil
}

func (g *guardCompute) StartInstance(_ context.Context, regionID, instanceID string) (string, error) {
	if !g.check("startInstance", regionID, instanceID) {
		return "", errRefused
	}
	g.update(regionID, instanceID, func(i *resizer.Instance) { i.Status = resizer.StatusRunning })
	return "req-start", nil
}
