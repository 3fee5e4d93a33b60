package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// relatedLinks lists, per mergeable entity, the columns of other tables
// that point at its records; a merge moves them to the survivor.
var relatedLinks = map[Entity][][2]string{
	EntAccounts: {{"contacts", "account_id"}, {"opportunities", "account_id"}, {"cases", "account_id"}, {"activities", "account_id"}, {"tasks", "account_id"}, {"leads", "converted_account_id"}},
	EntContacts: {{"opportunities", "contact_id"}, {"cases", "contact_id"}, {"activities", "contact_id"}, {"tasks", "contact_id"}, {"leads", "converted_contact_id"}},
	EntLeads:    {{"activities", "lead_id"}, {"tasks", "lead_id"}},
}

// mergeUndo is what a merge changed, kept so it can be undone exactly.
type mergeUndo struct {
	Fields   map[string]any     `json:"fields"`   // survivor's values before
	Moved    map[string][]int64 `json:"moved"`    // "table.column" → ids moved
	History  []int64            `json:"history"`  // field_history ids moved
	TagsAdd  []int64            `json:"tags_add"` // tag ids added to the survivor
	RolesAdd []int64            `json:"roles"`    // opportunity ids whose role moved
	Custom   map[string]any     `json:"custom"`   // survivor's custom values before
	Files    []int64            `json:"files"`    // attachments moved
}

// Merge is one merge as logged.
type Merge struct {
	ID         int64
	Entity     Entity
	SurvivorID int64
	LoserID    int64
	UserName   string
	At         time.Time
	UndoneAt   time.Time
	Survivor   string
	Loser      string
}

