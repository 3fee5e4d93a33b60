package ui

import (
	"net/http"
	"strings"

	"cartera/store"
)

// settingsLink is one entry of the settings index.
type settingsLink struct {
	Href, Label, Help string
}

// settingsIndex lists the settings pages the actor may open.
func (s *Server) settingsIndex(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	var links []settingsLink
	add := func(c store.Capability, href, label string) {
		if a.Has(c) {
			links = append(links, settingsLink{Href: href, Label: label, Help: label + "_help"})
		}
	}
	add(store.CapSettings, "/settings/getting-started", "checklist.title")
	add(store.CapSettings, "/settings/company", "settings.company")
	add(store.CapUsers, "/settings/users", "settings.users")
	add(store.CapUsers, "/settings/teams", "settings.teams")
	add(store.CapRoles, "/settings/roles", "settings.roles")
	add(store.CapAudit, "/settings/audit", "settings.audit")
	add(store.CapSettings, "/settings/outbox", "mail.outbox")
	add(store.CapSettings, "/settings/service", "service.title")
	add(store.CapSettings, "/settings/webhooks", "webhooks.title")
	add(store.CapCustomize, "/settings/forms", "webforms.title")
	if a.Can(store.EntContacts, store.ActDelete) {
		links = append(links, settingsLink{Href: "/duplicates", Label: "duplicates.title", Help: "duplicates.help"})
		links = append(links, settingsLink{Href: "/trash", Label: "trash.title", Help: "trash.help"})
	}
	add(store.CapCustomize, "/tags", "tags.title")
	add(store.CapCustomize, "/settings/templates", "templates.title")
	add(store.CapAutomation, "/settings/workflows", "workflows.title")
	add(store.CapImport, "/import", "import.title")
	add(store.CapSettings, "/settings/export", "export.all")
	add(store.CapPrivacy, "/settings/privacy", "privacy.settings_title")
	add(store.CapCustomize, "/settings/fields", "settings.fields")
	add(store.CapCustomize, "/settings/picklists", "settings.picklists")
	add(store.CapCustomize, "/settings/pipelines", "settings.pipelines")
	add(store.CapCustomize, "/settings/activity-rules", "settings.activity_rules")
	if len(links) == 0 {
		s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	p := s.newPage(r, "settings.title")
	p.Section = "settings"
	p.Data = links
	s.render(w, r, http.StatusOK, "settings", p)
}

// companyData feeds the company form its choices.
type companyData struct {
	Timezones []string
}

func companyForm(c *store.Company) map[string][]string {
	return map[string][]string{
		"name": {c.Name}, "address": {c.Address}, "phone": {c.Phone}, "email": {c.Email}, "tax_id": {c.TaxID},
		"timezone": {c.Timezone}, "language": {c.Language}, "currency": {c.Currency},
	}
}

func (s *Server) companyForm(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "settings.company")
	p.Section = "settings"
	p.Data = companyData{Timezones: timezones}
	p.Form = companyForm(reqCtxOf(r).company)
	s.render(w, r, http.StatusOK, "company", p)
}

func (s *Server) companySubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f := r.PostForm
	_, err := s.st.UpdateCompany(r.Context(), reqCtxOf(r).actor, store.Company{
		Name: f.Get("name"), Address: f.Get("address"), Phone: f.Get("phone"), Email: f.Get("email"), TaxID: f.Get("tax_id"),
		Timezone: f.Get("timezone"), Language: f.Get("language"), Currency: strings.ToUpper(strings.TrimSpace(f.Get("currency"))),
	})
	if err != nil {
		p := s.newPage(r, "settings.company")
		p.Section = "settings"
		p.Data = companyData{Timezones: timezones}
		p.Form = f
		s.render(w, r, s.formErrors(r, p, err), "company", p)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/company")
}

// auditData is one page of the audit log.
type auditData struct {
	Entries []*store.AuditEntry
	Next    int64
}

func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	before := parseInt64(r.URL.Query().Get("before"))
	entries, err := s.st.FindAudit(r.Context(), reqCtxOf(r).actor, store.AuditFilter{Before: before, Limit: 50})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := auditData{Entries: entries}
	if len(entries) == 50 {
		d.Next = entries[len(entries)-1].ID
	}
	p := s.newPage(r, "settings.audit")
	p.Section = "settings"
	p.Data = d
	s.render(w, r, http.StatusOK, "audit", p)
}
