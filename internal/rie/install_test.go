package rie

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const pinnedVersion = "v0.0.0-20261030222936-bef5c4ba774d"

// fakeGo answers the three go commands the script uses, from FAKE_*
// variables, and records `go install` instead of reaching the network.
const fakeGo = `#!/bin/sh
case "$1" in
env) echo "$FAKE_GOPATH" ;;
install)
	echo "GOBIN=$GOBIN $*" > "$FAKE_GO_LOG"
	mkdir -p "$GOBIN" && printf '#!/bin/sh\n' > "$GOBIN/aws-lambda-rie" && chmod +x "$GOBIN/aws-lambda-rie" ;;
version)
	printf '%s: go1.26\n\tpath\tgithub.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie\n' "$3"
	printf '\tmod\tgithub.com/aws/aws-lambda-runtime-interface-emulator\t%s\th1:x=\n' "$FAKE_RIE_VERSION" ;;
*) exit 2 ;;
esac
`

type scriptRun struct {
	stdout, stderr string
	goLog          string // what `go install` was asked, "" if never
}

// runInstallScript runs scripts/install-rie.sh with a PATH of only the
// tools it needs, the fake go and extraPath, so an emulator installed on
// this machine cannot be found.
func runInstallScript(t *testing.T, env map[string]string, extraPath string) scriptRun {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	tools := t.TempDir()
	// awk for the script, mkdir and chmod for the fake go.
	for _, name := range []string{"awk", "mkdir", "chmod"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(tools, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tools, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	goLog := filepath.Join(t.TempDir(), "go.log")
	path := tools
	if extraPath != "" {
		path = extraPath + string(filepath.ListSeparator) + tools
	}
	cmd := exec.Command(sh, filepath.Join("..", "..", "scripts", "install-rie.sh"))
	cmd.Env = []string{"PATH=" + path, "FAKE_GO_LOG=" + goLog, "FAKE_RIE_VERSION=" + pinnedVersion}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("install-rie.sh: %v\n%s", err, stderr.String())
	}
	logged, _ := os.ReadFile(goLog)
	return scriptRun{stdout: stdout.String(), stderr: stderr.String(), goLog: string(logged)}
}

func TestInstallScript(t *testing.T) {
	t.Run("uses the one on PATH", func(t *testing.T) {
		onPath := fakeExecutable(t, t.TempDir(), emulatorName)
		r := runInstallScript(t, map[string]string{"FAKE_GOPATH": t.TempDir()}, filepath.Dir(onPath))
		if r.stdout != onPath+"\n" || r.goLog != "" || r.stderr != "" {
			t.Errorf("printed %q, installed %q, said %q; want %s and nothing else", r.stdout, r.goLog, r.stderr, onPath)
		}
	})
	t.Run("else the one in the first GOPATH entry's bin", func(t *testing.T) {
		gopath := t.TempDir()
		want := fakeExecutable(t, filepath.Join(gopath, "bin"), emulatorName)
		r := runInstallScript(t, map[string]string{"FAKE_GOPATH": gopath + ":" + t.TempDir()}, "")
		if r.stdout != want+"\n" || r.goLog != "" {
			t.Errorf("printed %q, installed %q; want %s without installing", r.stdout, r.goLog, want)
		}
	})
	t.Run("else installs the pinned version there", func(t *testing.T) {
		gopath := t.TempDir()
		bin := filepath.Join(gopath, "bin")
		r := runInstallScript(t, map[string]string{"FAKE_GOPATH": gopath, "GOBIN": t.TempDir()}, "")
		wantLog := "GOBIN=" + bin + " install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@" + pinnedVersion + "\n"
		if r.goLog != wantLog {
			t.Errorf("go was asked %q, want %q", r.goLog, wantLog)
		}
		if want := filepath.Join(bin, emulatorName); r.stdout != want+"\n" {
			t.Errorf("printed %q, want %s", r.stdout, want)
		}
	})
	t.Run("warns about another version", func(t *testing.T) {
		onPath := fakeExecutable(t, t.TempDir(), emulatorName)
		r := runInstallScript(t, map[string]string{"FAKE_RIE_VERSION": "v0.0.0-20200101000000-000000000000"}, filepath.Dir(onPath))
		if r.stdout != onPath+"\n" || !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, pinnedVersion) {
			t.Errorf("printed %q, said %q; want the path and a warning naming %s", r.stdout, r.stderr, pinnedVersion)
		}
	})
}
