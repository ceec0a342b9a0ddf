// Package dynalite runs dynalite, a DynamoDB-compatible server on Node.js,
// so tests speak the real DynamoDB wire protocol over loopback without AWS,
// Docker or Java. scripts/dynalite.sh (or make test) installs it under the
// repository's .cache/. Only tests import this package.
package dynalite

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/internal/childproc"
)

const (
	// startAttempts bounds the retries when a port picked as free is taken
	// by someone else before dynalite binds it.
	startAttempts = 3
	// readyTimeout is generous: a 2-core machine shared with compilers can
	// take seconds to load Node.js.
	readyTimeout = 30 * time.Second
	// readyBanner starts the line dynalite prints from its listen callback,
	// that is once it accepts connections.
	readyBanner = "Dynalite listening at"
)

// Server is one running dynalite process.
type Server struct {
	endpoint string
	proc     *childproc.Proc
	stderr   bytes.Buffer // read only after proc is done

	closeOnce sync.Once
	closeErr  error
}

// Start finds the dynalite bin (DYNALITE_BIN, else
// <repo root containing go.mod>/.cache/dynalite/node_modules/.bin/dynalite),
// starts it on a free 127.0.0.1 port and returns it once it accepts
// connections. The caller must Close it.
func Start() (*Server, error) {
	bin, err := binPath()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("dynalite is not installed (%v): run scripts/dynalite.sh (or make test), or set DYNALITE_BIN", err)
	}
	return childproc.Attempts(startAttempts, func() (*Server, error) { return start(bin) })
}

// binPath is DYNALITE_BIN, else where scripts/dynalite.sh installs.
func binPath() (string, error) {
	if bin := os.Getenv("DYNALITE_BIN"); bin != "" {
		return bin, nil
	}
	root, err := childproc.RepoRoot()
	if err != nil {
		return "", fmt.Errorf("dynalite: %w; set DYNALITE_BIN", err)
	}
	return filepath.Join(root, ".cache", "dynalite", "node_modules", ".bin", "dynalite"), nil
}

func start(bin string) (*Server, error) {
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		// Tables are usable at once: no CREATING/DELETING phases to wait out.
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	ready := make(chan struct{})
	s := &Server{endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	cmd.Stdout = &bannerWriter{ready: ready}
	cmd.Stderr = &s.stderr
	if s.proc, err = childproc.Start(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}

	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case <-ready:
		return s, nil
	case <-s.proc.Done():
		return nil, fmt.Errorf("dynalite on port %d exited before it was ready (%v): %s", port, s.proc.Err(), s.stderrText())
	case <-timer.C:
		_ = s.Close() // its error would only repeat this one
		return nil, fmt.Errorf("dynalite on port %d not ready within %v: %s", port, readyTimeout, s.stderrText())
	}
}

func (s *Server) stderrText() string { return strings.TrimSpace(s.stderr.String()) }

// Endpoint is the server's base URL, http://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return s.endpoint }

// Close kills the server and waits for it to be gone. A server that had
// already died is reported, as tests that used it may have failed for that
// reason. Calling Close again returns the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.proc.Exited() {
			s.closeErr = fmt.Errorf("dynalite at %s had exited before Close (%v): %s", s.endpoint, s.proc.Err(), s.stderrText())
			return
		}
		s.proc.Kill()
	})
	return s.closeErr
}

// bannerWriter takes dynalite's stdout and closes ready at the banner line.
// Only exec's copying goroutine calls Write.
type bannerWriter struct {
	ready chan struct{}
	line  []byte
	seen  bool
}

// maxLine bounds the partial line kept: the banner is far shorter.
const maxLine = 4096

func (w *bannerWriter) Write(p []byte) (int, error) {
	if w.seen {
		return len(p), nil
	}
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		if bytes.HasPrefix(w.line[:i], []byte(readyBanner)) {
			w.seen, w.line = true, nil
			close(w.ready)
			return len(p), nil
		}
		w.line = w.line[i+1:]
	}
	if len(w.line) > maxLine {
		w.line = w.line[:0]
	}
	return len(p), nil
}
