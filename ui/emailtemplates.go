package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"cartera/i18n"
	"cartera/store"
)

// templateForm feeds the e-mail template editor.
type templateForm struct {
	Template    *store.EmailTemplate
	Entities    []option
	Languages   []option
	MergeFields []string
	Preview     *store.Rendered
	PreviewID   string
	Action      string
}

// templatesList lists the e-mail templates.
func (s *Server) templatesList(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.FindEmailTemplates(r.Context(), reqCtxOf(r).actor, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "templates.title")
	p.Section = "settings"
	p.Data = list
	s.render(w, r, http.StatusOK, "email_templates", p)
}

func (s *Server) renderTemplateForm(w http.ResponseWriter, r *http.Request, status int, t *store.EmailTemplate, preview *store.Rendered, err error) {
	p := s.newPage(r, "templates.edit")
	p.Section = "settings"
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	fd := templateForm{Template: t, MergeFields: s.st.MergeFields(t.Entity), Preview: preview, PreviewID: r.FormValue("preview_id"), Action: "/settings/templates"}
	if t.ID != 0 {
		fd.Action = "/settings/templates/" + itoa(t.ID)
	}
	for _, e := range store.TemplateEntities {
		fd.Entities = append(fd.Entities, option{Value: string(e), Label: p.T("entity." + string(e)), Selected: e == t.Entity})
	}
	for _, l := range i18n.Languages {
		fd.Languages = append(fd.Languages, option{Value: l, Label: i18n.LanguageNames[l], Selected: l == t.Language})
	}
	p.Data = fd
	s.render(w, r, status, "email_template_form", p)
}

// templateNew shows an empty template for a record type.
func (s *Server) templateNew(w http.ResponseWriter, r *http.Request) {
	e := store.Entity(r.URL.Query().Get("entity"))
	if !slices.Contains(store.TemplateEntities, e) {
		e = store.EntContacts
	}
	s.renderTemplateForm(w, r, http.StatusOK, &store.EmailTemplate{Entity: e, Language: reqCtxOf(r).tr.Lang()}, nil, nil)
}

// templateEdit shows a saved template.
func (s *Server) templateEdit(w http.ResponseWriter, r *http.Request) {
	t, err := s.st.FindEmailTemplate(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderTemplateForm(w, r, http.StatusOK, t, nil, nil)
}

// templateFromForm reads the editor's fields.
func templateFromForm(form url.Values, id int64) *store.EmailTemplate {
	return &store.EmailTemplate{ID: id, Name: form.Get("name"), Language: form.Get("language"), Entity: store.Entity(form.Get("entity")),
		Subject: form.Get("subject"), BodyText: form.Get("body_text"), BodyHTML: form.Get("body_html")}
}

// templateSave saves the editor, or previews it against a record when
// the Preview button was pressed (nothing is saved then).
func (s *Server) templateSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	id := pathID(r, "id")
	a := reqCtxOf(r).actor
	t := templateFromForm(r.PostForm, id)
	if r.PostForm.Get("preview") != "" {
		rid, _ := strconv.ParseInt(r.PostForm.Get("preview_id"), 10, 64)
		rendered, err := s.st.PreviewEmailTemplate(r.Context(), a, t, rid, s.labeler())
		if store.ErrorCode(err) == store.CodeNotFound {
			err = &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"preview_id": "error.unknown_record"}}
		}
		s.renderTemplateForm(w, r, http.StatusOK, t, rendered, err)
		return
	}
	if err := s.st.SaveEmailTemplate(r.Context(), a, t); err != nil {
		s.renderTemplateForm(w, r, 0, t, nil, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/templates/"+itoa(t.ID))
}

// templateDelete removes a template.
func (s *Server) templateDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteEmailTemplate(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.deleted")
	redirect(w, r, "/settings/templates")
}

// templateJSON is a template as the API shows it.
func templateJSON(t *store.EmailTemplate) map[string]any {
	return map[string]any{"id": itoa(t.ID), "name": t.Name, "language": t.Language, "entity": t.Entity, "subject": t.Subject, "body": t.BodyText, "html": t.BodyHTML}
}

// apiTemplates lists the e-mail templates.
func (s *Server) apiTemplates(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.FindEmailTemplates(r.Context(), reqCtxOf(r).actor, store.Entity(r.URL.Query().Get("entity")))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(list))
	for _, t := range list {
		out = append(out, templateJSON(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// apiTemplateCreate creates a template from {"name","language","entity",
// "subject","body","html"?}.
func (s *Server) apiTemplateCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string `json:"name"`
		Language string `json:"language"`
		Entity   string `json:"entity"`
		Subject  string `json:"subject"`
		Body     string `json:"body"`
		HTML     string `json:"html"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if in.Entity == "" {
		in.Entity = string(store.EntContacts)
	}
	t := &store.EmailTemplate{Name: in.Name, Language: in.Language, Entity: store.Entity(in.Entity), Subject: in.Subject, BodyText: in.Body, BodyHTML: in.HTML}
	if err := s.st.SaveEmailTemplate(r.Context(), reqCtxOf(r).actor, t); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, templateJSON(t))
}
