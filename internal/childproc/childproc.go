// Package childproc starts the servers the test harnesses run
// (internal/dynalite, internal/alertmanager) as child processes of the test
// binary: started with the parent-death signal on Linux, waited for in the
// background, killed and waited for on Close. It also holds what both
// harnesses need around such a server: a free loopback port, the repository
// root their installs sit under, retries on a lost port race, and a wait for
// a killed server's socket to close. Only tests import it.
package childproc

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// waitDelay bounds Wait once the process has exited: Wait also waits for
// the output copies, and should a grandchild ever hold the pipes open, Kill
// must still return.
const waitDelay = 5 * time.Second

// Proc is a started child process, waited for by a goroutine of its own.
type Proc struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has been waited for
	waitErr error         // written before done is closed
}

// Start sets the parent-death signal (DieWithParent) and a WaitDelay on cmd,
// starts it and waits for it in the background. Set cmd's Stdout and Stderr
// first; the caller must Kill the Proc, or see Done closed.
func Start(cmd *exec.Cmd) (*Proc, error) {
	DieWithParent(cmd)
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed once the process has exited and been waited for.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether Done is closed.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is what Wait returned; read it only once Done is closed.
func (p *Proc) Err() error { return p.waitErr }

// Pid is the process's id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// State is the process's exit status, nil until it has been waited for.
func (p *Proc) State() *os.ProcessState {
	if !p.Exited() {
		return nil
	}
	return p.cmd.ProcessState
}

// Kill kills the process if it still runs and returns once it has been
// waited for. Calling it again, or after the process died, is harmless.
func (p *Proc) Kill() {
	// An error here means the process has just exited on its own; done
	// still closes.
	_ = p.cmd.Process.Kill()
	<-p.done
}

// FreePort is a 127.0.0.1 TCP port that was free a moment ago: the server
// given it may lose it to someone else before binding it (see Attempts).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Attempts calls start up to n times, until it succeeds, and otherwise
// returns every attempt's error joined: a port picked by FreePort may be
// taken before the server binds it, and a fresh one then does.
func Attempts[T any](n int, start func() (T, error)) (T, error) {
	var errs []error
	for range n {
		v, err := start()
		if err == nil {
			return v, nil
		}
		errs = append(errs, err)
	}
	var zero T
	return zero, errors.Join(errs...)
}

// RepoRoot is the nearest directory holding go.mod at or above the working
// directory, which go test sets to the package under test, wherever that
// package sits: the harnesses' installs live in its .cache/.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("there is no go.mod above the working directory")
		}
		dir = parent
	}
}

// ErrStillAccepting is WaitRefused's error for an address that kept
// accepting connections.
var ErrStillAccepting = errors.New("still accepts connections")

// WaitRefused waits until nothing accepts TCP connections at addr
// (host:port), or fails with ErrStillAccepting after timeout. A dying
// process closes its descriptors one by one: a connection to it may end a
// moment before its listening socket does.
func WaitRefused(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return nil
		}
		c.Close()
		if time.Now().After(deadline) {
			return ErrStillAccepting
		}
		time.Sleep(50 * time.Millisecond)
	}
}
