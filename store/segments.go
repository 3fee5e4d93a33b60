package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds segments: saved dynamic filters over contacts or leads
// (compiled to SQL under the viewer's scope) and static lists of records
// added by hand.

// The kinds of segment.
const (
	SegmentDynamic = "dynamic"
	SegmentStatic  = "static"
)

// SegmentEntities are the record types a segment can gather.
var SegmentEntities = []Entity{EntContacts, EntLeads}

// Segment is a named audience: a dynamic filter evaluated live, or a
// static list of chosen records.
type Segment struct {
	ID         int64              `json:"id,string"`
	Name       string             `json:"name"`
	Entity     Entity             `json:"entity"`
	Kind       string             `json:"kind"`
	Conditions []SegmentCondition `json:"conditions"`
	OwnerID    int64              `json:"owner_id,string"`
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
}

// SegmentCondition is one rule of a dynamic segment; all of a segment's
// conditions must hold. Field is a field key, "custom.KEY", "tag",
// "account.KEY" (contacts), "no_activity_days" or "won_deal_days".
type SegmentCondition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value string `json:"value"`
}

// SegmentOps lists the condition operators, for editors.
var SegmentOps = []string{"eq", "neq", "contains", "empty", "not_empty", "gt", "lt", "has", "not_has"}

// SegmentAccountFields are the account facts a contact segment may test.
var SegmentAccountFields = []string{"type", "sector", "origin", "customer_type", "potential", "city", "region", "country"}

// maxSegmentConditions bounds a segment's rules.
const maxSegmentConditions = 20

// segmentSQL compiles a segment to a WHERE clause over its table (alias
// t): the viewer's scope, live records, then each condition, every value
// a parameter and every column allow-listed.
func (s *Store) segmentSQL(a *Actor, g *Segment) (string, []any, error) {
	d := s.def(g.Entity)
	if d == nil || !slices.Contains(SegmentEntities, g.Entity) {
		return "", nil, errInvalid(map[string]string{"entity": "error.option"})
	}
	cond, args := a.scopeSQL(g.Entity, ActView, "t.owner_id")
	w := []string{cond, "t.deleted_at = 0"}
	if g.Kind == SegmentStatic {
		w = append(w, "t.id IN (SELECT m.record_id FROM segment_members m WHERE m.segment_id = ?)")
		args = append(args, g.ID)
		return strings.Join(w, " AND "), args, nil
	}
	fe := fieldErrors{}
	now := s.now()
	for i, c := range g.Conditions {
		name := "conditions." + strconv.Itoa(i)
		sqlc, cargs, k := s.conditionSQL(d, c, now)
		if k != "" {
			fe.add(name, k)
			continue
		}
		w = append(w, sqlc)
		args = append(args, cargs...)
	}
	if err := fe.err(); err != nil {
		return "", nil, err
	}
	return strings.Join(w, " AND "), args, nil
}

// days parses a positive whole number of days.
func days(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil && n > 0 && n <= 36500
}

