package resizer_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// cannedCompute answers every describe call at once from memory: what is
// left of a Handle is the resizer's own per-event work. Resize, stop and
// start are not expected on these paths and fail the run.
type cannedCompute struct {
	inst  resizer.Instance
	types []resizer.InstanceType
	image resizer.ImageConstraints
}

func (c *cannedCompute) DescribeInstance(context.Context, string, string) (*resizer.Instance, error) {
	i := c.inst
	return &i, nil
}

func (c *cannedCompute) DescribeInstanceTypes(context.Context, string, []string) ([]resizer.InstanceType, error) {
	return c.types, nil
}

func (c *cannedCompute) DescribeImageConstraints(context.Context, string, string) (*resizer.ImageConstraints, error) {
	i := c.image
	return &i, nil
}

var errUnexpected = errors.New("benchmark: unexpected call")

func (c *cannedCompute) ResizeInstance(context.Context, string, string, string, bool) (string, error) {
	return "", errUnexpected
}

func (c *cannedCompute) StopInstance(context.Context, string, string) (string, error) {
	return "", errUnexpected
}

func (c *cannedCompute) StartInstance(context.Context, string, string) (string, error) {
	return "", errUnexpected
}

// dryRunCompute passes every pre-flight check of a dry run from g.n2.medium
// to g.n2.large.
func dryRunCompute() *cannedCompute {
	return &cannedCompute{
		inst: resizer.Instance{
			InstanceID: "i-stopped02", InstanceType: "g.n2.medium", Status: resizer.StatusStopped,
			AZ: "cn-north-1a", ImageID: "img-centos7", NICs: 1, ChargeStatus: "normal",
			SystemDisk: resizer.Disk{Category: resizer.DiskCloud, DiskID: "vol-sys"},
		},
		types: []resizer.InstanceType{
			{Name: "g.n2.medium", Family: "g", Generation: 2, CPU: 2, MemoryMB: 8192, NICLimit: 2, CloudDiskCountLimit: 8, InStock: map[string]bool{"cn-north-1a": true}},
			{Name: "g.n2.large", Family: "g", Generation: 2, CPU: 4, MemoryMB: 16384, NICLimit: 4, CloudDiskCountLimit: 8, InStock: map[string]bool{"cn-north-1a": true}},
		},
		image: resizer.ImageConstraints{ImageID: "img-centos7"},
	}
}

// benchRequest is a dry-run request event as a trigger hands it over.
func benchRequest(b *testing.B) event.Event {
	e := event.New()
	e.SetID("9e4c1b27-7a85-4f0d-a3c6-5d2e8b1f6a90")
	e.SetSource("ticketing/approvals")
	e.SetType(resizer.TypeRequested)
	e.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if err := e.SetData(event.ApplicationJSON, json.RawMessage(`{"regionId":"cn-north-1","instanceId":"i-stopped02","instanceType":"g.n2.large","dryRun":true,"reason":"capacity review OPS-1234","requestedBy":"alice@example.com"}`)); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkOutcome measures building an outcome event and encoding it as
// the sink and the trigger's answer do (json.Marshal of the event). The
// Handler has no Publisher and no Store, so the paths are the resizer's
// own work with the network taken out: "at-type" is validate, one describe
// answered from memory, build (its log line marshals the event once more,
// as production does) and encode; "dry-run" adds the pre-flight look-ups
// and the resize rules; "encode" is the encoding alone.
func BenchmarkOutcome(b *testing.B) {
	req := benchRequest(b)
	// PreviousInstanceType is what describeInstance answered: checking it
	// shows each run went through the describe call, not around it.
	run := func(b *testing.B, c *cannedCompute) {
		h := &resizer.Handler{Compute: c}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			out := h.Handle(ctx, req)
			if out.Err != nil || out.Data.PreviousInstanceType != c.inst.InstanceType || out.Event.Type() != resizer.TypeSucceeded {
				b.Fatalf("outcome %+v (%v), want a succeeded dry run from %s", out.Data, out.Err, c.inst.InstanceType)
			}
			if _, err := json.Marshal(out.Event); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("at-type", func(b *testing.B) {
		c := dryRunCompute()
		c.inst.InstanceType = "g.n2.large"
		run(b, c)
	})
	b.Run("dry-run", func(b *testing.B) { run(b, dryRunCompute()) })
	b.Run("encode", func(b *testing.B) {
		out := (&resizer.Handler{Compute: dryRunCompute()}).Handle(context.Background(), req)
		if out.Err != nil || !out.Data.DryRun {
			b.Fatalf("outcome %+v, want a succeeded dry run", out.Data)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(out.Event); err != nil {
				b.Fatal(err)
			}
		}
	})
}
