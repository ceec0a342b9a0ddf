package main

import (
	"context"
	"fmt"
	"time"
)

// coldResult is one function's cold starts.
type coldResult struct {
	total []time.Duration // Invoke on a fresh emulator: process start to first answer
	init  []time.Duration // the part before the bootstrap asked for work
	tl    []timeline
}

// cold measures rounds cold starts of each function, alternating which goes
// first so that drift on a shared machine hits both alike. Every round
// starts a fresh emulator, whose first invocation starts the bootstrap.
func cold(ctx context.Context, fs []*function, rounds int, id func(string) string, payload func(string) []byte) ([]coldResult, error) {
	res := make([]coldResult, len(fs))
	for round := range rounds {
		for k := range fs {
			i := (k + round) % len(fs)
			s, init, err := coldOnce(ctx, fs[i], id(fs[i].name), payload)
			if err != nil {
				return nil, err
			}
			res[i].total = append(res[i].total, s.d)
			res[i].init = append(res[i].init, init)
			res[i].tl = append(res[i].tl, s.tl)
		}
	}
	return res, nil
}

func coldOnce(ctx context.Context, f *function, id string, payload func(string) []byte) (sample, time.Duration, error) {
	r, err := start(ctx, f)
	if err != nil {
		return sample{}, 0, err
	}
	defer r.Close()
	s, err := r.invoke(ctx, id, payload(id))
	if err != nil {
		return s, 0, err
	}
	return s, r.initDuration(), nil
}

// warmResult is one function's warm invocations and its memory after them.
type warmResult struct {
	latency []time.Duration
	tl      []timeline
	cpu     time.Duration // the function process's CPU time per counted invocation
	mem     memory
}

// warmup invocations are not counted: connection pools, the GC pacer and
// the CPU caches settle in the first few.
const warmup = 20

// warm runs n counted invocations of each function, both emulators up at
// once and the invocations interleaved (ABAB, then BABA), so that a noisy
// neighbour costs both the same. It reads each bootstrap's peak RSS at the
// end, while it still runs, and the CPU time it used per invocation.
func warm(ctx context.Context, fs []*function, n int, id func(string) string, payload func(string) []byte) ([]warmResult, error) {
	rs := make([]*running, len(fs))
	for i, f := range fs {
		r, err := start(ctx, f)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		rs[i] = r
	}
	res := make([]warmResult, len(fs))
	pids := make([]int, len(rs))
	cpu0 := make([]time.Duration, len(rs))
	for it := range warmup + n {
		if it == warmup {
			for i, r := range rs {
				var err error
				if pids[i], err = functionPID(r.f.binary, r.marker); err != nil {
					return nil, err
				}
				if cpu0[i], err = cpuTime(pids[i]); err != nil {
					return nil, err
				}
			}
		}
		for k := range rs {
			i := (k + it) % len(rs)
			nid := id(rs[i].f.name)
			s, err := rs[i].invoke(ctx, nid, payload(nid))
			if err != nil {
				return nil, err
			}
			if it >= warmup {
				res[i].latency = append(res[i].latency, s.d)
				res[i].tl = append(res[i].tl, s.tl)
			}
		}
	}
	for i := range rs {
		cpu, err := cpuTime(pids[i])
		if err != nil {
			return nil, err
		}
		res[i].cpu = (cpu - cpu0[i]) / time.Duration(n)
		if res[i].mem, err = readMemory(pids[i]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// verify holds the resizer to the work the comparison claims it did: one
// describeInstance, at most the two look-ups (the process's cache answers
// them once it has asked) and one sink delivery per invocation, nothing
// skipped by idempotency or an error.
func verify(w *world, c0 calls, invocations int) error {
	c := w.count()
	describes, lookups, delivered := c.describes-c0.describes, c.lookups-c0.lookups, c.delivered-c0.delivered
	n := int64(invocations)
	if describes != n || lookups > 2*n || delivered != n {
		return fmt.Errorf("%d resizer invocations made %d describeInstance calls, %d look-ups and %d sink deliveries, want %d, at most %d, and %d",
			invocations, describes, lookups, delivered, n, 2*n, n)
	}
	return nil
}

// calls is what the world has seen so far.
type calls struct{ describes, lookups, delivered int64 }

func (w *world) count() calls {
	d, l := w.describeCalls()
	return calls{d, l, w.delivered.Load()}
}

// verifyFloor holds a floor function to its exchanges: one describeInstance
// and one sink delivery per invocation, and exactly lookups look-ups (two
// per process with the cache, two per invocation without).
func verifyFloor(w *world, c0 calls, invocations int, lookups int64) error {
	c := w.count()
	d, l, s := c.describes-c0.describes, c.lookups-c0.lookups, c.delivered-c0.delivered
	n := int64(invocations)
	if d != n || l != lookups || s != n {
		return fmt.Errorf("%d floor invocations made %d describeInstance calls, %d look-ups and %d sink deliveries, want %d, %d and %d",
			invocations, d, l, s, n, lookups, n)
	}
	return nil
}
