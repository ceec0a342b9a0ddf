package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/dynalite"
	"github.com/jdcloud-vm-resizer/resizer/internal/rie"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

// Two copies of the function — two bootstrap processes under two emulators —
// share one simulator and one DynamoDB table, as two warm Lambda copies do.

type pair struct {
	sim  *jdcloudsim.Server
	sink *sinkServer
	a, b *e2e
}

func startPair(t *testing.T, transition time.Duration, env map[string]string) *pair {
	t.Helper()
	srv, err := dynalite.Shared()
	if err != nil {
		t.Fatal(err)
	}
	sim, err := jdcloudsim.Start(jdcloudsim.Options{Transition: transition})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	p := &pair{sim: sim, sink: newSink(t, 0)}
	fenv := map[string]string{
		"JDCLOUD_ACCESS_KEY":        jdcloudsim.DemoAccessKey,
		"JDCLOUD_SECRET_KEY":        jdcloudsim.DemoSecretKey,
		"JDCLOUD_ENDPOINT":          sim.URL(),
		"RESULT_SINK_URL":           p.sink.URL + "/outcomes",
		"IDEMPOTENCY_TABLE":         dynalite.NewTable(t, srv.Client()),
		"AWS_ENDPOINT_URL_DYNAMODB": srv.Endpoint(),
		"AWS_ACCESS_KEY_ID":         dynalite.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     dynalite.SecretAccessKey,
		"AWS_REGION":                "us-east-1",
	}
	for k, v := range env {
		fenv[k] = v
	}
	bin := rie.BuildBootstrap(t, "..")
	p.a, p.b = startEmulator(t, bin, sim, p.sink, fenv), startEmulator(t, bin, sim, p.sink, fenv)
	return p
}

func cloudEvent(t *testing.T, typ, source, id string, data map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "source": source, "type": typ,
		"datacontenttype": "application/json", "data": data,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A request held by one copy is approved through the other; a second
// approval, through either, replays the outcome. docs/contract.md §8.
func TestApprovalAcrossProcesses(t *testing.T) {
	p := startPair(t, 0, map[string]string{"APPROVAL_REQUIRED_SOURCES": "alertmanager/"})
	body, ferr := p.a.invoke(t, cloudEvent(t, resizer.TypeRequested, "alertmanager/prod", "fp1:2026-12-02T01:00:00Z",
		map[string]any{"regionId": "cn-north-1", "instanceId": "i-ladder01", "direction": "up"}))
	held := parseOutcome(t, body)
	if ferr || held.Type != resizer.TypePending || held.Data.Approval == nil || held.Data.InstanceType != "g.n4.xlarge" {
		t.Fatalf("want pending g.n4.xlarge, got %s\n%s", body, p.a.logs.String())
	}
	id := held.Data.Approval.ID
	approve := func(e *e2e, eventID string) outcomeEvent {
		body, ferr := e.invoke(t, cloudEvent(t, resizer.TypeApproved, "jira/OPS", eventID,
			map[string]any{"approvalId": id, "approvedBy": "ana@example.com"}))
		if ferr {
			t.Fatalf("approval failed: %s", body)
		}
		return parseOutcome(t, body)
	}
	done := approve(p.b, "OPS-7:10001")
	if done.Type != resizer.TypeSucceeded || !done.Data.Changed || done.Data.Request.ID != "fp1:2026-12-02T01:00:00Z" || done.Data.Approval.ApprovedBy != "ana@example.com" {
		t.Fatalf("approved run: %+v\n%s", done, p.b.logs.String())
	}
	for i, e := range []*e2e{p.a, p.b} {
		if again := approve(e, fmt.Sprintf("OPS-7:1000%d", i+2)); again.ID != done.ID {
			t.Fatalf("second approval through copy %d: outcome %s, want the replay of %s", i, again.ID, done.ID)
		}
	}
	if n := p.sim.Calls(jdcloudsim.OpResizeInstance); n != 1 {
		t.Fatalf("resizeInstance calls = %d, want 1", n)
	}
}

// Staggered requests for one instance (different ids and targets) through
// two copies: exactly one resize per instance, the machine running; the
// other request is refused instance_busy or cooldown_active.
func TestStaggeredRequestsAcrossProcesses(t *testing.T) {
	p := startPair(t, 150*time.Millisecond, map[string]string{"ALLOW_STOP": "true", "COOLDOWN": "1h"})
	base, _ := p.sim.Instance("cn-north-1", "i-running01")
	for i := range 6 {
		inst := base
		inst.InstanceID = fmt.Sprintf("i-pair%03d", i)
		p.sim.PutInstance("cn-north-1", inst)
		var wg sync.WaitGroup
		outs := make([]outcomeEvent, 2)
		busy := make([]bool, 2)
		for j, e := range []*e2e{p.a, p.b} {
			wg.Go(func() {
				time.Sleep(time.Duration(j*i*15) * time.Millisecond)
				body, ferr := e.invoke(t, cloudEvent(t, resizer.TypeRequested, "alertmanager/prod", fmt.Sprintf("%s-%d", inst.InstanceID, j),
					map[string]any{"regionId": "cn-north-1", "instanceId": inst.InstanceID, "instanceType": []string{"g.n2.large", "g.n3.large"}[j], "stopIfRunning": true}))
				if ferr {
					// A retryable outcome is a Lambda error, so that Lambda retries.
					busy[j] = strings.Contains(string(body), "being changed by another request")
					if !busy[j] {
						t.Errorf("%s: Lambda error %s", inst.InstanceID, body)
					}
					return
				}
				outs[j] = parseOutcome(t, body)
			})
		}
		wg.Wait()
		changed := 0
		for j, o := range outs {
			switch {
			case busy[j]:
			case o.Type == resizer.TypeSucceeded && o.Data.Changed:
				changed++
			case o.Data.Error != nil && (o.Data.Error.Reason == resizer.ReasonInstanceBusy || o.Data.Error.Reason == resizer.ReasonCooldownActive):
			default:
				t.Fatalf("%s: unexpected outcome %+v", inst.InstanceID, o)
			}
		}
		if changed != 1 {
			t.Fatalf("%s: %d requests changed it, want 1 (%+v)", inst.InstanceID, changed, outs)
		}
		if got, _ := p.sim.Instance("cn-north-1", inst.InstanceID); got.Status != resizer.StatusRunning {
			t.Fatalf("%s left %s", inst.InstanceID, got.Status)
		}
	}
	n := 0
	for _, q := range p.sim.Requests() {
		if q.Op == jdcloudsim.OpResizeInstance {
			n++
		}
	}
	if n != 6 {
		t.Fatalf("resizeInstance calls = %d for 6 instances, want 6", n)
	}
}
