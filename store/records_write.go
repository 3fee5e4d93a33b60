package store

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"time"
)

// applyInput coerces the input values onto vals (the current values, or
// defaults on create) and collects field errors. Unknown and read-only keys
// are refused, never silently dropped.
func (d *EntityDef) applyInput(in map[string]any, vals map[string]any, fe fieldErrors) (ownerSet bool, owner int64) {
	for key, raw := range in {
		if key == d.OwnerKey {
			v, k := coerce(Field{Kind: KRef}, raw)
			if k != "" {
				fe.add(key, "error.unknown_user")
				continue
			}
			ownerSet, owner = true, v.(int64)
			continue
		}
		f, ok := d.Field(key)
		if !ok {
			fe.add(key, "error.unknown_field")
			continue
		}
		if f.ReadOnly {
			fe.add(key, "error.read_only")
			continue
		}
		v, k := coerce(f, raw)
		if k != "" {
			fe.add(key, k)
			continue
		}
		if f.Kind == KSelect && v != "" && v != vals[key] {
			// A retired option stays on the records that have it, but is
			// not given to any other.
			if o, _ := f.option(v.(string)); o.Retired {
				fe.add(key, "error.option_retired")
				continue
			}
		}
		vals[key] = v
	}
	return ownerSet, owner
}

// defaults are the values a new record starts with.
func (s *Store) defaults(ctx context.Context, q querier, d *EntityDef, c *loadCache) map[string]any {
	vals := make(map[string]any, len(d.Fields))
	for _, f := range d.Fields {
		vals[f.Key] = zeroOf(f.Kind)
	}
	switch d.Entity {
	case EntLeads:
		vals["status"] = "new"
	case EntOpportunities:
		vals["pipeline"] = DefaultPipeline
		vals["stage"] = "reception"
		vals["forecast_category"] = "pipeline"
		cur := "EUR"
		if c != nil && c.currency != "" {
			cur = c.currency
		} else {
			q.QueryRowContext(ctx, `SELECT currency FROM company WHERE id = 1`).Scan(&cur)
			if c != nil {
				c.currency = cur
			}
		}
		vals["currency"] = cur
	case EntTasks:
		vals["status"] = "open"
		vals["priority"] = "normal"
	case EntCases:
		vals["status"] = "new"
		vals["priority"] = "normal"
	}
	return vals
}

// validateRecord checks required fields and the rules of each entity.
// touched is nil on create; on update, a field the firm made required is
// checked only when the change touches it, so records older than the rule
// stay editable through the API.
func (d *EntityDef) validateRecord(vals, custom map[string]any, touched map[string]bool, fe fieldErrors) {
	for i, f := range d.Fields {
		builtin := defs[d.Entity].Fields[i].Required
		if f.Required && isZero(vals[f.Key]) && (builtin || touched == nil || touched[f.Key]) {
			fe.add(f.Key, "error.required")
		}
	}
	if d.Entity == EntActivities {
		t, _ := vals["type"].(string)
		for _, k := range d.schema.ActivityRule(t) {
			if ck, ok := strings.CutPrefix(k, "custom."); ok {
				if _, live := d.CustomField(ck); live && custom[ck] == nil {
					fe.add(k, "error.required_for_type")
				}
			} else if f, ok := d.Field(k); ok && isZero(vals[k]) && !f.Hidden {
				fe.add(k, "error.required_for_type")
			}
		}
	}
	switch d.Entity {
	case EntContacts, EntLeads:
		if isZero(vals["first_name"]) && isZero(vals["last_name"]) && isZero(vals["email"]) && (d.Entity != EntLeads || isZero(vals["company"])) {
			fe.add("last_name", "error.name_required")
		}
	case EntOpportunities:
		if c, _ := vals["currency"].(string); !ValidCurrency(c) {
			fe.add("currency", "error.currency")
		}
		if d.schema.StageKind(vals["pipeline"].(string), vals["stage"].(string)) == "" {
			fe.add("stage", "error.stage_pipeline")
		}
	}
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case int64:
		return x == 0
	case float64:
		return x == 0
	case time.Time:
		return x.IsZero()
	case bool:
		return !x
	}
	return false
}

