package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// This file holds the administrator's changes to the schema: custom
// fields, standard field settings, picklists, pipelines and activity
// rules. Every change needs the customize capability, is audited, and
// swaps the schema snapshot after it commits.

// CustomFieldInput is what creating or editing a custom field carries.
// Kind, Entity and Key are fixed once the field exists.
type CustomFieldInput struct {
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
	// Options, when not nil, replace a select's options.
	Options []Option
}

func (in *CustomFieldInput) check(e Entity, creating bool, fe fieldErrors) {
	var ok bool
	if in.Labels, ok = in.Labels.clean(); !ok {
		fe.add("label", "error.label")
	} else if len(in.Labels) == 0 {
		fe.add("label", "error.required")
	}
	if in.Help, ok = in.Help.clean(); !ok {
		fe.add("help", "error.label")
	}
	in.Section = strings.TrimSpace(in.Section)
	if len([]rune(in.Section)) > 100 || strings.ContainsAny(in.Section, "\x00\r\n") {
		fe.add("section", "error.too_long")
	}
	if !creating {
		return
	}
	if !validKey(in.Key) {
		fe.add("key", "error.key")
	} else if _, std := defs[e].Field(in.Key); std || in.Key == defs[e].OwnerKey || slices.Contains([]string{"id", "tags", "custom", "created_at", "updated_at", "version", "owner", "title"}, in.Key) {
		fe.add("key", "error.key_taken")
	}
	if !slices.Contains(CustomKinds, in.Kind) {
		fe.add("type", "error.option")
	}
	if in.Kind == KRef && !slices.Contains(RecordEntities, in.Ref) {
		fe.add("ref", "error.option")
	}
	if in.Kind != KRef {
		in.Ref = ""
	}
}

// checkOptions validates a list of options for a picklist; kinds says which
// StageKind values are allowed ("" for lists without kinds).
func checkOptions(list []Option, builtin []Option, kinds []string, fe fieldErrors) []Option {
	seen := map[string]bool{}
	var out []Option
	active := 0
	for i, o := range list {
		o.Key = strings.TrimSpace(o.Key)
		field := fmt.Sprintf("options.%d", i)
		if !validKey(o.Key) {
			fe.add(field, "error.key")
			continue
		}
		if seen[o.Key] {
			fe.add(field, "error.duplicate_key")
			continue
		}
		seen[o.Key] = true
		var ok bool
		if o.Labels, ok = o.Labels.clean(); !ok {
			fe.add(field, "error.label")
		}
		if len(o.Labels) == 0 && !slices.ContainsFunc(builtin, func(b Option) bool { return b.Key == o.Key }) {
			fe.add(field, "error.label_required")
		}
		if len(kinds) > 0 {
			if o.StageKind == "" {
				o.StageKind = kinds[0]
			}
			if !slices.Contains(kinds, o.StageKind) {
				fe.add(field, "error.option")
			}
		} else {
			o.StageKind = ""
		}
		if o.Probability < 0 || o.Probability > 100 {
			fe.add(field, "error.range")
		}
		if !o.Retired {
			active++
		}
		out = append(out, o)
	}
	// Built-in options are never deleted (old records and the catalog
	// refer to them): they can only be retired.
	for _, b := range builtin {
		if !seen[b.Key] {
			fe.add("options", "error.builtin_option")
			break
		}
	}
	if active == 0 {
		fe.add("options", "error.no_active_option")
	}
	return out
}

func saveOptions(ctx context.Context, tx *sql.Tx, list string, opts []Option) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM picklist_options WHERE list = ?`, list); err != nil {
		return err
	}
	for i, o := range opts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO picklist_options (list, key, labels, position, retired, probability, kind) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			list, o.Key, o.Labels.json(), (i+1)*10, o.Retired, o.Probability, o.StageKind); err != nil {
			return err
		}
	}
	return nil
}

// indexName is the name of the index on a custom field's values.
func indexName(d *EntityDef, key string) string { return "cf_" + d.Table + "_" + key }

// customExpr is the SQL expression of a custom field's value; the key is a
// checked literal so that SQLite matches it to the field's index.
func customExpr(key string) string { return "json_extract(t.custom, '$." + key + "')" }

// syncIndex creates or drops the index of a custom field so filters and
// uniqueness stay fast on a million records.
func syncIndex(ctx context.Context, tx *sql.Tx, d *EntityDef, c *CustomField) error {
	name := indexName(d, c.Key)
	if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS `+name); err != nil {
		return err
	}
	if c.Removed || !c.indexed() {
		return nil
	}
	col, _, _ := d.sortSpec(d.DefaultSort)
	col = strings.TrimPrefix(col, "t.")
	_, err := tx.ExecContext(ctx, `CREATE INDEX `+name+` ON `+d.Table+`(json_extract(custom, '$.`+c.Key+`'), `+col+`, id) WHERE deleted_at = 0`)
	return err
}

