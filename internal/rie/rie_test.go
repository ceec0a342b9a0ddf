package rie

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEchoRoundTrip(t *testing.T) {
	bin := echoBinary(t) // built before the clock starts
	began := time.Now()
	e := start(t, Options{Binary: bin})
	body, fnErr := invoke(t, e, `{"hello":"world"}`)
	t.Logf("cold start (Start → first answer): %v", time.Since(began))
	if fnErr || body != `{"hello":"world"}` {
		t.Fatalf("answer %s (function error %v), want the payload back", body, fnErr)
	}
	for _, payload := range []string{`"just a string"`, `[1,2,3]`, `42`, `{"nested":{"ü":["ß",null,true]}}`} {
		if body, fnErr := invoke(t, e, payload); fnErr || body != payload {
			t.Errorf("answer %s (function error %v), want %s", body, fnErr, payload)
		}
	}
}

func TestTwoSerialInvocations(t *testing.T) {
	e := start(t, Options{})
	first := pidOf(t, e)
	began := time.Now()
	second := pidOf(t, e)
	t.Logf("warm invoke: %v", time.Since(began))
	if first != second {
		t.Errorf("served by pids %d then %d, want one warm process for both", first, second)
	}
	if body, _ := invoke(t, e, `{"n":2}`); body != `{"n":2}` {
		t.Errorf("answer %s, want {\"n\":2}", body)
	}
}

func TestFunctionErrorIsReportedAsFunctionErr(t *testing.T) {
	e := start(t, Options{Timeout: time.Second})
	for _, tc := range []struct {
		name    string
		payload string
		fnErr   bool
		check   func(body string) bool
	}{
		{"handler error", `{"fail":"boom"}`, true, func(b string) bool {
			var v map[string]string
			return json.Unmarshal([]byte(b), &v) == nil && v["errorMessage"] == "boom" && v["errorType"] == "errorString"
		}},
		{"runtime exit", `{"exit":3}`, true, func(b string) bool {
			return strings.Contains(b, `"errorType":"Runtime.ExitError"`) && strings.Contains(b, "exit status 3")
		}},
		{"timeout", `{"sleep":"10s"}`, true, func(b string) bool {
			return b == "Task timed out after 1.00 seconds"
		}},
		{"answer with an errorMessage only", `{"errorMessage":"fine"}`, false, func(b string) bool {
			return b == `{"errorMessage":"fine"}`
		}},
		{"answer with differently cased keys", `{"ErrorType":"a","ErrorMessage":"b"}`, false, func(b string) bool {
			return b == `{"ErrorType":"a","ErrorMessage":"b"}`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, fnErr := invoke(t, e, tc.payload)
			if fnErr != tc.fnErr || !tc.check(body) {
				t.Errorf("answer %q, function error %v; want function error %v", body, fnErr, tc.fnErr)
			}
			// The emulator replaces a crashed or timed-out bootstrap.
			if body, fnErr := invoke(t, e, `{"after":"`+tc.name+`"}`); fnErr || !strings.Contains(body, tc.name) {
				t.Errorf("next invocation answered %q (function error %v)", body, fnErr)
			}
		})
	}
}

func TestEnvReachesFunction(t *testing.T) {
	// Set in the test's own environment, which must not reach the function.
	t.Setenv("HOME", t.TempDir())
	t.Setenv("RIE_TEST_OUTSIDE", "leaked")
	e := start(t, Options{
		Env: map[string]string{
			"RESIZER_PROBE": "a=b c ü",
			"AWS_REGION":    "eu-central-1",
			"LOG_LEVEL":     "dpanic", // a zap level the emulator itself could not parse
		},
		Timeout: 1500 * time.Millisecond,
	})
	for _, tc := range []struct {
		name, want string
		found      bool
	}{
		{"RESIZER_PROBE", "a=b c ü", true},
		{"AWS_REGION", "eu-central-1", true},
		{"AWS_DEFAULT_REGION", "us-east-1", true},
		{"AWS_EC2_METADATA_DISABLED", "true", true},
		{"LOG_LEVEL", "dpanic", true},
		{"AWS_LAMBDA_FUNCTION_TIMEOUT", "2", true},
		{"AWS_ACCESS_KEY_ID", "", true}, // the emulator defines it, empty
		{"HOME", "", false},
		{"RIE_TEST_OUTSIDE", "", false},
	} {
		if v, found := envOf(t, e, tc.name); v != tc.want || found != tc.found {
			t.Errorf("%s = %q (set %v), want %q (set %v)", tc.name, v, found, tc.want, tc.found)
		}
	}
	if v, _ := envOf(t, e, "AWS_LAMBDA_RUNTIME_API"); !strings.HasPrefix(v, "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q, want the emulator's loopback address", v)
	}
}

