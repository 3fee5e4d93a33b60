package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Record is one account, contact, lead, opportunity, activity, task or
// case. Values holds the standard fields by key with the Go types coerce
// documents; Refs holds the display title of each linked record the actor
// may see.
type Record struct {
	Entity       Entity
	ID           int64
	OwnerID      int64
	OwnerName    string
	ownerTeam    int64
	Values       map[string]any
	Refs         map[string]string
	Tags         []string
	Custom       map[string]any
	retained     map[string]any // values of removed custom fields
	ContactRoles []ContactRole
	// ExternalIDs maps a system ("erp", "shop") to the record's id there;
	// nil for record types that carry none (see store/external_ids.go).
	ExternalIDs map[string]string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   time.Time
	Version     int64
	Title       string
}

// ContactRole is a contact's part in an opportunity.
type ContactRole struct {
	ContactID   int64  `json:"contact_id,string"`
	Role        string `json:"role"`
	ContactName string `json:"-"`
}

// Str returns a text value ("" when absent).
func (r *Record) Str(key string) string { s, _ := r.Values[key].(string); return s }

// Int returns an integer or link value (0 when absent).
func (r *Record) Int(key string) int64 { n, _ := r.Values[key].(int64); return n }

// Float returns a money value.
func (r *Record) Float(key string) float64 { n, _ := r.Values[key].(float64); return n }

// Time returns a date-time value (zero when absent).
func (r *Record) Time(key string) time.Time { t, _ := r.Values[key].(time.Time); return t }

// Input is what a create or update carries. Values are raw (form strings
// or decoded JSON); only keys present are applied on update.
type Input struct {
	Values map[string]any
	// Tags, when not nil, replaces the record's tags.
	Tags *[]string
	// Custom holds custom field values by key.
	Custom map[string]any
	// ContactRoles, when not nil, replaces an opportunity's contact roles.
	ContactRoles *[]ContactRole
	// CreatedAt may be set by administrators when migrating data.
	CreatedAt time.Time
	// Version, when not zero, must match the stored version (optimistic
	// concurrency: a record changed since it was loaded is not overwritten).
	Version int64
	// StageHistory, on creating an opportunity migrated from elsewhere,
	// gives its past stage changes (oldest first); default: its stage now.
	StageHistory []StageChange
}

// StageChange is one step of an opportunity's way through the pipeline.
type StageChange struct {
	Stage string
	At    time.Time
}

func (d *EntityDef) selectSQL() string {
	var b strings.Builder
	b.WriteString(`SELECT t.id, t.owner_id, COALESCE(u.name, ''), COALESCE(u.team_id, 0), t.created_at, t.updated_at, t.deleted_at, t.version, t.custom`)
	for _, f := range d.Fields {
		b.WriteString(", t.")
		b.WriteString(f.column())
	}
	b.WriteString(" FROM ")
	b.WriteString(d.Table)
	b.WriteString(" t LEFT JOIN users u ON u.id = t.owner_id")
	return b.String()
}

func (d *EntityDef) scan(sc interface{ Scan(...any) error }) (*Record, error) {
	return d.newScanner().scan(sc)
}

// recordScanner scans rows of d.selectSQL into records, reusing its
// destinations from row to row: a list or an export of a million rows then
// allocates little more than the records themselves. Fields are scanned
// into interface values so a text or integer column keeps the value the
// driver already boxed instead of being copied and boxed again.
type recordScanner struct {
	d                 *EntityDef
	ownerName, custom string
	id, owner, team   int64
	ca, ua, da, ver   int64
	vals              []any
	dest              []any
}

// newScanner makes a scanner for one query's rows; it is not safe for
// concurrent use.
func (d *EntityDef) newScanner() *recordScanner {
	rs := &recordScanner{d: d, vals: make([]any, len(d.Fields))}
	rs.dest = append(make([]any, 0, 9+len(d.Fields)), &rs.id, &rs.owner, &rs.ownerName, &rs.team, &rs.ca, &rs.ua, &rs.da, &rs.ver, &rs.custom)
	for i := range rs.vals {
		rs.dest = append(rs.dest, &rs.vals[i])
	}
	return rs
}