// checkOwner verifies that the actor may give a record to owner for the
// action (create or edit): own scope means only themselves, team scope
// their team, all scope any active user.
func (s *Store) checkOwner(ctx context.Context, q querier, a *Actor, e Entity, act Action, owner int64) error {
	var team sql.NullInt64
	var disabled bool
	err := queryRowTx(ctx, q, `SELECT team_id, disabled FROM users WHERE id = ?`, owner).Scan(&team, &disabled)
	if err == sql.ErrNoRows || (err == nil && disabled) {
		return errInvalid(map[string]string{s.def(e).OwnerKey: "error.unknown_user"})
	} else if err != nil {
		return err
	}
	if a.System || a.inScope(e, act, owner, team.Int64) {
		return nil
	}
	return errInvalid(map[string]string{s.def(e).OwnerKey: "error.owner_not_allowed"})
}

// checkLinks verifies that every link points at a live record the actor may
// view, so nobody can attach data to records they cannot see.
func (s *Store) checkLinks(ctx context.Context, q querier, a *Actor, d *EntityDef, vals map[string]any, changed map[string]bool, fe fieldErrors) error {
	for _, f := range d.Fields {
		if f.Kind != KRef || f.ReadOnly || (changed != nil && !changed[f.Key]) {
			continue
		}
		id, _ := vals[f.Key].(int64)
		if id == 0 {
			continue
		}
		td := s.def(f.Ref)
		cond, args := a.scopeSQL(f.Ref, ActView, "x.owner_id")
		var one int
		err := q.QueryRowContext(ctx, "SELECT 1 FROM "+td.Table+" x WHERE x.id = ? AND x.deleted_at = 0 AND "+cond, append([]any{id}, args...)...).Scan(&one)
		if err == sql.ErrNoRows {
			fe.add(f.Key, "error.unknown_record")
		} else if err != nil {
			return err
		}
	}
	return nil
}

// loadCache remembers, during a bulk load by the system actor, owners and
// linked records already checked, so each is looked up once.
type loadCache struct {
	owners   map[int64]bool
	known    map[Entity]map[int64]bool
	currency string
}

func newLoadCache() *loadCache {
	return &loadCache{owners: map[int64]bool{}, known: map[Entity]map[int64]bool{}}
}

// remember marks a record created by the load as a valid link target.
func (c *loadCache) remember(e Entity, id int64) {
	if c.known[e] == nil {
		c.known[e] = map[int64]bool{}
	}
	c.known[e][id] = true
}

// checkLinksCached is checkLinks that skips links the cache vouches for.
func (s *Store) checkLinksCached(ctx context.Context, q querier, a *Actor, d *EntityDef, vals map[string]any, fe fieldErrors, c *loadCache) error {
	if c == nil || !a.System {
		return s.checkLinks(ctx, q, a, d, vals, nil, fe)
	}
	changed := map[string]bool{}
	for _, f := range d.Fields {
		if f.Kind == KRef {
			if id, _ := vals[f.Key].(int64); id != 0 && !c.known[f.Ref][id] {
				changed[f.Key] = true
			}
		}
	}
	if len(changed) == 0 {
		return nil
	}
	return s.checkLinks(ctx, q, a, d, vals, changed, fe)
}

