package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"cartera/store"
)

// mustSeed000Fields adds seed 000's example fields to contacts.
func mustSeed000Fields(t *testing.T, st *store.Store, admin *store.Actor) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.CreateCustomField(ctx, admin, store.EntContacts, store.CustomFieldInput{
		Key: "birth_date", Kind: store.KDate, Section: "Personal",
		Labels: store.Labels{"ca": "Data de naixement", "es": "Fecha de nacimiento", "en": "Date of birth"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateCustomField(ctx, admin, store.EntContacts, store.CustomFieldInput{
		Key: "contact_preference", Kind: store.KSelect, List: true, Filterable: true, Section: "Personal",
		Labels: store.Labels{"ca": "Preferències de contacte", "en": "Contact preference"},
		Options: []store.Option{
			{Key: "email", Labels: store.Labels{"ca": "Correu electrònic", "en": "E-mail"}},
			{Key: "phone", Labels: store.Labels{"ca": "Telèfon", "en": "Phone"}},
			{Key: "fax", Labels: store.Labels{"ca": "Fax", "en": "Fax"}},
		},
	}); err != nil {
		t.Fatal(err)
	}
}

// TestUI_CustomFieldsOnRecords checks custom fields on the record form,
// page, list column and filter, and in the API, with the firm's labels.
func TestUI_CustomFieldsOnRecords(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	mustSeed000Fields(t, e.st, admin)
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")

	t.Run("form shows custom fields in their section", func(t *testing.T) {
		code, body := b.get("/contacts/new")
		if code != 200 {
			t.Fatalf("new form: %d", code)
		}
		for _, want := range []string{`name="custom.birth_date"`, `type="date"`, "Date of birth", `name="custom.contact_preference"`, "Contact preference", "Phone", ">Personal</h2>"} {
			if !strings.Contains(body, want) {
				t.Errorf("form lacks %q", want)
			}
		}
	})
	var id string
	t.Run("create with custom values", func(t *testing.T) {
		id = createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "last_name": {"García"},
			"custom.birth_date": {"1980-05-17"}, "custom.contact_preference": {"phone"}})
		rec, err := e.st.FindRecord(ctx, admin, store.EntContacts, mustInt(t, id))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Custom["birth_date"] != "1980-05-17" || rec.Custom["contact_preference"] != "phone" {
			t.Fatalf("custom = %v", rec.Custom)
		}
		code, body := b.get("/contacts/" + id)
		if code != 200 || !strings.Contains(body, "Date of birth") || !strings.Contains(body, "17 May 1980") || !strings.Contains(body, "Phone") {
			t.Errorf("record page: %d", code)
		}
	})
	t.Run("invalid custom value is refused with the field named", func(t *testing.T) {
		code, body := b.postBody("/contacts", url.Values{"first_name": {"Marc"}, "custom.birth_date": {"17/05/1980"}, "custom.contact_preference": {"pigeon"}})
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("code = %d", code)
		}
		if !strings.Contains(body, `id="e-custom-birth_date"`) || !strings.Contains(body, `id="e-custom-contact_preference"`) {
			t.Error("field errors not shown beside the custom fields")
		}
		n, _ := e.st.CountRecords(ctx, admin, store.EntContacts, store.Filter{})
		if n != 1 {
			t.Errorf("contacts = %d, want 1 (nothing stored)", n)
		}
	})
	t.Run("list column and filter", func(t *testing.T) {
		createByForm(t, b, "contacts", url.Values{"first_name": {"Marc"}, "last_name": {"Ferrer"}, "custom.contact_preference": {"email"}})
		code, body := b.get("/contacts?custom.contact_preference=phone")
		if code != 200 || !strings.Contains(body, "García") || strings.Contains(body, "Ferrer") {
			t.Errorf("filter: %d", code)
		}
		if !strings.Contains(body, "<th scope=\"col\">Contact preference</th>") {
			t.Error("no custom list column")
		}
	})
	t.Run("edit keeps and changes custom values", func(t *testing.T) {
		resp := b.post("/contacts/"+id, url.Values{"first_name": {"Laura"}, "last_name": {"García"}, "custom.birth_date": {"1980-05-17"}, "custom.contact_preference": {"email"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit = %d", resp.StatusCode)
		}
		_, body := b.get("/contacts/" + id)
		if !strings.Contains(body, "Contact preference") || !strings.Contains(body, "E-mail") {
			t.Error("changed value not shown")
		}
	})
	t.Run("API carries custom values and names a bad one", func(t *testing.T) {
		tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "test")
		if err != nil {
			t.Fatal(err)
		}
		code, got := e.api("GET", "/api/v1/contacts/"+id, tok, nil)
		custom, _ := got["custom"].(map[string]any)
		if code != 200 || custom["birth_date"] != "1980-05-17" {
			t.Fatalf("get: %d %v", code, got)
		}
		code, got = e.api("GET", "/api/v1/contacts?custom.contact_preference=email", tok, nil)
		if data, _ := got["data"].([]any); code != 200 || len(data) != 2 {
			t.Fatalf("API custom filter: %d %v", code, got)
		}
		code, got = e.api("POST", "/api/v1/contacts", tok, strings.NewReader(`{"first_name":"Pere","custom":{"birth_date":"not a date"}}`))
		fields := apiFields(got)
		if code != http.StatusUnprocessableEntity || fields["custom.birth_date"] == nil {
			t.Fatalf("bad value: %d %v", code, got)
		}
		code, got = e.api("POST", "/api/v1/contacts", tok, strings.NewReader(`{"first_name":"Pere","custom":{"unknown_key":"x"}}`))
		fields = apiFields(got)
		if code != http.StatusUnprocessableEntity || fields["custom.unknown_key"] == nil {
			t.Fatalf("unknown key: %d %v", code, got)
		}
	})
	t.Run("retired option kept on old records, not offered for new ones", func(t *testing.T) {
		c, _ := e.st.Schema().CustomField(store.EntContacts, "contact_preference")
		opts := append([]store.Option(nil), c.Options...)
		opts[2].Retired = true // fax
		if _, err := e.st.UpdateCustomField(ctx, admin, store.EntContacts, "contact_preference", store.CustomFieldInput{Labels: c.Labels, List: true, Filterable: true, Options: opts}); err != nil {
			t.Fatal(err)
		}
		_, body := b.get("/contacts/new")
		if strings.Contains(body, ">Fax<") {
			t.Error("retired option offered on a new record")
		}
		code, _ := b.postBody("/contacts", url.Values{"first_name": {"Joan"}, "custom.contact_preference": {"fax"}})
		if code != http.StatusUnprocessableEntity {
			t.Errorf("retired option accepted: %d", code)
		}
	})
}

