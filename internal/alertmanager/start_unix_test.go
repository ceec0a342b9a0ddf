//go:build unix

package alertmanager

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bin that dies before it is ready is retried on fresh ports and reported
// with what it printed.
func TestStartReportsAnEarlyExit(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "alertmanager")
	script := "#!/bin/sh\necho 'listen tcp: bind: address already in use' >&2\nexit 1\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALERTMANAGER_BIN", bin)
	t.Setenv("AMTOOL_BIN", bin)
	s, err := Start(Options{WebhookURL: "http://127.0.0.1:9/unused"})
	if err == nil {
		s.Close()
		t.Fatal("Start succeeded with a bin that exits")
	}
	if n := strings.Count(err.Error(), "address already in use"); n != startAttempts {
		t.Errorf("error reports %d attempts, want %d: %v", n, startAttempts, err)
	}
	if !strings.Contains(err.Error(), "exited before it was ready") {
		t.Errorf("error %q does not say the server exited", err)
	}
}
