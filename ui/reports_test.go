package ui_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"cartera/store"
)

// TestUI_StandardReports renders the reports index, a report with its
// chart and table, its CSV and XLSX files, and the API, as an admin and as
// a salesperson who sees only their own numbers.
func TestUI_StandardReports(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	sales := e.mustUser(admin, "sales@example.com", "salesperson")
	ctx := context.Background()
	for _, o := range []struct {
		a      *store.Actor
		name   string
		amount float64
	}{{admin, "=HYPERLINK(\"x\")", 1000}, {sales, "Small deal", 250}} {
		if _, err := e.st.CreateRecord(ctx, o.a, store.EntOpportunities, store.Input{Values: map[string]any{"name": o.name, "stage": "proposal", "amount": o.amount}}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	st, body := b.get("/reports")
	if st != http.StatusOK || !strings.Contains(body, `href="/reports/pipeline"`) || !strings.Contains(body, "Campaign results") {
		t.Fatalf("index %d: %s", st, body)
	}
	st, body = b.get("/reports/pipeline")
	if st != http.StatusOK || !strings.Contains(body, "<svg") || !strings.Contains(body, `role="img"`) || !strings.Contains(body, "<table") || !strings.Contains(body, "1,250.00 EUR") {
		t.Fatalf("pipeline %d: %s", st, body)
	}
	for _, key := range []string{"active_accounts", "account_owners", "new_clients", "contact_roles", "lead_lifecycle", "lead_sources", "stalled_opportunities", "closed_opportunities", "forecast", "sales_performance", "quotes", "goals", "activities", "adoption", "cases"} {
		if st, body := b.get("/reports/" + key); st != http.StatusOK {
			t.Errorf("%s: %d %s", key, st, body)
		}
	}
	if st, body := b.get("/reports/closed_opportunities?from=nope"); st != http.StatusBadRequest || !strings.Contains(body, "YYYY-MM-DD") {
		t.Errorf("bad date: %d", st)
	}
	st, body = b.get("/reports/stalled_opportunities?days=1&by=owner")
	if st != http.StatusOK {
		t.Errorf("stalled %d", st)
	}
	// Files: CSV with the formula neutralised, XLSX with numbers.
	resp, err := b.c.Get(e.srv.URL + "/reports/contact_roles?format=csv")
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err, resp.StatusCode)
	}
	resp.Body.Close()
	resp, _ = b.c.Get(e.srv.URL + "/reports/pipeline?by=owner&format=csv")
	csvBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csvBody), "Owner,Count,Amount,Weighted amount") || !strings.Contains(string(csvBody), "1000") {
		t.Errorf("csv: %s", csvBody)
	}
	resp, _ = b.c.Get(e.srv.URL + "/reports/pipeline?format=xlsx")
	xb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	x, err := excelize.OpenReader(bytes.NewReader(xb))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows(x.GetSheetList()[0])
	if len(rows) < 2 || rows[0][0] != "Stage" {
		t.Errorf("xlsx rows %v", rows)
	}
	// The salesperson's pipeline page shows their deal only.
	sb := e.newBrowser()
	sb.login("sales@example.com", "password-123")
	_, body = sb.get("/reports/pipeline")
	if !strings.Contains(body, "250.00 EUR") || strings.Contains(body, "1,250.00") {
		t.Errorf("salesperson's pipeline shows others' numbers")
	}
	if st, _ := sb.get("/reports/cases"); st != http.StatusForbidden {
		t.Errorf("salesperson's cases report: %d", st)
	}
	// API.
	tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "t")
	if err != nil {
		t.Fatal(err)
	}
	st, out := e.api("GET", "/api/v1/reports", tok, nil)
	if st != 200 || len(out["data"].([]any)) != 18 { // 17 + quotes (issue 12)
		t.Errorf("list %d %v", st, out)
	}
	st, out = e.api("GET", "/api/v1/reports/pipeline?by=owner", tok, nil)
	if st != 200 || len(out["rows"].([]any)) != 2 || out["columns"].([]any)[1] != "count" {
		t.Errorf("pipeline %d %v", st, out)
	}
	st, out = e.api("GET", "/api/v1/reports/custom?entity=opportunities&group=stage&measure=sum:amount", tok, nil)
	if st != 200 || len(out["rows"].([]any)) != 1 {
		t.Errorf("custom report still served: %d %v", st, out)
	}
	if st, _ := e.api("GET", "/api/v1/reports/nope", tok, nil); st != http.StatusNotFound {
		t.Errorf("unknown report %d", st)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/reports/forecast?format=xlsx", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") {
		t.Errorf("api xlsx %v %v", err, resp)
	}
	resp.Body.Close()
	if st, _ := e.api("GET", "/api/v1/reports/pipeline", "", nil); st != http.StatusUnauthorized {
		t.Errorf("no token: %d", st)
	}
}

// TestUI_Goals sets goals from the page and the API, and shows them to
// their owner without the editor.
func TestUI_Goals(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	sales := e.mustUser(admin, "sales@example.com", "salesperson")
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	st, body := b.get("/goals")
	if st != 200 || !strings.Contains(body, `name="subject"`) {
		t.Fatalf("goals page %d", st)
	}
	resp := b.post("/goals", url.Values{"subject": {"u" + strconvFormat(sales.UserID)}, "metric": {"won_amount"}, "period": {"quarter"}, "start": {"2026-Q4"}, "target": {"5000"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save %d", resp.StatusCode)
	}
	if st, body := b.postBody("/goals", url.Values{"subject": {"u" + strconvFormat(sales.UserID)}, "metric": {"won_amount"}, "period": {"quarter"}, "start": {"2026-Q4"}, "target": {"1"}}); st != http.StatusConflict || !strings.Contains(body, "already") {
		t.Errorf("duplicate %d", st)
	}
	sb := e.newBrowser()
	sb.login("sales@example.com", "password-123")
	_, body = sb.get("/goals")
	if !strings.Contains(body, "2026-Q4") || strings.Contains(body, `name="subject"`) {
		t.Errorf("salesperson's goals page: %s", body)
	}
	if r := sb.post("/goals", url.Values{"subject": {"u" + strconvFormat(sales.UserID)}, "metric": {"won_amount"}, "period": {"year"}, "start": {"2026"}, "target": {"1"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("salesperson sets a goal: %d", r.StatusCode)
	}
	tok, _, _ := e.st.CreateToken(context.Background(), admin, admin.UserID, "t")
	st, out := e.api("POST", "/api/v1/goals", tok, strings.NewReader(`{"team_id":"","user_id":"`+strconvFormat(sales.UserID)+`","metric":"activities_logged","period":"month","start":"2026-11","target":40}`))
	if st != http.StatusCreated || out["label"] != "2026-11" {
		t.Errorf("api create %d %v", st, out)
	}
	st, out = e.api("GET", "/api/v1/goals", tok, nil)
	if st != 200 || len(out["data"].([]any)) != 2 {
		t.Errorf("api list %d %v", st, out)
	}
}
