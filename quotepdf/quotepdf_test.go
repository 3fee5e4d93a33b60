package quotepdf_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cartera/i18n"
	"cartera/quotepdf"
	"cartera/store"
)

// needTool finds a poppler-utils program; without it the test is skipped
// locally but fails on CI, which installs it (.ci/run).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing on CI: install Debian's poppler-utils (.ci/run does)", name)
		}
		t.Skipf("skipping the PDF read-back: no %s on PATH (%v); install it with apt-get install -y poppler-utils", name, err)
	}
	return p
}

// sampleQuote is a Catalan quote with accents, l·l, mixed tax rates and a
// discount, its amounts computed by the store's rule.
func sampleQuote() *store.Quote {
	q := &store.Quote{
		ID: 7, Number: "P2026-0042", OpportunityName: "Reforma de l'oficina", AccountName: "Fusteria Puigdomènech, SL",
		AccountTaxID: "B12345678", AccountAddress: "Carrer de la Indústria, 12\n08500 Vic", ContactName: "Núria Sànchez",
		IssueDate: "2026-11-23", ValidUntil: "2026-12-23", Status: store.QuoteSent, Currency: "EUR",
		Notes: "Instal·lació inclosa. Lliurament en 15 dies.", Terms: "Pagament a 30 dies. Preus sense IVA.",
	}
	q.Lines = []store.QuoteLine{
		{Description: "Taula de reunió de roure massís\nAmb acabat envernissat", Unit: "u", QuantityMilli: 2000, UnitPriceCents: 45000, DiscountBP: 1000, TaxRateBP: 2100},
		{Description: "Instal·lació i muntatge", Unit: "h", QuantityMilli: 6500, UnitPriceCents: 3550, TaxRateBP: 2100},
		{Description: "Llibre de manteniment", QuantityMilli: 1000, UnitPriceCents: 1990, TaxRateBP: 400},
		{Description: "Transport a Vic", QuantityMilli: 1000, UnitPriceCents: 6000, TaxRateBP: 1000},
	}
	for i := range q.Lines {
		store.ComputeLine(&q.Lines[i])
	}
	q.Taxes, q.SubtotalCents, q.TaxCents, q.TotalCents = store.ComputeTotals(q.Lines)
	return q
}

func TestQuotePDF_Render(t *testing.T) {
	pdftotext := needTool(t, "pdftotext")
	pdftoppm := needTool(t, "pdftoppm")
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	q := sampleQuote()
	c := &store.Company{Name: "Mobles Ferrer i Fills", Address: "Plaça Major, 3\n08500 Vic", TaxID: "B87654321", Phone: "938 000 000", Email: "info@moblesferrer.cat", Language: "ca", Currency: "EUR"}
	tr := b.For("ca", time.UTC)
	var buf bytes.Buffer
	if err := quotepdf.Render(&buf, q, c, tr, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", buf.Bytes()[:min(20, buf.Len())])
	}
	dir := t.TempDir()
	if d := os.Getenv("QUOTEPDF_KEEP"); d != "" {
		dir = d
	}
	file := filepath.Join(dir, "quote.pdf")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("the text reads back with its accents and amounts", func(t *testing.T) {
		out, err := exec.Command(pdftotext, "-layout", file, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := string(out)
		total := tr.Money(float64(q.TotalCents)/100, "EUR")
		for _, want := range []string{"P2026-0042", "Fusteria Puigdomènech, SL", "Núria Sànchez", "Instal·lació i muntatge", "Mobles Ferrer i Fills", "B87654321", "PRESSUPOST", "IVA 21 %", "IVA 4 %", "23/12/2026", total} {
			if !strings.Contains(text, want) {
				t.Errorf("pdftotext lacks %q:\n%s", want, text)
			}
		}
		if total != "1.346,01 EUR" { // 810.00 + 230.75 + 19.90 + 60.00 + 170.10 + 48.46 + 0.80 + 6.00
			t.Errorf("grand total %s, want 1.346,01 EUR", total)
		}
	})
	t.Run("the page renders to an image with ink where the text is", func(t *testing.T) {
		prefix := filepath.Join(dir, "page")
		if out, err := exec.Command(pdftoppm, "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", file, prefix).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v %s", err, out)
		}
		f, err := os.Open(prefix + ".png")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		bounds := img.Bounds()
		if w := bounds.Dx(); w < 300 || w > 360 {
			t.Fatalf("page width %d px at 40 dpi, want A4 (≈331)", w)
		}
		h := bounds.Dy()
		// The header (company, title), the line table and the blank foot
		// of the page.
		if n := ink(img, image.Rect(0, 0, bounds.Dx(), h/8)); n < 50 {
			t.Errorf("header band has %d dark pixels", n)
		}
		if n := ink(img, image.Rect(0, h/4, bounds.Dx(), h/2)); n < 200 {
			t.Errorf("line table band has %d dark pixels", n)
		}
		if n := ink(img, image.Rect(0, h*3/4, bounds.Dx(), h*15/16)); n != 0 {
			t.Errorf("the empty lower part has %d dark pixels", n)
		}
	})
}

// ink counts the clearly non-white pixels of a region.
func ink(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if (cr+cg+cb)/3 < 0xc000 {
				n++
			}
		}
	}
	return n
}
