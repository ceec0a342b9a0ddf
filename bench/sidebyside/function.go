package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/internal/rie"
)

// function is one side of the comparison.
type function struct {
	name   string
	binary string // absolute path
	env    map[string]string
	check  func(id string, payload, answer []byte) error
	// warmOnly leaves the function out of the cold starts.
	warmOnly bool
	// timeline, when set, says where an invocation's time went.
	timeline func(t0, t1 time.Time) (timeline, error)
}

// sample is one measured invocation.
type sample struct {
	d  time.Duration
	tl timeline // zero for a function without a timeline
}

// running is a function under its own emulator.
type running struct {
	*rie.Emulator
	f      *function
	marker string
	inits  chan time.Duration // the emulator's INIT REPORT durations
}

// start runs f under a fresh emulator. Its bootstrap is not running yet:
// the emulator starts it on the first invocation.
func start(ctx context.Context, f *function) (*running, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	r := &running{f: f, marker: hex.EncodeToString(b), inits: make(chan time.Duration, 4)}
	env := map[string]string{markerVar: r.marker}
	for k, v := range f.env {
		env[k] = v
	}
	e, err := rie.Start(ctx, rie.Options{
		Binary: f.binary,
		Env:    env,
		Stderr: &initReports{out: r.inits},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	r.Emulator = e
	return r, nil
}

// invoke sends one invocation with a fresh id, checks the answer and
// returns how long the emulator took to answer.
func (r *running) invoke(ctx context.Context, id string, payload []byte) (sample, error) {
	t0 := time.Now()
	answer, fnErr, err := r.Invoke(ctx, payload)
	t1 := time.Now()
	s := sample{d: t1.Sub(t0)}
	switch {
	case err != nil:
		return s, fmt.Errorf("%s: invoke %s: %w", r.f.name, id, err)
	case fnErr:
		return s, fmt.Errorf("%s: invoke %s: function error %.300s", r.f.name, id, answer)
	}
	if err := r.f.check(id, payload, answer); err != nil {
		return s, err
	}
	if r.f.timeline != nil {
		if s.tl, err = r.f.timeline(t0, t1); err != nil {
			return s, fmt.Errorf("%s: invoke %s: %w", r.f.name, id, err)
		}
	}
	return s, nil
}

// initDuration is the emulator's own measure of the function's init (from
// starting the bootstrap to its first request for work), reported on its
// stderr; the REPORT line's "Init Duration" is not that under this
// emulator. Zero when it did not arrive in time.
func (r *running) initDuration() time.Duration {
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case d := <-r.inits:
		return d
	case <-t.C:
		return 0
	}
}

// initReports picks "INIT REPORT(durationMs: 3.181000)" out of the
// emulator's log, a line at a time.
type initReports struct {
	mu   sync.Mutex
	line []byte
	out  chan<- time.Duration
}

var initMarker = []byte("INIT REPORT(durationMs: ")

func (w *initReports) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.parse(w.line[:i])
		w.line = w.line[i+1:]
	}
}

func (w *initReports) parse(line []byte) {
	_, rest, ok := bytes.Cut(line, initMarker)
	if !ok {
		return
	}
	num, _, ok := bytes.Cut(rest, []byte(")"))
	if !ok {
		return
	}
	ms, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return
	}
	select {
	case w.out <- time.Duration(ms * float64(time.Millisecond)):
	default:
	}
}
