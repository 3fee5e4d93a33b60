package store_test

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cartera/store"
)

// quoteLines makes line inputs from rows of quantity, price, discount, rate.
func quoteLines(rows ...[4]string) *[]store.QuoteLineInput {
	var out []store.QuoteLineInput
	for i, r := range rows {
		l := store.QuoteLineInput{Quantity: r[0], UnitPrice: r[1], Discount: r[2], TaxRate: r[3]}
		if r != [4]string{} {
			l.Description = "Línia " + strconv.Itoa(i+1)
		}
		out = append(out, l)
	}
	return &out
}

// mustQuote creates a quote with one line on an opportunity.
func mustQuote(t *testing.T, s *store.Store, a *store.Actor, oppID int64) *store.Quote {
	t.Helper()
	q, err := s.CreateQuote(context.Background(), a, store.QuoteInput{OpportunityID: oppID, Lines: quoteLines([4]string{"1", "100", "", "21"})})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestStore_QuoteNumbering(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	opp := mustNewRecord(t, s, admin, store.EntOpportunities, map[string]any{"name": "Reforma"})
	year := strconv.Itoa(time.Now().In(mustLoc(t, "Europe/Madrid")).Year())

	t.Run("concurrent creations get distinct consecutive numbers", func(t *testing.T) {
		const n = 24
		var wg sync.WaitGroup
		nums := make(chan string, n)
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Go(func() {
				q, err := s.CreateQuote(ctx, admin, store.QuoteInput{OpportunityID: opp.ID, Lines: quoteLines([4]string{"1", "10", "", "21"})})
				if err != nil {
					errs <- err
					return
				}
				nums <- q.Number
			})
		}
		wg.Wait()
		close(nums)
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for num := range nums {
			if seen[num] {
				t.Fatalf("number %s given twice", num)
			}
			seen[num] = true
		}
		for i := 1; i <= n; i++ {
			want := "P" + year + "-" + pad4T(i)
			if !seen[want] {
				t.Fatalf("missing %s in %v", want, seen)
			}
		}
	})
	t.Run("a deleted quote's number is never given again", func(t *testing.T) {
		qs, err := s.FindQuotes(ctx, admin, store.QuoteFilter{OpportunityID: opp.ID})
		if err != nil {
			t.Fatal(err)
		}
		last := qs[0] // newest first
		if err := s.DeleteQuote(ctx, admin, last.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.FindQuote(ctx, admin, last.ID)
		wantCode(t, err, store.CodeNotFound)
		q := mustQuote(t, s, admin, opp.ID)
		if q.Number != "P"+year+"-0025" {
			t.Fatalf("after deleting %s the next number is %s", last.Number, q.Number)
		}
	})
	t.Run("each year counts from one, with the prefix of the day", func(t *testing.T) {
		if err := s.SaveQuoteSettings(ctx, admin, store.QuoteSettings{Prefix: "PRE-", ValidityDays: 15}); err != nil {
			t.Fatal(err)
		}
		d := "2031-02-03"
		q, err := s.CreateQuote(ctx, admin, store.QuoteInput{OpportunityID: opp.ID, IssueDate: &d})
		if err != nil {
			t.Fatal(err)
		}
		if q.Number != "PRE-2031-0001" || q.ValidUntil != "2031-02-18" {
			t.Fatalf("number %s valid until %s", q.Number, q.ValidUntil)
		}
		err = s.SaveQuoteSettings(ctx, admin, store.QuoteSettings{Prefix: "A B", ValidityDays: 0})
		wantField(t, err, "prefix")
		wantField(t, err, "validity_days")
	})
}

func pad4T(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestStore_QuoteTotals checks the documented rule: each line's net
// (quantity × price less the discount) and its tax are rounded to cents,
// half away from zero, and the totals are the sums of the rounded lines.
func TestStore_QuoteTotals(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	opp := mustNewRecord(t, s, admin, store.EntOpportunities, map[string]any{"name": "Oficina"})

	t.Run("mixed tax rates and discounts", func(t *testing.T) {
		q, err := s.CreateQuote(ctx, admin, store.QuoteInput{OpportunityID: opp.ID, Lines: quoteLines(
			[4]string{"3", "19,99", "10", "21"}, // 53.973 → 53.97; tax 11.3337 → 11.33
			[4]string{"2.5", "12.34", "", "10"}, // 30.85; tax 3.085 → 3.09
			[4]string{"1", "0.12", "", "21"},    // tax 0.0252 → 0.03
			[4]string{"1", "0.12", "", "21"},    // (0.36 × 21 % at once would be 0.08)
			[4]string{"1", "0.12", "", "21"},    //
			[4]string{"7", "0.35", "12,5", "0"}, // 2.14375 → 2.14
			[4]string{"4", "2.5", "0", "4%"},    // 10.00; tax 0.40
			[4]string{"", "", "", ""},           // a blank form row: ignored
		)})
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Lines) != 7 {
			t.Fatalf("%d lines", len(q.Lines))
		}
		nets := []int64{5397, 3085, 12, 12, 12, 214, 1000}
		taxes := []int64{1133, 309, 3, 3, 3, 0, 40}
		for i, l := range q.Lines {
			if l.NetCents != nets[i] || l.TaxCents != taxes[i] {
				t.Errorf("line %d: net %d tax %d, want %d %d", i+1, l.NetCents, l.TaxCents, nets[i], taxes[i])
			}
		}
		want := []store.TaxTotal{{RateBP: 2100, BaseCents: 5433, TaxCents: 1142}, {RateBP: 1000, BaseCents: 3085, TaxCents: 309}, {RateBP: 400, BaseCents: 1000, TaxCents: 40}, {RateBP: 0, BaseCents: 214, TaxCents: 0}}
		if len(q.Taxes) != len(want) {
			t.Fatalf("taxes = %+v", q.Taxes)
		}
		for i := range want {
			if q.Taxes[i] != want[i] {
				t.Errorf("tax total %d = %+v, want %+v", i, q.Taxes[i], want[i])
			}
		}
		if q.SubtotalCents != 9732 || q.TaxCents != 1491 || q.TotalCents != 11223 {
			t.Fatalf("subtotal %d tax %d total %d", q.SubtotalCents, q.TaxCents, q.TotalCents)
		}
	})
	t.Run("half a cent rounds away from zero", func(t *testing.T) {
		l := store.QuoteLine{QuantityMilli: 1000, UnitPriceCents: 5, DiscountBP: 5000, TaxRateBP: 1000}
		store.ComputeLine(&l)
		if l.NetCents != 3 || l.TaxCents != 0 {
			t.Fatalf("net %d tax %d", l.NetCents, l.TaxCents)
		}
	})
	t.Run("a product line takes the catalogue's price, rate and name", func(t *testing.T) {
		p, err := s.SaveProduct(ctx, admin, 0, store.ProductInput{Code: "CAD-01", Name: "Cadira ergonòmica", UnitPrice: "149,90", TaxRate: "21", Unit: "u", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		q, err := s.CreateQuote(ctx, admin, store.QuoteInput{OpportunityID: opp.ID, Lines: &[]store.QuoteLineInput{{ProductID: p.ID, Quantity: "2"}}})
		if err != nil {
			t.Fatal(err)
		}
		l := q.Lines[0]
		if l.Description != "Cadira ergonòmica" || l.UnitPriceCents != 14990 || l.TaxRateBP != 2100 || l.NetCents != 29980 || l.TaxCents != 6296 || l.ProductCode != "CAD-01" {
			t.Fatalf("line = %+v", l)
		}
	})
	t.Run("bad lines are refused and change nothing", func(t *testing.T) {
		before, _ := s.FindQuotes(ctx, admin, store.QuoteFilter{})
		for name, row := range map[string][4]string{
			"unknown tax rate":  {"1", "10", "", "7"},
			"discount over 100": {"1", "10", "101", "21"},
			"negative price":    {"1", "-1", "", "21"},
			"zero quantity":     {"0", "10", "", "21"},
			"too many decimals": {"1", "10.001", "", "21"},
		} {
			_, err := s.CreateQuote(ctx, admin, store.QuoteInput{OpportunityID: opp.ID, Lines: quoteLines(row)})
			if store.ErrorCode(err) != store.CodeInvalid {
				t.Errorf("%s: %v", name, err)
			}
		}
		after, _ := s.FindQuotes(ctx, admin, store.QuoteFilter{})
		if len(after) != len(before) {
			t.Fatalf("%d quotes, then %d", len(before), len(after))
		}
	})
}

func TestStore_QuoteScope(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	marta := mustUser(t, s, admin, "marta@example.com", "salesperson")
	opp := mustNewRecord(t, s, joan, store.EntOpportunities, map[string]any{"name": "Joan's"})
	q := mustQuote(t, s, joan, opp.ID)
	t.Run("another salesperson's quote is not found", func(t *testing.T) {
		_, err := s.FindQuote(ctx, marta, q.ID)
		wantCode(t, err, store.CodeNotFound)
		_, err = s.UpdateQuote(ctx, marta, q.ID, store.QuoteInput{Notes: new("x")})
		wantCode(t, err, store.CodeNotFound)
		wantCode(t, s.DeleteQuote(ctx, marta, q.ID), store.CodeNotFound)
		_, err = s.CreateQuote(ctx, marta, store.QuoteInput{OpportunityID: opp.ID})
		wantField(t, err, "opportunity_id")
		list, err := s.FindQuotes(ctx, marta, store.QuoteFilter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("marta lists %d quotes (%v)", len(list), err)
		}
	})
	t.Run("the owner and the admin see it", func(t *testing.T) {
		for _, a := range []*store.Actor{joan, admin} {
			if _, err := s.FindQuote(ctx, a, q.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("the catalogue is read by sales, changed by settings", func(t *testing.T) {
		_, err := s.SaveProduct(ctx, joan, 0, store.ProductInput{Code: "X", Name: "X", TaxRate: "21"})
		wantCode(t, err, store.CodeForbidden)
		if _, err := s.FindProducts(ctx, joan, store.ProductFilter{}); err != nil {
			t.Fatal(err)
		}
	})
}

// linkRe finds the signed PDF link in a sent e-mail.
var linkRe = regexp.MustCompile(`https?://\S+/q/(\d+)\.pdf\?\S+`)

func TestStore_QuoteLifecycle(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	acc := mustNewRecord(t, s, joan, store.EntAccounts, map[string]any{"name": "Fusteria Puigdomènech", "email": "info@fusteria.cat"})
	opp := mustNewRecord(t, s, joan, store.EntOpportunities, map[string]any{"name": "Taulells", "account_id": acc.ID, "stage": "proposal"})
	q := mustQuote(t, s, joan, opp.ID)

	t.Run("sending queues the e-mail with a signed link, logs it and marks the quote sent", func(t *testing.T) {
		_, err := s.SendQuote(ctx, joan, q.ID, store.QuoteEmail{Subject: "Pressupost", Text: "Bon dia", BaseURL: "https://crm.example.com"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.FindQuote(ctx, joan, q.ID)
		if got.Status != store.QuoteSent || !got.SentAt.Equal(clk.Now().Truncate(time.Millisecond)) {
			t.Fatalf("status %s sent %v", got.Status, got.SentAt)
		}
		msgs, err := s.FindOutbox(ctx, admin, store.OutboxFilter{})
		if err != nil || len(msgs) != 1 || msgs[0].To != "info@fusteria.cat" {
			t.Fatalf("outbox = %+v %v", msgs, err)
		}
		m := linkRe.FindStringSubmatch(msgs[0].Text)
		if m == nil {
			t.Fatalf("no link in %q", msgs[0].Text)
		}
		u, _ := url.Parse(m[0])
		exp, _ := strconv.ParseInt(u.Query().Get("e"), 10, 64)
		if _, err := s.QuoteByLink(ctx, q.ID, exp, u.Query().Get("s")); err != nil {
			t.Fatalf("the link does not open: %v", err)
		}
		_, err = s.QuoteByLink(ctx, q.ID, exp+1, u.Query().Get("s"))
		wantCode(t, err, store.CodeNotFound)
		_, err = s.QuoteByLink(ctx, q.ID+1, exp, u.Query().Get("s"))
		wantCode(t, err, store.CodeNotFound)
		tl, err := s.Timeline(ctx, joan, store.EntOpportunities, opp.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		logged := false
		for _, it := range tl {
			if it.Kind == "activity" && it.Type == "email" && it.Subject == "Pressupost" {
				logged = true
			}
		}
		if !logged {
			t.Fatalf("no e-mail activity on the timeline: %+v", tl)
		}
		r, _ := s.FindRecord(ctx, joan, store.EntOpportunities, opp.ID)
		if r.Str("quote_status") != "sent" || r.Time("quote_sent_at").IsZero() {
			t.Fatalf("mirror: %v %v", r.Str("quote_status"), r.Time("quote_sent_at"))
		}
	})
	t.Run("a sent quote is not edited any more", func(t *testing.T) {
		_, err := s.UpdateQuote(ctx, joan, q.ID, store.QuoteInput{Notes: new("canvi")})
		wantCode(t, err, store.CodeConflict)
	})
	t.Run("accepting sets the opportunity's amount and stage", func(t *testing.T) {
		_, err := s.SetQuoteStatus(ctx, joan, q.ID, store.QuoteDraft, store.AcceptOptions{})
		wantField(t, err, "status")
		got, err := s.SetQuoteStatus(ctx, joan, q.ID, store.QuoteAccepted, store.AcceptOptions{SetAmount: true, Stage: "won"})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := s.FindRecord(ctx, joan, store.EntOpportunities, opp.ID)
		if got.Status != "accepted" || r.Float("amount") != 100 || r.Str("stage") != "won" || r.Str("quote_status") != "accepted" {
			t.Fatalf("quote %s, opportunity amount %v stage %s mirror %s", got.Status, r.Float("amount"), r.Str("stage"), r.Str("quote_status"))
		}
	})
	t.Run("a sent quote past its validity expires", func(t *testing.T) {
		q2 := mustQuote(t, s, joan, opp.ID)
		if _, err := s.SetQuoteStatus(ctx, joan, q2.ID, store.QuoteSent, store.AcceptOptions{}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.ExpireQuotes(ctx, clk.Now()); err != nil || n != 0 {
			t.Fatalf("expired %d %v on day one", n, err)
		}
		clk.Advance(32 * 24 * time.Hour)
		if n, err := s.ExpireQuotes(ctx, clk.Now()); err != nil || n != 1 {
			t.Fatalf("expired %d %v", n, err)
		}
		got, _ := s.FindQuote(ctx, joan, q2.ID)
		if got.Status != store.QuoteExpired {
			t.Fatalf("status %s", got.Status)
		}
		_, err := s.QuoteByLink(ctx, q.ID, clk.Now().Add(-time.Hour).Unix(), "x")
		wantCode(t, err, store.CodeNotFound)
	})
}

// TestStore_QuoteFollowUp runs the ready-made rule "quote sent and not
// accepted after 7 days → task for the owner" on a fake clock.
func TestStore_QuoteFollowUp(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	w, err := s.CreateBuiltinWorkflow(ctx, admin, "quote_follow_up", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetWorkflowEnabled(ctx, admin, w.ID, true, false); err != nil {
		t.Fatal(err)
	}
	waiting := mustNewRecord(t, s, joan, store.EntOpportunities, map[string]any{"name": "Sense resposta"})
	accepted := mustNewRecord(t, s, joan, store.EntOpportunities, map[string]any{"name": "Acceptada"})
	draft := mustNewRecord(t, s, joan, store.EntOpportunities, map[string]any{"name": "Esborrany"})
	qw, qa := mustQuote(t, s, joan, waiting.ID), mustQuote(t, s, joan, accepted.ID)
	mustQuote(t, s, joan, draft.ID)
	for _, id := range []int64{qw.ID, qa.ID} {
		if _, err := s.SetQuoteStatus(ctx, joan, id, store.QuoteSent, store.AcceptOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tasksOf := func(opp int64) []*store.Record {
		tasks, _, err := s.FindRecords(ctx, admin, store.EntTasks, store.Filter{Eq: map[string]string{"opportunity_id": itoaT(opp)}})
		if err != nil {
			t.Fatal(err)
		}
		return tasks
	}
	t.Run("nothing before 7 days", func(t *testing.T) {
		clk.Advance(3 * 24 * time.Hour)
		if _, err := s.SetQuoteStatus(ctx, joan, qa.ID, store.QuoteAccepted, store.AcceptOptions{}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(3 * 24 * time.Hour)
		mustRun(t, s, clk.Now())
		if n := len(tasksOf(waiting.ID)); n != 0 {
			t.Fatalf("%d tasks after 6 days", n)
		}
	})
	t.Run("a task for the owner after 7 days, only where the quote is still unanswered", func(t *testing.T) {
		clk.Advance(24*time.Hour + time.Minute)
		mustRun(t, s, clk.Now())
		tasks := tasksOf(waiting.ID)
		if len(tasks) != 1 || tasks[0].OwnerID != joan.UserID {
			t.Fatalf("tasks = %d", len(tasks))
		}
		if n := len(tasksOf(accepted.ID)) + len(tasksOf(draft.ID)); n != 0 {
			t.Fatalf("%d tasks on the accepted or draft quotes' opportunities", n)
		}
	})
}

func TestStore_Products(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	t.Run("codes are unique, ignoring case", func(t *testing.T) {
		if _, err := s.SaveProduct(ctx, admin, 0, store.ProductInput{Code: "SRV-1", Name: "Instal·lació", UnitPrice: "80", TaxRate: "21", Active: true}); err != nil {
			t.Fatal(err)
		}
		_, err := s.SaveProduct(ctx, admin, 0, store.ProductInput{Code: "srv-1", Name: "Una altra", TaxRate: "21"})
		wantCode(t, err, store.CodeConflict)
	})
	t.Run("bad input is refused", func(t *testing.T) {
		_, err := s.SaveProduct(ctx, admin, 0, store.ProductInput{Code: "", Name: "", UnitPrice: "abc", TaxRate: "15"})
		for _, f := range []string{"code", "name", "unit_price", "tax_rate"} {
			wantField(t, err, f)
		}
	})
	t.Run("the tax rate list is editable", func(t *testing.T) {
		if err := s.SetTaxRates(ctx, admin, []store.TaxRate{{RateBP: 2100, Name: "IVA general"}, {RateBP: 1000}, {RateBP: 550, Name: "Reduït"}, {RateBP: 0}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveProduct(ctx, admin, 0, store.ProductInput{Code: "LLI-1", Name: "Llibre", UnitPrice: "20", TaxRate: "5,5", Active: true}); err != nil {
			t.Fatal(err)
		}
		_, err := s.SaveProduct(ctx, admin, 0, store.ProductInput{Code: "X-4", Name: "X", TaxRate: "4"})
		wantField(t, err, "tax_rate")
	})
	t.Run("CSV export imports back; a bad row changes nothing", func(t *testing.T) {
		var buf bytes.Buffer
		if err := s.ExportProductsCSV(ctx, admin, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), "code,name,description,unit_price,tax_rate,unit,active\n") || !strings.Contains(buf.String(), "LLI-1,Llibre,,20.00,5.5,,1") {
			t.Fatalf("export:\n%s", buf.String())
		}
		res, err := s.ImportProductsCSV(ctx, admin, &buf)
		if err != nil || res.Updated != 2 || res.Created != 0 {
			t.Fatalf("re-import: %+v %v", res, err)
		}
		bad := "\xef\xbb\xbfcode;name;unit_price;tax_rate\nNOU-1;Nou;12,50;10\nNOU-2;Dolent;x;21\n"
		_, err = s.ImportProductsCSV(ctx, admin, strings.NewReader(bad))
		wantField(t, err, "3.unit_price")
		ps, _ := s.FindProducts(ctx, admin, store.ProductFilter{})
		if len(ps) != 2 {
			t.Fatalf("%d products after a refused import", len(ps))
		}
		res, err = s.ImportProductsCSV(ctx, admin, strings.NewReader(strings.Replace(bad, ";x;", ";3;", 1)))
		if err != nil || res.Created != 2 {
			t.Fatalf("import: %+v %v", res, err)
		}
		ps, _ = s.FindProducts(ctx, admin, store.ProductFilter{Query: "nou-1"})
		if len(ps) != 1 || ps[0].UnitPriceCents != 1250 || ps[0].TaxRateBP != 1000 {
			t.Fatalf("imported: %+v", ps)
		}
	})
}

func TestStore_QuoteReports(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	marta := mustUser(t, s, admin, "marta@example.com", "salesperson")
	move := func(a *store.Actor, q *store.Quote, sts ...string) {
		for _, st := range sts {
			if _, err := s.SetQuoteStatus(ctx, a, q.ID, st, store.AcceptOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	oj := mustNewRecord(t, s, joan, store.EntOpportunities, map[string]any{"name": "J"})
	om := mustNewRecord(t, s, marta, store.EntOpportunities, map[string]any{"name": "M"})
	move(joan, mustQuote(t, s, joan, oj.ID), "sent", "accepted")
	move(joan, mustQuote(t, s, joan, oj.ID), "sent")
	mustQuote(t, s, joan, oj.ID)
	move(marta, mustQuote(t, s, marta, om.ID), "sent", "rejected")
	t.Run("acceptance rate per salesperson", func(t *testing.T) {
		res, err := s.RunStandardReport(ctx, admin, "quotes", store.ReportParams{By: "owner"})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]any{}
		for _, r := range res.Rows {
			got[r[0].(string)] = r // the salesperson's name
		}
		if j := got[joan.Name]; j == nil || j[1] != int64(3) || j[2] != int64(2) || j[3] != int64(1) || j[4] != 50.0 || j[5] != 100.0 {
			t.Fatalf("joan: %v", j)
		}
		if m := got[marta.Name]; m == nil || m[3] != int64(0) || m[4] != 0.0 {
			t.Fatalf("marta: %v", m)
		}
	})
	t.Run("by status and amount, in the viewer's scope", func(t *testing.T) {
		res, err := s.RunStandardReport(ctx, joan, "quotes", store.ReportParams{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 3 || res.Rows[0][0] != "draft" || res.Rows[2][0] != "accepted" || res.Totals[1] != int64(3) || res.Totals[3] != 363.0 {
			t.Fatalf("rows %v totals %v", res.Rows, res.Totals)
		}
	})
}
