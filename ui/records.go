package ui

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"cartera/store"
)

// pageEntity reads the {entity} route variable of record pages.
func (s *Server) pageEntity(r *http.Request) (store.Entity, *store.EntityDef) {
	e, _ := entityFromPath(mux.Vars(r)["entity"])
	return e, s.st.Schema().Def(e)
}

// column is a list column header.
type column struct {
	Key, Label string
	SortURL    string
	Sorted     bool
	Desc       bool
}

// listRow is one row of a list.
type listRow struct {
	ID    int64
	Href  string
	Title string
	Cells []cell
	Owner string
	Tags  []string
	// SLA is a case's SLA state (at_risk, breached), highlighted in lists.
	SLA string
}

// option is one choice of a select input.
type option struct {
	Value, Label string
	Selected     bool
}

// filterField is a filter above a list: a select of options, a record
// picker (Ref), or a text input.
type filterField struct {
	Key, Label string
	Type       string // input type of a text filter on a custom field
	Options    []option
	Ref        store.Entity
	Value      string
}

// listData feeds the generic list page.
type listData struct {
	Entity    store.Entity
	Columns   []column
	Rows      []listRow
	Filters   []filterField
	Owners    []option
	OwnerKey  string
	Q, Tag    string
	Limit     int
	Limits    []int
	NextURL   string
	FirstURL  string
	IsFirst   bool
	Query     string
	Views     []*store.SavedView
	Tagged    bool
	CanCreate bool
	CanEdit   bool
	CanDelete bool
	CanExport bool
	BulkUsers []option
	Dates     map[string]string
	// SLA is the cases list's SLA filter (ui/service.go).
	SLA string
}

// optionsFor lists a picklist's options for a select, marking the current;
// withEmpty adds a first "any" choice (for filters).
func (p *page) optionsFor(picklist, current string, withEmpty bool) []option {
	var out []option
	if withEmpty {
		out = append(out, option{Value: "", Label: p.T("common.any"), Selected: current == ""})
	}
	return append(out, p.choices(picklist, current)...)
}

// formOptions lists a picklist's options for a form's select; an optional
// field starts with an empty "—" choice.
func (p *page) formOptions(picklist, current string, required bool) []option {
	var out []option
	if !required {
		out = append(out, option{Value: "", Label: "—", Selected: current == ""})
	}
	return append(out, p.choices(picklist, current)...)
}

func (p *page) choices(picklist, current string) []option {
	return p.selectOptions(picklist, p.schema().Options(picklist), current, false)
}

// withQuery returns path?query with some keys replaced (empty values drop).
func withQuery(path string, q url.Values, set map[string]string) string {
	n := url.Values{}
	for k, v := range q {
		n[k] = append([]string(nil), v...)
	}
	for k, v := range set {
		if v == "" {
			n.Del(k)
		} else {
			n.Set(k, v)
		}
	}
	if enc := n.Encode(); enc != "" {
		return path + "?" + enc
	}
	return path
}

