package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cartera/store"
)

// TestUI_Inbox covers the inbox page: each user sees the dropbox messages
// they sent or received, links one to a contact by its e-mail address (it
// lands on the contact's timeline once), discards another, and cannot touch
// someone else's; the JSON API lists the same messages.
func TestUI_Inbox(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	marc := e.mustUser(admin, "marc@example.com", "salesperson")
	e.mustUser(admin, "pere@example.com", "salesperson")
	laura, err := e.st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Laura", "last_name": "Vidal", "email": "laura@client.example"}})
	if err != nil {
		t.Fatal(err)
	}
	sys := store.SystemActor()
	logMsg := func(id, from, to, subject, text string) int64 {
		t.Helper()
		m, _, err := e.st.LogInboundEmail(ctx, sys, store.InboundEmail{MessageID: id, From: store.MailAddress{Email: from},
			To: []store.MailAddress{{Email: to}}, Subject: subject, Text: text})
		if err != nil || m.Status != store.InboundUnmatched {
			t.Fatalf("log %s: %v %+v", id, err, m)
		}
		return m.ID
	}
	// Marc wrote to Laura's new address, not yet on her record.
	toLaura := logMsg("a@example.com", "marc@example.com", "laura.vidal@client.example", "Visita dijous", "Ens veiem <dijous>.")
	spam := logMsg("b@nowhere.example", "offers@nowhere.example", "marc@example.com", "Oferta", "Compri ara")
	nobody := logMsg("c@nowhere.example", "x@nowhere.example", "info@empresa.example", "Per a ningú", "Hola")

	b := e.newBrowser()
	b.login("marc@example.com", "password-123")

	t.Run("the inbox lists the user's waiting messages", func(t *testing.T) {
		code, body := b.get("/inbox")
		if code != http.StatusOK {
			t.Fatalf("inbox: %d", code)
		}
		for _, want := range []string{`href="/inbox"`, "Visita dijous", "Oferta", "Ens veiem &lt;dijous&gt;.", `value="laura.vidal@client.example"`, "Sent to", "Received from"} {
			if !strings.Contains(body, want) {
				t.Errorf("inbox lacks %q", want)
			}
		}
		if strings.Contains(body, "Per a ningú") {
			t.Error("marc sees a message that is not his")
		}
		if strings.Contains(body, "inbox.") {
			t.Error("an untranslated key on the page")
		}
	})

	t.Run("link by an unknown address is refused and changes nothing", func(t *testing.T) {
		resp := b.post("/inbox/"+itoa64(toLaura)+"/link", url.Values{"entity": {"contacts"}, "record": {"laura.vidal@client.example"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", resp.StatusCode)
		}
		_, body := b.get("/inbox")
		if !strings.Contains(body, "No contact or lead you can see has that e-mail address or number.") {
			t.Error("no error message")
		}
		if m, _ := e.st.GetInbound(ctx, admin, toLaura); m.Status != store.InboundUnmatched {
			t.Fatalf("status %s", m.Status)
		}
	})

	t.Run("link by e-mail logs it on the contact once", func(t *testing.T) {
		resp := b.post("/inbox/"+itoa64(toLaura)+"/link", url.Values{"entity": {"contacts"}, "record": {"LAURA@client.example"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", resp.StatusCode)
		}
		m, _ := e.st.GetInbound(ctx, admin, toLaura)
		if m.Status != store.InboundLogged || len(m.Links) != 1 || m.Links[0].RecordID != laura.ID {
			t.Fatalf("message: %+v", m)
		}
		items, _ := e.st.Timeline(ctx, admin, store.EntContacts, laura.ID, 0)
		n := 0
		for _, it := range items {
			if it.Kind == "activity" && it.Subject == "Visita dijous" && it.UserName == marc.Name {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d activities on Laura's timeline", n)
		}
		_, body := b.get("/inbox")
		if !strings.Contains(body, "The e-mail is logged on the record") || strings.Contains(body, "Visita dijous") {
			t.Error("inbox after linking")
		}
		// Linking again is refused.
		b.post("/inbox/"+itoa64(toLaura)+"/link", url.Values{"entity": {"contacts"}, "record": {itoa64(laura.ID)}})
		if _, body = b.get("/inbox"); !strings.Contains(body, "This e-mail was already linked or discarded.") {
			t.Error("no conflict message")
		}
		_, body = b.get("/inbox?status=logged")
		if !strings.Contains(body, "Visita dijous") || !strings.Contains(body, `href="/contacts/`+itoa64(laura.ID)+`"`) {
			t.Error("logged list lacks the message and its record")
		}
	})

	t.Run("another user cannot touch it; its user discards it", func(t *testing.T) {
		pere := e.newBrowser()
		pere.login("pere@example.com", "password-123")
		if _, body := pere.get("/inbox"); strings.Contains(body, "Oferta") {
			t.Error("pere sees marc's message")
		}
		if resp := pere.post("/inbox/"+itoa64(spam)+"/discard", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("pere's discard: %d", resp.StatusCode)
		}
		if resp := pere.post("/inbox/"+itoa64(spam)+"/link", url.Values{"entity": {"contacts"}, "record": {itoa64(laura.ID)}}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("pere's link: %d", resp.StatusCode)
		}
		if resp := b.post("/inbox/"+itoa64(spam)+"/discard", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("discard: %d", resp.StatusCode)
		}
		if m, _ := e.st.GetInbound(ctx, admin, spam); m.Status != store.InboundDiscarded || m.Text != "" {
			t.Fatalf("discarded: %+v", m)
		}
	})

	t.Run("API lists waiting messages by user", func(t *testing.T) {
		tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "")
		if err != nil {
			t.Fatal(err)
		}
		code, out := e.api(http.MethodGet, "/api/v1/inbox", tok, nil)
		data, _ := out["data"].([]any)
		if code != http.StatusOK || len(data) != 1 || data[0].(map[string]any)["id"] != itoa64(nobody) || data[0].(map[string]any)["direction"] != "in" {
			t.Fatalf("admin API: %d %v", code, out)
		}
		mtok, _, _ := e.st.CreateToken(ctx, marc, marc.UserID, "")
		code, out = e.api(http.MethodGet, "/api/v1/inbox?status=logged", mtok, nil)
		data, _ = out["data"].([]any)
		if code != http.StatusOK || len(data) != 1 || data[0].(map[string]any)["subject"] != "Visita dijous" {
			t.Fatalf("marc's API: %d %v", code, out)
		}
		if code, _ = e.api(http.MethodGet, "/api/v1/inbox?status=bogus", mtok, nil); code != http.StatusUnprocessableEntity {
			t.Fatalf("bad status: %d", code)
		}
	})

	t.Run("pages in Catalan", func(t *testing.T) {
		ca := e.newBrowser()
		ca.login("anna@example.com", "contrasenya-segura")
		ca.post("/language", url.Values{"lang": {"ca"}})
		_, body := ca.get("/inbox")
		if !strings.Contains(body, "Safata d&#39;entrada") && !strings.Contains(body, "Safata d'entrada") {
			t.Fatalf("not in Catalan: %s", body)
		}
	})
}

func itoa64(v int64) string { return strconvFormat(v) }
