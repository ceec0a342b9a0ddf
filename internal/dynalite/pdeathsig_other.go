//go:build !linux

package dynalite

import "os/exec"

// setParentDeathSignal has no portable equivalent off Linux; Close (and
// CloseShared in TestMain) is all there is.
func setParentDeathSignal(*exec.Cmd) {}
