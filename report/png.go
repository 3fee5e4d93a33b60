package report

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strconv"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"cartera/store"
)

// PNG draws the same chart as SVG as a PNG image, for e-mail programs
// that show no SVG (Gmail, Outlook): bars, stacked bars, lines, pie or
// donut and funnel, in the same palette, at twice the SVG's size so it
// stays sharp on high-density screens. nil when there is nothing to draw.
func PNG(res *store.ReportResult, c Chart) ([]byte, error) {
	if res == nil || res.Chart == nil || len(res.Rows) == 0 || len(res.Chart.Series) == 0 {
		return nil, nil
	}
	if c.Format == nil {
		c.Format = func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	}
	face, err := pngFace()
	if err != nil {
		return nil, err
	}
	p := &painter{img: image.NewRGBA(image.Rect(0, 0, width*scale, height*scale)), face: face}
	draw.Draw(p.img, p.img.Bounds(), image.White, image.Point{}, draw.Src)
	switch res.Chart.Kind {
	case "pie", "donut":
		p.pie(res, c, res.Chart.Kind == "donut")
	case "funnel":
		p.funnel(res, c)
	case "line":
		p.lines(res, c)
	default:
		p.bars(res, c, res.Chart.Kind == "stacked_bar")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, p.img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// scale is the PNG's pixels per SVG unit.
const scale = 2

var (
	faceOnce sync.Once
	faceVal  font.Face
	faceErr  error
)

// pngFace is the Go font (Latin with accents: Catalan and Spanish labels
// print as written) at the SVG's 11-unit size.
func pngFace() (font.Face, error) {
	faceOnce.Do(func() {
		f, err := opentype.Parse(goregular.TTF)
		if err != nil {
			faceErr = err
			return
		}
		faceVal, faceErr = opentype.NewFace(f, &opentype.FaceOptions{Size: 11 * scale, DPI: 72, Hinting: font.HintingFull})
	})
	return faceVal, faceErr
}

// painter draws in SVG units on a scaled RGBA image.
type painter struct {
	img  *image.RGBA
	face font.Face
}

func hexColor(s string) color.RGBA {
	v, _ := strconv.ParseUint(s[1:], 16, 32)
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

var (
	gridColor = color.RGBA{0xdd, 0xdd, 0xdd, 255}
	textColor = color.RGBA{0x33, 0x33, 0x33, 255}
)

func (p *painter) rect(x, y, w, h float64, c color.Color) {
	r := image.Rect(int(x*scale), int(y*scale), int(math.Ceil((x+w)*scale)), int(math.Ceil((y+h)*scale)))
	draw.Draw(p.img, r, &image.Uniform{c}, image.Point{}, draw.Over)
}

// line draws a segment of width w units.
func (p *painter) line(x1, y1, x2, y2, w float64, c color.Color) {
	steps := int(math.Max(math.Abs(x2-x1), math.Abs(y2-y1))*scale) + 1
	for i := 0; i <= steps; i++ {
		t := float64(i) / float64(steps)
		p.rect(x1+(x2-x1)*t-w/2, y1+(y2-y1)*t-w/2, w, w, c)
	}
}

// text writes s with its anchor at x ("start", "middle" or "end") and its
// baseline at y, cut with an ellipsis to maxW units when maxW > 0.
func (p *painter) text(x, y float64, s, anchor string, maxW float64) {
	d := &font.Drawer{Dst: p.img, Src: &image.Uniform{textColor}, Face: p.face}
	w := float64(d.MeasureString(s).Round()) / scale
	if maxW > 0 && w > maxW {
		r := []rune(s)
		for len(r) > 1 && w > maxW {
			r = r[:len(r)-1]
			w = float64(d.MeasureString(string(r)+"…").Round()) / scale
		}
		s = string(r) + "…"
	}
	switch anchor {
	case "middle":
		x -= w / 2
	case "end":
		x -= w
	}
	d.Dot = fixed.P(int(x*scale), int(y*scale))
	d.DrawString(s)
}

// axes draws the value grid and returns the scale's maximum.
func (p *painter) axes(max float64, c Chart) float64 {
	max = niceMax(max)
	ph := float64(height - top - bottom)
	for i := 0; i <= 4; i++ {
		v := max * float64(i) / 4
		y := float64(top) + ph - ph*float64(i)/4
		p.line(left, y, width-right, y, 1, gridColor)
		p.text(left-6, y+4, c.Format(v), "end", left-8)
	}
	return max
}

// legend names the series under the plot.
func (p *painter) legend(c Chart, n int) {
	if n < 2 {
		return
	}
	x := float64(left)
	for i := 0; i < n; i++ {
		p.rect(x, height-16, 10, 10, hexColor(Palette[i%len(Palette)]))
		p.text(x+14, height-7, c.series(i), "start", 150)
		x += 160
	}
}

func (p *painter) bars(res *store.ReportResult, c Chart, stacked bool) {
	ser := res.Chart.Series
	max := p.axes(barsMax(res, stacked), c)
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
			h := ph * math.Max(0, Num(row[s])) / max
			x := x0 + slot*0.15
			if stacked {
				y -= h
			} else {
				x += bw * float64(j)
				y = float64(top) + ph - h
			}
			p.rect(x, y, bw, h, hexColor(Palette[j%len(Palette)]))
		}
		p.text(x0+slot/2, float64(height-bottom)+16, c.label(i), "middle", slot-2)
	}
	p.legend(c, len(ser))
}

func (p *painter) lines(res *store.ReportResult, c Chart) {
	ser := res.Chart.Series
	max := 0.0
	for _, row := range res.Rows {
		for _, s := range ser {
			max = math.Max(max, Num(row[s]))
		}
	}
	max = p.axes(max, c)
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	step := pw / math.Max(1, float64(len(res.Rows)-1))
	for j, s := range ser {
		col := hexColor(Palette[j%len(Palette)])
		var px, py float64
		for i, row := range res.Rows {
			x := float64(left) + step*float64(i)
			if len(res.Rows) == 1 {
				x = float64(left) + pw/2
			}
			y := float64(top) + ph - ph*math.Max(0, Num(row[s]))/max
			if i > 0 {
				p.line(px, py, x, y, 2, col)
			}
			p.rect(x-2.5, y-2.5, 5, 5, col)
			px, py = x, y
		}
	}
	every := int(math.Ceil(float64(len(res.Rows)) / 12))
	for i := range res.Rows {
		if i%every == 0 {
			x := float64(left) + step*float64(i)
			p.text(x, float64(height-bottom)+16, c.label(i), "middle", step*float64(every)-2)
		}
	}
	p.legend(c, len(ser))
}

func (p *painter) pie(res *store.ReportResult, c Chart, donut bool) {
	s := res.Chart.Series[0]
	total := 0.0
	for _, row := range res.Rows {
		total += math.Max(0, Num(row[s]))
	}
	if total == 0 {
		return
	}
	cx, cy, r := 170.0, float64(height)/2, 120.0
	// Each pixel of the disc takes the colour of the slice its angle is in.
	ends := make([]float64, len(res.Rows))
	acc := 0.0
	for i, row := range res.Rows {
		acc += math.Max(0, Num(row[s])) / total
		ends[i] = acc * 2 * math.Pi
	}
	for py := int((cy - r) * scale); py <= int((cy+r)*scale); py++ {
		for px := int((cx - r) * scale); px <= int((cx+r)*scale); px++ {
			dx, dy := float64(px)/scale-cx, float64(py)/scale-cy
			d := math.Hypot(dx, dy)
			if d > r || donut && d < r*0.55 {
				continue
			}
			a := math.Atan2(dx, -dy) // clockwise from twelve o'clock
			if a < 0 {
				a += 2 * math.Pi
			}
			for i, e := range ends {
				if a <= e {
					p.img.Set(px, py, hexColor(Palette[i%len(Palette)]))
					break
				}
			}
		}
	}
	for i, row := range res.Rows {
		if i >= 12 {
			break
		}
		y := 40 + float64(i)*20
		p.rect(330, y-10, 10, 10, hexColor(Palette[i%len(Palette)]))
		p.text(346, y, c.label(i)+": "+c.Format(Num(row[s])), "start", width-346-right)
	}
}

func (p *painter) funnel(res *store.ReportResult, c Chart) {
	s := res.Chart.Series[0]
	max := 0.0
	for _, row := range res.Rows {
		max = math.Max(max, Num(row[s]))
	}
	if max == 0 {
		max = 1
	}
	h := float64(height-top-20) / float64(len(res.Rows))
	mid := float64(left+width-right) / 2
	full := float64(width-left-right) * 0.6
	for i, row := range res.Rows {
		w := math.Max(2, full*math.Max(0, Num(row[s]))/max)
		y := float64(top) + h*float64(i)
		p.rect(mid-w/2, y+2, w, h-4, hexColor(Palette[i%len(Palette)]))
		p.text(mid-full/2-8, y+h/2+4, c.label(i), "end", float64(left)+full*0.3)
		p.text(mid+full/2+8, y+h/2+4, c.Format(Num(row[s])), "start", 0)
	}
}
