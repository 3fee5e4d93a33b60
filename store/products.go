package store

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// This file is the product catalogue (issue 12): products and services
// with a unique code, a unit price in cents and a tax rate from the firm's
// editable list, their CSV import and export, and the decimal arithmetic
// that quotes share with them.

// TaxRate is one tax rate a product or quote line may carry; RateBP is in
// basis points (2100 = 21 %), so no rate is ever a float.
type TaxRate struct {
	RateBP   int64
	Name     string
	Position int64
}

// Product is one product or service of the catalogue.
type Product struct {
	ID             int64
	Code           string
	Name           string
	Description    string
	UnitPriceCents int64
	TaxRateBP      int64
	Unit           string
	Active         bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Version        int64
}

// ProductInput is what a product form or API call carries; numbers are
// text ("12,50", "21") so that forms, CSV and JSON parse them the same way
// and no amount passes through a float.
type ProductInput struct {
	Code        string
	Name        string
	Description string
	UnitPrice   string
	TaxRate     string
	Unit        string
	Active      bool
	// Version, when not zero, must match the stored version.
	Version int64
}

// ProductFilter narrows the catalogue list.
type ProductFilter struct {
	// Query matches code or name, ignoring case.
	Query string
	// ActiveOnly leaves out products no longer offered.
	ActiveOnly bool
	Limit      int
}

