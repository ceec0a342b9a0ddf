package main

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	benchres "github.com/jdcloud-vm-resizer/resizer/bench/internal/results"
)

// Targets of issue 6, each measured in the same run.
const (
	coldTarget = 1.3
	warmTarget = 2.5
	// floorTarget is issue 13's: a warm dry run within 1.15 × the floor
	// function's invocation (bench/floor).
	floorTarget = 1.15
	rssTarget   = 40e6 // bytes
	signTarget  = 5000 // ns
	signBench   = "Sign"
	// sdkSignAllocs is what the official JD Cloud SDK's signer allocates
	// per signature (issue 6); it is not a dependency, so not measured here.
	sdkSignAllocs = 92
)

// results is everything one `make bench` measured.
type results struct {
	machine             string
	rounds, invocations int
	cold                []coldResult // resizer, bare, floor
	warm                []warmResult // resizer, bare, floor, floor-uncached
	size                []int64      // resizer, bare, floor
	bench               []benchResult
	env                 map[string]string // -env settings beyond the defaults
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[int(p*float64(len(s)-1)+0.5)]
}

func median(ds []time.Duration) time.Duration { return percentile(ds, 0.5) }

func medianOf(tls []timeline, f func(timeline) time.Duration) time.Duration {
	ds := make([]time.Duration, len(tls))
	for i, t := range tls {
		ds[i] = f(t)
	}
	return median(ds)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func mb(n int64) string         { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# make bench\n\n%s\n\n", r.machine)
	p("Resizer: `bin/bootstrap`, a dry run (describeInstance, then describeInstanceTypes and describeImageConstraints, one HTTP sink delivery) against the in-process JD Cloud simulator answering at once; the process's cache answers the two look-ups of every warm invocation after its first. ")
	p("Bare: `bench/bare`, an aws-lambda-go handler that echoes the same payload, built with the same flags. Both under aws-lambda-rie on loopback. ")
	p("The resizer runs with JDCLOUD_RATE_LIMIT=1000: at the default 20/s, back-to-back dry runs (three JD Cloud calls each) wait for the quota, 150 ms apiece.")
	if len(r.env) > 0 {
		keys := slices.Sorted(maps.Keys(r.env))
		p(" Trying:")
		for _, k := range keys {
			p(" `%s=%s`", k, r.env[k])
		}
		p(".")
	}
	p("\n\n")

	p("Floor: `bench/floor`, an aws-lambda-go handler built the same way that makes exactly a dry run's network exchanges (describeInstance, then the two look-ups side by side, then one sink POST) through the repository's jdcloud.Client and nothing else, against a simulator and sink of its own. ")
	p("Like the resizer it keeps the two look-ups per process in a jdcloud.Cache, so a warm invocation of either makes describeInstance and the sink POST only; the last column is the floor asking JD for the look-ups every time (no cache), warm only.\n\n")
	p("| measure | resizer | bare | floor | floor, look-ups every time | resizer ÷ bare | resizer ÷ floor | target |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	cr, cb, cf := median(r.cold[0].total), median(r.cold[1].total), median(r.cold[2].total)
	p("| cold start, median of %d (process start → first answer) | %s | %s | %s | — | %.2f× | %.2f× | ≤ %.1f× bare: %s |\n",
		r.rounds, ms(cr), ms(cb), ms(cf), ratio(cr, cb), ratio(cr, cf), coldTarget, benchres.Verdict(ratio(cr, cb) <= coldTarget))
	ir, ib, iff := median(r.cold[0].init), median(r.cold[1].init), median(r.cold[2].init)
	p("| of which init, median (emulator's INIT REPORT) | %s | %s | %s | — | %.2f× | %.2f× | |\n", ms(ir), ms(ib), ms(iff), ratio(ir, ib), ratio(ir, iff))
	wr, wb, wf, wu := median(r.warm[0].latency), median(r.warm[1].latency), median(r.warm[2].latency), median(r.warm[3].latency)
	p("| warm invocation, median of %d | %s | %s | %s | %s | %.2f× | %.2f× | ≤ %.1f× bare: %s; ≤ %.2f× floor: %s |\n",
		r.invocations, ms(wr), ms(wb), ms(wf), ms(wu), ratio(wr, wb), ratio(wr, wf),
		warmTarget, benchres.Verdict(ratio(wr, wb) <= warmTarget), floorTarget, benchres.Verdict(ratio(wr, wf) <= floorTarget))
	pr, pb, pf, pu := percentile(r.warm[0].latency, 0.9), percentile(r.warm[1].latency, 0.9), percentile(r.warm[2].latency, 0.9), percentile(r.warm[3].latency, 0.9)
	p("| warm invocation, p90 | %s | %s | %s | %s | %.2f× | %.2f× | |\n", ms(pr), ms(pb), ms(pf), ms(pu), ratio(pr, pb), ratio(pr, pf))
	cpu := func(i int) time.Duration { return r.warm[i].cpu }
	p("| CPU time of the function process per warm invocation (user+system) | %s | %s | %s | %s | %.2f× | %.2f× | reported |\n",
		ms(cpu(0)), ms(cpu(1)), ms(cpu(2)), ms(cpu(3)), ratio(cpu(0), cpu(1)), ratio(cpu(0), cpu(2)))
	p("| binary size | %s | %s | %s | — | %.2f× | %.2f× | |\n", mb(r.size[0]), mb(r.size[1]), mb(r.size[2]),
		float64(r.size[0])/float64(r.size[1]), float64(r.size[0])/float64(r.size[2]))
	hr, hb, hf, hu := r.warm[0].mem.HWM, r.warm[1].mem.HWM, r.warm[2].mem.HWM, r.warm[3].mem.HWM
	p("| peak RSS of the function process (VmHWM) after the warm run | %s | %s | %s | %s | %.2f× | %.2f× | ≤ %s: %s |\n",
		mb(hr), mb(hb), mb(hf), mb(hu), float64(hr)/float64(hb), float64(hr)/float64(hf), mb(rssTarget), benchres.Verdict(hr <= rssTarget))
	p("\nTarget line (issue 13): warm dry run %s ≤ %.2f × the floor function's invocation %s = %s: %s (%.2f×).\n",
		ms(wr), floorTarget, ms(wf), ms(time.Duration(floorTarget*float64(wf))), benchres.Verdict(ratio(wr, wf) <= floorTarget), ratio(wr, wf))

	p("\nWhere the time goes (medians; each phase ends when the function's request has been answered by the simulator, or has arrived at the sink):\n\n")
	p("| | invocation → describeInstance | → the later of the two look-ups (warm: none, the cache answers) | → outcome at the sink | → answer |\n|---|---:|---:|---:|---:|\n")
	for _, row := range []struct {
		name string
		tl   []timeline
	}{{"resizer, cold start", r.cold[0].tl}, {"floor, cold start", r.cold[2].tl}, {"resizer, warm", r.warm[0].tl}, {"floor, warm", r.warm[2].tl}} {
		p("| %s | %s | %s | %s | %s |\n", row.name,
			ms(medianOf(row.tl, func(t timeline) time.Duration { return t.toDescribe })),
			ms(medianOf(row.tl, func(t timeline) time.Duration { return t.toLookups })),
			ms(medianOf(row.tl, func(t timeline) time.Duration { return t.toSink })),
			ms(medianOf(row.tl, func(t timeline) time.Duration { return t.toAnswer })))
	}
	if len(r.bench) == 0 {
		return b.String()
	}
	p("\nGo benchmarks (`-benchmem`, median of the runs):\n\n")
	p("| package | benchmark | ns/op | B/op | allocs/op | target |\n|---|---|---:|---:|---:|---|\n")
	for _, x := range r.bench {
		target := ""
		if x.Name == signBench {
			target = fmt.Sprintf("≤ %d ns and well under the official SDK signer's ~%d allocs: %s",
				signTarget, sdkSignAllocs, benchres.Verdict(x.NsPerOp <= signTarget && x.AllocsPer < sdkSignAllocs/2))
		}
		p("| %s | %s | %.0f | %.0f | %.0f | %s |\n", shortPkg(x.Pkg), x.Name, x.NsPerOp, x.BytesPerOp, x.AllocsPer, target)
	}
	return b.String()
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func shortPkg(p string) string {
	const mod = "github.com/jdcloud-vm-resizer/resizer"
	if p == mod {
		return "resizer"
	}
	return strings.TrimPrefix(p, mod+"/")
}

// machine names what the numbers came from, as the README quotes them.
func machine(goCmd string) string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	goVersion := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if out, err := exec.Command(goCmd, "version").Output(); err == nil {
		goVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	commit := "unknown commit"
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		commit = "commit " + strings.TrimSpace(string(out))
		// --no-optional-locks: reading the status must not rewrite the index.
		if st, err := exec.Command("git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			commit += " with uncommitted changes"
		}
	}
	return fmt.Sprintf("Machine: nproc %d, %s; %s; %s; %s.",
		runtime.NumCPU(), cpu, goVersion, commit, time.Now().UTC().Format("2006-01-02 15:04 MST"))
}
