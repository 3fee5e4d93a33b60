package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cartera/store"
)

// optionRows adds option editor rows (key, ca, es, en, retired) to a form.
func optionRows(f url.Values, rows ...[5]string) url.Values {
	f.Set("option_rows", strconvFormat(int64(len(rows))))
	for i, r := range rows {
		p := "opt." + strconvFormat(int64(i)) + "."
		f.Set(p+"key", r[0])
		f.Set(p+"label.ca", r[1])
		f.Set(p+"label.es", r[2])
		f.Set(p+"label.en", r[3])
		f.Set(p+"pos", strconvFormat(int64(i+1)*10))
		if r[4] != "" {
			f.Set(p+"retired", "1")
		}
	}
	return f
}

// existingRows marks the first n option rows as existing options.
func existingRows(f url.Values, n int) url.Values {
	for i := range n {
		f.Set("opt."+strconvFormat(int64(i))+".existing", "1")
	}
	return f
}

func mustSee(t *testing.T, b *browser, resp *http.Response, want string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Fatalf("status %d, location %q; want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

// TestUI_FieldSettings covers the fields pages: every page renders, seed
// 000's custom fields are made through the forms, standard fields are
// renamed, hidden and required, and custom fields are removed and purged.
func TestUI_FieldSettings(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")

	t.Run("pages render", func(t *testing.T) {
		code, body := b.get("/settings")
		for _, href := range []string{"/settings/fields", "/settings/picklists", "/settings/pipelines", "/settings/activity-rules"} {
			if code != 200 || !strings.Contains(body, `href="`+href+`"`) {
				t.Errorf("settings index lacks %s (%d)", href, code)
			}
		}
		for path, want := range map[string]string{
			"/settings/fields":              "Custom fields: 0",
			"/settings/fields/contacts":     "Standard fields",
			"/settings/fields/contacts/new": "Multiple select",
			"/settings/fields/tasks":        "No custom fields yet.",
		} {
			code, body := b.get(path)
			if code != 200 || !strings.Contains(body, want) {
				t.Errorf("%s: %d, want %q", path, code, want)
			}
		}
		if code, _ := b.get("/settings/fields/contacts/custom/nope"); code != 404 {
			t.Errorf("unknown field: %d", code)
		}
	})

	t.Run("seed 000 example through the forms", func(t *testing.T) {
		resp := b.post("/settings/fields/contacts/custom", url.Values{
			"key": {"birth_date"}, "type": {"date"},
			"label.ca": {"Data de naixement"}, "label.es": {"Fecha de nacimiento"}, "label.en": {"Date of birth"},
			"list": {"1"}, "option_rows": {"5"},
		})
		mustSee(t, b, resp, "/settings/fields/contacts/custom/birth_date")
		f := optionRows(url.Values{
			"key": {"contact_preference"}, "type": {"select"},
			"label.ca": {"Preferències de contacte"}, "label.es": {"Preferencias de contacto"}, "label.en": {"Contact preferences"},
			"filterable": {"1"},
		},
			[5]string{"email", "Correu electrònic", "Correo electrónico", "E-mail", ""},
			[5]string{"phone", "Telèfon", "Teléfono", "Phone", ""},
			[5]string{"", "", "", "", ""},
		)
		mustSee(t, b, b.post("/settings/fields/contacts/custom", f), "/settings/fields/contacts/custom/contact_preference")
		sc := e.st.Schema()
		bd, ok := sc.CustomField(store.EntContacts, "birth_date")
		if !ok || bd.Kind != store.KDate || bd.Labels["ca"] != "Data de naixement" || !bd.List {
			t.Fatalf("birth_date = %+v", bd)
		}
		cp, ok := sc.CustomField(store.EntContacts, "contact_preference")
		if !ok || len(cp.Options) != 2 || cp.Options[0].Labels["ca"] != "Correu electrònic" || !cp.Filterable {
			t.Fatalf("contact_preference = %+v", cp)
		}
		rec, err := e.st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Laura"}, Custom: map[string]any{"birth_date": "1980-01-01", "contact_preference": "email"}})
		if err != nil || rec.Custom["birth_date"] != "1980-01-01" {
			t.Fatalf("record with seed 000 fields: %v %v", rec, err)
		}
		code, body := b.get("/settings/fields/contacts")
		if code != 200 || !strings.Contains(body, "Contact preferences") || !strings.Contains(body, "Single select") {
			t.Fatalf("fields page: %d", code)
		}
		code, body = b.get("/settings/fields/contacts/custom/contact_preference")
		if code != 200 || !strings.Contains(body, html.EscapeString("Correu electrònic")) && !strings.Contains(body, "Correu electrònic") {
			t.Fatalf("edit page: %d", code)
		}
	})

	t.Run("invalid field shows translated errors", func(t *testing.T) {
		code, body := b.postBody("/settings/fields/contacts/custom", url.Values{"key": {"Bad Key"}, "type": {"date"}})
		if code != 422 || !strings.Contains(body, "lowercase letters") || !strings.Contains(body, "This field is required.") {
			t.Fatalf("bad field: %d", code)
		}
		if !strings.Contains(body, `value="Bad Key"`) {
			t.Error("submitted key not kept")
		}
		code, body = b.postBody("/settings/fields/contacts/custom", url.Values{"key": {"birth_date"}, "type": {"date"}, "label.en": {"Again"}})
		if code != 422 || !strings.Contains(body, "already in use") {
			t.Fatalf("taken key: %d", code)
		}
	})

	t.Run("edit options: add, retire, more rows", func(t *testing.T) {
		f := optionRows(url.Values{"label.ca": {"Preferències de contacte"}, "label.en": {"Contact preferences"}},
			[5]string{"email", "Correu electrònic", "", "E-mail", ""},
			[5]string{"phone", "Telèfon", "", "Phone", "x"},
			[5]string{"whatsapp", "WhatsApp", "WhatsApp", "WhatsApp", ""},
		)
		existingRows(f, 2)
		code, body := b.postBody("/settings/fields/contacts/custom/contact_preference", cloneWith(f, "add_rows", "1"))
		if code != 200 || !strings.Contains(body, `id="o5-key"`) {
			t.Fatalf("add rows: %d", code)
		}
		if _, ok := e.st.Schema().Option("cf:contacts:contact_preference", "whatsapp"); ok {
			t.Fatal("add rows saved the form")
		}
		mustSee(t, b, b.post("/settings/fields/contacts/custom/contact_preference", f), "/settings/fields/contacts/custom/contact_preference")
		cp, _ := e.st.Schema().CustomField(store.EntContacts, "contact_preference")
		if len(cp.Options) != 3 || !cp.Options[1].Retired || cp.Options[2].Key != "whatsapp" {
			t.Fatalf("options = %+v", cp.Options)
		}
		// Deleting an option is refused with a translated message.
		del := existingRows(optionRows(url.Values{"label.en": {"Contact preferences"}}, [5]string{"email", "", "", "E-mail", ""}), 1)
		code, body = b.postBody("/settings/fields/contacts/custom/contact_preference", del)
		if code != 422 || !strings.Contains(body, "cannot be deleted") {
			t.Fatalf("deleting options: %d", code)
		}
	})

	t.Run("standard field renamed in three languages", func(t *testing.T) {
		resp := b.post("/settings/fields/accounts/standard", url.Values{
			"std.name.present": {"1"}, "std.name.label.ca": {"Client"}, "std.name.label.es": {"Cliente"}, "std.name.label.en": {"Client"},
			"std.city.present": {"1"}, "std.city.required": {"1"},
		})
		mustSee(t, b, resp, "/settings/fields/accounts")
		tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "fields")
		if err != nil {
			t.Fatal(err)
		}
		code, res := e.api("GET", "/api/v1/fields/accounts", tok, nil)
		if code != 200 {
			t.Fatalf("fields API: %d %v", code, res)
		}
		name := apiFieldByKey(t, res, "name")
		label := name["label"].(map[string]any)
		if label["ca"] != "Client" || label["es"] != "Cliente" || label["en"] != "Client" {
			t.Fatalf("name label = %v", label)
		}
		city := apiFieldByKey(t, res, "city")
		if city["required"] != true || city["label"].(map[string]any)["en"] != "City" {
			t.Fatalf("city = %v", city)
		}
		_, err = e.st.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Sense ciutat"}})
		if store.AsError(err).Fields["city"] != "error.required" {
			t.Fatalf("required city not enforced: %v", err)
		}
		code, body := b.get("/settings/fields/accounts")
		if code != 200 || !strings.Contains(body, `name="std.name.label.es" value="Cliente"`) {
			t.Fatalf("renamed label not shown on the page: %d", code)
		}
	})

	t.Run("hiding a required field is refused", func(t *testing.T) {
		code, body := b.postBody("/settings/fields/accounts/standard", url.Values{"std.name.present": {"1"}, "std.name.hidden": {"1"}, "std.mobile.present": {"1"}})
		if code != 422 || !strings.Contains(body, "A required field cannot be hidden.") {
			t.Fatalf("hide name: %d", code)
		}
		mustSee(t, b, b.post("/settings/fields/contacts/standard", url.Values{"std.mobile.present": {"1"}, "std.mobile.hidden": {"1"}}), "/settings/fields/contacts")
		if f, _ := e.st.Schema().Def(store.EntContacts).Field("mobile"); !f.Hidden {
			t.Fatal("mobile not hidden")
		}
	})

	t.Run("remove, restore, purge", func(t *testing.T) {
		base := "/settings/fields/contacts/custom/birth_date"
		mustSee(t, b, b.post(base+"/remove", nil), "/settings/fields/contacts")
		code, body := b.get("/settings/fields/contacts")
		if code != 200 || !strings.Contains(body, base+"/restore") || !strings.Contains(body, base+"/purge") {
			t.Fatalf("removed field lacks restore/purge: %d", code)
		}
		mustSee(t, b, b.post(base+"/restore", nil), "/settings/fields/contacts")
		if _, ok := e.st.Schema().Def(store.EntContacts).CustomField("birth_date"); !ok {
			t.Fatal("not restored")
		}
		if code, _ := b.postBody(base+"/purge", nil); code != 422 {
			t.Fatalf("purge before removal: %d", code)
		}
		b.post(base+"/remove", nil)
		mustSee(t, b, b.post(base+"/purge", nil), "/settings/fields/contacts")
		if _, ok := e.st.Schema().CustomField(store.EntContacts, "birth_date"); ok {
			t.Fatal("not purged")
		}
	})

	t.Run("salesperson forbidden", func(t *testing.T) {
		e.mustUser(admin, "pere@example.com", "salesperson")
		sb := e.newBrowser()
		sb.login("pere@example.com", "password-123")
		for _, path := range []string{"/settings/fields", "/settings/fields/contacts", "/settings/picklists", "/settings/pipelines", "/settings/activity-rules"} {
			if code, _ := sb.get(path); code != 403 {
				t.Errorf("%s: %d", path, code)
			}
		}
		if code, _ := sb.postBody("/settings/fields/contacts/custom", url.Values{"key": {"x_y"}, "type": {"text"}, "label.en": {"X"}}); code != 403 {
			t.Errorf("create as salesperson: %d", code)
		}
	})
}

func cloneWith(f url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vs := range f {
		out[key] = append([]string(nil), vs...)
	}
	out.Set(k, v)
	return out
}

// apiFieldByKey finds a field in a GET /api/v1/fields answer.
func apiFieldByKey(t *testing.T, res map[string]any, key string) map[string]any {
	t.Helper()
	data, _ := res["data"].([]any)
	for _, it := range data {
		if m := it.(map[string]any); m["key"] == key {
			return m
		}
	}
	t.Fatalf("field %q not in %v", key, res)
	return nil
}

// TestUI_PicklistSettings edits picklists through the forms.
func TestUI_PicklistSettings(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	t.Run("pages render", func(t *testing.T) {
		code, body := b.get("/settings/picklists")
		if code != 200 || !strings.Contains(body, "Lead statuses") || !strings.Contains(body, `href="/settings/picklists/case_status"`) {
			t.Fatalf("picklists: %d", code)
		}
		code, body = b.get("/settings/picklists/sector")
		if code != 200 || !strings.Contains(body, `placeholder="Manufactura"`) && !strings.Contains(body, `name="opt.0.label.ca"`) {
			t.Fatalf("sector: %d", code)
		}
		code, body = b.get("/settings/picklists/case_status")
		if code != 200 || !strings.Contains(body, `name="opt.0.kind"`) || !strings.Contains(body, "Resolved") {
			t.Fatalf("case_status: %d", code)
		}
		for _, p := range []string{"/settings/picklists/task_status", "/settings/picklists/stage", "/settings/picklists/nope"} {
			if code, _ := b.get(p); code != 404 {
				t.Errorf("%s: %d", p, code)
			}
		}
	})
	t.Run("add, rename, retire", func(t *testing.T) {
		opts := e.st.Schema().Options("potential")
		rows := [][5]string{{"premium", "Prèmium", "Prémium", "Premium", ""}}
		for i, o := range opts {
			r := [5]string{o.Key, "", "", "", ""}
			if i == 0 {
				r[3] = "Very high"
			}
			if i == 2 {
				r[4] = "x"
			}
			rows = append(rows, r)
		}
		f := optionRows(url.Values{}, rows...)
		for i := 1; i < len(rows); i++ {
			f.Set("opt."+strconvFormat(int64(i))+".existing", "1")
		}
		mustSee(t, b, b.post("/settings/picklists/potential", f), "/settings/picklists/potential")
		got := e.st.Schema().Options("potential")
		if len(got) != 4 || got[0].Key != "premium" || got[1].Labels["en"] != "Very high" || !got[3].Retired {
			t.Fatalf("potential = %+v", got)
		}
		if _, err := e.st.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Gran client", "potential": "premium"}}); err != nil {
			t.Fatal(err)
		}
		code, body := b.get("/settings/picklists/potential")
		if code != 200 || !strings.Contains(body, `value="Prèmium"`) {
			t.Fatalf("edited list: %d", code)
		}
	})
	t.Run("errors translated", func(t *testing.T) {
		f := existingRows(optionRows(url.Values{}, [5]string{"new", "", "", "", "x"}, [5]string{"contacted", "", "", "", ""}, [5]string{"qualified", "", "", "", ""}, [5]string{"disqualified", "", "", "", ""}, [5]string{"converted", "", "", "", ""}), 5)
		code, body := b.postBody("/settings/picklists/lead_status", f)
		if code != 422 || !strings.Contains(body, "needed by the application") {
			t.Fatalf("retire new: %d", code)
		}
		f = existingRows(optionRows(url.Values{}, [5]string{"low", "", "", "", ""}), 1)
		code, body = b.postBody("/settings/picklists/case_priority", f)
		if code != 422 || !strings.Contains(body, "cannot be deleted") {
			t.Fatalf("delete options: %d", code)
		}
	})
	t.Run("case status flow", func(t *testing.T) {
		f := url.Values{}
		rows := [][5]string{{"new", "", "", "", ""}, {"in_progress", "", "", "", ""}, {"waiting", "", "", "", ""}, {"escalated", "Escalat", "Escalado", "Escalated", ""}, {"resolved", "", "", "", ""}, {"closed", "", "", "", ""}}
		optionRows(f, rows...)
		kinds := []string{"open", "open", "open", "open", "resolved", "closed"}
		for i, k := range kinds {
			f.Set("opt."+strconvFormat(int64(i))+".kind", k)
			if i != 3 {
				f.Set("opt."+strconvFormat(int64(i))+".existing", "1")
			}
		}
		mustSee(t, b, b.post("/settings/picklists/case_status", f), "/settings/picklists/case_status")
		if k := e.st.Schema().CaseStatusKind("escalated"); k != "open" {
			t.Fatalf("escalated kind = %q", k)
		}
		f.Set("opt.5.kind", "resolved")
		code, body := b.postBody("/settings/picklists/case_status", f)
		if code != 422 || !strings.Contains(body, "must be closed") {
			t.Fatalf("no closed status: %d", code)
		}
	})
}

