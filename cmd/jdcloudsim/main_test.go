package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is stderr: the server's goroutines write while run runs.
type syncBuffer = testkit.SyncBuffer

// started is a run in progress.
type started struct {
	url    string
	stderr *syncBuffer
	stop   func() (rest string, err error)
}

var readyLine = regexp.MustCompile(`^jdcloudsim listening on (http://127\.0\.0\.1:[0-9]+)\n$`)

func startRun(t *testing.T, args []string, env map[string]string) started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, pw, stderr)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no ready line (%v); stderr:\n%s", err, stderr)
	}
	m := readyLine.FindStringSubmatch(line)
	if m == nil {
		cancel()
		t.Fatalf("ready line %q", line)
	}
	return started{url: m[1], stderr: stderr, stop: func() (string, error) {
		cancel()
		rest, _ := io.ReadAll(br)
		return string(rest), <-done
	}}
}

func get(t *testing.T, base, path string, creds jdcloud.Credentials) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	jdcloud.Stamp(req.Header, time.Now(), uuid.NewString())
	jdcloud.Sign(req, nil, creds, "cn-north-1", "vm")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRunServesLogsAndStops(t *testing.T) {
	mine := jdcloud.Credentials{AccessKey: "AKENV0001", SecretKey: "env-secret-value-42"}
	r := startRun(t, nil, map[string]string{"JDCLOUD_ACCESS_KEY": mine.AccessKey, "JDCLOUD_SECRET_KEY": mine.SecretKey})
	if got := get(t, r.url, "/v1/regions/cn-north-1/instances/i-stopped01", mine); got != http.StatusOK {
		t.Errorf("env credentials: status %d", got)
	}
	demo := jdcloud.Credentials{AccessKey: jdcloudsim.DemoAccessKey, SecretKey: jdcloudsim.DemoSecretKey}
	if got := get(t, r.url, "/v1/regions/cn-north-1/instances/i-stopped01", demo); got != http.StatusUnauthorized {
		t.Errorf("demo pair still accepted beside env credentials: status %d", got)
	}
	rest, err := r.stop()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if rest != "" {
		t.Errorf("stdout has more than the ready line: %q", rest)
	}
	log := r.stderr.String()
	for _, want := range []string{
		"op=describeInstance method=GET path=/v1/regions/cn-north-1/instances/i-stopped01 status=200 signature=ok accessKey=AKENV0001",
		"status=401 signature=rejected accessKey=" + jdcloudsim.DemoAccessKey,
		"shutting down",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, mine.SecretKey) || strings.Contains(log, jdcloudsim.DemoSecretKey) {
		t.Errorf("stderr shows a secret key:\n%s", log)
	}
}

func TestRunDefaultsToDemoPairAndReadsFixture(t *testing.T) {
	fx := filepath.Join(t.TempDir(), "fixture.json")
	if err := os.WriteFile(fx, []byte(`{"regions":{"cn-north-1":{"azs":["cn-north-1a"],"instances":[{"instanceId":"i-fromfile01","az":"cn-north-1a","status":"running"}]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Half a pair from the environment is ignored.
	r := startRun(t, []string{"-fixture", fx, "-transition", "1s"}, map[string]string{"JDCLOUD_ACCESS_KEY": "AKHALF"})
	demo := jdcloud.Credentials{AccessKey: jdcloudsim.DemoAccessKey, SecretKey: jdcloudsim.DemoSecretKey}
	if got := get(t, r.url, "/v1/regions/cn-north-1/instances/i-fromfile01", demo); got != http.StatusOK {
		t.Errorf("fixture instance: status %d", got)
	}
	if got := get(t, r.url, "/v1/regions/cn-north-1/instances/i-stopped01", demo); got != http.StatusNotFound {
		t.Errorf("seed instance present despite -fixture: status %d", got)
	}
	if _, err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stderr.String(), "only one of JDCLOUD_ACCESS_KEY and JDCLOUD_SECRET_KEY") {
		t.Errorf("no warning about half a pair:\n%s", r.stderr)
	}
}

// -rate throttles like JD's gateway: a burst of max(1, rate), then 429.
// At 0.01/s the one token comes back after 100s, far beyond the test.
func TestRunRateLimit(t *testing.T) {
	r := startRun(t, []string{"-rate", "0.01", "-transition", "5.5s"}, nil)
	demo := jdcloud.Credentials{AccessKey: jdcloudsim.DemoAccessKey, SecretKey: jdcloudsim.DemoSecretKey}
	var got []int
	for range 3 {
		got = append(got, get(t, r.url, "/v1/regions/cn-north-1/instances/i-stopped01", demo))
	}
	if _, err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if got[0] != http.StatusOK || got[1] != http.StatusTooManyRequests || got[2] != http.StatusTooManyRequests {
		t.Errorf("statuses %v, want 200 429 429", got)
	}
	if !strings.Contains(r.stderr.String(), "status=429") {
		t.Errorf("throttled call not logged:\n%s", r.stderr)
	}
}

func TestRunRefusesBadInvocations(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown flag":    {"-port", "1"},
		"bad duration":    {"-transition", "soon"},
		"negative rate":   {"-rate", "-1"},
		"bad rate":        {"-rate", "fast"},
		"missing fixture": {"-fixture", filepath.Join(t.TempDir(), "nope.json")},
		"bad address":     {"-addr", "127.0.0.1:notaport"},
		"stray argument":  {"extra"},
	} {
		// Already cancelled: a run that wrongly starts returns at once
		// (with a ready line on stdout) instead of hanging the test.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var stdout, stderr bytes.Buffer
		if err := run(ctx, args, func(string) string { return "" }, &stdout, &stderr); err == nil {
			t.Errorf("%s: run accepted %v", name, args)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: printed a ready line: %q", name, stdout.String())
		}
	}
}

func TestRunUsageListsFlagsAndControls(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"usage: jdcloudsim", "-rate", "-transition", "-fixture", "-addr",
		"DropBeforeApply", "DropAfterApply", "RefuseStart", "StartEndsIn", "SetStock", "SetRateLimit", "PeakOutOfService"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stderr.String())
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("usage went to stdout: %q", stdout.String())
	}
}

func TestBaseURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"[::]:8080":      "http://127.0.0.1:8080",
		"0.0.0.0:9":      "http://127.0.0.1:9",
		"[::1]:9":        "http://[::1]:9",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := baseURL(a); got != want {
			t.Errorf("baseURL(%s) = %s, want %s", addr, got, want)
		}
	}
}