// conditionSQL compiles one condition, or returns the i18n key of what is
// wrong with it.
func (s *Store) conditionSQL(d *EntityDef, c SegmentCondition, now time.Time) (string, []any, string) {
	link := "contact_id"
	if d.Entity == EntLeads {
		link = "lead_id"
	}
	switch {
	case c.Field == "tag":
		tag := strings.TrimSpace(c.Value)
		if tag == "" {
			return "", nil, "error.required"
		}
		sub := "t.id IN (SELECT rt.record_id FROM record_tags rt WHERE rt.entity = ? AND rt.tag_id = (SELECT tg.id FROM tags tg WHERE tg.name = ?))"
		switch c.Op {
		case "has", "eq":
			return sub, []any{string(d.Entity), tag}, ""
		case "not_has", "neq":
			return "NOT " + sub, []any{string(d.Entity), tag}, ""
		}
		return "", nil, "segments.error.op"
	case c.Field == "no_activity_days":
		n, ok := days(c.Value)
		if !ok {
			return "", nil, "error.number"
		}
		return "NOT EXISTS (SELECT 1 FROM activities x WHERE x." + link + " = t.id AND x.occurred_at >= ? AND x.deleted_at = 0)",
			[]any{ms(now.Add(-time.Duration(n) * 24 * time.Hour))}, ""
	case c.Field == "won_deal_days":
		n, ok := days(c.Value)
		if !ok {
			return "", nil, "error.number"
		}
		if d.Entity != EntContacts {
			return "", nil, "error.unknown_field"
		}
		won := s.wonStages()
		if len(won) == 0 {
			return "0=1", nil, ""
		}
		in := "?" + strings.Repeat(", ?", len(won)-1)
		since := ms(now.Add(-time.Duration(n) * 24 * time.Hour))
		var args []any
		for _, w := range won {
			args = append(args, w)
		}
		args = append(args, since)
		args2 := append(slices.Clone(args[:len(won)]), since)
		// A deal won with the contact, or with the contact's company.
		return "(t.id IN (SELECT o.contact_id FROM opportunities o WHERE o.stage IN (" + in + ") AND o.closed_at >= ? AND o.deleted_at = 0 AND o.contact_id IS NOT NULL)" +
				" OR t.account_id IN (SELECT o.account_id FROM opportunities o WHERE o.stage IN (" + in + ") AND o.closed_at >= ? AND o.deleted_at = 0 AND o.account_id IS NOT NULL))",
			append(args, args2...), ""
	case strings.HasPrefix(c.Field, "account."):
		key := strings.TrimPrefix(c.Field, "account.")
		if d.Entity != EntContacts || !slices.Contains(SegmentAccountFields, key) {
			return "", nil, "error.unknown_field"
		}
		af, _ := s.def(EntAccounts).Field(key)
		inner, args, k := fieldCondSQL(af, "a."+af.column(), c)
		if k != "" {
			return "", nil, k
		}
		return "t.account_id IN (SELECT a.id FROM accounts a WHERE a.deleted_at = 0 AND " + inner + ")", args, ""
	case strings.HasPrefix(c.Field, "custom."):
		cf, ok := d.CustomField(strings.TrimPrefix(c.Field, "custom."))
		if !ok {
			return "", nil, "error.unknown_field"
		}
		switch c.Op {
		case "eq":
			return customFilter(cf, c.Value)
		case "neq":
			q, args, k := customFilter(cf, c.Value)
			return "NOT (" + q + ")", args, k
		case "empty":
			return customExpr(cf.Key) + " IS NULL", nil, ""
		case "not_empty":
			return customExpr(cf.Key) + " IS NOT NULL", nil, ""
		}
		return "", nil, "segments.error.op"
	}
	f, ok := d.Field(c.Field)
	if !ok {
		return "", nil, "error.unknown_field"
	}
	return fieldCondSQL(f, "t."+f.column(), c)
}

// wonStages lists the won stage keys of every pipeline.
func (s *Store) wonStages() []string {
	sc := s.Schema()
	var out []string
	for _, p := range sc.Pipelines() {
		for _, o := range sc.Options(StageList(p.Key)) {
			if o.StageKind == "won" && !slices.Contains(out, o.Key) {
				out = append(out, o.Key)
			}
		}
	}
	return out
}

// fieldCondSQL compiles a condition on a standard field's column.
func fieldCondSQL(f Field, col string, c SegmentCondition) (string, []any, string) {
	textual := f.Kind == KText || f.Kind == KLongText || f.Kind == KEmail || f.Kind == KPhone || f.Kind == KURL
	empty := func() string {
		switch f.Kind {
		case KRef:
			return col + " IS NULL"
		case KNumber, KMoney, KDateTime:
			return col + " = 0"
		case KBool:
			return col + " = 0"
		}
		return col + " = ''"
	}
	switch c.Op {
	case "empty":
		return empty(), nil, ""
	case "not_empty":
		return "NOT (" + empty() + ")", nil, ""
	case "contains":
		if !textual {
			return "", nil, "segments.error.op"
		}
		if strings.TrimSpace(c.Value) == "" {
			return "", nil, "error.required"
		}
		return "instr(lower(" + col + "), lower(?)) > 0", []any{strings.TrimSpace(c.Value)}, ""
	case "eq", "neq", "gt", "lt":
	default:
		return "", nil, "segments.error.op"
	}
	v, k := coerce(f, c.Value)
	if k != "" {
		return "", nil, k
	}
	if isZero(v) && (c.Op == "eq" || c.Op == "neq") {
		if c.Op == "eq" {
			return empty(), nil, ""
		}
		return "NOT (" + empty() + ")", nil, ""
	}
	op := map[string]string{"eq": "=", "neq": "<>", "gt": ">", "lt": "<"}[c.Op]
	if (c.Op == "gt" || c.Op == "lt") && !(f.Kind == KNumber || f.Kind == KMoney || f.Kind == KDate || f.Kind == KDateTime) {
		return "", nil, "segments.error.op"
	}
	if textual && (c.Op == "eq" || c.Op == "neq") {
		return col + " " + op + " ? COLLATE NOCASE", []any{toDB(f, v)}, ""
	}
	return col + " " + op + " ?", []any{toDB(f, v)}, ""
}

