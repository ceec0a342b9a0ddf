package deploytest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/dashboard.svg from template.yaml")

const (
	pictureFile   = "docs/dashboard.svg"
	pictureUpdate = "go test ./internal/deploytest -run TestDashboardPicture -update"
)

// TestDashboardPicture keeps docs/dashboard.svg, the README's picture of
// the dashboard, what template.yaml's dashboard body lays out.
func TestDashboardPicture(t *testing.T) {
	got := dashboardSVG(t, tplDashboardBody(t, tplDoc(t)))
	path := filepath.Join(repoRoot, filepath.FromSlash(pictureFile))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v\nwrite it with: %s", err, pictureUpdate)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what template.yaml's dashboard lays out; rewrite it with:\n\t%s", pictureFile, pictureUpdate)
	}
	// Well-formed, so that browsers and GitHub show it at all.
	dec := xml.NewDecoder(bytes.NewReader(got))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", pictureFile, err)
		}
	}
}

// TestReadmeShowsTheDashboard holds the README's "### The dashboard" to the
// picture and to one line per widget, named by its title.
func TestReadmeShowsTheDashboard(t *testing.T) {
	readme := string(tplRepoFile(t, "README.md"))
	_, sec, ok := strings.Cut(readme, "\n### The dashboard\n")
	if !ok {
		t.Fatal(`README.md has no "### The dashboard" subsection`)
	}
	sec, _, _ = strings.Cut(sec, "\n#")
	if !strings.Contains(sec, "![dashboard layout]("+pictureFile+")") {
		t.Errorf("the subsection does not show %s", pictureFile)
	}
	lines := map[string]int{}
	for line := range strings.SplitSeq(sec, "\n") {
		if title, ok := strings.CutPrefix(line, "- **"); ok {
			title, _, _ = strings.Cut(title, "**")
			lines[title]++
		}
	}
	widgets := tplDashboardBody(t, tplDoc(t))
	for _, w := range widgets {
		if lines[w.Properties.Title] != 1 {
			t.Errorf("the subsection has %d lines \"- **%s** …\", want one saying what the widget shows", lines[w.Properties.Title], w.Properties.Title)
		}
		delete(lines, w.Properties.Title)
	}
	for title := range lines {
		t.Errorf("the subsection describes a widget %q that the dashboard does not have", title)
	}
}

// The picture's scale: CloudWatch lays widgets on a grid 24 columns wide.
const (
	colPx, rowPx = 48, 40
	padPx        = 16
	headPx       = 40
)

var seriesColours = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"}

// dashboardSVG draws the widgets' layout: a box per widget at its grid
// position, its title, and a legend line per series.
func dashboardSVG(t *testing.T, widgets []tplWidget) []byte {
	t.Helper()
	rows := 0
	for _, w := range widgets {
		rows = max(rows, w.Y+w.Height)
	}
	width := 24*colPx + 2*padPx
	height := headPx + rows*rowPx + 2*padPx
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif">`+"\n",
		width, height, width, height)
	b.WriteString("<!-- Drawn from template.yaml's ResizeDashboard by " + pictureUpdate + "; do not edit. -->\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#f2f3f3"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="18" font-weight="bold" fill="#16191f">CloudWatch dashboard (one per stack): layout of template.yaml</text>`+"\n",
		padPx, padPx+18)
	for _, w := range widgets {
		x := padPx + w.X*colPx
		y := padPx + headPx + w.Y*rowPx
		wd, ht := w.Width*colPx-8, w.Height*rowPx-8
		fmt.Fprintf(&b, `<g transform="translate(%d,%d)">`+"\n", x, y)
		fmt.Fprintf(&b, `  <rect width="%d" height="%d" rx="4" fill="#ffffff" stroke="#d5dbdb"/>`+"\n", wd, ht)
		fmt.Fprintf(&b, `  <text x="12" y="24" font-size="14" font-weight="bold" fill="#16191f">%s</text>`+"\n", html.EscapeString(w.Properties.Title))
		// A plot area, so the box reads as a chart.
		fmt.Fprintf(&b, `  <line x1="12" y1="%d" x2="%d" y2="%d" stroke="#d5dbdb"/>`+"\n", ht-20, wd-12, ht-20)
		for i, s := range tplWidgetSeries(t, w) {
			ly := 48 + i*20
			colour := seriesColours[i%len(seriesColours)]
			fmt.Fprintf(&b, `  <rect x="12" y="%d" width="12" height="4" fill="%s"/>`+"\n", ly-4, colour)
			fmt.Fprintf(&b, `  <text x="30" y="%d" font-size="12" fill="#545b64">%s</text>`+"\n", ly, html.EscapeString(seriesLabel(w, s)))
		}
		fmt.Fprintf(&b, `  <text x="%d" y="%d" font-size="10" fill="#879596" text-anchor="end">x %d, y %d, %d×%d</text>`+"\n",
			wd-12, ht-6, w.X, w.Y, w.Width, w.Height)
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// seriesLabel is a series' legend: its own label, else what it is.
func seriesLabel(w tplWidget, s tplSeries) string {
	if l, ok := s.options["label"].(string); ok && l != "" {
		return l
	}
	if s.expression != "" {
		if m := tplSearchRE.FindStringSubmatch(s.expression); m != nil {
			return fmt.Sprintf("%s (%s), a line per %s", m[3], m[4], strings.ReplaceAll(m[2], ",", " × "))
		}
		return s.expression
	}
	stat, _ := s.options["stat"].(string)
	if stat == "" {
		stat = w.Properties.Stat
	}
	return fmt.Sprintf("%s (%s)", s.metric, stat)
}