// scan reads one row into a new record.
func (rs *recordScanner) scan(sc interface{ Scan(...any) error }) (*Record, error) {
	d := rs.d
	clear(rs.vals)
	if err := sc.Scan(rs.dest...); err != nil {
		return nil, err
	}
	r := &Record{Entity: d.Entity, ID: rs.id, OwnerID: rs.owner, OwnerName: rs.ownerName, ownerTeam: rs.team, Version: rs.ver,
		Values: make(map[string]any, len(d.Fields)), Refs: map[string]string{}}
	for i, f := range d.Fields {
		v := rs.vals[i]
		switch f.Kind {
		case KRef, KNumber:
			if _, ok := v.(int64); ok {
				r.Values[f.Key] = v // already boxed by the driver
			} else {
				r.Values[f.Key] = scannedInt(v)
			}
		case KMoney:
			r.Values[f.Key] = float64(scannedInt(v)) / 100
		case KDateTime:
			r.Values[f.Key] = fromMS(scannedInt(v))
		case KBool:
			r.Values[f.Key] = scannedInt(v) != 0
		default:
			switch t := v.(type) {
			case string:
				r.Values[f.Key] = v // already boxed by the driver
			case []byte:
				r.Values[f.Key] = string(t)
			case nil:
				r.Values[f.Key] = ""
			default:
				r.Values[f.Key] = fmt.Sprint(t)
			}
		}
	}
	r.CreatedAt, r.UpdatedAt, r.DeletedAt = fromMS(rs.ca), fromMS(rs.ua), fromMS(rs.da)
	r.Custom, r.retained = rs.customValues()
	r.Title = d.title(r.Values)
	return r, nil
}

// customValues decodes the row's custom-field document; values of
// removed fields are kept apart, out of sight, until purged.
func (rs *recordScanner) customValues() (custom, retained map[string]any) {
	custom = map[string]any{}
	if doc := rs.custom; doc != "" && doc != "{}" {
		json.Unmarshal([]byte(doc), &custom)
		for k, v := range custom {
			if c, ok := rs.d.CustomField(k); ok {
				custom[k] = customFromJSON(c, v)
				continue
			}
			if retained == nil {
				retained = map[string]any{}
			}
			retained[k] = v
			delete(custom, k)
		}
	}
	return custom, retained
}

// scannedInt is an integer column's value as scanned into an interface:
// NULL is 0, a whole REAL is truncated, text is parsed.
func scannedInt(v any) int64 {
	switch t := v.(type) {
	case int64:
		return t
	case float64:
		return int64(t)
	case bool:
		if t {
			return 1
		}
	case string:
		n, _ := strconv.ParseInt(t, 10, 64)
		return n
	case []byte:
		n, _ := strconv.ParseInt(string(t), 10, 64)
		return n
	}
	return 0
}

// title joins the title fields; a contact without a name shows its e-mail.
func (d *EntityDef) title(v map[string]any) string {
	var parts []string
	for _, k := range d.TitleKeys {
		if s, _ := v[k].(string); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		if s, _ := v["email"].(string); s != "" {
			return s
		}
		if s, _ := v["company"].(string); s != "" {
			return s
		}
	}
	return strings.Join(parts, " ")
}

// titleSQL is the SQL expression of a record's display title.
func titleSQL(e Entity, alias string) string {
	switch e {
	case EntContacts, EntLeads:
		return "TRIM(" + alias + ".first_name || ' ' || " + alias + ".last_name)"
	case EntAccounts, EntOpportunities:
		return alias + ".name"
	case EntActivities, EntCases:
		return alias + ".subject"
	case EntTasks:
		return alias + ".title"
	case EntUsers:
		return alias + ".name"
	}
	return "''"
}

// loadRecord reads one live record the actor may view; anything else is
// not_found, so existence never leaks.
func (s *Store) loadRecord(ctx context.Context, q querier, a *Actor, d *EntityDef, id int64, trash bool) (*Record, error) {
	cond, args := a.scopeSQL(d.Entity, ActView, "t.owner_id")
	del := "t.deleted_at = 0"
	if trash {
		del = "t.deleted_at <> 0"
	}
	r, err := d.scan(q.QueryRowContext(ctx, d.selectSQL()+" WHERE t.id = ? AND "+del+" AND "+cond, append([]any{id}, args...)...))
	if err != nil {
		return nil, wrapErr(err)
	}
	if err := s.decorate(ctx, q, a, d, []*Record{r}); err != nil {
		return nil, err
	}
	return r, nil
}

