package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"cartera/store"
)

// This file serves the report builder (issue 8): a form over the custom
// report engine with a preview, saving with a name and roles to share
// with, copying a standard report as a starting point, the saved report's
// page, and the saved reports in the API (GET /api/v1/reports lists them;
// POST /api/v1/reports creates one; GET /api/v1/reports/saved/{id} runs
// it under the caller's permissions).

// builderMeasures is how many measures the form offers.
const builderMeasures = 3

// builderFromQuery reads a report from the builder form (query or POST).
func builderFromQuery(q url.Values) *store.SavedReport {
	r := &store.SavedReport{Name: q.Get("name"), Entity: store.Entity(q.Get("entity")), Sort: q.Get("sort"), Chart: q.Get("chart"),
		Q: strings.TrimSpace(q.Get("q")), CreatedFrom: q.Get("created_from"), CreatedTo: q.Get("created_to"), Eq: map[string]string{}}
	for i := 1; i <= 2; i++ {
		if g := q.Get("group" + strconv.Itoa(i)); g != "" {
			r.GroupBy = append(r.GroupBy, store.GroupBy{Field: g, Bucket: q.Get("bucket" + strconv.Itoa(i))})
		}
	}
	for i := 1; i <= builderMeasures; i++ {
		if m := q.Get("m" + strconv.Itoa(i)); m != "" {
			op, field, _ := cutColon(m)
			r.Measures = append(r.Measures, store.Measure{Op: op, Field: field})
		}
	}
	for k, vs := range q {
		if f, ok := strings.CutPrefix(k, "f."); ok && len(vs) > 0 && vs[0] != "" {
			r.Eq[f] = vs[0]
		}
	}
	for _, t := range q["tag"] {
		if t = strings.TrimSpace(t); t != "" {
			r.Tags = append(r.Tags, t)
		}
	}
	r.OwnerFilter, _ = strconv.ParseInt(q.Get("owner_id"), 10, 64)
	r.Roles = q["roles"]
	return r
}

