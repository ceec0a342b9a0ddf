// Package alertmanager runs a real Prometheus Alertmanager on loopback, with
// one webhook receiver aimed at a URL of the test's choosing, and feeds it
// alerts with the real amtool, so tests see the webhook exactly as
// Alertmanager sends it: its grouping, its retries of 5xx answers, its
// resolved notifications, its bearer token. scripts/alertmanager.sh (or make
// test) installs both binaries: Debian's package, else a build from the
// module. Only tests import this package.
//
// Each Server is its own Alertmanager with gossip off, so two Servers given
// the same receiver are an HA pair whose peers never hear of each other:
// both notify, and the product must take the second notification as a
// replay.
package alertmanager

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/internal/childproc"
)

const (
	// startAttempts bounds the retries when a port picked as free is taken
	// by someone else before Alertmanager binds it.
	startAttempts = 3
	// readyTimeout is generous: a 2-core machine shared with compilers can
	// be slow to start a 50 MB binary.
	readyTimeout = 30 * time.Second
	// pollEvery is how often /-/ready is asked while Alertmanager starts.
	pollEvery = 20 * time.Millisecond
	// commandTimeout bounds one amtool run or API call.
	commandTimeout = 30 * time.Second
)

// client asks the servers' HTTP API. No keep-alives: an idle connection
// would outlive Close as two goroutines, which goleak rightly reports.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// Server is one running Alertmanager.
type Server struct {
	url    string
	opts   Options // with defaults filled in
	dir    string  // config and storage; removed by Close
	amtool string
	proc   *childproc.Proc
	log    lockedBuffer // Alertmanager's stdout and stderr

	mu     sync.Mutex
	starts map[string]fired // what was last fired, by label set

	closeOnce sync.Once
	closeErr  error
}

// Start writes the configuration opts describe, starts Alertmanager on a
// free 127.0.0.1 port with gossip off and storage in a fresh temporary
// directory, and returns it once /-/ready answers. The caller must Close it.
//
// The binaries are ALERTMANAGER_BIN and AMTOOL_BIN, else the first found of
// prometheus-alertmanager (Debian's name) or alertmanager, and amtool, on
// PATH, else <repo root>/.cache/alertmanager/bin/: where
// scripts/alertmanager.sh looks and installs.
func Start(opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	am, tool, err := binaries()
	if err != nil {
		return nil, err
	}
	return childproc.Attempts(startAttempts, func() (*Server, error) { return start(am, tool, opts) })
}

// New is Start for a test: it fails t at once if Alertmanager cannot start
// (see Installed for a missing install), and closes the server when t's test
// ends, reporting a server that had died.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	Installed(t)
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

const notInstalled = "run scripts/alertmanager.sh (or make test), or set ALERTMANAGER_BIN and AMTOOL_BIN"

// SkipEnv, set to 1, turns a missing Alertmanager from a failure into a
// skip. The Makefile never sets it: make test and CI install Alertmanager
// (scripts/alertmanager.sh) and must not pass by running nothing.
const SkipEnv = "SKIP_ALERTMANAGER_TESTS"

// Installed fails t at once, saying how to install them, when alertmanager
// or amtool cannot be found, or skips t instead when SkipEnv is 1.
func Installed(t testing.TB) {
	t.Helper()
	if _, _, err := binaries(); err != nil {
		if os.Getenv(SkipEnv) == "1" {
			t.Skipf("%v (%s=1)", err, SkipEnv)
		}
		t.Fatalf("%v (or set %s=1 to skip the tests that need it)", err, SkipEnv)
	}
}

// binaries finds alertmanager and amtool in the order Start documents.
func binaries() (am, tool string, err error) {
	cache, cacheErr := cacheBin()
	find := func(env string, names ...string) (string, error) {
		if bin := os.Getenv(env); bin != "" {
			if _, err := os.Stat(bin); err != nil {
				return "", fmt.Errorf("%s: %v: %s", env, err, notInstalled)
			}
			return bin, nil
		}
		for _, name := range names {
			if bin, err := exec.LookPath(name); err == nil {
				return bin, nil
			}
		}
		if cacheErr != nil {
			return "", fmt.Errorf("%s is not on PATH and %v: %s", names[0], cacheErr, notInstalled)
		}
		bin := filepath.Join(cache, names[len(names)-1])
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s is not installed (not on PATH, and %v): %s", strings.Join(names, " or "), err, notInstalled)
		}
		return bin, nil
	}
	if am, err = find("ALERTMANAGER_BIN", "prometheus-alertmanager", "alertmanager"); err != nil {
		return "", "", err
	}
	if tool, err = find("AMTOOL_BIN", "amtool"); err != nil {
		return "", "", err
	}
	return am, tool, nil
}

// cacheBin is where scripts/alertmanager.sh installs.
func cacheBin() (string, error) {
	root, err := childproc.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache", "alertmanager", "bin"), nil
}

func start(am, tool string, opts Options) (_ *Server, err error) {
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "alertmanager-test-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	config := filepath.Join(dir, "alertmanager.yml")
	body, err := opts.config()
	if err != nil {
		return nil, err
	}
	// 0600: it holds the bearer token.
	if err := os.WriteFile(config, body, 0o600); err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(am,
		"--config.file="+config,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+fmt.Sprintf("127.0.0.1:%d", port),
		"--web.external-url="+url,
		// Empty: no gossip, so no second port and no peers to wait for.
		"--cluster.listen-address=",
	)
	s := &Server{url: url, opts: opts, dir: dir, amtool: tool, starts: map[string]fired{}}
	cmd.Stdout = &s.log
	cmd.Stderr = &s.log
	if s.proc, err = childproc.Start(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", am, err)
	}
	if err := s.waitReady(); err != nil {
		_ = s.kill()
		return nil, err
	}
	return s, nil
}

// waitReady polls /-/ready until it answers 200, the process exits, or
// readyTimeout passes.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/-/ready", nil)
		if err != nil {
			cancel()
			return err
		}
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.proc.Done():
			return fmt.Errorf("alertmanager at %s exited before it was ready (%v): %s", s.url, s.proc.Err(), s.Log())
		case <-time.After(pollEvery):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("alertmanager at %s not ready within %v: %s", s.url, readyTimeout, s.Log())
		}
	}
}

// URL is the server's base URL, http://127.0.0.1:PORT, also its
// externalURL in every notification.
func (s *Server) URL() string { return s.url }

// Receiver is the name of the webhook receiver, the receiver of every
// notification.
func (s *Server) Receiver() string { return s.opts.Receiver }

// Log is what Alertmanager has printed so far (logfmt), for a failing
// test's message: a failed notify attempt is logged there.
func (s *Server) Log() string { return strings.TrimSpace(s.log.String()) }

// Close kills the server, waits for it to be gone and removes its directory.
// A server that had already died is reported, as tests that used it may have
// failed for that reason. Calling Close again returns the first call's
// result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.proc.Exited() {
			s.closeErr = fmt.Errorf("alertmanager at %s had exited before Close (%v): %s", s.url, s.proc.Err(), s.Log())
		}
		if err := s.kill(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// kill ends the process if it runs, waits for it and removes the directory.
func (s *Server) kill() error {
	s.proc.Kill()
	return os.RemoveAll(s.dir)
}

// lockedBuffer is a bytes.Buffer that exec's copying goroutine writes while
// tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// maxLog bounds what is kept of Alertmanager's output: a receiver that
// fails for minutes makes it log a line per attempt.
const maxLog = 1 << 20

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > maxLog {
		b.buf.Reset()
		b.buf.WriteString("[earlier output dropped]\n")
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
