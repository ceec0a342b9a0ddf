package rie

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeRepo is a directory whose Makefile has the given build recipe.
func fakeRepo(t *testing.T, recipe ...string) string {
	t.Helper()
	root := t.TempDir()
	makefile := "build:\n\t" + strings.Join(recipe, "\n\t") + "\n"
	if err := os.WriteFile(filepath.Join(root, "Makefile"), []byte(makefile), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// fatalRecorder stands in for t where BuildBootstrap is expected to fail,
// stopping its goroutine the way t.Fatal does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// buildFails runs BuildBootstrap expecting t.Fatal and returns its message.
func buildFails(t *testing.T, root string) string {
	t.Helper()
	f := &fatalRecorder{TB: t}
	done := make(chan string, 1)
	go func() {
		defer func() { done <- f.msg }()
		path := BuildBootstrap(f, root)
		f.msg = "no failure; returned " + path
	}()
	return <-done
}

func TestBuildBootstrap(t *testing.T) {
	t.Run("runs make build once and returns bin/bootstrap", func(t *testing.T) {
		// Whatever GOARCH says, the emulator runs the binary here.
		other := map[string]string{"amd64": "arm64"}[runtime.GOARCH]
		if other == "" {
			other = "amd64"
		}
		t.Setenv("GOARCH", other)
		root := fakeRepo(t,
			"echo run >> runs",
			"echo $$GOARCH > goarch",
			"mkdir -p bin",
			"printf '#!/bin/sh\\n' > bin/bootstrap",
			"chmod +x bin/bootstrap")
		want := filepath.Join(root, "bin", "bootstrap")
		for range 2 {
			if got := BuildBootstrap(t, root); got != want {
				t.Fatalf("BuildBootstrap = %q, want %q", got, want)
			}
		}
		if runs, _ := os.ReadFile(filepath.Join(root, "runs")); string(runs) != "run\n" {
			t.Errorf("make build ran %d times, want once", strings.Count(string(runs), "run"))
		}
		if goarch, _ := os.ReadFile(filepath.Join(root, "goarch")); strings.TrimSpace(string(goarch)) != runtime.GOARCH {
			t.Errorf("make saw GOARCH=%s, want %s", goarch, runtime.GOARCH)
		}
	})
	t.Run("fails the test with make's output", func(t *testing.T) {
		root := fakeRepo(t, "@echo 'undefined: resizer.Handler' >&2; exit 1")
		msg := buildFails(t, root)
		if !strings.Contains(msg, "make build") || !strings.Contains(msg, "undefined: resizer.Handler") {
			t.Errorf("failure message %q, want make's output in it", msg)
		}
		// Once per process: the failure is remembered, not retried.
		if again := buildFails(t, root); again != msg {
			t.Errorf("second call failed with %q, want the same %q", again, msg)
		}
	})
	t.Run("fails when make leaves no binary", func(t *testing.T) {
		root := fakeRepo(t, "@echo built nothing")
		if msg := buildFails(t, root); !strings.Contains(msg, "left no binary") {
			t.Errorf("failure message %q, want it to say no binary was left", msg)
		}
	})
}
