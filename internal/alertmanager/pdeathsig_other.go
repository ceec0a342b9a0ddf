//go:build !linux

package alertmanager

import "os/exec"

// setParentDeathSignal has no portable equivalent off Linux; Close is all
// there is.
func setParentDeathSignal(*exec.Cmd) {}