func parseDate(v string, loc *time.Location) time.Time {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(v), loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

// recordList is the list page of a record type: filters in the URL (so a
// view can be bookmarked and shared), sortable columns, keyset pages, bulk
// actions and saved views.
func (s *Server) recordList(w http.ResponseWriter, r *http.Request) {
	e, d := s.pageEntity(r)
	rc := reqCtxOf(r)
	a := rc.actor
	if !a.Can(e, store.ActView) {
		s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	q := r.URL.Query()
	p := s.newPage(r, "entity."+string(e))
	p.Section = string(e)
	loc := p.Tr.Location()
	f, dates := listFilter(d, q, loc)
	data := listData{Entity: e, SLA: f.SLA, Q: f.Q, Tag: q.Get("tag"), Limit: f.Limit, Limits: []int{25, 50, 100, 200}, OwnerKey: d.OwnerKey, Tagged: d.Tagged, Dates: dates,
		CanCreate: a.Can(e, store.ActCreate), CanEdit: a.Can(e, store.ActEdit), CanDelete: a.Can(e, store.ActDelete), CanExport: a.Can(e, store.ActExport)}
	for _, fl := range d.Fields {
		if !fl.Filter || fl.Hidden {
			continue
		}
		ff := filterField{Key: fl.Key, Label: p.FieldName(e, fl.Key), Value: q.Get(fl.Key)}
		switch fl.Kind {
		case store.KSelect:
			ff.Options = append([]option{{Value: "", Label: p.T("common.any"), Selected: q.Get(fl.Key) == ""}}, optionsAll(p, fl.Picklist, fl.Options(), q.Get(fl.Key))...)
		case store.KRef:
			if !a.Can(fl.Ref, store.ActView) || (e == store.EntActivities || e == store.EntTasks) && fl.Key != "account_id" && fl.Key != "contact_id" {
				continue
			}
			ff.Ref = fl.Ref
			ff.Options = []option{{Value: "", Label: p.T("common.any")}}
			if id := parseInt64(q.Get(fl.Key)); id != 0 {
				if rec, err := s.st.FindRecord(r.Context(), a, fl.Ref, id); err == nil {
					ff.Options = append(ff.Options, option{Value: itoa(id), Label: rec.Title, Selected: true})
				}
			}
		}
		data.Filters = append(data.Filters, ff)
	}
	for _, c := range d.Custom {
		if !c.Filterable {
			continue
		}
		key := "custom." + c.Key
		v := q.Get(key)
		ff := filterField{Key: key, Label: p.CustomName(c), Value: v}
		switch c.Kind {
		case store.KSelect, store.KMulti:
			ff.Options = append([]option{{Value: "", Label: p.T("common.any"), Selected: v == ""}}, optionsAll(p, c.OptionList(), c.Options, v)...)
		case store.KBool:
			ff.Options = []option{{Value: "", Label: p.T("common.any"), Selected: v == ""}, {Value: "1", Label: p.T("common.yes"), Selected: v == "1"}, {Value: "0", Label: p.T("common.no"), Selected: v == "0"}}
		default:
			ff.Type = inputType(c.Kind)
		}
		data.Filters = append(data.Filters, ff)
	}
	recs, next, err := s.st.FindRecords(r.Context(), a, e, f)
	if err != nil {
		if store.ErrorCode(err) == store.CodeInvalid {
			// A stale cursor or a hand-edited filter: show the first page.
			p.ErrorMsg = p.T("error.bad_filter")
			f.Cursor, f.Eq = "", map[string]string{}
			recs, next, err = s.st.FindRecords(r.Context(), a, e, f)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	users, err := s.st.FindUsers(r.Context(), a, store.UserFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data.Owners = append(data.Owners, option{Value: "", Label: p.T("common.anyone")})
	for _, u := range users {
		data.Owners = append(data.Owners, option{Value: itoa(u.ID), Label: u.Name, Selected: u.ID == f.OwnerID})
		data.BulkUsers = append(data.BulkUsers, option{Value: itoa(u.ID), Label: u.Name})
	}
	curSort := f.Sort
	for _, fl := range d.Fields {
		if !fl.List || fl.Hidden {
			continue
		}
		c := column{Key: fl.Key, Label: p.FieldName(e, fl.Key)}
		sortKey := fl.Key
		if (e == store.EntContacts || e == store.EntLeads) && fl.Key == "last_name" {
			sortKey = "name"
		}
		if d.Sortable(sortKey) {
			c.Sorted = strings.TrimPrefix(curSort, "-") == sortKey
			c.Desc = c.Sorted && strings.HasPrefix(curSort, "-")
			next := sortKey
			if c.Sorted && !c.Desc {
				next = "-" + sortKey
			}
			c.SortURL = withQuery(r.URL.Path, q, map[string]string{"sort": next, "cursor": ""})
		}
		data.Columns = append(data.Columns, c)
	}
	for _, c := range d.Custom {
		if c.List {
			data.Columns = append(data.Columns, column{Key: "custom." + c.Key, Label: p.CustomName(c)})
		}
	}
	for _, rec := range recs {
		row := listRow{ID: rec.ID, Href: recordPath(e, rec.ID), Title: rec.Title, Owner: rec.OwnerName, Tags: rec.Tags, SLA: store.CaseSLAState(rec, s.st.Now())}
		if row.Title == "" {
			row.Title = "#" + itoa(rec.ID)
		}
		for _, fl := range d.Fields {
			if fl.List && !fl.Hidden {
				row.Cells = append(row.Cells, p.showValue(rec, fl))
			}
		}
		for _, c := range d.Custom {
			if c.List {
				row.Cells = append(row.Cells, p.showCustom(rec, c))
			}
		}
		data.Rows = append(data.Rows, row)
	}
	if next != "" {
		data.NextURL = withQuery(r.URL.Path, q, map[string]string{"cursor": next})
	}
	data.IsFirst = f.Cursor == ""
	data.FirstURL = withQuery(r.URL.Path, q, map[string]string{"cursor": ""})
	cq := url.Values{}
	for k, v := range q {
		if k != "cursor" {
			cq[k] = v
		}
	}
	data.Query = cq.Encode()
	if data.Views, err = s.st.FindSavedViews(r.Context(), a, e); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = data
	s.render(w, r, http.StatusOK, "record_list", p)
}

// listFilter reads a list's filters from its URL: the same for the page,
// its export and saved views.
func listFilter(d *store.EntityDef, q url.Values, loc *time.Location) (store.Filter, map[string]string) {
	f := store.Filter{Q: q.Get("q"), Sort: q.Get("sort"), Cursor: q.Get("cursor"), Eq: map[string]string{}}
	if t := q.Get("tag"); t != "" {
		f.Tags = []string{t}
	}
	f.OwnerID = parseInt64(q.Get("owner"))
	if d.Entity == store.EntCases && (q.Get("sla") == store.SLAAtRisk || q.Get("sla") == store.SLABreached) {
		f.SLA = q.Get("sla")
	}
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	if f.Limit <= 0 {
		f.Limit = 50
	}
	dates := map[string]string{}
	for _, k := range []string{"created_from", "created_to", "updated_from", "updated_to"} {
		dates[k] = q.Get(k)
	}
	f.CreatedFrom = parseDate(dates["created_from"], loc)
	if t := parseDate(dates["created_to"], loc); !t.IsZero() {
		f.CreatedTo = t.AddDate(0, 0, 1)
	}
	f.UpdatedFrom = parseDate(dates["updated_from"], loc)
	if t := parseDate(dates["updated_to"], loc); !t.IsZero() {
		f.UpdatedTo = t.AddDate(0, 0, 1)
	}
	for _, fl := range d.Fields {
		if v := q.Get(fl.Key); v != "" && fl.Filter && !fl.Hidden {
			f.Eq[fl.Key] = v
		}
	}
	for _, c := range d.Custom {
		if v := q.Get("custom." + c.Key); v != "" && c.Filterable {
			f.Eq["custom."+c.Key] = v
		}
	}
	return f, dates
}

// formField is one input of a record form.
type formField struct {
	Key, Label string
	Kind       store.Kind
	Type       string // input type for plain inputs
	Value      string
	Options    []option
	Error      string
	Required   bool
	Ref        store.Entity
	RefTitle   string
	Wide       bool
	Help       string
	Multiple   bool
	// Section is the heading shown before this field when it opens a new
	// section of the form.
	Section string
}

// formData feeds the record form.
type formData struct {
	Entity     store.Entity
	Record     *store.Record
	Fields     []formField
	Owners     []option
	OwnerKey   string
	OwnerError string
	Tagged     bool
	Tags       string
	Duplicates []listRow
	Action     string
	Version    int64
	ReturnTo   string
}

// buildForm prepares a record form from a record (nil for new) and the
// submitted values (nil on first display).
func (s *Server) buildForm(r *http.Request, p *page, e store.Entity, rec *store.Record, submitted url.Values) (formData, error) {
	d := store.Def(e)
	a := reqCtxOf(r).actor
	fd := formData{Entity: e, Record: rec, OwnerKey: d.OwnerKey, Tagged: d.Tagged, Action: "/" + string(e), ReturnTo: safeNext(r.URL.Query().Get("return_to"))}
	if r.URL.Query().Get("return_to") == "" {
		fd.ReturnTo = ""
	}
	if rec != nil {
		fd.Action = recordPath(e, rec.ID)
		fd.Version = rec.Version
		fd.Tags = strings.Join(rec.Tags, ", ")
	}
	owner := a.UserID
	if rec != nil {
		owner = rec.OwnerID
	}
	if submitted != nil {
		if v := parseInt64(submitted.Get(d.OwnerKey)); v != 0 {
			owner = v
		}
		fd.Tags = submitted.Get("tags")
		fd.ReturnTo = safeNextOrEmpty(submitted.Get("return_to"))
	}
	users, err := s.st.FindUsers(r.Context(), a, store.UserFilter{})
	if err != nil {
		return fd, err
	}
	for _, u := range users {
		fd.Owners = append(fd.Owners, option{Value: itoa(u.ID), Label: u.Name, Selected: u.ID == owner})
	}
	fd.OwnerError = p.Errors[d.OwnerKey]
	prefill := r.URL.Query()
	d = p.def(e)
	section := ""
	for _, slot := range p.schema().FormOrder(e) {
		var ff formField
		if slot.Custom {
			c, ok := d.CustomField(slot.Key)
			if !ok {
				continue
			}
			ff = s.customFormField(r, p, c, rec, submitted, prefill)
		} else {
			f, ok := d.Field(slot.Key)
			if !ok {
				continue
			}
			ff = s.standardFormField(r, p, e, f, rec, submitted, prefill)
		}
		if slot.Section != section {
			ff.Section = slot.Section
			section = slot.Section
		}
		fd.Fields = append(fd.Fields, ff)
	}
	return fd, nil
}

// standardFormField prepares the input of a standard field.
func (s *Server) standardFormField(r *http.Request, p *page, e store.Entity, f store.Field, rec *store.Record, submitted, prefill url.Values) formField {
	a := reqCtxOf(r).actor
	ff := formField{Key: f.Key, Label: p.FieldName(e, f.Key), Kind: f.Kind, Required: f.Required, Error: p.Errors[f.Key], Ref: f.Ref, Wide: f.Kind == store.KLongText}
	switch {
	case submitted != nil:
		ff.Value = submitted.Get(f.Key)
	case rec != nil:
		ff.Value = p.formValue(rec, f)
	default:
		ff.Value = prefill.Get(f.Key)
		if f.Kind == store.KDateTime && ff.Value == "" && f.Key == "occurred_at" {
			ff.Value = time.Now().In(p.Tr.Location()).Format("2006-01-02T15:04")
		}
	}
	switch f.Kind {
	case store.KSelect:
		cur := ff.Value
		if cur == "" && rec == nil && submitted == nil {
			cur = defaultOption(e, f.Key)
		}
		ff.Options = p.selectOptions(f.Picklist, f.Options(), cur, !f.Required)
		if f.Key == "stage" {
			// Stages are named after their pipeline's list.
			pl := store.DefaultPipeline
			if rec != nil {
				pl = rec.Str("pipeline")
			}
			for i := range ff.Options {
				if ff.Options[i].Value != "" {
					ff.Options[i].Label = p.OptName(store.StageList(pl), ff.Options[i].Value)
				}
			}
		}
	case store.KRef:
		if id := parseInt64(ff.Value); id != 0 {
			if t, err := s.st.FindRecord(r.Context(), a, f.Ref, id); err == nil {
				ff.RefTitle = t.Title
			} else {
				ff.Value = ""
			}
		}
	case store.KURL, store.KMoney:
		ff.Type = "text"
	default:
		ff.Type = inputType(f.Kind)
	}
	return ff
}

// customFormField prepares the input of a custom field, named
// "custom.KEY" in the form.
func (s *Server) customFormField(r *http.Request, p *page, c *store.CustomField, rec *store.Record, submitted, prefill url.Values) formField {
	a := reqCtxOf(r).actor
	key := "custom." + c.Key
	ff := formField{Key: key, Label: p.CustomName(c), Kind: c.Kind, Required: c.Required, Error: p.Errors[key], Ref: c.Ref,
		Wide: c.Kind == store.KLongText || c.Kind == store.KMulti, Help: c.Help.In(p.Tr.Lang())}
	var multi []string
	switch {
	case submitted != nil:
		ff.Value = submitted.Get(key)
		multi = submitted[key]
	case rec != nil:
		ff.Value = p.customFormValue(rec, c)
		multi, _ = rec.Custom[c.Key].([]string)
	default:
		ff.Value = prefill.Get(key)
	}
	switch c.Kind {
	case store.KSelect:
		ff.Kind = store.KSelect
		ff.Options = p.selectOptions(c.OptionList(), c.Options, ff.Value, !c.Required)
	case store.KMulti:
		ff.Kind = store.KSelect
		ff.Multiple = true
		for _, o := range c.Options {
			sel := false
			for _, m := range multi {
				sel = sel || m == o.Key
			}
			if o.Retired && !sel {
				continue
			}
			ff.Options = append(ff.Options, option{Value: o.Key, Label: p.OptName(c.OptionList(), o.Key), Selected: sel})
		}
	case store.KRef:
		if id := parseInt64(ff.Value); id != 0 {
			if t, err := s.st.FindRecord(r.Context(), a, c.Ref, id); err == nil {
				ff.RefTitle = t.Title
			} else {
				ff.Value = ""
			}
		}
	case store.KURL, store.KMoney:
		ff.Type = "text"
	default:
		ff.Type = inputType(c.Kind)
	}
	return ff
}

// defaultOption is the option a new record's select starts on.
func defaultOption(e store.Entity, key string) string {
	switch {
	case e == store.EntLeads && key == "status":
		return "new"
	case e == store.EntOpportunities && key == "stage":
		return "reception"
	case e == store.EntOpportunities && key == "forecast_category":
		return "pipeline"
	case (e == store.EntTasks || e == store.EntCases) && key == "priority":
		return "normal"
	case e == store.EntTasks && key == "status":
		return "open"
	case e == store.EntCases && key == "status":
		return "new"
	case e == store.EntActivities && key == "type":
		return "call"
	}
	return ""
}

func safeNextOrEmpty(v string) string {
	if v == "" {
		return ""
	}
	return safeNext(v)
}

func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, status int, e store.Entity, rec *store.Record, submitted url.Values, err error, dups []*store.Record) {
	title := "records.new." + string(e)
	if rec != nil {
		title = "records.edit"
	}
	p := s.newPage(r, title)
	p.Section = string(e)
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	fd, ferr := s.buildForm(r, p, e, rec, submitted)
	if ferr != nil {
		s.fail(w, r, ferr)
		return
	}
	for _, dup := range dups {
		fd.Duplicates = append(fd.Duplicates, listRow{ID: dup.ID, Href: recordPath(e, dup.ID), Title: dup.Title, Owner: dup.OwnerName})
	}
	p.Data = fd
	s.render(w, r, status, "record_form", p)
}

func (s *Server) recordNew(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	if !reqCtxOf(r).actor.Can(e, store.ActCreate) {
		s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	s.renderForm(w, r, http.StatusOK, e, nil, nil, nil, nil)
}

// recordCreate stores a new record; for accounts, contacts and leads it
// first warns about likely duplicates, and the user may open one of them
// or confirm to create anyway.
func (s *Server) recordCreate(w http.ResponseWriter, r *http.Request) {
	e, d := s.pageEntity(r)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	p := s.newPage(r, "")
	in := inputFromForm(d, r.PostForm, p.Tr.Location())
	if r.PostForm.Get("confirm_duplicates") == "" {
		dups, err := s.st.FindDuplicates(r.Context(), a, e, in.Values, 0)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(dups) > 0 {
			s.renderForm(w, r, http.StatusOK, e, nil, r.PostForm, nil, dups)
			return
		}
	}
	rec, err := s.st.CreateRecord(r.Context(), a, e, in)
	if err != nil {
		s.renderForm(w, r, 0, e, nil, r.PostForm, err, nil)
		return
	}
	s.flash(w, r, "success", "flash.created")
	if to := safeNextOrEmpty(r.PostForm.Get("return_to")); to != "" {
		redirect(w, r, to)
		return
	}
	redirect(w, r, recordPath(e, rec.ID))
}

func (s *Server) loadPageRecord(w http.ResponseWriter, r *http.Request) (*store.Record, bool) {
	e, _ := s.pageEntity(r)
	rec, err := s.st.FindRecord(r.Context(), reqCtxOf(r).actor, e, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return rec, true
}

func (s *Server) recordEdit(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.loadPageRecord(w, r)
	if !ok {
		return
	}
	s.renderForm(w, r, http.StatusOK, rec.Entity, rec, nil, nil, nil)
}

func (s *Server) recordUpdate(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.loadPageRecord(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	p := s.newPage(r, "")
	in := inputFromForm(p.def(rec.Entity), r.PostForm, p.Tr.Location())
	if _, err := s.st.UpdateRecord(r.Context(), reqCtxOf(r).actor, rec.Entity, rec.ID, in); err != nil {
		s.renderForm(w, r, 0, rec.Entity, rec, r.PostForm, err, nil)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	if to := safeNextOrEmpty(r.PostForm.Get("return_to")); to != "" {
		redirect(w, r, to)
		return
	}
	redirect(w, r, recordPath(rec.Entity, rec.ID))
}

func (s *Server) recordDelete(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	if err := s.st.DeleteRecord(r.Context(), reqCtxOf(r).actor, e, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.deleted")
	redirect(w, r, "/"+string(e))
}

// relatedList is a list of linked records on a record page.
type relatedList struct {
	Entity  store.Entity
	Title   string
	Rows    []listRow
	NewHref string
}

// showData feeds the record page.
type showData struct {
	Entity        store.Entity
	Record        *store.Record
	Fields        []showField
	Related       []relatedList
	Timeline      []timelineRow
	CanEdit       bool
	CanDelete     bool
	CanConvert    bool
	CanEmail      bool
	ActivityTypes []option
	Outcomes      []option
	LinkKey       string
	OwnerKey      string
	Roles         []cell
	// Attachments is the files section; nil for record types without.
	Attachments *attachmentsSection
	// Quotes is an opportunity's quotes section (ui/quotes.go).
	Quotes *quoteSection
}

type showField struct {
	Label string
	Value cell
	Wide  bool
}

type timelineRow struct {
	Kind, When, Title, Detail, Who, Href, Badge string
}

// recordShow is the record page: fields, tags, linked records, and one
// timeline of activities, tasks, stage and field changes.
func (s *Server) recordShow(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.loadPageRecord(w, r)
	if !ok {
		return
	}
	a := reqCtxOf(r).actor
	ctx := r.Context()
	e := rec.Entity
	p := s.newPage(r, "entity."+string(e))
	d := p.def(e)
	p.Section = string(e)
	sd := showData{Entity: e, Record: rec, LinkKey: linkKey(e), OwnerKey: d.OwnerKey,
		CanEdit:   a.Can(e, store.ActEdit) && a.CheckRecord(e, store.ActEdit, rec.OwnerID, 0) == nil,
		CanDelete: a.Can(e, store.ActDelete)}
	sd.CanEmail = slices.Contains(store.EmailableEntities, e) && rec.Str("email") != "" && a.Can(store.EntActivities, store.ActCreate)
	sd.CanConvert = e == store.EntLeads && sd.CanEdit && rec.Str("status") != "converted" && a.Can(store.EntContacts, store.ActCreate)
	for _, slot := range p.schema().FormOrder(e) {
		if slot.Custom {
			c, ok := d.CustomField(slot.Key)
			if !ok {
				continue
			}
			if v := p.showCustom(rec, c); v.Text != "" {
				sd.Fields = append(sd.Fields, showField{Label: p.CustomName(c), Value: v, Wide: c.Kind == store.KLongText})
			}
			continue
		}
		f, ok := d.Field(slot.Key)
		if !ok {
			continue
		}
		c := p.showValue(rec, f)
		if c.Text == "" && f.Kind != store.KMoney {
			continue
		}
		sd.Fields = append(sd.Fields, showField{Label: p.FieldName(e, f.Key), Value: c, Wide: f.Kind == store.KLongText})
	}
	for _, f := range d.Fields {
		// Read-only fields (resolved at, converted to…) follow the form's.
		if f.ReadOnly {
			if c := p.showValue(rec, f); c.Text != "" {
				sd.Fields = append(sd.Fields, showField{Label: p.FieldName(e, f.Key), Value: c})
			}
		}
	}
	for _, cr := range rec.ContactRoles {
		name := cr.ContactName
		if name == "" {
			name = p.T("common.hidden_record")
		}
		sd.Roles = append(sd.Roles, cell{Text: name + " · " + p.OptName("contact_role", cr.Role), Href: template.URL(recordPath(store.EntContacts, cr.ContactID))})
	}
	// Linked records, each list filtered by the reader's own scope.
	addRelated := func(target store.Entity, key string, f store.Filter) {
		if !a.Can(target, store.ActView) {
			return
		}
		f.Limit = 20
		if f.Eq == nil {
			f.Eq = map[string]string{}
		}
		f.Eq[key] = itoa(rec.ID)
		recs, _, err := s.st.FindRecords(ctx, a, target, f)
		if err != nil {
			s.log.Error("related list", "err", err)
			return
		}
		rl := relatedList{Entity: target, Title: "entity." + string(target)}
		if a.Can(target, store.ActCreate) {
			rl.NewHref = "/" + string(target) + "/new?" + url.Values{key: {itoa(rec.ID)}, "return_to": {recordPath(e, rec.ID)}}.Encode()
		}
		for _, x := range recs {
			sub := ""
			switch target {
			case store.EntOpportunities:
				sub = p.OptName("stage", x.Str("stage")) + " · " + p.Tr.Money(x.Float("amount"), x.Str("currency"))
			case store.EntContacts:
				sub = x.Str("title")
			case store.EntCases:
				sub = p.OptName("case_status", x.Str("status"))
			case store.EntTasks:
				sub = p.OptName("task_status", x.Str("status")) + " · " + p.DateTime(x.Time("due_at"))
			}
			rl.Rows = append(rl.Rows, listRow{ID: x.ID, Href: recordPath(target, x.ID), Title: x.Title, Owner: sub})
		}
		sd.Related = append(sd.Related, rl)
	}
	switch e {
	case store.EntAccounts:
		addRelated(store.EntContacts, "account_id", store.Filter{})
		addRelated(store.EntOpportunities, "account_id", store.Filter{})
		addRelated(store.EntCases, "account_id", store.Filter{})
		addRelated(store.EntTasks, "account_id", store.Filter{Eq: map[string]string{"status": "open"}})
	case store.EntContacts:
		addRelated(store.EntOpportunities, "contact_id", store.Filter{})
		addRelated(store.EntCases, "contact_id", store.Filter{})
		addRelated(store.EntTasks, "contact_id", store.Filter{Eq: map[string]string{"status": "open"}})
	case store.EntLeads:
		addRelated(store.EntTasks, "lead_id", store.Filter{Eq: map[string]string{"status": "open"}})
	case store.EntOpportunities:
		addRelated(store.EntTasks, "opportunity_id", store.Filter{Eq: map[string]string{"status": "open"}})
		sd.Quotes = s.quoteSectionFor(r, p, rec)
	case store.EntCases:
		addRelated(store.EntTasks, "case_id", store.Filter{Eq: map[string]string{"status": "open"}})
	}
	sd.Attachments = s.attachmentsFor(ctx, p, a, rec)
	items, err := s.st.Timeline(ctx, a, e, rec.ID, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, it := range items {
		tr := timelineRow{Kind: it.Kind, When: p.DateTime(it.At), Who: it.UserName}
		switch it.Kind {
		case "activity":
			tr.Title, tr.Detail, tr.Href = it.Subject, it.Detail, recordPath(store.EntActivities, it.RecordID)
			tr.Badge = p.OptName("activity_type", it.Type)
			if it.New != "" {
				tr.Badge += " · " + p.OptName("activity_outcome", it.New)
			}
		case "task":
			tr.Title, tr.Detail, tr.Href = it.Subject, it.Detail, recordPath(store.EntTasks, it.RecordID)
			tr.Badge = p.T("entity.tasks") + " · " + p.OptName("task_status", it.Type)
		case "stage_change":
			tr.Title = p.T("timeline.stage_change", "From", p.OptName("stage", it.Old), "To", p.OptName("stage", it.New))
		case "field_change":
			if it.Field == "merged" {
				tr.Title = p.T("timeline.merged", "Name", it.Old)
				break
			}
			tr.Title = p.T("timeline.field_change", "Field", p.FieldName(e, it.Field))
			tr.Detail = p.historyValue(e, it.Field, it.Old) + " → " + p.historyValue(e, it.Field, it.New)
		case "created":
			tr.Title = p.T("timeline.created")
		}
		sd.Timeline = append(sd.Timeline, tr)
	}
	if sd.LinkKey != "" && a.Can(store.EntActivities, store.ActCreate) {
		sd.ActivityTypes = p.optionsFor("activity_type", "call", false)
		sd.Outcomes = p.formOptions("activity_outcome", "", false)
	}
	p.Data = sd
	s.render(w, r, http.StatusOK, "record_show", p)
}

// historyValue shows a value kept in the field history: option labels are
// translated, empty values shown as a dash.
func (p *page) historyValue(e store.Entity, key, v string) string {
	if v == "" {
		return "—"
	}
	d := p.def(e)
	if ck, ok := strings.CutPrefix(key, "custom."); ok {
		if c, ok := p.schema().CustomField(e, ck); ok && (c.Kind == store.KSelect || c.Kind == store.KMulti) {
			var names []string
			for _, k := range strings.Split(v, ", ") {
				names = append(names, p.OptName(c.OptionList(), k))
			}
			return strings.Join(names, ", ")
		}
		return v
	}
	if f, ok := d.Field(key); ok {
		switch f.Kind {
		case store.KSelect:
			return p.OptName(f.Picklist, v)
		case store.KDateTime:
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				return p.DateTime(t)
			}
		}
	}
	return v
}

// linkKey is the link field by which activities point at e ("" if none).
func linkKey(e store.Entity) string {
	switch e {
	case store.EntAccounts:
		return "account_id"
	case store.EntContacts:
		return "contact_id"
	case store.EntLeads:
		return "lead_id"
	case store.EntOpportunities:
		return "opportunity_id"
	case store.EntCases:
		return "case_id"
	}
	return ""
}
