package store

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"time"
)

// ConvertInput says what a lead becomes.
type ConvertInput struct {
	// AccountID links an existing account instead of creating one from the
	// lead's company.
	AccountID int64
	// Opportunity, when not nil, also creates an opportunity.
	Opportunity *ConvertOpportunity
}

// ConvertOpportunity is the opportunity created by a conversion.
type ConvertOpportunity struct {
	Name   string
	Amount any
}

// Conversion is what a lead became.
type Conversion struct {
	Account     *Record
	Contact     *Record
	Opportunity *Record
}

// ConvertLead turns a qualified lead into an account (or links an existing
// one), a contact and optionally an opportunity, in one transaction. The
// lead's activities, tasks and tags follow; the lead is kept, marked
// converted, and links to what it became.
func (s *Store) ConvertLead(ctx context.Context, a *Actor, leadID int64, in ConvertInput) (*Conversion, error) {
	ld := s.def(EntLeads)
	var accID, conID, oppID int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		lead, err := s.loadRecord(ctx, tx, a, ld, leadID, false)
		if err != nil {
			return err
		}
		if err := a.checkRecord(EntLeads, ActEdit, lead.OwnerID, lead.ownerTeam); err != nil {
			return err
		}
		if lead.Str("status") == "converted" {
			return &Error{Code: CodeConflict, Key: "error.already_converted"}
		}
		tags := lead.Tags
		accID = in.AccountID
		if accID != 0 {
			fe := fieldErrors{}
			if err := s.checkLinks(ctx, tx, a, &EntityDef{Fields: []Field{{Key: "account_id", Kind: KRef, Ref: EntAccounts}}}, map[string]any{"account_id": accID}, nil, fe); err != nil {
				return err
			}
			if err := fe.err(); err != nil {
				return err
			}
		} else {
			name := lead.Str("company")
			if name == "" {
				name = lead.Title
			}
			accID, err = s.createRecord(ctx, tx, a, s.def(EntAccounts), Input{Values: map[string]any{
				"name": name, "type": "customer", "origin": lead.Str("source"), "phone": lead.Str("phone"), "owner_id": lead.OwnerID,
			}, Tags: &tags})
			if err != nil {
				return prefixFields(err, "account.")
			}
		}
		conID, err = s.createRecord(ctx, tx, a, s.def(EntContacts), Input{Values: map[string]any{
			"first_name": lead.Str("first_name"), "last_name": lead.Str("last_name"), "email": lead.Str("email"),
			"phone": lead.Str("phone"), "title": lead.Str("title"), "account_id": accID, "notes": lead.Str("notes"), "owner_id": lead.OwnerID,
		}, Tags: &tags})
		if err != nil {
			return prefixFields(err, "contact.")
		}
		if in.Opportunity != nil {
			name := strings.TrimSpace(in.Opportunity.Name)
			if name == "" {
				name = lead.Title
			}
			oppID, err = s.createRecord(ctx, tx, a, s.def(EntOpportunities), Input{Values: map[string]any{
				"name": name, "amount": in.Opportunity.Amount, "account_id": accID, "contact_id": conID, "owner_id": lead.OwnerID,
			}, Tags: &tags, ContactRoles: &[]ContactRole{{ContactID: conID, Role: "decision_maker"}}})
			if err != nil {
				return prefixFields(err, "opportunity.")
			}
		}
		// The lead's history follows it.
		var opp any
		if oppID != 0 {
			opp = oppID
		}
		for _, table := range []string{"activities", "tasks"} {
			if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET contact_id = COALESCE(contact_id, ?), account_id = COALESCE(account_id, ?), opportunity_id = COALESCE(opportunity_id, ?) WHERE lead_id = ?", conID, accID, opp, leadID); err != nil {
				return err
			}
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE leads SET status = 'converted', converted_account_id = ?, converted_contact_id = ?, converted_opportunity_id = ?, converted_at = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ?`,
			accID, conID, opp, ms(now), ms(now), a.auditUser(), leadID); err != nil {
			return err
		}
		if err := s.history(ctx, tx, a, EntLeads, leadID, "status", lead.Str("status"), "converted", now); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "convert", "leads", leadID, map[string]any{"account_id": accID, "contact_id": conID, "opportunity_id": oppID})
	})
	if err != nil {
		return nil, err
	}
	out := &Conversion{}
	if out.Account, err = s.FindRecord(ctx, a, EntAccounts, accID); err != nil {
		return nil, err
	}
	if out.Contact, err = s.FindRecord(ctx, a, EntContacts, conID); err != nil {
		return nil, err
	}
	if oppID != 0 {
		if out.Opportunity, err = s.FindRecord(ctx, a, EntOpportunities, oppID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// prefixFields renames an error's fields so the caller can tell which of
// several records a problem belongs to.
func prefixFields(err error, prefix string) error {
	se := AsError(err)
	if len(se.Fields) == 0 {
		return err
	}
	f := map[string]string{}
	for k, v := range se.Fields {
		f[prefix+k] = v
	}
	return &Error{Code: se.Code, Key: se.Key, Fields: f, Err: se.Err}
}

// TimelineItem is one entry of a record's history.
type TimelineItem struct {
	Kind     string // activity, task, stage_change, field_change, created
	At       time.Time
	Subject  string
	Detail   string
	Type     string // activity type or task status
	UserName string
	RecordID int64 // the activity's or task's id
	Field    string
	Old, New string
}

// linkColumn is the column by which activities and tasks point at e.
func linkColumn(e Entity) string {
	switch e {
	case EntAccounts:
		return "account_id"
	case EntContacts:
		return "contact_id"
	case EntLeads:
		return "lead_id"
	case EntOpportunities:
		return "opportunity_id"
	case EntCases:
		return "case_id"
	}
	return ""
}

// Timeline returns a record's history, newest first: activities and tasks
// linked to it (those the actor may view), stage changes, field changes and
// its creation.
func (s *Store) Timeline(ctx context.Context, a *Actor, e Entity, id int64, limit int) ([]TimelineItem, error) {
	d := s.def(e)
	if d == nil {
		return nil, errNotFound()
	}
	if !a.Can(e, ActView) {
		return nil, errForbidden()
	}
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	var items []TimelineItem
	err := s.read(ctx, func(tx *sql.Tx) error {
		rec, err := s.loadRecord(ctx, tx, a, d, id, false)
		if err != nil {
			return err
		}
		items = append(items, TimelineItem{Kind: "created", At: rec.CreatedAt, Subject: rec.Title})
		scan := func(q string, args []any, fn func(rows *sql.Rows) error) error {
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := fn(rows); err != nil {
					return err
				}
			}
			return rows.Err()
		}
		if col := linkColumn(e); col != "" {
			if a.Can(EntActivities, ActView) {
				cond, args := a.scopeSQL(EntActivities, ActView, "x.owner_id")
				err := scan(`SELECT x.id, x.occurred_at, x.type, x.subject, x.description, x.outcome, COALESCE(u.name, '') FROM activities x LEFT JOIN users u ON u.id = x.owner_id
					WHERE x.`+col+` = ? AND x.deleted_at = 0 AND `+cond+` ORDER BY x.occurred_at DESC LIMIT ?`, append(append([]any{id}, args...), limit), func(rows *sql.Rows) error {
					var it TimelineItem
					var at int64
					if err := rows.Scan(&it.RecordID, &at, &it.Type, &it.Subject, &it.Detail, &it.New, &it.UserName); err != nil {
						return err
					}
					it.Kind, it.At = "activity", fromMS(at)
					items = append(items, it)
					return nil
				})
				if err != nil {
					return err
				}
			}
			if a.Can(EntTasks, ActView) {
				cond, args := a.scopeSQL(EntTasks, ActView, "x.owner_id")
				err := scan(`SELECT x.id, CASE WHEN x.due_at <> 0 THEN x.due_at ELSE x.created_at END, x.status, x.title, x.description, COALESCE(u.name, '') FROM tasks x LEFT JOIN users u ON u.id = x.owner_id
					WHERE x.`+col+` = ? AND x.deleted_at = 0 AND `+cond+` ORDER BY 2 DESC LIMIT ?`, append(append([]any{id}, args...), limit), func(rows *sql.Rows) error {
					var it TimelineItem
					var at int64
					if err := rows.Scan(&it.RecordID, &at, &it.Type, &it.Subject, &it.Detail, &it.UserName); err != nil {
						return err
					}
					it.Kind, it.At = "task", fromMS(at)
					items = append(items, it)
					return nil
				})
				if err != nil {
					return err
				}
			}
		}
		if e == EntOpportunities {
			err := scan(`SELECT h.at, h.from_stage, h.to_stage, COALESCE(u.name, '') FROM stage_history h LEFT JOIN users u ON u.id = h.user_id WHERE h.opportunity_id = ? AND h.from_stage <> '' ORDER BY h.at DESC LIMIT ?`, []any{id, limit}, func(rows *sql.Rows) error {
				var it TimelineItem
				var at int64
				if err := rows.Scan(&at, &it.Old, &it.New, &it.UserName); err != nil {
					return err
				}
				it.Kind, it.At, it.Field = "stage_change", fromMS(at), "stage"
				items = append(items, it)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return scan(`SELECT h.at, h.field, h.old_value, h.new_value, COALESCE(u.name, '') FROM field_history h LEFT JOIN users u ON u.id = h.user_id WHERE h.entity = ? AND h.record_id = ? AND h.field <> 'stage' ORDER BY h.at DESC LIMIT ?`, []any{string(e), id, limit}, func(rows *sql.Rows) error {
			var it TimelineItem
			var at int64
			if err := rows.Scan(&at, &it.Field, &it.Old, &it.New, &it.UserName); err != nil {
				return err
			}
			it.Kind, it.At = "field_change", fromMS(at)
			items = append(items, it)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].At.After(items[j].At) })
	if len(items) > limit {
		items = items[:limit]
	}
	return items, nil
}

// FindDuplicates returns live records likely to be the same as the given
// values: same e-mail (case-insensitive), same phone digits, same tax id, or
// the same folded name within the same account. Only records the actor may
// view are returned; excludeID skips the record being edited.
func (s *Store) FindDuplicates(ctx context.Context, a *Actor, e Entity, values map[string]any, excludeID int64) ([]*Record, error) {
	d := s.def(e)
	if d == nil || (e != EntAccounts && e != EntContacts && e != EntLeads) {
		return nil, nil
	}
	if !a.Can(e, ActView) {
		return nil, nil
	}
	vals := map[string]any{}
	for _, f := range d.Fields {
		vals[f.Key] = zeroOf(f.Kind)
		if raw, ok := values[f.Key]; ok {
			if v, k := coerce(f, raw); k == "" {
				vals[f.Key] = v
			}
		}
	}
	der := d.derived(vals)
	// One indexed lookup per criterion (an OR of them would scan the table).
	type crit struct {
		where string
		args  []any
	}
	var crits []crit
	str := func(k string) string { v, _ := der[k].(string); return v }
	if v := str("email_key"); v != "" {
		crits = append(crits, crit{"t.email_key = ? AND t.email_key <> ''", []any{v}})
	}
	for _, k := range []string{"phone_digits", "mobile_digits"} {
		if v := str(k); len(v) >= 6 {
			crits = append(crits, crit{"t.phone_digits = ? AND t.phone_digits <> ''", []any{v}})
			if e == EntContacts {
				crits = append(crits, crit{"t.mobile_digits = ? AND t.mobile_digits <> ''", []any{v}})
			}
		}
	}
	if v := str("tax_id_key"); v != "" {
		crits = append(crits, crit{"t.tax_id_key = ? AND t.tax_id_key <> ''", []any{v}})
	}
	if v := str("name_key"); v != "" {
		switch e {
		case EntAccounts:
			crits = append(crits, crit{"t.name_key = ?", []any{v}})
		case EntContacts:
			if acc, _ := vals["account_id"].(int64); acc != 0 {
				crits = append(crits, crit{"t.account_id = ? AND t.name_key = ?", []any{acc, v}})
			} else {
				crits = append(crits, crit{"t.name_key = ? AND t.account_id IS NULL", []any{v}})
			}
		case EntLeads:
			crits = append(crits, crit{"t.name_key = ? AND lower(t.company) = lower(?)", []any{v, vals["company"]}})
		}
	}
	if len(crits) == 0 {
		return nil, nil
	}
	cond, cargs := a.scopeSQL(e, ActView, "+t.owner_id")
	var out []*Record
	err := s.read(ctx, func(tx *sql.Tx) error {
		var ids []int64
		seen := map[int64]bool{}
		for _, c := range crits {
			rows, err := tx.QueryContext(ctx, "SELECT t.id FROM "+d.Table+" t WHERE "+c.where+" AND t.deleted_at = 0 AND t.id <> ? AND "+cond+" ORDER BY t.id LIMIT 10",
				append(append(c.args, excludeID), cargs...)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				if !seen[id] && len(ids) < 10 {
					seen[id] = true
					ids = append(ids, id)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		var err error
		out, err = s.recordsByID(ctx, tx, a, d, ids)
		return err
	})
	return out, err
}

// StageColumn is one column of the pipeline board.
type StageColumn struct {
	Stage   string
	Kind    string
	Count   int64
	Amount  float64
	Records []*Record
}

// Board returns the opportunities the actor may view grouped by stage,
// with each column's count and total, and up to perColumn cards per column
// (most recently changed first).
func (s *Store) Board(ctx context.Context, a *Actor, ownerID int64, perColumn int) ([]StageColumn, error) {
	return s.PipelineBoard(ctx, a, DefaultPipeline, ownerID, perColumn)
}

// PipelineBoard is Board for one pipeline: its active stages, in order.
func (s *Store) PipelineBoard(ctx context.Context, a *Actor, pipeline string, ownerID int64, perColumn int) ([]StageColumn, error) {
	if _, ok := s.Schema().Pipeline(pipeline); !ok {
		return nil, errNotFound()
	}
	if !a.Can(EntOpportunities, ActView) {
		return nil, errForbidden()
	}
	if perColumn <= 0 || perColumn > 200 {
		perColumn = 50
	}
	d := s.def(EntOpportunities)
	var cols []StageColumn
	err := s.read(ctx, func(tx *sql.Tx) error {
		for _, o := range d.schema.ActiveOptions(StageList(pipeline)) {
			f := Filter{OwnerID: ownerID, Eq: map[string]string{"stage": o.Key}}
			where, args, err := s.filterSQL(a, d, f, ActView)
			if err != nil {
				return err
			}
			where += " AND t.pipeline = ?"
			args = append(args, pipeline)
			c := StageColumn{Stage: o.Key, Kind: o.StageKind}
			var cents int64
			if err := tx.QueryRowContext(ctx, "SELECT count(*), COALESCE(sum(t.amount_cents), 0) FROM opportunities t WHERE "+where, args...).Scan(&c.Count, &cents); err != nil {
				return err
			}
			c.Amount = float64(cents) / 100
			rows, err := tx.QueryContext(ctx, d.selectSQL()+" WHERE "+where+" ORDER BY t.stage_changed_at DESC, t.id DESC LIMIT ?", append(args, perColumn)...)
			if err != nil {
				return err
			}
			sc := d.newScanner()
			for rows.Next() {
				r, err := sc.scan(rows)
				if err != nil {
					rows.Close()
					return err
				}
				c.Records = append(c.Records, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if err := s.decorate(ctx, tx, a, d, c.Records); err != nil {
				return err
			}
			cols = append(cols, c)
		}
		return nil
	})
	return cols, err
}

// BulkAction is a change applied to many selected records at once.
type BulkAction struct {
	OwnerID int64  // assign this owner
	AddTag  string // add this tag
	Delete  bool   // move to the trash
}

// BulkUpdate applies one action to each selected record through the same
// checks as a single edit, all or nothing: if any record may not be
// changed, none is.
func (s *Store) BulkUpdate(ctx context.Context, a *Actor, e Entity, ids []int64, act BulkAction) (int, error) {
	d := s.def(e)
	if d == nil {
		return 0, errNotFound()
	}
	if len(ids) > 1000 {
		return 0, errInvalid(map[string]string{"ids": "error.too_many"})
	}
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			switch {
			case act.Delete:
				if err := s.deleteRecord(ctx, tx, a, d, id); err != nil {
					return err
				}
			case act.OwnerID != 0:
				if err := s.updateRecord(ctx, tx, a, d, id, Input{Values: map[string]any{d.OwnerKey: act.OwnerID}}); err != nil {
					return err
				}
			case act.AddTag != "":
				cur, err := s.loadRecord(ctx, tx, a, d, id, false)
				if err != nil {
					return err
				}
				tags := append(cur.Tags, act.AddTag)
				if err := s.updateRecord(ctx, tx, a, d, id, Input{Tags: &tags}); err != nil {
					return err
				}
			default:
				return errInvalid(map[string]string{"action": "error.required"})
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
