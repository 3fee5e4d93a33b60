package ui

import (
	"net/http"
	"slices"
	"strconv"

	"cartera/store"
)

// emailForm feeds the page where a user writes to a record.
type emailForm struct {
	Entity    store.Entity
	Record    *store.Record
	Templates []option
	Subject   string
	Body      string
	HTML      string
}

// recordEmailForm shows the e-mail form for a contact, lead or client,
// filled from a template when one is chosen.
func (s *Server) recordEmailForm(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	if !slices.Contains(store.EmailableEntities, e) {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	rec, ok := s.loadPageRecord(w, r)
	if !ok {
		return
	}
	s.renderEmailForm(w, r, http.StatusOK, e, rec, nil)
}

func (s *Server) renderEmailForm(w http.ResponseWriter, r *http.Request, status int, e store.Entity, rec *store.Record, err error) {
	a := reqCtxOf(r).actor
	p := s.newPage(r, "email.write")
	p.Section = string(e)
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	fd := emailForm{Entity: e, Record: rec, Subject: r.FormValue("subject"), Body: r.FormValue("body")}
	tid, _ := strconv.ParseInt(r.URL.Query().Get("template"), 10, 64)
	list, lerr := s.st.FindEmailTemplates(r.Context(), a, e)
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	fd.Templates = append(fd.Templates, option{Value: "", Label: p.T("email.no_template"), Selected: tid == 0})
	for _, t := range list {
		fd.Templates = append(fd.Templates, option{Value: itoa(t.ID), Label: t.Name + " (" + t.Language + ")", Selected: t.ID == tid})
		if t.ID == tid && r.Method == http.MethodGet {
			if out, err := s.st.RenderEmailTemplate(r.Context(), a, t, rec.ID, s.labeler()); err == nil {
				fd.Subject, fd.Body, fd.HTML = out.Subject, out.Text, out.HTML
			}
		}
	}
	if fd.HTML == "" {
		fd.HTML = r.FormValue("html")
	}
	p.Data = fd
	s.render(w, r, status, "record_email", p)
}

// recordEmailSend queues the e-mail and logs it on the record.
func (s *Server) recordEmailSend(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	rec, ok := s.loadPageRecord(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	_, err := s.st.SendRecordEmail(r.Context(), reqCtxOf(r).actor, e, rec.ID, store.RecordEmail{Subject: r.PostForm.Get("subject"), Text: r.PostForm.Get("body"), HTML: r.PostForm.Get("html")})
	if err != nil {
		if store.ErrorCode(err) == store.CodeInvalid {
			s.renderEmailForm(w, r, 0, e, rec, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "email.queued")
	redirect(w, r, recordPath(e, rec.ID))
}