// derived computes the sort, e-mail, tax id and phone keys stored beside
// the fields.
func (d *EntityDef) derived(vals map[string]any) map[string]any {
	str := func(k string) string { s, _ := vals[k].(string); return s }
	out := map[string]any{}
	switch d.Entity {
	case EntContacts, EntLeads:
		out["name_key"] = foldKey(strings.TrimSpace(str("last_name") + " " + str("first_name")))
		if out["name_key"] == "" {
			out["name_key"] = foldKey(str("email") + str("company"))
		}
		out["alt_key"] = foldKey(str("first_name") + " " + str("last_name"))
	case EntAccounts, EntOpportunities:
		out["name_key"] = foldKey(str("name"))
	case EntActivities, EntCases:
		out["name_key"] = foldKey(str("subject"))
	case EntTasks:
		out["name_key"] = foldKey(str("title"))
	}
	if _, ok := d.Field("email"); ok {
		out["email_key"] = strings.ToLower(str("email"))
	}
	if _, ok := d.Field("phone"); ok {
		out["phone_digits"] = digitsOf(str("phone"))
	}
	if _, ok := d.Field("mobile"); ok {
		out["mobile_digits"] = digitsOf(str("mobile"))
	}
	if _, ok := d.Field("tax_id"); ok {
		out["tax_id_key"] = strings.ToUpper(strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' || r == '.' {
				return -1
			}
			return r
		}, str("tax_id")))
	}
	return out
}

// lifecycle applies the automatic changes a state change implies: stage →
// probability, forecast category and close time; case status → resolved
// and closed times; task status → completion time.
func (s *Store) lifecycle(d *EntityDef, old, vals map[string]any, explicit map[string]bool, now time.Time, extra map[string]any) {
	changed := func(k string) bool { return old == nil || !equalValues(old[k], vals[k]) }
	switch d.Entity {
	case EntContacts, EntLeads:
		consentLifecycle(changed, vals, explicit, now)
	case EntOpportunities:
		if changed("stage") {
			st, _ := vals["stage"].(string)
			pl, _ := vals["pipeline"].(string)
			o, _ := d.schema.Option(StageList(pl), st)
			if !explicit["probability"] {
				vals["probability"] = o.Probability
			}
			if !explicit["forecast_category"] {
				switch o.StageKind {
				case "won":
					vals["forecast_category"] = "closed"
				case "lost":
					vals["forecast_category"] = "omitted"
				default:
					if old != nil {
						if fc, _ := old["forecast_category"].(string); fc == "closed" || fc == "omitted" {
							vals["forecast_category"] = "pipeline"
						}
					}
				}
			}
			extra["stage_changed_at"] = ms(now)
			if o.StageKind == "won" || o.StageKind == "lost" {
				extra["closed_at"] = ms(now)
			} else {
				extra["closed_at"] = int64(0)
			}
		}
	case EntCases:
		if changed("status") {
			st, _ := vals["status"].(string)
			switch d.schema.CaseStatusKind(st) {
			case "resolved":
				extra["resolved_at"] = ms(now)
				extra["closed_at"] = int64(0) // taken back from closed
			case "closed":
				if old == nil || old["resolved_at"] == nil || old["resolved_at"].(time.Time).IsZero() {
					extra["resolved_at"] = ms(now)
				}
				extra["closed_at"] = ms(now)
			default:
				extra["resolved_at"] = int64(0)
				extra["closed_at"] = int64(0)
			}
		}
	case EntTasks:
		if changed("status") {
			if vals["status"] == "done" {
				extra["completed_at"] = ms(now)
			} else {
				extra["completed_at"] = int64(0)
			}
		}
	}
}

// inheritLinks fills an activity's or task's account from its contact,
// opportunity or case, so the account's timeline shows everything.
func (s *Store) inheritLinks(ctx context.Context, q querier, d *EntityDef, vals map[string]any) error {
	if d.Entity != EntActivities && d.Entity != EntTasks {
		return nil
	}
	if id, _ := vals["account_id"].(int64); id != 0 {
		return nil
	}
	for _, src := range []struct{ key, table string }{{"contact_id", "contacts"}, {"opportunity_id", "opportunities"}, {"case_id", "cases"}} {
		id, _ := vals[src.key].(int64)
		if id == 0 {
			continue
		}
		var acc sql.NullInt64
		if err := q.QueryRowContext(ctx, "SELECT account_id FROM "+src.table+" WHERE id = ?", id).Scan(&acc); err != nil && err != sql.ErrNoRows {
			return err
		}
		if acc.Int64 != 0 {
			vals["account_id"] = acc.Int64
			return nil
		}
	}
	return nil
}

