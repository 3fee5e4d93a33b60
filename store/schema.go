package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"sort"
	"strings"
)

// This file holds the customization snapshot: custom fields, standard field
// settings, edited picklists, pipelines and activity rules, loaded once and
// swapped after every change, so that validation, lists and pages read the
// firm's schema without a query per use.

// Labels are a text per language ("ca", "es", "en"); an empty language
// falls back to the built-in catalog.
type Labels map[string]string

// In returns the label for a language, falling back to the other languages
// so a field named in one language only still shows a name.
func (l Labels) In(lang string) string {
	if s := l[lang]; s != "" {
		return s
	}
	for _, k := range []string{"en", "es", "ca"} {
		if s := l[k]; s != "" {
			return s
		}
	}
	return ""
}

func (l Labels) clean() (Labels, bool) {
	out := Labels{}
	for k, v := range l {
		if k != "ca" && k != "es" && k != "en" {
			return nil, false
		}
		v = strings.TrimSpace(v)
		if len([]rune(v)) > 200 || strings.ContainsAny(v, "\x00\r\n") {
			return nil, false
		}
		if v != "" {
			out[k] = v
		}
	}
	return out, true
}

func (l Labels) json() string {
	if len(l) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func parseLabels(s string) Labels {
	l := Labels{}
	json.Unmarshal([]byte(s), &l)
	return l
}

// KMulti is the kind of a custom multi-select field; standard fields have
// none.
const KMulti Kind = "multi_select"

// CustomKinds are the kinds an administrator may give a custom field, in
// menu order.
var CustomKinds = []Kind{KText, KLongText, KNumber, KMoney, KDate, KDateTime, KBool, KEmail, KPhone, KURL, KSelect, KMulti, KRef}

// CustomEntities are the record types that take custom fields.
var CustomEntities = []Entity{EntAccounts, EntContacts, EntLeads, EntOpportunities, EntActivities, EntTasks, EntCases}

// CustomField is a field an administrator added to a record type; its
// values travel in the record's Custom map under Key.
type CustomField struct {
	ID         int64
	Entity     Entity
	Key        string
	Kind       Kind
	Labels     Labels
	Help       Labels
	Section    string
	Position   int64
	Required   bool
	Unique     bool
	List       bool
	Filterable bool
	Searchable bool
	Ref        Entity
	Removed    bool
	// Options are a select's choices (retired ones included).
	Options []Option
}

// OptionList is the picklist name of a custom select's options.
func (c *CustomField) OptionList() string { return customList(c.Entity, c.Key) }

func customList(e Entity, key string) string { return "cf:" + string(e) + ":" + key }

// field is the standard-field form of a custom field, for coerce.
func (c *CustomField) field() Field {
	f := Field{Key: c.Key, Kind: c.Kind, Ref: c.Ref, Picklist: c.OptionList(), opts: c.Options, custom: true}
	switch c.Kind {
	case KText, KPhone:
		f.Max = 500
	case KEmail:
		f.Max = 254
	case KURL:
		f.Max = 2000
	case KLongText:
		f.Max = 20000
	case KMoney:
		f.Min, f.Top = -1e13, 1e13
	}
	return f
}

// indexed reports whether the field's values have an index (filters and
// uniqueness read it).
func (c *CustomField) indexed() bool {
	return (c.Filterable || c.Unique) && c.Kind != KMulti && c.Kind != KLongText
}

// FieldSetting is how a firm adapts a standard field: its label per
// language, hidden, required, and its place on the form.
type FieldSetting struct {
	Labels   Labels
	Hidden   bool
	Required bool
	Section  string
	Position int64
}

// Pipeline is a sales process with its own stages; "default" always exists.
type Pipeline struct {
	Key      string
	Labels   Labels
	Position int64
	Retired  bool
}

// StageList is the picklist name of a pipeline's stages.
func StageList(pipeline string) string {
	if pipeline == "" || pipeline == DefaultPipeline {
		return "stage"
	}
	return "stage:" + pipeline
}

// DefaultPipeline is the key of the built-in pipeline.
const DefaultPipeline = "default"

// Schema is one immutable snapshot of the firm's customization; the store
// swaps it whole after a change, so readers never see half of one.
type Schema struct {
	defs      map[Entity]*EntityDef
	custom    map[Entity][]*CustomField // every custom field, removed ones too
	settings  map[Entity]map[string]FieldSetting
	lists     map[string][]Option
	pipelines []Pipeline
	rules     map[string][]string
}

// Def returns the effective description of a record type: the standard
// fields with the firm's settings applied and its active custom fields.
func (sc *Schema) Def(e Entity) *EntityDef { return sc.defs[e] }

// CustomFields returns a record type's custom fields in form order;
// removed ones only when asked, for the settings page.
func (sc *Schema) CustomFields(e Entity, withRemoved bool) []*CustomField {
	var out []*CustomField
	for _, c := range sc.custom[e] {
		if withRemoved || !c.Removed {
			out = append(out, c)
		}
	}
	return out
}

// CustomField returns one custom field (removed ones included).
func (sc *Schema) CustomField(e Entity, key string) (*CustomField, bool) {
	for _, c := range sc.custom[e] {
		if c.Key == key {
			return c, true
		}
	}
	return nil, false
}

// Setting returns the firm's settings of a standard field.
func (sc *Schema) Setting(e Entity, key string) FieldSetting { return sc.settings[e][key] }

// Options returns every option of a picklist in display order, retired
// ones included (old records keep them).
func (sc *Schema) Options(list string) []Option {
	if sc != nil {
		if o, ok := sc.lists[list]; ok {
			return o
		}
	}
	return picklists[list]
}

// ActiveOptions returns the options offered for new values.
func (sc *Schema) ActiveOptions(list string) []Option {
	var out []Option
	for _, o := range sc.Options(list) {
		if !o.Retired {
			out = append(out, o)
		}
	}
	return out
}

// Option returns one option of a picklist.
func (sc *Schema) Option(list, key string) (Option, bool) {
	for _, o := range sc.Options(list) {
		if o.Key == key {
			return o, true
		}
	}
	return Option{}, false
}

// Edited reports whether an administrator has edited a picklist.
func (sc *Schema) Edited(list string) bool {
	_, ok := sc.lists[list]
	return ok
}

// Pipelines returns the pipelines in order, the default one first.
func (sc *Schema) Pipelines() []Pipeline { return sc.pipelines }

// Pipeline returns one pipeline.
func (sc *Schema) Pipeline(key string) (Pipeline, bool) {
	for _, p := range sc.pipelines {
		if p.Key == key {
			return p, true
		}
	}
	return Pipeline{}, false
}

// ActivityRule returns the fields an activity of a type must have.
func (sc *Schema) ActivityRule(activityType string) []string { return sc.rules[activityType] }

// StageKind returns open, won or lost for a stage of a pipeline ("" when
// the stage is not one of its stages).
func (sc *Schema) StageKind(pipeline, stage string) string {
	o, _ := sc.Option(StageList(pipeline), stage)
	return o.StageKind
}

// CaseStatusKind returns open, resolved or closed for a case status.
func (sc *Schema) CaseStatusKind(status string) string {
	o, ok := sc.Option("case_status", status)
	if !ok {
		return ""
	}
	if o.StageKind == "" {
		return "open"
	}
	return o.StageKind
}

// Schema returns the current customization snapshot.
func (s *Store) Schema() *Schema {
	if sc := s.schema.Load(); sc != nil {
		return sc
	}
	return baseSchema
}

// def returns the effective description of a record type.
func (s *Store) def(e Entity) *EntityDef { return s.Schema().defs[e] }

// baseSchema is the schema of a database nobody has customized.
var baseSchema = buildSchema(nil, nil, nil, nil, nil)

// reloadSchema reads the customization tables and swaps the snapshot.
func (s *Store) reloadSchema(ctx context.Context) error {
	sc, err := loadSchema(ctx, s.w)
	if err != nil {
		return err
	}
	s.schema.Store(sc)
	return nil
}

// writeSchema runs a customization change and swaps the snapshot after it
// commits.
func (s *Store) writeSchema(ctx context.Context, a *Actor, fn func(tx *sql.Tx) error) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	if err := s.write(ctx, fn); err != nil {
		return err
	}
	if err := s.reloadSchema(ctx); err != nil {
		return errInternal(err)
	}
	return nil
}

