package ui

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"cartera/i18n"
	"cartera/quotepdf"
	"cartera/store"
)

// This file serves quotes: the list, the quote page with its actions
// (PDF, send, status), the form with line rows, the section on the
// opportunity page, the public signed PDF link, and the /api/v1/quotes
// routes.

// blankLineRows is how many empty line rows a quote form offers; "add
// lines" (a submit button, so it works without JavaScript) adds as many.
const blankLineRows = 3

// lineRow is one line row of the quote form.
type lineRow struct {
	Index int
	store.QuoteLineInput
}

// quoteFormData feeds the quote form.
type quoteFormData struct {
	Quote       *store.Quote
	Opportunity *store.Record
	Lines       []lineRow
	Products    []*store.Product
	Rates       []store.TaxRate
}

// quoteShowData feeds the quote page.
type quoteShowData struct {
	Quote    *store.Quote
	CanEdit  bool
	Next     []string
	Stages   []option
	CanSend  bool
	Subject  string
	Message  string
	Rates    func(int64) string
	Amount   func(int64) string
	Quantity func(int64) string
}

// quoteSection is the quotes list on an opportunity's page.
type quoteSection struct {
	Quotes  []*store.Quote
	NewHref string
}

// companyWords is the translator in the company's language and zone:
// what the client reads (PDF, e-mail) is in the firm's language.
func (s *Server) companyWords(c *store.Company) *i18n.Translator {
	loc := time.UTC
	lang := "ca"
	if c != nil {
		if l, err := time.LoadLocation(c.Timezone); err == nil {
			loc = l
		}
		lang = c.Language
	}
	return s.i18n.For(lang, loc)
}

// money formats cents in the reader's language.
func (p *page) money(cents int64, currency string) string {
	return p.Tr.Money(float64(cents)/100, currency)
}

// rateText formats basis points as a percentage in the reader's language.
func (p *page) rateText(bp int64) string {
	return p.Tr.Number(float64(bp)/100, decimals(bp, 2)) + " %"
}

// decimals is how many decimals of a scaled integer are worth showing.
func decimals(v int64, places int) int {
	for places > 0 && v%10 == 0 {
		v /= 10
		places--
	}
	return places
}

// quotesList shows the quotes the user may see: GET /quotes[?status=].
func (s *Server) quotesList(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	status := r.URL.Query().Get("status")
	qs, err := s.st.FindQuotes(r.Context(), a, store.QuoteFilter{Status: status})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "quotes.title")
	p.Section = "opportunities"
	p.Form.Set("status", status)
	rows := make([]map[string]any, 0, len(qs))
	for _, q := range qs {
		rows = append(rows, map[string]any{"Q": q, "Total": p.money(q.TotalCents, q.Currency), "Date": dateOnly(p, q.IssueDate)})
	}
	p.Data = map[string]any{"Rows": rows, "Statuses": store.QuoteStatuses, "CanSettings": a.Has(store.CapSettings)}
	s.render(w, r, http.StatusOK, "quotes", p)
}

// dateOnly formats a stored YYYY-MM-DD date for the reader.
func dateOnly(p *page, d string) string {
	t, err := time.Parse("2006-01-02", d)
	if err != nil {
		return d
	}
	return p.Tr.Date(t)
}

// quoteSectionFor lists an opportunity's quotes for its page; nil when the
// reader may not see them.
func (s *Server) quoteSectionFor(r *http.Request, p *page, rec *store.Record) *quoteSection {
	a := reqCtxOf(r).actor
	qs, err := s.st.FindQuotes(r.Context(), a, store.QuoteFilter{OpportunityID: rec.ID})
	if err != nil {
		return nil
	}
	sec := &quoteSection{Quotes: qs}
	if a.CheckRecord(store.EntOpportunities, store.ActEdit, rec.OwnerID, 0) == nil {
		sec.NewHref = "/opportunities/" + itoa(rec.ID) + "/quotes/new"
	}
	return sec
}

