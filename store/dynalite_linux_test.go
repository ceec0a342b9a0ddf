package store_test

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills dynalite if the test binary dies without
// reaching TestMain's cleanup (a -timeout panic, a crash), so no server
// outlives its tests holding a port.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
