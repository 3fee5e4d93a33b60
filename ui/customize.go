package ui

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"cartera/i18n"
	"cartera/store"
)

// This file holds the administrator's customization pages: fields of each
// record type (standard and custom), picklists, pipelines and their stages,
// and the fields each activity type requires.

// catalogText returns a catalog key's text in a language, for placeholders
// and the fields API, which show every language at once.
func (s *Server) catalogText(lang, key string) string { return s.i18n.For(lang, nil).T(key) }

// builtinOptionKey is the catalog key of a built-in option's label, or ""
// when the option is the firm's own (it has no catalog text).
func builtinOptionKey(list, key string) string {
	base := list
	if strings.HasPrefix(list, "stage:") {
		base = "stage"
	}
	if strings.HasPrefix(list, "cf:") {
		return ""
	}
	if list == "pipeline" && key == store.DefaultPipeline {
		return "opt.pipeline.default"
	}
	if slices.ContainsFunc(store.Picklist(base), func(o store.Option) bool { return o.Key == key }) {
		return optionLabel(base, key)
	}
	return ""
}

// optionLabels returns an option's label in every language: the firm's
// label, else the catalog's, else the firm's label in another language.
func (s *Server) optionLabels(list string, o store.Option) map[string]string {
	out := map[string]string{}
	ck := builtinOptionKey(list, o.Key)
	for _, l := range i18n.Languages {
		switch {
		case o.Labels[l] != "":
			out[l] = o.Labels[l]
		case ck != "":
			out[l] = s.catalogText(l, ck)
		default:
			out[l] = o.Labels.In(l)
			if out[l] == "" {
				out[l] = o.Key
			}
		}
	}
	return out
}

// standardLabels returns a standard field's label in every language: the
// firm's name for it, else the catalog's.
func (s *Server) standardLabels(sc *store.Schema, e store.Entity, key string) map[string]string {
	set := sc.Setting(e, key)
	out := map[string]string{}
	for _, l := range i18n.Languages {
		if v := set.Labels[l]; v != "" {
			out[l] = v
		} else {
			out[l] = s.catalogText(l, fieldLabelFor(e, key))
		}
	}
	return out
}

// customLabel is a custom field's label for a reader.
func customLabel(c *store.CustomField, lang string) string {
	if v := c.Labels.In(lang); v != "" {
		return v
	}
	return c.Key
}

// labelsFromForm reads PREFIX.ca, PREFIX.es and PREFIX.en.
func labelsFromForm(f url.Values, prefix string) store.Labels {
	l := store.Labels{}
	for _, lang := range i18n.Languages {
		if v := strings.TrimSpace(f.Get(prefix + "." + lang)); v != "" {
			l[lang] = v
		}
	}
	return l
}

func setLabels(f url.Values, prefix string, l store.Labels) {
	for _, lang := range i18n.Languages {
		f.Set(prefix+"."+lang, l[lang])
	}
}

func checked(f url.Values, name string) bool {
	v := f.Get(name)
	return v != "" && v != "0"
}

