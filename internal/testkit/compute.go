package testkit

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// Canned answers every describe call at once from memory: what is
// left of a Handle is the resizer's own per-event work. Resize, stop and
// start are not expected on these paths and fail the run.
type Canned struct {
	Instance resizer.Instance
	Types    []resizer.InstanceType
	Image    resizer.ImageConstraints
}

func (c *Canned) DescribeInstance(context.Context, string, string) (*resizer.Instance, error) {
	i := c.Instance
	return &i, nil
}

func (c *Canned) DescribeInstanceTypes(context.Context, string, []string) ([]resizer.InstanceType, error) {
	return c.Types, nil
}

func (c *Canned) DescribeImageConstraints(context.Context, string, string) (*resizer.ImageConstraints, error) {
	i := c.Image
	return &i, nil
}

var errUnexpected = errors.New("benchmark: unexpected call")

func (c *Canned) ResizeInstance(context.Context, string, string, string, bool) (string, error) {
	return "", errUnexpected
}

func (c *Canned) StopInstance(context.Context, string, string) (string, error) {
	return "", errUnexpected
}

func (c *Canned) StartInstance(context.Context, string, string) (string, error) {
	return "", errUnexpected
}

// DryRunCompute passes every pre-flight check of a dry run from g.n2.medium
// to g.n2.large.
func DryRunCompute() *Canned {
	return &Canned{
		Instance: resizer.Instance{
			InstanceID: "i-stopped02", InstanceType: "g.n2.medium", Status: resizer.StatusStopped,
			AZ: "cn-north-1a", ImageID: "img-centos7", NICs: 1, ChargeStatus: "normal",
			SystemDisk: resizer.Disk{Category: resizer.DiskCloud, DiskID: "vol-sys"},
		},
		Types: []resizer.InstanceType{
			{Name: "g.n2.medium", Family: "g", Generation: 2, CPU: 2, MemoryMB: 8192, NICLimit: 2, CloudDiskCountLimit: 8, InStock: map[string]bool{"cn-north-1a": true}},
			{Name: "g.n2.large", Family: "g", Generation: 2, CPU: 4, MemoryMB: 16384, NICLimit: 4, CloudDiskCountLimit: 8, InStock: map[string]bool{"cn-north-1a": true}},
		},
		Image: resizer.ImageConstraints{ImageID: "img-centos7"},
	}
}

// Guard is a Compute that fails the test when called with a value
// that did not pass validation, and otherwise plays a small, obliging JD
// Cloud: every instance exists (running when its id says "run", else
// stopped), every type
// is in stock, so the fuzzer reaches resize, stop and start.
type Guard struct {
	t  interface{ Errorf(string, ...any) }
	mu sync.Mutex
	// state keeps what stop, start and resize did, per instance.
	state map[string]*resizer.Instance
	calls map[string]int
}

// GuardImage is the image of every instance the Guard plays.
const GuardImage = "img-fuzz"

// NewGuard reports through t, which may be a *testing.T used from many
// goroutines (Errorf only).
func NewGuard(t interface{ Errorf(string, ...any) }) *Guard {
	return &Guard{t: t, state: map[string]*resizer.Instance{}, calls: map[string]int{}}
}

// Count says how often op was called.
func (g *Guard) Count(op string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[op]
}

// check reports through Errorf: Compute is called from the Dispatcher's
// goroutines, where Fatalf must not be used.
func (g *Guard) check(op, regionID, instanceID string, types ...string) bool {
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

func (g *Guard) instance(regionID, instanceID string) *resizer.Instance {
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
			InstanceID: instanceID, InstanceType: "g.n2.medium", Status: status, AZ: "az-a", ImageID: GuardImage,
			SystemDisk: resizer.Disk{Category: resizer.DiskCloud, DiskID: "vol-1", CreateTime: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)},
			NICs:       1, ChargeStatus: "normal",
		}
		g.state[key] = inst
	}
	return inst
}

func (g *Guard) update(regionID, instanceID string, f func(*resizer.Instance)) {
	inst := g.instance(regionID, instanceID)
	g.mu.Lock()
	defer g.mu.Unlock()
	f(inst)
}

var errRefused = &resizer.Error{Code: resizer.CodeAPIError, Message: "refused by the guard: invalid argument", Status: 400}

func (g *Guard) DescribeInstance(_ context.Context, regionID, instanceID string) (*resizer.Instance, error) {
	if !g.check("describeInstance", regionID, instanceID) {
		return nil, errRefused
	}
	inst := g.instance(regionID, instanceID)
	g.mu.Lock()
	defer g.mu.Unlock()
	c := *inst
	return &c, nil
}

func (g *Guard) DescribeInstanceTypes(_ context.Context, regionID string, types []string) ([]resizer.InstanceType, error) {
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

func (g *Guard) DescribeImageConstraints(_ context.Context, regionID, imageID string) (*resizer.ImageConstraints, error) {
	ok := g.check("describeImageConstraints", regionID, "")
	if imageID != GuardImage {
		g.t.Errorf("describeImageConstraints called with image %q, which describeInstance never gave", imageID)
		ok = false
	}
	if !ok {
		return nil, errRefused
	}
	return &resizer.ImageConstraints{ImageID: imageID}, nil
}

func (g *Guard) ResizeInstance(_ context.Context, regionID, instanceID, instanceType string, _ bool) (string, error) {
	if !g.check("resizeInstance", regionID, instanceID, instanceType) {
		return "", errRefused
	}
	g.update(regionID, instanceID, func(i *resizer.Instance) { i.InstanceType = instanceType })
	return "req-resize", nil
}

func (g *Guard) StopInstance(_ context.Context, regionID, instanceID string) (string, error) {
	if !g.check("stopInstance", regionID, instanceID) {
		return "", errRefused
	}
	g.update(regionID, instanceID, func(i *resizer.Instance) { i.Status = resizer.StatusStopped })
	return "req-stop", nil
}

func (g *Guard) StartInstance(_ context.Context, regionID, instanceID string) (string, error) {
	if !g.check("startInstance", regionID, instanceID) {
		return "", errRefused
	}
	g.update(regionID, instanceID, func(i *resizer.Instance) { i.Status = resizer.StatusRunning })
	return "req-start", nil
}
