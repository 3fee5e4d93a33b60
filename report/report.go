// Package report renders report results as SVG charts and files (CSV,
// XLSX), without a network connection: charts are drawn on the server in a
// colour-blind-safe palette (Okabe–Ito) and carry a title for screen
// readers, who also get the numbers as a table from the page.
package report

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"cartera/store"
)

// Palette is the Okabe–Ito palette, distinguishable with the common
// colour-vision deficiencies.
var Palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"}

// Chart is what a chart needs besides the result: a title (also its
// accessible name), the name of each series and each category's label,
// all already in the reader's language.
type Chart struct {
	Title  string
	Series []string // names of the hint's series columns
	Labels []string // one per row
	// Format writes a value for axis ticks and slice labels.
	Format func(v float64) string
}

const (
	width  = 720
	height = 320
	left   = 70
	right  = 20
	top    = 20
	bottom = 70
)

// Num returns a cell as a number (nil and text count as zero).
func Num(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case int:
		return float64(x)
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

// SVG draws a result as its chart hint says; "" when it has no hint or no
// rows. The SVG is self-contained, with role="img", an aria-label and a
// <title>.
func SVG(res *store.ReportResult, c Chart) string {
	if res == nil || res.Chart == nil || len(res.Rows) == 0 || len(res.Chart.Series) == 0 {
		return ""
	}
	if c.Format == nil {
		c.Format = func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" class="chart chart-%s">`, width, height, esc(c.Title), res.Chart.Kind)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	switch res.Chart.Kind {
	case "pie", "donut":
		pie(&b, res, c, res.Chart.Kind == "donut")
	case "funnel":
		funnel(&b, res, c)
	case "line":
		line(&b, res, c)
	default:
		bars(&b, res, c, res.Chart.Kind == "stacked_bar")
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

func (c Chart) label(i int) string {
	if i < len(c.Labels) {
		return c.Labels[i]
	}
	return ""
}

func (c Chart) series(i int) string {
	if i < len(c.Series) {
		return c.Series[i]
	}
	return ""
}

// niceMax rounds a maximum up to 1, 2 or 5 × a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// axes draws the value grid (five lines) and returns the scale.
func axes(b *strings.Builder, max float64, c Chart) float64 {
	max = niceMax(max)
	ph := float64(height - top - bottom)
	for i := 0; i <= 4; i++ {
		v := max * float64(i) / 4
		y := float64(top) + ph - ph*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, left, width-right, y, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#333">%s</text>`, left-6, y+4, esc(c.Format(v)))
	}
	return max
}

// legend draws the series names under the plot.
func legend(b *strings.Builder, c Chart, n int) {
	if n < 2 {
		return
	}
	x := left
	for i := 0; i < n; i++ {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/>`, x, height-16, Palette[i%len(Palette)])
		name := c.series(i)
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="11" fill="#333">%s</text>`, x+14, height-7, esc(name))
		x += 24 + 7*len([]rune(name))
	}
}

// xLabel writes a category label under the plot, shortened to fit.
func xLabel(b *strings.Builder, x float64, s string, slot float64) {
	r := []rune(s)
	max := int(slot / 6.5)
	if max < 3 {
		max = 3
	}
	if len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#333">%s</text>`, x, height-bottom+16, esc(s))
}

// barsMax is the tallest bar (or stack) of a result, for the value axis
// of both the SVG and the PNG.
func barsMax(res *store.ReportResult, stacked bool) float64 {
	max := 0.0
	for _, row := range res.Rows {
		sum := 0.0
		for _, s := range res.Chart.Series {
			v := math.Max(0, Num(row[s]))
			if stacked {
				sum += v
			} else {
				sum = math.Max(sum, v)
			}
		}
		max = math.Max(max, sum)
	}
	return max
}

func bars(b *strings.Builder, res *store.ReportResult, c Chart, stacked bool) {
	ser := res.Chart.Series
	max := axes(b, barsMax(res, stacked), c)
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	slot := pw / float64(len(res.Rows))
	for i, row := range res.Rows {
		x0 := float64(left) + slot*float64(i)
		bw := slot * 0.7
		if !stacked {
			bw /= float64(len(ser))
		}
		y := float64(top) + ph
		for j, s := range ser {
			v := math.Max(0, Num(row[s]))
			h := ph * v / max
			x := x0 + slot*0.15
			if stacked {
				y -= h
			} else {
				x += bw * float64(j)
				y = float64(top) + ph - h
			}
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s · %s: %s</title></rect>`,
				x, y, bw, h, Palette[j%len(Palette)], esc(c.label(i)), esc(c.series(j)), esc(c.Format(Num(row[s]))))
		}
		xLabel(b, x0+slot/2, c.label(i), slot)
	}
	legend(b, c, len(ser))
}

func line(b *strings.Builder, res *store.ReportResult, c Chart) {
	ser := res.Chart.Series
	max := 0.0
	for _, row := range res.Rows {
		for _, s := range ser {
			max = math.Max(max, Num(row[s]))
		}
	}
	max = axes(b, max, c)
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	slot := pw / float64(len(res.Rows))
	for j, s := range ser {
		var pts []string
		for i, row := range res.Rows {
			x := float64(left) + slot*(float64(i)+0.5)
			y := float64(top) + ph - ph*math.Max(0, Num(row[s]))/max
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s · %s: %s</title></circle>`, x, y, Palette[j%len(Palette)], esc(c.label(i)), esc(c.series(j)), esc(c.Format(Num(row[s]))))
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"/>`, strings.Join(pts, " "), Palette[j%len(Palette)])
	}
	for i := range res.Rows {
		xLabel(b, float64(left)+slot*(float64(i)+0.5), c.label(i), slot)
	}
	legend(b, c, len(ser))
}

func pie(b *strings.Builder, res *store.ReportResult, c Chart, donut bool) {
	s := res.Chart.Series[0]
	total := 0.0
	for _, row := range res.Rows {
		total += math.Max(0, Num(row[s]))
	}
	if total == 0 {
		return
	}
	cx, cy, rad := 160.0, float64(height)/2, 120.0
	a := -math.Pi / 2
	for i, row := range res.Rows {
		v := math.Max(0, Num(row[s]))
		if v == 0 {
			continue
		}
		da := 2 * math.Pi * v / total
		col := Palette[i%len(Palette)]
		tip := fmt.Sprintf("%s: %s (%.1f%%)", c.label(i), c.Format(v), 100*v/total)
		if da >= 2*math.Pi-1e-9 {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"><title>%s</title></circle>`, cx, cy, rad, col, esc(tip))
		} else {
			x1, y1 := cx+rad*math.Cos(a), cy+rad*math.Sin(a)
			x2, y2 := cx+rad*math.Cos(a+da), cy+rad*math.Sin(a+da)
			large := 0
			if da > math.Pi {
				large = 1
			}
			fmt.Fprintf(b, `<path d="M%.1f,%.1f L%.1f,%.1f A%.1f,%.1f 0 %d 1 %.1f,%.1f Z" fill="%s" stroke="#fff"><title>%s</title></path>`, cx, cy, x1, y1, rad, rad, large, x2, y2, col, esc(tip))
		}
		a += da
		y := 30 + 20*i
		fmt.Fprintf(b, `<rect x="320" y="%d" width="12" height="12" fill="%s"/><text x="338" y="%d" font-size="12" fill="#333">%s</text>`, y, col, y+10, esc(tip))
	}
	if donut {
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#fff"/>`, cx, cy, rad*0.55)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="14" text-anchor="middle" fill="#333">%s</text>`, cx, cy+5, esc(c.Format(total)))
	}
}

func funnel(b *strings.Builder, res *store.ReportResult, c Chart) {
	s := res.Chart.Series[0]
	max := 0.0
	for _, row := range res.Rows {
		max = math.Max(max, Num(row[s]))
	}
	if max == 0 {
		max = 1
	}
	n := len(res.Rows)
	h := float64(height-2*top) / float64(n)
	cx, full := float64(width)/2+80, float64(width)-260
	for i, row := range res.Rows {
		v := math.Max(0, Num(row[s]))
		w := math.Max(2, full*v/max)
		y := float64(top) + h*float64(i)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" fill="%s"><title>%s: %s</title></rect>`, cx-w/2, y+2, w, h-4, Palette[i%len(Palette)], esc(c.label(i)), esc(c.Format(v)))
		fmt.Fprintf(b, `<text x="10" y="%.1f" font-size="12" fill="#333">%s · %s</text>`, y+h/2+4, esc(c.label(i)), esc(c.Format(v)))
	}
}

// Cell is how a file writes one value: text, or a number for spreadsheets.
type Cell func(col int, v any) any

// rowsWithTotals returns the rows and, if any, the totals row.
func rowsWithTotals(res *store.ReportResult) [][]any {
	rows := res.Rows
	if res.Totals != nil {
		rows = append(rows[:len(rows):len(rows)], res.Totals)
	}
	return rows
}

// Neutralise keeps a text cell from being read as a formula by a
// spreadsheet (formula injection): a leading = + - @ tab or carriage return
// gets a quote before it, as the record exports do.
func Neutralise(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CSV writes a result (header, rows, then totals) as UTF-8 CSV with a byte
// order mark, so spreadsheets open accents right; text is neutralised.
func CSV(w io.Writer, header []string, res *store.ReportResult, cell Cell) error {
	if _, err := w.Write([]byte("\ufeff")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(header)
	for _, row := range rowsWithTotals(res) {
		out := make([]string, len(row))
		for i, v := range row {
			switch x := cell(i, v).(type) {
			case nil:
			case string:
				out[i] = Neutralise(x)
			case float64:
				out[i] = strconv.FormatFloat(x, 'f', -1, 64)
			default:
				out[i] = Neutralise(fmt.Sprint(x))
			}
		}
		cw.Write(out)
	}
	cw.Flush()
	return cw.Error()
}

// XLSX writes a result as a workbook: numbers stay numbers, text is
// neutralised, the header row is bold.
func XLSX(w io.Writer, sheet string, header []string, res *store.ReportResult, cell Cell) error {
	x := excelize.NewFile()
	defer x.Close()
	if sheet == "" {
		sheet = "Report"
	}
	if len([]rune(sheet)) > 31 {
		sheet = string([]rune(sheet)[:31])
	}
	sheet = strings.NewReplacer("/", " ", "\\", " ", "?", " ", "*", " ", "[", " ", "]", " ", ":", " ").Replace(sheet)
	x.SetSheetName("Sheet1", sheet)
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, _ := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	hdr := make([]any, len(header))
	for i, h := range header {
		hdr[i] = excelize.Cell{Value: h, StyleID: bold}
	}
	if err := sw.SetRow("A1", hdr); err != nil {
		return err
	}
	for n, row := range rowsWithTotals(res) {
		out := make([]any, len(row))
		for i, v := range row {
			switch y := cell(i, v).(type) {
			case string:
				out[i] = Neutralise(y)
			default:
				out[i] = y
			}
		}
		ref, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(ref, out); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return x.Write(w)
}
