package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is quotes (issue 12): numbered per year from a counter that
// only grows, with line items whose amounts are rounded to cents per line
// and then summed, a status life draft → sent → accepted / rejected /
// expired, and the state mirrored onto the opportunity for workflow rules.
// A quote belongs to an opportunity and has its scope: who may view the
// opportunity may view its quotes, who may edit it may edit them.

// The statuses of a quote.
const (
	QuoteDraft    = "draft"
	QuoteSent     = "sent"
	QuoteAccepted = "accepted"
	QuoteRejected = "rejected"
	QuoteExpired  = "expired"
)

// QuoteStatuses lists the statuses in display order.
var QuoteStatuses = []string{QuoteDraft, QuoteSent, QuoteAccepted, QuoteRejected, QuoteExpired}

// quoteMoves are the status changes a person may make; sending goes
// through SendQuote or a manual "mark as sent", expiry through the
// scheduler (or by hand).
var quoteMoves = map[string][]string{
	QuoteDraft:    {QuoteSent},
	QuoteSent:     {QuoteAccepted, QuoteRejected, QuoteExpired},
	QuoteExpired:  {QuoteSent, QuoteAccepted, QuoteRejected},
	QuoteRejected: {},
	QuoteAccepted: {},
}

// QuoteNextStatuses lists the statuses a person may move a quote to from
// status, so pages offer only those.
func QuoteNextStatuses(status string) []string { return slices.Clone(quoteMoves[status]) }

// QuoteLinkTTL is how long the download link of a sent quote works.
const QuoteLinkTTL = 30 * 24 * time.Hour

// maxQuoteLines bounds one quote.
const maxQuoteLines = 200

// Quote is one quote with its lines and totals.
type Quote struct {
	ID              int64
	Number          string
	OpportunityID   int64
	OpportunityName string
	// OwnerID is the opportunity's owner: the quote's salesperson.
	OwnerID      int64
	OwnerName    string
	ownerTeam    int64
	AccountID    int64
	AccountName  string
	AccountTaxID string
	// AccountAddress is the client's address block (street, postal code
	// and city, region, country), one line each.
	AccountAddress string
	ContactID      int64
	ContactName    string
	// Email is where the quote is sent by default: the contact's address,
	// or the client's.
	Email      string
	IssueDate  string
	ValidUntil string
	Status     string
	Currency   string
	Notes      string
	Terms      string
	Lines      []QuoteLine
	// Taxes are the totals per tax rate, highest rate first.
	Taxes         []TaxTotal
	SubtotalCents int64
	TaxCents      int64
	TotalCents    int64
	SentAt        time.Time
	DecidedAt     time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int64
}

// QuoteLine is one line of a quote: a product or free text.
type QuoteLine struct {
	ProductID   int64
	ProductCode string
	Description string
	Unit        string
	// QuantityMilli is the quantity in thousandths (1500 = 1.5).
	QuantityMilli  int64
	UnitPriceCents int64
	// DiscountBP and TaxRateBP are in basis points (1000 = 10 %).
	DiscountBP int64
	TaxRateBP  int64
	// NetCents is quantity × price less the discount, and TaxCents the tax
	// on it, each rounded to cents (half away from zero).
	NetCents int64
	TaxCents int64
}

// TaxTotal is the sum of the lines at one tax rate.
type TaxTotal struct {
	RateBP    int64
	BaseCents int64
	TaxCents  int64
}

// QuoteLineInput is one line as a form or the API gives it; numbers are
// text. A line with a product takes the product's description, price,
// unit and tax rate where the input leaves them empty. A line with
// nothing in it is ignored (forms have blank rows).
type QuoteLineInput struct {
	ProductID   int64
	Description string
	Unit        string
	Quantity    string
	UnitPrice   string
	Discount    string
	TaxRate     string
}

// Blank reports a line with nothing in it, which is skipped: a form's
// spare rows.
func (l QuoteLineInput) Blank() bool {
	return l.ProductID == 0 && strings.TrimSpace(l.Description+l.Unit+l.UnitPrice+l.Discount) == "" && (strings.TrimSpace(l.Quantity) == "" || strings.TrimSpace(l.Quantity) == "1")
}

// QuoteInput creates or changes a quote; on a change, nil pointers keep
// what is stored.
type QuoteInput struct {
	// OpportunityID is required on create and cannot change.
	OpportunityID int64
	IssueDate     *string
	ValidUntil    *string
	Notes         *string
	Terms         *string
	Lines         *[]QuoteLineInput
	// Version, when not zero, must match the stored version.
	Version int64
}

// AcceptOptions say what accepting a quote does to its opportunity.
type AcceptOptions struct {
	// SetAmount sets the opportunity's amount to the quote's total before
	// tax.
	SetAmount bool
	// Stage, when not empty, moves the opportunity to that stage.
	Stage string
}

