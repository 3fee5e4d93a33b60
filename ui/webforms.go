package ui

import (
	"bytes"
	"errors"
	"html"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"cartera/i18n"
	"cartera/store"
)

// Public web forms: the anonymous pages at /f/{slug} and their settings
// pages under /settings/forms.

// Limits of the public endpoint, which anyone on the Internet can reach.
const (
	webFormMaxBody  = 64 << 10    // bytes of one submission
	webFormRate     = 5           // submissions per address…
	webFormWindow   = time.Minute // …within this window
	webFormMaxKeys  = 100_000     // addresses remembered before a reset
	webFormHoneypot = "homepage"  // hidden input only robots fill
)

// rateLimiter counts events per key in a sliding window.
type rateLimiter struct {
	mu     sync.Mutex
	now    func() time.Time
	n      int
	window time.Duration
	hits   map[string][]time.Time
}

// allow records an event for key and reports whether it is within the
// limit; refused events are not recorded, so a flood does not extend its
// own ban.
func (l *rateLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cut := now.Add(-l.window)
	h := l.hits[key]
	i := 0
	for i < len(h) && !h[i].After(cut) {
		i++
	}
	h = h[i:]
	if len(h) >= l.n {
		l.hits[key] = h
		return false
	}
	if len(l.hits) > webFormMaxKeys {
		l.hits = map[string][]time.Time{} // bound memory under a flood
	}
	l.hits[key] = append(h, now)
	return true
}

// webForms serves the public form pages; it owns the per-address limiter.
type webForms struct {
	s       *Server
	limiter *rateLimiter
}

func (s *Server) newWebForms() *webForms {
	return &webForms{s: s, limiter: &rateLimiter{now: s.opts.Now, n: webFormRate, window: webFormWindow, hits: map[string][]time.Time{}}}
}

// publicCSP is the Content-Security-Policy of the public pages: as strict
// as the app's, except that any site may frame them (the embed snippet),
// and the form may post on to the form's thank-you address.
func publicCSP(redirect string) string {
	formAction := "'self'"
	if u, err := url.Parse(redirect); err == nil && redirect != "" && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors *; form-action " + formAction
}

// framable relaxes the app's no-framing headers for one public response;
// every other page keeps X-Frame-Options DENY and frame-ancestors 'none'.
func framable(w http.ResponseWriter, f *store.WebForm) {
	h := w.Header()
	h.Del("X-Frame-Options")
	redirect := ""
	if f != nil {
		redirect = f.RedirectURL
	}
	h.Set("Content-Security-Policy", publicCSP(redirect))
}

// publicInput is one input of the public form.
type publicInput struct {
	Name     string // input name: field key or custom.KEY
	Label    string
	Kind     string
	Type     string // input type for plain inputs
	Required bool
	Value    string
	Values   []string // chosen options of a multi select
	Options  []publicOption
	Error    string
}

type publicOption struct {
	Value, Label string
	Selected     bool
}

// publicData is what the public template shows.
type publicData struct {
	Form     *store.WebForm
	Heading  string
	Intro    []string
	Inputs   []publicInput
	Consent  []string
	Honeypot string
	Action   string
	Other    []string // errors of fields that are not on the form
	Thanks   []string
	Message  string // a refusal (unknown form, too many submissions)
}

