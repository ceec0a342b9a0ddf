package childproc

import (
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// RunTests is a harness's TestMain body: it runs m, then after (CloseShared,
// say; nil for none), and fails a run that passed if goroutines are left,
// since after every Close nothing the harness started may still run, Proc
// waiters included. Pass its result to os.Exit.
func RunTests(m *testing.M, after func()) int {
	code := m.Run()
	if after != nil {
		after()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	return code
}

// RequireGone fails t unless p, the named server's process, has exited and
// been waited for and nothing accepts connections at its endpoint
// (http://host:port) any more.
func RequireGone(t testing.TB, name string, p *Proc, endpoint string) {
	t.Helper()
	if !p.Exited() {
		t.Fatalf("the %s process has not been waited for", name)
	}
	if p.State() == nil {
		t.Fatalf("no exit status for the %s process", name)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := WaitRefused(u.Host, 5*time.Second); err != nil {
		t.Fatalf("%s %v", endpoint, err)
	}
}