// TestUI_PipelineSettings creates a second pipeline and edits its stages.
func TestUI_PipelineSettings(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	code, body := b.get("/settings/pipelines")
	if code != 200 || !strings.Contains(body, "Sales") || !strings.Contains(body, "/settings/pipelines/default/stages") {
		t.Fatalf("pipelines: %d", code)
	}
	code, body = b.get("/settings/pipelines/default/stages")
	if code != 200 || !strings.Contains(body, `name="opt.0.prob"`) || !strings.Contains(body, "Won") {
		t.Fatalf("default stages: %d", code)
	}
	t.Run("create", func(t *testing.T) {
		code, body := b.postBody("/settings/pipelines", url.Values{"key": {"Renovacions!"}})
		if code != 422 || !strings.Contains(body, "lowercase letters") {
			t.Fatalf("bad pipeline: %d", code)
		}
		mustSee(t, b, b.post("/settings/pipelines", url.Values{"key": {"renewals"}, "label.ca": {"Renovacions"}, "label.es": {"Renovaciones"}, "label.en": {"Renewals"}}), "/settings/pipelines/renewals/stages")
		if code, body := b.postBody("/settings/pipelines", url.Values{"key": {"renewals"}, "label.en": {"Again"}}); code != 422 || !strings.Contains(body, "already in use") {
			t.Fatalf("duplicate pipeline: %d", code)
		}
	})
	t.Run("own stages", func(t *testing.T) {
		f := optionRows(url.Values{},
			[5]string{"to_renew", "Per renovar", "Por renovar", "To renew", ""},
			[5]string{"renewed", "Renovat", "Renovado", "Renewed", ""},
			[5]string{"churned", "Perdut", "Perdido", "Churned", ""},
		)
		for i, k := range []string{"open", "won", "lost"} {
			f.Set("opt."+strconvFormat(int64(i))+".kind", k)
		}
		f.Set("opt.0.prob", "70")
		f.Set("opt.1.prob", "100")
		mustSee(t, b, b.post("/settings/pipelines/renewals/stages", f), "/settings/pipelines/renewals/stages")
		opp, err := e.st.CreateRecord(ctx, admin, store.EntOpportunities, store.Input{Values: map[string]any{"name": "Renovació", "pipeline": "renewals"}})
		if err != nil || opp.Str("stage") != "to_renew" || opp.Values["probability"] != int64(70) {
			t.Fatalf("opportunity in renewals: %v %v", opp, err)
		}
		_, err = e.st.CreateRecord(ctx, admin, store.EntOpportunities, store.Input{Values: map[string]any{"name": "X", "pipeline": "renewals", "stage": "proposal"}})
		if store.AsError(err).Fields["stage"] != "error.stage_pipeline" {
			t.Fatalf("default stage in renewals: %v", err)
		}
		code, body := b.get("/settings/pipelines")
		if code != 200 || !strings.Contains(body, "To renew → Renewed → Churned") {
			t.Fatalf("stages not listed: %d", code)
		}
	})
	t.Run("rename and retire", func(t *testing.T) {
		mustSee(t, b, b.post("/settings/pipelines/renewals", url.Values{"p.renewals.label.en": {"Contract renewals"}, "p.renewals.label.ca": {"Renovacions"}, "p.renewals.retired": {"1"}}), "/settings/pipelines")
		pl, _ := e.st.Schema().Pipeline("renewals")
		if pl.Labels["en"] != "Contract renewals" || !pl.Retired {
			t.Fatalf("pipeline = %+v", pl)
		}
		if code, body := b.postBody("/settings/pipelines/renewals", url.Values{}); code != 422 || !strings.Contains(body, "This field is required.") {
			t.Fatalf("no label: %d", code)
		}
		if code, _ := b.postBody("/settings/pipelines/default", url.Values{"p.default.label.en": {"X"}}); code != 404 {
			t.Fatalf("renaming default: %d", code)
		}
	})
}

