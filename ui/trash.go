package ui

import (
	"net/http"

	"cartera/store"
)

// trashData feeds the trash page.
type trashData struct {
	Groups []relatedList
	// Files are trashed attachments of live records (ui/attachments.go).
	Files []*store.Attachment
}

// trash lists deleted records the actor may restore.
func (s *Server) trash(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	p := s.newPage(r, "trash.title")
	p.Section = "settings"
	var td trashData
	for _, e := range store.RecordEntities {
		if !a.Can(e, store.ActDelete) {
			continue
		}
		recs, _, err := s.st.FindRecords(r.Context(), a, e, store.Filter{Trash: true, Sort: "-updated_at", Limit: 100})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(recs) == 0 {
			continue
		}
		g := relatedList{Entity: e, Title: "entity." + string(e)}
		for _, rec := range recs {
			g.Rows = append(g.Rows, listRow{ID: rec.ID, Title: rec.Title, Owner: p.DateTime(rec.DeletedAt)})
		}
		td.Groups = append(td.Groups, g)
	}
	files, err := s.st.TrashedAttachments(r.Context(), a, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	td.Files = files
	p.Data = td
	s.render(w, r, http.StatusOK, "trash", p)
}

func (s *Server) trashRestore(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	if err := s.st.RestoreRecord(r.Context(), reqCtxOf(r).actor, e, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.restored")
	redirect(w, r, "/trash")
}

func (s *Server) trashPurge(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	if err := s.st.PurgeRecord(r.Context(), reqCtxOf(r).actor, e, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.purged")
	redirect(w, r, "/trash")
}

// tagsData feeds the tags page.
type tagsData struct {
	Tags      []*store.Tag
	CanManage bool
}

// tags lists every tag with its use count; admins rename and merge them.
func (s *Server) tags(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	tags, err := s.st.FindTags(r.Context(), a, r.URL.Query().Get("q"), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.Header.Get("HX-Request") == "true" || r.URL.Query().Get("format") == "options" {
		p := s.newPage(r, "")
		var opts []option
		for _, t := range tags {
			opts = append(opts, option{Value: t.Name, Label: t.Name})
		}
		p.Data = opts
		s.renderPartial(w, r, "lookup", "options", p)
		return
	}
	p := s.newPage(r, "tags.title")
	p.Section = "settings"
	p.Data = tagsData{Tags: tags, CanManage: a.Has(store.CapCustomize)}
	s.render(w, r, http.StatusOK, "tags", p)
}

func (s *Server) tagRename(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err := s.st.RenameTag(r.Context(), reqCtxOf(r).actor, pathID(r, "id"), r.PostForm.Get("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/tags")
}
