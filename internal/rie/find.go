package rie

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// emulatorName is the command scripts/install-rie.sh installs.
const emulatorName = "aws-lambda-rie"

// FindEmulator returns the path of aws-lambda-rie: the one on PATH, else the
// one `go install` put in $(go env GOPATH)/bin, which is often not on PATH.
func FindEmulator() (string, error) {
	if p, err := exec.LookPath(emulatorName); err == nil {
		return filepath.Abs(p)
	}
	for _, dir := range filepath.SplitList(goPath()) {
		p := filepath.Join(dir, "bin", emulatorName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("rie: " + emulatorName + " is neither on PATH nor in $(go env GOPATH)/bin; run scripts/install-rie.sh")
}

// goPath asks the go command, which also knows a GOPATH set with `go env -w`;
// without one it falls back to what the go command would default to.
func goPath() string {
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		if p := strings.TrimSpace(string(out)); p != "" {
			return p
		}
	}
	if p := os.Getenv("GOPATH"); p != "" {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go")
	}
	return ""
}
