package dynalite

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills dynalite if the test binary dies without
// closing it (a -timeout panic, a crash, a SIGKILL), so no Node.js process
// outlives its tests holding a port.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