// TestUI_ActivityRules requires an outcome for visits through the form.
func TestUI_ActivityRules(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	if _, err := e.st.CreateCustomField(ctx, admin, store.EntActivities, store.CustomFieldInput{Key: "km", Kind: store.KNumber, Labels: store.Labels{"en": "Kilometres"}}); err != nil {
		t.Fatal(err)
	}
	code, body := b.get("/settings/activity-rules")
	if code != 200 || !strings.Contains(body, `name="rule.visit" value="outcome"`) || !strings.Contains(body, `value="custom.km"`) || !strings.Contains(body, "Kilometres") {
		t.Fatalf("rules page: %d", code)
	}
	mustSee(t, b, b.post("/settings/activity-rules", url.Values{"rule.visit": {"outcome", "custom.km"}}), "/settings/activity-rules")
	if r := e.st.Schema().ActivityRule("visit"); len(r) != 2 {
		t.Fatalf("rule = %v", r)
	}
	_, err := e.st.CreateRecord(ctx, admin, store.EntActivities, store.Input{Values: map[string]any{"type": "visit", "subject": "Visita", "occurred_at": "2026-03-02T10:00:00Z"}})
	if store.AsError(err).Fields["outcome"] != "error.required_for_type" {
		t.Fatalf("visit without outcome: %v", err)
	}
	code, body = b.get("/settings/activity-rules")
	if code != 200 || !strings.Contains(body, `name="rule.visit" value="outcome" checked`) {
		t.Fatalf("saved rule not shown: %d", code)
	}
	mustSee(t, b, b.post("/settings/activity-rules", url.Values{}), "/settings/activity-rules")
	if r := e.st.Schema().ActivityRule("visit"); len(r) != 0 {
		t.Fatalf("rule not cleared: %v", r)
	}
}

