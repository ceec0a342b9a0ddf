//go:build !linux

package childproc

import "os/exec"

// DieWithParent has no portable equivalent off Linux; Kill (the harnesses'
// Close, and their TestMain) is all there is.
func DieWithParent(*exec.Cmd) {}
