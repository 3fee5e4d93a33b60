package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"cartera/assets"
	"cartera/i18n"
	"cartera/store"
)

// page is what every template receives: the per-request data (user,
// translator, flash) plus the handler's own Data.
type page struct {
	Tr       *i18n.Translator
	Actor    *store.Actor
	Company  *store.Company
	Flashes  []flashMsg
	Title    string // i18n key of the page title
	Section  string // active navigation section
	Nav      []navItem
	Langs    []langOption
	Path     string
	Data     any
	Form     url.Values
	Errors   map[string]string // field → translated message
	ErrorMsg string            // translated message above the form
	Status   int
	// Schema is the firm's customization snapshot for this request.
	Schema *store.Schema
	// Unread is the signed-in user's unread notifications, for the bell.
	Unread int
}

type flashMsg struct {
	Kind string // success, error, info
	Text string // translated
}

type navItem struct {
	Section string
	Href    string
	Label   string // i18n key
	Icon    string
}

type langOption struct {
	Code, Name string
	Current    bool
}

// T translates a key for the page's reader.
func (p *page) T(key string, args ...any) string { return p.Tr.T(key, args...) }

// Date formats a date in the reader's language and time zone.
func (p *page) Date(t time.Time) string { return p.Tr.Date(t) }

// DateTime formats a moment in the reader's language and time zone.
func (p *page) DateTime(t time.Time) string { return p.Tr.DateTime(t) }

// Val returns a submitted form value, to refill a form after an error.
func (p *page) Val(name string) string { return p.Form.Get(name) }

// Err returns the translated error of a form field, or "".
func (p *page) Err(name string) string { return p.Errors[name] }

// navSections maps navigation sections to the pages that exist; a section
// appears only when its pages exist and the role sees it.
var navSections = []navItem{
	{Section: "home", Href: "/", Label: "nav.home", Icon: "⌂"},
	{Section: "accounts", Href: "/accounts", Label: "entity.accounts", Icon: "▦"},
	{Section: "contacts", Href: "/contacts", Label: "entity.contacts", Icon: "☺"},
	{Section: "leads", Href: "/leads", Label: "entity.leads", Icon: "✦"},
	{Section: "opportunities", Href: "/opportunities/board", Label: "entity.opportunities", Icon: "◔"},
	{Section: "opportunities", Href: "/quotes", Label: "quotes.nav", Icon: "€"},
	{Section: "opportunities", Href: "/products", Label: "products.nav", Icon: "▣"},
	{Section: "activities", Href: "/activities", Label: "entity.activities", Icon: "✎"},
	{Section: "activities", Href: "/inbox", Label: "inbox.nav", Icon: "✉"},
	{Section: "tasks", Href: "/tasks/mine", Label: "entity.tasks", Icon: "✓"},
	{Section: "tasks", Href: "/calendar", Label: "calendar.nav", Icon: "▣"},
	{Section: "cases", Href: "/cases", Label: "entity.cases", Icon: "⚑"},
	{Section: "marketing", Href: "/marketing", Label: "marketing.nav", Icon: "✉"},
	{Section: "reports", Href: "/reports", Label: "section.reports", Icon: "▤"},
	{Section: "settings", Href: "/settings", Label: "nav.settings", Icon: "⚙"},
}

func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset":     s.static.url,
		"add":       func(a, b int) int { return a + b },
		"join":      strings.Join,
		"hasPrefix": strings.HasPrefix,
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"str": func(v any) string { return fmt.Sprint(v) },
		// divCents turns stored cents into an amount for Money.
		"divCents": func(c int64) float64 { return float64(c) / 100 },
		// rate writes basis points as a percentage ("21", "5.5").
		"rate": store.FormatRate,
		// id turns a field key ("custom.birth_date") into an element id
		// safe in CSS selectors.
		"id":   func(v string) string { return strings.ReplaceAll(v, ".", "-") },
		"list": func(v ...string) []string { return v },
		"contains": func(list any, v string) bool {
			switch l := list.(type) {
			case []string:
				for _, x := range l {
					if x == v {
						return true
					}
				}
			case []store.Section:
				for _, x := range l {
					if string(x) == v {
						return true
					}
				}
			}
			return false
		},
	}
	base := template.New("base").Funcs(funcs)
	base, err := base.ParseFS(assets.FS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: parsing layout: %w", err)
	}
	files, err := fs.Glob(assets.FS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(assets.FS, f); err != nil {
			return nil, fmt.Errorf("ui: parsing %s: %w", f, err)
		}
		pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return pages, nil
}

// newPage prepares the common parts of a page for the current request.
func (s *Server) newPage(r *http.Request, title string) *page {
	rc := reqCtxOf(r)
	p := &page{Tr: rc.tr, Actor: rc.actor, Company: rc.company, Title: title, Path: r.URL.Path, Form: url.Values{}, Errors: map[string]string{}, Schema: s.st.Schema()}
	for _, l := range i18n.Languages {
		p.Langs = append(p.Langs, langOption{Code: l, Name: i18n.LanguageNames[l], Current: l == rc.tr.Lang()})
	}
	if rc.actor != nil {
		p.Unread = s.unreadCount(r)
		for _, n := range navSections {
			if rc.actor.Sees(store.Section(n.Section)) {
				if n.Section == "settings" && !hasAnyAdminCap(rc.actor) {
					continue
				}
				if store.Def(store.Entity(n.Section)) != nil && !rc.actor.Can(store.Entity(n.Section), store.ActView) {
					continue
				}
				p.Nav = append(p.Nav, n)
			}
		}
	}
	return p
}

func hasAnyAdminCap(a *store.Actor) bool {
	for _, c := range store.Capabilities {
		if a.Has(c) {
			return true
		}
	}
	return false
}

// render executes a page template into a buffer and writes it only when
// it rendered completely, so a template error never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("unknown template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	rc := reqCtxOf(r)
	if rc.session != nil {
		for _, f := range rc.session.Flashes() {
			if v, ok := f.(string); ok {
				kind, key, _ := strings.Cut(v, ":")
				p.Flashes = append(p.Flashes, flashMsg{Kind: kind, Text: p.Tr.T(key)})
			}
		}
		if len(p.Flashes) > 0 {
			if err := rc.session.Save(r, w); err != nil {
				s.log.Error("saving session", "err", err)
			}
		}
	}
	if p.Status == 0 {
		p.Status = status
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("rendering template", "name", name, "err", err)
		http.Error(w, p.Tr.T("error.internal"), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// flash queues a message (an i18n key) for the next page the user sees.
func (s *Server) flash(w http.ResponseWriter, r *http.Request, kind, key string) {
	rc := reqCtxOf(r)
	if rc.session == nil {
		return
	}
	rc.session.AddFlash(kind + ":" + key)
	if err := rc.session.Save(r, w); err != nil {
		s.log.Error("saving flash", "err", err)
	}
}

// redirect answers a form post with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
