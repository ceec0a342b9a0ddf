package alertmanager

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// helperEnv makes the test binary act as a process that starts
// Alertmanager and then waits to be killed (see
// TestParentDeathKillsTheServer).
const helperEnv = "ALERTMANAGER_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		runHelper()
		return
	}
	code := m.Run()
	// After every Close, nothing this package started may still run.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// runHelper prints the started server's pid, URL and directory, then blocks on stdin,
// which the parent test keeps open until it kills this process.
func runHelper() {
	s, err := Start(Options{WebhookURL: "http://127.0.0.1:9/unused"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("%d %s %s\n", s.cmd.Process.Pid, s.URL(), s.dir)
	_, _ = os.Stdin.Read(make([]byte, 1))
	_ = s.Close()
	os.Exit(3) // the parent kills us first; reaching here is its failure
}
