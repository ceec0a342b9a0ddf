package childproc

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the kernel kill cmd's process if the test binary dies
// without killing it (a -timeout panic, a crash, a SIGKILL), so no server
// outlives its tests holding a port. It replaces cmd.SysProcAttr.
func DieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
