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
)

// Targets of issue 6, each measured in the same run.
const (
	coldTarget = 1.3
	warmTarget = 2.5
	rssTarget  = 40e6 // bytes
	signTarget = 5000 // ns
	signBench  = "Sign"
	// sdkSignAllocs is what the official JD Cloud SDK's signer allocates
	// per signature (issue 6); it is not a dependency, so not measured here.
	sdkSignAllocs = 92
)

// results is everything one `make bench` measured.
type results struct {
	machine             string
	rounds, invocations int
	cold                []coldResult // resizer, bare
	warm                []warmResult
	size                []int64
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

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

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

	p("| measure | resizer | bare | ratio | target |\n|---|---:|---:|---:|---|\n")
	cr, cb := median(r.cold[0].total), median(r.cold[1].total)
	p("| cold start, median of %d (process start → first answer) | %s | %s | %.2f× | ≤ %.1f×: %s |\n",
		r.rounds, ms(cr), ms(cb), ratio(cr, cb), coldTarget, verdict(ratio(cr, cb) <= coldTarget))
	ir, ib := median(r.cold[0].init), median(r.cold[1].init)
	p("| of which init, median (emulator's INIT REPORT) | %s | %s | %.2f× | |\n", ms(ir), ms(ib), ratio(ir, ib))
	wr, wb := median(r.warm[0].latency), median(r.warm[1].latency)
	p("| warm invocation, median of %d | %s | %s | %.2f× | ≤ %.1f×: %s |\n",
		r.invocations, ms(wr), ms(wb), ratio(wr, wb), warmTarget, verdict(ratio(wr, wb) <= warmTarget))
	pr, pb := percentile(r.warm[0].latency, 0.9), percentile(r.warm[1].latency, 0.9)
	p("| warm invocation, p90 | %s | %s | %.2f× | |\n", ms(pr), ms(pb), ratio(pr, pb))
	cr2, cb2 := r.warm[0].cpu, r.warm[1].cpu
	p("| CPU time of the function process per warm invocation (user+system) | %s | %s | %.2f× | |\n", ms(cr2), ms(cb2), ratio(cr2, cb2))
	p("| binary size | %s | %s | %.2f× | |\n", mb(r.size[0]), mb(r.size[1]), float64(r.size[0])/float64(r.size[1]))
	hr, hb := r.warm[0].mem.HWM, r.warm[1].mem.HWM
	p("| peak RSS of the function process (VmHWM) after the warm run | %s | %s | %.2f× | ≤ %s: %s |\n",
		mb(hr), mb(hb), float64(hr)/float64(hb), mb(rssTarget), verdict(hr <= rssTarget))

	p("\nWhere the resizer's time goes (medians; each phase ends when a request of the resizer's arrives):\n\n")
	p("| | invocation → describeInstance | → the later of the two look-ups (warm: none, the cache answers) | → outcome at the sink | → answer |\n|---|---:|---:|---:|---:|\n")
	for _, row := range []struct {
		name string
		tl   []timeline
	}{{"cold start", r.cold[0].tl}, {"warm", r.warm[0].tl}} {
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
				signTarget, sdkSignAllocs, verdict(x.NsPerOp <= signTarget && x.AllocsPer < sdkSignAllocs/2))
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
