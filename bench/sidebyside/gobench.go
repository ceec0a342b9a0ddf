package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// benchResult is one Go benchmark, the median of its -count runs.
type benchResult struct {
	Pkg, Name             string
	NsPerOp               float64
	BytesPerOp, AllocsPer float64
	runs                  int
}

// benchLine matches `go test -bench -benchmem` result lines, e.g.
// "BenchmarkSign-2  1000000  1234 ns/op  96 B/op  2 allocs/op".
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/op\s+([\d.]+) allocs/op`)

// runGoBenchmarks runs the hot-path benchmarks one package at a time (-p 1:
// two benchmark binaries at once on two cores would measure each other),
// echoing go test's output to log, and returns the medians in order.
func runGoBenchmarks(goCmd, pattern string, count int, pkgs []string, log io.Writer) ([]benchResult, error) {
	args := append([]string{"test", "-p", "1", "-run", "^$", "-bench", pattern, "-benchmem", "-count", strconv.Itoa(count)}, pkgs...)
	cmd := exec.Command(goCmd, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "$ %s %s\n", goCmd, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	type key struct{ pkg, name string }
	var order []key
	runs := map[key][]benchResult{}
	pkg := ""
	s := bufio.NewScanner(out)
	for s.Scan() {
		line := s.Text()
		fmt.Fprintln(log, line)
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		k := key{pkg, strings.TrimPrefix(m[1], "Benchmark")}
		if _, seen := runs[k]; !seen {
			order = append(order, k)
		}
		r := benchResult{Pkg: pkg, Name: k.name}
		r.NsPerOp, _ = strconv.ParseFloat(m[2], 64)
		r.BytesPerOp, _ = strconv.ParseFloat(m[3], 64)
		r.AllocsPer, _ = strconv.ParseFloat(m[4], 64)
		runs[k] = append(runs[k], r)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("go test -bench: %w", err)
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("go test -bench %q ran no benchmark", pattern)
	}
	res := make([]benchResult, 0, len(order))
	for _, k := range order {
		rs := runs[k]
		med := func(f func(benchResult) float64) float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		res = append(res, benchResult{
			Pkg: k.pkg, Name: k.name, runs: len(rs),
			NsPerOp:    med(func(r benchResult) float64 { return r.NsPerOp }),
			BytesPerOp: med(func(r benchResult) float64 { return r.BytesPerOp }),
			AllocsPer:  med(func(r benchResult) float64 { return r.AllocsPer }),
		})
	}
	return res, nil
}
