//go:build unix

package dynalite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bin that dies before its banner is retried on fresh ports and reported
// with what it said on stderr.
func TestStartReportsAnEarlyExit(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dynalite")
	script := "#!/bin/sh\necho 'EADDRINUSE: port taken' >&2\nexit 1\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DYNALITE_BIN", bin)
	s, err := Start()
	if err == nil {
		s.Close()
		t.Fatal("Start succeeded with a bin that exits")
	}
	if n := strings.Count(err.Error(), "EADDRINUSE: port taken"); n != startAttempts {
		t.Errorf("error reports %d attempts, want %d: %v", n, startAttempts, err)
	}
	if !strings.Contains(err.Error(), "exited before it was ready") {
		t.Errorf("error %q does not say the server exited", err)
	}
}
