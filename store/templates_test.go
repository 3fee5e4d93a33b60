package store_test

import (
	"context"
	"strings"
	"testing"

	"cartera/store"
)

// labelKeys names options by key, standing in for the catalogs.
func labelKeys(lang, list, key string) string { return lang + ":" + key }

// TestStore_EmailTemplates covers saving, merge-field validation, and
// rendering with custom fields, the client, the owner and the company,
// escaped in HTML and never reaching outside the allow-listed map.
func TestStore_EmailTemplates(t *testing.T) {
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	ctx := context.Background()
	if _, err := s.CreateCustomField(ctx, admin, store.EntContacts, store.CustomFieldInput{Key: "contact_preference", Kind: store.KSelect, Labels: store.Labels{"en": "Preference"},
		Options: []store.Option{{Key: "phone", Labels: store.Labels{"ca": "Telèfon", "en": "Phone"}}}}); err != nil {
		t.Fatal(err)
	}
	acc, _ := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Empresa <ABC>"}})
	c, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Laura", "email": "laura@example.com", "account_id": acc.ID}, Custom: map[string]any{"contact_preference": "phone"}})
	if err != nil {
		t.Fatal(err)
	}
	tpl := &store.EmailTemplate{Name: "Seguiment", Language: "ca", Entity: store.EntContacts, Subject: "Hola {{contact.first_name}}",
		BodyText: "De {{ account.name }}: {{contact.contact_preference}} — {{owner.name}}, {{company.name}}", BodyHTML: "<p>{{account.name}}</p>"}
	t.Run("save and render", func(t *testing.T) {
		if err := s.SaveEmailTemplate(ctx, admin, tpl); err != nil {
			t.Fatal(err)
		}
		r, err := s.RenderEmailTemplate(ctx, admin, tpl, c.ID, labelKeys)
		if err != nil {
			t.Fatal(err)
		}
		if r.Subject != "Hola Laura" || r.To != "laura@example.com" {
			t.Errorf("subject %q to %q", r.Subject, r.To)
		}
		if !strings.Contains(r.Text, "De Empresa <ABC>: ca:phone — ") || r.HTML != "<p>Empresa &lt;ABC&gt;</p>" {
			t.Errorf("text %q html %q", r.Text, r.HTML)
		}
	})
	t.Run("unknown merge fields and header injection refused", func(t *testing.T) {
		for _, bad := range []*store.EmailTemplate{
			{Name: "x", Language: "ca", Entity: store.EntContacts, Subject: "Hola", BodyText: "{{contact.password_hash}}"},
			{Name: "y", Language: "ca", Entity: store.EntContacts, Subject: "Hola", BodyText: "{{config.mail_password}}"},
			{Name: "z", Language: "ca", Entity: store.EntContacts, Subject: "Hola\r\nBcc: x@example.com", BodyText: "text"},
		} {
			if err := s.SaveEmailTemplate(ctx, admin, bad); store.ErrorCode(err) != store.CodeInvalid {
				t.Errorf("%q accepted: %v", bad.BodyText+bad.Subject, err)
			}
		}
	})
	t.Run("a value with a line break stays in the subject's one line", func(t *testing.T) {
		evil, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Eva", "notes": "Nota\r\nBcc: x@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		tt := &store.EmailTemplate{Name: "t", Language: "ca", Entity: store.EntContacts, Subject: "Per a {{contact.notes}}", BodyText: "x"}
		r, err := s.PreviewEmailTemplate(ctx, admin, tt, evil.ID, labelKeys)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(r.Subject, "\r\n") {
			t.Errorf("subject %q", r.Subject)
		}
	})
	t.Run("salesperson may use but not change templates", func(t *testing.T) {
		sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
		if list, err := s.FindEmailTemplates(ctx, sales, store.EntContacts); err != nil || len(list) != 1 {
			t.Errorf("list: %v %d", err, len(list))
		}
		if err := s.SaveEmailTemplate(ctx, sales, &store.EmailTemplate{Name: "s", Language: "ca", Entity: store.EntContacts, Subject: "x", BodyText: "y"}); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("save: %v", err)
		}
	})
}