func boolForm(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// customEntity reads the {entity} route variable of the fields pages,
// answering 404 for record types without custom fields.
func (s *Server) customEntity(w http.ResponseWriter, r *http.Request) (store.Entity, bool) {
	e := store.Entity(mux.Vars(r)["entity"])
	if !slices.Contains(store.CustomEntities, e) {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return "", false
	}
	return e, true
}

// ---- options editor (custom selects, picklists, stages) ----

// optionRow is one row of the options editor.
type optionRow struct {
	N           int
	Key         string
	Existing    bool
	Labels      store.Labels
	Placeholder map[string]string
	Retired     bool
	Position    int
	Kind        string
	Probability int64
	Err         string
}

// optionsEditor is the table that edits a list of options.
type optionsEditor struct {
	List        string
	Rows        []optionRow
	Kinds       []string // allowed kinds (stages, case statuses); nil for none
	Probability bool     // stages have a default probability
	Err         string
}

// newRows is how many empty rows the editor offers for new options.
const newRows = 3

// editorFor builds the editor of existing options plus empty rows.
func (s *Server) editorFor(list string, opts []store.Option, blank int) *optionsEditor {
	ed := &optionsEditor{List: list}
	for i, o := range opts {
		ed.Rows = append(ed.Rows, optionRow{N: i, Key: o.Key, Existing: true, Labels: o.Labels, Retired: o.Retired, Position: (i + 1) * 10, Kind: o.StageKind, Probability: o.Probability})
	}
	ed.addBlank(blank)
	s.fillPlaceholders(ed)
	return ed
}

func (ed *optionsEditor) addBlank(n int) {
	for range n {
		i := len(ed.Rows)
		ed.Rows = append(ed.Rows, optionRow{N: i, Position: (i + 1) * 10})
	}
}

func (s *Server) fillPlaceholders(ed *optionsEditor) {
	for i := range ed.Rows {
		r := &ed.Rows[i]
		r.Placeholder = map[string]string{}
		if ck := builtinOptionKey(ed.List, r.Key); ck != "" && r.Key != "" {
			for _, l := range i18n.Languages {
				r.Placeholder[l] = s.catalogText(l, ck)
			}
		}
	}
}

// optionsFromForm reads the editor's rows (opt.N.key, opt.N.label.LANG,
// opt.N.retired, opt.N.pos, opt.N.kind, opt.N.prob) in the order of their
// position numbers; empty new rows are dropped.
func optionsFromForm(f url.Values, list string) (*optionsEditor, []store.Option) {
	n, _ := strconv.Atoi(f.Get("option_rows"))
	if n > 500 {
		n = 500
	}
	ed := &optionsEditor{List: list}
	for i := range n {
		p := fmt.Sprintf("opt.%d.", i)
		r := optionRow{
			Key: strings.TrimSpace(f.Get(p + "key")), Existing: f.Get(p+"existing") != "",
			Labels: labelsFromForm(f, p+"label"), Retired: checked(f, p+"retired"), Kind: f.Get(p + "kind"),
		}
		if !r.Existing && r.Key == "" && len(r.Labels) == 0 {
			continue
		}
		pos, err := strconv.Atoi(strings.TrimSpace(f.Get(p + "pos")))
		if err != nil {
			pos = 1 << 30
		}
		r.Position = pos
		r.Probability, _ = strconv.ParseInt(strings.TrimSpace(f.Get(p+"prob")), 10, 64)
		ed.Rows = append(ed.Rows, r)
	}
	sort.SliceStable(ed.Rows, func(i, j int) bool { return ed.Rows[i].Position < ed.Rows[j].Position })
	opts := make([]store.Option, 0, len(ed.Rows))
	for i := range ed.Rows {
		r := &ed.Rows[i]
		r.N, r.Position = i, (i+1)*10
		opts = append(opts, store.Option{Key: r.Key, Labels: r.Labels, Retired: r.Retired, StageKind: r.Kind, Probability: r.Probability})
	}
	return ed, opts
}

// editorErrors moves a store error's option errors onto the editor's rows
// and returns the status; other field errors go to the page.
func (s *Server) editorErrors(r *http.Request, p *page, ed *optionsEditor, err error) int {
	status := s.formErrors(r, p, err)
	if ed == nil {
		return status
	}
	for k, msg := range p.Errors {
		if k == "options" {
			ed.Err = msg
			continue
		}
		if rest, ok := strings.CutPrefix(k, "options."); ok {
			if i, err := strconv.Atoi(rest); err == nil && i < len(ed.Rows) {
				ed.Rows[i].Err = msg
			}
		}
	}
	return status
}

// ---- fields ----

// fieldsIndexData feeds the page that picks a record type.
type fieldsIndexData struct {
	Entities []fieldsIndexEntry
}

type fieldsIndexEntry struct {
	Entity store.Entity
	Custom int
}

func (s *Server) fieldsIndex(w http.ResponseWriter, r *http.Request) {
	sc := s.st.Schema()
	var d fieldsIndexData
	for _, e := range store.CustomEntities {
		d.Entities = append(d.Entities, fieldsIndexEntry{Entity: e, Custom: len(sc.CustomFields(e, false))})
	}
	p := s.newPage(r, "settings.fields")
	p.Section = "settings"
	p.Data = d
	s.render(w, r, http.StatusOK, "customize_fields", p)
}

// stdFieldRow is one standard field on the fields page.
type stdFieldRow struct {
	Key             string
	Kind            store.Kind
	Builtin         map[string]string // the catalog's label per language
	BuiltinRequired bool
	Err             map[string]string
}

// customFieldRow is one custom field on the fields page.
type customFieldRow struct {
	*store.CustomField
	Label string
}

// fieldsData feeds the fields page of one record type.
type fieldsData struct {
	Entity   store.Entity
	Standard []stdFieldRow
	Custom   []customFieldRow
}

// stdFormFromSchema fills the standard fields' form from the settings.
func stdFormFromSchema(sc *store.Schema, e store.Entity, f url.Values) {
	for _, fl := range store.Def(e).Fields {
		if fl.ReadOnly {
			continue
		}
		set := sc.Setting(e, fl.Key)
		p := "std." + fl.Key + "."
		setLabels(f, p+"label", set.Labels)
		f.Set(p+"hidden", boolForm(set.Hidden))
		f.Set(p+"required", boolForm(set.Required))
		f.Set(p+"section", set.Section)
		if set.Position != 0 {
			f.Set(p+"position", strconv.FormatInt(set.Position, 10))
		}
	}
}

func (s *Server) renderFields(w http.ResponseWriter, r *http.Request, e store.Entity, status int, form url.Values, errs map[string]map[string]string) {
	sc := s.st.Schema()
	lang := reqCtxOf(r).tr.Lang()
	d := fieldsData{Entity: e}
	for _, fl := range store.Def(e).Fields {
		if fl.ReadOnly {
			continue
		}
		row := stdFieldRow{Key: fl.Key, Kind: fl.Kind, BuiltinRequired: fl.Required, Builtin: map[string]string{}, Err: errs[fl.Key]}
		for _, l := range i18n.Languages {
			row.Builtin[l] = s.catalogText(l, fieldLabelFor(e, fl.Key))
		}
		d.Standard = append(d.Standard, row)
	}
	for _, c := range sc.CustomFields(e, true) {
		d.Custom = append(d.Custom, customFieldRow{CustomField: c, Label: customLabel(c, lang)})
	}
	p := s.newPage(r, "settings.fields")
	p.Section = "settings"
	p.Data = d
	if form != nil {
		p.Form = form
	} else {
		stdFormFromSchema(sc, e, p.Form)
	}
	if len(errs) > 0 {
		p.ErrorMsg = p.T("error.invalid")
		for _, fe := range errs {
			for k, v := range fe {
				fe[k] = p.T(v)
			}
		}
	}
	s.render(w, r, status, "customize_entity", p)
}

func (s *Server) fieldsEntity(w http.ResponseWriter, r *http.Request) {
	e, ok := s.customEntity(w, r)
	if !ok {
		return
	}
	s.renderFields(w, r, e, http.StatusOK, nil, nil)
}

// fieldsStandardSave saves the settings of every standard field that
// changed; fields with problems keep their submitted values.
func (s *Server) fieldsStandardSave(w http.ResponseWriter, r *http.Request) {
	e, ok := s.customEntity(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f := r.PostForm
	sc := s.st.Schema()
	errs := map[string]map[string]string{}
	status := http.StatusOK
	for _, fl := range store.Def(e).Fields {
		if fl.ReadOnly || !f.Has("std."+fl.Key+".present") {
			continue
		}
		p := "std." + fl.Key + "."
		pos, perr := strconv.ParseInt(strings.TrimSpace(f.Get(p+"position")), 10, 64)
		if strings.TrimSpace(f.Get(p+"position")) == "" {
			pos, perr = 0, nil
		}
		if perr != nil {
			errs[fl.Key] = map[string]string{"position": "error.number"}
			status = http.StatusUnprocessableEntity
			continue
		}
		fs := store.FieldSetting{Labels: labelsFromForm(f, p+"label"), Hidden: checked(f, p+"hidden"), Required: checked(f, p+"required"), Section: f.Get(p + "section"), Position: pos}
		cur := sc.Setting(e, fl.Key)
		if maps.Equal(cur.Labels, fs.Labels) && cur.Hidden == fs.Hidden && cur.Required == fs.Required && cur.Section == strings.TrimSpace(fs.Section) && cur.Position == fs.Position {
			continue
		}
		if err := s.st.SaveFieldSetting(r.Context(), reqCtxOf(r).actor, e, fl.Key, fs); err != nil {
			se := store.AsError(err)
			if se.Code != store.CodeInvalid {
				s.fail(w, r, err)
				return
			}
			errs[fl.Key] = maps.Clone(se.Fields)
			status = http.StatusUnprocessableEntity
		}
	}
	if len(errs) > 0 {
		s.renderFields(w, r, e, status, f, errs)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/fields/"+string(e))
}

// fieldFormData feeds the custom field editor.
type fieldFormData struct {
	Entity  store.Entity
	Field   *store.CustomField // nil when creating
	Kinds   []store.Kind
	Targets []store.Entity
	Editor  *optionsEditor
}

// fieldInputFromForm reads the custom field editor.
func fieldInputFromForm(f url.Values) store.CustomFieldInput {
	pos, _ := strconv.ParseInt(strings.TrimSpace(f.Get("position")), 10, 64)
	return store.CustomFieldInput{
		Key: strings.TrimSpace(f.Get("key")), Kind: store.Kind(f.Get("type")), Ref: store.Entity(f.Get("ref")),
		Labels: labelsFromForm(f, "label"), Help: labelsFromForm(f, "help"), Section: f.Get("section"), Position: pos,
		Required: checked(f, "required"), Unique: checked(f, "unique"), List: checked(f, "list"), Filterable: checked(f, "filterable"), Searchable: checked(f, "searchable"),
	}
}

func (s *Server) renderFieldForm(w http.ResponseWriter, r *http.Request, status int, e store.Entity, c *store.CustomField, form url.Values, ed *optionsEditor, err error) {
	p := s.newPage(r, "customize.field.new")
	if c != nil {
		p.Title = "customize.field.edit"
	}
	p.Section = "settings"
	if form != nil {
		p.Form = form
	} else if c != nil {
		p.Form.Set("key", c.Key)
		p.Form.Set("type", string(c.Kind))
		p.Form.Set("ref", string(c.Ref))
		setLabels(p.Form, "label", c.Labels)
		setLabels(p.Form, "help", c.Help)
		p.Form.Set("section", c.Section)
		p.Form.Set("position", strconv.FormatInt(c.Position, 10))
		for name, v := range map[string]bool{"required": c.Required, "unique": c.Unique, "list": c.List, "filterable": c.Filterable, "searchable": c.Searchable} {
			p.Form.Set(name, boolForm(v))
		}
	}
	if ed == nil {
		list := "cf:" + string(e) + ":"
		var opts []store.Option
		if c != nil {
			list, opts = c.OptionList(), c.Options
		}
		blank := newRows
		if c == nil {
			blank = 5
		}
		ed = s.editorFor(list, opts, blank)
	}
	d := fieldFormData{Entity: e, Field: c, Kinds: store.CustomKinds, Targets: store.RecordEntities, Editor: ed}
	p.Data = d
	if err != nil {
		status = s.editorErrors(r, p, ed, err)
	}
	s.render(w, r, status, "customize_field_form", p)
}

// ShowOptions reports whether the editor offers options (creating, or
// editing a select).
func (d fieldFormData) ShowOptions() bool {
	return d.Field == nil || d.Field.Kind == store.KSelect || d.Field.Kind == store.KMulti
}

func (s *Server) fieldNewForm(w http.ResponseWriter, r *http.Request) {
	e, ok := s.customEntity(w, r)
	if !ok {
		return
	}
	s.renderFieldForm(w, r, http.StatusOK, e, nil, nil, nil, nil)
}

// moreRows answers the editor's "add rows" button: the form comes back
// with what was typed and more empty rows, nothing saved.
func (s *Server) moreRows(f url.Values, ed *optionsEditor) bool {
	if f.Get("add_rows") == "" {
		return false
	}
	ed.addBlank(newRows)
	s.fillPlaceholders(ed)
	return true
}

func (s *Server) fieldCreate(w http.ResponseWriter, r *http.Request) {
	e, ok := s.customEntity(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f := r.PostForm
	in := fieldInputFromForm(f)
	ed, opts := optionsFromForm(f, "cf:"+string(e)+":"+in.Key)
	if s.moreRows(f, ed) {
		s.renderFieldForm(w, r, http.StatusOK, e, nil, f, ed, nil)
		return
	}
	if in.Kind == store.KSelect || in.Kind == store.KMulti {
		in.Options = opts
	}
	c, err := s.st.CreateCustomField(r.Context(), reqCtxOf(r).actor, e, in)
	if err != nil {
		s.fillPlaceholders(ed)
		ed.addBlank(1)
		s.renderFieldForm(w, r, 0, e, nil, f, ed, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/fields/"+string(e)+"/custom/"+c.Key)
}

func (s *Server) loadCustomField(w http.ResponseWriter, r *http.Request) (store.Entity, *store.CustomField, bool) {
	e, ok := s.customEntity(w, r)
	if !ok {
		return "", nil, false
	}
	c, ok := s.st.Schema().CustomField(e, mux.Vars(r)["key"])
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return "", nil, false
	}
	return e, c, true
}

func (s *Server) fieldEditForm(w http.ResponseWriter, r *http.Request) {
	e, c, ok := s.loadCustomField(w, r)
	if !ok {
		return
	}
	s.renderFieldForm(w, r, http.StatusOK, e, c, nil, nil, nil)
}

func (s *Server) fieldUpdate(w http.ResponseWriter, r *http.Request) {
	e, c, ok := s.loadCustomField(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f := r.PostForm
	f.Set("key", c.Key)
	f.Set("type", string(c.Kind))
	f.Set("ref", string(c.Ref))
	in := fieldInputFromForm(f)
	ed, opts := optionsFromForm(f, c.OptionList())
	if s.moreRows(f, ed) {
		s.renderFieldForm(w, r, http.StatusOK, e, c, f, ed, nil)
		return
	}
	if c.Kind == store.KSelect || c.Kind == store.KMulti {
		in.Options = opts
	}
	if _, err := s.st.UpdateCustomField(r.Context(), reqCtxOf(r).actor, e, c.Key, in); err != nil {
		s.fillPlaceholders(ed)
		ed.addBlank(1)
		s.renderFieldForm(w, r, 0, e, c, f, ed, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/fields/"+string(e)+"/custom/"+c.Key)
}

// fieldAction runs remove, restore or purge and goes back to the fields
// page.
func (s *Server) fieldAction(w http.ResponseWriter, r *http.Request, fn func(context.Context, *store.Actor, store.Entity, string) error, flash string) {
	e, c, ok := s.loadCustomField(w, r)
	if !ok {
		return
	}
	if err := fn(r.Context(), reqCtxOf(r).actor, e, c.Key); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", flash)
	redirect(w, r, "/settings/fields/"+string(e))
}

func (s *Server) fieldRemove(w http.ResponseWriter, r *http.Request) {
	s.fieldAction(w, r, s.st.RemoveCustomField, "customize.flash.removed")
}

func (s *Server) fieldRestore(w http.ResponseWriter, r *http.Request) {
	s.fieldAction(w, r, s.st.RestoreCustomField, "customize.flash.restored")
}

func (s *Server) fieldPurge(w http.ResponseWriter, r *http.Request) {
	s.fieldAction(w, r, s.st.PurgeCustomField, "customize.flash.purged")
}

// ---- picklists ----

// picklistEntry is one picklist in the list of picklists.
type picklistEntry struct {
	List    string
	Active  int
	Retired int
	Edited  bool
}

func (s *Server) picklistsIndex(w http.ResponseWriter, r *http.Request) {
	sc := s.st.Schema()
	var lists []picklistEntry
	for _, l := range store.EditablePicklists {
		e := picklistEntry{List: l, Edited: sc.Edited(l)}
		for _, o := range sc.Options(l) {
			if o.Retired {
				e.Retired++
			} else {
				e.Active++
			}
		}
		lists = append(lists, e)
	}
	p := s.newPage(r, "settings.picklists")
	p.Section = "settings"
	p.Data = lists
	s.render(w, r, http.StatusOK, "customize_picklists", p)
}

// picklistData feeds the editor of one picklist or of a pipeline's stages.
type picklistData struct {
	List     string
	Title    string // translated name
	Pipeline *store.Pipeline
	Action   string
	Back     string
	BackText string
	Editor   *optionsEditor
}

// listKinds are the kinds a list's options take.
func listKinds(list string) ([]string, bool) {
	switch {
	case list == "case_status":
		return []string{"open", "resolved", "closed"}, false
	case list == "stage" || strings.HasPrefix(list, "stage:"):
		return []string{"open", "won", "lost"}, true
	}
	return nil, false
}

func (s *Server) renderPicklist(w http.ResponseWriter, r *http.Request, status int, d picklistData, err error) {
	d.Editor.Kinds, d.Editor.Probability = listKinds(d.List)
	p := s.newPage(r, "settings.picklists")
	p.Section = "settings"
	if d.Pipeline != nil {
		p.Title = "customize.pipelines.stages"
	}
	p.Data = d
	if err != nil {
		status = s.editorErrors(r, p, d.Editor, err)
	}
	s.render(w, r, status, "customize_picklist", p)
}

func (s *Server) picklistData(r *http.Request, list string) (picklistData, bool) {
	tr := reqCtxOf(r).tr
	if slices.Contains(store.EditablePicklists, list) {
		return picklistData{List: list, Title: tr.T("customize.list." + list), Action: "/settings/picklists/" + list, Back: "/settings/picklists", BackText: tr.T("settings.picklists")}, true
	}
	key, ok := strings.CutPrefix(list, "pipeline:")
	if !ok {
		return picklistData{}, false
	}
	pl, ok := s.st.Schema().Pipeline(key)
	if !ok {
		return picklistData{}, false
	}
	name := s.pipelineName(pl, tr.Lang())
	return picklistData{List: store.StageList(key), Title: name, Pipeline: &pl, Action: "/settings/pipelines/" + key + "/stages", Back: "/settings/pipelines", BackText: tr.T("settings.pipelines")}, true
}

func (s *Server) picklistForm(w http.ResponseWriter, r *http.Request) {
	s.stagesOrPicklistForm(w, r, mux.Vars(r)["list"])
}

func (s *Server) stagesForm(w http.ResponseWriter, r *http.Request) {
	s.stagesOrPicklistForm(w, r, "pipeline:"+mux.Vars(r)["key"])
}

func (s *Server) stagesOrPicklistForm(w http.ResponseWriter, r *http.Request, which string) {
	d, ok := s.picklistData(r, which)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	d.Editor = s.editorFor(d.List, s.st.Schema().Options(d.List), newRows)
	s.renderPicklist(w, r, http.StatusOK, d, nil)
}

func (s *Server) picklistSave(w http.ResponseWriter, r *http.Request) {
	s.stagesOrPicklistSave(w, r, mux.Vars(r)["list"])
}

func (s *Server) stagesSave(w http.ResponseWriter, r *http.Request) {
	s.stagesOrPicklistSave(w, r, "pipeline:"+mux.Vars(r)["key"])
}

func (s *Server) stagesOrPicklistSave(w http.ResponseWriter, r *http.Request, which string) {
	d, ok := s.picklistData(r, which)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	ed, opts := optionsFromForm(r.PostForm, d.List)
	d.Editor = ed
	if s.moreRows(r.PostForm, ed) {
		s.renderPicklist(w, r, http.StatusOK, d, nil)
		return
	}
	if err := s.st.SavePicklist(r.Context(), reqCtxOf(r).actor, d.List, opts); err != nil {
		s.fillPlaceholders(ed)
		ed.addBlank(1)
		s.renderPicklist(w, r, 0, d, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, d.Action)
}

// ---- pipelines ----

// pipelineName is a pipeline's name for a reader.
func (s *Server) pipelineName(pl store.Pipeline, lang string) string {
	if v := pl.Labels[lang]; v != "" {
		return v
	}
	if pl.Key == store.DefaultPipeline {
		return s.catalogText(lang, "opt.pipeline.default")
	}
	if v := pl.Labels.In(lang); v != "" {
		return v
	}
	return pl.Key
}

// pipelineRow is one pipeline on the pipelines page.
type pipelineRow struct {
	store.Pipeline
	Name   string
	Stages []string // active stage names, in order
}

func (s *Server) renderPipelines(w http.ResponseWriter, r *http.Request, status int, form url.Values, errKey string, err error) {
	sc := s.st.Schema()
	lang := reqCtxOf(r).tr.Lang()
	var rows []pipelineRow
	for _, pl := range sc.Pipelines() {
		row := pipelineRow{Pipeline: pl, Name: s.pipelineName(pl, lang)}
		list := store.StageList(pl.Key)
		for _, o := range sc.ActiveOptions(list) {
			row.Stages = append(row.Stages, s.optionLabels(list, o)[lang])
		}
		rows = append(rows, row)
	}
	p := s.newPage(r, "settings.pipelines")
	p.Section = "settings"
	p.Data = rows
	for _, pl := range sc.Pipelines() {
		if pl.Key != store.DefaultPipeline {
			setLabels(p.Form, "p."+pl.Key+".label", pl.Labels)
			p.Form.Set("p."+pl.Key+".retired", boolForm(pl.Retired))
		}
	}
	for k, v := range form {
		p.Form[k] = v
	}
	if err != nil {
		status = s.formErrors(r, p, err)
		if errKey != "" {
			for k, v := range p.Errors {
				p.Errors[errKey+"."+k] = v
			}
		}
	}
	s.render(w, r, status, "customize_pipelines", p)
}

func (s *Server) pipelinesList(w http.ResponseWriter, r *http.Request) {
	s.renderPipelines(w, r, http.StatusOK, nil, "", nil)
}

func (s *Server) pipelineCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f := r.PostForm
	key := strings.TrimSpace(f.Get("key"))
	if _, exists := s.st.Schema().Pipeline(key); exists {
		s.renderPipelines(w, r, 0, f, "", &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"key": "error.key_taken"}})
		return
	}
	if err := s.st.SavePipeline(r.Context(), reqCtxOf(r).actor, store.Pipeline{Key: key, Labels: labelsFromForm(f, "label")}); err != nil {
		s.renderPipelines(w, r, 0, f, "", err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/pipelines/"+key+"/stages")
}

func (s *Server) pipelineUpdate(w http.ResponseWriter, r *http.Request) {
	key := mux.Vars(r)["key"]
	pl, ok := s.st.Schema().Pipeline(key)
	if !ok || key == store.DefaultPipeline {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f := r.PostForm
	pl.Labels = labelsFromForm(f, "p."+key+".label")
	pl.Retired = checked(f, "p."+key+".retired")
	if err := s.st.SavePipeline(r.Context(), reqCtxOf(r).actor, pl); err != nil {
		s.renderPipelines(w, r, 0, f, "p."+key, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/pipelines")
}

// ---- activity rules ----

// ruleField is a field an activity rule may require.
type ruleField struct {
	Key   string // "outcome" or "custom.KEY"
	Label string
}

// ruleRow is one activity type with the fields it requires.
type ruleRow struct {
	Type    string
	Name    string
	Retired bool
	Fields  []string
}

// activityRulesData feeds the activity rules page.
type activityRulesData struct {
	Types  []ruleRow
	Fields []ruleField
}

// Requires reports whether an activity type requires a field.
func (r ruleRow) Requires(key string) bool { return slices.Contains(r.Fields, key) }

func (s *Server) activityRules(w http.ResponseWriter, r *http.Request) {
	s.renderActivityRules(w, r, http.StatusOK, nil, nil)
}

func (s *Server) renderActivityRules(w http.ResponseWriter, r *http.Request, status int, chosen map[string][]string, err error) {
	sc := s.st.Schema()
	tr := reqCtxOf(r).tr
	lang := tr.Lang()
	d := activityRulesData{}
	def := sc.Def(store.EntActivities)
	for _, f := range def.Fields {
		if f.ReadOnly || f.Required {
			continue
		}
		label := sc.Setting(store.EntActivities, f.Key).Labels[lang]
		if label == "" {
			label = tr.T(fieldLabelFor(store.EntActivities, f.Key))
		}
		d.Fields = append(d.Fields, ruleField{Key: f.Key, Label: label})
	}
	for _, c := range def.Custom {
		d.Fields = append(d.Fields, ruleField{Key: "custom." + c.Key, Label: customLabel(c, lang)})
	}
	for _, o := range sc.Options("activity_type") {
		row := ruleRow{Type: o.Key, Name: s.optionLabels("activity_type", o)[lang], Retired: o.Retired, Fields: sc.ActivityRule(o.Key)}
		if chosen != nil {
			row.Fields = chosen[o.Key]
		}
		d.Types = append(d.Types, row)
	}
	p := s.newPage(r, "settings.activity_rules")
	p.Section = "settings"
	p.Data = d
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	s.render(w, r, status, "customize_activity_rules", p)
}

func (s *Server) activityRulesSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	sc := s.st.Schema()
	chosen := map[string][]string{}
	for _, o := range sc.Options("activity_type") {
		chosen[o.Key] = r.PostForm["rule."+o.Key]
	}
	for _, o := range sc.Options("activity_type") {
		if slices.Equal(chosen[o.Key], sc.ActivityRule(o.Key)) || (len(chosen[o.Key]) == 0 && len(sc.ActivityRule(o.Key)) == 0) {
			continue
		}
		if err := s.st.SaveActivityRule(r.Context(), reqCtxOf(r).actor, o.Key, chosen[o.Key]); err != nil {
			s.renderActivityRules(w, r, 0, chosen, err)
			return
		}
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/activity-rules")
}
