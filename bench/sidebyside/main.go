// Command sidebyside is `make bench`: it measures bin/bootstrap against a
// bare aws-lambda-go function (bench/bare) built the same way, both under
// aws-lambda-rie on this machine in one run, then runs the hot path's Go
// benchmarks, and prints one markdown table, also written to
// bench/RESULTS.md:
//
//   - cold start: a fresh emulator per round, time from the invocation that
//     starts the bootstrap to its answer, rounds alternated between the two;
//   - warm invocations: both functions up, invocations interleaved, median
//     and p90; the resizer runs a dry run against the in-process JD Cloud
//     simulator and delivers one outcome to an in-process HTTP sink;
//   - binary sizes, and the resizer's peak RSS (VmHWM) after the warm run;
//   - go test -bench -benchmem of decoding per trigger shape, signing, and
//     building and encoding an outcome event.
//
// Run from the repository root after building both binaries (the Makefile's
// bench target does all of it).
package main

import (
	benchres "github.com/jdcloud-vm-resizer/resizer/bench/internal/results"

	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		bootstrap   = flag.String("bootstrap", "bin/bootstrap", "the resizer's Lambda binary (make build)")
		bare        = flag.String("bare", "bin/bare/bootstrap", "the bare aws-lambda-go binary (bench/bare)")
		floorPath   = flag.String("floor", "bin/floor/bootstrap", "the floor function's binary (bench/floor): a dry run's network exchanges and nothing else")
		sample      = flag.String("sample", "events/resize-dry-run.json", "the dry-run request; each invocation gets a fresh id")
		rounds      = flag.Int("rounds", 15, "cold starts of each function (at least 10)")
		invocations = flag.Int("invocations", 300, "counted warm invocations of each function (at least 200)")
		goCmd       = flag.String("go", "go", "the go command, for the benchmarks and its version")
		benchRE     = flag.String("bench", "^Benchmark(Decode|Sign|NewRequest|Outcome)", "go test -bench pattern of the hot-path benchmarks; empty to skip them")
		benchPkgs   = flag.String("pkgs", "./trigger ./jdcloud .", "packages holding them")
		benchCount  = flag.Int("count", 3, "go test -count; the table shows the median")
		out         = flag.String("out", "bench/RESULTS.md", "where the table is written as well; empty for nowhere")
		extraEnv    benchres.EnvFlag
	)
	flag.Var(&extraEnv, "env", "NAME=value added to the resizer's environment, for trying a setting (repeatable)")
	flag.Parse()
	if *rounds < 10 || *invocations < 200 {
		return fmt.Errorf("-rounds %d -invocations %d: the comparison needs at least 10 and 200", *rounds, *invocations)
	}
	log := os.Stderr

	// Private copies: a `make build` by a concurrent test run must not swap
	// the binary under the measurement.
	dir, err := os.MkdirTemp("", "sidebyside-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	resizerBin, err := privateCopy(*bootstrap, filepath.Join(dir, "resizer"))
	if err != nil {
		return err
	}
	bareBin, err := privateCopy(*bare, filepath.Join(dir, "bare"))
	if err != nil {
		return err
	}
	floorBin, err := privateCopy(*floorPath, filepath.Join(dir, "floor"))
	if err != nil {
		return err
	}

	w, err := newWorld(*sample)
	if err != nil {
		return err
	}
	defer w.close()
	// Each floor talks to a simulator and a sink of its own, so that the
	// resizer's call counts and timeline stay its own.
	wf, err := newWorld(*sample)
	if err != nil {
		return err
	}
	defer wf.close()
	wu, err := newWorld(*sample)
	if err != nil {
		return err
	}
	defer wu.close()
	uncached := wu.resizerEnv()
	uncached["FLOOR_LOOKUPS"] = "every"
	env := w.resizerEnv()
	for k, v := range extraEnv {
		env[k] = v
	}
	fs := []*function{
		{name: "resizer", binary: resizerBin, env: env,
			check:    func(id string, _, answer []byte) error { return checkResizer(id, answer) },
			timeline: w.timelineOf},
		// The same environment, so that neither reads a larger one.
		{name: "bare", binary: bareBin, env: w.resizerEnv(),
			check: func(_ string, payload, answer []byte) error { return checkBare(payload, answer) }},
		// The floor caches the two look-ups per process through the same
		// jdcloud.Cache, as the resizer does: like for like.
		{name: "floor", binary: floorBin, env: wf.resizerEnv(),
			check:    func(id string, _, answer []byte) error { return checkFloor(id, answer) },
			timeline: wf.timelineOf},
		// The floor asking JD for the look-ups on every invocation: what a
		// dry run costs without the cache. Warm only: a cold start makes
		// them either way.
		{name: "floor-uncached", binary: floorBin, env: uncached, warmOnly: true,
			check: func(id string, _, answer []byte) error { return checkFloor(id, answer) }},
	}
	var coldFs []*function
	for _, f := range fs {
		if !f.warmOnly {
			coldFs = append(coldFs, f)
		}
	}
	id := ids()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	r := &results{rounds: *rounds, invocations: *invocations}
	for _, f := range coldFs {
		fi, err := os.Stat(f.binary)
		if err != nil {
			return err
		}
		r.size = append(r.size, fi.Size())
	}

	fmt.Fprintf(log, "cold starts: %d rounds of each, alternated\n", *rounds)
	c0, f0 := w.count(), wf.count()
	if r.cold, err = cold(ctx, coldFs, *rounds, id, w.payload); err != nil {
		return err
	}
	if err := verify(w, c0, *rounds); err != nil {
		return fmt.Errorf("cold starts: %w", err)
	}
	if err := verifyFloor(wf, f0, *rounds, int64(2**rounds)); err != nil {
		return fmt.Errorf("cold starts: %w", err)
	}

	fmt.Fprintf(log, "warm invocations: %d of each, interleaved, after %d uncounted\n", *invocations, warmup)
	c0, f0, u0 := w.count(), wf.count(), wu.count()
	if r.warm, err = warm(ctx, fs, *invocations, id, w.payload); err != nil {
		return err
	}
	n := warmup + *invocations
	if err := verify(w, c0, n); err != nil {
		return fmt.Errorf("warm invocations: %w", err)
	}
	if err := verifyFloor(wf, f0, n, 2); err != nil {
		return fmt.Errorf("warm invocations: %w", err)
	}
	if err := verifyFloor(wu, u0, n, int64(2*n)); err != nil {
		return fmt.Errorf("warm invocations, floor-uncached: %w", err)
	}

	if *benchRE != "" {
		fmt.Fprintln(log, "go benchmarks")
		if r.bench, err = runGoBenchmarks(*goCmd, *benchRE, *benchCount, strings.Fields(*benchPkgs), io.Discard); err != nil {
			return err
		}
	}

	r.machine = machine(*goCmd)
	r.env = extraEnv
	table := r.markdown()
	fmt.Print(table)
	if *out == "" {
		return nil
	}
	return writeKeeping(*out, table)
}

