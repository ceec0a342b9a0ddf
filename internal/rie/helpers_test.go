package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// echoRepo is a stand-in repository whose `make build` builds
// testdata/echo the way the product's Makefile builds ./function, so the
// tests get their bootstrap through BuildBootstrap itself.
var echoRepo string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	pkg, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	echoRepo, err = os.MkdirTemp("", "rie-echo-repo-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(echoRepo)
	makefile := "build:\n" +
		"\tmkdir -p bin\n" +
		"\tcd " + pkg + " && CGO_ENABLED=0 GOOS=linux go build -trimpath -tags lambda.norpc -ldflags '-s -w' -o $(CURDIR)/bin/bootstrap ./testdata/echo\n"
	if err := os.WriteFile(filepath.Join(echoRepo, "Makefile"), []byte(makefile), 0o644); err != nil {
		return 0, err
	}
	code := m.Run()
	// Other packages' tests run the harness under goleak; Close must leave
	// no goroutine of it behind.
	if err := goleak.Find(); err != nil && code == 0 {
		return 1, err
	}
	return code, nil
}

func echoBinary(t testing.TB) string {
	t.Helper()
	return BuildBootstrap(t, echoRepo)
}

// start runs the echo function under the emulator and closes it when the
// test ends, failing the test if the emulator had died on its own.
func start(t testing.TB, o Options) *Emulator {
	t.Helper()
	if o.Binary == "" {
		o.Binary = echoBinary(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := Start(ctx, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// invoke is Invoke bounded by a generous deadline, failing on a transport
// error.
func invoke(t testing.TB, e *Emulator, payload string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, fnErr, err := e.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("Invoke(%s): %v", payload, err)
	}
	return string(body), fnErr
}

// envOf asks the echo function for one variable of its environment.
func envOf(t *testing.T, e *Emulator, name string) (string, bool) {
	t.Helper()
	body, fnErr := invoke(t, e, `{"env":"`+name+`"}`)
	var a struct {
		Value string `json:"value"`
		Found bool   `json:"found"`
	}
	if fnErr || json.Unmarshal([]byte(body), &a) != nil {
		t.Fatalf("env %s: answer %s (function error %v)", name, body, fnErr)
	}
	return a.Value, a.Found
}

// pidOf asks the echo function which process serves it.
func pidOf(t *testing.T, e *Emulator) int {
	t.Helper()
	body, fnErr := invoke(t, e, `{"pid":true}`)
	var a struct{ PID int }
	if fnErr || json.Unmarshal([]byte(body), &a) != nil || a.PID == 0 {
		t.Fatalf("pid: answer %s (function error %v)", body, fnErr)
	}
	return a.PID
}

// processGone: kill(pid, 0) fails with ESRCH only once the process has been
// reaped; a zombie still counts as present.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// processDead also accepts a zombie, whose reaping is up to its parent.
func processDead(pid int) bool {
	s, ok := state(pid)
	return !ok || s == 'Z' || processGone(pid)
}

// pidIn reads the pid the echo function appends to a printed line.
func pidIn(t testing.TB, line string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(line[strings.LastIndex(line, "=")+1:]))
	if err != nil {
		t.Fatalf("pid in %q: %v", line, err)
	}
	return pid
}

// logBuffer collects the emulator's output and lets a test wait for a line:
// the output arrives through a pipe, after the invocation that wrote it may
// already have answered.
type logBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor returns the first line containing s, failing after 10s.
func (l *logBuffer) waitFor(t testing.TB, s string) string {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		l.mu.Lock()
		text, changed := l.b.String(), l.changed
		l.mu.Unlock()
		for line := range strings.Lines(text) {
			if strings.Contains(line, s) {
				return line
			}
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("no %q in output:\n%s", s, text)
		}
	}
}
