package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/rie"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestHTTPServerModeWithSDKClient runs the binary as a plain CloudEvents
// receiver (no AWS_LAMBDA_RUNTIME_API) and sends it events with sdk-go's own
// client, in binary and in structured mode.
func TestHTTPServerModeWithSDKClient(t *testing.T) {
	bin := rie.BuildBootstrap(t, "..")
	sim, err := jdcloudsim.Start(jdcloudsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sink := newSink(t, 0)
	const token = "e2e-bearer-token-value"
	cmd, base, exited, logs := startServer(t, bin, sim, sink, token)
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("server exited with %v after SIGTERM\n%s", err, logs.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("server did not stop within 10 s of SIGTERM")
		}
	}()
	p, err := cehttp.New(cehttp.WithTarget(base+"/"), cehttp.WithHeader("Authorization", "Bearer "+token))
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloudevents.NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []struct {
		name     string
		instance string
		ctx      context.Context
	}{
		{"binary", "i-stopped01", context.Background()},
		{"structured", "i-stopped02", cloudevents.WithEncodingStructured(context.Background())},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ev := cloudevents.NewEvent()
			ev.SetID("server-mode-" + mode.name)
			ev.SetSource("ticketing/approvals")
			ev.SetType(resizer.TypeRequested)
			ev.SetSubject("ticket OPS-1, approved")
			_ = ev.SetData(cloudevents.ApplicationJSON, map[string]any{
				"regionId": "cn-north-1", "instanceId": mode.instance, "instanceType": "g.n2.large",
			})
			ctx, cancel := context.WithTimeout(mode.ctx, 20*time.Second)
			defer cancel()
			resp, result := client.Request(ctx, ev)
			if !cloudevents.IsACK(result) {
				t.Fatalf("request not acknowledged: %v\n%s", result, logs.String())
			}
			if resp == nil || resp.Type() != resizer.TypeSucceeded || resp.Subject() != mode.instance {
				t.Fatalf("response event %v", resp)
			}
		})
	}
	if n := sim.Calls(jdcloudsim.OpResizeInstance); n != 2 {
		t.Fatalf("resizeInstance calls = %d, want 2", n)
	}
	if len(sink.events()) != 2 {
		t.Fatalf("sink received %d events, want 2", len(sink.events()))
	}

	// Without the token: 401 and nothing runs.
	req, _ := http.NewRequest(http.MethodPost, base+"/", nil)
	req.Header.Set("Content-Type", "application/cloudevents+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated request answered %d, want 401", res.StatusCode)
	}
}

// startServer runs bin in HTTP server mode against sim and sink, with the
// bearer token and extra environment, and waits until it is healthy.
func startServer(t *testing.T, bin string, sim *jdcloudsim.Server, sink *sinkServer, token string, env ...string) (*exec.Cmd, string, chan error, *lockedBuffer) {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{
		"PATH=/usr/bin:/bin",
		fmt.Sprintf("PORT=%d", port),
		"JDCLOUD_ACCESS_KEY=" + jdcloudsim.DemoAccessKey,
		"JDCLOUD_SECRET_KEY=" + jdcloudsim.DemoSecretKey,
		"JDCLOUD_ENDPOINT=" + sim.URL(),
		"RESULT_SINK_URL=" + sink.URL,
		"WEBHOOK_TOKEN=" + token,
	}, env...)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHealthy(t, base+"/healthz", exited, logs)
	return cmd, base, exited, logs
}

func waitHealthy(t *testing.T, url string, exited <-chan error, logs *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("server exited early: %v\n%s", err, logs.String())
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server never answered %s\n%s", url, logs.String())
}

// TestHTTPServerModeSIGTERMMidFlow: a SIGTERM while a stop → resize → start
// is under way lets the delivery run for SHUTDOWN_GRACE, then ends it as a
// timeout that gives the machine back, answers the caller, publishes and
// logs its outcome, and only then exits (§12 "Shutdown").
func TestHTTPServerModeSIGTERMMidFlow(t *testing.T) {
	bin := rie.BuildBootstrap(t, "..")
	sim, err := jdcloudsim.Start(jdcloudsim.Options{Transition: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sink := newSink(t, 0)
	const token = "e2e-bearer-token-value"
	cmd, base, exited, logs := startServer(t, bin, sim, sink, token, "ALLOW_STOP=true", "SHUTDOWN_GRACE=1s")
	defer func() { _ = cmd.Process.Kill() }()

	body := `{"specversion":"1.0","id":"sigterm-1","source":"ticketing/approvals","type":"` + resizer.TypeRequested + `",
	  "datacontenttype":"application/json","data":{"regionId":"cn-north-1","instanceId":"i-running01",
	  "instanceType":"g.n2.large","stopIfRunning":true}}`
	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		answered <- answer{status: res.StatusCode, body: string(b)}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for sim.Calls(jdcloudsim.OpStopInstance) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stopInstance never called\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	var a answer
	select {
	case a = <-answered:
	case <-time.After(60 * time.Second):
		t.Fatalf("no answer within 60 s of SIGTERM\n%s", logs.String())
	}
	if a.err != nil || a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, `"timeout"`) {
		t.Fatalf("answer = %d %q (%v), want 503 with a timeout outcome\n%s", a.status, a.body, a.err, logs.String())
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("server exited with %v after SIGTERM\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not exit after the drain\n%s", logs.String())
	}
	evs := sink.events()
	if len(evs) != 1 || evs[0]["type"] != resizer.TypeFailed {
		t.Fatalf("sink received %v, want one failed outcome", evs)
	}
	if data, _ := evs[0]["data"].(map[string]any); data == nil || data["error"].(map[string]any)["code"] != "timeout" {
		t.Fatalf("sink outcome %v, want code timeout", evs[0])
	}
	if !strings.Contains(logs.String(), `"sigterm-1"`) || !strings.Contains(logs.String(), `"outcome"`) {
		t.Fatalf("no outcome line for the request in the log\n%s", logs.String())
	}
	inst, _ := sim.Instance("cn-north-1", "i-running01")
	if inst.Status != "running" {
		t.Fatalf("instance left %q after the shutdown, want running (given back)\n%s", inst.Status, logs.String())
	}
}
