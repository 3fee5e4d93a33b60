package ui

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"cartera/store"
)

// recordBulk applies one action to the selected rows of a list.
func (s *Server) recordBulk(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	var ids []int64
	for _, v := range r.PostForm["id"] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			ids = append(ids, n)
		}
	}
	back := "/" + string(e)
	if q := r.PostForm.Get("query"); q != "" {
		back += "?" + q
	}
	if len(ids) == 0 {
		s.flash(w, r, "error", "flash.nothing_selected")
		redirect(w, r, back)
		return
	}
	act := store.BulkAction{}
	switch r.PostForm.Get("action") {
	case "assign":
		act.OwnerID = parseInt64(r.PostForm.Get("owner"))
	case "tag":
		act.AddTag = r.PostForm.Get("tag")
	case "delete":
		act.Delete = true
	}
	if _, err := s.st.BulkUpdate(r.Context(), reqCtxOf(r).actor, e, ids, act); err != nil {
		s.logIfInternal(r, err)
		se := store.AsError(err)
		key := se.Key
		for _, k := range se.Fields {
			key = k
		}
		s.flash(w, r, "error", key)
		redirect(w, r, back)
		return
	}
	s.flash(w, r, "success", "flash.bulk_done")
	redirect(w, r, back)
}

// viewSave stores the current list filter under a name.
func (s *Server) viewSave(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	q := r.PostForm.Get("query")
	if _, err := s.st.SaveView(r.Context(), reqCtxOf(r).actor, e, r.PostForm.Get("name"), q); err != nil {
		s.flash(w, r, "error", "flash.view_name_required")
	} else {
		s.flash(w, r, "success", "flash.view_saved")
	}
	redirect(w, r, withQuery("/"+string(e), mustParseQuery(q), nil))
}

func (s *Server) viewDelete(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	if err := s.st.DeleteView(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/"+string(e))
}

func mustParseQuery(q string) url.Values {
	v, _ := url.ParseQuery(q)
	return v
}

// convertData feeds the lead conversion form.
type convertData struct {
	Lead *store.Record
}

func (s *Server) convertForm(w http.ResponseWriter, r *http.Request) {
	lead, err := s.st.FindRecord(r.Context(), reqCtxOf(r).actor, store.EntLeads, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "leads.convert")
	p.Section = "leads"
	p.Data = convertData{Lead: lead}
	p.Form.Set("opportunity_name", lead.Str("company"))
	s.render(w, r, http.StatusOK, "lead_convert", p)
}

func (s *Server) convertSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	in := store.ConvertInput{AccountID: parseInt64(r.PostForm.Get("account_id"))}
	if r.PostForm.Get("create_opportunity") != "" {
		in.Opportunity = &store.ConvertOpportunity{Name: r.PostForm.Get("opportunity_name"), Amount: r.PostForm.Get("opportunity_amount")}
	}
	conv, err := s.st.ConvertLead(r.Context(), a, pathID(r, "id"), in)
	if err != nil {
		lead, lerr := s.st.FindRecord(r.Context(), a, store.EntLeads, pathID(r, "id"))
		if lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		p := s.newPage(r, "leads.convert")
		p.Section = "leads"
		p.Data = convertData{Lead: lead}
		p.Form = r.PostForm
		status := s.formErrors(r, p, err)
		// The store names the new records' fields; the form names its own.
		for from, to := range map[string]string{"opportunity.amount": "opportunity_amount", "opportunity.name": "opportunity_name"} {
			if msg, ok := p.Errors[from]; ok {
				p.Errors[to] = msg
			}
		}
		s.render(w, r, status, "lead_convert", p)
		return
	}
	s.flash(w, r, "success", "flash.converted")
	redirect(w, r, recordPath(store.EntContacts, conv.Contact.ID))
}

// boardData feeds the pipeline board.
type boardData struct {
	Columns   []boardColumn
	Owners    []option
	Stages    []option
	CanEdit   bool
	Pipeline  string
	Pipelines []option
}

