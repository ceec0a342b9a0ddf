// Package dynalite runs dynalite, a DynamoDB-compatible server on Node.js,
// so tests speak the real DynamoDB wire protocol over loopback without AWS,
// Docker or Java. scripts/dynalite.sh (or make test) installs it under the
// repository's .cache/. Only tests import this package.
package dynalite

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
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
	cmd      *exec.Cmd
	stderr   bytes.Buffer  // read only after done is closed
	done     chan struct{} // closed once the process has been waited for
	waitErr  error         // written before done is closed

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
	var errs []error
	for range startAttempts {
		s, err := start(bin)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// binPath looks for the repository root from the working directory, which
// go test sets to the package under test, wherever that package sits.
func binPath() (string, error) {
	if bin := os.Getenv("DYNALITE_BIN"); bin != "" {
		return bin, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "dynalite", "node_modules", ".bin", "dynalite"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dynalite: no go.mod above the working directory; set DYNALITE_BIN")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		// Tables are usable at once: no CREATING/DELETING phases to wait out.
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	setParentDeathSignal(cmd)
	// Wait also waits for the output copies; should a grandchild ever hold
	// the pipes open, Close must still return.
	cmd.WaitDelay = 5 * time.Second
	ready := make(chan struct{})
	s := &Server{endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	cmd.Stdout = &bannerWriter{ready: ready}
	cmd.Stderr = &s.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case <-ready:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("dynalite on port %d exited before it was ready (%v): %s", port, s.waitErr, s.stderrText())
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
		select {
		case <-s.done:
			s.closeErr = fmt.Errorf("dynalite at %s had exited before Close (%v): %s", s.endpoint, s.waitErr, s.stderrText())
			return
		default:
		}
		// An error here means the process has just exited on its own; done
		// still closes.
		_ = s.cmd.Process.Kill()
		<-s.done
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
