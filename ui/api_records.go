package ui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"cartera/store"
)

// apiEntity reads the {entity} route variable; routes only match known ones.
func apiEntity(r *http.Request) store.Entity {
	e, _ := entityFromPath(mux.Vars(r)["entity"])
	return e
}

// listParams are the query parameters a list accepts besides filterable
// field keys.
var listParams = map[string]bool{"q": true, "tag": true, "owner_id": true, "assignee_id": true, "updated_since": true, "limit": true, "cursor": true, "sort": true}

// filterFromQuery builds a store filter from query parameters, refusing
// parameters it does not know and values it cannot read.
func filterFromQuery(e store.Entity, q map[string][]string) (store.Filter, error) {
	d := store.Def(e)
	f := store.Filter{Eq: map[string]string{}}
	fe := map[string]string{}
	for k, vs := range q {
		v := ""
		if len(vs) > 0 {
			v = vs[0]
		}
		switch k {
		case "q":
			f.Q = v
		case "tag":
			f.Tags = vs
		case "owner_id", "assignee_id":
			if k != d.OwnerKey {
				fe[k] = "error.unknown_field"
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				fe[k] = "error.unknown_user"
				continue
			}
			f.OwnerID = n
		case "updated_since":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fe[k] = "error.datetime"
				continue
			}
			f.UpdatedSince = t
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 200 {
				fe[k] = "error.limit"
				continue
			}
			f.Limit = n
		case "cursor":
			f.Cursor = v
		case "sla":
			// Cases at risk of or past their SLA (store/service.go).
			if e != store.EntCases || (v != store.SLAAtRisk && v != store.SLABreached) {
				fe[k] = "error.option"
				continue
			}
			f.SLA = v
		case "sort":
			if !d.Sortable(v) {
				fe[k] = "error.sort"
				continue
			}
			f.Sort = v
		default:
			if strings.HasPrefix(k, "custom.") {
				// The store checks the field exists and is filterable.
				f.Eq[k] = v
				continue
			}
			fl, ok := d.Field(k)
			if !ok || !fl.Filter {
				fe[k] = "error.unknown_field"
				continue
			}
			f.Eq[k] = v
		}
	}
	if len(fe) > 0 {
		return f, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: fe}
	}
	return f, nil
}

