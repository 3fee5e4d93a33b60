package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cartera/i18n"
	"cartera/store"
	"cartera/ui"
)

const testBaseURL = "https://crm.empresa.example"

// local rewrites a link of a campaign e-mail onto the test server.
func (e *testEnv) local(link string) string {
	return e.srv.URL + strings.TrimPrefix(strings.Trim(link, "<>"), testBaseURL)
}

// TestUI_Marketing drives consent, segments and campaigns through the API
// and the public links of a campaign e-mail without any session.
func TestUI_Marketing(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t, func(o *ui.Options) { o.BaseURL = testBaseURL })
	admin := e.mustSetupAdmin()
	secret, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "marketing")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"ca", "en"} {
		if err := e.st.SaveEmailTemplate(ctx, admin, &store.EmailTemplate{Name: "Oferta", Language: l, Entity: store.EntContacts,
			Subject: "Oferta " + l, BodyText: "Hola {{contact.first_name}}: https://empresa.example/oferta"}); err != nil {
			t.Fatal(err)
		}
	}
	var laura string
	t.Run("consent in the record JSON", func(t *testing.T) {
		code, body := e.api(http.MethodPost, "/api/v1/contacts", secret, strings.NewReader(
			`{"first_name":"Laura","email":"laura@example.com","marketing_consent":"opted_in","marketing_consent_source":"fira 2026","language":"en","tags":["clients"]}`))
		if code != http.StatusCreated || body["marketing_consent"] != "opted_in" || body["marketing_consent_source"] != "fira 2026" || body["marketing_consent_at"] == nil || body["marketing_consent_at"] == "" {
			t.Fatalf("%d %v", code, body)
		}
		laura = body["id"].(string)
		code, body = e.api(http.MethodPost, "/api/v1/contacts", secret, strings.NewReader(`{"first_name":"Pere","email":"pere@example.com","tags":["clients"]}`))
		if code != http.StatusCreated || body["marketing_consent"] != "unknown" {
			t.Fatalf("%d %v", code, body)
		}
		if code, body = e.api(http.MethodPost, "/api/v1/contacts", secret, strings.NewReader(`{"first_name":"X","marketing_consent":"maybe"}`)); code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
			t.Fatalf("bad consent accepted: %d %v", code, body)
		}
	})
	var segID, campID string
	t.Run("segments API", func(t *testing.T) {
		code, body := e.api(http.MethodPost, "/api/v1/segments", secret, strings.NewReader(
			`{"name":"Clients","entity":"contacts","conditions":[{"field":"tag","op":"has","value":"clients"},{"field":"no_activity_days","op":"eq","value":"90"}]}`))
		if code != http.StatusCreated || body["count"] != float64(2) {
			t.Fatalf("%d %v", code, body)
		}
		segID = body["id"].(string)
		code, body = e.api(http.MethodGet, "/api/v1/segments/"+segID+"/members", secret, nil)
		if code != http.StatusOK || len(body["data"].([]any)) != 2 {
			t.Fatalf("%d %v", code, body)
		}
		code, body = e.api(http.MethodPost, "/api/v1/segments", secret, strings.NewReader(`{"name":"Dolent","entity":"contacts","conditions":[{"field":"password","op":"eq","value":"x"}]}`))
		if code == http.StatusCreated || body["error"] == nil {
			t.Fatalf("unknown field accepted: %d %v", code, body)
		}
		code, body = e.api(http.MethodGet, "/api/v1/segments", secret, nil)
		if code != http.StatusOK || len(body["data"].([]any)) != 1 {
			t.Fatalf("%d %v", code, body)
		}
	})
	t.Run("campaigns API", func(t *testing.T) {
		code, body := e.api(http.MethodPost, "/api/v1/campaigns", secret, strings.NewReader(
			`{"name":"Tardor","segment_id":"`+segID+`","template_name":"Oferta","per_minute":600,"track_clicks":true,"schedule":"now"}`))
		if code != http.StatusCreated || body["status"] != "scheduled" {
			t.Fatalf("%d %v", code, body)
		}
		campID = body["id"].(string)
		bundle, _ := i18n.Load()
		opts := store.CampaignOptions{BaseURL: testBaseURL, Words: func(l string) store.Words { return bundle.For(l, nil) }}
		if n, err := e.st.RunCampaigns(ctx, e.clock.Now(), opts); err != nil || n != 1 {
			t.Fatalf("queued %d %v", n, err)
		}
		code, body = e.api(http.MethodGet, "/api/v1/campaigns/"+campID+"/stats", secret, nil)
		if code != http.StatusOK || body["recipients"] != float64(1) || body["skipped"] != float64(1) || body["pending"] != float64(1) {
			t.Fatalf("%d %v", code, body)
		}
		code, body = e.api(http.MethodGet, "/api/v1/campaigns", secret, nil)
		if code != http.StatusOK || len(body["data"].([]any)) != 1 {
			t.Fatalf("%d %v", code, body)
		}
	})
	msgs, err := e.st.FindOutbox(ctx, admin, store.OutboxFilter{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox %d %v", len(msgs), err)
	}
	m := msgs[0]
	t.Run("english footer for an english recipient", func(t *testing.T) {
		if m.Subject != "Oferta en" || !strings.Contains(m.Text, "To unsubscribe: "+testBaseURL+"/m/u/") {
			t.Fatalf("%q\n%s", m.Subject, m.Text)
		}
	})
	click := regexpFind(t, m.Text, testBaseURL+`/m/c/[^\s]+`)
	t.Run("click links cannot redirect elsewhere", func(t *testing.T) {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(e.local(click))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://empresa.example/oferta" {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		u, _ := url.Parse(e.local(click))
		for name, bad := range map[string]string{
			"other target":    u.Path + "?u=" + url.QueryEscape("https://evil.example/"),
			"no target":       u.Path,
			"other recipient": strings.Replace(u.Path, "/"+laura+"/", "/999/", 1) + "?" + u.RawQuery,
			"forged sig":      u.Path[:len(u.Path)-32] + strings.Repeat("0", 32) + "?" + u.RawQuery,
		} {
			resp, err := c.Get(e.srv.URL + bad)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
				t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})
	t.Run("one-click unsubscribe without login", func(t *testing.T) {
		link := e.local(m.Headers["List-Unsubscribe"])
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "<form method=\"post\"") {
			t.Fatalf("GET %d %s", resp.StatusCode, page)
		}
		rec, _ := e.st.FindRecord(ctx, admin, store.EntContacts, parseID(laura))
		if rec.Str("marketing_consent") != store.ConsentOptedIn {
			t.Fatal("a GET unsubscribed")
		}
		// A mail provider's POST: cross-site, no cookie, RFC 8058 body.
		req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://mail.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %d", resp.StatusCode)
		}
		rec, _ = e.st.FindRecord(ctx, admin, store.EntContacts, parseID(laura))
		if rec.Str("marketing_consent") != store.ConsentOptedOut {
			t.Fatalf("consent %v", rec.Values["marketing_consent"])
		}
		code, body := e.api(http.MethodGet, "/api/v1/campaigns/"+campID+"/stats", secret, nil)
		if code != http.StatusOK || body["unsubscribed"] != float64(1) || body["clicked"] != float64(1) || body["cancelled"] != float64(1) {
			t.Fatalf("%d %v", code, body)
		}
		// Other cross-site writes are still refused.
		req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/marketing/segments", strings.NewReader("name=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site POST elsewhere: %d", resp.StatusCode)
		}
	})
	t.Run("pages render", func(t *testing.T) {
		b := e.newBrowser()
		b.login("anna@example.com", "contrasenya-segura")
		for _, p := range []string{"/marketing", "/marketing/segments/" + segID, "/marketing/campaigns/" + campID} {
			if code, body := b.get(p); code != http.StatusOK || strings.Contains(body, "marketing.") {
				t.Errorf("%s: %d %s", p, code, body)
			}
		}
	})

}
