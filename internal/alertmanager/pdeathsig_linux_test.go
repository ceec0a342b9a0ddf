package alertmanager

import (
	"bufio"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParentDeathKillsTheServer kills a process that started Alertmanager,
// with no chance to Close it, and expects Alertmanager to go too.
func TestParentDeathKillsTheServer(t *testing.T) {
	t.Parallel()
	Installed(t)
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"=1")
	helper.Stderr = os.Stderr
	stdin, err := helper.StdinPipe() // held open: the helper waits on it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	fields := strings.Fields(line)
	var serverPid int
	if err == nil && len(fields) == 3 {
		serverPid, err = strconv.Atoi(fields[0])
	}
	if err != nil || len(fields) != 3 {
		_ = helper.Process.Kill()
		_ = helper.Wait()
		t.Fatalf("helper said %q (%v)", line, err)
	}
	endpoint, dir := fields[1], fields[2]
	// Should the server survive, this test must not leak it; the helper
	// never got to remove its directory.
	t.Cleanup(func() {
		_ = syscall.Kill(serverPid, syscall.SIGKILL)
		_ = os.RemoveAll(dir)
	})

	// An idle connection to the server ends when its process dies: that is
	// the signal waited for, with a deadline as the failure.
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait() // "signal: killed", as intended

	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Read(make([]byte, 1))
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		t.Fatal("alertmanager outlived the process that started it")
	}
	if err == nil {
		t.Fatal("alertmanager answered an idle connection")
	}
	requireRefused(t, endpoint)
}
