package ui

import (
	"net/http"
	"strconv"
	"strings"

	"cartera/store"
)

// This file serves the product catalogue (list, form, CSV import and
// export), the quote settings (number prefix, validity, terms, tax rates)
// and GET/POST /api/v1/products.

// productsData feeds the catalogue list.
type productsData struct {
	Products []*store.Product
	Query    string
	CanEdit  bool
	Imported *store.ProductImportResult
}

// productsList shows the catalogue: GET /products[?q=].
func (s *Server) productsList(w http.ResponseWriter, r *http.Request) {
	s.renderProducts(w, r, http.StatusOK, nil)
}

func (s *Server) renderProducts(w http.ResponseWriter, r *http.Request, status int, p *page) {
	a := reqCtxOf(r).actor
	q := r.URL.Query().Get("q")
	ps, err := s.st.FindProducts(r.Context(), a, store.ProductFilter{Query: q})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p == nil {
		p = s.newPage(r, "products.title")
	}
	p.Section = "opportunities"
	p.Data = &productsData{Products: ps, Query: q, CanEdit: a.Has(store.CapSettings)}
	s.render(w, r, status, "products", p)
}

// productFormData feeds the product form.
type productFormData struct {
	ID    int64
	Rates []store.TaxRate
}

// productNew shows an empty product form: GET /products/new.
func (s *Server) productNew(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "products.new")
	p.Form.Set("tax_rate", "21")
	p.Form.Set("active", "1")
	s.renderProductForm(w, r, http.StatusOK, p, 0)
}

// productEdit shows a product's form: GET /products/{id}.
func (s *Server) productEdit(w http.ResponseWriter, r *http.Request) {
	pr, err := s.st.FindProduct(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "products.edit")
	f := p.Form
	f.Set("code", pr.Code)
	f.Set("name", pr.Name)
	f.Set("description", pr.Description)
	f.Set("unit_price", store.FormatDecimal(pr.UnitPriceCents, 2))
	f.Set("tax_rate", store.FormatRate(pr.TaxRateBP))
	f.Set("unit", pr.Unit)
	f.Set("version", itoa(pr.Version))
	if pr.Active {
		f.Set("active", "1")
	}
	s.renderProductForm(w, r, http.StatusOK, p, pr.ID)
}

func (s *Server) renderProductForm(w http.ResponseWriter, r *http.Request, status int, p *page, id int64) {
	rates, err := s.st.TaxRates(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Section = "opportunities"
	p.Data = &productFormData{ID: id, Rates: rates}
	s.render(w, r, status, "product_form", p)
}

// productSave creates (POST /products) or changes (POST /products/{id}) a
// product.
func (s *Server) productSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	id := pathID(r, "id")
	in := store.ProductInput{Code: f.Get("code"), Name: f.Get("name"), Description: f.Get("description"), UnitPrice: f.Get("unit_price"),
		TaxRate: f.Get("tax_rate"), Unit: f.Get("unit"), Active: f.Get("active") != "", Version: parseInt64(f.Get("version"))}
	if _, err := s.st.SaveProduct(r.Context(), reqCtxOf(r).actor, id, in); err != nil {
		p := s.newPage(r, "products.new")
		p.Form = f
		s.renderProductForm(w, r, s.formErrors(r, p, err), p, id)
		return
	}
	s.flash(w, r, "success", "products.saved")
	redirect(w, r, "/products")
}