// QuoteFilter narrows a list of quotes.
type QuoteFilter struct {
	OpportunityID int64
	Status        string
	Limit         int
}

// QuoteSettings are the firm's quote defaults.
type QuoteSettings struct {
	// Prefix starts every number: PREFIX + year + "-" + sequence, e.g.
	// P2026-0007.
	Prefix       string
	ValidityDays int
	Terms        string
}

// ComputeLine fills a line's net and tax: quantity × unit price less the
// discount, rounded to cents, and the tax on that rounded net, rounded to
// cents (half away from zero). Totals are sums of these rounded lines, so
// the PDF's lines always add up to its totals.
func ComputeLine(l *QuoteLine) {
	n := new(big.Int).Mul(big.NewInt(l.QuantityMilli), big.NewInt(l.UnitPriceCents))
	n.Mul(n, big.NewInt(10000-l.DiscountBP))
	l.NetCents = divRound(n, big.NewInt(1000*10000)).Int64()
	t := new(big.Int).Mul(big.NewInt(l.NetCents), big.NewInt(l.TaxRateBP))
	l.TaxCents = divRound(t, big.NewInt(10000)).Int64()
}

// ComputeTotals sums rounded lines into totals per tax rate and the grand
// total.
func ComputeTotals(lines []QuoteLine) (taxes []TaxTotal, subtotal, tax, total int64) {
	by := map[int64]*TaxTotal{}
	for _, l := range lines {
		t := by[l.TaxRateBP]
		if t == nil {
			t = &TaxTotal{RateBP: l.TaxRateBP}
			by[l.TaxRateBP] = t
		}
		t.BaseCents += l.NetCents
		t.TaxCents += l.TaxCents
		subtotal += l.NetCents
		tax += l.TaxCents
	}
	for _, t := range by {
		taxes = append(taxes, *t)
	}
	slices.SortFunc(taxes, func(a, b TaxTotal) int { return int(b.RateBP - a.RateBP) })
	return taxes, subtotal, tax, subtotal + tax
}

// prefixRe is what a quote number prefix may hold.
var prefixRe = regexp.MustCompile(`^[\p{L}0-9/_.\-]{0,12}$`)

// QuoteSettingsOf returns the firm's quote defaults; anyone signed in may
// read them.
func (s *Store) QuoteSettingsOf(ctx context.Context, a *Actor) (*QuoteSettings, error) {
	if a == nil {
		return nil, errForbidden()
	}
	return s.quoteSettings(ctx, s.r)
}

func (s *Store) quoteSettings(ctx context.Context, q querier) (*QuoteSettings, error) {
	qs := &QuoteSettings{}
	if err := q.QueryRowContext(ctx, `SELECT prefix, validity_days, terms FROM quote_settings WHERE id = 1`).Scan(&qs.Prefix, &qs.ValidityDays, &qs.Terms); err != nil {
		return nil, wrapErr(err)
	}
	return qs, nil
}