// CreateCustomField adds a field to a record type.
func (s *Store) CreateCustomField(ctx context.Context, a *Actor, e Entity, in CustomFieldInput) (*CustomField, error) {
	// The capability comes first, so that a person without it learns
	// nothing from validation errors.
	if err := a.require(CapCustomize); err != nil {
		return nil, err
	}
	if !slices.Contains(CustomEntities, e) {
		return nil, errNotFound()
	}
	fe := fieldErrors{}
	in.check(e, true, fe)
	if in.Kind == KSelect || in.Kind == KMulti {
		in.Options = checkOptions(in.Options, nil, nil, fe)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	if in.Kind == KLongText || in.Kind == KMulti {
		in.Unique = false
	}
	err := s.writeSchema(ctx, a, func(tx *sql.Tx) error {
		now := ms(s.now())
		if in.Position == 0 {
			tx.QueryRowContext(ctx, `SELECT COALESCE(max(position), 0) + 10 FROM custom_fields WHERE entity = ?`, e).Scan(&in.Position)
			if in.Position < 1000 {
				in.Position += 1000 // after the standard fields by default
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO custom_fields (entity, key, kind, labels, help, section, position, required, is_unique, list, filterable, searchable, ref_entity, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e, in.Key, in.Kind, in.Labels.json(), in.Help.json(), in.Section, in.Position, in.Required, in.Unique, in.List, in.Filterable, in.Searchable, in.Ref, now, now)
		if isUniqueViolation(err) {
			return errInvalid(map[string]string{"key": "error.key_taken"})
		}
		if err != nil {
			return err
		}
		if len(in.Options) > 0 {
			if err := saveOptions(ctx, tx, customList(e, in.Key), in.Options); err != nil {
				return err
			}
		}
		c := &CustomField{Entity: e, Key: in.Key, Kind: in.Kind, Filterable: in.Filterable, Unique: in.Unique}
		if err := syncIndex(ctx, tx, defs[e], c); err != nil {
			return err
		}
		if in.Searchable {
			if err := s.reindexAll(ctx, tx, e, func(d *EntityDef) {
				d.Custom = append(slices.Clone(d.Custom), &CustomField{Key: in.Key, Searchable: true})
			}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "custom_field.create", string(e), 0, map[string]any{"key": in.Key, "type": in.Kind})
	})
	if err != nil {
		return nil, err
	}
	c, _ := s.Schema().CustomField(e, in.Key)
	return c, nil
}

// UpdateCustomField changes a field's labels, flags, place and options;
// its key and type stay.
func (s *Store) UpdateCustomField(ctx context.Context, a *Actor, e Entity, key string, in CustomFieldInput) (*CustomField, error) {
	if err := a.require(CapCustomize); err != nil {
		return nil, err
	}
	cur, ok := s.Schema().CustomField(e, key)
	if !ok {
		return nil, errNotFound()
	}
	fe := fieldErrors{}
	in.check(e, false, fe)
	if in.Options != nil && (cur.Kind == KSelect || cur.Kind == KMulti) {
		in.Options = checkOptions(in.Options, cur.Options, nil, fe)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	if cur.Kind == KLongText || cur.Kind == KMulti {
		in.Unique = false
	}
	if in.Position == 0 {
		in.Position = cur.Position
	}
	err := s.writeSchema(ctx, a, func(tx *sql.Tx) error {
		if in.Unique && !cur.Unique {
			d := s.def(e)
			var dup int
			tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+d.Table+` t WHERE t.deleted_at = 0 AND `+customExpr(key)+` IS NOT NULL GROUP BY `+customExpr(key)+` HAVING count(*) > 1 LIMIT 1)`).Scan(&dup)
			if dup > 0 {
				return errInvalid(map[string]string{"unique": "error.unique_has_duplicates"})
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE custom_fields SET labels = ?, help = ?, section = ?, position = ?, required = ?, is_unique = ?, list = ?, filterable = ?, searchable = ?, updated_at = ? WHERE entity = ? AND key = ?`,
			in.Labels.json(), in.Help.json(), in.Section, in.Position, in.Required, in.Unique, in.List, in.Filterable, in.Searchable, ms(s.now()), e, key)
		if err != nil {
			return err
		}
		if in.Options != nil && (cur.Kind == KSelect || cur.Kind == KMulti) {
			if err := saveOptions(ctx, tx, cur.OptionList(), in.Options); err != nil {
				return err
			}
		}
		next := *cur
		next.Filterable, next.Unique = in.Filterable, in.Unique
		if next.indexed() != cur.indexed() {
			if err := syncIndex(ctx, tx, defs[e], &next); err != nil {
				return err
			}
		}
		if in.Searchable != cur.Searchable {
			err := s.reindexAll(ctx, tx, e, func(d *EntityDef) {
				d.Custom = slices.DeleteFunc(slices.Clone(d.Custom), func(c *CustomField) bool { return c.Key == key })
				if in.Searchable {
					d.Custom = append(d.Custom, &CustomField{Key: key, Searchable: true})
				}
			})
			if err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "custom_field.update", string(e), 0, map[string]any{"key": key})
	})
	if err != nil {
		return nil, err
	}
	c, _ := s.Schema().CustomField(e, key)
	return c, nil
}

// RemoveCustomField hides a field everywhere and keeps its values, so
// removing by mistake loses nothing; RestoreCustomField brings it back.
func (s *Store) RemoveCustomField(ctx context.Context, a *Actor, e Entity, key string) error {
	return s.setRemoved(ctx, a, e, key, true)
}

// RestoreCustomField shows a removed field again with its values.
func (s *Store) RestoreCustomField(ctx context.Context, a *Actor, e Entity, key string) error {
	return s.setRemoved(ctx, a, e, key, false)
}

func (s *Store) setRemoved(ctx context.Context, a *Actor, e Entity, key string, removed bool) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	cur, ok := s.Schema().CustomField(e, key)
	if !ok {
		return errNotFound()
	}
	if cur.Removed == removed {
		return nil
	}
	return s.writeSchema(ctx, a, func(tx *sql.Tx) error {
		at := int64(0)
		if removed {
			at = ms(s.now())
		}
		if _, err := tx.ExecContext(ctx, `UPDATE custom_fields SET removed_at = ?, updated_at = ? WHERE entity = ? AND key = ?`, at, ms(s.now()), e, key); err != nil {
			return err
		}
		next := *cur
		next.Removed = removed
		if err := syncIndex(ctx, tx, defs[e], &next); err != nil {
			return err
		}
		if cur.Searchable {
			err := s.reindexAll(ctx, tx, e, func(d *EntityDef) {
				d.Custom = slices.DeleteFunc(slices.Clone(d.Custom), func(c *CustomField) bool { return c.Key == key })
				if !removed {
					d.Custom = append(d.Custom, &next)
				}
			})
			if err != nil {
				return err
			}
		}
		action := "custom_field.restore"
		if removed {
			action = "custom_field.remove"
		}
		return s.audit(ctx, tx, a, action, string(e), 0, map[string]any{"key": key})
	})
}

// PurgeCustomField deletes a removed field and its values for good.
func (s *Store) PurgeCustomField(ctx context.Context, a *Actor, e Entity, key string) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	cur, ok := s.Schema().CustomField(e, key)
	if !ok {
		return errNotFound()
	}
	if !cur.Removed {
		return errInvalid(map[string]string{"key": "error.remove_first"})
	}
	return s.writeSchema(ctx, a, func(tx *sql.Tx) error {
		d := defs[e]
		if _, err := tx.ExecContext(ctx, `UPDATE `+d.Table+` SET custom = json_remove(custom, '$.`+key+`') WHERE json_type(custom, '$.`+key+`') IS NOT NULL`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM custom_fields WHERE entity = ? AND key = ?`, e, key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM picklist_options WHERE list = ?`, customList(e, key)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS `+indexName(d, key)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "custom_field.purge", string(e), 0, map[string]any{"key": key})
	})
}

// SaveFieldSetting renames, hides, requires or places a standard field.
// Fields the product needs (a client's name) can be neither hidden nor
// made optional.
func (s *Store) SaveFieldSetting(ctx context.Context, a *Actor, e Entity, key string, fs FieldSetting) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	d := defs[e]
	if d == nil {
		return errNotFound()
	}
	f, ok := d.Field(key)
	if !ok || f.ReadOnly {
		return errNotFound()
	}
	fe := fieldErrors{}
	var okL bool
	if fs.Labels, okL = fs.Labels.clean(); !okL {
		fe.add("label", "error.label")
	}
	if fs.Hidden && (f.Required || fs.Required) {
		fe.add("hidden", "error.hide_required")
	}
	fs.Section = strings.TrimSpace(fs.Section)
	if len([]rune(fs.Section)) > 100 || strings.ContainsAny(fs.Section, "\x00\r\n") {
		fe.add("section", "error.too_long")
	}
	if err := fe.err(); err != nil {
		return err
	}
	return s.writeSchema(ctx, a, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO field_settings (entity, key, labels, hidden, required, section, position) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (entity, key) DO UPDATE SET labels = excluded.labels, hidden = excluded.hidden, required = excluded.required, section = excluded.section, position = excluded.position`,
			e, key, fs.Labels.json(), fs.Hidden, fs.Required, fs.Section, fs.Position)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "field_setting.save", string(e), 0, map[string]any{"key": key, "hidden": fs.Hidden, "required": fs.Required})
	})
}

// EditablePicklists are the selectors an administrator may edit here;
// task statuses and forecast categories drive the product's own logic,
// stages live in the pipeline editor and custom selects with their field.
var EditablePicklists = []string{"account_type", "sector", "source", "customer_type", "potential", "lead_status", "activity_type", "activity_objective", "activity_outcome", "case_status", "case_priority", "case_category", "task_priority", "lost_reason", "contact_role"}

// lockedOptions may not be retired: the product's logic needs them.
var lockedOptions = map[string][]string{
	"lead_status": {"new", "converted"},
	"source":      {"web_form", "import"},
}

// SavePicklist replaces the options of an editable picklist or of a
// pipeline's stages ("stage" or "stage:KEY"): order, labels, retired flags,
// and for stages their probability and kind.
func (s *Store) SavePicklist(ctx context.Context, a *Actor, list string, options []Option) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	sc := s.Schema()
	var kinds []string
	switch {
	case slices.Contains(EditablePicklists, list):
	case list == "stage":
		kinds = []string{"open", "won", "lost"}
	case strings.HasPrefix(list, "stage:"):
		if _, ok := sc.Pipeline(strings.TrimPrefix(list, "stage:")); !ok {
			return errNotFound()
		}
		kinds = []string{"open", "won", "lost"}
	default:
		return errNotFound()
	}
	if list == "case_status" {
		kinds = []string{"open", "resolved", "closed"}
	}
	fe := fieldErrors{}
	// Built-in options and options records hold are kept: they can be
	// retired, never deleted. An added option nobody used yet (or a stage
	// a new pipeline copied) may go.
	used, err := s.optionsInUse(ctx, list)
	if err != nil {
		return errInternal(err)
	}
	kept := slices.Clone(picklists[list])
	for _, o := range sc.Options(list) {
		if used[o.Key] && !slices.ContainsFunc(kept, func(b Option) bool { return b.Key == o.Key }) {
			kept = append(kept, o)
		}
	}
	opts := checkOptions(options, kept, kinds, fe)
	for _, o := range opts {
		if o.Retired && slices.Contains(lockedOptions[list], o.Key) {
			fe.add("options", "error.option_locked")
		}
	}
	if len(kinds) > 0 {
		// A process needs a way in and a way out.
		have := map[string]bool{}
		for _, o := range opts {
			if !o.Retired {
				have[o.StageKind] = true
			}
		}
		for _, k := range kinds {
			if !have[k] {
				fe.add("options", "error.kind_missing."+k)
			}
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	return s.writeSchema(ctx, a, func(tx *sql.Tx) error {
		if err := saveOptions(ctx, tx, list, opts); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "picklist.save", list, 0, map[string]any{"options": len(opts)})
	})
}

// optionsInUse returns the keys of a picklist that records (trashed ones
// included) hold.
func (s *Store) optionsInUse(ctx context.Context, list string) (map[string]bool, error) {
	used := map[string]bool{}
	var queries []string
	var args [][]any
	if pl, ok := strings.CutPrefix(list, "stage"); ok {
		pl = strings.TrimPrefix(pl, ":")
		if pl == "" {
			pl = DefaultPipeline
		}
		queries = append(queries, `SELECT DISTINCT stage FROM opportunities WHERE pipeline = ?`)
		args = append(args, []any{pl})
	} else {
		for _, e := range RecordEntities {
			d := defs[e]
			for _, f := range d.Fields {
				if f.Kind == KSelect && f.Picklist == list {
					queries = append(queries, `SELECT DISTINCT `+f.column()+` FROM `+d.Table)
					args = append(args, nil)
				}
			}
		}
		if list == "contact_role" {
			queries = append(queries, `SELECT DISTINCT role FROM opportunity_contacts`)
			args = append(args, nil)
		}
	}
	for i, q := range queries {
		rows, err := s.r.QueryContext(ctx, q, args[i]...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k sql.NullString
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, err
			}
			used[k.String] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return used, nil
}

// SavePipeline creates a pipeline, or renames or retires one; a new
// pipeline starts with the default pipeline's stages, to be edited.
func (s *Store) SavePipeline(ctx context.Context, a *Actor, p Pipeline) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	fe := fieldErrors{}
	if !validKey(p.Key) || p.Key == DefaultPipeline {
		fe.add("key", "error.key")
	}
	var ok bool
	if p.Labels, ok = p.Labels.clean(); !ok {
		fe.add("label", "error.label")
	} else if len(p.Labels) == 0 {
		fe.add("label", "error.required")
	}
	if err := fe.err(); err != nil {
		return err
	}
	cur, exists := s.Schema().Pipeline(p.Key)
	stages := s.Schema().Options("stage")
	if p.Position == 0 && exists {
		p.Position = cur.Position // renaming keeps the pipeline's place
	}
	return s.writeSchema(ctx, a, func(tx *sql.Tx) error {
		if p.Position == 0 {
			tx.QueryRowContext(ctx, `SELECT COALESCE(max(position), 0) + 10 FROM pipelines`).Scan(&p.Position)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pipelines (key, labels, position, retired) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET labels = excluded.labels, position = excluded.position, retired = excluded.retired`, p.Key, p.Labels.json(), p.Position, p.Retired)
		if err != nil {
			return err
		}
		if !exists {
			var copied []Option
			for _, o := range stages {
				if !o.Retired {
					copied = append(copied, o)
				}
			}
			if err := saveOptions(ctx, tx, StageList(p.Key), copied); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "pipeline.save", p.Key, 0, map[string]any{"retired": p.Retired})
	})
}

// SaveActivityRule sets the fields a user must fill when logging an
// activity of a type (standard field keys or "custom.KEY").
func (s *Store) SaveActivityRule(ctx context.Context, a *Actor, activityType string, fields []string) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	sc := s.Schema()
	if _, ok := sc.Option("activity_type", activityType); !ok {
		return errNotFound()
	}
	d := sc.Def(EntActivities)
	fe := fieldErrors{}
	keep := []string{}
	for _, k := range fields {
		if ck, ok := strings.CutPrefix(k, "custom."); ok {
			if _, ok := d.CustomField(ck); !ok {
				fe.add("fields", "error.unknown_field")
			}
		} else if f, ok := d.Field(k); !ok || f.ReadOnly {
			fe.add("fields", "error.unknown_field")
		}
		if !slices.Contains(keep, k) {
			keep = append(keep, k)
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	b, _ := json.Marshal(keep)
	return s.writeSchema(ctx, a, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO activity_rules (type, fields) VALUES (?, ?) ON CONFLICT (type) DO UPDATE SET fields = excluded.fields`, activityType, string(b)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "activity_rule.save", activityType, 0, map[string]any{"fields": keep})
	})
}
