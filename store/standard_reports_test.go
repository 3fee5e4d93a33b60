package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cartera/store"
)

// reportFixture is a small firm on a fixed clock (Monday 2 March 2026,
// Europe/Madrid): an administrator and a salesperson, one account each,
// five opportunities, three activities and three leads, with the numbers
// each report must show worked out by hand in the test.
type reportFixture struct {
	s            *store.Store
	clock        *fakeClock
	admin, sales *store.Actor
	opp          map[string]int64
}

func newReportFixture(t *testing.T) *reportFixture {
	t.Helper()
	ctx := context.Background()
	clock := newFakeClock() // 2026-03-02 09:00 UTC, a Monday
	s := mustOpenStoreOpts(t, store.Options{Now: clock.Now})
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
	f := &reportFixture{s: s, clock: clock, admin: admin, sales: sales, opp: map[string]int64{}}
	mk := func(a *store.Actor, e store.Entity, vals map[string]any) int64 {
		t.Helper()
		r, err := s.CreateRecord(ctx, a, e, store.Input{Values: vals})
		if err != nil {
			t.Fatalf("%s %v: %v", e, vals, err)
		}
		return r.ID
	}
	a1 := mk(admin, store.EntAccounts, map[string]any{"name": "Forn Puig"})
	a2 := mk(sales, store.EntAccounts, map[string]any{"name": "Bar Sol"})
	opp := func(a *store.Actor, name string, acc int64, amount float64, stage, closeDate, cat string) {
		f.opp[name] = mk(a, store.EntOpportunities, map[string]any{"name": name, "account_id": acc, "amount": amount, "stage": stage, "expected_close_date": closeDate, "forecast_category": cat})
	}
	opp(admin, "O1", a1, 1000, "proposal", "2026-03-20", "commit")
	opp(admin, "O2", a1, 3000, "negotiation", "2026-05-10", "best_case")
	opp(sales, "O3", a2, 500, "qualification", "2026-03-25", "pipeline")
	opp(sales, "O4", a2, 2000, "proposal", "2026-03-30", "commit")
	opp(admin, "O5", a1, 700, "proposal", "2026-03-30", "pipeline")
	at := clock.Now().Format(time.RFC3339)
	mk(admin, store.EntActivities, map[string]any{"type": "call", "subject": "Call", "occurred_at": at, "outcome": "positive", "opportunity_id": f.opp["O1"]})
	mk(admin, store.EntActivities, map[string]any{"type": "meeting", "subject": "Meeting", "occurred_at": at, "outcome": "negative"})
	mk(sales, store.EntActivities, map[string]any{"type": "call", "subject": "Call", "occurred_at": at, "outcome": "positive", "opportunity_id": f.opp["O3"]})
	mk(admin, store.EntLeads, map[string]any{"last_name": "L1", "source": "web_form"})
	mk(sales, store.EntLeads, map[string]any{"last_name": "L2", "source": "web_form"})
	mk(admin, store.EntLeads, map[string]any{"last_name": "L3", "source": "event"})
	if _, err := s.SaveGoal(ctx, admin, 0, store.GoalInput{UserID: sales.UserID, Metric: "won_amount", Period: "quarter", Start: "2026-Q1", Target: 4000}); err != nil {
		t.Fatal(err)
	}
	// A day later: O4 won (A2's first win: a new client), O5 lost on price,
	// O1 advanced a stage the day after its call.
	clock.Advance(24 * time.Hour)
	up := func(a *store.Actor, name string, vals map[string]any) {
		t.Helper()
		if _, err := s.UpdateRecord(ctx, a, store.EntOpportunities, f.opp[name], store.Input{Values: vals}); err != nil {
			t.Fatal(err)
		}
	}
	up(sales, "O4", map[string]any{"stage": "won"})
	up(admin, "O5", map[string]any{"stage": "lost", "lost_reason": "price"})
	up(admin, "O1", map[string]any{"stage": "negotiation"})
	if _, err := s.CreateSession(ctx, sales.UserID, "", "", nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// run runs a report and returns its rows keyed by the first column's text.
func (f *reportFixture) run(t *testing.T, a *store.Actor, key string, p store.ReportParams) (*store.ReportResult, map[string][]any) {
	t.Helper()
	res, err := f.s.RunStandardReport(context.Background(), a, key, p)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if len(res.Columns) != len(res.Kinds) {
		t.Fatalf("%s: %d columns, %d kinds", key, len(res.Columns), len(res.Kinds))
	}
	byKey := map[string][]any{}
	for _, r := range res.Rows {
		if len(r) != len(res.Columns) {
			t.Fatalf("%s: row %v has %d cells for %d columns", key, r, len(r), len(res.Columns))
		}
		byKey[fmt.Sprint(r[0])] = r
	}
	return res, byKey
}

// col returns a row's cell by column name.
func col(t *testing.T, res *store.ReportResult, row []any, name string) any {
	t.Helper()
	for i, c := range res.Columns {
		if c == name {
			return row[i]
		}
	}
	t.Fatalf("%s: no column %q in %v", res.Key, name, res.Columns)
	return nil
}

// wantCells compares named cells of a row with expected values (numbers
// compared as float64, nil as nil).
func wantCells(t *testing.T, res *store.ReportResult, row []any, want map[string]any) {
	t.Helper()
	if row == nil {
		t.Fatalf("%s: missing row (want %v)", res.Key, want)
	}
	for name, w := range want {
		got := col(t, res, row, name)
		if w == nil {
			if got != nil {
				t.Errorf("%s %v: %s = %v, want nil", res.Key, row[0], name, got)
			}
			continue
		}
		switch wv := w.(type) {
		case string, bool:
			if got != wv {
				t.Errorf("%s %v: %s = %v, want %v", res.Key, row[0], name, got, w)
			}
		default:
			if toF(got) != toF(w) {
				t.Errorf("%s %v: %s = %v, want %v", res.Key, row[0], name, got, w)
			}
		}
	}
}

// TestStore_RunStandardReport checks each standard report's numbers on the
// fixture against hand-computed figures, as the administrator (everything)
// and as the salesperson (own records only).
func TestStore_RunStandardReport(t *testing.T) {
	f := newReportFixture(t)
	admin, sales := f.admin, f.sales
	an, sn := admin.Name, sales.Name
	t.Run("pipeline", func(t *testing.T) {
		res, rows := f.run(t, admin, "pipeline", store.ReportParams{})
		wantCells(t, res, rows["qualification"], map[string]any{"count": int64(1), "amount": 500.0, "weighted_amount": 100.0})
		wantCells(t, res, rows["negotiation"], map[string]any{"count": int64(2), "amount": 4000.0, "weighted_amount": 3000.0})
		wantCells(t, res, rows["reception"], map[string]any{"count": int64(0)})
		if res.Rows[0][0] != "reception" || res.Chart.Kind != "funnel" || toF(res.Totals[2]) != 4500 || toF(res.Totals[3]) != 3100 {
			t.Errorf("order/chart/totals: %v %v %v", res.Rows, res.Chart, res.Totals)
		}
		res, rows = f.run(t, sales, "pipeline", store.ReportParams{})
		wantCells(t, res, rows["qualification"], map[string]any{"count": int64(1), "amount": 500.0})
		wantCells(t, res, rows["negotiation"], map[string]any{"count": int64(0)})
		res, rows = f.run(t, admin, "pipeline", store.ReportParams{By: "owner"})
		wantCells(t, res, rows[an], map[string]any{"count": int64(2), "amount": 4000.0})
		wantCells(t, res, rows[sn], map[string]any{"count": int64(1), "amount": 500.0})
		_, rows = f.run(t, admin, "pipeline", store.ReportParams{OwnerID: sales.UserID, By: "owner"})
		if len(rows) != 1 || rows[sn] == nil {
			t.Errorf("owner filter: %v", rows)
		}
	})
	t.Run("closed_opportunities", func(t *testing.T) {
		res, rows := f.run(t, admin, "closed_opportunities", store.ReportParams{})
		if len(res.Rows) != 12 || res.Rows[11][0] != "2026-03" {
			t.Fatalf("months: %v", res.Rows)
		}
		wantCells(t, res, rows["2026-03"], map[string]any{"won": int64(1), "lost": int64(1), "win_rate": 50.0, "won_amount": 2000.0, "avg_deal_size": 2000.0, "avg_sales_cycle_days": 1.0})
		wantCells(t, res, rows["2026-02"], map[string]any{"won": int64(0), "win_rate": nil})
		res, rows = f.run(t, sales, "closed_opportunities", store.ReportParams{})
		wantCells(t, res, rows["2026-03"], map[string]any{"won": int64(1), "lost": int64(0), "win_rate": 100.0})
		res, rows = f.run(t, admin, "closed_opportunities", store.ReportParams{By: "lost_reason"})
		wantCells(t, res, rows["price"], map[string]any{"lost": int64(1), "lost_amount": 700.0})
		res, rows = f.run(t, admin, "closed_opportunities", store.ReportParams{By: "owner"})
		wantCells(t, res, rows[sn], map[string]any{"won": int64(1), "won_amount": 2000.0})
		wantCells(t, res, rows[an], map[string]any{"lost": int64(1), "won_amount": 0.0})
	})
	t.Run("forecast", func(t *testing.T) {
		res, rows := f.run(t, admin, "forecast", store.ReportParams{})
		if res.From.Format("2006-01-02") != "2026-01-01" || res.To.Format("2006-01-02") != "2026-04-01" {
			t.Errorf("quarter %v – %v", res.From, res.To)
		}
		wantCells(t, res, rows[an], map[string]any{"commit": 1000.0, "best_case": 0.0, "pipeline": 0.0, "closed_won": 0.0, "goal": nil})
		wantCells(t, res, rows[sn], map[string]any{"commit": 0.0, "pipeline": 500.0, "closed_won": 2000.0, "goal": 4000.0, "attainment": 50.0})
		if toF(res.Totals[4]) != 2000 || toF(res.Totals[5]) != 4000 || toF(res.Totals[6]) != 50 {
			t.Errorf("totals %v", res.Totals)
		}
		_, rows = f.run(t, sales, "forecast", store.ReportParams{})
		if len(rows) != 1 || rows[sn] == nil {
			t.Errorf("salesperson sees %v", rows)
		}
		_, rows = f.run(t, admin, "forecast", store.ReportParams{Quarter: "2026-Q2"})
		wantCells(t, res, rows[an], map[string]any{"best_case": 3000.0})
	})
	t.Run("sales_performance", func(t *testing.T) {
		res, rows := f.run(t, admin, "sales_performance", store.ReportParams{})
		wantCells(t, res, rows[an], map[string]any{"activities": int64(2), "opportunities_created": int64(3), "won": int64(0), "lost": int64(1), "win_rate": 0.0, "goal": nil})
		// The quarter's goal of 4,000 prorated to March is 1,333.33.
		wantCells(t, res, rows[sn], map[string]any{"activities": int64(1), "opportunities_created": int64(2), "won": int64(1), "won_amount": 2000.0, "goal": 1333.33, "attainment": 150.0})
		_, rows = f.run(t, sales, "sales_performance", store.ReportParams{})
		if len(rows) != 1 || rows[sn] == nil {
			t.Errorf("salesperson sees %v", rows)
		}
	})
	t.Run("goals", func(t *testing.T) {
		res, _ := f.run(t, admin, "goals", store.ReportParams{})
		if len(res.Rows) != 1 {
			t.Fatalf("rows %v", res.Rows)
		}
		row := res.Rows[0]
		wantCells(t, res, row, map[string]any{"subject": sn, "metric": "won_amount", "period": "2026-Q1", "target": 4000.0, "actual": 2000.0, "attainment": 50.0})
		res, _ = f.run(t, sales, "goals", store.ReportParams{})
		if len(res.Rows) != 1 || toF(col(t, res, res.Rows[0], "actual")) != 2000 {
			t.Errorf("salesperson's goals: %v", res.Rows)
		}
	})
	t.Run("lead_sources", func(t *testing.T) {
		res, rows := f.run(t, admin, "lead_sources", store.ReportParams{})
		wantCells(t, res, rows["web_form"], map[string]any{"leads": int64(2), "converted": int64(0), "conversion_rate": 0.0})
		wantCells(t, res, rows["event"], map[string]any{"leads": int64(1)})
		res, rows = f.run(t, sales, "lead_sources", store.ReportParams{})
		if len(rows) != 1 {
			t.Errorf("salesperson sees %v", rows)
		}
		wantCells(t, res, rows["web_form"], map[string]any{"leads": int64(1)})
	})
	t.Run("lead_lifecycle", func(t *testing.T) {
		res, rows := f.run(t, admin, "lead_lifecycle", store.ReportParams{})
		wantCells(t, res, rows["2026-03"], map[string]any{"created": int64(3), "lead_status:new": int64(3), "conversion_rate": 0.0, "avg_days_to_convert": nil})
		if res.Chart.Kind != "stacked_bar" {
			t.Errorf("chart %v", res.Chart)
		}
	})
	t.Run("active_accounts", func(t *testing.T) {
		res, rows := f.run(t, admin, "active_accounts", store.ReportParams{})
		wantCells(t, res, rows[an], map[string]any{"active_accounts": int64(1), "with_activity": int64(1), "with_open_opportunities": int64(1)})
		wantCells(t, res, rows[sn], map[string]any{"active_accounts": int64(1), "with_activity": int64(1), "with_open_opportunities": int64(1)})
	})
	t.Run("account_owners", func(t *testing.T) {
		res, rows := f.run(t, admin, "account_owners", store.ReportParams{})
		wantCells(t, res, rows[an], map[string]any{"accounts": int64(1), "open_opportunities": int64(2), "pipeline_amount": 4000.0})
		wantCells(t, res, rows[sn], map[string]any{"accounts": int64(1), "open_opportunities": int64(1), "pipeline_amount": 500.0})
		// Accounts are visible to salespeople, opportunities only their own.
		res, rows = f.run(t, sales, "account_owners", store.ReportParams{})
		wantCells(t, res, rows[an], map[string]any{"accounts": int64(1), "open_opportunities": int64(0)})
	})
	t.Run("new_clients", func(t *testing.T) {
		res, rows := f.run(t, admin, "new_clients", store.ReportParams{})
		if len(rows) != 1 {
			t.Errorf("rows %v", res.Rows)
		}
		wantCells(t, res, rows[sn], map[string]any{"new_clients": int64(1), "first_deal_amount": 2000.0})
		res, _ = f.run(t, admin, "new_clients", store.ReportParams{By: "account"})
		if len(res.Rows) != 1 || res.Rows[0][1] != "Bar Sol" || res.Rows[0][3] != "2026-03-03" {
			t.Errorf("accounts %v", res.Rows)
		}
	})
	t.Run("activities", func(t *testing.T) {
		res, rows := f.run(t, admin, "activities", store.ReportParams{})
		wantCells(t, res, rows["call"], map[string]any{"total": int64(2), "activity_outcome:positive": int64(2), "effectiveness": 100.0, "linked_to_deal": int64(2), "advanced": int64(1), "advance_rate": 50.0})
		wantCells(t, res, rows["meeting"], map[string]any{"total": int64(1), "activity_outcome:negative": int64(1), "effectiveness": 0.0, "linked_to_deal": int64(0), "advance_rate": nil})
		res, rows = f.run(t, sales, "activities", store.ReportParams{})
		wantCells(t, res, rows["call"], map[string]any{"total": int64(1), "advanced": int64(0)})
		if rows["meeting"] != nil {
			t.Errorf("salesperson sees the admin's meeting")
		}
		res, rows = f.run(t, admin, "activities", store.ReportParams{By: "owner"})
		wantCells(t, res, rows[an], map[string]any{"total": int64(2)})
	})
	t.Run("contact_roles", func(t *testing.T) {
		res, _ := f.run(t, admin, "contact_roles", store.ReportParams{})
		if len(res.Rows) != 0 {
			t.Errorf("no deal has contacts: %v", res.Rows)
		}
		f.run(t, admin, "contact_roles", store.ReportParams{By: "role"})
	})
	t.Run("cases", func(t *testing.T) {
		ctx := context.Background()
		id, err := f.s.CreateRecord(ctx, admin, store.EntCases, store.Input{Values: map[string]any{"subject": "Broken oven", "priority": "high"}})
		if err != nil {
			t.Fatal(err)
		}
		res, rows := f.run(t, admin, "cases", store.ReportParams{})
		wantCells(t, res, rows[an], map[string]any{"opened": int64(1), "resolved": int64(0), "backlog": int64(1), "avg_first_response_hours": nil})
		res, rows = f.run(t, admin, "cases", store.ReportParams{By: "status"})
		wantCells(t, res, rows["new"], map[string]any{"case_priority:high": int64(1), "total": int64(1)})
		if err := f.s.DeleteRecord(ctx, admin, store.EntCases, id.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.RunStandardReport(ctx, sales, "cases", store.ReportParams{}); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("salesperson without cases: %v", err)
		}
	})
	t.Run("adoption", func(t *testing.T) {
		res, rows := f.run(t, admin, "adoption", store.ReportParams{})
		// Sales created an account, two opportunities, an activity and a
		// lead, signed in once, and changed O4's stage (one record).
		wantCells(t, res, rows[sn], map[string]any{"logins": int64(1), "records_created": int64(5), "records_updated": int64(1), "activities_logged": int64(1), "active_days": int64(2), "idle_this_week": false})
		_, rows = f.run(t, sales, "adoption", store.ReportParams{})
		if len(rows) != 1 || rows[sn] == nil {
			t.Errorf("salesperson sees %v", rows)
		}
		res, _ = f.run(t, admin, "adoption", store.ReportParams{By: "day"})
		if len(res.Rows) != 14 { // 7 days × 2 users
			t.Errorf("by day: %d rows", len(res.Rows))
		}
	})
	t.Run("stalled_opportunities", func(t *testing.T) {
		f.clock.Advance(48 * time.Hour) // Thursday 5 March
		res, _ := f.run(t, admin, "stalled_opportunities", store.ReportParams{Days: 1})
		var names []string
		for _, r := range res.Rows {
			names = append(names, r[1].(string))
		}
		if fmt.Sprint(names) != "[O2 O3 O1]" {
			t.Errorf("stalled %v", res.Rows)
		}
		wantCells(t, res, res.Rows[0], map[string]any{"days_in_stage": int64(3), "last_activity": nil, "account": "Forn Puig"})
		wantCells(t, res, res.Rows[1], map[string]any{"last_activity": "2026-03-02"})
		res, _ = f.run(t, sales, "stalled_opportunities", store.ReportParams{Days: 1})
		if len(res.Rows) != 1 || res.Rows[0][1] != "O3" {
			t.Errorf("salesperson's stalled %v", res.Rows)
		}
		res, _ = f.run(t, admin, "stalled_opportunities", store.ReportParams{})
		if len(res.Rows) != 0 {
			t.Errorf("nothing is 30 days old: %v", res.Rows)
		}
	})
	t.Run("errors", func(t *testing.T) {
		ctx := context.Background()
		_, err := f.s.RunStandardReport(ctx, admin, "nope", store.ReportParams{})
		wantCode(t, err, store.CodeNotFound)
		_, err = f.s.RunStandardReport(ctx, admin, "campaigns", store.ReportParams{})
		wantCode(t, err, store.CodeNotFound)
		_, err = f.s.RunStandardReport(ctx, admin, "pipeline", store.ReportParams{By: "drop table"})
		wantField(t, err, "by")
		_, err = f.s.RunStandardReport(ctx, admin, "closed_opportunities", store.ReportParams{From: time.Now(), To: time.Now().Add(-time.Hour)})
		wantField(t, err, "to")
	})
}

// TestStore_Goals covers who may set and see goals.
func TestStore_Goals(t *testing.T) {
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	ctx := context.Background()
	sales := mustUser(t, s, admin, "s@example.com", "salesperson")
	other := mustUser(t, s, admin, "o@example.com", "salesperson")
	g, err := s.SaveGoal(ctx, admin, 0, store.GoalInput{UserID: sales.UserID, Metric: "activities_logged", Period: "month", Start: "2026-11-15", Target: 40})
	if err != nil || g.StartsOn != "2026-11-01" || g.Label != "2026-11" || g.Target != 40 {
		t.Fatalf("%+v %v", g, err)
	}
	_, err = s.SaveGoal(ctx, admin, 0, store.GoalInput{UserID: sales.UserID, Metric: "activities_logged", Period: "month", Start: "2026-11"})
	wantCode(t, err, store.CodeConflict)
	_, err = s.SaveGoal(ctx, sales, 0, store.GoalInput{UserID: sales.UserID, Metric: "won_amount", Period: "year", Start: "2026", Target: 1})
	wantCode(t, err, store.CodeForbidden)
	_, err = s.SaveGoal(ctx, admin, 0, store.GoalInput{UserID: sales.UserID, Metric: "nope", Period: "decade", Start: "x"})
	wantField(t, err, "metric")
	wantField(t, err, "period")
	if _, err := s.SaveGoal(ctx, admin, 0, store.GoalInput{UserID: other.UserID, Metric: "won_amount", Period: "year", Start: "2026", Target: 12000.5}); err != nil {
		t.Fatal(err)
	}
	mine, err := s.FindGoals(ctx, sales, store.GoalFilter{})
	if err != nil || len(mine) != 1 || mine[0].ID != g.ID {
		t.Errorf("salesperson sees %v %v", mine, err)
	}
	all, _ := s.FindGoals(ctx, admin, store.GoalFilter{})
	if len(all) != 2 || all[0].Target != 12000.5 {
		t.Errorf("admin sees %v", all)
	}
	_, err = s.FindGoal(ctx, other, g.ID)
	wantCode(t, err, store.CodeNotFound)
	g2, err := s.SaveGoal(ctx, admin, g.ID, store.GoalInput{UserID: sales.UserID, Metric: "activities_logged", Period: "quarter", Start: "2026-Q4", Target: 100})
	if err != nil || g2.Label != "2026-Q4" {
		t.Fatalf("%+v %v", g2, err)
	}
	wantCode(t, s.DeleteGoal(ctx, sales, g.ID), store.CodeForbidden)
	wantCode(t, s.DeleteGoal(ctx, admin, g.ID), "")
}