func TestOutputReachesWritersWithoutEnvValues(t *testing.T) {
	const secret = "jd-secret-0f9a8b7c6d5e"
	stdout, stderr := newLogBuffer(), newLogBuffer()
	e := start(t, Options{Env: map[string]string{"JDCLOUD_SECRET_KEY": secret}, Stdout: stdout, Stderr: stderr})
	if v, _ := envOf(t, e, "JDCLOUD_SECRET_KEY"); v != secret {
		t.Fatalf("the function did not get the secret, so its absence below would prove nothing")
	}
	invoke(t, e, `{"print":"hello-log"}`)
	stdout.waitFor(t, "stdout: hello-log")
	stdout.waitFor(t, "stderr: hello-log") // the function's stderr joins the emulator's stdout
	stdout.waitFor(t, "REPORT RequestId:")
	stderr.waitFor(t, "(rapid)")
	invoke(t, e, `{"fail":"boom"}`)
	stdout.waitFor(t, `{"errorMessage":"boom"`)
	if err := e.Close(); err != nil { // Close waits for the output to be copied
		t.Fatal(err)
	}
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if strings.Contains(out, secret) {
			t.Errorf("the secret appears in the emulator's %s:\n%s", name, out)
		}
	}
}

func TestOutputWritersMayBeSharedOrFiles(t *testing.T) {
	t.Run("one writer for both", func(t *testing.T) {
		both := newLogBuffer()
		e := start(t, Options{Stdout: both, Stderr: both})
		invoke(t, e, `{"print":"shared"}`)
		both.waitFor(t, "stdout: shared")
		both.waitFor(t, "(rapid)")
	})
	t.Run("a file is handed over", func(t *testing.T) {
		f, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		e := start(t, Options{Stdout: f})
		invoke(t, e, `{"print":"to a file"}`)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(f.Name()); !strings.Contains(string(b), "stdout: to a file") {
			t.Errorf("file holds %q", b)
		}
		// Close must not close the caller's file.
		if _, err := f.WriteString("still open\n"); err != nil {
			t.Errorf("caller's file: %v", err)
		}
	})
}