// TestUI_StandardFieldSettings checks renamed, hidden and required standard
// fields on forms and on every write path.
func TestUI_StandardFieldSettings(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	if err := e.st.SaveFieldSetting(ctx, admin, store.EntAccounts, "name", store.FieldSetting{Labels: store.Labels{"ca": "Client", "es": "Cliente", "en": "Client"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SaveFieldSetting(ctx, admin, store.EntAccounts, "tax_id", store.FieldSetting{Required: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SaveFieldSetting(ctx, admin, store.EntAccounts, "region", store.FieldSetting{Hidden: true}); err != nil {
		t.Fatal(err)
	}
	t.Run("renamed label in each language", func(t *testing.T) {
		for lang, want := range map[string]string{"ca": "Client", "es": "Cliente", "en": "Client"} {
			b.post("/language", url.Values{"lang": {lang}})
			_, body := b.get("/accounts/new")
			if !strings.Contains(body, `<label for="f-name">`+want) {
				t.Errorf("%s: label %q not shown", lang, want)
			}
		}
		b.post("/language", url.Values{"lang": {"en"}})
	})
	t.Run("hidden field left off the form", func(t *testing.T) {
		_, body := b.get("/accounts/new")
		if strings.Contains(body, `name="region"`) {
			t.Error("hidden field on the form")
		}
	})
	t.Run("required field refused through the UI and the API", func(t *testing.T) {
		code, _ := b.postBody("/accounts", url.Values{"name": {"Empresa ABC"}})
		if code != http.StatusUnprocessableEntity {
			t.Errorf("UI create without tax id: %d", code)
		}
		tok, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "test")
		code, got := e.api("POST", "/api/v1/accounts", tok, strings.NewReader(`{"name":"Empresa ABC"}`))
		fields := apiFields(got)
		if code != http.StatusUnprocessableEntity || fields["tax_id"] == nil {
			t.Errorf("API create without tax id: %d %v", code, got)
		}
		createByForm(t, b, "accounts", url.Values{"name": {"Empresa ABC"}, "tax_id": {"B12345678"}})
	})
}

// TestUI_SecondPipeline shows a second pipeline's board with its own stages.
func TestUI_SecondPipeline(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	if err := e.st.SavePipeline(ctx, admin, store.Pipeline{Key: "renewals", Labels: store.Labels{"ca": "Renovacions", "en": "Renewals"}}); err != nil {
		t.Fatal(err)
	}
	stages := []store.Option{
		{Key: "due", Labels: store.Labels{"en": "Renewal due"}, StageKind: "open", Probability: 60},
		{Key: "renewed", Labels: store.Labels{"en": "Renewed"}, StageKind: "won", Probability: 100},
		{Key: "churned", Labels: store.Labels{"en": "Churned"}, StageKind: "lost"},
	}
	if err := e.st.SavePicklist(ctx, admin, store.StageList("renewals"), stages); err != nil {
		t.Fatal(err)
	}
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	id := createByForm(t, b, "opportunities", url.Values{"name": {"Renovació 2027"}, "pipeline": {"renewals"}, "amount": {"1200"}})
	rec, err := e.st.FindRecord(ctx, admin, store.EntOpportunities, mustInt(t, id))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Str("stage") != "due" || rec.Int("probability") != 60 {
		t.Errorf("new renewal: stage %q probability %d", rec.Str("stage"), rec.Int("probability"))
	}
	code, body := b.get("/opportunities/board?pipeline=renewals")
	if code != 200 || !strings.Contains(body, "Renewal due") || !strings.Contains(body, "Renovació 2027") || strings.Contains(body, ">Qualification<") {
		t.Errorf("renewals board: %d", code)
	}
	code, body = b.get("/opportunities/board")
	if code != 200 || strings.Contains(body, "Renovació 2027") {
		t.Errorf("default board shows the renewal: %d", code)
	}
	// A stage of another pipeline is refused.
	code, _ = b.postBody("/opportunities/"+id, url.Values{"name": {"Renovació 2027"}, "pipeline": {"renewals"}, "stage": {"proposal"}})
	if code != http.StatusUnprocessableEntity {
		t.Errorf("foreign stage accepted: %d", code)
	}
}

// apiFields returns the field errors of an API error answer.
func apiFields(res map[string]any) map[string]any {
	e, _ := res["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUI_CustomFieldKinds posts a valid and an invalid value of every
// custom field kind through the HTML form and the JSON API.
func TestUI_CustomFieldKinds(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	acc, err := e.st.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Empresa ABC"}})
	if err != nil {
		t.Fatal(err)
	}
	opts := []store.Option{{Key: "op_a", Labels: store.Labels{"en": "A"}}, {Key: "op_b", Labels: store.Labels{"en": "B"}}}
	kinds := []struct {
		kind         store.Kind
		good, bad    string // form values
		goodJSON     string // JSON values
		badJSON      string
		want         any // stored value of good
		wantJSONGood any
	}{
		{store.KText, "Hola", "", `"Hola"`, `{"x":1}`, "Hola", "Hola"},
		{store.KLongText, "Línia 1\nLínia 2", "", `"Llarg"`, `[1]`, "Línia 1\nLínia 2", "Llarg"},
		{store.KNumber, "12,5", "dotze", `12.5`, `"dotze"`, 12.5, 12.5},
		{store.KMoney, "1.234,50", "molts", `1234.5`, `true`, 1234.5, 1234.5},
		{store.KDate, "2024-02-29", "2023-02-29", `"2024-02-29"`, `"29/02/2024"`, "2024-02-29", "2024-02-29"},
		{store.KDateTime, "2024-03-01T10:30", "ahir", `"2024-03-01T09:30:00Z"`, `"ahir"`, "2024-03-01T09:30:00Z", "2024-03-01T09:30:00Z"},
		{store.KBool, "1", "potser", `true`, `"potser"`, true, true},
		{store.KEmail, " laura@example.com ", "laura@", `"laura@example.com"`, `"laura"`, "laura@example.com", "laura@example.com"},
		{store.KPhone, "+34 600 000 000", "", `"+34 600 000 000"`, `[12]`, "+34 600 000 000", "+34 600 000 000"},
		{store.KURL, "empresa.cat", "javascript:alert(1)", `"https://empresa.cat"`, `"ftp://x"`, "https://empresa.cat", "https://empresa.cat"},
		{store.KSelect, "op_a", "op_z", `"op_b"`, `"op_z"`, "op_a", "op_b"},
		{store.KMulti, "op_a", "op_z", `["op_a","op_b"]`, `["op_z"]`, []string{"op_a"}, []string{"op_a", "op_b"}},
		{store.KRef, strconv.FormatInt(acc.ID, 10), "999999", strconv.Quote(strconv.FormatInt(acc.ID, 10)), `"999999"`, acc.ID, acc.ID},
	}
	for _, k := range kinds {
		in := store.CustomFieldInput{Key: "f_" + string(k.kind), Kind: k.kind, Labels: store.Labels{"en": "F " + string(k.kind)}}
		if k.kind == store.KSelect || k.kind == store.KMulti {
			in.Options = opts
		}
		if k.kind == store.KRef {
			in.Ref = store.EntAccounts
		}
		if _, err := e.st.CreateCustomField(ctx, admin, store.EntLeads, in); err != nil {
			t.Fatalf("%s: %v", k.kind, err)
		}
	}
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "test")
	if err != nil {
		t.Fatal(err)
	}
	same := func(got, want any) bool {
		if w, ok := want.([]string); ok {
			g, _ := got.([]string)
			if g == nil {
				if ga, ok := got.([]any); ok {
					for _, x := range ga {
						g = append(g, x.(string))
					}
				}
			}
			return strings.Join(g, ",") == strings.Join(w, ",")
		}
		if w, ok := want.(int64); ok {
			switch g := got.(type) {
			case int64:
				return g == w
			case float64:
				return int64(g) == w
			}
			return false
		}
		return got == want
	}
	for _, k := range kinds {
		key := "f_" + string(k.kind)
		t.Run(string(k.kind), func(t *testing.T) {
			id := createByForm(t, b, "leads", url.Values{"last_name": {"Form " + string(k.kind)}, "custom." + key: {k.good}})
			rec, err := e.st.FindRecord(ctx, admin, store.EntLeads, mustInt(t, id))
			if err != nil {
				t.Fatal(err)
			}
			if !same(rec.Custom[key], k.want) {
				t.Errorf("form stored %#v, want %#v", rec.Custom[key], k.want)
			}
			if k.bad != "" {
				code, body := b.postBody("/leads", url.Values{"last_name": {"Bad " + string(k.kind)}, "custom." + key: {k.bad}})
				if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-custom-`+key+`"`) {
					t.Errorf("form accepted %q: %d", k.bad, code)
				}
			}
			code, got := e.api("POST", "/api/v1/leads", tok, strings.NewReader(`{"last_name":"API","custom":{"`+key+`":`+k.goodJSON+`}}`))
			custom, _ := got["custom"].(map[string]any)
			if code != http.StatusCreated || !same(custom[key], k.wantJSONGood) {
				t.Errorf("API good: %d %v", code, got)
			}
			code, got = e.api("POST", "/api/v1/leads", tok, strings.NewReader(`{"last_name":"API bad","custom":{"`+key+`":`+k.badJSON+`}}`))
			if code != http.StatusUnprocessableEntity || apiFields(got)["custom."+key] == nil {
				t.Errorf("API accepted %s: %d %v", k.badJSON, code, got)
			}
		})
	}
	n, err := e.st.CountRecords(ctx, admin, store.EntLeads, store.Filter{Q: "bad"})
	if err != nil || n != 0 {
		t.Errorf("refused leads stored: %d %v", n, err)
	}
}
