package childproc

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestKill(t *testing.T) {
	p, addr, err := startServer()
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() || p.State() != nil {
		t.Fatal("the server is reported gone while it runs")
	}
	if err := WaitRefused(addr, 100*time.Millisecond); !errors.Is(err, ErrStillAccepting) {
		t.Errorf("WaitRefused on a live server = %v, want ErrStillAccepting", err)
	}
	p.Kill()
	if !p.Exited() {
		t.Fatal("Kill returned before the process was waited for")
	}
	if p.State() == nil {
		t.Fatal("no exit status after Kill")
	}
	if p.Err() == nil {
		t.Error("a killed process reports a clean exit")
	}
	if err := WaitRefused(addr, 5*time.Second); err != nil {
		t.Errorf("%s %v after Kill", addr, err)
	}
	p.Kill() // again: harmless
}

func TestStartError(t *testing.T) {
	cmd := helper(helperServer)
	cmd.Path = filepath.Join(t.TempDir(), "missing")
	if p, err := Start(cmd); err == nil {
		p.Kill()
		t.Fatal("Start succeeded without a binary")
	}
}

func TestAttempts(t *testing.T) {
	calls := 0
	v, err := Attempts(3, func() (int, error) {
		calls++
		if calls < 2 {
			return 0, errors.New("port taken")
		}
		return 7, nil
	})
	if err != nil || v != 7 || calls != 2 {
		t.Errorf("Attempts = %d, %v after %d calls, want 7, nil after 2", v, err, calls)
	}

	calls = 0
	_, err = Attempts(3, func() (int, error) {
		calls++
		return 0, errors.New("port taken")
	})
	if calls != 3 || err == nil {
		t.Fatalf("Attempts failing = %v after %d calls, want an error after 3", err, calls)
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 3 {
		t.Errorf("the error joins %d attempts, want 3", n)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("port %d is not free: %v", port, err)
	}
	l.Close()
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "childproc")); err != nil {
		t.Errorf("RepoRoot = %s, not this repository's root: %v", root, err)
	}
	t.Chdir(t.TempDir())
	if _, err := RepoRoot(); err == nil {
		t.Error("RepoRoot found a go.mod above a temporary directory")
	}
}