// MergeRecords merges loser into survivor: the fields named in take get the
// loser's values, every linked record, history entry and tag moves to the
// survivor, and the loser goes to the trash. It needs edit on the survivor
// and delete on the loser, and is logged so it can be undone.
func (s *Store) MergeRecords(ctx context.Context, a *Actor, e Entity, survivorID, loserID int64, take []string) (int64, error) {
	d := s.def(e)
	links, ok := relatedLinks[e]
	if d == nil || !ok {
		return 0, errNotFound()
	}
	if survivorID == loserID {
		return 0, errInvalid(map[string]string{"loser": "error.same_record"})
	}
	var mergeID int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		sur, err := s.loadRecord(ctx, tx, a, d, survivorID, false)
		if err != nil {
			return err
		}
		los, err := s.loadRecord(ctx, tx, a, d, loserID, false)
		if err != nil {
			return err
		}
		if err := a.checkRecord(e, ActEdit, sur.OwnerID, sur.ownerTeam); err != nil {
			return err
		}
		if err := a.checkRecord(e, ActDelete, los.OwnerID, los.ownerTeam); err != nil {
			return err
		}
		undo := mergeUndo{Fields: map[string]any{}, Moved: map[string][]int64{}, Custom: map[string]any{}}
		vals := map[string]any{}
		custom := map[string]any{}
		// Custom values: the survivor keeps its own, gains the loser's where
		// it has none, and takes the loser's where asked ("custom.KEY").
		for _, c := range d.Custom {
			lv, sv := los.Custom[c.Key], sur.Custom[c.Key]
			if lv != nil && (sv == nil || slices.Contains(take, "custom."+c.Key)) {
				custom[c.Key] = lv
				undo.Custom[c.Key] = sv
			}
		}
		for _, k := range take {
			if strings.HasPrefix(k, "custom.") {
				continue
			}
			f, ok := d.Field(k)
			if !ok || f.ReadOnly {
				return errInvalid(map[string]string{k: "error.unknown_field"})
			}
			vals[k] = jsonValue(f, los.Values[k])
			undo.Fields[k] = jsonValue(f, sur.Values[k])
		}
		if len(vals) > 0 {
			if err := s.updateRecord(ctx, tx, a, d, survivorID, Input{Values: vals}); err != nil {
				return err
			}
		}
		for _, l := range links {
			ids, err := idsWhere(ctx, tx, "SELECT id FROM "+l[0]+" WHERE "+l[1]+" = ?", loserID)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, "UPDATE "+l[0]+" SET "+l[1]+" = ? WHERE "+l[1]+" = ?", survivorID, loserID); err != nil {
				return err
			}
			undo.Moved[l[0]+"."+l[1]] = ids
		}
		if e == EntContacts {
			ids, err := idsWhere(ctx, tx, `SELECT opportunity_id FROM opportunity_contacts WHERE contact_id = ? AND opportunity_id NOT IN (SELECT opportunity_id FROM opportunity_contacts WHERE contact_id = ?)`, loserID, survivorID)
			if err != nil {
				return err
			}
			for _, oid := range ids {
				if _, err := tx.ExecContext(ctx, `UPDATE opportunity_contacts SET contact_id = ? WHERE opportunity_id = ? AND contact_id = ?`, survivorID, oid, loserID); err != nil {
					return err
				}
			}
			undo.RolesAdd = ids
		}
		if undo.Files, err = s.moveAttachments(ctx, tx, e, loserID, survivorID); err != nil {
			return err
		}
		if undo.History, err = idsWhere(ctx, tx, `SELECT id FROM field_history WHERE entity = ? AND record_id = ?`, string(e), loserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE field_history SET record_id = ? WHERE entity = ? AND record_id = ?`, survivorID, string(e), loserID); err != nil {
			return err
		}
		if d.Tagged {
			if undo.TagsAdd, err = idsWhere(ctx, tx, `SELECT tag_id FROM record_tags WHERE entity = ? AND record_id = ? AND tag_id NOT IN (SELECT tag_id FROM record_tags WHERE entity = ? AND record_id = ?)`, string(e), loserID, string(e), survivorID); err != nil {
				return err
			}
			for _, tid := range undo.TagsAdd {
				if _, err := tx.ExecContext(ctx, `INSERT INTO record_tags (entity, record_id, tag_id) VALUES (?, ?, ?)`, string(e), survivorID, tid); err != nil {
					return err
				}
			}
		}
		if err := s.deleteRecord(ctx, tx, a, d, loserID); err != nil {
			return err
		}
		if len(custom) > 0 {
			// After the loser left, so a unique value can move over.
			if err := s.updateRecord(ctx, tx, a, d, survivorID, Input{Custom: custom}); err != nil {
				return err
			}
		}
		if d.Searchable {
			if err := s.indexRecord(ctx, tx, d, survivorID); err != nil {
				return err
			}
		}
		b, _ := json.Marshal(undo)
		res, err := tx.ExecContext(ctx, `INSERT INTO merges (entity, survivor_id, loser_id, undo, user_id, at) VALUES (?, ?, ?, ?, ?, ?)`, string(e), survivorID, loserID, string(b), a.auditUser(), s.nowMS())
		if err != nil {
			return err
		}
		mergeID, _ = res.LastInsertId()
		if err := s.history(ctx, tx, a, e, survivorID, "merged", los.Title, "", s.now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "merge", string(e), survivorID, map[string]any{"loser_id": loserID, "merge_id": mergeID})
	})
	return mergeID, err
}

// UndoMerge reverses a merge: the loser comes back from the trash with its
// links, history and tags, and the survivor gets its old field values.
func (s *Store) UndoMerge(ctx context.Context, a *Actor, mergeID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var ent, undoJSON string
		var sid, lid, undone int64
		if err := tx.QueryRowContext(ctx, `SELECT entity, survivor_id, loser_id, undo, undone_at FROM merges WHERE id = ?`, mergeID).Scan(&ent, &sid, &lid, &undoJSON, &undone); err != nil {
			return err
		}
		e := Entity(ent)
		d := s.def(e)
		if undone != 0 {
			return &Error{Code: CodeConflict, Key: "error.already_undone"}
		}
		sur, err := s.loadRecord(ctx, tx, a, d, sid, false)
		if err != nil {
			return err
		}
		if err := a.checkRecord(e, ActEdit, sur.OwnerID, sur.ownerTeam); err != nil {
			return err
		}
		los, err := s.loadRecord(ctx, tx, a, d, lid, true)
		if err != nil {
			return err
		}
		if err := a.checkRecord(e, ActDelete, los.OwnerID, los.ownerTeam); err != nil {
			return err
		}
		var undo mergeUndo
		if err := json.Unmarshal([]byte(undoJSON), &undo); err != nil {
			return err
		}
		for key, ids := range undo.Moved {
			table, col, _ := strings.Cut(key, ".")
			if !validMoved(e, table, col) {
				return errInternal(nil)
			}
			for _, id := range ids {
				if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET "+col+" = ? WHERE id = ? AND "+col+" = ?", lid, id, sid); err != nil {
					return err
				}
			}
		}
		for _, oid := range undo.RolesAdd {
			if _, err := tx.ExecContext(ctx, `UPDATE opportunity_contacts SET contact_id = ? WHERE opportunity_id = ? AND contact_id = ?`, lid, oid, sid); err != nil {
				return err
			}
		}
		for _, fid := range undo.Files {
			if _, err := tx.ExecContext(ctx, `UPDATE attachments SET record_id = ? WHERE id = ? AND entity = ? AND record_id = ?`, lid, fid, ent, sid); err != nil {
				return err
			}
		}
		for _, hid := range undo.History {
			if _, err := tx.ExecContext(ctx, `UPDATE field_history SET record_id = ? WHERE id = ?`, lid, hid); err != nil {
				return err
			}
		}
		for _, tid := range undo.TagsAdd {
			if _, err := tx.ExecContext(ctx, `DELETE FROM record_tags WHERE entity = ? AND record_id = ? AND tag_id = ?`, ent, sid, tid); err != nil {
				return err
			}
		}
		now := s.nowMS()
		if _, err := tx.ExecContext(ctx, "UPDATE "+d.Table+" SET deleted_at = 0, updated_at = ?, version = version + 1 WHERE id = ?", now, lid); err != nil {
			return err
		}
		if len(undo.Fields) > 0 || len(undo.Custom) > 0 {
			// A custom field removed since keeps its value untouched.
			for k := range undo.Custom {
				if _, ok := d.CustomField(k); !ok {
					delete(undo.Custom, k)
				}
			}
			if err := s.updateRecord(ctx, tx, a, d, sid, Input{Values: undo.Fields, Custom: undo.Custom}); err != nil {
				return err
			}
		}
		if d.Searchable {
			if err := s.indexRecord(ctx, tx, d, lid); err != nil {
				return err
			}
			if err := s.indexRecord(ctx, tx, d, sid); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE merges SET undone_at = ? WHERE id = ?`, now, mergeID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "unmerge", ent, sid, map[string]any{"loser_id": lid, "merge_id": mergeID})
	})
}