func loadSchema(ctx context.Context, q querier) (*Schema, error) {
	var custom []*CustomField
	rows, err := q.QueryContext(ctx, `SELECT id, entity, key, kind, labels, help, section, position, required, is_unique, list, filterable, searchable, ref_entity, removed_at FROM custom_fields ORDER BY entity, position, id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		c := &CustomField{}
		var labels, help string
		var removed int64
		if err := rows.Scan(&c.ID, &c.Entity, &c.Key, &c.Kind, &labels, &help, &c.Section, &c.Position, &c.Required, &c.Unique, &c.List, &c.Filterable, &c.Searchable, &c.Ref, &removed); err != nil {
			rows.Close()
			return nil, err
		}
		c.Labels, c.Help, c.Removed = parseLabels(labels), parseLabels(help), removed != 0
		custom = append(custom, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	settings := map[Entity]map[string]FieldSetting{}
	rows, err = q.QueryContext(ctx, `SELECT entity, key, labels, hidden, required, section, position FROM field_settings`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var e Entity
		var key, labels string
		var fs FieldSetting
		if err := rows.Scan(&e, &key, &labels, &fs.Hidden, &fs.Required, &fs.Section, &fs.Position); err != nil {
			rows.Close()
			return nil, err
		}
		fs.Labels = parseLabels(labels)
		if settings[e] == nil {
			settings[e] = map[string]FieldSetting{}
		}
		settings[e][key] = fs
	}
	rows.Close()
	lists := map[string][]Option{}
	rows, err = q.QueryContext(ctx, `SELECT list, key, labels, retired, probability, kind FROM picklist_options ORDER BY list, position, key`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var list, labels string
		var o Option
		if err := rows.Scan(&list, &o.Key, &labels, &o.Retired, &o.Probability, &o.StageKind); err != nil {
			rows.Close()
			return nil, err
		}
		o.Labels = parseLabels(labels)
		lists[list] = append(lists[list], o)
	}
	rows.Close()
	// Case queues are the teams (store/service.go).
	if lists[CaseQueueList], err = teamQueueOptions(ctx, q); err != nil {
		return nil, err
	}
	var pipes []Pipeline
	rows, err = q.QueryContext(ctx, `SELECT key, labels, position, retired FROM pipelines ORDER BY position, key`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var p Pipeline
		var labels string
		if err := rows.Scan(&p.Key, &labels, &p.Position, &p.Retired); err != nil {
			rows.Close()
			return nil, err
		}
		p.Labels = parseLabels(labels)
		pipes = append(pipes, p)
	}
	rows.Close()
	rules := map[string][]string{}
	rows, err = q.QueryContext(ctx, `SELECT type, fields FROM activity_rules`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t, fields string
		if err := rows.Scan(&t, &fields); err != nil {
			rows.Close()
			return nil, err
		}
		var keys []string
		json.Unmarshal([]byte(fields), &keys)
		rules[t] = keys
	}
	rows.Close()
	return buildSchema(custom, settings, lists, pipes, rules), nil
}

// buildSchema derives the effective record descriptions from the built-in
// ones and the firm's customization.
func buildSchema(custom []*CustomField, settings map[Entity]map[string]FieldSetting, lists map[string][]Option, pipes []Pipeline, rules map[string][]string) *Schema {
	sc := &Schema{defs: map[Entity]*EntityDef{}, custom: map[Entity][]*CustomField{}, settings: settings, lists: lists, rules: rules}
	if sc.settings == nil {
		sc.settings = map[Entity]map[string]FieldSetting{}
	}
	if sc.lists == nil {
		sc.lists = map[string][]Option{}
	}
	if sc.rules == nil {
		sc.rules = map[string][]string{}
	}
	sc.pipelines = append([]Pipeline{{Key: DefaultPipeline}}, pipes...)
	pipeOpts := []Option{{Key: DefaultPipeline}}
	for _, p := range pipes {
		pipeOpts = append(pipeOpts, Option{Key: p.Key, Labels: p.Labels, Retired: p.Retired})
	}
	sc.lists["pipeline"] = pipeOpts
	for _, c := range custom {
		if c.Kind == KSelect || c.Kind == KMulti {
			c.Options = sc.lists[c.OptionList()]
		}
		sc.custom[c.Entity] = append(sc.custom[c.Entity], c)
	}
	// Every stage of every pipeline is a valid stage key; which pipeline
	// it belongs to is checked with the record.
	var stages []Option
	seen := map[string]bool{}
	for _, p := range sc.pipelines {
		for _, o := range sc.Options(StageList(p.Key)) {
			if !seen[o.Key] {
				seen[o.Key] = true
				stages = append(stages, o)
			}
		}
	}
	for e, base := range defs {
		d := *base
		d.schema = sc
		d.Fields = slices.Clone(base.Fields)
		for i := range d.Fields {
			f := &d.Fields[i]
			set := sc.settings[e][f.Key]
			f.Required = f.Required || set.Required
			f.Hidden = set.Hidden && !base.Fields[i].Required
			if f.Kind == KSelect {
				if f.Key == "stage" && e == EntOpportunities {
					f.opts = stages
				} else {
					f.opts = sc.Options(f.Picklist)
				}
			}
		}
		for _, c := range sc.custom[e] {
			if !c.Removed {
				d.Custom = append(d.Custom, c)
			}
		}
		sc.defs[e] = &d
	}
	return sc
}

// FormOrder returns the keys of a record type's editable standard and
// custom fields in the order the firm laid out its form, each with its
// section name ("" for the main one).
func (sc *Schema) FormOrder(e Entity) []FormSlot {
	d := sc.defs[e]
	var slots []FormSlot
	for i, f := range d.Fields {
		if f.ReadOnly || f.Hidden {
			continue
		}
		set := sc.settings[e][f.Key]
		pos := set.Position
		if pos == 0 {
			pos = int64(i+1) * 10
		}
		slots = append(slots, FormSlot{Key: f.Key, Section: set.Section, Position: pos})
	}
	for i, c := range d.Custom {
		pos := c.Position
		if pos == 0 {
			pos = int64(len(d.Fields)+i+1) * 10
		}
		slots = append(slots, FormSlot{Key: c.Key, Custom: true, Section: c.Section, Position: pos})
	}
	sort.SliceStable(slots, func(i, j int) bool { return slots[i].Position < slots[j].Position })
	return slots
}

// FormSlot is one field's place on a record form.
type FormSlot struct {
	Key      string
	Custom   bool
	Section  string
	Position int64
}

// NewSchema returns the schema of a database nobody has customized, for
// code that renders without a store.
func NewSchema() *Schema { return baseSchema }
