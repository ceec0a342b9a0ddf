package childproc

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParentDeathKillsTheServer kills a process that started a server, with
// no chance to Kill it, and expects the server to go too.
func TestParentDeathKillsTheServer(t *testing.T) {
	parent := helper(helperParent)
	stdin, err := parent.StdinPipe() // held open: the parent waits on it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	pid, addr, _ := strings.Cut(strings.TrimSpace(line), " ")
	serverPid, perr := strconv.Atoi(pid)
	if err != nil || perr != nil {
		_ = parent.Process.Kill()
		_ = parent.Wait()
		t.Fatalf("parent said %q (%v)", line, errors.Join(err, perr))
	}
	// Should the server survive, this test must not leak it.
	t.Cleanup(func() { _ = syscall.Kill(serverPid, syscall.SIGKILL) })

	// An idle connection to the server ends when its process dies: that is
	// the signal waited for, with a deadline as the failure.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait() // "signal: killed", as intended

	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Read(make([]byte, 1))
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		t.Fatal("the server outlived the process that started it")
	}
	if err == nil {
		t.Fatal("the server answered an idle connection")
	}
	if err := WaitRefused(addr, 5*time.Second); err != nil {
		t.Fatalf("%s %v", addr, err)
	}
}
