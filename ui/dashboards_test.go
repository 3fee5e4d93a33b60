package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cartera/store"
)

func TestDashboard_HomeAndEditing(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	marc := e.mustUser(admin, "marc@example.com", "salesperson")
	ctx := context.Background()
	if _, err := e.st.CreateRecord(ctx, marc, store.EntOpportunities, store.Input{Values: map[string]any{"name": "Forn nou", "stage": "proposal", "amount": 1200.0}}); err != nil {
		t.Fatal(err)
	}
	b := e.newBrowser()
	b.login("marc@example.com", "password-123")
	t.Run("the home page shows the salesperson's default dashboard", func(t *testing.T) {
		code, body := b.get("/")
		if code != http.StatusOK {
			t.Fatalf("home: %d", code)
		}
		for _, want := range []string{"Your dashboard", "My tasks today", "Stalled opportunities", `role="img"`, `href="/dashboard"`} {
			if !strings.Contains(body, want) {
				t.Errorf("home lacks %q", want)
			}
		}
	})
	t.Run("add, move and remove widgets", func(t *testing.T) {
		resp := b.post("/dashboard", url.Values{"action": {"add"}, "widget": {"standard:activities"}, "period": {"yesterday"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add: %d", resp.StatusCode)
		}
		b.post("/dashboard", url.Values{"action": {"up"}, "index": {"4"}})
		b.post("/dashboard", url.Values{"action": {"remove"}, "index": {"0"}})
		ws, def, _ := e.st.Dashboard(ctx, marc)
		var refs []string
		for _, w := range ws {
			refs = append(refs, w.Ref)
		}
		if def || strings.Join(refs, ",") != "tasks_today,goals,activities,stalled_opportunities" || ws[2].Params != "period=yesterday" {
			t.Fatalf("dashboard: %v %v", ws, def)
		}
		_, body := b.get("/dashboard")
		if !strings.Contains(body, "My tasks today") || !strings.Contains(body, "period=yesterday") {
			t.Fatalf("editor page lacks the widgets")
		}
	})
	t.Run("a widget the role may not open is refused", func(t *testing.T) {
		b.post("/dashboard", url.Values{"action": {"add"}, "widget": {"list:open_cases"}})
		if ws, _, _ := e.st.Dashboard(ctx, marc); len(ws) != 4 {
			t.Fatalf("dashboard now has %d widgets", len(ws))
		}
	})
	t.Run("the API reads and replaces the dashboard", func(t *testing.T) {
		secret, _, err := e.st.CreateToken(ctx, marc, marc.UserID, "phone")
		if err != nil {
			t.Fatal(err)
		}
		code, out := e.api(http.MethodPut, "/api/v1/dashboard", secret, strings.NewReader(`{"widgets":[{"kind":"standard","ref":"pipeline","params":"by=owner"}]}`))
		if code != http.StatusOK || out["default"] != false || len(out["widgets"].([]any)) != 1 {
			t.Fatalf("PUT: %d %v", code, out)
		}
		code, _ = e.api(http.MethodPut, "/api/v1/dashboard", secret, strings.NewReader(`{"widgets":[{"kind":"standard","ref":"nope"}]}`))
		if code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
			t.Fatalf("bad widget: %d", code)
		}
		code, out = e.api(http.MethodGet, "/api/v1/dashboard", secret, nil)
		if code != http.StatusOK || out["widgets"].([]any)[0].(map[string]any)["params"] != "by=owner" {
			t.Fatalf("GET: %d %v", code, out)
		}
	})
}

func TestReportBuilder_SaveShareRun(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	marc := e.mustUser(admin, "marc@example.com", "salesperson")
	pere := e.mustUser(admin, "pere@example.com", "salesperson")
	ctx := context.Background()
	for _, c := range []struct {
		a      *store.Actor
		name   string
		amount float64
	}{{marc, "A", 1000}, {marc, "B", 500}, {pere, "C", 7000}} {
		if _, err := e.st.CreateRecord(ctx, c.a, store.EntOpportunities, store.Input{Values: map[string]any{"name": c.name, "stage": "proposal", "amount": c.amount}}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.newBrowser()
	b.login("marc@example.com", "password-123")
	spec := url.Values{"entity": {"opportunities"}, "group1": {"stage"}, "m1": {"count"}, "m2": {"sum:amount"}, "sort": {"-value"}, "chart": {"pie"}}
	t.Run("preview", func(t *testing.T) {
		code, body := b.get("/reports/builder?" + spec.Encode())
		if code != http.StatusOK || !strings.Contains(body, `role="img"`) || !strings.Contains(body, "Sum · Amount") || !strings.Contains(body, "1,500") {
			t.Fatalf("preview: %d", code)
		}
	})
	t.Run("a bad grouping shows the form with its error", func(t *testing.T) {
		q := url.Values{"entity": {"opportunities"}, "group1": {"nonsense"}}
		if code, _ := b.get("/reports/builder?" + q.Encode()); code != http.StatusBadRequest {
			t.Fatalf("bad group: %d", code)
		}
	})
	var id string
	t.Run("save and share with salespeople", func(t *testing.T) {
		form := url.Values{}
		for k, v := range spec {
			form[k] = v
		}
		form.Set("name", "Embut propi")
		form.Set("roles", "salesperson")
		resp := b.post("/reports/saved", form)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/reports/saved/") {
			t.Fatalf("save: %d %s", resp.StatusCode, loc)
		}
		id = strings.TrimPrefix(loc, "/reports/saved/")
		_, body := b.get("/reports")
		if !strings.Contains(body, "Embut propi") {
			t.Fatal("the reports index does not list the saved report")
		}
	})
	t.Run("another salesperson runs it over their own records", func(t *testing.T) {
		secret, _, err := e.st.CreateToken(ctx, pere, pere.UserID, "phone")
		if err != nil {
			t.Fatal(err)
		}
		code, out := e.api(http.MethodGet, "/api/v1/reports", secret, nil)
		found := false
		for _, r := range out["data"].([]any) {
			if m := r.(map[string]any); m["kind"] == "saved" && m["id"] == id {
				found = true
			}
		}
		if code != http.StatusOK || !found {
			t.Fatalf("GET /reports: %d, saved report listed: %v", code, found)
		}
		code, out = e.api(http.MethodGet, "/api/v1/reports/saved/"+id, secret, nil)
		rows := out["rows"].([]any)
		if code != http.StatusOK || len(rows) != 1 || rows[0].([]any)[1].(float64) != 1 || rows[0].([]any)[2].(float64) != 7000 {
			t.Fatalf("run as pere: %d %v", code, out)
		}
	})
	t.Run("POST /api/v1/reports", func(t *testing.T) {
		secret, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "cli")
		code, out := e.api(http.MethodPost, "/api/v1/reports", secret, strings.NewReader(`{"name":"Per responsable","entity":"opportunities","group":[{"field":"owner"}],"measures":[{"op":"sum","field":"amount"}],"chart":"bar","filters":{"stage":"proposal"}}`))
		if code != http.StatusCreated || out["id"] == "" {
			t.Fatalf("create: %d %v", code, out)
		}
		code, out = e.api(http.MethodPost, "/api/v1/reports", secret, strings.NewReader(`{"name":"x","entity":"opportunities","measures":[{"op":"sum","field":"name"}]}`))
		if code == http.StatusCreated {
			t.Fatalf("a sum over text was saved: %v", out)
		}
		if list, _ := e.st.FindSavedReports(ctx, admin); len(list) != 2 {
			t.Fatalf("%d saved reports", len(list))
		}
	})
}
