package ui

import (
	"net/http"

	"cartera/store"
)

// mergeableEntities are the record types the duplicates page covers.
var mergeableEntities = []store.Entity{store.EntContacts, store.EntAccounts, store.EntLeads}

// dupReasons maps why records look alike to the message saying so.
var dupReasons = map[string]string{
	"email": "duplicates.reason_email", "phone": "duplicates.reason_phone",
	"name": "duplicates.reason_name", "tax_id": "duplicates.reason_tax_id",
}

// dupData feeds the duplicates page.
type dupData struct {
	Entity   store.Entity
	Entities []option
	Groups   []dupGroup
	Merges   []*store.Merge
}

type dupGroup struct {
	Reason, Value string
	Rows          []listRow
	MergeURL      string
}

func dupEntity(r *http.Request) store.Entity {
	e := store.Entity(r.URL.Query().Get("entity"))
	if r.Method == http.MethodPost {
		e = store.Entity(r.PostForm.Get("entity"))
	}
	for _, m := range mergeableEntities {
		if m == e {
			return e
		}
	}
	return store.EntContacts
}

// duplicates lists groups of likely duplicates and the merge log.
func (s *Server) duplicates(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	e := dupEntity(r)
	groups, err := s.st.FindDuplicateGroups(r.Context(), a, e, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	merges, err := s.st.FindMerges(r.Context(), a, e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "duplicates.title")
	p.Section = "settings"
	d := dupData{Entity: e, Merges: merges}
	for _, m := range mergeableEntities {
		d.Entities = append(d.Entities, option{Value: string(m), Label: p.T("entity." + string(m)), Selected: m == e})
	}
	for _, g := range groups {
		dg := dupGroup{Reason: dupReasons[g.Reason], Value: g.Value}
		for _, rec := range g.Records {
			dg.Rows = append(dg.Rows, listRow{ID: rec.ID, Href: recordPath(e, rec.ID), Title: rec.Title, Owner: rec.OwnerName})
		}
		if len(g.Records) >= 2 {
			dg.MergeURL = "/duplicates/merge?entity=" + string(e) + "&keep=" + itoa(g.Records[0].ID) + "&drop=" + itoa(g.Records[1].ID)
		}
		d.Groups = append(d.Groups, dg)
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "duplicates", p)
}

// mergeData feeds the side-by-side merge form.
type mergeData struct {
	Entity     store.Entity
	Keep, Drop *store.Record
	Rows       []mergeRow
}

type mergeRow struct {
	Key, Label       string
	KeepVal, DropVal string
}

func (s *Server) mergeForm(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	e := dupEntity(r)
	keep, err := s.st.FindRecord(r.Context(), a, e, parseInt64(r.URL.Query().Get("keep")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	drop, err := s.st.FindRecord(r.Context(), a, e, parseInt64(r.URL.Query().Get("drop")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "duplicates.merge")
	p.Section = "settings"
	md := mergeData{Entity: e, Keep: keep, Drop: drop}
	for _, f := range store.Def(e).Fields {
		if f.ReadOnly {
			continue
		}
		kv, dv := p.showValue(keep, f).Text, p.showValue(drop, f).Text
		if kv == dv {
			continue
		}
		md.Rows = append(md.Rows, mergeRow{Key: f.Key, Label: fieldLabelFor(e, f.Key), KeepVal: kv, DropVal: dv})
	}
	p.Data = md
	s.render(w, r, http.StatusOK, "merge", p)
}

func (s *Server) mergeSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	e := dupEntity(r)
	var take []string
	for _, f := range store.Def(e).Fields {
		if r.PostForm.Get("take_"+f.Key) == "drop" {
			take = append(take, f.Key)
		}
	}
	keep := parseInt64(r.PostForm.Get("keep"))
	if _, err := s.st.MergeRecords(r.Context(), reqCtxOf(r).actor, e, keep, parseInt64(r.PostForm.Get("drop")), take); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.merged")
	redirect(w, r, recordPath(e, keep))
}

func (s *Server) mergeUndo(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err := s.st.UndoMerge(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.unmerged")
	redirect(w, r, "/duplicates?entity="+string(dupEntity(r)))
}
