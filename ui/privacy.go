package ui

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"cartera/assets"
	"cartera/store"
)

// This file holds the privacy rights of a contact or lead (issue 9): the
// record's Privacy page with the export (JSON and a readable HTML page)
// and erasure behind a confirmation, the privacy settings page with the
// retention rule and its review list, and the API's export and erase.

// privacyEntityPattern matches the record types that describe a person.
const privacyEntityPattern = "contacts|leads"

// privacyRecordData feeds a record's Privacy page.
type privacyRecordData struct {
	Entity store.Entity
	Record *store.Record
	Erased bool
}

// privacyRecord shows what can be done with a person's data: export it or
// erase it (with a confirmation).
func (s *Server) privacyRecord(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.loadPageRecord(w, r)
	if !ok {
		return
	}
	if !reqCtxOf(r).actor.Has(store.CapPrivacy) {
		s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	s.renderPrivacyRecord(w, r, http.StatusOK, rec, "")
}

func (s *Server) renderPrivacyRecord(w http.ResponseWriter, r *http.Request, status int, rec *store.Record, errKey string) {
	p := s.newPage(r, "privacy.title")
	p.Section = string(rec.Entity)
	if errKey != "" {
		p.Errors["confirm"] = p.T(errKey)
	}
	p.Data = privacyRecordData{Entity: rec.Entity, Record: rec, Erased: strings.HasPrefix(rec.Title, "Erased #")}
	s.render(w, r, status, "privacy_record", p)
}

// privacyErase erases the person after the confirmation box was ticked.
func (s *Server) privacyErase(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.loadPageRecord(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if r.PostForm.Get("confirm") != "1" {
		s.renderPrivacyRecord(w, r, http.StatusUnprocessableEntity, rec, "privacy.error.confirm")
		return
	}
	if _, err := s.st.EraseRecord(r.Context(), reqCtxOf(r).actor, rec.Entity, rec.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "ok", "privacy.erased")
	if back := r.PostForm.Get("return_to"); back == "/settings/privacy" {
		redirect(w, r, back)
		return
	}
	redirect(w, r, recordPath(rec.Entity, rec.ID))
}

// privacyExport downloads everything kept about the person, as JSON or as
// a readable HTML page ({format} in the path).
func (s *Server) privacyExport(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	id := pathID(r, "id")
	pd, err := s.st.ExportPersonalData(r.Context(), reqCtxOf(r).actor, e, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writePersonalData(w, r, pd, mux.Vars(r)["format"])
}

// writePersonalData answers with the export in the format asked for.
func (s *Server) writePersonalData(w http.ResponseWriter, r *http.Request, pd *store.PersonalData, format string) {
	name := "personal-data-" + string(pd.Entity) + "-" + strconv.FormatInt(pd.ID, 10)
	w.Header().Set("Cache-Control", "no-store")
	if format != "html" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		writeJSON(w, http.StatusOK, pd)
		return
	}
	p := s.newPage(r, "privacy.export_title")
	p.Data = pd
	var buf bytes.Buffer
	if err := privacyExportTemplate.Execute(&buf, p); err != nil {
		s.log.Error("rendering the personal data export", "err", err)
		http.Error(w, p.Tr.T("error.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="`+name+`.html"`)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// privacyExportTemplate is the readable export: a page of its own, without
// the application's layout, scripts or styles, so the file handed to the
// person reads the same anywhere.
var privacyExportTemplate = template.Must(template.New("privacy_export.html").ParseFS(assets.FS, "templates/privacy_export.html"))

// privacySettingsData feeds the privacy settings page.
type privacySettingsData struct {
	Settings   *store.PrivacySettings
	Due        []store.RetentionLead
	Suppressed int
}

// privacySettings shows the retention rule, the leads waiting for review
// and the size of the suppression list.
func (s *Server) privacySettings(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	set, err := s.st.GetPrivacySettings(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderPrivacySettings(w, r, http.StatusOK, set, nil)
}

func (s *Server) renderPrivacySettings(w http.ResponseWriter, r *http.Request, status int, set *store.PrivacySettings, err error) {
	a := reqCtxOf(r).actor
	p := s.newPage(r, "privacy.settings_title")
	p.Section = "settings"
	p.Form.Set("retention_months", strconv.Itoa(set.RetentionMonths))
	p.Form.Set("retention_action", set.RetentionAction)
	if err != nil {
		for k, v := range store.AsError(err).Fields {
			p.Errors[k] = p.T(v)
		}
	}
	d := privacySettingsData{Settings: set}
	var e error
	if d.Due, e = s.st.RetentionDue(r.Context(), a, 200); e != nil {
		s.fail(w, r, e)
		return
	}
	if d.Suppressed, e = s.st.CountSuppressed(r.Context(), a); e != nil {
		s.fail(w, r, e)
		return
	}
	p.Data = d
	s.render(w, r, status, "privacy_settings", p)
}

// privacySettingsSave changes the retention rule.
func (s *Server) privacySettingsSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	in := store.PrivacySettings{RetentionAction: r.PostForm.Get("retention_action")}
	months, convErr := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("retention_months")))
	if convErr != nil {
		months = -1
	}
	in.RetentionMonths = months
	if _, err := s.st.UpdatePrivacySettings(r.Context(), reqCtxOf(r).actor, in); err != nil {
		if store.ErrorCode(err) != store.CodeInvalid {
			s.fail(w, r, err)
			return
		}
		s.renderPrivacySettings(w, r, http.StatusUnprocessableEntity, &in, err)
		return
	}
	s.flash(w, r, "ok", "privacy.saved")
	redirect(w, r, "/settings/privacy")
}

// apiPrivacyExport is GET /api/v1/{contacts|leads}/{id}/export: the
// person's data as JSON (?format=html for the readable page).
func (s *Server) apiPrivacyExport(w http.ResponseWriter, r *http.Request) {
	pd, err := s.st.ExportPersonalData(r.Context(), reqCtxOf(r).actor, apiEntity(r), pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.writePersonalData(w, r, pd, r.URL.Query().Get("format"))
}

// apiPrivacyErase is POST /api/v1/{contacts|leads}/{id}/erase: the person
// is erased at once (the API call is the confirmation) and the answer
// counts what changed.
func (s *Server) apiPrivacyErase(w http.ResponseWriter, r *http.Request) {
	res, err := s.st.EraseRecord(r.Context(), reqCtxOf(r).actor, apiEntity(r), pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