// quoteNew shows the form of a new quote on an opportunity:
// GET /opportunities/{id}/quotes/new.
func (s *Server) quoteNew(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	opp, err := s.st.FindRecord(r.Context(), a, store.EntOpportunities, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "quotes.new")
	qs, err := s.st.QuoteSettingsOf(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Form.Set("terms", qs.Terms)
	p.Form.Set("opportunity_id", itoa(opp.ID))
	s.renderQuoteForm(w, r, http.StatusOK, p, nil, opp, nil)
}

// quoteEdit shows a draft quote's form: GET /quotes/{id}/edit.
func (s *Server) quoteEdit(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	q, err := s.st.FindQuote(r.Context(), a, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if q.Status != store.QuoteDraft {
		s.fail(w, r, &store.Error{Code: store.CodeConflict, Key: "quotes.error.not_draft"})
		return
	}
	p := s.newPage(r, "quotes.edit")
	p.Form.Set("issue_date", q.IssueDate)
	p.Form.Set("valid_until", q.ValidUntil)
	p.Form.Set("notes", q.Notes)
	p.Form.Set("terms", q.Terms)
	p.Form.Set("version", itoa(q.Version))
	var lines []store.QuoteLineInput
	for _, l := range q.Lines {
		lines = append(lines, store.QuoteLineInput{ProductID: l.ProductID, Description: l.Description, Unit: l.Unit,
			Quantity: trimZeros(store.FormatDecimal(l.QuantityMilli, 3)), UnitPrice: store.FormatDecimal(l.UnitPriceCents, 2),
			Discount: store.FormatRate(l.DiscountBP), TaxRate: store.FormatRate(l.TaxRateBP)})
	}
	s.renderQuoteForm(w, r, http.StatusOK, p, q, nil, lines)
}

// trimZeros drops a decimal's useless trailing zeros ("2.500" → "2.5").
func trimZeros(v string) string {
	if !strings.Contains(v, ".") {
		return v
	}
	return strings.TrimSuffix(strings.TrimRight(v, "0"), ".")
}

func (s *Server) renderQuoteForm(w http.ResponseWriter, r *http.Request, status int, p *page, q *store.Quote, opp *store.Record, lines []store.QuoteLineInput) {
	a := reqCtxOf(r).actor
	ps, err := s.st.FindProducts(r.Context(), a, store.ProductFilter{ActiveOnly: true})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rates, err := s.st.TaxRates(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &quoteFormData{Quote: q, Opportunity: opp, Products: ps, Rates: rates}
	extra := blankLineRows
	if p.Form.Has("add_lines") {
		extra += blankLineRows
	}
	for i, l := range lines {
		d.Lines = append(d.Lines, lineRow{Index: i, QuoteLineInput: l})
	}
	for i := 0; i < extra; i++ {
		d.Lines = append(d.Lines, lineRow{Index: len(lines) + i, QuoteLineInput: store.QuoteLineInput{Quantity: "1", TaxRate: "21"}})
	}
	p.Section = "opportunities"
	p.Data = d
	s.render(w, r, status, "quote_form", p)
}

// linesFromForm reads the line rows ("lines.N.field") in order, leaving
// out blank ones so the store's error indexes match the rows shown again.
func linesFromForm(f url.Values) []store.QuoteLineInput {
	var out []store.QuoteLineInput
	for i := 0; i < 400; i++ {
		k := "lines." + strconv.Itoa(i) + "."
		if !f.Has(k+"description") && !f.Has(k+"product_id") {
			continue
		}
		l := store.QuoteLineInput{ProductID: parseInt64(f.Get(k + "product_id")), Description: f.Get(k + "description"), Unit: f.Get(k + "unit"),
			Quantity: f.Get(k + "quantity"), UnitPrice: f.Get(k + "unit_price"), Discount: f.Get(k + "discount"), TaxRate: f.Get(k + "tax_rate")}
		if l.Blank() {
			continue
		}
		out = append(out, l)
	}
	return out
}

// quoteCreate creates a quote from the form: POST /quotes. "add_lines"
// re-shows the form with more blank rows instead.
func (s *Server) quoteCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	a := reqCtxOf(r).actor
	f := r.PostForm
	lines := linesFromForm(f)
	oppID := parseInt64(f.Get("opportunity_id"))
	if f.Has("add_lines") {
		opp, err := s.st.FindRecord(r.Context(), a, store.EntOpportunities, oppID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p := s.newPage(r, "quotes.new")
		p.Form = f
		s.renderQuoteForm(w, r, http.StatusOK, p, nil, opp, lines)
		return
	}
	in := store.QuoteInput{OpportunityID: oppID, Notes: new(f.Get("notes")), Terms: new(f.Get("terms")), Lines: &lines}
	if v := f.Get("issue_date"); v != "" {
		in.IssueDate = &v
	}
	if v := f.Get("valid_until"); v != "" {
		in.ValidUntil = &v
	}
	q, err := s.st.CreateQuote(r.Context(), a, in)
	if err != nil {
		p := s.newPage(r, "quotes.new")
		p.Form = f
		status := s.formErrors(r, p, err)
		opp, ferr := s.st.FindRecord(r.Context(), a, store.EntOpportunities, oppID)
		if ferr != nil {
			s.fail(w, r, err)
			return
		}
		s.renderQuoteForm(w, r, status, p, nil, opp, lines)
		return
	}
	s.flash(w, r, "success", "quotes.created")
	redirect(w, r, "/quotes/"+itoa(q.ID))
}

// quoteUpdate saves a draft quote's form: POST /quotes/{id}.
func (s *Server) quoteUpdate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	a := reqCtxOf(r).actor
	id := pathID(r, "id")
	f := r.PostForm
	lines := linesFromForm(f)
	in := store.QuoteInput{IssueDate: new(f.Get("issue_date")), ValidUntil: new(f.Get("valid_until")), Notes: new(f.Get("notes")), Terms: new(f.Get("terms")), Lines: &lines, Version: parseInt64(f.Get("version"))}
	var err error
	if !f.Has("add_lines") {
		_, err = s.st.UpdateQuote(r.Context(), a, id, in)
		if err == nil {
			s.flash(w, r, "success", "quotes.saved")
			redirect(w, r, "/quotes/"+itoa(id))
			return
		}
	}
	q, ferr := s.st.FindQuote(r.Context(), a, id)
	if ferr != nil {
		s.fail(w, r, ferr)
		return
	}
	p := s.newPage(r, "quotes.edit")
	p.Form = f
	status := http.StatusOK
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	s.renderQuoteForm(w, r, status, p, q, nil, lines)
}

// quoteShow is the quote page: GET /quotes/{id}.
func (s *Server) quoteShow(w http.ResponseWriter, r *http.Request) {
	s.renderQuoteShow(w, r, http.StatusOK, nil)
}

func (s *Server) renderQuoteShow(w http.ResponseWriter, r *http.Request, status int, p *page) {
	rc := reqCtxOf(r)
	a := rc.actor
	q, err := s.st.FindQuote(r.Context(), a, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p == nil {
		p = s.newPage(r, "quotes.title")
	}
	p.Section = "opportunities"
	d := &quoteShowData{Quote: q, CanEdit: a.CheckRecord(store.EntOpportunities, store.ActEdit, q.OwnerID, 0) == nil}
	if d.CanEdit {
		d.Next = store.QuoteNextStatuses(q.Status)
		d.CanSend = a.Can(store.EntActivities, store.ActCreate) && len(q.Lines) > 0 && slices.Contains([]string{store.QuoteDraft, store.QuoteSent, store.QuoteExpired}, q.Status)
		if opp, err := s.st.FindRecord(r.Context(), a, store.EntOpportunities, q.OpportunityID); err == nil {
			d.Stages = p.optionsFor(store.StageList(opp.Str("pipeline")), "", true)
		}
	}
	cw := s.companyWords(rc.company)
	company := ""
	if rc.company != nil {
		company = rc.company.Name
	}
	d.Subject = cw.T("quotes.email.subject", "Number", q.Number, "Company", company)
	d.Message = cw.T("quotes.email.body", "Number", q.Number, "Name", q.ContactName, "Sender", a.Name)
	d.Rates = p.rateText
	d.Amount = func(c int64) string { return p.money(c, q.Currency) }
	d.Quantity = func(m int64) string { return p.Tr.Number(float64(m)/1000, decimals(m, 3)) }
	if !p.Form.Has("to") {
		p.Form.Set("to", q.Email)
		p.Form.Set("subject", d.Subject)
		p.Form.Set("message", d.Message)
	}
	p.Data = d
	s.render(w, r, status, "quote_show", p)
}

// quoteStatus changes a quote's status: POST /quotes/{id}/status with
// status, and on accepting set_amount and stage.
func (s *Server) quoteStatus(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	id := pathID(r, "id")
	_, err := s.st.SetQuoteStatus(r.Context(), reqCtxOf(r).actor, id, f.Get("status"), store.AcceptOptions{SetAmount: f.Get("set_amount") != "", Stage: f.Get("stage")})
	if err != nil {
		p := s.newPage(r, "quotes.title")
		s.renderQuoteShow(w, r, s.formErrors(r, p, err), p)
		return
	}
	s.flash(w, r, "success", "quotes.status_saved")
	redirect(w, r, "/quotes/"+itoa(id))
}

// baseURL is the public address links in e-mails start with: [server]
// base_url, or the address this request came to.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return strings.TrimRight(s.opts.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// quoteSend e-mails the quote with its signed PDF link: POST
// /quotes/{id}/send with to, subject and message.
func (s *Server) quoteSend(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	rc := reqCtxOf(r)
	f := r.PostForm
	id := pathID(r, "id")
	_, err := s.st.SendQuote(r.Context(), rc.actor, id, store.QuoteEmail{To: f.Get("to"), Subject: f.Get("subject"), Text: f.Get("message"), BaseURL: s.baseURL(r), PDF: s.quoteAttachment(r, id)}, s.companyWords(rc.company))
	if err != nil {
		p := s.newPage(r, "quotes.title")
		p.Form = f
		s.renderQuoteShow(w, r, s.formErrors(r, p, err), p)
		return
	}
	s.flash(w, r, "success", "quotes.sent")
	redirect(w, r, "/quotes/"+itoa(id))
}

// quoteDelete removes a quote: POST /quotes/{id}/delete.
func (s *Server) quoteDelete(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	q, err := s.st.FindQuote(r.Context(), a, pathID(r, "id"))
	if err == nil {
		err = s.st.DeleteQuote(r.Context(), a, q.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "quotes.deleted")
	redirect(w, r, "/opportunities/"+itoa(q.OpportunityID))
}

// quotePDF downloads a quote's PDF: GET /quotes/{id}/pdf.
func (s *Server) quotePDF(w http.ResponseWriter, r *http.Request) {
	q, err := s.st.FindQuote(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeQuotePDF(w, r, q, s.fail)
}

// quotePublicPDF serves the PDF a sent e-mail links to: GET
// /q/{id}.pdf?e=EXPIRY&s=SIGNATURE, no sign-in; a wrong or expired link is
// a plain 404.
func (s *Server) quotePublicPDF(w http.ResponseWriter, r *http.Request) {
	exp, _ := strconv.ParseInt(r.URL.Query().Get("e"), 10, 64)
	q, err := s.st.QuoteByLink(r.Context(), pathID(r, "id"), exp, r.URL.Query().Get("s"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeQuotePDF(w, r, q, s.fail)
}

// writeQuotePDF renders the PDF in the company's language into a buffer
// and sends it as a download.
func (s *Server) writeQuotePDF(w http.ResponseWriter, r *http.Request, q *store.Quote, fail func(http.ResponseWriter, *http.Request, error)) {
	c, err := s.st.Company(r.Context())
	if err != nil {
		fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := quotepdf.Render(&buf, q, c, s.companyWords(c), s.opts.Now()); err != nil {
		fail(w, r, &store.Error{Code: store.CodeInternal, Key: "error.internal", Err: err})
		return
	}
	s.sendPDF(w, q, buf.Bytes())
}

// quoteAttachment renders a quote the actor may see as the PDF its e-mail
// carries; nil when it cannot be read (the store then reports why).
func (s *Server) quoteAttachment(r *http.Request, id int64) *store.MailAttachment {
	q, err := s.st.FindQuote(r.Context(), reqCtxOf(r).actor, id)
	if err != nil {
		return nil
	}
	c, err := s.st.Company(r.Context())
	if err != nil {
		return nil
	}
	var buf bytes.Buffer
	if err := quotepdf.Render(&buf, q, c, s.companyWords(c), s.opts.Now()); err != nil {
		s.log.Error("rendering a quote PDF for its e-mail", "quote", id, "err", err)
		return nil
	}
	return &store.MailAttachment{Name: safeFileName(q.Number) + ".pdf", Type: "application/pdf", Data: buf.Bytes()}
}

// sendPDF answers with a quote's PDF as a download.
func (s *Server) sendPDF(w http.ResponseWriter, q *store.Quote, pdf []byte) {
	buf := bytes.NewBuffer(pdf)
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="`+safeFileName(q.Number)+`.pdf"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// safeFileName keeps letters, digits, '-' and '_' of a quote number.
func safeFileName(v string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, v)
}

// quoteJSON is a quote as the API shows it: ids as strings, amounts as
// exact decimal strings ("1234.56"), rates and discounts as percentages.
func quoteJSON(q *store.Quote) map[string]any {
	lines := make([]map[string]any, 0, len(q.Lines))
	for _, l := range q.Lines {
		m := map[string]any{"description": l.Description, "unit": l.Unit, "quantity": trimZeros(store.FormatDecimal(l.QuantityMilli, 3)),
			"unit_price": store.FormatDecimal(l.UnitPriceCents, 2), "discount": store.FormatRate(l.DiscountBP), "tax_rate": store.FormatRate(l.TaxRateBP),
			"net": store.FormatDecimal(l.NetCents, 2), "tax": store.FormatDecimal(l.TaxCents, 2)}
		if l.ProductID != 0 {
			m["product_id"], m["product_code"] = itoa(l.ProductID), l.ProductCode
		}
		lines = append(lines, m)
	}
	taxes := make([]map[string]any, 0, len(q.Taxes))
	for _, t := range q.Taxes {
		taxes = append(taxes, map[string]any{"rate": store.FormatRate(t.RateBP), "base": store.FormatDecimal(t.BaseCents, 2), "tax": store.FormatDecimal(t.TaxCents, 2)})
	}
	out := map[string]any{"id": itoa(q.ID), "number": q.Number, "opportunity_id": itoa(q.OpportunityID), "opportunity": q.OpportunityName,
		"owner_id": itoa(q.OwnerID), "owner": q.OwnerName, "status": q.Status, "issue_date": q.IssueDate, "valid_until": q.ValidUntil,
		"currency": q.Currency, "notes": q.Notes, "terms": q.Terms, "lines": lines, "taxes": taxes,
		"subtotal": store.FormatDecimal(q.SubtotalCents, 2), "tax": store.FormatDecimal(q.TaxCents, 2), "total": store.FormatDecimal(q.TotalCents, 2),
		"created_at": q.CreatedAt, "updated_at": q.UpdatedAt, "version": q.Version}
	if q.AccountID != 0 {
		out["account_id"], out["account"] = itoa(q.AccountID), q.AccountName
	}
	if q.ContactID != 0 {
		out["contact_id"], out["contact"] = itoa(q.ContactID), q.ContactName
	}
	if !q.SentAt.IsZero() {
		out["sent_at"] = q.SentAt
	}
	if !q.DecidedAt.IsZero() {
		out["decided_at"] = q.DecidedAt
	}
	return out
}

// apiQuoteLine is a line in an API body.
type apiQuoteLine struct {
	ProductID   json64      `json:"product_id"`
	Description string      `json:"description"`
	Unit        string      `json:"unit"`
	Quantity    decimalText `json:"quantity"`
	UnitPrice   decimalText `json:"unit_price"`
	Discount    decimalText `json:"discount"`
	TaxRate     decimalText `json:"tax_rate"`
}

// apiQuoteBody is a create or PATCH body; absent keys change nothing.
type apiQuoteBody struct {
	OpportunityID json64          `json:"opportunity_id"`
	IssueDate     *string         `json:"issue_date"`
	ValidUntil    *string         `json:"valid_until"`
	Notes         *string         `json:"notes"`
	Terms         *string         `json:"terms"`
	Lines         *[]apiQuoteLine `json:"lines"`
	Version       int64           `json:"version"`
	// Status changes the status (alone); SetAmount and Stage go with
	// "accepted".
	Status    string `json:"status"`
	SetAmount bool   `json:"set_amount"`
	Stage     string `json:"stage"`
}

func (b apiQuoteBody) input() store.QuoteInput {
	in := store.QuoteInput{OpportunityID: int64(b.OpportunityID), IssueDate: b.IssueDate, ValidUntil: b.ValidUntil, Notes: b.Notes, Terms: b.Terms, Version: b.Version}
	if b.Lines != nil {
		lines := make([]store.QuoteLineInput, 0, len(*b.Lines))
		for _, l := range *b.Lines {
			li := store.QuoteLineInput{ProductID: int64(l.ProductID), Description: l.Description, Unit: l.Unit, Quantity: string(l.Quantity), UnitPrice: string(l.UnitPrice), Discount: string(l.Discount), TaxRate: string(l.TaxRate)}
			if li.Blank() {
				// An API line is never a spare row: an empty one is an error.
				li.Description = " "
			}
			lines = append(lines, li)
		}
		in.Lines = &lines
	}
	return in
}

// apiQuotes lists quotes: GET /api/v1/quotes[?opportunity_id=&status=].
func (s *Server) apiQuotes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	qs, err := s.st.FindQuotes(r.Context(), reqCtxOf(r).actor, store.QuoteFilter{OpportunityID: parseInt64(q.Get("opportunity_id")), Status: q.Get("status")})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(qs))
	for _, x := range qs {
		m := quoteJSON(x)
		delete(m, "lines")
		delete(m, "taxes")
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// apiQuoteCreate creates a draft quote: POST /api/v1/quotes.
func (s *Server) apiQuoteCreate(w http.ResponseWriter, r *http.Request) {
	var body apiQuoteBody
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	q, err := s.st.CreateQuote(r.Context(), reqCtxOf(r).actor, body.input())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, quoteJSON(q))
}

// apiQuoteGet returns one quote with its lines: GET /api/v1/quotes/{id}.
func (s *Server) apiQuoteGet(w http.ResponseWriter, r *http.Request) {
	q, err := s.st.FindQuote(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, quoteJSON(q))
}

// apiQuotePatch changes a draft quote's fields, or (alone) its status:
// PATCH /api/v1/quotes/{id}.
func (s *Server) apiQuotePatch(w http.ResponseWriter, r *http.Request) {
	var body apiQuoteBody
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	a := reqCtxOf(r).actor
	id := pathID(r, "id")
	var q *store.Quote
	var err error
	if body.Status != "" {
		if body.IssueDate != nil || body.ValidUntil != nil || body.Notes != nil || body.Terms != nil || body.Lines != nil {
			s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "quotes.error.status_alone", Fields: map[string]string{"status": "quotes.error.status_alone"}})
			return
		}
		q, err = s.st.SetQuoteStatus(r.Context(), a, id, body.Status, store.AcceptOptions{SetAmount: body.SetAmount, Stage: body.Stage})
	} else {
		q, err = s.st.UpdateQuote(r.Context(), a, id, body.input())
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, quoteJSON(q))
}

// apiQuotePDF downloads the PDF: GET /api/v1/quotes/{id}/pdf.
func (s *Server) apiQuotePDF(w http.ResponseWriter, r *http.Request) {
	q, err := s.st.FindQuote(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.writeQuotePDF(w, r, q, s.apiError)
}

// apiQuoteSend e-mails the quote with its signed PDF link: POST
// /api/v1/quotes/{id}/send with optional to, subject and message (the
// defaults are the quote page's, in the company's language).
func (s *Server) apiQuoteSend(w http.ResponseWriter, r *http.Request) {
	var body struct {
		To      string `json:"to"`
		Subject string `json:"subject"`
		Message string `json:"message"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	rc := reqCtxOf(r)
	id := pathID(r, "id")
	c, err := s.st.Company(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	cw := s.companyWords(c)
	if body.Subject == "" || body.Message == "" {
		q, err := s.st.FindQuote(r.Context(), rc.actor, id)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if body.Subject == "" {
			body.Subject = cw.T("quotes.email.subject", "Number", q.Number, "Company", c.Name)
		}
		if body.Message == "" {
			body.Message = cw.T("quotes.email.body", "Number", q.Number, "Name", q.ContactName, "Sender", rc.actor.Name)
		}
	}
	q, err := s.st.SendQuote(r.Context(), rc.actor, id, store.QuoteEmail{To: body.To, Subject: body.Subject, Text: body.Message, BaseURL: s.baseURL(r), PDF: s.quoteAttachment(r, id)}, cw)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, quoteJSON(q))
}
