package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"cartera/importer"
	"cartera/store"
)

// importJSON is an import as the API shows it.
func importJSON(im *store.Import, p *importer.Progress, running bool) map[string]any {
	errs := make([]map[string]any, 0, len(im.Errors))
	for _, e := range im.Errors {
		errs = append(errs, map[string]any{"line": e.Line, "field": e.Field, "error": e.Key})
	}
	out := map[string]any{
		"id": itoa(im.ID), "entity": im.Entity, "file_name": im.FileName, "status": im.Status,
		"on_duplicate": im.Policy, "match_on": im.MatchOn,
		"created": im.Created, "updated": im.Updated, "skipped": im.Skipped, "failed": im.Failed,
		"errors": errs, "started_at": im.StartedAt.Format(time.RFC3339),
	}
	if im.ErrorKey != "" {
		out["error"] = im.ErrorKey
	}
	if !im.FinishedAt.IsZero() {
		out["finished_at"] = im.FinishedAt.Format(time.RFC3339)
	}
	if running && p != nil {
		out["status"] = "running"
		out["progress"] = map[string]any{"rows": p.Rows, "created": p.Created, "updated": p.Updated, "skipped": p.Skipped, "failed": p.Failed}
	}
	return out
}

// apiImportCreate starts an import from a multipart upload: file, entity,
// and optional mapping (JSON list of target keys, one per column),
// on_duplicate, match_on, dry_run, skip_invalid, automation. It answers 202 with the
// import; GET /api/v1/imports/{id} follows it.
func (s *Server) apiImportCreate(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	if !a.Has(store.CapImport) {
		s.apiError(w, r, &store.Error{Code: store.CodeForbidden, Key: "error.forbidden"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.maxUpload()+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var mbe *http.MaxBytesError
		key := "import.error.no_file"
		if errors.As(err, &mbe) {
			key = "import.error.too_big"
		}
		s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: key, Fields: map[string]string{"file": key}})
		return
	}
	defer r.MultipartForm.RemoveAll()
	e := store.Entity(r.FormValue("entity"))
	if !slices.Contains(importEntities, e) {
		s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"entity": "error.option"}})
		return
	}
	file, fh, err := r.FormFile("file")
	if err != nil {
		s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "import.error.no_file", Fields: map[string]string{"file": "import.error.no_file"}})
		return
	}
	defer file.Close()
	if fh.Size > s.maxUpload() {
		s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "import.error.too_big", Fields: map[string]string{"file": "import.error.too_big"}})
		return
	}
	sf, err := s.stageFile(a, e, file, fh.Filename, importer.ReadOptions{Encoding: r.FormValue("encoding"), Sheet: r.FormValue("sheet")})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	plan := importer.Plan{Entity: e, Policy: store.ImportPolicy(r.FormValue("on_duplicate")), MatchOn: r.FormValue("match_on"),
		DryRun: r.FormValue("dry_run") == "true", SkipBad: r.FormValue("skip_invalid") == "true", Automation: r.FormValue("automation") == "true", FileName: sf.name}
	if _, set := r.MultipartForm.Value["match_on"]; !set {
		plan.MatchOn = "email"
		if _, ok := s.st.Schema().Def(e).Field("email"); !ok {
			plan.MatchOn = ""
		}
	}
	if m := r.FormValue("mapping"); m != "" {
		if err := json.Unmarshal([]byte(m), &plan.Mapping); err != nil || len(plan.Mapping) != len(sf.header) {
			s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "import.error.mapping", Fields: map[string]string{"mapping": "import.error.mapping"}})
			return
		}
	}
	id, err := s.startImportJob(a, sf, plan)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.apiImportAnswer(w, r, id, http.StatusAccepted)
}

// apiImportGet answers an import's status, progress and counts.
func (s *Server) apiImportGet(w http.ResponseWriter, r *http.Request) {
	s.apiImportAnswer(w, r, pathID(r, "id"), http.StatusOK)
}

func (s *Server) apiImportAnswer(w http.ResponseWriter, r *http.Request, id int64, status int) {
	im, err := s.st.FindImport(r.Context(), reqCtxOf(r).actor, id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.imports.mu.Lock()
	job := s.imports.jobs[id]
	s.imports.mu.Unlock()
	var p *importer.Progress
	running := false
	if job != nil {
		pr, sum, _, done := job.snapshot()
		p, running = &pr, !done
		if sum != nil {
			im = sum.Import
		}
	}
	writeJSON(w, status, importJSON(im, p, running))
}

// apiImportUndo takes back a finished import.
func (s *Server) apiImportUndo(w http.ResponseWriter, r *http.Request) {
	res, err := s.st.UndoImport(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"removed": res.Removed, "restored": res.Restored, "kept": res.Kept})
}
