package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUI_EmailTemplates writes a template with a custom merge field,
// previews it against a real contact in the firm's labels, saves it, and
// uses the API.
func TestUI_EmailTemplates(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	mustSeed000Fields(t, e.st, admin)
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	laura := createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "email": {"laura@example.com"}, "custom.contact_preference": {"phone"}})
	form := url.Values{"name": {"Seguiment"}, "language": {"ca"}, "entity": {"contacts"}, "subject": {"Hola {{contact.first_name}}"},
		"body_text": {"Us trucarem per {{contact.contact_preference}}. {{owner.name}}"}, "body_html": {"<p>Hola <b>{{contact.first_name}}</b></p>"}}

	t.Run("preview against a record, in the template's language", func(t *testing.T) {
		pv := url.Values{"preview": {"1"}, "preview_id": {laura}}
		for k, v := range form {
			pv[k] = v
		}
		code, body := b.postBody("/settings/templates", pv)
		if code != 200 || !strings.Contains(body, "Hola Laura") || !strings.Contains(body, "Us trucarem per Telèfon. Anna Puig") {
			t.Errorf("preview: %d\n%s", code, body)
		}
		if list, _ := e.st.FindEmailTemplates(ctx, admin, ""); len(list) != 0 {
			t.Error("a preview saved the template")
		}
	})
	t.Run("unknown merge field refused", func(t *testing.T) {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("body_text", "{{contact.password}}")
		if code, _ := b.postBody("/settings/templates", bad); code != http.StatusUnprocessableEntity {
			t.Errorf("code %d", code)
		}
	})
	t.Run("save, list, API", func(t *testing.T) {
		resp := b.post("/settings/templates", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", resp.StatusCode)
		}
		_, body := b.get("/settings/templates")
		if !strings.Contains(body, "Seguiment") {
			t.Error("list lacks the template")
		}
		tok, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "test")
		code, got := e.api("GET", "/api/v1/templates", tok, nil)
		if data, _ := got["data"].([]any); code != 200 || len(data) != 1 {
			t.Errorf("API list: %d %v", code, got)
		}
		code, got = e.api("POST", "/api/v1/templates", tok, strings.NewReader(`{"name":"Welcome","language":"en","entity":"leads","subject":"Welcome {{lead.first_name}}","body":"Hi"}`))
		if code != http.StatusCreated {
			t.Errorf("API create: %d %v", code, got)
		}
		code, _ = e.api("POST", "/api/v1/templates", tok, strings.NewReader(`{"name":"Bad","language":"en","subject":"x","body":"{{company.secret}}"}`))
		if code != http.StatusUnprocessableEntity {
			t.Errorf("API bad field: %d", code)
		}
	})
	t.Run("salesperson cannot edit templates", func(t *testing.T) {
		e.mustUser(admin, "sales@example.com", "salesperson")
		sb := e.newBrowser()
		sb.login("sales@example.com", "password-123")
		if code, _ := sb.get("/settings/templates"); code != http.StatusForbidden {
			t.Errorf("code %d", code)
		}
	})
}

// TestAPI_ReportCustom runs a custom report over the API, as JSON and CSV.
func TestAPI_ReportCustom(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	mustSeed000Fields(t, e.st, admin)
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "custom.contact_preference": {"phone"}})
	createByForm(t, b, "contacts", url.Values{"first_name": {"Marc"}, "custom.contact_preference": {"phone"}})
	createByForm(t, b, "contacts", url.Values{"first_name": {"Pere"}, "custom.contact_preference": {"email"}})
	tok, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "test")
	code, got := e.api("GET", "/api/v1/reports/custom?entity=contacts&group=custom.contact_preference&measure=count", tok, nil)
	rows, _ := got["rows"].([]any)
	if code != 200 || len(rows) != 2 || rows[1].([]any)[0] != "phone" || rows[1].([]any)[1].(float64) != 2 {
		t.Fatalf("report: %d %v", code, got)
	}
	code, got = e.api("GET", "/api/v1/reports/custom?entity=contacts&group=custom.contact_preference&custom.contact_preference=email", tok, nil)
	if rows, _ := got["rows"].([]any); code != 200 || len(rows) != 1 {
		t.Errorf("filtered report: %d %v", code, got)
	}
	if code, _ := e.api("GET", "/api/v1/reports/custom?entity=contacts&measure=sum:first_name", tok, nil); code != http.StatusUnprocessableEntity {
		t.Errorf("sum of a text: %d", code)
	}
	code, _, body := b.download("/api/v1/reports/custom?entity=contacts&group=owner&format=csv")
	if code != http.StatusUnauthorized {
		t.Errorf("a browser session is not an API token: %d %s", code, body)
	}
}
