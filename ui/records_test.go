package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cartera/store"
)

var locationID = regexp.MustCompile(`/(\d+)$`)

// createByForm posts a record form and returns the new record's id.
func createByForm(t *testing.T, b *browser, entity string, form url.Values) string {
	t.Helper()
	resp := b.post("/"+entity, form)
	loc := resp.Header.Get("Location")
	m := locationID.FindStringSubmatch(loc)
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create %s: %d %q", entity, resp.StatusCode, loc)
	}
	return m[1]
}

// TestUI_Seed001 runs seed 001's exercises through the HTML forms.
func TestUI_Seed001(t *testing.T) {
	e := mustServer(t)
	e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	acc := createByForm(t, b, "accounts", url.Values{"name": {"Empresa ABC"}, "type": {"customer"}})
	laura := createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "last_name": {"García"}, "email": {"laura@empresaabc.com"}, "title": {"Compradora"}, "account_id": {acc}})
	createByForm(t, b, "contacts", url.Values{"first_name": {"Marc"}, "last_name": {"Ferrer"}, "account_id": {acc}})
	// Edit e-mail and position.
	if resp := b.post("/contacts/"+laura, url.Values{"first_name": {"Laura"}, "last_name": {"García"}, "email": {"laura.garcia@empresaabc.com"}, "title": {"Directora de compres"}, "account_id": {acc}, "_present_tags": {"1"}, "tags": {"Compres, Client Potencial"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit = %d", resp.StatusCode)
	}
	code, body := b.get("/search?q=" + url.QueryEscape("Empresa ABC"))
	if code != 200 || !strings.Contains(body, "Laura García") || !strings.Contains(body, "Marc Ferrer") {
		t.Fatalf("search page: %d", code)
	}
	code, body = b.get("/contacts?tag=Compres")
	if code != 200 || !strings.Contains(body, "Laura") || strings.Contains(body, "Ferrer") {
		t.Errorf("tag filter: %d", code)
	}
	// The dated history entry from seed 001.
	resp := b.post("/activities", url.Values{"type": {"email"}, "subject": {"Enviament de correu electrònic amb nova oferta"}, "occurred_at": {"2023-02-01T10:00"}, "contact_id": {laura}, "return_to": {"/contacts/" + laura}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/contacts/"+laura {
		t.Fatalf("add history: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, body = b.get("/contacts/" + laura)
	if code != 200 || !strings.Contains(body, "Enviament de correu electrònic amb nova oferta") || !strings.Contains(body, "1 Feb 2023 10:00") {
		t.Errorf("timeline: %d", code)
	}
	if !strings.Contains(body, "Directora de compres") || !strings.Contains(body, "Client Potencial") {
		t.Error("edited values not shown")
	}
}

// TestUI_RecordPages renders every record page and checks bad input.
func TestUI_RecordPages(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	acc := createByForm(t, b, "accounts", url.Values{"name": {"Empresa ABC"}})
	con := createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "last_name": {"García"}, "email": {"laura@empresaabc.com"}, "account_id": {acc}})
	lead := createByForm(t, b, "leads", url.Values{"first_name": {"Jordi"}, "company": {"Fusteria Puig"}})
	opp := createByForm(t, b, "opportunities", url.Values{"name": {"TPV nou"}, "amount": {"1.234,50"}, "account_id": {acc}, "stage": {"proposal"}})
	act := createByForm(t, b, "activities", url.Values{"type": {"visit"}, "subject": {"Visita"}, "occurred_at": {"2026-11-20T10:00"}, "account_id": {acc}})
	task := createByForm(t, b, "tasks", url.Values{"title": {"Trucar"}, "due_at": {"2026-11-24T09:00"}, "contact_id": {con}})
	cs := createByForm(t, b, "cases", url.Values{"subject": {"Factura duplicada"}, "account_id": {acc}})
	r, _ := e.st.FindRecord(ctx, admin, store.EntOpportunities, parseID(opp))
	if r.Float("amount") != 1234.5 || r.Int("probability") != 50 {
		t.Errorf("opportunity from form: amount %v probability %v", r.Float("amount"), r.Int("probability"))
	}
	pages := []string{"/accounts", "/contacts", "/leads", "/opportunities", "/activities", "/tasks", "/cases",
		"/accounts/" + acc, "/contacts/" + con, "/leads/" + lead, "/opportunities/" + opp, "/activities/" + act, "/tasks/" + task, "/cases/" + cs,
		"/accounts/new", "/contacts/new", "/leads/new", "/opportunities/new", "/activities/new", "/tasks/new", "/cases/new",
		"/accounts/" + acc + "/edit", "/opportunities/" + opp + "/edit", "/opportunities/board", "/tasks/mine", "/search?q=garcia",
		"/leads/" + lead + "/convert", "/trash", "/tags", "/lookup/accounts?q=empresa",
		"/contacts?sort=-updated_at&limit=25", "/opportunities?stage=proposal&sort=amount"}
	for _, p := range pages {
		if code, body := b.get(p); code != 200 {
			t.Errorf("GET %s = %d %s", p, code, body[:min(300, len(body))])
		}
	}
	t.Run("bad form input is reported and changes nothing", func(t *testing.T) {
		code, body := b.postBody("/contacts/"+con, url.Values{"first_name": {"Laura"}, "email": {"not-an-email"}, "account_id": {"999999"}})
		if code != 422 || !strings.Contains(body, `id="e-email"`) || !strings.Contains(body, `id="e-account_id"`) {
			t.Errorf("bad edit = %d", code)
		}
		c, _ := e.st.FindRecord(ctx, admin, store.EntContacts, parseID(con))
		if c.Str("email") != "laura@empresaabc.com" || c.Version != 1 {
			t.Errorf("contact changed: %v v%d", c.Values, c.Version)
		}
	})
	t.Run("duplicate warning", func(t *testing.T) {
		code, body := b.postBody("/contacts", url.Values{"first_name": {"L."}, "last_name": {"Garcia"}, "email": {"LAURA@empresaabc.com"}})
		if code != 200 || !strings.Contains(body, "confirm_duplicates") || !strings.Contains(body, "/contacts/"+con) {
			t.Fatalf("no duplicate warning: %d", code)
		}
		n, _ := e.st.CountRecords(ctx, admin, store.EntContacts, store.Filter{})
		if n != 1 {
			t.Errorf("contact created despite warning: %d", n)
		}
		createByForm(t, b, "contacts", url.Values{"first_name": {"L."}, "last_name": {"Garcia"}, "email": {"LAURA@empresaabc.com"}, "confirm_duplicates": {"1"}})
	})
	t.Run("board move, convert, delete and restore", func(t *testing.T) {
		if resp := b.post("/opportunities/"+opp+"/stage", url.Values{"stage": {"won"}, "next": {"/opportunities/board"}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("stage move = %d", resp.StatusCode)
		}
		r, _ := e.st.FindRecord(ctx, admin, store.EntOpportunities, parseID(opp))
		if r.Str("stage") != "won" || r.Str("forecast_category") != "closed" {
			t.Errorf("after move: %v", r.Values)
		}
		if resp := b.post("/leads/"+lead+"/convert", url.Values{"create_opportunity": {"1"}, "opportunity_name": {"Fusteria"}, "opportunity_amount": {"900"}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("convert = %d", resp.StatusCode)
		}
		if resp := b.post("/cases/"+cs+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete = %d", resp.StatusCode)
		}
		if code, _ := b.get("/cases/" + cs); code != 404 {
			t.Errorf("deleted case page = %d", code)
		}
		if resp := b.post("/trash/cases/"+cs+"/restore", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("restore = %d", resp.StatusCode)
		}
		if code, _ := b.get("/cases/" + cs); code != 200 {
			t.Errorf("restored case page = %d", code)
		}
	})
}

func parseID(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

// TestUI_Duplicates merges two contacts from the duplicates page and undoes it.
func TestUI_Duplicates(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	keep := createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "last_name": {"García"}, "email": {"laura@abc.com"}})
	drop := createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "last_name": {"Garcia"}, "email": {"laura@abc.com"}, "title": {"Gerent"}, "confirm_duplicates": {"1"}})
	code, body := b.get("/duplicates?entity=contacts")
	if code != 200 || !strings.Contains(body, "/duplicates/merge?entity=contacts&amp;keep="+keep+"&amp;drop="+drop) {
		t.Fatalf("duplicates page: %d", code)
	}
	if code, body = b.get("/duplicates/merge?entity=contacts&keep=" + keep + "&drop=" + drop); code != 200 || !strings.Contains(body, `name="take_title"`) {
		t.Fatalf("merge page: %d", code)
	}
	if resp := b.post("/duplicates/merge", url.Values{"entity": {"contacts"}, "keep": {keep}, "drop": {drop}, "take_title": {"drop"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("merge = %d", resp.StatusCode)
	}
	r, _ := e.st.FindRecord(ctx, admin, store.EntContacts, parseID(keep))
	if r.Str("title") != "Gerent" {
		t.Errorf("title not taken: %q", r.Str("title"))
	}
	if code, _ := b.get("/contacts/" + drop); code != 404 {
		t.Errorf("merged contact still live: %d", code)
	}
	merges, _ := e.st.FindMerges(ctx, admin, store.EntContacts)
	if resp := b.post("/duplicates/merges/"+itoa(merges[0].ID)+"/undo", url.Values{"entity": {"contacts"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("undo = %d", resp.StatusCode)
	}
	if code, _ := b.get("/contacts/" + drop); code != 200 {
		t.Errorf("unmerged contact: %d", code)
	}
	sb := e.newBrowser()
	e.mustUser(admin, "sp@example.com", "salesperson")
	sb.login("sp@example.com", "password-123")
	if code, _ := sb.get("/duplicates?entity=contacts"); code != http.StatusForbidden {
		t.Errorf("salesperson duplicates page: %d", code)
	}
}
