package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cartera/store"
	"cartera/ui"
)

// TestUI_Checklist covers the "Getting started" page: it renders for an
// administrator in every language with working links, is refused to a
// salesperson, and its home-page card disappears once dismissed.
func TestUI_Checklist(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t, func(o *ui.Options) { o.MailConfigured = true })
	admin := e.mustSetupAdmin()
	e.mustUser(admin, "marc@example.com", "salesperson")
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")

	t.Run("page renders in every language", func(t *testing.T) {
		titles := map[string]string{"ca": "Primers passos", "es": "Primeros pasos", "en": "Getting started"}
		for _, lang := range []string{"ca", "es", "en"} {
			if resp := b.post("/language", url.Values{"lang": {lang}, "next": {"/"}}); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("language %s: %d", lang, resp.StatusCode)
			}
			code, body := b.get("/settings/getting-started")
			if code != http.StatusOK {
				t.Fatalf("%s: status %d", lang, code)
			}
			if !strings.Contains(body, titles[lang]) {
				t.Errorf("%s: title %q missing", lang, titles[lang])
			}
			if strings.Contains(body, "checklist.") {
				t.Errorf("%s: untranslated key in page", lang)
			}
		}
	})

	t.Run("steps tick from data and server config, links lead to pages", func(t *testing.T) {
		_, body := b.get("/settings/getting-started")
		// Time zone and language (set at setup), e-mail (configured), and
		// roles and invite users (Marc is a second user).
		if !strings.Contains(body, "4 of 10 steps done") {
			t.Errorf("progress missing: %s", body)
		}
		for _, k := range []string{"locale", "email", "roles", "users"} {
			if !strings.Contains(body, `id="step-`+k+`" class="done"`) {
				t.Errorf("step %s not done", k)
			}
		}
		if !strings.Contains(body, `id="step-workflows" class="later"`) || !strings.Contains(body, "Coming in a later version") {
			t.Error("workflows not shown as coming later")
		}
		if _, err := e.st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Laura", "last_name": "García"}}); err != nil {
			t.Fatal(err)
		}
		_, body = b.get("/settings/getting-started")
		if !strings.Contains(body, `id="step-contact" class="done"`) || !strings.Contains(body, "5 of 10 steps done") {
			t.Error("test contact step not done after creating a contact")
		}
		list := body[strings.Index(body, `<ol class="checklist`):]
		links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(list, -1)
		if len(links) < 4 {
			t.Fatalf("only %d step links", len(links))
		}
		for _, m := range links {
			if code, _ := b.get(m[1]); code != http.StatusOK {
				t.Errorf("step link %s = %d", m[1], code)
			}
		}
		if _, body := b.get("/settings"); !strings.Contains(body, `href="/settings/getting-started"`) {
			t.Error("settings index does not list the checklist")
		}
	})

	t.Run("salesperson is refused", func(t *testing.T) {
		sb := e.newBrowser()
		sb.login("marc@example.com", "password-123")
		if code, _ := sb.get("/settings/getting-started"); code != http.StatusForbidden {
			t.Errorf("GET = %d, want 403", code)
		}
		if resp := sb.post("/settings/getting-started", url.Values{"dismiss": {"1"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST = %d, want 403", resp.StatusCode)
		}
		if _, body := sb.get("/"); strings.Contains(body, "checklist-card") {
			t.Error("salesperson sees the checklist card")
		}
	})

	t.Run("home card shown, then hidden after dismiss, then shown again", func(t *testing.T) {
		_, body := b.get("/")
		if !strings.Contains(body, "checklist-card") || !strings.Contains(body, "Getting started: 5 of 10 done") {
			t.Fatalf("home card missing: %s", body)
		}
		resp := b.post("/settings/getting-started", url.Values{"dismiss": {"1"}, "next": {"/"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("dismiss = %d → %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, body := b.get("/"); strings.Contains(body, "checklist-card") {
			t.Error("home card still shown after dismiss")
		}
		_, body = b.get("/settings/getting-started")
		if !strings.Contains(body, "Show again") {
			t.Error("no Show again button on a dismissed checklist")
		}
		resp = b.post("/settings/getting-started", url.Values{"dismiss": {"0"}, "next": {"https://evil.example/"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings/getting-started" {
			t.Fatalf("show again = %d → %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, body := b.get("/"); !strings.Contains(body, "checklist-card") {
			t.Error("home card not shown again")
		}
	})
}
