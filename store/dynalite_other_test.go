//go:build !linux

package store_test

import "os/exec"

// setParentDeathSignal has no portable equivalent off Linux; TestMain's
// cleanup is all there is.
func setParentDeathSignal(*exec.Cmd) {}