// ParseDecimal reads a decimal number with up to places decimals, written
// with a point or a comma ("1234.5", "1234,5", "1.234,50"), as an integer
// scaled by 10^places; ok is false for anything else, and for more
// decimals than places (an amount is never rounded silently).
func ParseDecimal(s string, places int) (int64, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, " ", ""))
	if s == "" {
		return 0, false
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	lastDot, lastComma := strings.LastIndex(s, "."), strings.LastIndex(s, ",")
	if lastDot >= 0 && lastComma >= 0 {
		// Both: the last one is the decimal mark, the other groups thousands.
		if lastComma > lastDot {
			s = strings.ReplaceAll(s, ".", "")
		} else {
			s = strings.ReplaceAll(s, ",", "")
		}
	}
	s = strings.ReplaceAll(s, ",", ".")
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" || len(frac) > places || len(intPart) > 15 {
		return 0, false
	}
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	frac += strings.Repeat("0", places-len(frac))
	v, err := strconv.ParseInt("0"+intPart+frac, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// FormatDecimal writes an integer scaled by 10^places with a point, the
// inverse of ParseDecimal ("12.50" for 1250 with 2 places), for forms and
// the API.
func FormatDecimal(v int64, places int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if places > 0 {
		if len(s) <= places {
			s = strings.Repeat("0", places-len(s)+1) + s
		}
		s = s[:len(s)-places] + "." + s[len(s)-places:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// FormatRate writes a basis-point rate as a percentage without useless
// zeros ("21", "10.5"), for forms, CSV and labels.
func FormatRate(bp int64) string {
	s := FormatDecimal(bp, 2)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}

// divRound divides n by d rounding half away from zero, the commercial
// rounding of Spanish invoices; d is positive.
func divRound(n, d *big.Int) *big.Int {
	q, r := new(big.Int), new(big.Int)
	q.QuoRem(n, d, r)
	r.Abs(r).Mul(r, big.NewInt(2))
	if r.Cmp(d) >= 0 {
		if n.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// maxUnitPriceCents bounds a unit price (a thousand million) so that every
// total fits comfortably in 64 bits.
const maxUnitPriceCents = 100_000_000_000

// TaxRates returns the firm's tax rates in display order; anyone signed in
// may read them (forms offer them).
func (s *Store) TaxRates(ctx context.Context, a *Actor) ([]TaxRate, error) {
	if a == nil {
		return nil, errForbidden()
	}
	return s.taxRates(ctx, s.r)
}

func (s *Store) taxRates(ctx context.Context, q querier) ([]TaxRate, error) {
	rows, err := q.QueryContext(ctx, `SELECT rate_bp, name, position FROM tax_rates ORDER BY position, rate_bp DESC`)
	if err != nil {
		return nil, errInternal(err)
	}
	defer rows.Close()
	var out []TaxRate
	for rows.Next() {
		var t TaxRate
		if err := rows.Scan(&t.RateBP, &t.Name, &t.Position); err != nil {
			return nil, errInternal(err)
		}
		out = append(out, t)
	}
	return out, wrapErrNil(rows.Err())
}

// wrapErrNil is wrapErr that keeps nil.
func wrapErrNil(err error) error {
	if err == nil {
		return nil
	}
	return wrapErr(err)
}

// SetTaxRates replaces the list of tax rates (settings capability). Rates
// already on products or quote lines stay where they are; they are only no
// longer offered.
func (s *Store) SetTaxRates(ctx context.Context, a *Actor, rates []TaxRate) error {
	if err := a.require(CapSettings); err != nil {
		return err
	}
	fe := fieldErrors{}
	seen := map[int64]bool{}
	for i, r := range rates {
		p := "rates." + strconv.Itoa(i)
		if r.RateBP < 0 || r.RateBP > 10000 {
			fe.add(p+".rate", "quotes.error.tax_rate")
		}
		if seen[r.RateBP] {
			fe.add(p+".rate", "quotes.error.duplicate_rate")
		}
		seen[r.RateBP] = true
		var k string
		if rates[i].Name, k = cleanText(r.Name, false, 50); k != "" {
			fe.add(p+".name", k)
		}
	}
	if len(rates) == 0 {
		fe.add("rates", "error.required")
	}
	if err := fe.err(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tax_rates`); err != nil {
			return err
		}
		for i, r := range rates {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tax_rates (rate_bp, name, position) VALUES (?, ?, ?)`, r.RateBP, r.Name, i+1); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "update", "tax_rates", 0, map[string]any{"rates": len(rates)})
	})
}

// canSeeProducts: the catalogue is company-wide; whoever may view
// opportunities (and so quotes) or change settings may read it.
func canSeeProducts(a *Actor) error {
	if a.Can(EntOpportunities, ActView) || a.Has(CapSettings) {
		return nil
	}
	return errForbidden()
}

const productCols = `id, code, name, description, unit_price_cents, tax_rate_bp, unit, active, created_at, updated_at, version`

func scanProduct(sc rowScanner) (*Product, error) {
	p := &Product{}
	var ca, ua int64
	if err := sc.Scan(&p.ID, &p.Code, &p.Name, &p.Description, &p.UnitPriceCents, &p.TaxRateBP, &p.Unit, &p.Active, &ca, &ua, &p.Version); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMS(ca), fromMS(ua)
	return p, nil
}

// FindProducts lists the catalogue by name.
func (s *Store) FindProducts(ctx context.Context, a *Actor, f ProductFilter) ([]*Product, error) {
	if err := canSeeProducts(a); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	q := `SELECT ` + productCols + ` FROM products WHERE 1=1`
	var args []any
	if f.ActiveOnly {
		q += ` AND active = 1`
	}
	if t := strings.TrimSpace(f.Query); t != "" {
		q += ` AND (code_key LIKE ? ESCAPE '\' OR name LIKE ? ESCAPE '\')`
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(t) + "%"
		args = append(args, strings.ToUpper(like), like)
	}
	q += ` ORDER BY name COLLATE NOCASE, code LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, errInternal(err)
	}
	defer rows.Close()
	out := []*Product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, errInternal(err)
		}
		out = append(out, p)
	}
	return out, wrapErrNil(rows.Err())
}

// FindProduct returns one product.
func (s *Store) FindProduct(ctx context.Context, a *Actor, id int64) (*Product, error) {
	if err := canSeeProducts(a); err != nil {
		return nil, err
	}
	p, err := scanProduct(s.r.QueryRowContext(ctx, `SELECT `+productCols+` FROM products WHERE id = ?`, id))
	if err != nil {
		return nil, wrapErr(err)
	}
	return p, nil
}

// checkProduct validates an input into a product; prefix names the fields
// of a CSV row ("3.code").
func (s *Store) checkProduct(ctx context.Context, q querier, in ProductInput, prefix string, fe fieldErrors) *Product {
	p := &Product{Active: in.Active, Version: in.Version}
	var k string
	if p.Code, k = cleanText(in.Code, true, 40); k != "" {
		fe.add(prefix+"code", k)
	}
	if p.Name, k = cleanText(in.Name, true, 200); k != "" {
		fe.add(prefix+"name", k)
	}
	if p.Description, k = cleanLongText(in.Description, 5000); k != "" {
		fe.add(prefix+"description", k)
	}
	if p.Unit, k = cleanText(in.Unit, false, 20); k != "" {
		fe.add(prefix+"unit", k)
	}
	if strings.TrimSpace(in.UnitPrice) == "" {
		in.UnitPrice = "0"
	}
	if v, ok := ParseDecimal(in.UnitPrice, 2); !ok || v < 0 || v > maxUnitPriceCents {
		fe.add(prefix+"unit_price", "quotes.error.amount")
	} else {
		p.UnitPriceCents = v
	}
	bp, err := s.checkRate(ctx, q, in.TaxRate)
	if err != nil {
		fe.add(prefix+"tax_rate", "error.internal")
	} else if bp < 0 {
		fe.add(prefix+"tax_rate", "quotes.error.tax_rate")
	} else {
		p.TaxRateBP = bp
	}
	return p
}

// checkRate reads a percentage and returns its basis points when it is
// one of the firm's tax rates, -1 otherwise.
func (s *Store) checkRate(ctx context.Context, q querier, v string) (int64, error) {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "%"))
	bp, ok := ParseDecimal(v, 2)
	if !ok {
		return -1, nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM tax_rates WHERE rate_bp = ?`, bp).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return -1, nil
	}
	return bp, nil
}

// SaveProduct creates (id 0) or changes a product; the settings capability
// is needed, and a code already used by another product is refused.
func (s *Store) SaveProduct(ctx context.Context, a *Actor, id int64, in ProductInput) (*Product, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		fe := fieldErrors{}
		p := s.checkProduct(ctx, tx, in, "", fe)
		if err := fe.err(); err != nil {
			return err
		}
		var err error
		id, err = s.saveProduct(ctx, tx, a, id, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FindProduct(ctx, a, id)
}

func (s *Store) saveProduct(ctx context.Context, tx *sql.Tx, a *Actor, id int64, p *Product) (int64, error) {
	now := s.nowMS()
	key := strings.ToUpper(p.Code)
	if id == 0 {
		res, err := tx.ExecContext(ctx, `INSERT INTO products (code, code_key, name, description, unit_price_cents, tax_rate_bp, unit, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Code, key, p.Name, p.Description, p.UnitPriceCents, p.TaxRateBP, p.Unit, p.Active, now, now)
		if isUniqueViolation(err) {
			return 0, errConflict("quotes.error.code_taken", map[string]string{"code": "quotes.error.code_taken"})
		}
		if err != nil {
			return 0, err
		}
		id, _ = res.LastInsertId()
		return id, s.audit(ctx, tx, a, "create", "products", id, map[string]any{"code": p.Code})
	}
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM products WHERE id = ?`, id).Scan(&version); err != nil {
		return 0, err
	}
	if p.Version != 0 && p.Version != version {
		return 0, &Error{Code: CodeConflict, Key: "error.changed_since"}
	}
	_, err := tx.ExecContext(ctx, `UPDATE products SET code = ?, code_key = ?, name = ?, description = ?, unit_price_cents = ?, tax_rate_bp = ?, unit = ?, active = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		p.Code, key, p.Name, p.Description, p.UnitPriceCents, p.TaxRateBP, p.Unit, p.Active, now, id)
	if isUniqueViolation(err) {
		return 0, errConflict("quotes.error.code_taken", map[string]string{"code": "quotes.error.code_taken"})
	}
	if err != nil {
		return 0, err
	}
	return id, s.audit(ctx, tx, a, "update", "products", id, map[string]any{"code": p.Code})
}

// ProductCSVColumns are the columns of the catalogue's CSV file, in order;
// an import reads them by header name in any order.
var ProductCSVColumns = []string{"code", "name", "description", "unit_price", "tax_rate", "unit", "active"}

// ExportProductsCSV writes the whole catalogue as UTF-8 CSV with the
// columns of ProductCSVColumns, which ImportProductsCSV reads back.
func (s *Store) ExportProductsCSV(ctx context.Context, a *Actor, w io.Writer) error {
	ps, err := s.FindProducts(ctx, a, ProductFilter{})
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(ProductCSVColumns)
	for _, p := range ps {
		active := "1"
		if !p.Active {
			active = "0"
		}
		cw.Write([]string{csvSafe(p.Code), csvSafe(p.Name), csvSafe(p.Description), FormatDecimal(p.UnitPriceCents, 2), FormatRate(p.TaxRateBP), csvSafe(p.Unit), active})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe stops a spreadsheet from running a cell as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@", rune(v[0])) {
		return "'" + v
	}
	return v
}

// ProductImportResult counts what a catalogue import did.
type ProductImportResult struct {
	Created, Updated int
}

// maxProductRows bounds a catalogue file.
const maxProductRows = 20000

// ImportProductsCSV reads a catalogue CSV (comma or semicolon, UTF-8 with
// or without BOM, headers as ProductCSVColumns) and creates or updates the
// products by code, all or nothing: a file with one bad row changes
// nothing and the error names each bad row and column ("3.unit_price").
func (s *Store) ImportProductsCSV(ctx context.Context, a *Actor, r io.Reader) (ProductImportResult, error) {
	var res ProductImportResult
	if err := a.require(CapSettings); err != nil {
		return res, err
	}
	br := bufio.NewReader(io.LimitReader(r, 20<<20))
	if b, _ := br.Peek(3); string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	head, _ := br.Peek(4096)
	cr := csv.NewReader(br)
	if first, _, _ := strings.Cut(string(head), "\n"); strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil || len(records) == 0 {
		return res, errInvalid(map[string]string{"file": "quotes.error.csv"})
	}
	col := map[string]int{}
	for i, h := range records[0] {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["code"]; !ok {
		return res, errInvalid(map[string]string{"file": "quotes.error.csv_columns"})
	}
	if _, ok := col["name"]; !ok {
		return res, errInvalid(map[string]string{"file": "quotes.error.csv_columns"})
	}
	if len(records) > maxProductRows+1 {
		return res, errInvalid(map[string]string{"file": "quotes.error.csv_rows"})
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		fe := fieldErrors{}
		type row struct {
			p  *Product
			id int64
		}
		var rows []row
		seen := map[string]int{}
		for n, rec := range records[1:] {
			get := func(k string) string {
				if i, ok := col[k]; ok && i < len(rec) {
					return strings.TrimPrefix(rec[i], "'")
				}
				return ""
			}
			line := strconv.Itoa(n+2) + "."
			in := ProductInput{Code: get("code"), Name: get("name"), Description: get("description"), UnitPrice: get("unit_price"), TaxRate: get("tax_rate"), Unit: get("unit"), Active: true}
			if _, ok := col["tax_rate"]; !ok || strings.TrimSpace(in.TaxRate) == "" {
				in.TaxRate = "21"
			}
			switch strings.ToLower(strings.TrimSpace(get("active"))) {
			case "0", "no", "false", "n":
				in.Active = false
			}
			p := s.checkProduct(ctx, tx, in, line, fe)
			key := strings.ToUpper(p.Code)
			if prev, dup := seen[key]; dup && key != "" {
				fe.add(line+"code", "quotes.error.code_twice")
				_ = prev
			}
			seen[key] = n
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM products WHERE code_key = ?`, key).Scan(&id)
			if err != nil && !isNoRows(err) {
				return err
			}
			rows = append(rows, row{p, id})
		}
		if err := fe.err(); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := s.saveProduct(ctx, tx, a, r.id, r.p); err != nil {
				return err
			}
			if r.id == 0 {
				res.Created++
			} else {
				res.Updated++
			}
		}
		return nil
	})
	return res, err
}