// SaveQuoteSettings changes the quote defaults (settings capability); a new
// prefix applies to the next numbers, the counter goes on.
func (s *Store) SaveQuoteSettings(ctx context.Context, a *Actor, in QuoteSettings) error {
	if err := a.require(CapSettings); err != nil {
		return err
	}
	fe := fieldErrors{}
	in.Prefix = strings.TrimSpace(in.Prefix)
	if !prefixRe.MatchString(in.Prefix) {
		fe.add("prefix", "quotes.error.prefix")
	}
	if in.ValidityDays < 1 || in.ValidityDays > 366 {
		fe.add("validity_days", "quotes.error.validity_days")
	}
	var k string
	if in.Terms, k = cleanLongText(in.Terms, 10000); k != "" {
		fe.add("terms", k)
	}
	if err := fe.err(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE quote_settings SET prefix = ?, validity_days = ?, terms = ? WHERE id = 1`, in.Prefix, in.ValidityDays, in.Terms); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "quote_settings", 1, map[string]any{"prefix": in.Prefix})
	})
}

// companyLoc is the firm's time zone, in which quote dates are days.
func (s *Store) companyLoc(ctx context.Context) *time.Location {
	if c, err := s.Company(ctx); err == nil {
		if l, err := time.LoadLocation(c.Timezone); err == nil {
			return l
		}
	}
	return time.UTC
}

// quoteSelect reads quotes with their opportunity, owner, client and
// contact; the caller adds the WHERE clause.
const quoteSelect = `SELECT q.id, q.number, q.opportunity_id, o.name, o.owner_id, COALESCE(u.name, ''), COALESCE(u.team_id, 0),
	COALESCE(q.account_id, 0), COALESCE(ac.name, ''), COALESCE(ac.tax_id, ''), COALESCE(ac.address, ''), COALESCE(ac.postal_code, ''), COALESCE(ac.city, ''), COALESCE(ac.region, ''), COALESCE(ac.country, ''), COALESCE(ac.email, ''),
	COALESCE(q.contact_id, 0), COALESCE(TRIM(c.first_name || ' ' || c.last_name), ''), COALESCE(c.email, ''),
	q.issue_date, q.valid_until, q.status, q.currency, q.notes, q.terms, q.subtotal_cents, q.tax_cents, q.total_cents,
	q.sent_at, q.decided_at, q.created_at, q.updated_at, q.version
	FROM quotes q JOIN opportunities o ON o.id = q.opportunity_id AND o.deleted_at = 0
	LEFT JOIN users u ON u.id = o.owner_id
	LEFT JOIN accounts ac ON ac.id = q.account_id
	LEFT JOIN contacts c ON c.id = q.contact_id`

func scanQuote(sc rowScanner) (*Quote, error) {
	q := &Quote{}
	var addr, pc, city, region, country, accEmail, conEmail string
	var sent, decided, ca, ua int64
	err := sc.Scan(&q.ID, &q.Number, &q.OpportunityID, &q.OpportunityName, &q.OwnerID, &q.OwnerName, &q.ownerTeam,
		&q.AccountID, &q.AccountName, &q.AccountTaxID, &addr, &pc, &city, &region, &country, &accEmail,
		&q.ContactID, &q.ContactName, &conEmail,
		&q.IssueDate, &q.ValidUntil, &q.Status, &q.Currency, &q.Notes, &q.Terms, &q.SubtotalCents, &q.TaxCents, &q.TotalCents,
		&sent, &decided, &ca, &ua, &q.Version)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range []string{addr, strings.TrimSpace(pc + " " + city), region, country} {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	q.AccountAddress = strings.Join(lines, "\n")
	q.Email = conEmail
	if q.Email == "" {
		q.Email = accEmail
	}
	q.SentAt, q.DecidedAt, q.CreatedAt, q.UpdatedAt = fromMS(sent), fromMS(decided), fromMS(ca), fromMS(ua)
	return q, nil
}

// loadQuote reads one quote the actor may view (its opportunity's view
// scope) with its lines; anything else is not_found.
func (s *Store) loadQuote(ctx context.Context, q querier, a *Actor, id int64) (*Quote, error) {
	cond, args := a.scopeSQL(EntOpportunities, ActView, "o.owner_id")
	qt, err := scanQuote(q.QueryRowContext(ctx, quoteSelect+` WHERE q.id = ? AND `+cond, append([]any{id}, args...)...))
	if err != nil {
		return nil, wrapErr(err)
	}
	rows, err := q.QueryContext(ctx, `SELECT COALESCE(l.product_id, 0), COALESCE(p.code, ''), l.description, l.unit, l.quantity_milli, l.unit_price_cents, l.discount_bp, l.tax_rate_bp, l.net_cents, l.tax_cents
		FROM quote_lines l LEFT JOIN products p ON p.id = l.product_id WHERE l.quote_id = ? ORDER BY l.position`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var l QuoteLine
		if err := rows.Scan(&l.ProductID, &l.ProductCode, &l.Description, &l.Unit, &l.QuantityMilli, &l.UnitPriceCents, &l.DiscountBP, &l.TaxRateBP, &l.NetCents, &l.TaxCents); err != nil {
			return nil, err
		}
		qt.Lines = append(qt.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	qt.Taxes, _, _, _ = ComputeTotals(qt.Lines)
	return qt, nil
}

// editableQuote loads a quote the actor may edit: the opportunity's edit
// permission and scope.
func (s *Store) editableQuote(ctx context.Context, tx *sql.Tx, a *Actor, id int64) (*Quote, error) {
	if !a.Can(EntOpportunities, ActView) {
		return nil, errForbidden()
	}
	q, err := s.loadQuote(ctx, tx, a, id)
	if err != nil {
		return nil, err
	}
	if err := a.checkRecord(EntOpportunities, ActEdit, q.OwnerID, q.ownerTeam); err != nil {
		return nil, err
	}
	return q, nil
}

// FindQuote returns one quote the actor may view.
func (s *Store) FindQuote(ctx context.Context, a *Actor, id int64) (*Quote, error) {
	if !a.Can(EntOpportunities, ActView) {
		return nil, errForbidden()
	}
	var q *Quote
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		q, err = s.loadQuote(ctx, tx, a, id)
		return err
	})
	return q, err
}

// FindQuotes lists the quotes the actor may view, newest first, without
// their lines.
func (s *Store) FindQuotes(ctx context.Context, a *Actor, f QuoteFilter) ([]*Quote, error) {
	if !a.Can(EntOpportunities, ActView) {
		return nil, errForbidden()
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	cond, args := a.scopeSQL(EntOpportunities, ActView, "o.owner_id")
	where := " WHERE " + cond
	if f.OpportunityID != 0 {
		where += " AND q.opportunity_id = ?"
		args = append(args, f.OpportunityID)
	}
	if f.Status != "" {
		where += " AND q.status = ?"
		args = append(args, f.Status)
	}
	rows, err := s.r.QueryContext(ctx, quoteSelect+where+" ORDER BY q.id DESC LIMIT ?", append(args, f.Limit)...)
	if err != nil {
		return nil, errInternal(err)
	}
	defer rows.Close()
	out := []*Quote{}
	for rows.Next() {
		q, err := scanQuote(rows)
		if err != nil {
			return nil, errInternal(err)
		}
		out = append(out, q)
	}
	return out, wrapErrNil(rows.Err())
}

// checkQuoteLines validates the lines of an input, filling product lines
// from the catalogue, and computes each line's amounts.
func (s *Store) checkQuoteLines(ctx context.Context, q querier, in []QuoteLineInput, fe fieldErrors) ([]QuoteLine, error) {
	var out []QuoteLine
	n := 0
	for _, li := range in {
		if li.Blank() {
			continue
		}
		p := "lines." + strconv.Itoa(n) + "."
		n++
		l := QuoteLine{ProductID: li.ProductID}
		if li.ProductID != 0 {
			prod, err := scanProduct(q.QueryRowContext(ctx, `SELECT `+productCols+` FROM products WHERE id = ?`, li.ProductID))
			if isNoRows(err) {
				fe.add(p+"product_id", "quotes.error.product")
				continue
			}
			if err != nil {
				return nil, err
			}
			l.ProductCode = prod.Code
			if strings.TrimSpace(li.Description) == "" {
				li.Description = prod.Name
				if prod.Description != "" {
					li.Description += "\n" + prod.Description
				}
			}
			if strings.TrimSpace(li.UnitPrice) == "" {
				li.UnitPrice = FormatDecimal(prod.UnitPriceCents, 2)
			}
			if strings.TrimSpace(li.TaxRate) == "" {
				li.TaxRate = FormatRate(prod.TaxRateBP)
			}
			if strings.TrimSpace(li.Unit) == "" {
				li.Unit = prod.Unit
			}
		}
		var k string
		if l.Description, k = cleanLongText(li.Description, 5000); k != "" || l.Description == "" {
			if k == "" {
				k = "error.required"
			}
			fe.add(p+"description", k)
		}
		if l.Unit, k = cleanText(li.Unit, false, 20); k != "" {
			fe.add(p+"unit", k)
		}
		if strings.TrimSpace(li.Quantity) == "" {
			li.Quantity = "1"
		}
		if v, ok := ParseDecimal(li.Quantity, 3); !ok || v <= 0 || v > 1_000_000_000 {
			fe.add(p+"quantity", "quotes.error.quantity")
		} else {
			l.QuantityMilli = v
		}
		if v, ok := ParseDecimal(li.UnitPrice, 2); !ok || v < 0 || v > maxUnitPriceCents {
			fe.add(p+"unit_price", "quotes.error.amount")
		} else {
			l.UnitPriceCents = v
		}
		if strings.TrimSpace(li.Discount) == "" {
			li.Discount = "0"
		}
		if v, ok := ParseDecimal(strings.TrimSuffix(strings.TrimSpace(li.Discount), "%"), 2); !ok || v < 0 || v > 10000 {
			fe.add(p+"discount", "quotes.error.discount")
		} else {
			l.DiscountBP = v
		}
		bp, err := s.checkRate(ctx, q, li.TaxRate)
		if err != nil {
			return nil, err
		}
		if bp < 0 {
			fe.add(p+"tax_rate", "quotes.error.tax_rate")
		} else {
			l.TaxRateBP = bp
		}
		ComputeLine(&l)
		out = append(out, l)
	}
	if len(out) > maxQuoteLines {
		fe.add("lines", "quotes.error.too_many_lines")
	}
	return out, nil
}

// checkDate reads a YYYY-MM-DD date.
func checkDate(v string) (string, bool) {
	v = strings.TrimSpace(v)
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return v, false
	}
	return t.Format("2006-01-02"), true
}

// CreateQuote creates a draft quote on an opportunity the actor may edit,
// numbering it from the year's counter inside the same write transaction:
// concurrent creations get consecutive numbers, never the same one, and a
// number is never given twice even after its quote is deleted.
func (s *Store) CreateQuote(ctx context.Context, a *Actor, in QuoteInput) (*Quote, error) {
	if !a.Can(EntOpportunities, ActEdit) {
		return nil, errForbidden()
	}
	if in.OpportunityID == 0 {
		return nil, errInvalid(map[string]string{"opportunity_id": "error.required"})
	}
	loc := s.companyLoc(ctx)
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		opp, err := s.loadRecord(ctx, tx, a, s.def(EntOpportunities), in.OpportunityID, false)
		if ErrorCode(err) == CodeNotFound {
			return errInvalid(map[string]string{"opportunity_id": "error.not_found"})
		}
		if err != nil {
			return err
		}
		if err := a.checkRecord(EntOpportunities, ActEdit, opp.OwnerID, opp.ownerTeam); err != nil {
			return err
		}
		set, err := s.quoteSettings(ctx, tx)
		if err != nil {
			return err
		}
		today := s.now().In(loc)
		q := &Quote{IssueDate: today.Format("2006-01-02"), Terms: set.Terms}
		q.ValidUntil = today.AddDate(0, 0, set.ValidityDays).Format("2006-01-02")
		if in.IssueDate != nil && in.ValidUntil == nil {
			// Valid for the usual days from the date given.
			if d, err := time.Parse("2006-01-02", strings.TrimSpace(*in.IssueDate)); err == nil {
				q.ValidUntil = d.AddDate(0, 0, set.ValidityDays).Format("2006-01-02")
			}
		}
		fe := fieldErrors{}
		lines, err := s.applyQuoteInput(ctx, tx, q, in, fe)
		if err != nil {
			return err
		}
		if err := fe.err(); err != nil {
			return err
		}
		q.Currency = opp.Str("currency")
		if q.Currency == "" {
			if c, err := s.Company(ctx); err == nil {
				q.Currency = c.Currency
			}
		}
		year, _ := strconv.Atoi(q.IssueDate[:4])
		var seq int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO quote_counters (year, last) VALUES (?, 1) ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last`, year).Scan(&seq); err != nil {
			return err
		}
		q.Number = set.Prefix + strconv.Itoa(year) + "-" + pad4(seq)
		_, sub, tax, total := ComputeTotals(lines)
		now := s.nowMS()
		res, err := tx.ExecContext(ctx, `INSERT INTO quotes (number, year, seq, opportunity_id, account_id, contact_id, issue_date, valid_until, status, currency, notes, terms, subtotal_cents, tax_cents, total_cents, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			q.Number, year, seq, opp.ID, nullID(opp.Int("account_id")), nullID(opp.Int("contact_id")), q.IssueDate, q.ValidUntil, q.Currency, q.Notes, q.Terms, sub, tax, total, a.auditUser(), now, now)
		if err != nil {
			return err
		}
		id, _ = res.LastInsertId()
		if err := s.insertQuoteLines(ctx, tx, id, lines); err != nil {
			return err
		}
		if err := s.mirrorQuotes(ctx, tx, a, opp.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "quotes", id, map[string]any{"number": q.Number, "opportunity_id": opp.ID})
	})
	if err != nil {
		return nil, err
	}
	return s.FindQuote(ctx, a, id)
}

func pad4(n int64) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// applyQuoteInput validates the parts of an input that are present onto q
// and returns the lines (q's own when the input has none).
func (s *Store) applyQuoteInput(ctx context.Context, tx *sql.Tx, q *Quote, in QuoteInput, fe fieldErrors) ([]QuoteLine, error) {
	var ok bool
	if in.IssueDate != nil {
		if q.IssueDate, ok = checkDate(*in.IssueDate); !ok {
			fe.add("issue_date", "error.date")
		}
	}
	if in.ValidUntil != nil {
		if q.ValidUntil, ok = checkDate(*in.ValidUntil); !ok {
			fe.add("valid_until", "error.date")
		}
	}
	if q.ValidUntil < q.IssueDate {
		fe.add("valid_until", "quotes.error.valid_before_issue")
	}
	var k string
	if in.Notes != nil {
		if q.Notes, k = cleanLongText(*in.Notes, 10000); k != "" {
			fe.add("notes", k)
		}
	}
	if in.Terms != nil {
		if q.Terms, k = cleanLongText(*in.Terms, 10000); k != "" {
			fe.add("terms", k)
		}
	}
	if in.Lines == nil {
		return q.Lines, nil
	}
	return s.checkQuoteLines(ctx, tx, *in.Lines, fe)
}

func (s *Store) insertQuoteLines(ctx context.Context, tx *sql.Tx, id int64, lines []QuoteLine) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM quote_lines WHERE quote_id = ?`, id); err != nil {
		return err
	}
	for i, l := range lines {
		if _, err := tx.ExecContext(ctx, `INSERT INTO quote_lines (quote_id, position, product_id, description, unit, quantity_milli, unit_price_cents, discount_bp, tax_rate_bp, net_cents, tax_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, i+1, nullID(l.ProductID), l.Description, l.Unit, l.QuantityMilli, l.UnitPriceCents, l.DiscountBP, l.TaxRateBP, l.NetCents, l.TaxCents); err != nil {
			return err
		}
	}
	return nil
}

// UpdateQuote changes a draft quote's dates, notes, terms and lines; a
// quote that has been sent is what the client saw and changes no more
// (make a new one).
func (s *Store) UpdateQuote(ctx context.Context, a *Actor, id int64, in QuoteInput) (*Quote, error) {
	err := s.write(ctx, func(tx *sql.Tx) error {
		q, err := s.editableQuote(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Version != 0 && in.Version != q.Version {
			return &Error{Code: CodeConflict, Key: "error.changed_since"}
		}
		if in.OpportunityID != 0 && in.OpportunityID != q.OpportunityID {
			return errInvalid(map[string]string{"opportunity_id": "error.read_only"})
		}
		if q.Status != QuoteDraft {
			return errConflict("quotes.error.not_draft", nil)
		}
		fe := fieldErrors{}
		lines, err := s.applyQuoteInput(ctx, tx, q, in, fe)
		if err != nil {
			return err
		}
		if err := fe.err(); err != nil {
			return err
		}
		_, sub, tax, total := ComputeTotals(lines)
		if _, err := tx.ExecContext(ctx, `UPDATE quotes SET issue_date = ?, valid_until = ?, notes = ?, terms = ?, subtotal_cents = ?, tax_cents = ?, total_cents = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
			q.IssueDate, q.ValidUntil, q.Notes, q.Terms, sub, tax, total, s.nowMS(), id); err != nil {
			return err
		}
		if in.Lines != nil {
			if err := s.insertQuoteLines(ctx, tx, id, lines); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "update", "quotes", id, map[string]any{"number": q.Number})
	})
	if err != nil {
		return nil, err
	}
	return s.FindQuote(ctx, a, id)
}