type boardColumn struct {
	Stage, Label, Kind, Total string
	Count                     int64
	Cards                     []boardCard
}

type boardCard struct {
	ID                     int64
	Title, Account, Amount string
	Href                   string
	Stage                  string
	Close                  string
}

// boardCards is how many cards each stage column shows (the most recently
// moved); the list view with a stage filter shows the rest.
const boardCards = 25

// board shows opportunities as cards in stage columns; cards move by drag
// and drop, or with the select on each card for keyboard and phone users.
func (s *Server) board(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	if !a.Can(store.EntOpportunities, store.ActView) {
		s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	owner := parseInt64(r.URL.Query().Get("owner"))
	pipeline := r.URL.Query().Get("pipeline")
	if pipeline == "" {
		pipeline = store.DefaultPipeline
	}
	cols, err := s.st.PipelineBoard(r.Context(), a, pipeline, owner, boardCards)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "board.title")
	p.Section = "opportunities"
	cur, _ := s.st.Company(r.Context())
	list := store.StageList(pipeline)
	bd := boardData{CanEdit: a.Can(store.EntOpportunities, store.ActEdit), Stages: p.selectOptions(list, p.schema().ActiveOptions(list), "", false), Pipeline: pipeline}
	for _, pl := range p.schema().Pipelines() {
		if pl.Retired && pl.Key != pipeline {
			continue
		}
		bd.Pipelines = append(bd.Pipelines, option{Value: pl.Key, Label: p.OptName("pipeline", pl.Key), Selected: pl.Key == pipeline})
	}
	for _, c := range cols {
		bc := boardColumn{Stage: c.Stage, Label: p.OptName(list, c.Stage), Kind: c.Kind, Count: c.Count, Total: p.Tr.Money(c.Amount, cur.Currency)}
		for _, rec := range c.Records {
			card := boardCard{ID: rec.ID, Title: rec.Title, Account: rec.Refs["account_id"], Amount: p.Tr.Money(rec.Float("amount"), rec.Str("currency")), Href: recordPath(store.EntOpportunities, rec.ID), Stage: rec.Str("stage")}
			if d := rec.Str("expected_close_date"); d != "" {
				if t, err := time.Parse("2006-01-02", d); err == nil {
					card.Close = p.Tr.Date(t)
				}
			}
			bc.Cards = append(bc.Cards, card)
		}
		bd.Columns = append(bd.Columns, bc)
	}
	users, err := s.st.FindUsers(r.Context(), a, store.UserFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	bd.Owners = append(bd.Owners, option{Value: "", Label: p.T("common.anyone")})
	for _, u := range users {
		bd.Owners = append(bd.Owners, option{Value: itoa(u.ID), Label: u.Name, Selected: u.ID == owner})
	}
	p.Data = bd
	s.render(w, r, http.StatusOK, "board", p)
}

// stageMove changes an opportunity's stage from the board.
func (s *Server) stageMove(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	_, err := s.st.UpdateRecord(r.Context(), reqCtxOf(r).actor, store.EntOpportunities, pathID(r, "id"), store.Input{Values: map[string]any{"stage": r.PostForm.Get("stage")}})
	if r.Header.Get("HX-Request") == "true" {
		if err != nil {
			s.logIfInternal(r, err)
			w.WriteHeader(statusFor(store.ErrorCode(err)))
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, safeNext(r.PostForm.Get("next")))
}

// myTasksData feeds "My tasks".
type myTasksData struct {
	Overdue, Today, Upcoming, Undated []listRow
}

// myTasks lists the actor's open tasks: overdue, due today, upcoming.
func (s *Server) myTasks(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	if !a.Can(store.EntTasks, store.ActView) {
		s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	p := s.newPage(r, "tasks.mine")
	p.Section = "tasks"
	recs, _, err := s.st.FindRecords(r.Context(), a, store.EntTasks, store.Filter{OwnerID: a.UserID, Eq: map[string]string{"status": "open"}, Sort: "due_at", Limit: 200})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now().In(p.Tr.Location())
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	tomorrow := today.AddDate(0, 0, 1)
	var d myTasksData
	for _, t := range recs {
		due := t.Time("due_at")
		row := listRow{ID: t.ID, Href: recordPath(store.EntTasks, t.ID), Title: t.Title, Owner: p.DateTime(due)}
		if link := firstLink(t); link != "" {
			row.Tags = []string{link}
		}
		switch {
		case due.IsZero():
			d.Undated = append(d.Undated, row)
		case due.Before(now):
			d.Overdue = append(d.Overdue, row)
		case due.Before(tomorrow):
			d.Today = append(d.Today, row)
		default:
			d.Upcoming = append(d.Upcoming, row)
		}
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "my_tasks", p)
}

// firstLink names the record a task is about.
func firstLink(t *store.Record) string {
	for _, k := range []string{"contact_id", "lead_id", "opportunity_id", "case_id", "account_id"} {
		if v, ok := t.Refs[k]; ok {
			return v
		}
	}
	return ""
}

// searchData feeds the global search page.
type searchData struct {
	Q      string
	Groups []searchGroup
}

type searchGroup struct {
	Entity store.Entity
	Label  string
	Rows   []listRow
	More   string
}

// search is the global search page behind the top bar's box; with htmx it
// also answers as-you-type with just the results.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	q := r.URL.Query().Get("q")
	p := s.newPage(r, "search.title")
	groups, err := s.st.Search(r.Context(), a, q, 8)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sd := searchData{Q: q}
	for _, g := range groups {
		sg := searchGroup{Entity: g.Entity, Label: "entity." + string(g.Entity), More: "/" + string(g.Entity) + "?" + url.Values{"q": {q}}.Encode()}
		for _, rec := range g.Records {
			sg.Rows = append(sg.Rows, listRow{ID: rec.ID, Href: recordPath(g.Entity, rec.ID), Title: rec.Title, Owner: searchSubtitle(p, rec)})
		}
		sd.Groups = append(sd.Groups, sg)
	}
	p.Data = sd
	p.Form.Set("q", q)
	if r.Header.Get("HX-Request") == "true" {
		s.renderPartial(w, r, "search", "results", p)
		return
	}
	s.render(w, r, http.StatusOK, "search", p)
}

func searchSubtitle(p *page, r *store.Record) string {
	switch r.Entity {
	case store.EntContacts:
		out := r.Str("email")
		if acc := r.Refs["account_id"]; acc != "" {
			out += " · " + acc
		}
		return out
	case store.EntAccounts:
		return r.Str("city")
	case store.EntLeads:
		return r.Str("company")
	case store.EntOpportunities:
		return r.Refs["account_id"] + " · " + p.OptName("stage", r.Str("stage"))
	case store.EntCases:
		return p.OptName("case_status", r.Str("status"))
	}
	return ""
}

// lookup answers the record pickers of forms with <option> elements.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	a := reqCtxOf(r).actor
	q := r.URL.Query().Get("q")
	for k, v := range r.URL.Query() {
		if len(k) > 7 && k[:7] == "lookup_" {
			q = v[0]
		}
	}
	p := s.newPage(r, "")
	var opts []option
	if a.Can(e, store.ActView) {
		recs, _, err := s.st.FindRecords(r.Context(), a, e, store.Filter{Q: q, Limit: 20})
		if err != nil && store.ErrorCode(err) != store.CodeInvalid {
			s.logIfInternal(r, err)
		}
		for _, rec := range recs {
			opts = append(opts, option{Value: itoa(rec.ID), Label: rec.Title})
		}
	}
	p.Data = opts
	s.renderPartial(w, r, "lookup", "options", p)
}

// renderPartial renders one named template of a page without the layout,
// for htmx fragments.
func (s *Server) renderPartial(w http.ResponseWriter, r *http.Request, page, name string, p *page) {
	t, ok := s.pages[page]
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		s.log.Error("rendering partial", "page", page, "name", name, "err", err)
		http.Error(w, p.T("error.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
