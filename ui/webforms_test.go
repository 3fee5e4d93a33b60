package ui_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cartera/assets"
	"cartera/i18n"
	"cartera/store"
)

// mustWebForm creates a web form through the store.
func (e *testEnv) mustWebForm(admin *store.Actor, in store.WebFormInput) *store.WebForm {
	e.t.Helper()
	f, err := e.st.CreateWebForm(context.Background(), admin, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// publicResp is the answer to a public form post.
type publicResp struct {
	status   int
	body     string
	location string
	header   http.Header
}

// publicPost posts to a public form as a browser inside the form's iframe
// would (same origin, no cookies). Each post moves the clock a minute on,
// so tests that are not about the rate limit never meet it.
func (e *testEnv) publicPost(slug, contentType string, body io.Reader) publicResp {
	e.t.Helper()
	e.clock.Add(webFormTestGap)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/f/"+slug, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return publicResp{status: resp.StatusCode, body: string(b), location: resp.Header.Get("Location"), header: resp.Header}
}

// webFormTestGap is how far publicPost moves the clock: past the rate
// limit's window.
const webFormTestGap = 61 * time.Second

// publicForm posts url-encoded values to a public form.
func (e *testEnv) publicForm(slug string, v url.Values) publicResp {
	e.t.Helper()
	return e.publicPost(slug, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

// recordsOf lists the live records of a type as the admin sees them.
func (e *testEnv) recordsOf(admin *store.Actor, ent store.Entity) []*store.Record {
	e.t.Helper()
	recs, _, err := e.st.FindRecords(context.Background(), admin, ent, store.Filter{Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// leadWebForm is a lead form in Catalan with a consent checkbox.
func leadWebForm(owner int64) store.WebFormInput {
	return store.WebFormInput{
		Name: "Alta de client", Slug: "alta", Entity: store.EntLeads, Active: true, Language: "ca",
		Title: "Demaneu informació", Intro: "Ompliu el formulari.\nUs respondrem aviat.", ThanksText: "Gràcies per escriure'ns!",
		Fields:    []store.WebFormField{{Key: "first_name"}, {Key: "last_name"}, {Key: "email", Required: true}, {Key: "company"}, {Key: "notes"}},
		OwnerMode: store.WebFormOwnerUser, OwnerUserID: owner, Tags: []string{"Web"}, ConsentText: "Accepto la política de privadesa.",
	}
}

func translator(t *testing.T, lang string) *i18n.Translator {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return b.For(lang, nil)
}

// TestUI_WebForm covers the public form: rendering, framing, submissions
// and every refusal of the hardened endpoint.
func TestUI_WebForm(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	sales := e.mustUser(admin, "marc@example.com", "salesperson")
	if _, err := e.st.CreateCustomField(ctx, admin, store.EntLeads, store.CustomFieldInput{Key: "budget", Kind: store.KNumber, Labels: store.Labels{"en": "Budget", "ca": "Pressupost"}}); err != nil {
		t.Fatal(err)
	}
	in := leadWebForm(sales.UserID)
	in.Fields = append(in.Fields, store.WebFormField{Key: "custom.budget"})
	form := e.mustWebForm(admin, in)
	ca := translator(t, "ca")
	anon := e.newBrowser()
	leads := func() []*store.Record { return e.recordsOf(admin, store.EntLeads) }

	t.Run("public page needs no login, is in the form's language and can be framed", func(t *testing.T) {
		resp, err := http.Get(e.srv.URL + "/f/alta")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if resp.StatusCode != 200 || !strings.Contains(page, `<html lang="ca">`) || !strings.Contains(page, "Demaneu informació") ||
			!strings.Contains(page, "Us respondrem aviat.") || !strings.Contains(page, "Pressupost") || !strings.Contains(page, `name="homepage"`) ||
			!strings.Contains(page, "Accepto la política de privadesa.") || !strings.Contains(page, ca.T("webforms.submit")) {
			t.Fatalf("public page %d:\n%s", resp.StatusCode, page)
		}
		if strings.Contains(page, "sidenav") || strings.Contains(page, "/logout") || strings.Contains(page, "webforms.") {
			t.Error("public page shows app navigation or raw keys")
		}
		if xfo := resp.Header.Get("X-Frame-Options"); xfo != "" {
			t.Errorf("public page X-Frame-Options = %q", xfo)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("public page CSP = %q", csp)
		}
		// Every other page stays unframeable.
		resp, err = http.Get(e.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("login page framing headers = %q / %q", resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"))
		}
	})

	t.Run("creates a lead with source web_form", func(t *testing.T) {
		r := e.publicForm("alta", url.Values{"first_name": {"Laura"}, "last_name": {"García"}, "email": {"laura@example.com"}, "consent": {"1"}})
		if r.status != http.StatusSeeOther || r.location != "/f/alta/thanks" {
			t.Fatalf("post = %d %q\n%s", r.status, r.location, r.body)
		}
		code, body := anon.get("/f/alta/thanks")
		if code != 200 || !strings.Contains(body, "Gràcies per escriure&#39;ns!") {
			t.Errorf("thanks page %d: %s", code, body)
		}
		ls := leads()
		if len(ls) != 1 || ls[0].Str("source") != "web_form" || ls[0].OwnerID != sales.UserID || ls[0].Str("email") != "laura@example.com" {
			t.Fatalf("leads = %+v", ls)
		}
		tl, _ := e.st.Timeline(ctx, admin, store.EntLeads, ls[0].ID, 50)
		found := false
		for _, it := range tl {
			if it.Kind == "activity" && it.Subject == "Web form: Alta de client" && strings.Contains(it.Detail, "Accepto la política de privadesa.") && strings.Contains(it.Detail, "127.0.0.1") {
				found = true
			}
		}
		if !found {
			t.Errorf("no consent note on the lead's timeline: %+v", tl)
		}
	})

	t.Run("injected owner_id and status are ignored", func(t *testing.T) {
		r := e.publicForm("alta", url.Values{"first_name": {"Pere"}, "email": {"pere@example.com"}, "consent": {"1"},
			"owner_id": {itoa(admin.UserID)}, "status": {"qualified"}, "source": {"event"}, "assignee_id": {itoa(admin.UserID)}, "tags": {"VIP"}, "phone": {"600111222"}, "custom.other": {"x"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("post = %d\n%s", r.status, r.body)
		}
		recs, _, _ := e.st.FindRecords(ctx, admin, store.EntLeads, store.Filter{Q: "pere@example.com"})
		if len(recs) != 1 {
			t.Fatalf("leads for pere = %d", len(recs))
		}
		l := recs[0]
		if l.OwnerID != sales.UserID || l.Str("status") != "new" || l.Str("source") != "web_form" || l.Str("phone") != "" || strings.Contains(strings.Join(l.Tags, ","), "VIP") {
			t.Errorf("lead took injected values: owner %d status %q source %q phone %q tags %q", l.OwnerID, l.Str("status"), l.Str("source"), l.Str("phone"), l.Tags)
		}
	})

	t.Run("existing e-mail gets an activity instead of a twin", func(t *testing.T) {
		before := len(leads())
		r := e.publicForm("alta", url.Values{"first_name": {"Laura"}, "email": {"LAURA@example.com"}, "notes": {"Voldria una visita"}, "consent": {"1"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("post = %d\n%s", r.status, r.body)
		}
		if n := len(leads()); n != before {
			t.Fatalf("leads %d → %d: a twin was created", before, n)
		}
		acts := e.recordsOf(admin, store.EntActivities)
		found := false
		for _, a := range acts {
			if strings.Contains(a.Str("description"), "Voldria una visita") && a.Int("lead_id") != 0 {
				found = true
			}
		}
		if !found {
			t.Error("no activity with the second submission's values")
		}
	})

	t.Run("invalid e-mail is a 422 with a translated error and stores nothing", func(t *testing.T) {
		before, acts := len(leads()), len(e.recordsOf(admin, store.EntActivities))
		r := e.publicForm("alta", url.Values{"first_name": {"Jordi"}, "email": {"jordi(at)example"}, "consent": {"1"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, ca.T("error.email")) || !strings.Contains(r.body, ca.T("webforms.error.fix")) ||
			!strings.Contains(r.body, `value="jordi(at)example"`) || !strings.Contains(r.body, `value="Jordi"`) {
			t.Fatalf("post = %d\n%s", r.status, r.body)
		}
		if r.header.Get("X-Frame-Options") != "" {
			t.Error("the refused form cannot be shown in its frame")
		}
		if len(leads()) != before || len(e.recordsOf(admin, store.EntActivities)) != acts {
			t.Error("a refused submission stored something")
		}
	})

	t.Run("required field and consent missing are refused", func(t *testing.T) {
		before := len(leads())
		r := e.publicForm("alta", url.Values{"first_name": {"Jordi"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, ca.T("error.required")) || !strings.Contains(r.body, ca.T("webforms.error.consent")) {
			t.Fatalf("post = %d\n%s", r.status, r.body)
		}
		if len(leads()) != before {
			t.Error("stored a lead without its required e-mail")
		}
	})

	t.Run("multipart post with a custom field", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range map[string]string{"first_name": "Núria", "email": "nuria@example.com", "custom.budget": "2500", "consent": "1"} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("attachment", "x.txt") // files are ignored
		fw.Write([]byte("hello"))
		mw.Close()
		r := e.publicPost("alta", mw.FormDataContentType(), &buf)
		if r.status != http.StatusSeeOther {
			t.Fatalf("multipart post = %d\n%s", r.status, r.body)
		}
		recs, _, _ := e.st.FindRecords(ctx, admin, store.EntLeads, store.Filter{Q: "nuria@example.com"})
		if len(recs) != 1 || recs[0].Str("first_name") != "Núria" || recs[0].Custom["budget"] != 2500.0 {
			t.Fatalf("multipart lead = %+v", recs)
		}
	})

	t.Run("honeypot answers as success and stores nothing", func(t *testing.T) {
		before := len(leads())
		r := e.publicForm("alta", url.Values{"first_name": {"Bot"}, "email": {"bot@example.com"}, "consent": {"1"}, "homepage": {"http://spam.example"}})
		if r.status != http.StatusSeeOther || r.location != "/f/alta/thanks" {
			t.Fatalf("honeypot post = %d %q", r.status, r.location)
		}
		if len(leads()) != before {
			t.Error("a honeypot submission stored a lead")
		}
	})

	t.Run("unknown, inactive and oversized", func(t *testing.T) {
		if r := e.publicForm("nope", url.Values{"email": {"a@example.com"}}); r.status != http.StatusNotFound {
			t.Errorf("unknown slug post = %d", r.status)
		}
		if code, _ := anon.get("/f/nope"); code != http.StatusNotFound {
			t.Errorf("unknown slug page = %d", code)
		}
		in := leadWebForm(sales.UserID)
		in.Active = false
		if _, err := e.st.UpdateWebForm(ctx, admin, form.ID, in); err != nil {
			t.Fatal(err)
		}
		if code, _ := anon.get("/f/alta"); code != http.StatusNotFound {
			t.Errorf("inactive form page = %d", code)
		}
		if r := e.publicForm("alta", url.Values{"email": {"a@example.com"}, "consent": {"1"}}); r.status != http.StatusNotFound {
			t.Errorf("inactive form post = %d", r.status)
		}
		in.Active = true
		in.RedirectURL = "https://www.example.com/gracies"
		if _, err := e.st.UpdateWebForm(ctx, admin, form.ID, in); err != nil {
			t.Fatal(err)
		}
		if r := e.publicForm("alta", url.Values{"notes": {strings.Repeat("x", 70<<10)}}); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized post = %d", r.status)
		}
		r := e.publicForm("alta", url.Values{"email": {"redir@example.com"}, "consent": {"1"}})
		if r.status != http.StatusSeeOther || r.location != "https://www.example.com/gracies" {
			t.Errorf("redirect post = %d %q", r.status, r.location)
		}
	})
}

// TestUI_WebFormRoundRobin gives two submissions to the two members of a
// team in turn.
func TestUI_WebFormRoundRobin(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	team, err := e.st.SaveTeam(ctx, admin, 0, "Vendes")
	if err != nil {
		t.Fatal(err)
	}
	var members []int64
	for _, email := range []string{"a@example.com", "b@example.com"} {
		u := e.mustUser(admin, email, "salesperson")
		tid := team.ID
		if _, err := e.st.UpdateUser(ctx, admin, u.UserID, store.UserUpdate{TeamID: &tid}); err != nil {
			t.Fatal(err)
		}
		members = append(members, u.UserID)
	}
	in := leadWebForm(0)
	in.ConsentText = ""
	in.OwnerMode, in.OwnerTeamID = store.WebFormOwnerTeam, team.ID
	e.mustWebForm(admin, in)
	var owners []int64
	for _, email := range []string{"one@example.com", "two@example.com", "three@example.com"} {
		if r := e.publicForm("alta", url.Values{"email": {email}}); r.status != http.StatusSeeOther {
			t.Fatalf("post %s = %d\n%s", email, r.status, r.body)
		}
		recs, _, _ := e.st.FindRecords(ctx, admin, store.EntLeads, store.Filter{Q: email})
		if len(recs) != 1 {
			t.Fatalf("leads for %s = %d", email, len(recs))
		}
		owners = append(owners, recs[0].OwnerID)
	}
	if owners[0] != members[0] || owners[1] != members[1] || owners[2] != members[0] {
		t.Errorf("owners = %v, want %v then %v again", owners, members, members[0])
	}
}

// TestUI_WebFormRateLimit refuses the sixth submission from one address
// within a minute with a translated 429, and accepts again a minute later.
func TestUI_WebFormRateLimit(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	in := leadWebForm(admin.UserID)
	in.ConsentText = ""
	e.mustWebForm(admin, in)
	post := func(i int) publicResp {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/f/alta", strings.NewReader(url.Values{"email": {"p" + itoa(int64(i)) + "@example.com"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return publicResp{status: resp.StatusCode, body: string(b), header: resp.Header}
	}
	for i := range 5 {
		if r := post(i); r.status != http.StatusSeeOther {
			t.Fatalf("post %d = %d", i, r.status)
		}
	}
	r := post(5)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, translator(t, "ca").T("webforms.too_many")) || r.header.Get("Retry-After") == "" {
		t.Fatalf("sixth post = %d (Retry-After %q)\n%s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if n := len(e.recordsOf(admin, store.EntLeads)); n != 5 {
		t.Errorf("leads = %d, want 5", n)
	}
	e.clock.Add(webFormTestGap)
	if r := post(6); r.status != http.StatusSeeOther {
		t.Errorf("post a minute later = %d", r.status)
	}
}

// TestUI_WebFormSettings builds a form through the settings pages and
// checks who may open them.
func TestUI_WebFormSettings(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	e.mustUser(admin, "marc@example.com", "salesperson")
	team, _ := e.st.SaveTeam(ctx, admin, 0, "Vendes")
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")

	resp := b.post("/settings/forms", url.Values{"entity": {"contacts"}, "name": {"Contacte <web>"}, "field": {"first_name", "email", "mobile"}, "required": {"email"},
		"order.first_name": {"20"}, "order.email": {"10"}, "order.mobile": {"30"}, "owner_mode": {"team"}, "owner_team_id": {itoa(team.ID)},
		"tags": {"Web, Fira"}, "consent_text": {"Accepto"}, "language": {"es"}, "active": {"1"}, "redirect_url": {""}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create form = %d", resp.StatusCode)
	}
	forms, err := e.st.FindWebForms(ctx, admin)
	if err != nil || len(forms) != 1 {
		t.Fatalf("forms = %v, %v", forms, err)
	}
	f := forms[0]
	if f.Slug != "contacte-web" || f.Entity != store.EntContacts || len(f.Fields) != 3 || f.Fields[0].Key != "email" || !f.Fields[0].Required || f.OwnerTeamID != team.ID || len(f.Tags) != 2 {
		t.Fatalf("form = %+v", f)
	}
	if loc := resp.Header.Get("Location"); loc != "/settings/forms/"+itoa(f.ID) {
		t.Errorf("redirect = %q", loc)
	}

	for _, lang := range []string{"ca", "es", "en"} {
		b.post("/language", url.Values{"lang": {lang}, "next": {"/"}})
		for _, p := range []string{"/settings", "/settings/forms", "/settings/forms/new?entity=leads", "/settings/forms/new?entity=contacts", "/settings/forms/" + itoa(f.ID)} {
			code, body := b.get(p)
			if code != 200 || strings.Contains(body, "webforms.") || strings.Contains(body, "error.") {
				t.Errorf("%s GET %s = %d or untranslated key", lang, p, code)
			}
		}
	}
	_, body := b.get("/settings/forms/" + itoa(f.ID))
	want := `&lt;iframe src=&#34;` + e.srv.URL + `/f/contacte-web&#34; title=&#34;Contacte &amp;lt;web&amp;gt;&#34;`
	if !strings.Contains(body, want) {
		t.Errorf("edit page lacks the escaped embed snippet %s", want)
	}
	_, body = b.get("/settings")
	if !strings.Contains(body, `href="/settings/forms"`) {
		t.Error("settings index lacks the web forms link")
	}

	t.Run("invalid settings re-render with errors", func(t *testing.T) {
		code, body := b.postBody("/settings/forms/"+itoa(f.ID), url.Values{"name": {"Contacte"}, "slug": {"Mal slug"}, "field": {"first_name"}, "owner_mode": {"user"},
			"owner_user_id": {itoa(admin.UserID)}, "redirect_url": {"javascript:alert(1)"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, translator(t, "en").T("webforms.error.redirect_url")) || !strings.Contains(body, translator(t, "en").T("webforms.error.slug")) {
			t.Errorf("invalid update = %d", code)
		}
	})
	t.Run("salesperson is refused", func(t *testing.T) {
		sb := e.newBrowser()
		sb.login("marc@example.com", "password-123")
		for _, p := range []string{"/settings/forms", "/settings/forms/new", "/settings/forms/" + itoa(f.ID)} {
			if code, _ := sb.get(p); code != http.StatusForbidden {
				t.Errorf("salesperson GET %s = %d", p, code)
			}
		}
		if r := sb.post("/settings/forms/"+itoa(f.ID)+"/delete", nil); r.StatusCode != http.StatusForbidden {
			t.Errorf("salesperson delete = %d", r.StatusCode)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if r := b.post("/settings/forms/"+itoa(f.ID)+"/delete", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete = %d", r.StatusCode)
		}
		if code, _ := b.get("/f/contacte-web"); code != http.StatusNotFound {
			t.Errorf("deleted form's page = %d", code)
		}
	})
}

// webFormKey matches the web form message keys in sources and templates.
var webFormKey = regexp.MustCompile(`"(webforms\.[a-z0-9_.]+)"`)

// TestUI_WebFormKeys checks that every web form key used in Go code and
// templates exists in Catalan, Spanish and English, and that the web form
// catalogs define nothing else.
func TestUI_WebFormKeys(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{"webforms.title_help": true} // built by the settings index
	scan := func(name string, data []byte) {
		for _, m := range webFormKey.FindAllStringSubmatch(string(data), -1) {
			if !strings.HasSuffix(m[1], ".") {
				used[m[1]] = true
			}
		}
	}
	for _, dir := range []string{".", "../store"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			scan(f, data)
		}
	}
	fs.WalkDir(assets.FS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := fs.ReadFile(assets.FS, p)
			scan(p, data)
		}
		return nil
	})
	if len(used) < 30 {
		t.Fatalf("found only %d web form keys; is the scan broken?", len(used))
	}
	for k := range used {
		for _, lang := range i18n.Languages {
			if !b.Has(lang, k) {
				t.Errorf("key %q missing in %s", k, lang)
			}
		}
	}
	for _, lang := range i18n.Languages {
		for _, k := range b.Keys(lang) {
			if strings.HasPrefix(k, "webforms.") && !used[k] {
				t.Errorf("key %q (%s) is not used", k, lang)
			}
		}
	}
}