func (s *Server) apiList(w http.ResponseWriter, r *http.Request) {
	e := apiEntity(r)
	f, err := filterFromQuery(e, r.URL.Query())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	recs, next, err := s.st.FindRecords(r.Context(), reqCtxOf(r).actor, e, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	data := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		data = append(data, recordJSON(rec))
	}
	out := map[string]any{"data": data, "next_cursor": nil}
	if next != "" {
		out["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiGet(w http.ResponseWriter, r *http.Request) {
	rec, err := s.st.FindRecord(r.Context(), reqCtxOf(r).actor, apiEntity(r), pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.TrimPrefix(strings.TrimSpace(inm), "W/") == etag(rec) {
		w.Header().Set("ETag", etag(rec))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeRecord(w, http.StatusOK, rec)
}

func (s *Server) apiCreate(w http.ResponseWriter, r *http.Request) {
	e := apiEntity(r)
	var body map[string]any
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	in, err := inputFromJSON(e, body, true)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rec, err := s.st.CreateRecord(r.Context(), reqCtxOf(r).actor, e, in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/"+string(e)+"/"+itoa(rec.ID))
	writeJSON(w, http.StatusCreated, recordJSON(rec))
}

// writeInput reads the body of a write to an existing record (PATCH, or
// PUT by external id) with its If-Match version; ok is false when the
// answer (an error, or 412) was already written. present reports an
// If-Match header, whose stale version also answers 412.
func (s *Server) writeInput(w http.ResponseWriter, r *http.Request, e store.Entity) (in store.Input, present, ok bool) {
	var body map[string]any
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return in, false, false
	}
	in, err := inputFromJSON(e, body, false)
	if err != nil {
		s.apiError(w, r, err)
		return in, false, false
	}
	// If-Match: the record must still be at that version (412 if not).
	v, present, anyTag := ifMatch(r)
	if present && !anyTag {
		if v < 1 {
			s.preconditionFailed(w, r)
			return in, present, false
		}
		in.Version = v
	}
	return in, present, true
}

func (s *Server) apiUpdate(w http.ResponseWriter, r *http.Request) {
	e := apiEntity(r)
	in, present, ok := s.writeInput(w, r, e)
	if !ok {
		return
	}
	rec, err := s.st.UpdateRecord(r.Context(), reqCtxOf(r).actor, e, pathID(r, "id"), in)
	if err != nil {
		if present && isStale(err) {
			s.preconditionFailed(w, r)
			return
		}
		s.apiError(w, r, err)
		return
	}
	writeRecord(w, http.StatusOK, rec)
}

func (s *Server) apiDelete(w http.ResponseWriter, r *http.Request) {
	a, e, id := reqCtxOf(r).actor, apiEntity(r), pathID(r, "id")
	var err error
	v, present, anyTag := ifMatch(r)
	switch {
	case present && !anyTag && v < 1:
		s.preconditionFailed(w, r)
		return
	case present && !anyTag:
		err = s.st.DeleteRecordVersion(r.Context(), a, e, id, v)
	default:
		err = s.st.DeleteRecord(r.Context(), a, e, id)
	}
	if err != nil {
		if present && isStale(err) {
			s.preconditionFailed(w, r)
			return
		}
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiTimeline(w http.ResponseWriter, r *http.Request) {
	items, err := s.st.Timeline(r.Context(), reqCtxOf(r).actor, apiEntity(r), pathID(r, "id"), 0)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	data := make([]map[string]any, 0, len(items))
	for _, it := range items {
		m := map[string]any{"kind": it.Kind, "at": it.At.Format(time.RFC3339), "subject": it.Subject, "user": it.UserName}
		switch it.Kind {
		case "activity":
			m["id"], m["type"], m["description"], m["outcome"] = itoa(it.RecordID), it.Type, it.Detail, it.New
		case "task":
			m["id"], m["status"], m["description"] = itoa(it.RecordID), it.Type, it.Detail
		case "field_change", "stage_change":
			m["field"], m["old"], m["new"] = it.Field, it.Old, it.New
		}
		data = append(data, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// convertBody is the body of POST /api/v1/leads/{id}/convert.
type convertBody struct {
	AccountID         string `json:"account_id"`
	CreateOpportunity *struct {
		Name   string `json:"name"`
		Amount any    `json:"amount"`
	} `json:"create_opportunity"`
}

func (s *Server) apiConvert(w http.ResponseWriter, r *http.Request) {
	var body convertBody
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &body); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	in := store.ConvertInput{}
	if body.AccountID != "" {
		id, err := strconv.ParseInt(body.AccountID, 10, 64)
		if err != nil {
			s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"account_id": "error.unknown_record"}})
			return
		}
		in.AccountID = id
	}
	if body.CreateOpportunity != nil {
		in.Opportunity = &store.ConvertOpportunity{Name: body.CreateOpportunity.Name, Amount: body.CreateOpportunity.Amount}
	}
	conv, err := s.st.ConvertLead(r.Context(), reqCtxOf(r).actor, pathID(r, "id"), in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := map[string]any{"account": recordJSON(conv.Account), "contact": recordJSON(conv.Contact), "opportunity": nil}
	if conv.Opportunity != nil {
		out["opportunity"] = recordJSON(conv.Opportunity)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	groups, err := s.st.Search(r.Context(), reqCtxOf(r).actor, r.URL.Query().Get("q"), parseLimit(r.URL.Query().Get("limit"), 5))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := map[string]any{}
	for _, g := range groups {
		list := make([]map[string]any, 0, len(g.Records))
		for _, rec := range g.Records {
			list = append(list, recordJSON(rec))
		}
		out[string(g.Entity)] = list
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (s *Server) apiTags(w http.ResponseWriter, r *http.Request) {
	tags, err := s.st.FindTags(r.Context(), reqCtxOf(r).actor, r.URL.Query().Get("q"), 0)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	data := make([]map[string]any, 0, len(tags))
	for _, t := range tags {
		data = append(data, map[string]any{"id": itoa(t.ID), "name": t.Name, "count": t.Count})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func parseLimit(v string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return def
	}
	return n
}
