package report_test

import (
	"bytes"
	"encoding/xml"
	"image/color"
	"image/png"
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

// TestPNG draws every chart kind as a PNG of the SVG's size × 2, with the
// palette's first colour on it and accented labels drawn without error.
func TestPNG(t *testing.T) {
	res := &store.ReportResult{Columns: []string{"stage", "a", "b"}, Kinds: []string{"text", "int", "money"},
		Rows: [][]any{{"Proposta", int64(3), 10.5}, {"Negociació", int64(1), 2.0}, {"Qualificació", int64(5), 0.0}}}
	blue := color.RGBA{0x00, 0x72, 0xB2, 255}
	for _, kind := range []string{"bar", "stacked_bar", "line", "pie", "donut", "funnel"} {
		res.Chart = &store.ChartHint{Kind: kind, Labels: []int{0}, Series: []int{1, 2}}
		b, err := report.PNG(res, report.Chart{Title: "Embut", Series: []string{"Nombre", "Import"}, Labels: []string{"Proposta", "Negociació", "Qualificació"}})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", kind, err)
		}
		if sz := img.Bounds().Size(); sz.X != 1440 || sz.Y != 640 {
			t.Errorf("%s: size %v", kind, sz)
		}
		found, dark := false, 0
		for y := 0; y < img.Bounds().Dy(); y++ {
			for x := 0; x < img.Bounds().Dx(); x++ {
				c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				if c == blue {
					found = true
				}
				if c.R < 0x60 && c.G < 0x60 && c.B < 0x60 {
					dark++
				}
			}
		}
		if !found || dark < 50 {
			t.Errorf("%s: palette colour %v, %d text pixels", kind, found, dark)
		}
	}
	res.Chart = nil
	if b, err := report.PNG(res, report.Chart{}); b != nil || err != nil {
		t.Error("no hint, no image")
	}
}
