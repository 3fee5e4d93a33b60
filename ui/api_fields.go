package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"cartera/i18n"
	"cartera/store"
)

// This file holds the fields API: integrations and import tools discover a
// record type's standard and custom fields, and administrators add, change
// and remove custom fields and rename, hide or require standard ones.

// apiOption is one choice of a select field in the API.
type apiOption struct {
	Key         string            `json:"key"`
	Label       map[string]string `json:"label"`
	Retired     bool              `json:"retired"`
	Kind        string            `json:"kind,omitempty"`
	Probability *int64            `json:"probability,omitempty"`
}

// apiField is a field as the API shows it.
type apiField struct {
	Key        string            `json:"key"`
	Type       store.Kind        `json:"type"`
	Label      map[string]string `json:"label"`
	Help       map[string]string `json:"help,omitempty"`
	Custom     bool              `json:"custom"`
	Required   bool              `json:"required"`
	Unique     bool              `json:"unique"`
	List       bool              `json:"list"`
	Filterable bool              `json:"filterable"`
	Searchable bool              `json:"searchable"`
	Hidden     bool              `json:"hidden"`
	ReadOnly   bool              `json:"read_only"`
	Removed    bool              `json:"removed,omitempty"`
	Section    string            `json:"section"`
	Position   int64             `json:"position"`
	Target     store.Entity      `json:"target,omitempty"`
	MaxLength  int               `json:"max_length,omitempty"`
	Options    []apiOption       `json:"options,omitempty"`
}

func (s *Server) apiOptions(list string, opts []store.Option) []apiOption {
	out := make([]apiOption, 0, len(opts))
	for _, o := range opts {
		ao := apiOption{Key: o.Key, Label: s.optionLabels(list, o), Retired: o.Retired, Kind: o.StageKind}
		if list == "stage" || strings.HasPrefix(list, "stage:") {
			p := o.Probability
			ao.Probability = &p
		}
		out = append(out, ao)
	}
	return out
}

// standardJSON describes a standard field with the firm's settings.
func (s *Server) standardJSON(sc *store.Schema, e store.Entity, f store.Field, pos int) apiField {
	set := sc.Setting(e, f.Key)
	out := apiField{
		Key: f.Key, Type: f.Kind, Label: s.standardLabels(sc, e, f.Key), Required: f.Required, List: f.List, Filterable: f.Filter,
		Searchable: f.Search, Hidden: f.Hidden, ReadOnly: f.ReadOnly, Section: set.Section, Position: set.Position, Target: f.Ref, MaxLength: f.Max,
	}
	if out.Position == 0 {
		out.Position = int64(pos+1) * 10
	}
	if f.Kind == store.KSelect {
		list := f.Picklist
		if e == store.EntOpportunities && f.Key == "stage" {
			// Every pipeline's stages are valid stage keys.
			var all []apiOption
			for _, pl := range sc.Pipelines() {
				for _, o := range s.apiOptions(store.StageList(pl.Key), sc.Options(store.StageList(pl.Key))) {
					if !slices.ContainsFunc(all, func(x apiOption) bool { return x.Key == o.Key }) {
						all = append(all, o)
					}
				}
			}
			out.Options = all
		} else {
			out.Options = s.apiOptions(list, sc.Options(list))
		}
	}
	return out
}

// customFieldJSON describes a custom field.
func (s *Server) customFieldJSON(c *store.CustomField) apiField {
	out := apiField{
		Key: c.Key, Type: c.Kind, Label: map[string]string{}, Custom: true, Required: c.Required, Unique: c.Unique, List: c.List,
		Filterable: c.Filterable, Searchable: c.Searchable, Removed: c.Removed, Section: c.Section, Position: c.Position, Target: c.Ref,
	}
	for _, l := range i18n.Languages {
		out.Label[l] = customLabel(c, l)
	}
	if len(c.Help) > 0 {
		out.Help = map[string]string{}
		for _, l := range i18n.Languages {
			out.Help[l] = c.Help.In(l)
		}
	}
	if c.Kind == store.KSelect || c.Kind == store.KMulti {
		out.Options = s.apiOptions(c.OptionList(), c.Options)
	}
	return out
}