// SetQuoteStatus moves a quote to a status the life allows (see
// quoteMoves). Accepting can also set the opportunity's amount to the
// quote's total before tax and move it to a stage, with the actor's
// permissions on the opportunity, in the same transaction.
func (s *Store) SetQuoteStatus(ctx context.Context, a *Actor, id int64, status string, acc AcceptOptions) (*Quote, error) {
	err := s.write(ctx, func(tx *sql.Tx) error {
		q, err := s.editableQuote(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if status == q.Status {
			return nil
		}
		if !slices.Contains(QuoteStatuses, status) {
			return errInvalid(map[string]string{"status": "error.option"})
		}
		if !slices.Contains(quoteMoves[q.Status], status) {
			return errInvalid(map[string]string{"status": "quotes.error.status_move"})
		}
		if err := s.setQuoteStatus(ctx, tx, a, q, status); err != nil {
			return err
		}
		if status == QuoteAccepted && (acc.SetAmount || acc.Stage != "") {
			vals := map[string]any{}
			if acc.SetAmount {
				vals["amount"] = FormatDecimal(q.SubtotalCents, 2)
			}
			if acc.Stage != "" {
				vals["stage"] = acc.Stage
			}
			if err := s.updateRecord(ctx, tx, a, s.def(EntOpportunities), q.OpportunityID, Input{Values: vals}); err != nil {
				return prefixFields(err, "opportunity.")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.FindQuote(ctx, a, id)
}

// setQuoteStatus stores a status change, its time, the audit line and the
// opportunity's mirror.
func (s *Store) setQuoteStatus(ctx context.Context, tx *sql.Tx, a *Actor, q *Quote, status string) error {
	now := s.nowMS()
	sets := "status = ?, updated_at = ?, version = version + 1"
	args := []any{status, now}
	switch status {
	case QuoteSent:
		sets += ", sent_at = ?, decided_at = 0"
		args = append(args, now)
	case QuoteAccepted, QuoteRejected:
		sets += ", decided_at = ?"
		args = append(args, now)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE quotes SET `+sets+` WHERE id = ?`, append(args, q.ID)...); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, a, "status", "quotes", q.ID, map[string]any{"number": q.Number, "from": q.Status, "to": status}); err != nil {
		return err
	}
	return s.mirrorQuotes(ctx, tx, a, q.OpportunityID)
}

// DeleteQuote removes a quote for good; its number is not given again.
func (s *Store) DeleteQuote(ctx context.Context, a *Actor, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		q, err := s.editableQuote(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM quotes WHERE id = ?`, id); err != nil {
			return err
		}
		if err := s.mirrorQuotes(ctx, tx, a, q.OpportunityID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "quotes", id, map[string]any{"number": q.Number})
	})
}

// mirrorQuotes copies the state of an opportunity's quotes onto its
// read-only fields quote_status and quote_sent_at — accepted when one is
// accepted, otherwise the state of the last one sent (or a draft's) — and
// passes the change to workflow rules and history like any field change,
// so a rule such as "quote sent and not accepted after 7 days" runs on the
// opportunity.
func (s *Store) mirrorQuotes(ctx context.Context, tx *sql.Tx, a *Actor, oppID int64) error {
	var status string
	var sent int64
	err := tx.QueryRowContext(ctx, `SELECT status, sent_at FROM quotes WHERE opportunity_id = ?
		ORDER BY status = 'accepted' DESC, status <> 'draft' DESC, sent_at DESC, id DESC LIMIT 1`, oppID).Scan(&status, &sent)
	if err != nil && !isNoRows(err) {
		return err
	}
	d := s.def(EntOpportunities)
	cur, err := s.loadRecord(ctx, tx, SystemActor(), d, oppID, false)
	if err != nil {
		return err
	}
	oldStatus, oldSent := cur.Str("quote_status"), cur.Time("quote_sent_at")
	if oldStatus == status && ms(oldSent) == sent {
		return nil
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE opportunities SET quote_status = ?, quote_sent_at = ?, updated_at = ? WHERE id = ?`, status, sent, ms(now), oppID); err != nil {
		return err
	}
	newVals := make(map[string]any, len(cur.Values))
	for k, v := range cur.Values {
		newVals[k] = v
	}
	newVals["quote_status"], newVals["quote_sent_at"] = status, fromMS(sent)
	changed := map[string]bool{}
	if oldStatus != status {
		changed["quote_status"] = true
		f, _ := d.Field("quote_status")
		if err := s.history(ctx, tx, a, EntOpportunities, oppID, "quote_status", display(f, oldStatus), display(f, status), now); err != nil {
			return err
		}
	}
	if ms(oldSent) != sent {
		changed["quote_sent_at"] = true
	}
	return s.recordChanged(ctx, tx, &recordEvent{
		Actor: a, Def: d, ID: oppID, Old: cur.Values, New: newVals, OldCustom: cur.Custom, NewCustom: cur.Custom,
		Changed: changed, OldOwner: cur.OwnerID, Owner: cur.OwnerID, At: now,
	})
}

// ExpireQuotes marks expired every sent quote whose validity date has
// passed in the firm's time zone; the scheduler runs it on every pass.
func (s *Store) ExpireQuotes(ctx context.Context, now time.Time) (int, error) {
	today := now.In(s.companyLoc(ctx)).Format("2006-01-02")
	n := 0
	sys := SystemActor()
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM quotes WHERE status = 'sent' AND valid_until < ? ORDER BY id LIMIT 500`, today)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			q, err := s.loadQuote(ctx, tx, sys, id)
			if ErrorCode(err) == CodeNotFound {
				continue // its opportunity is in the trash
			}
			if err != nil {
				return err
			}
			if err := s.setQuoteStatus(ctx, tx, sys, q, QuoteExpired); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// QuoteEmail is the message a user sends a quote with; the store adds the
// signed download link.
type QuoteEmail struct {
	To      string
	Subject string
	Text    string
	// BaseURL is the server's public address ([server] base_url), under
	// which the download link is made.
	BaseURL string
	// PDF, when set, is the quote's PDF, attached to the e-mail (the
	// link stays in the text for mail programs that strip attachments).
	PDF *MailAttachment
}

// quoteLinkSig signs a quote id and expiry with the database's own key.
func quoteLinkSig(key []byte, id, exp int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("quote-pdf:" + strconv.FormatInt(id, 10) + ":" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// QuoteLinkPath is the path of a quote's public PDF link: the id, the
// expiry (Unix seconds) and the HMAC of both, so it cannot be guessed or
// stretched.
func QuoteLinkPath(id, exp int64, sig string) string {
	return "/q/" + strconv.FormatInt(id, 10) + ".pdf?" + url.Values{"e": {strconv.FormatInt(exp, 10)}, "s": {sig}}.Encode()
}

func (s *Store) quoteLink(ctx context.Context, q querier, base string, id int64) (string, time.Time, error) {
	var key []byte
	if err := q.QueryRowContext(ctx, `SELECT link_key FROM quote_settings WHERE id = 1`).Scan(&key); err != nil {
		return "", time.Time{}, err
	}
	exp := s.now().Add(QuoteLinkTTL).Truncate(time.Second)
	return strings.TrimRight(base, "/") + QuoteLinkPath(id, exp.Unix(), quoteLinkSig(key, id, exp.Unix())), exp, nil
}

// QuoteByLink returns the quote a public download link names when its
// signature is right and it has not expired; the signature is the
// permission (the client has no account), anything else is not_found.
func (s *Store) QuoteByLink(ctx context.Context, id, exp int64, sig string) (*Quote, error) {
	var key []byte
	if err := s.r.QueryRowContext(ctx, `SELECT link_key FROM quote_settings WHERE id = 1`).Scan(&key); err != nil {
		return nil, wrapErr(err)
	}
	if !hmac.Equal([]byte(sig), []byte(quoteLinkSig(key, id, exp))) || s.now().Unix() > exp {
		return nil, errNotFound()
	}
	q, err := s.FindQuote(ctx, SystemActor(), id)
	if err != nil {
		return nil, err
	}
	if q.Status == QuoteDraft {
		return nil, errNotFound()
	}
	return q, nil
}

// SendQuote e-mails a quote through the outbox with a signed, expiring
// link to its PDF (the outbox carries no attachments), logs the e-mail as
// an activity on the opportunity's timeline, and marks the quote sent
// with the time, all in one transaction. w writes the link line in the
// message's language.
func (s *Store) SendQuote(ctx context.Context, a *Actor, id int64, m QuoteEmail, w Words) (*Quote, error) {
	if w == nil {
		w = quoteWords{}
	}
	if !a.Can(EntActivities, ActCreate) {
		return nil, errForbidden()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		q, err := s.editableQuote(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if q.Status != QuoteDraft && q.Status != QuoteSent && q.Status != QuoteExpired {
			return errInvalid(map[string]string{"status": "quotes.error.status_move"})
		}
		if len(q.Lines) == 0 {
			return errInvalid(map[string]string{"lines": "quotes.error.no_lines"})
		}
		fe := fieldErrors{}
		if strings.TrimSpace(m.To) == "" {
			m.To = q.Email
		}
		var k string
		if m.To, k = normEmail(m.To); k != "" {
			if strings.TrimSpace(m.To) == "" {
				k = "error.no_email_address"
			}
			fe.add("to", k)
		}
		if m.Subject, k = cleanText(m.Subject, true, 300); k != "" {
			fe.add("subject", k)
		}
		if m.Text, k = cleanLongText(m.Text, 20000); k != "" {
			fe.add("body", k)
		}
		if _, err := url.ParseRequestURI(m.BaseURL); err != nil || !strings.HasPrefix(m.BaseURL, "http") {
			fe.add("base_url", "quotes.error.base_url")
		}
		if err := fe.err(); err != nil {
			return err
		}
		link, exp, err := s.quoteLink(ctx, tx, m.BaseURL, id)
		if err != nil {
			return err
		}
		text := strings.TrimSpace(m.Text + "\n\n" + w.T("quotes.email.link", "Number", q.Number, "Link", link, "Until", exp.In(s.companyLoc(ctx)).Format("02/01/2006")))
		actID, err := s.createRecord(ctx, tx, a, s.def(EntActivities), Input{Values: map[string]any{
			"type": "email", "subject": m.Subject, "description": text, "occurred_at": s.now().UTC().Format(time.RFC3339),
			"opportunity_id": q.OpportunityID, "outcome": "pending",
		}})
		if err != nil {
			return prefixFields(err, "activity.")
		}
		if _, _, err := s.enqueueEmail(ctx, tx, a, OutgoingEmail{
			Key: "quote:" + strconv.FormatInt(id, 10) + ":activity:" + strconv.FormatInt(actID, 10), To: m.To, ToName: q.ContactName, ReplyTo: a.Email,
			Subject: m.Subject, Text: text, Entity: EntOpportunities, RecordID: q.OpportunityID, Attachments: pdfAttachment(m.PDF),
		}); err != nil {
			return err
		}
		if q.Status == QuoteSent {
			// Sent again: the follow-up clock starts again.
			if _, err := tx.ExecContext(ctx, `UPDATE quotes SET sent_at = ?, updated_at = ? WHERE id = ?`, s.nowMS(), s.nowMS(), id); err != nil {
				return err
			}
			return s.mirrorQuotes(ctx, tx, a, q.OpportunityID)
		}
		return s.setQuoteStatus(ctx, tx, a, q, QuoteSent)
	})
	if err != nil {
		return nil, err
	}
	return s.FindQuote(ctx, a, id)
}

// pdfAttachment is the attachment list of a quote e-mail.
func pdfAttachment(a *MailAttachment) []MailAttachment {
	if a == nil {
		return nil
	}
	return []MailAttachment{*a}
}

// quoteWords is the English link line used when the caller gives no Words.
type quoteWords struct{}

func (quoteWords) Lang() string { return "en" }

func (quoteWords) T(key string, args ...any) string {
	m := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		v, _ := args[i+1].(string)
		m[k] = v
	}
	return "Quote " + m["Number"] + " (PDF, until " + m["Until"] + "): " + m["Link"]
}
