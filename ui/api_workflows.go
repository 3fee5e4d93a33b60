package ui

import (
	"net/http"
	"strconv"

	"cartera/store"
)

// workflowIn is a rule as the API receives it; absent keys stay as they
// are on PATCH.
type workflowIn struct {
	Name       *string                 `json:"name"`
	Entity     string                  `json:"entity"`
	Enabled    *bool                   `json:"enabled"`
	Trigger    *store.Trigger          `json:"trigger"`
	Match      *string                 `json:"match"`
	Conditions *[]store.Condition      `json:"conditions"`
	Actions    *[]store.WorkflowAction `json:"actions"`
	// IncludeExisting, with enabled true, schedules the rule for the
	// records that exist already.
	IncludeExisting bool  `json:"include_existing"`
	Version         int64 `json:"version"`
}

// apiWorkflows lists the rules.
func (s *Server) apiWorkflows(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.FindWorkflows(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list})
}

// apiWorkflowGet returns one rule.
func (s *Server) apiWorkflowGet(w http.ResponseWriter, r *http.Request) {
	wf, err := s.st.FindWorkflow(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wf)
}

// apiWorkflowCreate creates a rule; "enabled":true with
// "include_existing":true also schedules it for existing records.
func (s *Server) apiWorkflowCreate(w http.ResponseWriter, r *http.Request) {
	var in workflowIn
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	ctx := r.Context()
	a := reqCtxOf(r).actor
	wf := &store.Workflow{Entity: store.Entity(in.Entity)}
	if in.Name != nil {
		wf.Name = *in.Name
	}
	if in.Trigger != nil {
		wf.Trigger = *in.Trigger
	}
	if in.Match != nil {
		wf.Match = *in.Match
	}
	if in.Conditions != nil {
		wf.Conditions = *in.Conditions
	}
	if in.Actions != nil {
		wf.Actions = *in.Actions
	}
	enable := in.Enabled != nil && *in.Enabled
	wf.Enabled = enable && !in.IncludeExisting
	if err := s.st.CreateWorkflow(ctx, a, wf); err != nil {
		s.apiError(w, r, err)
		return
	}
	if enable && in.IncludeExisting {
		if _, err := s.st.SetWorkflowEnabled(ctx, a, wf.ID, true, true); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	out, err := s.st.FindWorkflow(ctx, a, wf.ID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// apiWorkflowUpdate changes a rule's definition and switches it on or off.
func (s *Server) apiWorkflowUpdate(w http.ResponseWriter, r *http.Request) {
	var in workflowIn
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	ctx := r.Context()
	a := reqCtxOf(r).actor
	id := pathID(r, "id")
	if in.Entity != "" {
		s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"entity": "error.read_only"}})
		return
	}
	if in.Name != nil || in.Trigger != nil || in.Match != nil || in.Conditions != nil || in.Actions != nil {
		if _, err := s.st.UpdateWorkflow(ctx, a, id, store.WorkflowUpdate{Name: in.Name, Trigger: in.Trigger, Match: in.Match, Conditions: in.Conditions, Actions: in.Actions, Version: in.Version}); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	if in.Enabled != nil {
		if _, err := s.st.SetWorkflowEnabled(ctx, a, id, *in.Enabled, in.IncludeExisting); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	s.apiWorkflowGet(w, r)
}

// apiWorkflowDelete removes a rule.
func (s *Server) apiWorkflowDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteWorkflow(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiWorkflowRuns returns a rule's run log, newest first (?limit=).
func (s *Server) apiWorkflowRuns(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	runs, err := s.st.FindWorkflowRuns(r.Context(), reqCtxOf(r).actor, pathID(r, "id"), limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": runs})
}

// apiWorkflowTest runs a saved rule against a record without changing
// anything ({"record_id":N}) and reports what each action would do.
func (s *Server) apiWorkflowTest(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RecordID store.FlexInt `json:"record_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	ctx := r.Context()
	a := reqCtxOf(r).actor
	wf, err := s.st.FindWorkflow(ctx, a, pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	run, err := s.st.TestWorkflow(ctx, a, wf, int64(in.RecordID), s.labeler())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}