// apiFieldsList lists a record type's fields; anyone who may view the
// records (or customize them) may read it.
func (s *Server) apiFieldsList(w http.ResponseWriter, r *http.Request) {
	e := apiEntity(r)
	a := reqCtxOf(r).actor
	if !a.Can(e, store.ActView) && !a.Has(store.CapCustomize) {
		s.apiErrorKey(w, r, http.StatusForbidden, store.CodeForbidden, "error.forbidden")
		return
	}
	sc := s.st.Schema()
	data := []apiField{}
	for i, f := range sc.Def(e).Fields {
		data = append(data, s.standardJSON(sc, e, f, i))
	}
	for _, c := range sc.CustomFields(e, r.URL.Query().Get("removed") == "1") {
		data = append(data, s.customFieldJSON(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"entity": e, "data": data})
}

// apiOptionIn is an option in a field write.
type apiOptionIn struct {
	Key     string       `json:"key"`
	Label   store.Labels `json:"label"`
	Retired bool         `json:"retired"`
}

// apiFieldIn is the body of a field write; absent members keep their value
// on PATCH.
type apiFieldIn struct {
	Key        *string       `json:"key"`
	Type       *store.Kind   `json:"type"`
	Target     *store.Entity `json:"target"`
	Label      store.Labels  `json:"label"`
	Help       store.Labels  `json:"help"`
	Section    *string       `json:"section"`
	Position   *int64        `json:"position"`
	Required   *bool         `json:"required"`
	Unique     *bool         `json:"unique"`
	List       *bool         `json:"list"`
	Filterable *bool         `json:"filterable"`
	Searchable *bool         `json:"searchable"`
	Hidden     *bool         `json:"hidden"`
	Options    []apiOptionIn `json:"options"`
}

// fieldAPIError renames the store's field names to the API's.
func fieldAPIError(err error) error {
	se := store.AsError(err)
	if len(se.Fields) == 0 {
		return err
	}
	out := *se
	out.Fields = map[string]string{}
	for k, v := range se.Fields {
		if k == "ref" {
			k = "target"
		}
		out.Fields[k] = v
	}
	return &out
}

func invalidField(field, key string) error {
	return &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{field: key}}
}

// mergeLabels applies the languages a PATCH sends onto the current ones;
// an empty text clears a language.
func mergeLabels(cur, in store.Labels) store.Labels {
	out := store.Labels{}
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range in {
		out[k] = v
	}
	return out
}

func optionsIn(in []apiOptionIn) []store.Option {
	if in == nil {
		return nil
	}
	out := make([]store.Option, 0, len(in))
	for _, o := range in {
		out = append(out, store.Option{Key: o.Key, Labels: o.Label, Retired: o.Retired})
	}
	return out
}

// requireCustomize answers 403 unless the token's user may customize.
func (s *Server) requireCustomize(w http.ResponseWriter, r *http.Request) bool {
	if !reqCtxOf(r).actor.Has(store.CapCustomize) {
		s.apiErrorKey(w, r, http.StatusForbidden, store.CodeForbidden, "error.forbidden")
		return false
	}
	return true
}

func (s *Server) apiFieldCreate(w http.ResponseWriter, r *http.Request) {
	if !s.requireCustomize(w, r) {
		return
	}
	e := apiEntity(r)
	var body apiFieldIn
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	if body.Hidden != nil {
		s.apiError(w, r, invalidField("hidden", "error.unknown_field"))
		return
	}
	in := store.CustomFieldInput{Labels: body.Label, Help: body.Help, Options: optionsIn(body.Options)}
	if body.Key == nil {
		s.apiError(w, r, invalidField("key", "error.required"))
		return
	}
	if body.Type == nil {
		s.apiError(w, r, invalidField("type", "error.required"))
		return
	}
	in.Key, in.Kind = *body.Key, *body.Type
	if body.Target != nil {
		in.Ref = *body.Target
	}
	applyFlags(&in, body)
	c, err := s.st.CreateCustomField(r.Context(), reqCtxOf(r).actor, e, in)
	if err != nil {
		s.apiError(w, r, fieldAPIError(err))
		return
	}
	w.Header().Set("Location", "/api/v1/fields/"+string(e)+"/"+c.Key)
	writeJSON(w, http.StatusCreated, s.customFieldJSON(c))
}

