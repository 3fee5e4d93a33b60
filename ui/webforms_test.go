package ui_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

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
		var big bytes.Buffer
		mw := multipart.NewWriter(&big)
		mw.WriteField("notes", strings.Repeat("x", 70<<10))
		mw.Close()
		if r := e.publicPost("alta", mw.FormDataContentType(), &big); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized multipart post = %d", r.status)
		}
		if r := e.publicPost("alta", "application/json", strings.NewReader(`{"email":"j@example.com"}`)); r.status != http.StatusUnsupportedMediaType {
			t.Errorf("JSON post = %d", r.status)
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

// Payloads a hostile visitor (or administrator) types into every field.
const (
	xssImg    = `Xssmark <img src=x onerror="window.__xss=1">`
	xssScript = `"><script>window.__xss=1</script>`
	xssBoth   = xssImg + " " + xssScript
)

// assertInert fails unless the page ran no injected script and holds no
// injected element; shows says the page must display the payload (as
// text, or in a form's inputs), so the check is not vacuous.
func (c *chrome) assertInert(where string, shows bool) {
	c.t.Helper()
	if eval[bool](c, `typeof window.__xss !== "undefined"`) {
		c.t.Errorf("%s: injected script ran", where)
	}
	if n := eval[int](c, `document.querySelectorAll('img[src="x"], [onerror], script:not([src])').length`); n != 0 {
		c.t.Errorf("%s: %d injected elements", where, n)
	}
	if shows && !eval[bool](c, `document.body.innerText.includes("onerror") || [...document.querySelectorAll("input, textarea")].some(i => i.value.includes("onerror"))`) {
		c.t.Errorf("%s: the payload is not on the page, so the check proves nothing", where)
	}
	c.assertNoConsoleErrors(where)
}

// fillPublicForm types a payload into every text input of the public form
// (the phone's is shorter, to fit its length), an e-mail, and ticks consent.
func (c *chrome) fillPublicForm(email string) {
	c.t.Helper()
	js := `(() => {
		for (const el of document.querySelectorAll("form input[type=text], form input[type=tel], form input:not([type]), form textarea")) {
			if (el.name === "homepage") continue;
			el.value = el.type === "tel" ? ` + "`" + xssScript + "`" + ` : ` + "`" + xssBoth + "`" + `;
		}
		document.querySelector('input[name="email"]').value = ` + "`" + email + "`" + `;
		document.getElementById("f-consent").checked = true;
		return document.querySelectorAll("form input, form textarea").length;
	})()`
	if n := eval[int](c, js); n < 8 {
		c.t.Fatalf("public form has only %d inputs", n)
	}
}

// TestBrowser_WebFormXSS submits markup in every field of a public form in
// a real browser and checks it stays inert text on every page that shows
// it: the public form and its refusal, the thank-you page, the lead and
// contact pages and timelines, lists, search, tags and the form settings.
func TestBrowser_WebFormXSS(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	if _, err := e.st.CreateCustomField(ctx, admin, store.EntLeads, store.CustomFieldInput{Key: "interest", Kind: store.KText, Labels: store.Labels{"en": "Interest " + xssImg}}); err != nil {
		t.Fatal(err)
	}
	existing, err := e.st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Existing", "email": "dup@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	form := e.mustWebForm(admin, store.WebFormInput{
		Name: "Xssform " + xssImg, Slug: "xss", Entity: store.EntLeads, Active: true, Language: "en",
		Title: "Title " + xssBoth, Intro: "Intro " + xssBoth, ThanksText: "Thanks " + xssBoth, ConsentText: "Consent " + xssBoth,
		Tags:      []string{`<img src=x onerror=window.__xss=1>`, xssScript},
		OwnerMode: store.WebFormOwnerUser, OwnerUserID: admin.UserID,
		Fields: []store.WebFormField{{Key: "first_name"}, {Key: "last_name"}, {Key: "company"}, {Key: "email", Required: true}, {Key: "phone"},
			{Key: "title"}, {Key: "notes"}, {Key: "custom.interest"}},
	})

	c := mustBrowser(t)
	c.base = e.srv.URL
	c.open("/f/xss")
	c.assertInert("public form", true)

	// The e-mail payload is refused: the form comes back with every value.
	c.fillPublicForm(xssScript)
	sctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	resp, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	cancel()
	if err != nil {
		t.Fatalf("submitting the refused form: %v", err)
	}
	if resp.Status != http.StatusUnprocessableEntity {
		t.Fatalf("refused submission answered %d", resp.Status)
	}
	// Chromium logs the 422 itself as a failed load; that is the point here.
	probs, _ := c.takeProblems()
	for _, p := range probs {
		if !strings.Contains(p, "status of 422") {
			t.Errorf("refused public form: %s", p)
		}
	}
	c.assertInert("refused public form", true)

	c.fillPublicForm("new@example.com")
	if p := c.navigate("submitting the form", chromedp.Click(chromedp.CSS(`form button[type=submit]`))); p != "/f/xss/thanks" {
		t.Fatalf("after submitting the browser is on %s", p)
	}
	c.assertInert("thank-you page", true)

	// The same payloads for an existing contact's e-mail: a note, no twin.
	c.open("/f/xss")
	c.fillPublicForm("dup@example.com")
	c.navigate("submitting for an existing contact", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))

	recs, _, _ := e.st.FindRecords(ctx, admin, store.EntLeads, store.Filter{})
	if len(recs) != 1 || !strings.Contains(recs[0].Str("first_name"), "onerror") || !strings.Contains(recs[0].Str("notes"), "<script>") {
		t.Fatalf("leads = %d, want the one with the payload", len(recs))
	}
	lead := recs[0]
	acts := e.recordsOf(admin, store.EntActivities)
	if len(acts) != 2 {
		t.Fatalf("activities = %d, want 2 notes", len(acts))
	}

	c.login("anna@example.com", "contrasenya-segura")
	for _, page := range []struct {
		path  string
		shows bool
	}{
		{"/leads", true},
		{"/leads/" + itoa(lead.ID), true},
		{"/contacts", false},
		{"/contacts/" + itoa(existing.ID), true},
		{"/activities", true},
		{"/activities/" + itoa(acts[0].ID), true},
		{"/activities/" + itoa(acts[1].ID), true},
		{"/search?q=Xssmark", true},
		{"/tags", true},
		{"/settings/forms", true},
		{"/settings/forms/" + itoa(form.ID), true},
	} {
		c.open(page.path)
		c.assertInert(page.path, page.shows)
	}
}

