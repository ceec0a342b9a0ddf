package rie

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
)

// build is the outcome of one `make build`, shared by every caller in the
// test process that names the same repository.
type build struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

var builds sync.Map // absolute repository root → *build

// BuildBootstrap runs `make build` in repoRoot once per test process and
// returns the path of the bin/bootstrap it wrote; it fails t with make's
// output when that does not work.
func BuildBootstrap(t testing.TB, repoRoot string) string {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatalf("rie: repository root: %v", err)
	}
	v, _ := builds.LoadOrStore(root, new(build))
	b := v.(*build)
	b.once.Do(func() { b.path, b.out, b.err = makeBuild(root) })
	if b.err != nil {
		t.Fatalf("rie: make build in %s: %v\n%s", root, b.err, b.out)
	}
	return b.path
}

func makeBuild(root string) (string, []byte, error) {
	// Test processes of several packages may build the same tree at once;
	// go build replaces its output in place, so one at a time.
	unlock, err := lockRepo(root)
	if err != nil {
		return "", nil, err
	}
	defer unlock()
	cmd := exec.Command("make", "build")
	cmd.Dir = root
	// The emulator runs the binary on this machine, whatever GOARCH the
	// environment asks for.
	cmd.Env = append(os.Environ(), "GOARCH="+runtime.GOARCH)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", out, err
	}
	path := filepath.Join(root, "bin", "bootstrap")
	if fi, err := os.Stat(path); err != nil {
		return "", out, fmt.Errorf("make build succeeded but left no binary: %w", err)
	} else if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", out, errors.New("make build succeeded but " + path + " is not an executable file")
	}
	return path, out, nil
}

// lockRepo takes an exclusive flock on bin/.build.lock, in the directory
// make writes to anyway (and git ignores); the kernel drops it if the
// process dies.
func lockRepo(root string) (func(), error) {
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, fmt.Errorf("build lock: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(bin, ".build.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("build lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("build lock: %w", err)
	}
	return func() { f.Close() }, nil
}
