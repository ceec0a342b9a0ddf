package alertmanager

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills Alertmanager (or amtool) if the test binary
// dies without closing it (a -timeout panic, a crash, a SIGKILL), so no
// server outlives its tests holding a port and notifying a dead receiver.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