// TestBrowser_WebFormEmbedded embeds a public form in a page of another
// site, as the embed snippet does, and submits it from inside the frame:
// the form may be framed, and its same-origin post from the frame passes
// the app's cross-origin protection.
func TestBrowser_WebFormEmbedded(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	e.mustWebForm(admin, store.WebFormInput{
		Name: "Embedded", Slug: "embedded", Entity: store.EntLeads, Active: true, Language: "en", ThanksText: "Thanks from the frame",
		Fields:    []store.WebFormField{{Key: "first_name"}, {Key: "email", Required: true}},
		OwnerMode: store.WebFormOwnerUser, OwnerUserID: admin.UserID,
	})
	formURL := e.srv.URL + "/f/embedded"
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html><body style="margin:0"><iframe onload="window.__loaded=1" src="` + formURL + `" title="form" width="600" height="700" style="border:0;position:absolute;left:0;top:0"></iframe></body></html>`))
	}))
	t.Cleanup(site.Close)
	// localhost and 127.0.0.1 are different sites to the browser.
	siteURL := strings.Replace(site.URL, "127.0.0.1", "localhost", 1)

	c := mustBrowser(t)
	c.base = siteURL
	c.open("/")
	run(c, "waiting for the frame", chromedp.Poll[bool](`window.__loaded === 1`))
	// The frame is from another site, so Chromium runs it in its own
	// process as a target of its own: attach to it to type into the form.
	var frame target.ID
	for range 300 { // a busy machine starts the frame's process late
		infos, err := chromedp.Targets(c.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && info.URL == formURL {
				frame = info.TargetID
			}
		}
		if frame != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if frame == "" {
		t.Fatal("the form's frame never loaded")
	}
	fctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithTargetID(frame))
	defer cancel()
	sctx, cancelStep := context.WithTimeout(fctx, stepTimeout)
	defer cancelStep()
	if err := chromedp.Do(sctx,
		chromedp.SendKeys(chromedp.ID("f-first_name"), "Frida"),
		chromedp.SendKeys(chromedp.ID("f-email"), "frida@example.com"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".card[role=status]")),
	); err != nil {
		t.Fatalf("filling the framed form: %v", err)
	}
	if got, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(".card[role=status]"))); err != nil || !strings.Contains(got, "Thanks from the frame") {
		t.Errorf("the frame shows %q (%v) after sending, want the thank-you text", got, err)
	}
	var lead *store.Record
	for range 300 {
		recs, _, _ := e.st.FindRecords(context.Background(), admin, store.EntLeads, store.Filter{})
		if len(recs) == 1 {
			lead = recs[0]
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lead == nil || lead.Str("first_name") != "Frida" || lead.Str("email") != "frida@example.com" || lead.Str("source") != "web_form" {
		t.Fatalf("no lead from the framed form: %+v", lead)
	}
	c.assertNoConsoleErrors("embedded form")
}
