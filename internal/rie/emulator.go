package rie

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options says what to run under the emulator and how.
type Options struct {
	Binary         string            // path to the bootstrap binary
	Env            map[string]string // extra environment for the function; see the package doc for how it gets there
	Stdout, Stderr io.Writer         // Stdout: the function's stdout and stderr, START/END/REPORT lines; Stderr: the emulator's log; nil = discard
	Timeout        time.Duration     // function timeout (AWS_LAMBDA_FUNCTION_TIMEOUT), rounded up to whole seconds; default 30s
}

// Emulator is one running aws-lambda-rie serving one bootstrap binary.
type Emulator struct {
	cmd    *exec.Cmd
	out    *output
	marker string // RIE_HARNESS_ID value, inherited by every process of this instance
	url    string // the invoke endpoint
	client *http.Client

	// slot is the one-invocation-at-a-time lock; a channel rather than a
	// sync.Mutex so that waiting for it can give up with the caller's context.
	slot chan struct{}

	// life ends when Close starts, abandoning requests still in flight.
	life context.Context
	end  context.CancelFunc

	exited  chan struct{} // closed once the emulator process has been waited for
	waitErr error         // the emulator's exit, readable after exited is closed

	closeOnce sync.Once
	closeErr  error
}

const (
	defaultTimeout = 30 * time.Second
	// startWait bounds Start when the caller's context has no deadline, so a
	// wedged emulator fails the test instead of hanging it.
	startWait = 30 * time.Second
	// startAttempts covers losing a free port to another process between
	// picking it and the emulator binding it.
	startAttempts = 3
	markerVar     = "RIE_HARNESS_ID"
	invokePath    = "/2015-03-31/functions/function/invocations"
)

// Start picks two free loopback ports, starts the emulator on them for
// o.Binary and returns once both of its listeners accept connections. ctx
// bounds the start only; the emulator runs until Close.
func Start(ctx context.Context, o Options) (*Emulator, error) {
	rie, err := FindEmulator()
	if err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("rie: binary: %w", err)
	}
	if fi, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("rie: binary: %w", err)
	} else if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("rie: binary %s is not an executable file", bin)
	}
	marker, err := newMarker()
	if err != nil {
		return nil, err
	}
	env, err := environ(o, marker)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startWait)
		defer cancel()
	}
	for attempt := 1; ; attempt++ {
		e, err := launch(ctx, rie, bin, env, marker, o)
		if err == nil {
			return e, nil
		}
		if !errors.Is(err, errExitedEarly) || attempt == startAttempts || ctx.Err() != nil {
			return nil, err
		}
	}
}

var errExitedEarly = errors.New("rie: emulator exited during start-up")

// launch is one start attempt on fresh ports.
func launch(ctx context.Context, rie, bin string, env []string, marker string, o Options) (*Emulator, error) {
	invokeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(rie,
		"--log-level", "info",
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr,
		bin)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = env
	out, err := newOutput(o.Stdout, o.Stderr)
	if err != nil {
		return nil, fmt.Errorf("rie: output: %w", err)
	}
	cmd.Stdout, cmd.Stderr = out.stdout, out.stderr
	// A group of its own, so no signal meant for it reaches the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	out.started()
	if err != nil {
		out.abort()
		return nil, fmt.Errorf("rie: start %s: %w", rie, err)
	}
	life, end := context.WithCancel(context.Background())
	e := &Emulator{
		cmd:    cmd,
		out:    out,
		marker: marker,
		url:    "http://" + invokeAddr + invokePath,
		// A transport of its own, so Close can drop its idle connections
		// and leave no goroutine behind.
		client: &http.Client{Transport: &http.Transport{}},
		slot:   make(chan struct{}, 1),
		life:   life,
		end:    end,
		exited: make(chan struct{}),
	}
	go func() {
		e.waitErr = cmd.Wait()
		close(e.exited)
	}()
	if err := e.awaitListening(ctx, invokeAddr, runtimeAddr); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

// awaitListening polls both listeners: the emulator offers no readiness
// signal, and an invoke would start the function. The invoke API is bound
// in the main goroutine and the Runtime API in another, so both are checked.
func (e *Emulator) awaitListening(ctx context.Context, addrs ...string) error {
	delay := 2 * time.Millisecond
	for _, addr := range addrs {
		for {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			t := time.NewTimer(delay)
			select {
			case <-e.exited:
				t.Stop()
				return fmt.Errorf("%w: %v", errExitedEarly, e.waitErr)
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("rie: emulator not listening on %s: %w", addr, ctx.Err())
			case <-t.C:
			}
			delay = min(2*delay, 50*time.Millisecond)
		}
	}
	// A listener can belong to a squatter that won the port race; our
	// process dying right after shows it.
	select {
	case <-e.exited:
		return fmt.Errorf("%w: %v", errExitedEarly, e.waitErr)
	default:
		return nil
	}
}

// freeAddr returns a loopback address with a port the kernel just handed
// out; the emulator binds it a moment later (see startAttempts).
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("rie: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func newMarker() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("rie: marker: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// environ builds the emulator's environment, which becomes the function's.
// It starts clean on purpose: see "Environment" in the package doc.
func environ(o Options, marker string) ([]string, error) {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	if timeout < 0 {
		return nil, fmt.Errorf("rie: negative timeout %v", timeout)
	}
	seconds := int64(math.Ceil(timeout.Seconds()))
	vars := map[string]string{
		"PATH":                      os.Getenv("PATH"),
		"AWS_REGION":                "us-east-1", // Lambda always sets these two
		"AWS_DEFAULT_REGION":        "us-east-1",
		"AWS_EC2_METADATA_DISABLED": "true", // credential lookups must not leave loopback
	}
	for k, v := range o.Env {
		switch {
		case k == "" || strings.ContainsAny(k, "=\x00"):
			return nil, fmt.Errorf("rie: invalid environment variable name %q", k)
		case strings.ContainsRune(v, 0):
			return nil, fmt.Errorf("rie: environment variable %s holds a NUL byte", k)
		case k == "AWS_LAMBDA_FUNCTION_TIMEOUT":
			return nil, errors.New("rie: set the timeout with Options.Timeout, not Env")
		case k == "AWS_LAMBDA_RUNTIME_API" || k == markerVar:
			return nil, fmt.Errorf("rie: %s belongs to the emulator", k)
		}
		vars[k] = v
	}
	vars["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.FormatInt(seconds, 10)
	vars[markerVar] = marker
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env, nil
}
