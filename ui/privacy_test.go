package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

// TestUI_Privacy covers a person's Privacy page (export, confirmed
// erasure), the privacy settings page and the export and erase API.
func TestUI_Privacy(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	sales := e.mustUser(admin, "sales@example.com", "salesperson")
	mk := func(first, email string) int64 {
		r, err := e.st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": first, "last_name": "Quixbury", "email": email, "phone": "611 222 333"}})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")

	t.Run("the record page offers Privacy to privacy officers only", func(t *testing.T) {
		id := mk("Zoltan", "zoltan@example.net")
		_, body := b.get("/contacts/" + strconvFormat(id))
		if !strings.Contains(body, `/contacts/`+strconvFormat(id)+`/privacy"`) {
			t.Error("no Privacy action for the administrator")
		}
		sb := e.newBrowser()
		sb.login("sales@example.com", "password-123")
		_, body = sb.get("/contacts/" + strconvFormat(id))
		if strings.Contains(body, "/privacy\"") {
			t.Error("Privacy action shown to a salesperson")
		}
		if code, _ := sb.get("/contacts/" + strconvFormat(id) + "/privacy"); code != http.StatusForbidden {
			t.Errorf("salesperson privacy page: %d", code)
		}
		if code, _ := sb.get("/contacts/" + strconvFormat(id) + "/privacy/export.json"); code != http.StatusForbidden {
			t.Errorf("salesperson export: %d", code)
		}
	})
	t.Run("export as a readable page and as JSON", func(t *testing.T) {
		id := mk("Ada", "ada@example.net")
		code, body := b.get("/contacts/" + strconvFormat(id) + "/privacy/export.html")
		if code != http.StatusOK || !strings.Contains(body, "ada@example.net") || !strings.Contains(body, "Personal data") || strings.Contains(body, "<script") {
			t.Errorf("html export %d: %.300s", code, body)
		}
		code, body = b.get("/contacts/" + strconvFormat(id) + "/privacy/export.json")
		if code != http.StatusOK || !strings.Contains(body, `"email":"ada@example.net"`) || !strings.Contains(body, `"id":"`+strconvFormat(id)+`"`) {
			t.Errorf("json export %d: %.300s", code, body)
		}
	})
	t.Run("erasure needs the confirmation", func(t *testing.T) {
		id := mk("Berta", "berta@example.net")
		path := "/contacts/" + strconvFormat(id) + "/privacy"
		code, body := b.postBody(path+"/erase", url.Values{})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Tick the box") {
			t.Errorf("unconfirmed erase %d", code)
		}
		if r, _ := e.st.FindRecord(ctx, admin, store.EntContacts, id); r.Str("email") == "" {
			t.Fatal("erased without confirmation")
		}
		resp := b.post(path+"/erase", url.Values{"confirm": {"1"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/contacts/"+strconvFormat(id) {
			t.Fatalf("erase: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		r, _ := e.st.FindRecord(ctx, admin, store.EntContacts, id)
		if r.Title != store.ErasedName(id) || r.Str("email") != "" {
			t.Errorf("after erase: %q %v", r.Title, r.Values)
		}
	})
	t.Run("settings: retention rule and review list", func(t *testing.T) {
		if code, _ := b.get("/settings/privacy"); code != http.StatusOK {
			t.Fatalf("settings page: %d", code)
		}
		code, body := b.postBody("/settings/privacy", url.Values{"retention_months": {"abc"}, "retention_action": {"review"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "from 0 (off) to 120") {
			t.Errorf("bad months: %d", code)
		}
		l, err := e.st.CreateRecord(ctx, admin, store.EntLeads, store.Input{Values: map[string]any{"first_name": "Old", "last_name": "Lead"}})
		if err != nil {
			t.Fatal(err)
		}
		resp := b.post("/settings/privacy", url.Values{"retention_months": {"6"}, "retention_action": {"review"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", resp.StatusCode)
		}
		e.clock.Add(7 * 31 * 24 * time.Hour)
		b.login("anna@example.com", "contrasenya-segura") // the session expired meanwhile
		_, body = b.get("/settings/privacy")
		if !strings.Contains(body, `/leads/`+strconvFormat(l.ID)+`"`) {
			t.Errorf("review list lacks the old lead")
		}
		resp = b.post("/leads/"+strconvFormat(l.ID)+"/privacy/erase", url.Values{"confirm": {"1"}, "return_to": {"/settings/privacy"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings/privacy" {
			t.Errorf("erase from the review list: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("API: export and erase", func(t *testing.T) {
		tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "privacy")
		if err != nil {
			t.Fatal(err)
		}
		stok, _, err := e.st.CreateToken(ctx, sales, sales.UserID, "sales")
		if err != nil {
			t.Fatal(err)
		}
		id := mk("Carla", "carla@example.net")
		p := "/api/v1/contacts/" + strconvFormat(id)
		code, out := e.api(http.MethodGet, p+"/export", tok, nil)
		recs, _ := out["records"].([]any)
		if code != http.StatusOK || len(recs) != 1 || out["id"] != strconvFormat(id) {
			t.Fatalf("export %d %v", code, out)
		}
		if code, _ := e.api(http.MethodPost, p+"/erase", stok, nil); code != http.StatusForbidden {
			t.Errorf("salesperson erase: %d", code)
		}
		code, out = e.api(http.MethodPost, p+"/erase", tok, nil)
		if code != http.StatusOK || out["id"] != strconvFormat(id) || out["suppressed"] != float64(1) {
			t.Fatalf("erase %d %v", code, out)
		}
		if code, _ := e.api(http.MethodPost, "/api/v1/accounts/1/erase", tok, nil); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
			t.Errorf("erase of a client: %d", code)
		}
		code, out = e.api(http.MethodPost, "/api/v1/contacts", tok, strings.NewReader(`{"first_name":"Carla","email":"carla@example.net"}`))
		if code != http.StatusCreated {
			t.Errorf("a person typed in by hand is still accepted: %d %v", code, out)
		}
	})
}
