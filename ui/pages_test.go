package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cartera/store"
)

// TestUI_Pages renders every settings page as the admin in each language
// and checks that pages are refused to roles without the capability.
func TestUI_Pages(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	sp := e.mustUser(admin, "marc@example.com", "salesperson")
	roles, _ := e.st.FindRoles(ctx, admin)
	if _, err := e.st.SaveTeam(ctx, admin, 0, "Vendes"); err != nil {
		t.Fatal(err)
	}
	pages := []string{"/", "/profile", "/settings", "/settings/company", "/settings/users", "/settings/users/new",
		"/settings/users/" + itoa(sp.UserID), "/settings/teams", "/settings/roles", "/settings/roles/new",
		"/settings/roles/" + itoa(roles[1].ID), "/settings/audit"}
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	for _, lang := range []string{"ca", "es", "en"} {
		if resp := b.post("/language", url.Values{"lang": {lang}, "next": {"/"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("language %s: %d", lang, resp.StatusCode)
		}
		for _, p := range pages {
			code, body := b.get(p)
			if code != 200 {
				t.Errorf("%s GET %s = %d", lang, p, code)
				continue
			}
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s GET %s: wrong language", lang, p)
			}
			if strings.Contains(body, "error.") || strings.Contains(body, "users.") || strings.Contains(body, "settings.") && !strings.Contains(body, "/settings") {
				t.Errorf("%s GET %s: untranslated key in page", lang, p)
			}
		}
	}
	t.Run("salesperson is refused admin pages", func(t *testing.T) {
		sb := e.newBrowser()
		sb.login("marc@example.com", "password-123")
		for _, p := range pages[2:] {
			if code, _ := sb.get(p); code != http.StatusForbidden {
				t.Errorf("salesperson GET %s = %d, want 403", p, code)
			}
		}
		resp := sb.post("/settings/users", url.Values{"email": {"x@example.com"}, "name": {"X"}, "password": {"password-123"}, "role": {"admin"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("salesperson create user = %d", resp.StatusCode)
		}
		users, _ := e.st.FindUsers(ctx, admin, store.UserFilter{IncludeDisabled: true})
		if len(users) != 2 {
			t.Errorf("users = %d after refused create", len(users))
		}
	})
	t.Run("admin creates a user and a custom role from the forms", func(t *testing.T) {
		form := url.Values{"key": {"sales_manager"}, "name": {"Sales manager"}, "perm.opportunities.view": {"team"}, "perm.opportunities.edit": {"team"}, "cap": {"audit"}, "section": {"home", "opportunities"}}
		if resp := b.post("/settings/roles", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create role = %d", resp.StatusCode)
		}
		resp := b.post("/settings/users", url.Values{"email": {"joan@example.com"}, "name": {"Joan Ferrer"}, "password": {"password-123"}, "role": {"sales_manager"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create user = %d", resp.StatusCode)
		}
		jb := e.newBrowser()
		jb.login("joan@example.com", "password-123")
		if code, _ := jb.get("/settings/audit"); code != 200 {
			t.Errorf("custom role audit page = %d", code)
		}
		if code, _ := jb.get("/settings/users"); code != http.StatusForbidden {
			t.Errorf("custom role users page = %d", code)
		}
	})
	t.Run("bad input on a form is reported and changes nothing", func(t *testing.T) {
		code, body := b.postBody("/settings/company", url.Values{"name": {""}, "timezone": {"UTC"}, "language": {"xx"}, "currency": {"EURO"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-name"`) || !strings.Contains(body, `id="e-currency"`) {
			t.Errorf("bad company form = %d", code)
		}
		c, _ := e.st.Company(ctx)
		if c.Name != "Empresa ABC" || c.Currency != "EUR" {
			t.Errorf("company changed: %+v", c)
		}
	})
}