// validateSegment checks a segment before it is saved.
func (s *Store) validateSegment(a *Actor, g *Segment) error {
	fe := fieldErrors{}
	var k string
	if g.Name, k = cleanText(g.Name, true, 200); k != "" {
		fe.add("name", k)
	}
	if !slices.Contains(SegmentEntities, g.Entity) {
		fe.add("entity", "error.option")
	}
	if g.Kind == "" {
		g.Kind = SegmentDynamic
	}
	if g.Kind != SegmentDynamic && g.Kind != SegmentStatic {
		fe.add("kind", "error.option")
	}
	if len(g.Conditions) > maxSegmentConditions {
		fe.add("conditions", "error.too_long")
	}
	if g.Kind == SegmentStatic {
		g.Conditions = nil
	}
	if err := fe.err(); err != nil {
		return err
	}
	_, _, err := s.segmentSQL(a, g)
	return err
}

const segmentCols = `id, name, entity, kind, conditions, owner_id, created_at, updated_at`

func scanSegment(r rowScanner) (*Segment, error) {
	g := &Segment{}
	var conds string
	var c, u int64
	if err := r.Scan(&g.ID, &g.Name, &g.Entity, &g.Kind, &conds, &g.OwnerID, &c, &u); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMS(c), fromMS(u)
	if err := json.Unmarshal([]byte(conds), &g.Conditions); err != nil {
		return nil, err
	}
	if g.Conditions == nil {
		g.Conditions = []SegmentCondition{}
	}
	return g, nil
}

// loadSegment reads a segment and applies the record rule for act.
func (s *Store) loadSegment(ctx context.Context, q querier, a *Actor, id int64, act Action) (*Segment, error) {
	g, err := scanSegment(q.QueryRowContext(ctx, `SELECT `+segmentCols+` FROM segments WHERE id = ? AND deleted_at = 0`, id))
	if err != nil {
		return nil, wrapErr(err)
	}
	var team int64
	q.QueryRowContext(ctx, `SELECT COALESCE(team_id, 0) FROM users WHERE id = ?`, g.OwnerID).Scan(&team)
	if err := a.checkRecord(EntSegments, act, g.OwnerID, team); err != nil {
		return nil, err
	}
	return g, nil
}

// SaveSegment creates (ID 0) or updates a segment; its owner is the actor
// on create.
func (s *Store) SaveSegment(ctx context.Context, a *Actor, g *Segment) error {
	if g.ID == 0 && !a.Can(EntSegments, ActCreate) {
		return errForbidden()
	}
	if err := s.validateSegment(a, g); err != nil {
		return err
	}
	conds, _ := json.Marshal(g.Conditions)
	if g.Conditions == nil {
		conds = []byte("[]")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		now := s.nowMS()
		if g.ID == 0 {
			res, err := execTx(ctx, tx, `INSERT INTO segments (name, entity, kind, conditions, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				g.Name, string(g.Entity), g.Kind, string(conds), a.UserID, now, now)
			if err != nil {
				return err
			}
			g.ID, _ = res.LastInsertId()
			g.OwnerID = a.UserID
			g.CreatedAt, g.UpdatedAt = fromMS(now), fromMS(now)
			return s.audit(ctx, tx, a, "segment.create", "segments", g.ID, map[string]string{"name": g.Name})
		}
		old, err := s.loadSegment(ctx, tx, a, g.ID, ActEdit)
		if err != nil {
			return err
		}
		if old.Entity != g.Entity || old.Kind != g.Kind {
			return errInvalid(map[string]string{"kind": "segments.error.kind_fixed"})
		}
		if _, err := execTx(ctx, tx, `UPDATE segments SET name = ?, conditions = ?, updated_at = ? WHERE id = ?`, g.Name, string(conds), now, g.ID); err != nil {
			return err
		}
		g.OwnerID, g.CreatedAt, g.UpdatedAt = old.OwnerID, old.CreatedAt, fromMS(now)
		return s.audit(ctx, tx, a, "segment.update", "segments", g.ID, nil)
	})
}

// DeleteSegment removes a segment; one used by a campaign that has not
// finished is kept (conflict).
func (s *Store) DeleteSegment(ctx context.Context, a *Actor, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.loadSegment(ctx, tx, a, id, ActDelete); err != nil {
			return err
		}
		var busy int
		tx.QueryRowContext(ctx, `SELECT count(*) FROM campaigns WHERE segment_id = ? AND status IN ('scheduled', 'sending')`, id).Scan(&busy)
		if busy > 0 {
			return errConflict("segments.error.in_use", nil)
		}
		if _, err := execTx(ctx, tx, `UPDATE segments SET deleted_at = ? WHERE id = ?`, s.nowMS(), id); err != nil {
			return err
		}
		if _, err := execTx(ctx, tx, `DELETE FROM segment_members WHERE segment_id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "segment.delete", "segments", id, nil)
	})
}