// CreateRecord validates and stores a new record in one transaction, with
// its tags, search entry and (for opportunities) first stage history.
func (s *Store) CreateRecord(ctx context.Context, a *Actor, e Entity, in Input) (*Record, error) {
	d := s.def(e)
	if d == nil {
		return nil, errNotFound()
	}
	if !a.Can(e, ActCreate) {
		return nil, errForbidden()
	}
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.createRecord(ctx, tx, a, d, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FindRecord(ctx, a, e, id)
}

// createRecord is CreateRecord inside the caller's transaction, for lead
// conversion and imports.
func (s *Store) createRecord(ctx context.Context, tx *sql.Tx, a *Actor, d *EntityDef, in Input) (int64, error) {
	now := s.now()
	row, err := s.prepareCreate(ctx, tx, a, d, in, now, nil)
	if err != nil {
		return 0, err
	}
	res, err := execTx(ctx, tx, row.sql, row.args...)
	if err != nil {
		return 0, err
	}
	id, _ := res.LastInsertId()
	if err := s.afterCreate(ctx, tx, a, d, id, in, row, nil); err != nil {
		return 0, err
	}
	if err := s.recordChanged(ctx, tx, &recordEvent{
		Actor: a, Def: d, ID: id, Created: true, New: row.vals, NewCustom: row.custom,
		Changed: map[string]bool{}, Owner: row.owner, At: row.created,
	}); err != nil {
		return 0, err
	}
	if d.Searchable {
		if pending, ok := ctx.Value(deferredIndexKey{}).(*deferredIndex); ok {
			// A batch indexes its new records in one statement at its end.
			pending.add(d, id)
		} else if err := s.indexNewRecord(ctx, tx, d, id); err != nil {
			return 0, err
		}
	}
	if quietAudit(ctx) {
		return id, nil
	}
	return id, s.audit(ctx, tx, a, "create", string(d.Entity), id, nil)
}

// insertRow is a validated new record, ready to insert. Its column order
// is the same for every record of a type, so bulk loads reuse one prepared
// statement.
type insertRow struct {
	sql     string
	args    []any
	vals    map[string]any
	custom  map[string]any
	owner   int64
	created time.Time
}

// prepareCreate validates an input for a new record and builds its INSERT.
func (s *Store) prepareCreate(ctx context.Context, q querier, a *Actor, d *EntityDef, in Input, now time.Time, c *loadCache) (*insertRow, error) {
	fe := fieldErrors{}
	vals := s.defaults(ctx, q, d, c)
	explicit := map[string]bool{}
	for k := range in.Values {
		explicit[k] = true
	}
	ownerSet, owner := d.applyInput(in.Values, vals, fe)
	if d.Entity == EntOpportunities && !explicit["stage"] && vals["pipeline"] != DefaultPipeline {
		// A new opportunity in another pipeline starts at its first stage.
		pl, _ := vals["pipeline"].(string)
		if first := d.schema.ActiveOptions(StageList(pl)); len(first) > 0 {
			vals["stage"] = first[0].Key
		}
	}
	custom, _, err := s.customStep(ctx, q, a, d, 0, nil, in.Custom, true, fe)
	if err != nil {
		return nil, err
	}
	if d.Entity == EntCases && (!ownerSet || owner == 0) {
		// A round-robin queue gives the case to its next member.
		queue, _ := vals["queue"].(string)
		if owner, err = s.queueAssignee(ctx, q, a, queue); err != nil {
			return nil, err
		}
		ownerSet = owner != 0
	}
	if !ownerSet || owner == 0 {
		owner = a.UserID
	}
	if d.Entity == EntLeads && vals["status"] == "converted" {
		fe.add("status", "error.convert_instead")
	}
	d.validateRecord(vals, custom, nil, fe)
	if err := s.checkLinksCached(ctx, q, a, d, vals, fe, c); err != nil {
		return nil, err
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	if owner == 0 {
		return nil, errInvalid(map[string]string{d.OwnerKey: "error.required"})
	}
	okOwners, _ := ctx.Value(ownerCacheKey{}).(map[ownerCheck]bool)
	if (c == nil || !c.owners[owner]) && !okOwners[ownerCheck{d.Entity, owner}] {
		if err := s.checkOwner(ctx, q, a, d.Entity, ActCreate, owner); err != nil {
			return nil, err
		}
		if c != nil && a.System {
			c.owners[owner] = true
		}
		if okOwners != nil {
			okOwners[ownerCheck{d.Entity, owner}] = true
		}
	}
	if err := s.inheritLinks(ctx, q, d, vals); err != nil {
		return nil, err
	}
	created := now
	if !in.CreatedAt.IsZero() {
		if !a.Has(CapImport) && !a.System {
			return nil, errInvalid(map[string]string{"created_at": "error.read_only"})
		}
		created = in.CreatedAt
	}
	extra := map[string]any{}
	s.lifecycle(d, nil, vals, explicit, created, extra)
	if d.Entity == EntCases {
		if err := s.applySLA(ctx, q, nil, vals, created); err != nil {
			return nil, err
		}
	}
	cols := []string{"owner_id", "custom", "created_by", "updated_by", "created_at", "updated_at"}
	updated := now
	if created.After(now) {
		updated = created
	}
	args := []any{owner, customJSON(custom), a.auditUser(), a.auditUser(), ms(created), ms(updated)}
	for _, f := range d.Fields {
		cols = append(cols, f.column())
		if v, ok := extra[f.Key]; ok {
			args = append(args, v)
		} else {
			args = append(args, toDB(f, vals[f.Key]))
		}
	}
	der := d.derived(vals)
	for _, k := range sortedKeys(der) {
		cols = append(cols, k)
		args = append(args, der[k])
	}
	for _, k := range sortedKeys(extra) {
		if _, isField := d.Field(k); isField {
			continue
		}
		cols = append(cols, k)
		args = append(args, extra[k])
	}
	return &insertRow{
		sql:  "INSERT INTO " + d.Table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")",
		args: args, vals: vals, custom: custom, owner: owner, created: created,
	}, nil
}

// afterCreate writes what belongs to a new record besides its row: the
// first stage history entries, contact roles and tags.
func (s *Store) afterCreate(ctx context.Context, tx *sql.Tx, a *Actor, d *EntityDef, id int64, in Input, row *insertRow, tagIDs map[string]int64) error {
	if d.Entity == EntOpportunities {
		if len(in.StageHistory) == 0 {
			in.StageHistory = []StageChange{{Stage: row.vals["stage"].(string), At: row.created}}
		}
		prev := ""
		for _, sc := range in.StageHistory {
			if _, err := tx.ExecContext(ctx, `INSERT INTO stage_history (opportunity_id, from_stage, to_stage, at, user_id) VALUES (?, ?, ?, ?, ?)`, id, prev, sc.Stage, ms(sc.At), a.auditUser()); err != nil {
				return err
			}
			prev = sc.Stage
		}
		if in.ContactRoles != nil {
			if err := s.setContactRoles(ctx, tx, a, id, *in.ContactRoles); err != nil {
				return err
			}
		}
	}
	if d.Tagged && in.Tags != nil {
		if tagIDs == nil {
			_, err := s.setTags(ctx, tx, d.Entity, id, *in.Tags)
			return err
		}
		for _, t := range normTags(*in.Tags) {
			if k := validTag(t); k != "" {
				return errInvalid(map[string]string{"tags": k})
			}
			tid, ok := tagIDs[strings.ToLower(t)]
			if !ok {
				var err error
				if tid, err = s.tagID(ctx, tx, t); err != nil {
					return err
				}
				tagIDs[strings.ToLower(t)] = tid
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO record_tags (entity, record_id, tag_id) VALUES (?, ?, ?)`, string(d.Entity), id, tid); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// UpdateRecord applies a partial change: only keys present in the input
// change. Each changed field is kept in the field history (old → new, who,
// when); a stage change is also kept in the stage history.
func (s *Store) UpdateRecord(ctx context.Context, a *Actor, e Entity, id int64, in Input) (*Record, error) {
	d := s.def(e)
	if d == nil {
		return nil, errNotFound()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.updateRecord(ctx, tx, a, d, id, in)
	})
	if err != nil {
		return nil, err
	}
	return s.FindRecord(ctx, a, e, id)
}

func (s *Store) updateRecord(ctx context.Context, tx *sql.Tx, a *Actor, d *EntityDef, id int64, in Input) error {
	if !a.Can(d.Entity, ActEdit) {
		return errForbidden()
	}
	cur, err := s.loadRecord(ctx, tx, a, d, id, false)
	if err != nil {
		return err
	}
	if err := a.checkRecord(d.Entity, ActEdit, cur.OwnerID, cur.ownerTeam); err != nil {
		return err
	}
	if in.Version != 0 && in.Version != cur.Version {
		return &Error{Code: CodeConflict, Key: "error.changed_since"}
	}
	fe := fieldErrors{}
	vals := make(map[string]any, len(cur.Values))
	for k, v := range cur.Values {
		vals[k] = v
	}
	explicit := map[string]bool{}
	for k := range in.Values {
		explicit[k] = true
	}
	ownerSet, owner := d.applyInput(in.Values, vals, fe)
	base := make(map[string]any, len(cur.Custom)+len(cur.retained))
	for k, v := range cur.retained {
		base[k] = v
	}
	for k, v := range cur.Custom {
		base[k] = v
	}
	custom, customChanged, err := s.customStep(ctx, tx, a, d, id, base, in.Custom, false, fe)
	if err != nil {
		return err
	}
	if !in.CreatedAt.IsZero() {
		fe.add("created_at", "error.read_only")
	}
	if d.Entity == EntLeads && vals["status"] == "converted" && cur.Str("status") != "converted" {
		fe.add("status", "error.convert_instead")
	}
	if d.Entity == EntLeads && cur.Str("status") == "converted" && vals["status"] != "converted" {
		// Conversion is final: leaving it would let the lead be converted twice.
		fe.add("status", "error.already_converted")
	}
	changed := map[string]bool{}
	for _, f := range d.Fields {
		if !equalValues(cur.Values[f.Key], vals[f.Key]) {
			changed[f.Key] = true
		}
	}
	d.validateRecord(vals, custom, explicit, fe)
	if err := s.checkLinks(ctx, tx, a, d, vals, changed, fe); err != nil {
		return err
	}
	if ownerSet && owner != cur.OwnerID {
		if owner == 0 {
			fe.add(d.OwnerKey, "error.required")
		} else if a.Permissions.Scope(d.Entity, ActEdit) == ScopeOwn && !a.System {
			fe.add(d.OwnerKey, "error.read_only")
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	if ownerSet && owner != cur.OwnerID {
		if err := s.checkOwner(ctx, tx, a, d.Entity, ActEdit, owner); err != nil {
			return err
		}
		changed[d.OwnerKey] = true
	} else {
		owner = cur.OwnerID
	}
	if err := s.inheritLinks(ctx, tx, d, vals); err != nil {
		return err
	}
	now := s.now()
	extra := map[string]any{}
	s.lifecycle(d, cur.Values, vals, explicit, now, extra)
	if d.Entity == EntCases {
		if err := s.applySLA(ctx, tx, cur.Values, vals, cur.CreatedAt); err != nil {
			return err
		}
	}
	for _, f := range d.Fields {
		if !equalValues(cur.Values[f.Key], vals[f.Key]) {
			changed[f.Key] = true
		}
	}
	tagsChanged := false
	if d.Tagged && in.Tags != nil {
		if tagsChanged, err = s.setTags(ctx, tx, d.Entity, id, *in.Tags); err != nil {
			return err
		}
		if tagsChanged {
			if err := s.history(ctx, tx, a, d.Entity, id, "tags", strings.Join(cur.Tags, ", "), strings.Join(normTags(*in.Tags), ", "), now); err != nil {
				return err
			}
		}
	}
	rolesChanged := false
	if d.Entity == EntOpportunities && in.ContactRoles != nil {
		if err := s.setContactRoles(ctx, tx, a, id, *in.ContactRoles); err != nil {
			return err
		}
		rolesChanged = true
	}
	if len(changed) == 0 && !tagsChanged && !rolesChanged && len(customChanged) == 0 {
		return nil
	}
	sets := []string{"updated_at = ?", "updated_by = ?", "version = version + 1"}
	args := []any{ms(now), a.auditUser()}
	if len(customChanged) > 0 {
		sets = append(sets, "custom = ?")
		args = append(args, customJSON(custom))
		for _, k := range customChanged {
			if err := s.history(ctx, tx, a, d.Entity, id, "custom."+k, displayCustom(cur.Custom[k]), displayCustom(custom[k]), now); err != nil {
				return err
			}
		}
	}
	if changed[d.OwnerKey] {
		sets = append(sets, "owner_id = ?")
		args = append(args, owner)
		if err := s.history(ctx, tx, a, d.Entity, id, d.OwnerKey, itoa64(cur.OwnerID), itoa64(owner), now); err != nil {
			return err
		}
	}
	for _, f := range d.Fields {
		if !changed[f.Key] {
			continue
		}
		if _, isExtra := extra[f.Key]; !isExtra {
			sets = append(sets, f.column()+" = ?")
			args = append(args, toDB(f, vals[f.Key]))
		}
		if err := s.history(ctx, tx, a, d.Entity, id, f.Key, display(f, cur.Values[f.Key]), display(f, vals[f.Key]), now); err != nil {
			return err
		}
	}
	for k, v := range d.derived(vals) {
		sets = append(sets, k+" = ?")
		args = append(args, v)
	}
	for k, v := range extra {
		sets = append(sets, k+" = ?")
		args = append(args, v)
	}
	args = append(args, id)
	if _, err := tx.ExecContext(ctx, "UPDATE "+d.Table+" SET "+strings.Join(sets, ", ")+" WHERE id = ?", args...); err != nil {
		return err
	}
	if d.Entity == EntOpportunities && changed["stage"] {
		if _, err := tx.ExecContext(ctx, `INSERT INTO stage_history (opportunity_id, from_stage, to_stage, at, user_id) VALUES (?, ?, ?, ?, ?)`, id, cur.Str("stage"), vals["stage"], ms(now), a.auditUser()); err != nil {
			return err
		}
	}
	if d.Searchable {
		if err := s.indexRecord(ctx, tx, d, id); err != nil {
			return err
		}
	}
	ev := &recordEvent{
		Actor: a, Def: d, ID: id, Old: cur.Values, New: vals, OldCustom: cur.Custom, NewCustom: custom,
		Changed: changed, OldOwner: cur.OwnerID, Owner: owner, At: now,
	}
	for _, k := range customChanged {
		changed["custom."+k] = true
	}
	if tagsChanged {
		changed["tags"] = true
	}
	if err := s.recordChanged(ctx, tx, ev); err != nil {
		return err
	}
	if d.Entity == EntAccounts && changed["name"] {
		if err := s.reindexWhere(ctx, tx, EntContacts, "account_id = ?", id); err != nil {
			return err
		}
		if err := s.reindexWhere(ctx, tx, EntOpportunities, "account_id = ?", id); err != nil {
			return err
		}
		if err := s.reindexWhere(ctx, tx, EntCases, "account_id = ?", id); err != nil {
			return err
		}
	}
	return nil
}

func itoa64(v int64) string {
	if v == 0 {
		return ""
	}
	return display(Field{Kind: KNumber}, v)
}

// history records one field change.
func (s *Store) history(ctx context.Context, tx *sql.Tx, a *Actor, e Entity, id int64, field, old, new string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO field_history (entity, record_id, field, old_value, new_value, user_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(e), id, field, old, new, a.auditUser(), ms(at))
	return err
}

// setContactRoles replaces an opportunity's contact roles; each contact
// must be one the actor may view, and each role a known option.
func (s *Store) setContactRoles(ctx context.Context, tx *sql.Tx, a *Actor, oppID int64, roles []ContactRole) error {
	fe := fieldErrors{}
	seen := map[int64]bool{}
	cond, args := a.scopeSQL(EntContacts, ActView, "c.owner_id")
	for _, cr := range roles {
		if _, ok := s.Schema().Option("contact_role", cr.Role); !ok {
			fe.add("contact_roles", "error.option")
			continue
		}
		if seen[cr.ContactID] {
			fe.add("contact_roles", "error.duplicate_contact")
			continue
		}
		seen[cr.ContactID] = true
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM contacts c WHERE c.id = ? AND c.deleted_at = 0 AND "+cond, append([]any{cr.ContactID}, args...)...).Scan(&one); err == sql.ErrNoRows {
			fe.add("contact_roles", "error.unknown_record")
		} else if err != nil {
			return err
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM opportunity_contacts WHERE opportunity_id = ?`, oppID); err != nil {
		return err
	}
	for _, cr := range roles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO opportunity_contacts (opportunity_id, contact_id, role) VALUES (?, ?, ?)`, oppID, cr.ContactID, cr.Role); err != nil {
			return err
		}
	}
	return nil
}

// DeleteRecord moves a record to the trash; linked records keep their
// links and everything comes back on restore.
func (s *Store) DeleteRecord(ctx context.Context, a *Actor, e Entity, id int64) error {
	d := s.def(e)
	if d == nil {
		return errNotFound()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		return s.deleteRecord(ctx, tx, a, d, id)
	})
}

func (s *Store) deleteRecord(ctx context.Context, tx *sql.Tx, a *Actor, d *EntityDef, id int64) error {
	if !a.Can(d.Entity, ActDelete) {
		return errForbidden()
	}
	cur, err := s.loadRecord(ctx, tx, a, d, id, false)
	if err != nil {
		return err
	}
	if err := a.checkRecord(d.Entity, ActDelete, cur.OwnerID, cur.ownerTeam); err != nil {
		return err
	}
	now := s.nowMS()
	if _, err := tx.ExecContext(ctx, "UPDATE "+d.Table+" SET deleted_at = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ?", now, now, a.auditUser(), id); err != nil {
		return err
	}
	if d.Searchable {
		if err := s.unindexRecord(ctx, tx, d, id); err != nil {
			return err
		}
	}
	if err := s.webhookDeleted(ctx, tx, d, id); err != nil {
		return err
	}
	return s.audit(ctx, tx, a, "delete", string(d.Entity), id, map[string]any{"title": cur.Title})
}

// RestoreRecord brings a record back from the trash; it needs the delete
// permission over the record.
func (s *Store) RestoreRecord(ctx context.Context, a *Actor, e Entity, id int64) error {
	d := s.def(e)
	if d == nil {
		return errNotFound()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		cur, err := s.loadRecord(ctx, tx, a, d, id, true)
		if err != nil {
			return err
		}
		if err := a.checkRecord(d.Entity, ActDelete, cur.OwnerID, cur.ownerTeam); err != nil {
			return err
		}
		now := s.nowMS()
		if _, err := tx.ExecContext(ctx, "UPDATE "+d.Table+" SET deleted_at = 0, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ?", now, a.auditUser(), id); err != nil {
			return err
		}
		if d.Searchable {
			if err := s.indexRecord(ctx, tx, d, id); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "restore", string(d.Entity), id, nil)
	})
}

// PurgeRecord deletes a trashed record for good (emptying the trash); it is
// for administrators. Links to it from other records become empty.
func (s *Store) PurgeRecord(ctx context.Context, a *Actor, e Entity, id int64) error {
	d := s.def(e)
	if d == nil {
		return errNotFound()
	}
	if err := a.require(CapSettings); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		cur, err := s.loadRecord(ctx, tx, a, d, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM record_tags WHERE entity = ? AND record_id = ?`, string(d.Entity), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+d.Table+" WHERE id = ?", id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "purge", string(d.Entity), id, map[string]any{"title": cur.Title})
	})
}
