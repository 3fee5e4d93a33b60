package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cartera/store"
)

// TestUI_RecordEmail writes to a contact from its page with a template:
// the message waits in the outbox with the user as Reply-To and the
// e-mail is in the contact's history.
func TestUI_RecordEmail(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	laura := createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "last_name": {"García"}, "email": {"laura@example.com"}})
	nomail := createByForm(t, b, "contacts", url.Values{"first_name": {"Pere"}})
	tpl := &store.EmailTemplate{Name: "Oferta", Language: "ca", Entity: store.EntContacts, Subject: "Oferta per a {{contact.first_name}}", BodyText: "Hola {{contact.first_name}}, us enviem l'oferta."}
	if err := e.st.SaveEmailTemplate(ctx, admin, tpl); err != nil {
		t.Fatal(err)
	}
	t.Run("the template fills the form", func(t *testing.T) {
		code, body := b.get("/contacts/" + laura + "/email?template=" + strconvFormat(tpl.ID))
		if code != 200 || !strings.Contains(body, `value="Oferta per a Laura"`) || !strings.Contains(body, "Hola Laura, us enviem") {
			t.Errorf("form: %d", code)
		}
	})
	t.Run("send: outbox and history", func(t *testing.T) {
		resp := b.post("/contacts/"+laura+"/email", url.Values{"subject": {"Oferta per a Laura"}, "body": {"Hola Laura"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("send: %d", resp.StatusCode)
		}
		msgs, err := e.st.FindOutbox(ctx, admin, store.OutboxFilter{})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("outbox: %v %d", err, len(msgs))
		}
		m := msgs[0]
		if m.To != "laura@example.com" || m.ReplyTo != "anna@example.com" || m.Subject != "Oferta per a Laura" {
			t.Errorf("message %+v", m)
		}
		_, body := b.get("/contacts/" + laura)
		if !strings.Contains(body, "Oferta per a Laura") {
			t.Error("the e-mail is not in the contact's history")
		}
		tok, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "test")
		code, got := e.api("GET", "/api/v1/outbox?status=pending", tok, nil)
		if data, _ := got["data"].([]any); code != 200 || len(data) != 1 || data[0].(map[string]any)["to"] != "laura@example.com" {
			t.Errorf("outbox API: %d %v", code, got)
		}
	})
	t.Run("refusals change nothing", func(t *testing.T) {
		if code, _ := b.postBody("/contacts/"+nomail+"/email", url.Values{"subject": {"Hola"}, "body": {"x"}}); code != http.StatusUnprocessableEntity {
			t.Errorf("no address: %d", code)
		}
		if code, _ := b.postBody("/contacts/"+laura+"/email", url.Values{"subject": {""}, "body": {"x"}}); code != http.StatusUnprocessableEntity {
			t.Errorf("no subject: %d", code)
		}
		if code, _ := b.postBody("/contacts/"+laura+"/email", url.Values{"subject": {"Hola\r\nBcc: x@example.com"}, "body": {"x"}}); code != http.StatusUnprocessableEntity {
			t.Errorf("header injection: %d", code)
		}
		if msgs, _ := e.st.FindOutbox(ctx, admin, store.OutboxFilter{}); len(msgs) != 1 {
			t.Errorf("outbox has %d messages", len(msgs))
		}
	})
}