// decorate fills link titles (only of records the actor may view), tags and
// contact roles for a page of records in a few queries.
func (s *Store) decorate(ctx context.Context, q querier, a *Actor, d *EntityDef, recs []*Record) error {
	if len(recs) == 0 {
		return nil
	}
	// Link titles, batched per target entity.
	byTarget := map[Entity]map[int64]bool{}
	for _, r := range recs {
		for _, f := range d.Fields {
			if f.Kind == KRef {
				if id := r.Int(f.Key); id != 0 {
					if byTarget[f.Ref] == nil {
						byTarget[f.Ref] = map[int64]bool{}
					}
					byTarget[f.Ref][id] = true
				}
			}
		}
	}
	titles := map[Entity]map[int64]string{}
	for target, ids := range byTarget {
		td := s.def(target)
		if td == nil {
			continue
		}
		cond, args := a.scopeSQL(target, ActView, "x.owner_id")
		ph, idArgs := inList(ids)
		rows, err := q.QueryContext(ctx, "SELECT x.id, "+titleSQL(target, "x")+" FROM "+td.Table+" x WHERE x.id IN ("+ph+") AND x.deleted_at = 0 AND "+cond, append(idArgs, args...)...)
		if err != nil {
			return err
		}
		titles[target] = map[int64]string{}
		for rows.Next() {
			var id int64
			var t string
			if err := rows.Scan(&id, &t); err != nil {
				rows.Close()
				return err
			}
			titles[target][id] = t
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, r := range recs {
		for _, f := range d.Fields {
			if f.Kind == KRef {
				if id := r.Int(f.Key); id != 0 {
					if t, ok := titles[f.Ref][id]; ok {
						r.Refs[f.Key] = t
					}
				}
			}
		}
	}
	ids := map[int64]bool{}
	byID := map[int64]*Record{}
	for _, r := range recs {
		ids[r.ID] = true
		byID[r.ID] = r
	}
	ph, idArgs := inList(ids)
	if err := decorateExternalIDs(ctx, q, d, byID, ph, idArgs); err != nil {
		return err
	}
	if d.Tagged {
		rows, err := q.QueryContext(ctx, `SELECT rt.record_id, t.name FROM record_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.entity = ? AND rt.record_id IN (`+ph+`) ORDER BY t.name_key`, append([]any{string(d.Entity)}, idArgs...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return err
			}
			byID[id].Tags = append(byID[id].Tags, name)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range recs {
			if r.Tags == nil {
				r.Tags = []string{}
			}
		}
	}
	if d.Entity == EntOpportunities {
		cond, args := a.scopeSQL(EntContacts, ActView, "c.owner_id")
		rows, err := q.QueryContext(ctx, `SELECT oc.opportunity_id, oc.contact_id, oc.role, CASE WHEN `+cond+` THEN TRIM(c.first_name || ' ' || c.last_name) ELSE '' END
			FROM opportunity_contacts oc JOIN contacts c ON c.id = oc.contact_id WHERE oc.opportunity_id IN (`+ph+`) ORDER BY oc.opportunity_id, oc.contact_id`, append(args, idArgs...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var oid int64
			var cr ContactRole
			if err := rows.Scan(&oid, &cr.ContactID, &cr.Role, &cr.ContactName); err != nil {
				rows.Close()
				return err
			}
			byID[oid].ContactRoles = append(byID[oid].ContactRoles, cr)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range recs {
			if r.ContactRoles == nil {
				r.ContactRoles = []ContactRole{}
			}
		}
	}
	return nil
}

// inList makes "?,?,?" and its arguments for a set of ids.
//
// The ids travel as one JSON array read by json_each, so a page of a
// thousand records is one short statement with one argument rather than a
// thousand placeholders to parse and bind.
func inList(ids map[int64]bool) (string, []any) {
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '[')
	first := true
	for id := range ids {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, ']')
	return "SELECT value FROM json_each(?)", []any{string(b)}
}

// FindRecord returns one record the actor may view.
func (s *Store) FindRecord(ctx context.Context, a *Actor, e Entity, id int64) (*Record, error) {
	d := s.def(e)
	if d == nil {
		return nil, errNotFound()
	}
	if !a.Can(e, ActView) {
		return nil, errForbidden()
	}
	var r *Record
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = s.loadRecord(ctx, tx, a, d, id, false)
		return err
	})
	return r, err
}

// SetCustom sets one custom value of an input, creating the map.
func (in *Input) SetCustom(key string, v any) {
	if in.Custom == nil {
		in.Custom = map[string]any{}
	}
	in.Custom[key] = v
}