// productsExport downloads the catalogue as CSV: GET /products/export.csv.
func (s *Server) productsExport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="products.csv"`)
	if err := s.st.ExportProductsCSV(r.Context(), reqCtxOf(r).actor, w); err != nil {
		s.logIfInternal(r, err)
	}
}

// productsImport reads an uploaded catalogue CSV: POST /products/import.
func (s *Server) productsImport(w http.ResponseWriter, r *http.Request) {
	file, _, err := r.FormFile("file")
	if err != nil {
		p := s.newPage(r, "products.title")
		p.ErrorMsg = p.T("quotes.error.csv")
		s.renderProducts(w, r, http.StatusUnprocessableEntity, p)
		return
	}
	defer file.Close()
	res, err := s.st.ImportProductsCSV(r.Context(), reqCtxOf(r).actor, file)
	if err != nil {
		p := s.newPage(r, "products.title")
		status := s.formErrors(r, p, err)
		// Row errors ("3.unit_price") become one readable list.
		var msgs []string
		for f, m := range p.Errors {
			msgs = append(msgs, f+": "+m)
		}
		if len(msgs) > 0 {
			p.ErrorMsg += " " + strings.Join(msgs, "; ")
		}
		s.renderProducts(w, r, status, p)
		return
	}
	p := s.newPage(r, "products.title")
	p.Flashes = append(p.Flashes, flashMsg{Kind: "success", Text: p.T("products.imported", "Created", res.Created, "Updated", res.Updated)})
	s.renderProducts(w, r, http.StatusOK, p)
}

// quoteSettingsData feeds the quote settings page.
type quoteSettingsData struct {
	Rates []store.TaxRate
	// Blank is how many empty rate rows the form adds.
	Blank []int
}

// quoteSettingsForm shows the quote settings: GET /settings/quotes.
func (s *Server) quoteSettingsForm(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	qs, err := s.st.QuoteSettingsOf(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "quotes.settings")
	p.Form.Set("prefix", qs.Prefix)
	p.Form.Set("validity_days", strconv.Itoa(qs.ValidityDays))
	p.Form.Set("terms", qs.Terms)
	s.renderQuoteSettings(w, r, http.StatusOK, p)
}

func (s *Server) renderQuoteSettings(w http.ResponseWriter, r *http.Request, status int, p *page) {
	rates, err := s.st.TaxRates(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Section = "settings"
	p.Data = &quoteSettingsData{Rates: rates, Blank: []int{0, 1, 2}}
	s.render(w, r, status, "quote_settings", p)
}

// quoteSettingsSave stores the quote settings and the tax rate list:
// POST /settings/quotes. A rate row left empty is dropped.
func (s *Server) quoteSettingsSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	a := reqCtxOf(r).actor
	f := r.PostForm
	days, err := strconv.Atoi(strings.TrimSpace(f.Get("validity_days")))
	if err != nil {
		days = 0
	}
	p := s.newPage(r, "quotes.settings")
	p.Form = f
	if err := s.st.SaveQuoteSettings(r.Context(), a, store.QuoteSettings{Prefix: f.Get("prefix"), ValidityDays: days, Terms: f.Get("terms")}); err != nil {
		s.renderQuoteSettings(w, r, s.formErrors(r, p, err), p)
		return
	}
	var rates []store.TaxRate
	names := f["rate_name"]
	for i, v := range f["rate"] {
		if strings.TrimSpace(v) == "" {
			continue
		}
		bp, ok := store.ParseDecimal(strings.TrimSuffix(strings.TrimSpace(v), "%"), 2)
		if !ok {
			bp = -1
		}
		name := ""
		if i < len(names) {
			name = names[i]
		}
		rates = append(rates, store.TaxRate{RateBP: bp, Name: name})
	}
	if err := s.st.SetTaxRates(r.Context(), a, rates); err != nil {
		s.renderQuoteSettings(w, r, s.formErrors(r, p, err), p)
		return
	}
	s.flash(w, r, "success", "quotes.settings_saved")
	redirect(w, r, "/settings/quotes")
}

// decimalText is a number the API accepts as a JSON number or a string
// ("12.50", "12,50"), kept as text so it is parsed exactly.
type decimalText string

// UnmarshalJSON keeps a number's literal text or a string's value.
func (d *decimalText) UnmarshalJSON(b []byte) error {
	v := strings.TrimSpace(string(b))
	if v == "null" {
		*d = ""
		return nil
	}
	if uq, err := strconv.Unquote(v); err == nil {
		v = uq
	}
	*d = decimalText(v)
	return nil
}

// productJSON is a product as the API shows it; amounts are decimal
// strings, exact to the cent.
func productJSON(p *store.Product) map[string]any {
	return map[string]any{"id": itoa(p.ID), "code": p.Code, "name": p.Name, "description": p.Description,
		"unit_price": store.FormatDecimal(p.UnitPriceCents, 2), "tax_rate": store.FormatRate(p.TaxRateBP), "unit": p.Unit,
		"active": p.Active, "created_at": p.CreatedAt, "updated_at": p.UpdatedAt, "version": p.Version}
}

// apiProducts lists the catalogue: GET /api/v1/products[?q=&active=1].
func (s *Server) apiProducts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ps, err := s.st.FindProducts(r.Context(), reqCtxOf(r).actor, store.ProductFilter{Query: q.Get("q"), ActiveOnly: q.Get("active") == "1"})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(ps))
	for _, p := range ps {
		out = append(out, productJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// apiProductCreate adds a product: POST /api/v1/products.
func (s *Server) apiProductCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Code        string      `json:"code"`
		Name        string      `json:"name"`
		Description string      `json:"description"`
		UnitPrice   decimalText `json:"unit_price"`
		TaxRate     decimalText `json:"tax_rate"`
		Unit        string      `json:"unit"`
		Active      *bool       `json:"active"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	in := store.ProductInput{Code: body.Code, Name: body.Name, Description: body.Description, UnitPrice: string(body.UnitPrice), TaxRate: string(body.TaxRate), Unit: body.Unit, Active: body.Active == nil || *body.Active}
	if in.TaxRate == "" {
		in.TaxRate = "21"
	}
	p, err := s.st.SaveProduct(r.Context(), reqCtxOf(r).actor, 0, in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, productJSON(p))
}