func validMoved(e Entity, table, col string) bool {
	for _, l := range relatedLinks[e] {
		if l[0] == table && l[1] == col {
			return true
		}
	}
	return false
}

// jsonValue turns a stored Go value back into input form, for replaying it
// through updateRecord.
func jsonValue(f Field, v any) any {
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.Format(time.RFC3339Nano)
	case int64:
		if f.Kind == KRef && x == 0 {
			return nil
		}
		return float64(x)
	}
	return v
}

func idsWhere(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// FindMerges lists recent merges of a record type, newest first.
func (s *Store) FindMerges(ctx context.Context, a *Actor, e Entity) ([]*Merge, error) {
	if !a.Can(e, ActDelete) {
		return nil, errForbidden()
	}
	d := s.def(e)
	var out []*Merge
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT m.id, m.survivor_id, m.loser_id, COALESCE(u.name, ''), m.at, m.undone_at,
			COALESCE((SELECT `+titleSQL(e, "x")+` FROM `+d.Table+` x WHERE x.id = m.survivor_id), ''),
			COALESCE((SELECT `+titleSQL(e, "x")+` FROM `+d.Table+` x WHERE x.id = m.loser_id), '')
			FROM merges m LEFT JOIN users u ON u.id = m.user_id WHERE m.entity = ? ORDER BY m.id DESC LIMIT 50`, string(e))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m := &Merge{Entity: e}
			var at, und int64
			if err := rows.Scan(&m.ID, &m.SurvivorID, &m.LoserID, &m.UserName, &at, &und, &m.Survivor, &m.Loser); err != nil {
				return err
			}
			m.At, m.UndoneAt = fromMS(at), fromMS(und)
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

// DuplicateGroup is a set of live records sharing an e-mail, phone, tax id
// or name.
type DuplicateGroup struct {
	Reason  string // email, phone, tax_id, name
	Value   string
	Records []*Record
}

// FindDuplicateGroups scans a record type for likely duplicates, for the
// admin's duplicates page; it needs the delete permission.
func (s *Store) FindDuplicateGroups(ctx context.Context, a *Actor, e Entity, limit int) ([]DuplicateGroup, error) {
	d := s.def(e)
	if d == nil || relatedLinks[e] == nil {
		return nil, errNotFound()
	}
	if !a.Can(e, ActDelete) {
		return nil, errForbidden()
	}
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	type key struct{ reason, col string }
	keys := []key{{"email", "email_key"}, {"phone", "phone_digits"}, {"name", "name_key"}}
	if e == EntAccounts {
		keys = append(keys, key{"tax_id", "tax_id_key"})
	}
	cond, args := a.scopeSQL(e, ActView, "t.owner_id")
	var out []DuplicateGroup
	err := s.read(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			extra := ""
			if k.reason == "name" && e == EntContacts {
				extra = ", COALESCE(t.account_id, 0)"
			}
			rows, err := tx.QueryContext(ctx, "SELECT t."+k.col+", group_concat(t.id) FROM "+d.Table+" t WHERE t.deleted_at = 0 AND t."+k.col+" <> '' AND "+cond+
				" GROUP BY t."+k.col+extra+" HAVING count(*) > 1 LIMIT ?", append(append([]any{}, args...), limit)...)
			if err != nil {
				return err
			}
			type grp struct {
				v   string
				ids []int64
			}
			var gs []grp
			for rows.Next() {
				var v, list string
				if err := rows.Scan(&v, &list); err != nil {
					rows.Close()
					return err
				}
				g := grp{v: v}
				for _, p := range strings.Split(list, ",") {
					var id int64
					for _, c := range p {
						id = id*10 + int64(c-'0')
					}
					g.ids = append(g.ids, id)
				}
				gs = append(gs, g)
			}
			rows.Close()
			for _, g := range gs {
				recs, err := s.recordsByID(ctx, tx, a, d, g.ids)
				if err != nil {
					return err
				}
				out = append(out, DuplicateGroup{Reason: k.reason, Value: g.v, Records: recs})
			}
		}
		return nil
	})
	return out, err
}
