// Package quotepdf renders a quote as a PDF in-process with the pure-Go
// github.com/go-pdf/fpdf, in the company's language, so no external binary
// is needed to send or download a quote.
package quotepdf

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"cartera/store"
)

// Words translates the document's labels and formats its amounts; the
// i18n package's Translator is one.
type Words interface {
	T(key string, args ...any) string
	Number(v float64, decimals int) string
	Money(v float64, currency string) string
}

// Page geometry in millimetres (A4 portrait).
const (
	margin   = 15.0
	pageW    = 210.0
	contentW = pageW - 2*margin
	lineH    = 5.0
)

// columns of the line table: description, quantity, unit price, discount,
// tax rate, amount; they add up to contentW.
var colW = []float64{78, 18, 26, 16, 16, 26}

// Render writes the quote as a PDF: the company's name, address and tax
// id, the client, the lines, the totals per tax rate and the grand total,
// the notes and the terms. The core Helvetica font with the cp1252
// translator covers Catalan and Spanish (à é í ï ò ó ú ü ç ñ l·l €). The
// firm has no logo setting yet, so no logo is drawn.
func Render(w io.Writer, q *store.Quote, c *store.Company, tr Words, issued time.Time) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, 20)
	if !issued.IsZero() {
		pdf.SetCreationDate(issued)
		pdf.SetModificationDate(issued)
	}
	enc := pdf.UnicodeTranslatorFromDescriptor("cp1252")
	title := tr.T("quotes.pdf.title") + " " + q.Number
	pdf.SetTitle(title, true)
	pdf.SetAuthor(c.Name, true)
	pdf.SetCreator("Cartera", false)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-14)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(110, 110, 110)
		pdf.CellFormat(contentW/2, 5, enc(q.Number), "", 0, "L", false, 0, "")
		pdf.CellFormat(contentW/2, 5, enc(tr.T("quotes.pdf.page", "Page", pdf.PageNo(), "Pages", "{nb}")), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()
	money := func(cents int64) string { return enc(tr.Money(float64(cents)/100, q.Currency)) }
	rate := func(bp int64) string { return enc(tr.Number(float64(bp)/100, decimalsOf(bp, 2)) + " %") }

	// The company, top left; the document's title and dates, top right.
	pdf.SetTextColor(20, 20, 20)
	pdf.SetFont("Helvetica", "B", 15)
	pdf.CellFormat(110, 7, enc(c.Name), "", 2, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	var who []string
	who = append(who, splitLines(c.Address)...)
	if c.TaxID != "" {
		who = append(who, tr.T("quotes.pdf.tax_id")+": "+c.TaxID)
	}
	if contact := strings.Trim(strings.Join([]string{c.Phone, c.Email}, " · "), " ·"); contact != "" {
		who = append(who, contact)
	}
	for _, l := range who {
		pdf.CellFormat(110, 4.5, enc(l), "", 2, "L", false, 0, "")
	}
	leftEnd := pdf.GetY()
	pdf.SetXY(margin+110, margin)
	pdf.SetFont("Helvetica", "B", 18)
	pdf.SetTextColor(30, 70, 130)
	pdf.CellFormat(contentW-110, 9, enc(strings.ToUpper(tr.T("quotes.pdf.title"))), "", 2, "R", false, 0, "")
	pdf.SetTextColor(20, 20, 20)
	pdf.SetFont("Helvetica", "", 9)
	for _, kv := range [][2]string{
		{tr.T("quotes.pdf.number"), q.Number},
		{tr.T("quotes.pdf.date"), dateText(q.IssueDate)},
		{tr.T("quotes.pdf.valid_until"), dateText(q.ValidUntil)},
	} {
		pdf.CellFormat(contentW-110, 4.5, enc(kv[0]+": "+kv[1]), "", 2, "R", false, 0, "")
	}
	pdf.SetY(max(leftEnd, pdf.GetY()) + 6)

	// The client.
	pdf.SetFont("Helvetica", "B", 8)
	pdf.SetTextColor(110, 110, 110)
	pdf.CellFormat(contentW, 4.5, enc(strings.ToUpper(tr.T("quotes.pdf.client"))), "", 1, "L", false, 0, "")
	pdf.SetTextColor(20, 20, 20)
	pdf.SetFont("Helvetica", "B", 11)
	name := q.AccountName
	if name == "" {
		name = q.ContactName
	}
	pdf.CellFormat(contentW, 6, enc(name), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	var client []string
	client = append(client, splitLines(q.AccountAddress)...)
	if q.AccountTaxID != "" {
		client = append(client, tr.T("quotes.pdf.tax_id")+": "+q.AccountTaxID)
	}
	if q.ContactName != "" && q.AccountName != "" {
		client = append(client, tr.T("quotes.pdf.attention", "Name", q.ContactName))
	}
	for _, l := range client {
		pdf.CellFormat(contentW, 4.5, enc(l), "", 1, "L", false, 0, "")
	}
	pdf.Ln(6)

	// The lines.
	heads := []string{tr.T("quotes.line.description"), tr.T("quotes.line.quantity"), tr.T("quotes.line.unit_price"), tr.T("quotes.line.discount"), tr.T("quotes.line.tax_rate"), tr.T("quotes.line.amount")}
	header := func() {
		pdf.SetFont("Helvetica", "B", 8.5)
		pdf.SetFillColor(230, 236, 245)
		for i, h := range heads {
			align := "R"
			if i == 0 {
				align = "L"
			}
			pdf.CellFormat(colW[i], 7, enc(h), "B", 0, align, true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 9)
	}
	header()
	for _, l := range q.Lines {
		desc := enc(l.Description)
		var lines [][]byte
		for _, para := range strings.Split(desc, "\n") {
			lines = append(lines, pdf.SplitLines([]byte(para), colW[0])...)
		}
		h := float64(len(lines))*lineH + 2
		if pdf.GetY()+h > 297-25 {
			pdf.AddPage()
			header()
		}
		y := pdf.GetY()
		for i, ln := range lines {
			pdf.SetXY(margin, y+1+float64(i)*lineH)
			pdf.CellFormat(colW[0], lineH, string(ln), "", 0, "L", false, 0, "")
		}
		qty := tr.Number(float64(l.QuantityMilli)/1000, decimalsOf(l.QuantityMilli, 3))
		if l.Unit != "" {
			qty += " " + l.Unit
		}
		disc := ""
		if l.DiscountBP != 0 {
			disc = rate(l.DiscountBP)
		}
		x := margin + colW[0]
		for i, v := range []string{enc(qty), money(l.UnitPriceCents), disc, rate(l.TaxRateBP), money(l.NetCents)} {
			pdf.SetXY(x, y+1)
			pdf.CellFormat(colW[i+1], lineH, v, "", 0, "R", false, 0, "")
			x += colW[i+1]
		}
		pdf.SetDrawColor(220, 220, 220)
		pdf.Line(margin, y+h, margin+contentW, y+h)
		pdf.SetY(y + h)
	}
	pdf.Ln(4)

	// The totals, right-aligned: base and tax per rate, then the sums.
	labelW, valueW := 60.0, 32.0
	row := func(label, value string, bold bool) {
		if bold {
			pdf.SetFont("Helvetica", "B", 11)
		} else {
			pdf.SetFont("Helvetica", "", 9)
		}
		pdf.SetX(margin + contentW - labelW - valueW)
		pdf.CellFormat(labelW, 6, label, "", 0, "R", false, 0, "")
		pdf.CellFormat(valueW, 6, value, "", 1, "R", false, 0, "")
	}
	for _, t := range q.Taxes {
		row(enc(tr.T("quotes.pdf.base_at", "Rate", tr.Number(float64(t.RateBP)/100, decimalsOf(t.RateBP, 2)))), money(t.BaseCents), false)
		row(enc(tr.T("quotes.pdf.tax_at", "Rate", tr.Number(float64(t.RateBP)/100, decimalsOf(t.RateBP, 2)))), money(t.TaxCents), false)
	}
	row(enc(tr.T("quotes.subtotal")), money(q.SubtotalCents), false)
	row(enc(tr.T("quotes.tax")), money(q.TaxCents), false)
	pdf.SetDrawColor(30, 70, 130)
	pdf.Line(margin+contentW-labelW-valueW, pdf.GetY()+0.5, margin+contentW, pdf.GetY()+0.5)
	pdf.Ln(1)
	row(enc(tr.T("quotes.total")), money(q.TotalCents), true)
	pdf.Ln(6)

	for _, block := range [][2]string{{tr.T("quotes.notes"), q.Notes}, {tr.T("quotes.terms"), q.Terms}} {
		if strings.TrimSpace(block[1]) == "" {
			continue
		}
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(contentW, 5, enc(block[0]), "", 1, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(contentW, 4.5, enc(block[1]), "", "L", false)
		pdf.Ln(3)
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("quotepdf: %w", err)
	}
	return pdf.Output(w)
}

// decimalsOf is how many of a scaled integer's decimals are worth showing:
// none for 21 %, one for 5.5 %, up to places.
func decimalsOf(v int64, places int) int {
	d := places
	for d > 0 && v%10 == 0 {
		v /= 10
		d--
	}
	return d
}

// dateText writes a stored YYYY-MM-DD date the way the documents of
// Catalonia and Spain do, DD/MM/YYYY.
func dateText(d string) string {
	t, err := time.Parse("2006-01-02", d)
	if err != nil {
		return d
	}
	return t.Format("02/01/2006")
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