// GetSegment returns one segment the actor may view.
func (s *Store) GetSegment(ctx context.Context, a *Actor, id int64) (*Segment, error) {
	var g *Segment
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = s.loadSegment(ctx, tx, a, id, ActView)
		return err
	})
	return g, err
}

// FindSegments lists the segments the actor may view, by name.
func (s *Store) FindSegments(ctx context.Context, a *Actor) ([]*Segment, error) {
	if !a.Can(EntSegments, ActView) {
		return nil, errForbidden()
	}
	cond, args := a.scopeSQL(EntSegments, ActView, "owner_id")
	var out []*Segment
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+segmentCols+` FROM segments WHERE deleted_at = 0 AND `+cond+` ORDER BY name COLLATE NOCASE, id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			g, err := scanSegment(rows)
			if err != nil {
				return err
			}
			out = append(out, g)
		}
		return rows.Err()
	})
	return out, err
}

// CountSegment counts a segment's members among the records the actor may
// view (the live count).
func (s *Store) CountSegment(ctx context.Context, a *Actor, g *Segment) (int64, error) {
	if !a.Can(g.Entity, ActView) {
		return 0, errForbidden()
	}
	where, args, err := s.segmentSQL(a, g)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM `+s.def(g.Entity).Table+` t WHERE `+where, args...).Scan(&n)
	})
	return n, err
}

// SegmentMembers lists a page of a segment's members the actor may view,
// by id; after is a keyset cursor (the last id of the previous page).
func (s *Store) SegmentMembers(ctx context.Context, a *Actor, g *Segment, after int64, limit int) ([]*Record, int64, error) {
	if !a.Can(g.Entity, ActView) {
		return nil, 0, errForbidden()
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	where, args, err := s.segmentSQL(a, g)
	if err != nil {
		return nil, 0, err
	}
	d := s.def(g.Entity)
	var recs []*Record
	var next int64
	err = s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT t.id FROM `+d.Table+` t WHERE `+where+` AND t.id > ? ORDER BY t.id LIMIT ?`, append(args, after, limit+1)...)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > limit {
			ids = ids[:limit]
			next = ids[limit-1]
		}
		recs, err = s.recordsByID(ctx, tx, a, d, ids)
		return err
	})
	return recs, next, err
}

// AddSegmentMembers adds records (that the actor may view) to a static
// list; records already in it, or out of reach, are skipped. It returns how
// many were added.
func (s *Store) AddSegmentMembers(ctx context.Context, a *Actor, segmentID int64, ids []int64) (int, error) {
	return s.changeMembers(ctx, a, segmentID, ids, true)
}

// RemoveSegmentMembers takes records off a static list.
func (s *Store) RemoveSegmentMembers(ctx context.Context, a *Actor, segmentID int64, ids []int64) (int, error) {
	return s.changeMembers(ctx, a, segmentID, ids, false)
}

func (s *Store) changeMembers(ctx context.Context, a *Actor, segmentID int64, ids []int64, add bool) (int, error) {
	if len(ids) > 10000 {
		return 0, errInvalid(map[string]string{"ids": "error.too_long"})
	}
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		g, err := s.loadSegment(ctx, tx, a, segmentID, ActEdit)
		if err != nil {
			return err
		}
		if g.Kind != SegmentStatic {
			return errConflict("segments.error.not_static", nil)
		}
		d := s.def(g.Entity)
		cond, cargs := a.scopeSQL(g.Entity, ActView, "t.owner_id")
		now := s.nowMS()
		for _, id := range ids {
			var res sql.Result
			if add {
				res, err = execTx(ctx, tx, `INSERT OR IGNORE INTO segment_members (segment_id, record_id, added_at)
					SELECT ?, t.id, ? FROM `+d.Table+` t WHERE t.id = ? AND t.deleted_at = 0 AND `+cond, append([]any{segmentID, now, id}, cargs...)...)
			} else {
				res, err = execTx(ctx, tx, `DELETE FROM segment_members WHERE segment_id = ? AND record_id = ?`, segmentID, id)
			}
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		action := "segment.add"
		if !add {
			action = "segment.remove"
		}
		return s.audit(ctx, tx, a, action, "segments", segmentID, map[string]int{"count": n})
	})
	return n, err
}