func applyFlags(in *store.CustomFieldInput, body apiFieldIn) {
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&in.Required, body.Required)
	set(&in.Unique, body.Unique)
	set(&in.List, body.List)
	set(&in.Filterable, body.Filterable)
	set(&in.Searchable, body.Searchable)
	if body.Section != nil {
		in.Section = *body.Section
	}
	if body.Position != nil {
		in.Position = *body.Position
	}
}

func (s *Server) apiFieldUpdate(w http.ResponseWriter, r *http.Request) {
	if !s.requireCustomize(w, r) {
		return
	}
	e := apiEntity(r)
	key := mux.Vars(r)["key"]
	sc := s.st.Schema()
	var body apiFieldIn
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	if body.Key != nil && *body.Key != key {
		s.apiError(w, r, invalidField("key", "error.read_only"))
		return
	}
	a := reqCtxOf(r).actor
	if c, ok := sc.CustomField(e, key); ok {
		if body.Type != nil && *body.Type != c.Kind {
			s.apiError(w, r, invalidField("type", "error.read_only"))
			return
		}
		if body.Target != nil && *body.Target != c.Ref {
			s.apiError(w, r, invalidField("target", "error.read_only"))
			return
		}
		if body.Hidden != nil {
			s.apiError(w, r, invalidField("hidden", "error.unknown_field"))
			return
		}
		if body.Options != nil && c.Kind != store.KSelect && c.Kind != store.KMulti {
			s.apiError(w, r, invalidField("options", "error.unknown_field"))
			return
		}
		in := store.CustomFieldInput{
			Labels: mergeLabels(c.Labels, body.Label), Help: mergeLabels(c.Help, body.Help), Section: c.Section, Position: c.Position,
			Required: c.Required, Unique: c.Unique, List: c.List, Filterable: c.Filterable, Searchable: c.Searchable, Options: optionsIn(body.Options),
		}
		applyFlags(&in, body)
		c, err := s.st.UpdateCustomField(r.Context(), a, e, key, in)
		if err != nil {
			s.apiError(w, r, fieldAPIError(err))
			return
		}
		writeJSON(w, http.StatusOK, s.customFieldJSON(c))
		return
	}
	def := sc.Def(e)
	f, ok := def.Field(key)
	if !ok || f.ReadOnly {
		s.apiNotFound(w, r)
		return
	}
	// Standard fields take a label, hidden, required and their place.
	for name, given := range map[string]bool{"type": body.Type != nil, "target": body.Target != nil, "help": body.Help != nil, "unique": body.Unique != nil,
		"list": body.List != nil, "filterable": body.Filterable != nil, "searchable": body.Searchable != nil, "options": body.Options != nil} {
		if given {
			s.apiError(w, r, invalidField(name, "error.read_only"))
			return
		}
	}
	set := sc.Setting(e, key)
	set.Labels = mergeLabels(set.Labels, body.Label)
	if body.Hidden != nil {
		set.Hidden = *body.Hidden
	}
	if body.Required != nil {
		set.Required = *body.Required
	}
	if body.Section != nil {
		set.Section = *body.Section
	}
	if body.Position != nil {
		set.Position = *body.Position
	}
	if err := s.st.SaveFieldSetting(r.Context(), a, e, key, set); err != nil {
		s.apiError(w, r, fieldAPIError(err))
		return
	}
	sc = s.st.Schema()
	f, _ = sc.Def(e).Field(key)
	writeJSON(w, http.StatusOK, s.standardJSON(sc, e, f, slices.IndexFunc(sc.Def(e).Fields, func(x store.Field) bool { return x.Key == key })))
}

func (s *Server) apiFieldDelete(w http.ResponseWriter, r *http.Request) {
	if !s.requireCustomize(w, r) {
		return
	}
	e := apiEntity(r)
	key := mux.Vars(r)["key"]
	sc := s.st.Schema()
	if _, ok := sc.CustomField(e, key); !ok {
		if _, std := sc.Def(e).Field(key); std {
			s.apiError(w, r, invalidField("key", "error.standard_field"))
			return
		}
		s.apiNotFound(w, r)
		return
	}
	if err := s.st.RemoveCustomField(r.Context(), reqCtxOf(r).actor, e, key); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
