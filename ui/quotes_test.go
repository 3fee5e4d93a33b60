package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cartera/store"
)

// TestUI_Quotes drives a quote through the pages: the section on the
// opportunity, the form with blank rows and "add lines", the quote page,
// the PDF download, sending with a signed link that opens without a
// session, and another salesperson getting not_found in pages and API.
func TestUI_Quotes(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	joan := e.mustUser(admin, "joan@example.com", "salesperson")
	marta := e.mustUser(admin, "marta@example.com", "salesperson")
	acc, err := e.st.CreateRecord(ctx, joan, store.EntAccounts, store.Input{Values: map[string]any{"name": "Fusteria Puigdomènech", "email": "compres@fusteria.cat"}})
	if err != nil {
		t.Fatal(err)
	}
	opp, err := e.st.CreateRecord(ctx, joan, store.EntOpportunities, store.Input{Values: map[string]any{"name": "Taulells", "account_id": acc.ID, "stage": "proposal"}})
	if err != nil {
		t.Fatal(err)
	}
	b := e.newBrowser()
	b.login("joan@example.com", "password-123")
	oppPath := "/opportunities/" + itoa(opp.ID)
	var quotePath string

	t.Run("the opportunity page offers a new quote", func(t *testing.T) {
		code, body := b.get(oppPath)
		if code != 200 || !strings.Contains(body, oppPath+"/quotes/new") {
			t.Fatalf("%d, no new-quote link", code)
		}
		code, body = b.get(oppPath + "/quotes/new")
		if code != 200 || !strings.Contains(body, `name="lines.2.description"`) || !strings.Contains(body, `<script src="/static/quotes`) {
			t.Fatalf("form: %d", code)
		}
	})
	t.Run("add lines works without JavaScript", func(t *testing.T) {
		code, body := b.postBody("/quotes", url.Values{"opportunity_id": {itoa(opp.ID)}, "add_lines": {"1"},
			"lines.0.description": {"Taulell de roure"}, "lines.0.quantity": {"2"}, "lines.0.unit_price": {"120"}, "lines.0.tax_rate": {"21"}})
		if code != 200 || !strings.Contains(body, `name="lines.6.description"`) || !strings.Contains(body, "Taulell de roure") {
			t.Fatalf("%d", code)
		}
		if qs, _ := e.st.FindQuotes(ctx, joan, store.QuoteFilter{}); len(qs) != 0 {
			t.Fatalf("add lines saved a quote")
		}
	})
	t.Run("a bad line is shown again with its error", func(t *testing.T) {
		code, body := b.postBody("/quotes", url.Values{"opportunity_id": {itoa(opp.ID)},
			"lines.0.description": {"Taulell"}, "lines.0.quantity": {"2"}, "lines.0.unit_price": {"dotze"}, "lines.0.tax_rate": {"21"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter an amount") {
			t.Fatalf("%d", code)
		}
	})
	t.Run("creating a quote from the form", func(t *testing.T) {
		resp := b.post("/quotes", url.Values{"opportunity_id": {itoa(opp.ID)}, "notes": {"Instal·lació inclosa"},
			"lines.0.description": {"Taulell de roure"}, "lines.0.quantity": {"2"}, "lines.0.unit_price": {"120,50"}, "lines.0.discount": {"10"}, "lines.0.tax_rate": {"21"},
			"lines.1.description": {""}, "lines.1.quantity": {"1"}, "lines.1.tax_rate": {"21"},
			"lines.2.description": {"Transport"}, "lines.2.quantity": {"1"}, "lines.2.unit_price": {"40"}, "lines.2.tax_rate": {"10"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d", resp.StatusCode)
		}
		quotePath = resp.Header.Get("Location")
		code, body := b.get(quotePath)
		// 2 × 120.50 − 10 % = 216.90 (+45.55 VAT); 40.00 (+4.00) → 306.45
		if code != 200 || !strings.Contains(body, "306.45 EUR") || !strings.Contains(body, "Taulell de roure") {
			t.Fatalf("quote page %d", code)
		}
		_, body = b.get(oppPath)
		if !strings.Contains(body, quotePath) {
			t.Fatal("the opportunity page does not list the quote")
		}
	})
	t.Run("the PDF downloads", func(t *testing.T) {
		resp, err := b.c.Get(e.srv.URL + quotePath + "/pdf")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || !strings.HasPrefix(string(data), "%PDF-") {
			t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
	})
	t.Run("sending e-mails a signed link that works without signing in", func(t *testing.T) {
		code, body := b.get(quotePath)
		if code != 200 || !strings.Contains(body, "compres@fusteria.cat") {
			t.Fatalf("send form not filled: %d", code)
		}
		resp := b.post(quotePath+"/send", url.Values{"to": {"compres@fusteria.cat"}, "subject": {"Pressupost"}, "message": {"Bon dia"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("send: %d", resp.StatusCode)
		}
		msgs, err := e.st.FindOutbox(ctx, admin, store.OutboxFilter{})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("outbox: %d %v", len(msgs), err)
		}
		if a := msgs[0].Attachments; len(a) != 1 || !strings.HasSuffix(a[0].Name, ".pdf") || a[0].Type != "application/pdf" || !strings.HasPrefix(string(a[0].Data), "%PDF") {
			t.Fatalf("the e-mail does not carry the quote's PDF: %d attachments", len(a))
		}
		link := regexp.MustCompile(`http://\S+/q/\d+\.pdf\?\S+`).FindString(msgs[0].Text)
		if !strings.HasPrefix(link, e.srv.URL) {
			t.Fatalf("link %q in %q", link, msgs[0].Text)
		}
		resp2, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp2.Body.Close()
		if resp2.StatusCode != 200 || resp2.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("public link: %d", resp2.StatusCode)
		}
		resp3, err := http.Get(strings.Replace(link, "s=", "s=x", 1))
		if err != nil {
			t.Fatal(err)
		}
		resp3.Body.Close()
		if resp3.StatusCode != http.StatusNotFound {
			t.Fatalf("tampered link: %d", resp3.StatusCode)
		}
		tl, _ := e.st.Timeline(ctx, joan, store.EntOpportunities, opp.ID, 20)
		found := false
		for _, it := range tl {
			found = found || (it.Kind == "activity" && it.Type == "email")
		}
		if !found {
			t.Fatal("no e-mail activity on the opportunity")
		}
	})
	t.Run("another salesperson gets not found", func(t *testing.T) {
		mb := e.newBrowser()
		mb.login("marta@example.com", "password-123")
		if code, _ := mb.get(quotePath); code != http.StatusNotFound {
			t.Fatalf("page: %d", code)
		}
		if code, _ := mb.get(quotePath + "/pdf"); code != http.StatusNotFound {
			t.Fatalf("pdf: %d", code)
		}
		tok, _, err := e.st.CreateToken(ctx, marta, marta.UserID, "t")
		if err != nil {
			t.Fatal(err)
		}
		code, out := e.api("GET", "/api/v1"+quotePath, tok, nil)
		if errObj, _ := out["error"].(map[string]any); code != http.StatusNotFound || errObj["code"] != "not_found" {
			t.Fatalf("api: %d %v", code, out)
		}
		if code, _ := e.api("GET", "/api/v1"+quotePath+"/pdf", tok, nil); code != http.StatusNotFound {
			t.Fatalf("api pdf: %d", code)
		}
	})
	t.Run("accepting from the page moves the opportunity", func(t *testing.T) {
		resp := b.post(quotePath+"/status", url.Values{"status": {"accepted"}, "set_amount": {"1"}, "stage": {"won"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%d", resp.StatusCode)
		}
		r, _ := e.st.FindRecord(ctx, joan, store.EntOpportunities, opp.ID)
		if r.Str("stage") != "won" || r.Float("amount") != 256.90 {
			t.Fatalf("stage %s amount %v", r.Str("stage"), r.Float("amount"))
		}
	})
	t.Run("products: sales read the catalogue, settings change it", func(t *testing.T) {
		if code, _ := b.get("/products"); code != 200 {
			t.Fatalf("list: %d", code)
		}
		if resp := b.post("/products", url.Values{"code": {"X"}, "name": {"X"}, "tax_rate": {"21"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("salesperson create: %d", resp.StatusCode)
		}
		ab := e.newBrowser()
		ab.login("anna@example.com", "contrasenya-segura")
		if resp := ab.post("/products", url.Values{"code": {"SRV-1"}, "name": {"Instal·lació"}, "unit_price": {"80"}, "tax_rate": {"21"}, "active": {"1"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("admin create: %d", resp.StatusCode)
		}
		code, body := ab.get("/products/export.csv")
		if code != 200 || !strings.Contains(body, "SRV-1,Instal·lació,,80.00,21,,1") {
			t.Fatalf("export %d: %s", code, body)
		}
		if code, _ := ab.get("/settings/quotes"); code != 200 {
			t.Fatalf("settings: %d", code)
		}
	})
}
