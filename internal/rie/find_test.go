package rie

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeExecutable writes an executable named name into dir.
func fakeExecutable(t *testing.T, dir, name string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// pathWithGoOnly returns a PATH holding the go command and nothing else, so
// FindEmulator can ask `go env GOPATH` but finds no emulator on PATH.
func pathWithGoOnly(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(goCmd, filepath.Join(dir, "go")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFindEmulator(t *testing.T) {
	t.Run("on PATH first", func(t *testing.T) {
		onPath := fakeExecutable(t, t.TempDir(), emulatorName)
		gopath := t.TempDir()
		fakeExecutable(t, filepath.Join(gopath, "bin"), emulatorName)
		t.Setenv("PATH", filepath.Dir(onPath)+string(filepath.ListSeparator)+pathWithGoOnly(t))
		t.Setenv("GOPATH", gopath)
		if got, err := FindEmulator(); err != nil || got != onPath {
			t.Errorf("FindEmulator() = %q, %v; want %q", got, err, onPath)
		}
	})
	t.Run("then in the bin of any GOPATH entry", func(t *testing.T) {
		empty, gopath := t.TempDir(), t.TempDir()
		want := fakeExecutable(t, filepath.Join(gopath, "bin"), emulatorName)
		t.Setenv("PATH", pathWithGoOnly(t))
		t.Setenv("GOPATH", empty+string(filepath.ListSeparator)+gopath)
		if got, err := FindEmulator(); err != nil || got != want {
			t.Errorf("FindEmulator() = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("else says how to install it", func(t *testing.T) {
		t.Setenv("PATH", pathWithGoOnly(t))
		t.Setenv("GOPATH", t.TempDir())
		if got, err := FindEmulator(); err == nil || !strings.Contains(err.Error(), "scripts/install-rie.sh") {
			t.Errorf("FindEmulator() = %q, %v; want an error naming scripts/install-rie.sh", got, err)
		}
	})
}
