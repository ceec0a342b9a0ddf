// Command inittrace is the cold-start breakdown of `make bench`: it runs
// the built bootstrap with GODEBUG=inittrace=1 and no Lambda Runtime API
// and no configuration, so that it runs every package init and then exits
// on the configuration check before serving anything, a few times, and
// reports the median clock time of each package's init, the largest
// first, and the share of aws-sdk-go-v2 (with smithy-go, its runtime).
// It writes its section into bench/RESULTS.md between inittrace markers.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/jdcloud-vm-resizer/resizer/bench/internal/results"
)

const module = "github.com/jdcloud-vm-resizer/resizer"

// The markers of this program's section of bench/RESULTS.md.
var beginMarker, endMarker = results.Markers("inittrace")

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "inittrace:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		bootstrap = flag.String("bootstrap", "bin/bootstrap", "the resizer's binary, built for this host")
		runs      = flag.Int("runs", 7, "process starts; each package's median is reported")
		top       = flag.Int("top", 15, "packages listed")
		out       = flag.String("out", "bench/RESULTS.md", "file whose inittrace section is rewritten; empty for none")
	)
	flag.Parse()
	bin, err := filepath.Abs(*bootstrap)
	if err != nil {
		return err
	}
	clock := map[string][]float64{} // package → init clock ms per run
	var order []string
	totals := make([]float64, 0, *runs)
	for range *runs {
		trace, err := traceOnce(bin)
		if err != nil {
			return err
		}
		total := 0.0
		for _, e := range trace {
			if _, ok := clock[e.pkg]; !ok {
				order = append(order, e.pkg)
			}
			clock[e.pkg] = append(clock[e.pkg], e.ms)
			total += e.ms
		}
		totals = append(totals, total)
	}
	section := report(bin, *runs, *top, clock, order, totals)
	fmt.Print(section)
	if *out == "" {
		return nil
	}
	return results.WriteSection(*out, beginMarker, endMarker, section)
}

type entry struct {
	pkg string
	ms  float64
}

// traceOnce starts bin once and parses its "init pkg @t ms, d ms clock, ..."
// lines. The bootstrap exits on its configuration check: nothing of JD
// Cloud's, no keys, no port.
func traceOnce(bin string) ([]entry, error) {
	cmd := exec.Command(bin)
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "JDCLOUD_") || strings.HasPrefix(k, "_LAMBDA") || k == "GODEBUG" || k == "PORT" {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "GODEBUG=inittrace=1", "PORT=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := cmd.Run() // exits 2 on the configuration, by design
	var es []entry
	s := bufio.NewScanner(bytes.NewReader(stderr.Bytes()))
	for s.Scan() {
		f := strings.Fields(s.Text())
		// init <pkg> @<t> ms, <d> ms clock, <b> bytes, <n> allocs
		if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
			continue
		}
		ms, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			continue
		}
		es = append(es, entry{f[1], ms})
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("%s printed no init trace (%v): %.300s", bin, runErr, stderr.String())
	}
	return es, nil
}

// group names who a package belongs to.
func group(pkg string) string {
	switch {
	case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2"), strings.HasPrefix(pkg, "github.com/aws/smithy-go"):
		return "aws-sdk-go-v2 (and smithy-go)"
	case strings.HasPrefix(pkg, "github.com/aws/aws-lambda-go"):
		return "aws-lambda-go"
	case pkg == module || strings.HasPrefix(pkg, module+"/"):
		return "this module"
	case !strings.Contains(strings.SplitN(pkg, "/", 2)[0], "."):
		return "standard library and runtime"
	default:
		return "other dependencies"
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func report(bin string, runs, top int, clock map[string][]float64, order []string, totals []float64) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	med := map[string]float64{}
	groups := map[string]float64{}
	for _, pkg := range order {
		med[pkg] = median(clock[pkg])
		groups[group(pkg)] += med[pkg]
	}
	total := median(totals)
	p("%s\n## Cold start: package init (GODEBUG=inittrace=1)\n\n%s. ", beginMarker, results.Machine())
	p("`%s` started %d times with GODEBUG=inittrace=1 and no Runtime API, exiting on its configuration check right after init; clock time of each package's init, median over the starts; %d packages, %.2f ms of init in all (median of the starts' sums).\n\n",
		filepath.Base(bin), runs, len(order), total)
	p("| package | init ms | share |\n|---|---:|---:|\n")
	byCost := slices.Clone(order)
	slices.SortStableFunc(byCost, func(a, b string) int {
		switch {
		case med[a] > med[b]:
			return -1
		case med[a] < med[b]:
			return 1
		}
		return 0
	})
	for _, pkg := range byCost[:min(top, len(byCost))] {
		p("| %s | %.2f | %.0f%% |\n", strings.TrimPrefix(pkg, "github.com/"), med[pkg], 100*med[pkg]/total)
	}
	p("\n| by owner | init ms | share |\n|---|---:|---:|\n")
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	slices.SortFunc(names, func(a, b string) int {
		if groups[a] > groups[b] {
			return -1
		}
		if groups[a] < groups[b] {
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, g := range names {
		p("| %s | %.2f | %.0f%% |\n", g, groups[g], 100*groups[g]/total)
	}
	p("\n%s\n", endMarker)
	return b.String()
}
