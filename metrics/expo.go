package metrics

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// A registry of the few series the Prometheus adapter keeps, written in the
// Prometheus text exposition format 0.0.4. It exists instead of
// client_golang's because linking that costs every cold start of the one
// binary, Lambda's included, about 6 ms of package init (docs/watching.md,
// "What the metrics cost"); the tests hold this output byte for byte to
// what client_golang writes for the same observations.

// family is one metric family: it writes its HELP, TYPE and samples.
type family interface {
	write(b *bytes.Buffer)
}

// counterVec is a counter with labels; a series appears when first added to.
type counterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	series     map[string]*counterSeries
}

type counterSeries struct {
	values []string
	n      uint64
}

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{name: name, help: help, labels: labels, series: map[string]*counterSeries{}}
}

// inc adds one to the series of values, given in the order of c.labels.
func (c *counterVec) inc(values ...string) {
	k := seriesKey(values)
	c.mu.Lock()
	s := c.series[k]
	if s == nil {
		s = &counterSeries{values: slices.Clone(values)}
		c.series[k] = s
	}
	s.n++
	c.mu.Unlock()
}

func (c *counterVec) write(b *bytes.Buffer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.series) == 0 {
		return // as client_golang: a family without series is not written
	}
	header(b, c.name, c.help, "counter")
	for _, k := range sortedKeys(c.series) {
		s := c.series[k]
		sample(b, c.name, c.labels, s.values, "", "", float64(s.n))
	}
}

// histogramVec is a histogram with labels. Without labels its one series
// exists from the start, so a scrape shows it at zero.
type histogramVec struct {
	name, help string
	labels     []string
	bounds     []float64 // upper bounds, increasing; +Inf is implied
	mu         sync.Mutex
	series     map[string]*histogramSeries
}

type histogramSeries struct {
	values []string
	counts []uint64 // per bucket, not cumulative; the last one is +Inf
	sum    float64
	count  uint64
}

func newHistogramVec(name, help string, bounds []float64, labels ...string) *histogramVec {
	h := &histogramVec{name: name, help: help, labels: labels, bounds: bounds, series: map[string]*histogramSeries{}}
	if len(labels) == 0 {
		h.series[""] = &histogramSeries{counts: make([]uint64, len(bounds)+1)}
	}
	return h
}

func (h *histogramVec) observe(v float64, values ...string) {
	i, _ := slices.BinarySearch(h.bounds, v) // first bound >= v: le is inclusive
	k := seriesKey(values)
	h.mu.Lock()
	s := h.series[k]
	if s == nil {
		s = &histogramSeries{values: slices.Clone(values), counts: make([]uint64, len(h.bounds)+1)}
		h.series[k] = s
	}
	s.counts[i]++
	s.sum += v
	s.count++
	h.mu.Unlock()
}

func (h *histogramVec) write(b *bytes.Buffer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.series) == 0 {
		return
	}
	header(b, h.name, h.help, "histogram")
	for _, k := range sortedKeys(h.series) {
		s := h.series[k]
		var cum uint64
		for i, n := range s.counts {
			cum += n
			le := math.Inf(1)
			if i < len(h.bounds) {
				le = h.bounds[i]
			}
			sample(b, h.name+"_bucket", h.labels, s.values, "le", formatFloat(le), float64(cum))
		}
		sample(b, h.name+"_sum", h.labels, s.values, "", "", s.sum)
		sample(b, h.name+"_count", h.labels, s.values, "", "", float64(s.count))
	}
}

// gauge is a gauge without labels.
type gauge struct {
	name, help string
	v          atomic.Int64
}

func (g *gauge) write(b *bytes.Buffer) {
	header(b, g.name, g.help, "gauge")
	sample(b, g.name, nil, nil, "", "", float64(g.v.Load()))
}

func header(b *bytes.Buffer, name, help, typ string) {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	escape(b, help, false)
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(typ)
	b.WriteByte('\n')
}

// sample writes one line: name{labels…[,extra="extraValue"]} value.
func sample(b *bytes.Buffer, name string, labels, values []string, extra, extraValue string, v float64) {
	b.WriteString(name)
	if len(labels) > 0 || extra != "" {
		b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			label(b, l, values[i])
		}
		if extra != "" {
			if len(labels) > 0 {
				b.WriteByte(',')
			}
			label(b, extra, extraValue)
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
}

func label(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(`="`)
	escape(b, value, true)
	b.WriteByte('"')
}

// escape writes s with the format's escapes: HELP text escapes \ and
// newline; a label value (quote true) escapes those and the double quote.
func escape(b *bytes.Buffer, s string, quote bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '"' && quote:
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// seriesKey joins label values with a byte no label value of this package
// contains and that sorts before every other, so that sorted keys order
// the series label by label, as client_golang does.
func seriesKey(values []string) string { return strings.Join(values, "\x00") }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