// paragraphs splits a text into its non-empty lines, so admins' line breaks
// show without ever passing their text as HTML.
func paragraphs(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// publicTranslator picks the public page's language: the form's, else the
// company's, else the visitor's browser's.
func (s *Server) publicTranslator(r *http.Request, f *store.WebForm) *i18n.Translator {
	rc := reqCtxOf(r)
	lang, tz := "", ""
	if f != nil {
		lang = f.Language
	}
	if rc.company != nil {
		if lang == "" {
			lang = rc.company.Language
		}
		tz = rc.company.Timezone
	}
	if lang == "" {
		lang = acceptLanguage(r)
	}
	return s.i18n.For(lang, loadLocation(tz))
}

// noteTranslator writes a submission's note in the company's language, for
// the staff who read it.
func (s *Server) noteTranslator(r *http.Request) *i18n.Translator {
	rc := reqCtxOf(r)
	lang, tz := "ca", ""
	if rc.company != nil {
		lang, tz = rc.company.Language, rc.company.Timezone
	}
	return s.i18n.For(lang, loadLocation(tz))
}

// webFormLabel is a field's name for a reader: the custom field's or the
// firm's renamed label, else the catalog's.
func webFormLabel(tr *i18n.Translator, e store.Entity, c store.WebFormCandidate, sc *store.Schema) string {
	if c.Custom != nil {
		if l := c.Custom.Labels.In(tr.Lang()); l != "" {
			return l
		}
		return c.Custom.Key
	}
	if l := sc.Setting(e, c.Field.Key).Labels.In(tr.Lang()); l != "" {
		return l
	}
	return tr.T(fieldLabelFor(e, c.Field.Key))
}

// publicInputType is the HTML input type of a field kind on the public form.
func publicInputType(k store.Kind) string {
	switch k {
	case store.KEmail:
		return "email"
	case store.KPhone:
		return "tel"
	case store.KURL:
		return "url"
	case store.KDate:
		return "date"
	case store.KDateTime:
		return "datetime-local"
	}
	return "text"
}

// publicPage builds the public form page, refilled with values after a
// refused submission.
func (s *Server) publicPage(r *http.Request, f *store.WebForm, values url.Values, errs map[string]string) *page {
	tr := s.publicTranslator(r, f)
	p := s.newPage(r, "webforms.title")
	p.Tr, p.Actor, p.Nav = tr, nil, nil
	sc := s.st.Schema()
	d := &publicData{Form: f, Heading: f.Title, Intro: paragraphs(f.Intro), Consent: paragraphs(f.ConsentText), Honeypot: webFormHoneypot, Action: "/f/" + f.Slug}
	if d.Heading == "" {
		d.Heading = f.Name
	}
	shown := map[string]bool{}
	for _, ff := range f.Fields {
		c, ok := sc.WebFormCandidate(f.Entity, ff.Key)
		if !ok {
			continue
		}
		shown[ff.Key] = true
		in := publicInput{Name: ff.Key, Label: webFormLabel(tr, f.Entity, c, sc), Kind: string(c.Kind), Type: publicInputType(c.Kind), Required: ff.Required || c.Required,
			Value: values.Get(ff.Key), Values: values[ff.Key]}
		if k, ok := errs[ff.Key]; ok {
			in.Error = tr.T(k)
		}
		var opts []store.Option
		if c.Custom != nil {
			opts = c.Custom.Options
		} else if c.Kind == store.KSelect {
			opts = c.Field.Options()
		}
		for _, o := range opts {
			if o.Retired {
				continue
			}
			label := o.Labels.In(tr.Lang())
			if label == "" && c.Custom == nil {
				label = tr.T(optionLabel(c.Field.Picklist, o.Key))
			} else if label == "" {
				label = o.Key
			}
			in.Options = append(in.Options, publicOption{Value: o.Key, Label: label, Selected: slices.Contains(in.Values, o.Key)})
		}
		d.Inputs = append(d.Inputs, in)
	}
	if k, ok := errs["consent"]; ok {
		p.Errors["consent"] = tr.T(k)
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !shown[k] && k != "consent" {
			if msg := tr.T(errs[k]); !slices.Contains(d.Other, msg) {
				d.Other = append(d.Other, msg)
			}
		}
	}
	if len(errs) > 0 {
		p.ErrorMsg = tr.T("webforms.error.fix")
	}
	p.Form = values
	p.Data = d
	return p
}

// renderPublic writes a public page with its own minimal layout (no
// navigation, no session), framable by any site.
func (s *Server) renderPublic(w http.ResponseWriter, r *http.Request, status int, f *store.WebForm, p *page) {
	var buf bytes.Buffer
	if err := s.pages["webform_public"].ExecuteTemplate(&buf, "public", p); err != nil {
		s.log.Error("rendering template", "name", "webform_public", "err", err)
		http.Error(w, p.Tr.T("error.internal"), http.StatusInternalServerError)
		return
	}
	framable(w, f)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// publicMessage answers with a short public page: a refusal or an error.
func (s *Server) publicMessage(w http.ResponseWriter, r *http.Request, status int, f *store.WebForm, key string) {
	tr := s.publicTranslator(r, f)
	p := s.newPage(r, "webforms.title")
	p.Tr, p.Actor, p.Nav = tr, nil, nil
	d := &publicData{Form: f, Heading: tr.T("webforms.public_error_title"), Message: tr.T(key)}
	if f != nil {
		d.Heading = f.Name
	}
	p.Data = d
	s.renderPublic(w, r, status, f, p)
}

// publicForm loads the active form of the URL's slug, answering 404 itself.
func (wf *webForms) publicForm(w http.ResponseWriter, r *http.Request) *store.WebForm {
	f, err := wf.s.st.PublicWebForm(r.Context(), mux.Vars(r)["slug"])
	if err != nil {
		wf.s.logIfInternal(r, err)
		if store.ErrorCode(err) == store.CodeNotFound {
			wf.s.publicMessage(w, r, http.StatusNotFound, nil, "webforms.not_found")
		} else {
			wf.s.publicMessage(w, r, http.StatusInternalServerError, nil, "error.internal")
		}
		return nil
	}
	return f
}

// show renders the public form.
func (wf *webForms) show(w http.ResponseWriter, r *http.Request) {
	f := wf.publicForm(w, r)
	if f == nil {
		return
	}
	wf.s.renderPublic(w, r, http.StatusOK, f, wf.s.publicPage(r, f, url.Values{}, nil))
}

// thanks renders the form's thank-you text after a submission.
func (wf *webForms) thanks(w http.ResponseWriter, r *http.Request) {
	f := wf.publicForm(w, r)
	if f == nil {
		return
	}
	tr := wf.s.publicTranslator(r, f)
	p := wf.s.newPage(r, "webforms.title")
	p.Tr, p.Actor, p.Nav = tr, nil, nil
	d := &publicData{Form: f, Heading: f.Title, Thanks: paragraphs(f.ThanksText)}
	if d.Heading == "" {
		d.Heading = f.Name
	}
	if len(d.Thanks) == 0 {
		d.Thanks = []string{tr.T("webforms.thanks_default")}
	}
	p.Data = d
	wf.s.renderPublic(w, r, http.StatusOK, f, p)
}

// done answers a successful (or honeypot-caught) submission alike: on to
// the form's redirect address, else to its thank-you page.
func (wf *webForms) done(w http.ResponseWriter, r *http.Request, f *store.WebForm) {
	framable(w, f)
	if f.RedirectURL != "" {
		redirect(w, r, f.RedirectURL)
		return
	}
	redirect(w, r, "/f/"+f.Slug+"/thanks")
}

// submit receives a public submission: rate limit, body limit, honeypot,
// allow-list, then the store validates and saves everything or nothing.
func (wf *webForms) submit(w http.ResponseWriter, r *http.Request) {
	s := wf.s
	allowed := wf.limiter.allow(clientAddr(r))
	r.Body = http.MaxBytesReader(w, r.Body, webFormMaxBody)
	f := wf.publicForm(w, r)
	if f == nil {
		return
	}
	if !allowed {
		w.Header().Set("Retry-After", strconv.Itoa(int(webFormWindow/time.Second)))
		s.publicMessage(w, r, http.StatusTooManyRequests, f, "webforms.too_many")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mt {
	case "multipart/form-data":
		err = r.ParseMultipartForm(webFormMaxBody)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	default:
		s.publicMessage(w, r, http.StatusUnsupportedMediaType, f, "webforms.bad_request")
		return
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.publicMessage(w, r, http.StatusRequestEntityTooLarge, f, "webforms.too_large")
			return
		}
		s.publicMessage(w, r, http.StatusBadRequest, f, "webforms.bad_request")
		return
	}
	if strings.TrimSpace(r.PostForm.Get(webFormHoneypot)) != "" {
		s.log.Info("web form honeypot filled; submission dropped", "form", f.Slug, "addr", clientAddr(r))
		wf.done(w, r, f)
		return
	}
	// The allow-list: only the form's own inputs go any further.
	values := url.Values{}
	for _, ff := range f.Fields {
		if vs, ok := r.PostForm[ff.Key]; ok {
			values[ff.Key] = vs
		}
	}
	if f.ConsentText != "" {
		if vs, ok := r.PostForm["consent"]; ok {
			values["consent"] = vs
		}
	}
	toStore := localDateTimes(s.st.Schema(), f, values, s.noteTranslator(r).Location())
	_, err = s.st.SubmitWebForm(r.Context(), f.Slug, toStore, clientAddr(r), s.noteTranslator(r))
	switch store.ErrorCode(err) {
	case "":
		wf.done(w, r, f)
	case store.CodeInvalid:
		s.renderPublic(w, r, http.StatusUnprocessableEntity, f, s.publicPage(r, f, values, store.AsError(err).Fields))
	case store.CodeNotFound:
		s.publicMessage(w, r, http.StatusNotFound, nil, "webforms.not_found")
	default:
		s.logIfInternal(r, err)
		s.publicMessage(w, r, statusFor(store.ErrorCode(err)), f, "error.internal")
	}
}

// localDateTimes turns the browser's local date-times (2026-03-02T10:00)
// into RFC 3339 in the company's zone, as record forms do.
func localDateTimes(sc *store.Schema, f *store.WebForm, values url.Values, loc *time.Location) map[string][]string {
	out := make(map[string][]string, len(values))
	for k, vs := range values {
		out[k] = vs
		c, ok := sc.WebFormCandidate(f.Entity, k)
		if !ok || c.Kind != store.KDateTime || len(vs) == 0 {
			continue
		}
		if t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(vs[0]), loc); err == nil {
			out[k] = []string{t.UTC().Format(time.RFC3339)}
		}
	}
	return out
}

// --- Settings pages ---

// webFormRow is a web form in the settings list.
type webFormRow struct {
	Form *store.WebForm
	URL  string
}

// publicBase is the scheme and host visitors reach this server at, for the
// public address and the embed snippet.
func (s *Server) publicBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || s.opts.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) webFormsList(w http.ResponseWriter, r *http.Request) {
	forms, err := s.st.FindWebForms(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rows []webFormRow
	for _, f := range forms {
		rows = append(rows, webFormRow{Form: f, URL: s.publicBase(r) + "/f/" + f.Slug})
	}
	p := s.newPage(r, "webforms.title")
	p.Section = "settings"
	p.Data = rows
	s.render(w, r, http.StatusOK, "webforms", p)
}

// webFormFieldRow is one candidate field in the form editor.
type webFormFieldRow struct {
	Key, Label string
	Included   bool
	Required   bool
	// Always is set for fields every record needs: the form must ask them.
	Always bool
	Order  string
}

// webFormEditData feeds the form editor.
type webFormEditData struct {
	Form    *store.WebForm // nil when new
	Entity  store.Entity
	Fields  []webFormFieldRow
	Users   []*store.User
	Teams   []*store.Team
	URL     string
	Snippet string
	Action  string
}

// webFormValues fills the editor's inputs from a saved form.
func webFormValues(f *store.WebForm) url.Values {
	v := url.Values{
		"name": {f.Name}, "slug": {f.Slug}, "title": {f.Title}, "intro": {f.Intro}, "thanks_text": {f.ThanksText}, "redirect_url": {f.RedirectURL},
		"owner_mode": {f.OwnerMode}, "owner_user_id": {itoa(f.OwnerUserID)}, "owner_team_id": {itoa(f.OwnerTeamID)}, "tags": {strings.Join(f.Tags, ", ")},
		"consent_text": {f.ConsentText}, "language": {f.Language},
	}
	if f.Active {
		v.Set("active", "1")
	}
	for i, ff := range f.Fields {
		v.Add("field", ff.Key)
		if ff.Required {
			v.Add("required", ff.Key)
		}
		v.Set("order."+ff.Key, strconv.Itoa((i+1)*10))
	}
	return v
}

// webFormInput reads the editor's post; fields come in the order of their
// order inputs.
func webFormInput(e store.Entity, form url.Values) store.WebFormInput {
	in := store.WebFormInput{
		Name: form.Get("name"), Slug: form.Get("slug"), Entity: e, Title: form.Get("title"), Intro: form.Get("intro"), ThanksText: form.Get("thanks_text"),
		RedirectURL: form.Get("redirect_url"), OwnerMode: form.Get("owner_mode"), OwnerUserID: parseInt64(form.Get("owner_user_id")),
		OwnerTeamID: parseInt64(form.Get("owner_team_id")), Tags: splitTags(form.Get("tags")), ConsentText: form.Get("consent_text"),
		Language: form.Get("language"), Active: form.Get("active") == "1",
	}
	keys := slices.Clone(form["field"])
	order := func(k string) int {
		n, err := strconv.Atoi(strings.TrimSpace(form.Get("order." + k)))
		if err != nil {
			return 1 << 30
		}
		return n
	}
	sort.SliceStable(keys, func(i, j int) bool { return order(keys[i]) < order(keys[j]) })
	for _, k := range keys {
		in.Fields = append(in.Fields, store.WebFormField{Key: k, Required: slices.Contains(form["required"], k)})
	}
	return in
}

// webFormEditor renders the editor with the given values and errors.
func (s *Server) webFormEditor(w http.ResponseWriter, r *http.Request, status int, f *store.WebForm, e store.Entity, values url.Values, err error) {
	ctx := r.Context()
	a := reqCtxOf(r).actor
	title := "webforms.new"
	if f != nil {
		title = "webforms.edit"
	}
	p := s.newPage(r, title)
	p.Section = "settings"
	p.Form = values
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	d := &webFormEditData{Form: f, Entity: e, Action: "/settings/forms"}
	if f != nil {
		d.Action = "/settings/forms/" + itoa(f.ID)
		d.URL = s.publicBase(r) + "/f/" + f.Slug
		d.Snippet = `<iframe src="` + html.EscapeString(d.URL) + `" title="` + html.EscapeString(f.Name) + `" width="100%" height="720" style="border:0" loading="lazy"></iframe>`
	}
	sc := s.st.Schema()
	included := values["field"]
	for i, c := range sc.WebFormCandidates(e) {
		row := webFormFieldRow{Key: c.Key, Label: webFormLabel(p.Tr, e, c, sc), Included: slices.Contains(included, c.Key) || c.Required,
			Required: slices.Contains(values["required"], c.Key) || c.Required, Always: c.Required, Order: values.Get("order." + c.Key)}
		if row.Order == "" {
			row.Order = strconv.Itoa(1000 + (i+1)*10)
		}
		d.Fields = append(d.Fields, row)
	}
	sort.SliceStable(d.Fields, func(i, j int) bool {
		a, _ := strconv.Atoi(d.Fields[i].Order)
		b, _ := strconv.Atoi(d.Fields[j].Order)
		return a < b
	})
	var lerr error
	if d.Users, lerr = s.st.FindUsers(ctx, a, store.UserFilter{}); lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	if d.Teams, lerr = s.st.FindTeams(ctx, a); lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	p.Data = d
	s.render(w, r, status, "webform_form", p)
}

func (s *Server) webFormNew(w http.ResponseWriter, r *http.Request) {
	e := store.Entity(r.URL.Query().Get("entity"))
	if !slices.Contains(store.WebFormEntities, e) {
		e = store.EntLeads
	}
	v := url.Values{"owner_mode": {store.WebFormOwnerUser}, "owner_user_id": {itoa(reqCtxOf(r).actor.UserID)}, "active": {"1"}}
	for _, k := range []string{"first_name", "last_name", "email"} {
		v.Add("field", k)
	}
	v.Add("required", "email")
	s.webFormEditor(w, r, http.StatusOK, nil, e, v, nil)
}

func (s *Server) webFormCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	e := store.Entity(r.PostForm.Get("entity"))
	f, err := s.st.CreateWebForm(r.Context(), reqCtxOf(r).actor, webFormInput(e, r.PostForm))
	if err != nil {
		if !slices.Contains(store.WebFormEntities, e) {
			e = store.EntLeads
		}
		s.webFormEditor(w, r, 0, nil, e, r.PostForm, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/forms/"+itoa(f.ID))
}

func (s *Server) webFormEdit(w http.ResponseWriter, r *http.Request) {
	f, err := s.st.FindWebForm(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.webFormEditor(w, r, http.StatusOK, f, f.Entity, webFormValues(f), nil)
}

func (s *Server) webFormUpdate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := reqCtxOf(r).actor
	cur, err := s.st.FindWebForm(ctx, a, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if _, err := s.st.UpdateWebForm(ctx, a, cur.ID, webFormInput(cur.Entity, r.PostForm)); err != nil {
		s.webFormEditor(w, r, 0, cur, cur.Entity, r.PostForm, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/forms/"+itoa(cur.ID))
}

func (s *Server) webFormDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteWebForm(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "webforms.deleted")
	redirect(w, r, "/settings/forms")
}