func TestCloseLeavesNoProcessBehind(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		e := start(t, Options{})
		fn, rie := pidOf(t, e), e.cmd.Process.Pid
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		for name, pid := range map[string]int{"function": fn, "emulator": rie} {
			if !processGone(pid) {
				t.Errorf("%s process %d still exists after Close", name, pid)
			}
		}
		if _, _, err := e.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, ErrClosed) {
			t.Errorf("Invoke after Close: %v, want ErrClosed", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
	t.Run("mid-invocation", func(t *testing.T) {
		stdout := newLogBuffer()
		e := start(t, Options{Stdout: stdout})
		rie := e.cmd.Process.Pid
		answered := make(chan error, 1)
		go func() {
			_, _, err := e.Invoke(context.Background(), []byte(`{"print":"sleeping","sleep":"60s"}`))
			answered <- err
		}()
		fn := pidIn(t, stdout.waitFor(t, "stdout: sleeping pid="))
		began := time.Now()
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("Close during an invocation took %v", time.Since(began))
		if err := <-answered; err == nil {
			t.Error("the interrupted Invoke reported success")
		}
		for name, pid := range map[string]int{"function": fn, "emulator": rie} {
			if !processGone(pid) {
				t.Errorf("%s process %d still exists after Close", name, pid)
			}
		}
	})
	t.Run("emulator killed mid-invocation", func(t *testing.T) {
		stdout := newLogBuffer()
		// Not start(): its clean-up would fail on the death this provokes.
		e, err := Start(context.Background(), Options{Binary: echoBinary(t), Stdout: stdout})
		if err != nil {
			t.Fatal(err)
		}
		go e.Invoke(context.Background(), []byte(`{"print":"sleeping","sleep":"60s"}`))
		fn := pidIn(t, stdout.waitFor(t, "stdout: sleeping pid="))
		// Without the emulator's own shutdown the bootstrap lives on.
		if err := e.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-e.exited
		if err := e.Close(); err == nil || !strings.Contains(err.Error(), "signal: killed") {
			t.Errorf("Close: %v, want it to report the emulator's death", err)
		}
		// Orphaned, it is init's to reap: dead is all Close can promise.
		if !processDead(fn) {
			t.Errorf("function process %d still runs after Close", fn)
		}
	})
}

func TestOverlappingInvokesAreSerialised(t *testing.T) {
	e := start(t, Options{})
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			// The sleep keeps each invocation in flight long enough for the
			// others to arrive: unserialised, the emulator would crash.
			payload := fmt.Sprintf(`{"sleep":"30ms","n":%d}`, i)
			body, fnErr, err := e.Invoke(context.Background(), []byte(payload))
			if err != nil || fnErr || string(body) != payload {
				errs <- fmt.Errorf("invocation %d: answer %s, function error %v, err %v", i, body, fnErr, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A crash would surface here.
	if err := e.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestAbandonedInvokeDoesNotOverlapTheNext(t *testing.T) {
	e := start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := e.Invoke(ctx, []byte(`{"sleep":"1500ms"}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke: %v, want the deadline", err)
	}
	// Sent at once: it must wait for the emulator to finish the first.
	if body, fnErr := invoke(t, e, `{"next":true}`); fnErr || body != `{"next":true}` {
		t.Errorf("answer %s (function error %v)", body, fnErr)
	}
	if err := e.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	bin := echoBinary(t)
	notExec := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"missing binary", Options{Binary: filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"binary not executable", Options{Binary: notExec}, "not an executable"},
		{"timeout through Env", Options{Binary: bin, Env: map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "5"}}, "Options.Timeout"},
		{"runtime API through Env", Options{Binary: bin, Env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "x"}}, "belongs to the emulator"},
		{"name with =", Options{Binary: bin, Env: map[string]string{"A=B": "x"}}, "invalid environment variable name"},
		{"negative timeout", Options{Binary: bin, Timeout: -time.Second}, "negative timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Start(context.Background(), tc.o)
			if err == nil {
				_ = e.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// An emulator that dies before listening is retried on new ports, a bounded
// number of times: the usual cause is losing a just-picked port.
func TestStartRetriesAnEmulatorThatDiesEarly(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "starts")
	fake := "#!/bin/sh\necho start >> \"$RIE_TEST_STARTS\"\nexit 2\n"
	if err := os.WriteFile(filepath.Join(dir, emulatorName), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	_, err := Start(context.Background(), Options{Binary: echoBinary(t), Env: map[string]string{"RIE_TEST_STARTS": count}})
	if !errors.Is(err, errExitedEarly) || !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("Start: %v, want the early exit with its status", err)
	}
	if b, _ := os.ReadFile(count); strings.Count(string(b), "start") != startAttempts {
		t.Errorf("emulator started %d times, want %d", strings.Count(string(b), "start"), startAttempts)
	}
}

func BenchmarkWarmInvoke(b *testing.B) {
	e := start(b, Options{})
	invoke(b, e, `{}`) // pay the cold start outside the loop
	for b.Loop() {
		invoke(b, e, `{"hello":"world"}`)
	}
}
