package resizer_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
)

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

// BenchmarkOutcome measures a Handle whose outcome event is built and
// encoded once (the log, the store, the sinks and the trigger's answer all
// carry those bytes). The Handler has no Publisher and no Store, so the
// paths are the resizer's own work with the network taken out: "at-type"
// is validate, one describe answered from memory, build and encode;
// "dry-run" adds the pre-flight look-ups and the resize rules; "encode" is
// the encoding alone.
func BenchmarkOutcome(b *testing.B) {
	req := benchRequest(b)
	// PreviousInstanceType is what describeInstance answered: checking it
	// shows each run went through the describe call, not around it.
	run := func(b *testing.B, c *testkit.Canned) {
		h := resizer.NewHandler(resizer.Options{Compute: c})
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			out := h.Handle(ctx, req)
			if out.Err() != nil || out.Data.PreviousInstanceType != c.Instance.InstanceType || out.Event.Type != resizer.TypeSucceeded {
				b.Fatalf("outcome %+v (%v), want a succeeded dry run from %s", out.Data, out.Err(), c.Instance.InstanceType)
			}
		}
	}
	b.Run("at-type", func(b *testing.B) {
		c := testkit.DryRunCompute()
		c.Instance.InstanceType = "g.n2.large"
		run(b, c)
	})
	b.Run("dry-run", func(b *testing.B) { run(b, testkit.DryRunCompute()) })
	b.Run("encode", func(b *testing.B) {
		out := resizer.NewHandler(resizer.Options{Compute: testkit.DryRunCompute()}).Handle(context.Background(), req)
		if out.Err() != nil || !out.Data.DryRun {
			b.Fatalf("outcome %+v, want a succeeded dry run", out.Data)
		}
		a := resizer.EventAttributes{ID: out.Event.ID, Source: out.Event.Source, Subject: out.Event.Subject, Time: out.Event.Time}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := resizer.EncodeOutcome(a, out.Data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