// TestAPI_Fields covers the fields API: list, create, patch and delete,
// errors, and permissions.
func TestAPI_Fields(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	sp := e.mustUser(admin, "pere@example.com", "salesperson")
	spTok, _, err := e.st.CreateToken(ctx, sp, sp.UserID, "sales")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("list standard fields", func(t *testing.T) {
		code, res := e.api("GET", "/api/v1/fields/contacts", spTok, nil)
		if code != 200 {
			t.Fatalf("%d %v", code, res)
		}
		email := apiFieldByKey(t, res, "email")
		lbl := email["label"].(map[string]any)
		if email["type"] != "email" || email["custom"] != false || lbl["ca"] == "" || lbl["es"] == "" || lbl["en"] != "E-mail" {
			t.Fatalf("email = %v", email)
		}
		code, res = e.api("GET", "/api/v1/fields/accounts", spTok, nil)
		sector := apiFieldByKey(t, res, "sector")
		opts := sector["options"].([]any)
		first := opts[0].(map[string]any)
		if code != 200 || len(opts) < 5 || first["key"] == "" || first["label"].(map[string]any)["en"] == "" || first["retired"] != false {
			t.Fatalf("sector options = %v", sector)
		}
	})
	t.Run("create", func(t *testing.T) {
		code, res := e.api("POST", "/api/v1/fields/contacts", tok, jsonBody(map[string]any{
			"key": "birth_date", "type": "date", "label": map[string]string{"ca": "Data de naixement", "es": "Fecha de nacimiento", "en": "Date of birth"}, "required": false,
		}))
		if code != 201 || res["key"] != "birth_date" || res["custom"] != true || res["label"].(map[string]any)["es"] != "Fecha de nacimiento" {
			t.Fatalf("create date: %d %v", code, res)
		}
		code, res = e.api("POST", "/api/v1/fields/contacts", tok, jsonBody(map[string]any{
			"key": "contact_preference", "type": "select", "label": map[string]string{"ca": "Preferències de contacte", "en": "Contact preferences"},
			"filterable": true,
			"options": []map[string]any{
				{"key": "email", "label": map[string]string{"ca": "Correu electrònic", "es": "Correo electrónico", "en": "E-mail"}},
				{"key": "phone", "label": map[string]string{"ca": "Telèfon", "es": "Teléfono", "en": "Phone"}},
			},
		}))
		if code != 201 || len(res["options"].([]any)) != 2 || res["filterable"] != true {
			t.Fatalf("create select: %d %v", code, res)
		}
		code, res = e.api("POST", "/api/v1/contacts", tok, jsonBody(map[string]any{"first_name": "Laura", "custom": map[string]any{"birth_date": "1980-01-01", "contact_preference": "phone"}}))
		if code != 201 {
			t.Fatalf("record with custom values: %d %v", code, res)
		}
		code, res = e.api("GET", "/api/v1/fields/contacts", tok, nil)
		if code != 200 || apiFieldByKey(t, res, "contact_preference")["type"] != "select" {
			t.Fatalf("list after create: %d", code)
		}
	})
	t.Run("422 names the field", func(t *testing.T) {
		for name, tc := range map[string]struct {
			body  map[string]any
			field string
		}{
			"bad type":     {map[string]any{"key": "colour", "type": "colour", "label": map[string]string{"en": "Colour"}}, "type"},
			"bad key":      {map[string]any{"key": "Colour!", "type": "text", "label": map[string]string{"en": "Colour"}}, "key"},
			"taken key":    {map[string]any{"key": "birth_date", "type": "text", "label": map[string]string{"en": "X"}}, "key"},
			"no label":     {map[string]any{"key": "colour", "type": "text"}, "label"},
			"no type":      {map[string]any{"key": "colour", "label": map[string]string{"en": "X"}}, "type"},
			"link target":  {map[string]any{"key": "partner", "type": "link", "target": "planets", "label": map[string]string{"en": "X"}}, "target"},
			"bad option":   {map[string]any{"key": "size", "type": "select", "label": map[string]string{"en": "Size"}, "options": []map[string]any{{"key": "X"}}}, "options.0"},
			"hidden field": {map[string]any{"key": "colour", "type": "text", "label": map[string]string{"en": "X"}, "hidden": true}, "hidden"},
		} {
			t.Run(name, func(t *testing.T) {
				code, res := e.api("POST", "/api/v1/fields/contacts", tok, jsonBody(tc.body))
				fields, _ := res["error"].(map[string]any)["fields"].(map[string]any)
				if code != 422 || fields[tc.field] == nil {
					t.Fatalf("%d %v, want 422 naming %s", code, res, tc.field)
				}
			})
		}
		code, res := e.api("POST", "/api/v1/contacts", tok, jsonBody(map[string]any{"first_name": "X", "custom": map[string]any{"birth_date": "yesterday"}}))
		if code != 422 || res["error"].(map[string]any)["fields"].(map[string]any)["custom.birth_date"] == nil {
			t.Fatalf("bad custom value: %d %v", code, res)
		}
	})
	t.Run("patch custom field", func(t *testing.T) {
		code, res := e.api("PATCH", "/api/v1/fields/contacts/contact_preference", tok, jsonBody(map[string]any{
			"label": map[string]string{"es": "Preferencias de contacto"}, "list": true,
			"options": []map[string]any{{"key": "email"}, {"key": "phone", "retired": true}, {"key": "post", "label": map[string]string{"en": "Post"}}},
		}))
		if code != 200 || res["list"] != true || res["label"].(map[string]any)["ca"] != "Preferències de contacte" || res["label"].(map[string]any)["es"] != "Preferencias de contacto" {
			t.Fatalf("patch: %d %v", code, res)
		}
		opts := res["options"].([]any)
		if len(opts) != 3 || opts[1].(map[string]any)["retired"] != true || res["filterable"] != true {
			t.Fatalf("patched options: %v", res)
		}
		if code, res := e.api("PATCH", "/api/v1/fields/contacts/contact_preference", tok, jsonBody(map[string]any{"type": "text"})); code != 422 {
			t.Fatalf("changing type: %d %v", code, res)
		}
		code, res = e.api("POST", "/api/v1/contacts", tok, jsonBody(map[string]any{"first_name": "Nou", "custom": map[string]any{"contact_preference": "phone"}}))
		if code != 422 {
			t.Fatalf("retired option on a new record: %d %v", code, res)
		}
	})
	t.Run("patch standard field", func(t *testing.T) {
		code, res := e.api("PATCH", "/api/v1/fields/accounts/name", tok, jsonBody(map[string]any{"label": map[string]string{"ca": "Client", "es": "Cliente", "en": "Client"}}))
		if code != 200 || res["label"].(map[string]any)["es"] != "Cliente" || res["custom"] != false {
			t.Fatalf("rename: %d %v", code, res)
		}
		code, res = e.api("PATCH", "/api/v1/fields/accounts/city", tok, jsonBody(map[string]any{"required": true}))
		if code != 200 || res["required"] != true {
			t.Fatalf("require: %d %v", code, res)
		}
		code, res = e.api("POST", "/api/v1/accounts", tok, jsonBody(map[string]any{"name": "Sense ciutat"}))
		if code != 422 || res["error"].(map[string]any)["fields"].(map[string]any)["city"] == nil {
			t.Fatalf("required standard field through the API: %d %v", code, res)
		}
		code, res = e.api("PATCH", "/api/v1/fields/accounts/name", tok, jsonBody(map[string]any{"hidden": true}))
		if code != 422 || res["error"].(map[string]any)["fields"].(map[string]any)["hidden"] == nil {
			t.Fatalf("hiding name: %d %v", code, res)
		}
		if code, _ := e.api("PATCH", "/api/v1/fields/accounts/name", tok, jsonBody(map[string]any{"unique": true})); code != 422 {
			t.Fatalf("unique on standard: %d", code)
		}
		code, res = e.api("PATCH", "/api/v1/fields/contacts/mobile", tok, jsonBody(map[string]any{"hidden": true}))
		if code != 200 || res["hidden"] != true {
			t.Fatalf("hide mobile: %d %v", code, res)
		}
	})
	t.Run("delete keeps data", func(t *testing.T) {
		if code, _ := e.api("DELETE", "/api/v1/fields/contacts/birth_date", tok, nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		code, res := e.api("GET", "/api/v1/fields/contacts", tok, nil)
		for _, it := range res["data"].([]any) {
			if it.(map[string]any)["key"] == "birth_date" {
				t.Fatalf("removed field still listed: %d", code)
			}
		}
		c, ok := e.st.Schema().CustomField(store.EntContacts, "birth_date")
		if !ok || !c.Removed {
			t.Fatal("field purged instead of removed")
		}
		if code, _ := e.api("DELETE", "/api/v1/fields/contacts/email", tok, nil); code != 422 {
			t.Fatalf("delete standard: %d", code)
		}
	})
	t.Run("404", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"PATCH", "/api/v1/fields/contacts/nope"},
			{"DELETE", "/api/v1/fields/contacts/nope"},
			{"GET", "/api/v1/fields/planets"},
			{"PATCH", "/api/v1/fields/leads/converted_account_id"},
		} {
			if code, res := e.api(c.method, c.path, tok, jsonBody(map[string]any{"label": map[string]string{"en": "X"}})); code != 404 {
				t.Errorf("%s %s: %d %v", c.method, c.path, code, res)
			}
		}
	})
	t.Run("403 for a salesperson", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"POST", "/api/v1/fields/contacts"},
			{"PATCH", "/api/v1/fields/contacts/contact_preference"},
			{"PATCH", "/api/v1/fields/accounts/name"},
			{"DELETE", "/api/v1/fields/contacts/contact_preference"},
		} {
			code, res := e.api(c.method, c.path, spTok, jsonBody(map[string]any{"key": "x_y", "type": "nonsense"}))
			if code != 403 {
				t.Errorf("%s %s: %d %v", c.method, c.path, code, res)
			}
		}
	})
}
