package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// bootstrapPID finds the bootstrap process whose environment holds marker.
func bootstrapPID(t *testing.T, marker string) int {
	t.Helper()
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
		if err != nil || !bytes.Contains(env, []byte(marker)) {
			continue
		}
		if exe, _ := os.Readlink(filepath.Join("/proc", d.Name(), "exe")); strings.HasSuffix(exe, "/bootstrap") {
			return pid
		}
	}
	t.Fatalf("no bootstrap process with %s", marker)
	return 0
}

// Killing the copy that holds an instance mid-operation (by pid) lets the
// other copy take the instance over once the hold's lease — the killed
// invocation's deadline — has passed, and never before.
func TestKilledHolderIsTakenOverAfterItsLease(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Fatal("this test finds the bootstrap process through /proc (Linux)")
	}
	srv, err := dynalite.Shared()
	if err != nil {
		t.Fatal(err)
	}
	sim, err := jdcloudsim.Start(jdcloudsim.Options{Transition: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sink := newSink(t, 0)
	table := dynalite.NewTable(t, srv.Client())
	env := func(marker string) map[string]string {
		return map[string]string{
			"JDCLOUD_ACCESS_KEY": jdcloudsim.DemoAccessKey, "JDCLOUD_SECRET_KEY": jdcloudsim.DemoSecretKey,
			"JDCLOUD_ENDPOINT": sim.URL(), "RESULT_SINK_URL": sink.URL, "ALLOW_STOP": "true",
			"IDEMPOTENCY_TABLE": table, "AWS_ENDPOINT_URL_DYNAMODB": srv.Endpoint(),
			"AWS_ACCESS_KEY_ID": dynalite.AccessKeyID, "AWS_SECRET_ACCESS_KEY": dynalite.SecretAccessKey,
			"AWS_REGION": "us-east-1", "RESIZER_TEST_COPY": marker,
		}
	}
	bin := rie.BuildBootstrap(t, "..")
	const lease = 6 * time.Second
	start := func(marker string, timeout time.Duration) *e2e {
		logs := &lockedBuffer{}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		emu, err := rie.Start(ctx, rie.Options{Binary: bin, Env: env(marker), Stdout: logs, Stderr: logs, Timeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Close() })
		return &e2e{sim: sim, sink: sink, emu: emu, logs: logs}
	}
	a, b := start("copy-a", lease), start("copy-b", time.Minute)

	request := func(id string) []byte {
		return cloudEvent(t, resizer.TypeRequested, "ticketing/ops", id,
			map[string]any{"regionId": "cn-north-1", "instanceId": "i-running01", "instanceType": "g.n2.large", "stopIfRunning": true})
	}
	began := time.Now()
	go func() { _, _, _ = a.emu.Invoke(context.Background(), request("held-by-a")) }()
	for sim.Calls(jdcloudsim.OpStopInstance) == 0 {
		if time.Since(began) > 10*time.Second {
			t.Fatalf("copy a never stopped the instance\n%s", a.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(bootstrapPID(t, "RESIZER_TEST_COPY=copy-a"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	busy := func(id string) (bool, string) {
		body, ferr := b.invoke(t, request(id))
		return ferr && strings.Contains(string(body), "being changed by another request"), string(body)
	}
	if ok, body := busy("b-before-lease"); !ok {
		t.Fatalf("before the dead holder's lease ended: %s", body)
	}
	time.Sleep(time.Until(began.Add(lease + 2*time.Second)))
	if ok, body := busy("b-after-lease"); ok {
		t.Fatalf("after the lease the hold was not taken over: %s", body)
	}
}