// writeKeeping writes table to path, followed by whatever the file held
// from benchres.KeptMarker on.
func writeKeeping(path, table string) error {
	out := table
	if old, err := os.ReadFile(path); err == nil {
		if i := strings.Index(string(old), benchres.KeptMarker); i >= 0 {
			out = strings.TrimRight(table, "\n") + "\n\n" + string(old[i:])
		}
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

// ids hands out invocation ids unique to this run, so that the resizer's
// idempotency store never answers from memory.
func ids() func(string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	run := hex.EncodeToString(b)
	var n atomic.Int64
	return func(name string) string { return fmt.Sprintf("bench-%s-%s-%d", run, name, n.Add(1)) }
}

// privateCopy copies an executable to dir/bootstrap, holding the build lock
// the rie harness takes around `make build` (bin/.build.lock) while reading.
func privateCopy(src, dir string) (string, error) {
	src, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if lock, err := os.OpenFile(filepath.Join(filepath.Dir(src), ".build.lock"), os.O_RDWR|os.O_CREATE, 0o644); err == nil {
		defer lock.Close() // closing drops the flock
		_ = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX)
	}
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("%w (make bench builds it)", err)
	}
	defer in.Close()
	dst := filepath.Join(dir, "bootstrap")
	o, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(o, in); err != nil {
		o.Close()
		return "", err
	}
	return dst, o.Close()
}
