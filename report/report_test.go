package report_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"cartera/report"
	"cartera/store"
)

// TestSVG draws every chart kind as well-formed SVG with an accessible name.
func TestSVG(t *testing.T) {
	res := &store.ReportResult{Columns: []string{"stage", "a", "b"}, Kinds: []string{"text", "int", "money"},
		Rows: [][]any{{"x", int64(3), 10.5}, {"<y>", int64(0), 2.0}}}
	for _, kind := range []string{"bar", "stacked_bar", "line", "pie", "donut", "funnel"} {
		res.Chart = &store.ChartHint{Kind: kind, Labels: []int{0}, Series: []int{1, 2}}
		svg := report.SVG(res, report.Chart{Title: "Pipeline & more", Series: []string{"A", "B"}, Labels: []string{"x", "<y>"}})
		if !strings.Contains(svg, `aria-label="Pipeline &amp; more"`) || !strings.Contains(svg, "<title>") || strings.Contains(svg, "<y>") {
			t.Errorf("%s: %s", kind, svg)
		}
		if err := xml.Unmarshal([]byte(svg), new(any)); err != nil {
			t.Errorf("%s: not XML: %v", kind, err)
		}
	}
	res.Chart = nil
	if report.SVG(res, report.Chart{}) != "" {
		t.Error("no hint, no chart")
	}
}

// TestCSV neutralises formulas and keeps numbers, totals last.
func TestCSV(t *testing.T) {
	res := &store.ReportResult{Columns: []string{"name", "n"}, Rows: [][]any{{"=cmd()", 2.5}}, Totals: []any{nil, 2.5}}
	var b bytes.Buffer
	cell := func(col int, v any) any { return v }
	if err := report.CSV(&b, []string{"Name", "N"}, res, cell); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "\ufeffName,N\n'=cmd(),2.5\n,2.5\n" {
		t.Errorf("%q", got)
	}
	b.Reset()
	if err := report.XLSX(&b, "A/B", []string{"Name", "N"}, res, cell); err != nil || b.Len() == 0 {
		t.Errorf("xlsx %v", err)
	}
}