// builderQuery writes a report back as the builder's query string, for
// the edit link and "copy a standard report".
func builderQuery(r *store.SavedReport) url.Values {
	q := url.Values{"entity": {string(r.Entity)}, "sort": {r.Sort}, "chart": {r.Chart}}
	for i, g := range r.GroupBy {
		q.Set("group"+strconv.Itoa(i+1), g.Field)
		if g.Bucket != "" {
			q.Set("bucket"+strconv.Itoa(i+1), g.Bucket)
		}
	}
	for i, m := range r.Measures {
		v := m.Op
		if m.Field != "" {
			v += ":" + m.Field
		}
		q.Set("m"+strconv.Itoa(i+1), v)
	}
	for k, v := range r.Eq {
		q.Set("f."+k, v)
	}
	for _, t := range r.Tags {
		q.Add("tag", t)
	}
	if r.OwnerFilter != 0 {
		q.Set("owner_id", strconv.FormatInt(r.OwnerFilter, 10))
	}
	for k, v := range map[string]string{"q": r.Q, "created_from": r.CreatedFrom, "created_to": r.CreatedTo} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// savedHeaders names a custom report's columns in the reader's language:
// field labels (with the date bucket), then "Sum · Amount"-like measures.
func savedHeaders(f reportFormat, r *store.SavedReport) []string {
	p := &page{Tr: f.tr, Schema: f.sc}
	field := func(k string) string {
		switch k {
		case "owner":
			return f.tr.T("builder.field.owner")
		case "created_at", "updated_at":
			return f.tr.T("builder.field." + k)
		}
		return p.FieldName(r.Entity, k)
	}
	var out []string
	for _, g := range r.GroupBy {
		h := field(g.Field)
		if g.Bucket != "" {
			h += " (" + f.tr.T("builder.bucket."+g.Bucket) + ")"
		}
		out = append(out, h)
	}
	for _, m := range r.Measures {
		h := f.tr.T("builder.op." + m.Op)
		if m.Field != "" {
			h += " · " + field(m.Field)
		}
		out = append(out, h)
	}
	return out
}

// builderOption is one choice of a builder select.
type builderOption struct {
	Value, Label string
	Date         bool
}

// builderFilter is one filter input of the builder.
type builderFilter struct {
	Key, Label, Value string
	Options           []builderOption
}

// builderChoices lists an entity's groupable fields, numeric fields and
// filters for the form.
func builderChoices(p *page, e store.Entity, eq map[string]string) (groups, measures []builderOption, filters []builderFilter) {
	d := p.def(e)
	if d == nil {
		return
	}
	groups = append(groups, builderOption{Value: "owner", Label: p.T("builder.field.owner")},
		builderOption{Value: "created_at", Label: p.T("builder.field.created_at"), Date: true},
		builderOption{Value: "updated_at", Label: p.T("builder.field.updated_at"), Date: true})
	measures = append(measures, builderOption{Value: "count", Label: p.T("builder.op.count")})
	numeric := func(key, label string) {
		for _, op := range store.ReportOps[1:] {
			measures = append(measures, builderOption{Value: op + ":" + key, Label: p.T("builder.op."+op) + " · " + label})
		}
	}
	for _, f := range d.Fields {
		if f.Hidden {
			continue
		}
		label := p.FieldName(e, f.Key)
		switch f.Kind {
		case store.KSelect, store.KBool:
			groups = append(groups, builderOption{Value: f.Key, Label: label})
		case store.KDate, store.KDateTime:
			groups = append(groups, builderOption{Value: f.Key, Label: label, Date: true})
		case store.KNumber, store.KMoney:
			numeric(f.Key, label)
		}
		if f.Filter && f.Kind == store.KSelect {
			bf := builderFilter{Key: f.Key, Label: label, Value: eq[f.Key]}
			for _, o := range p.schema().Options(f.Picklist) {
				bf.Options = append(bf.Options, builderOption{Value: o.Key, Label: p.OptName(f.Picklist, o.Key)})
			}
			filters = append(filters, bf)
		}
	}
	for _, c := range d.Custom {
		key := "custom." + c.Key
		label := p.CustomName(c)
		switch c.Kind {
		case store.KSelect, store.KBool, store.KText:
			groups = append(groups, builderOption{Value: key, Label: label})
		case store.KDate, store.KDateTime:
			groups = append(groups, builderOption{Value: key, Label: label, Date: true})
		case store.KNumber, store.KMoney:
			numeric(key, label)
		}
		if c.Filterable {
			bf := builderFilter{Key: key, Label: label, Value: eq[key]}
			if c.Kind == store.KSelect {
				for _, o := range c.Options {
					bf.Options = append(bf.Options, builderOption{Value: o.Key, Label: p.OptName(c.OptionList(), o.Key)})
				}
			}
			filters = append(filters, bf)
		}
	}
	return
}

// builderPage shows the builder form and, when the form names an entity,
// the preview; copy=KEY starts from a standard report, id=N edits a saved
// one.
func (s *Server) builderPage(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	q := r.URL.Query()
	var editing *store.SavedReport
	if id := parseInt64(q.Get("id")); id != 0 {
		rep, err := s.st.GetSavedReport(r.Context(), a, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !store.CanEditReport(a, rep) {
			s.fail(w, r, &store.Error{Code: store.CodeForbidden, Key: "error.forbidden"})
			return
		}
		editing = rep
		if q.Get("entity") == "" {
			nq := builderQuery(rep)
			nq.Set("id", q.Get("id"))
			nq.Set("name", rep.Name)
			for _, role := range rep.Roles {
				nq.Add("roles", role)
			}
			q = nq
		}
	}
	p := s.newPage(r, "builder.title")
	p.Section = "reports"
	if k := q.Get("copy"); k != "" {
		rep, ok := store.CopyStandardReport(k)
		if !ok {
			p.ErrorMsg = p.T("builder.cannot_copy")
		} else {
			q = builderQuery(rep)
			q.Set("name", p.T("report."+k+".title"))
		}
	}
	rep := builderFromQuery(q)
	data := map[string]any{"Q": q, "Report": rep, "Editing": editing, "Charts": store.ReportCharts, "Sorts": store.ReportSorts,
		"Buckets": store.DateBuckets, "NMeasures": []int{1, 2, 3}}
	var ents []string
	for _, e := range store.RecordEntities {
		if a.Can(e, store.ActView) {
			ents = append(ents, string(e))
		}
	}
	data["Entities"] = ents
	roles, _ := s.st.ShareableRoles(r.Context(), a)
	data["Roles"] = roles
	var copyable []string
	for _, sr := range store.StandardReports() {
		if _, ok := store.CopyStandardReport(sr.Key); ok && store.StandardReportVisible(a, sr) {
			copyable = append(copyable, sr.Key)
		}
	}
	data["Copyable"] = copyable
	status := http.StatusOK
	if rep.Entity != "" {
		data["Groups"], data["Measures"], data["Filters"] = builderChoices(p, rep.Entity, rep.Eq)
		rd := s.readerOf(r)
		res, err := s.st.RunSavedReport(r.Context(), a, rep, rd.loc)
		if err != nil {
			if store.ErrorCode(err) != store.CodeInvalid {
				s.fail(w, r, err)
				return
			}
			s.formErrors(r, p, err)
			status = http.StatusBadRequest
		} else {
			v := &reportView{Res: res, Headers: savedHeaders(rd.f, rep)}
			title := rep.Name
			if title == "" {
				title = p.T("builder.preview")
			}
			rd.f.fill(v, title)
			data["Preview"] = v
		}
	}
	p.Data = data
	s.render(w, r, status, "report_builder", p)
}

// savedReportSave creates (POST /reports/saved) or updates (POST
// /reports/saved/{id}) a saved report from the builder form.
func (s *Server) savedReportSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	rep := builderFromQuery(r.PostForm)
	rep.ID = pathID(r, "id")
	if err := s.st.SaveReport(r.Context(), reqCtxOf(r).actor, rep); err != nil {
		if store.ErrorCode(err) == store.CodeInvalid {
			// Show the builder again with the problem and the preview.
			q := r.PostForm
			if rep.ID != 0 {
				q.Set("id", strconv.FormatInt(rep.ID, 10))
			}
			p := s.newPage(r, "builder.title")
			s.formErrors(r, p, err)
			s.flash(w, r, "error", "builder.not_saved")
			redirect(w, r, "/reports/builder?"+q.Encode())
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "builder.saved")
	redirect(w, r, "/reports/saved/"+strconv.FormatInt(rep.ID, 10))
}

// savedReportShow runs a saved report for the reader: chart, table, and
// the links to edit it, add it to the dashboard or delete it.
func (s *Server) savedReportShow(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	id := pathID(r, "id")
	rep, err := s.st.GetSavedReport(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rd := s.readerOf(r)
	res, err := s.st.RunSavedReport(r.Context(), a, rep, rd.loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := &reportView{Res: res, Headers: savedHeaders(rd.f, rep)}
	rd.f.fill(v, rep.Name)
	p := s.newPage(r, "builder.saved_title")
	p.Section = "reports"
	p.Data = map[string]any{"Report": rep, "View": v, "CanEdit": store.CanEditReport(a, rep), "ID": strconv.FormatInt(id, 10)}
	s.render(w, r, http.StatusOK, "report_saved", p)
}

// savedReportDelete deletes a saved report.
func (s *Server) savedReportDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteSavedReport(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "builder.deleted")
	redirect(w, r, "/reports")
}

// apiSavedReport is a saved report in the API; ids are strings.
func apiSavedReport(rep *store.SavedReport) map[string]any {
	groups := []map[string]any{}
	for _, g := range rep.GroupBy {
		groups = append(groups, map[string]any{"field": g.Field, "bucket": g.Bucket})
	}
	measures := []map[string]any{}
	for _, m := range rep.Measures {
		measures = append(measures, map[string]any{"op": m.Op, "field": m.Field})
	}
	roles := rep.Roles
	if roles == nil {
		roles = []string{}
	}
	filters := map[string]any{}
	for k, v := range rep.Eq {
		filters[k] = v
	}
	if len(rep.Tags) > 0 {
		filters["tags"] = rep.Tags
	}
	if rep.OwnerFilter != 0 {
		filters["owner_id"] = itoa(rep.OwnerFilter)
	}
	for k, v := range map[string]string{"q": rep.Q, "created_from": rep.CreatedFrom, "created_to": rep.CreatedTo} {
		if v != "" {
			filters[k] = v
		}
	}
	return map[string]any{"id": itoa(rep.ID), "key": "saved:" + itoa(rep.ID), "kind": "saved", "title": rep.Name, "name": rep.Name,
		"entity": rep.Entity, "group": groups, "measures": measures, "filters": filters, "sort": rep.Sort, "chart": rep.Chart,
		"roles": roles, "owner_id": itoa(rep.OwnerID), "available": true, "allowed": true, "url": "/api/v1/reports/saved/" + itoa(rep.ID)}
}

// apiSavedReportInput is the body of POST /api/v1/reports.
type apiSavedReportInput struct {
	Name     string            `json:"name"`
	Entity   string            `json:"entity"`
	Filters  map[string]string `json:"filters"`
	Tags     []string          `json:"tags"`
	OwnerID  store.FlexInt     `json:"owner_id"`
	Group    []store.GroupBy   `json:"group"`
	Measures []store.Measure   `json:"measures"`
	Sort     string            `json:"sort"`
	Chart    string            `json:"chart"`
	Roles    []string          `json:"roles"`
}

// apiSavedReportCreate saves a custom report: POST /api/v1/reports with
// {"name","entity","filters":{field:value,"created_from","created_to","q"},
// "tags":[…],"group":[{"field","bucket"}],"measures":[{"op","field"}],
// "sort","chart","roles":[…]}; answers 201 with the saved report.
func (s *Server) apiSavedReportCreate(w http.ResponseWriter, r *http.Request) {
	var in apiSavedReportInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	rep := &store.SavedReport{Name: in.Name, Entity: store.Entity(in.Entity), Eq: map[string]string{}, Tags: in.Tags, OwnerFilter: int64(in.OwnerID),
		GroupBy: in.Group, Measures: in.Measures, Sort: in.Sort, Chart: in.Chart, Roles: in.Roles}
	for k, v := range in.Filters {
		switch k {
		case "q":
			rep.Q = v
		case "created_from":
			rep.CreatedFrom = v
		case "created_to":
			rep.CreatedTo = v
		default:
			rep.Eq[k] = v
		}
	}
	if err := s.st.SaveReport(r.Context(), reqCtxOf(r).actor, rep); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, apiSavedReport(rep))
}

// apiSavedReportRun runs a saved report under the caller's permissions:
// GET /api/v1/reports/saved/{id} answers {"columns","kinds","rows"}.
func (s *Server) apiSavedReportRun(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	rep, err := s.st.GetSavedReport(r.Context(), a, pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	res, err := s.st.RunSavedReport(r.Context(), a, rep, reportLoc(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rows := res.Rows
	if rows == nil {
		rows = [][]any{}
	}
	body := apiSavedReport(rep)
	body["columns"], body["kinds"], body["rows"], body["truncated"] = res.Columns, res.Kinds, rows, res.Truncated
	writeJSON(w, http.StatusOK, body)
}

// savedForIndex lists the reader's saved reports for the reports index.
func (s *Server) savedForIndex(r *http.Request) []*store.SavedReport {
	saved, err := s.st.FindSavedReports(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.logIfInternal(r, err)
	}
	return saved
}
