package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// maxTextMatches bounds a list's text filter to the most recent matches,
// so a common word ("garcia" among a million contacts) costs milliseconds,
// not a join with sixty thousand rows; a longer query narrows it further.
const maxTextMatches = "5000"

// Filter narrows and orders a list of records. Every field is optional.
type Filter struct {
	Q            string            // full-text (searchable types) or subject/title prefix
	Tags         []string          // records carrying all these tags
	OwnerID      int64             // owner, or assignee of tasks and cases
	Eq           map[string]string // field key → value, for filterable fields
	CreatedFrom  time.Time
	CreatedTo    time.Time
	UpdatedFrom  time.Time
	UpdatedTo    time.Time
	UpdatedSince time.Time // incremental sync: updated at or after
	DueBefore    time.Time // tasks due before (for "overdue" and "today")
	Sort         string    // a sortable field key, "-" prefix for descending
	Limit        int       // page size, 1..200 (default 50)
	Cursor       string    // opaque keyset cursor from the previous page
	Trash        bool      // list the trash instead of live records
}

// sortSpec resolves a sort key to its column; unknown keys fall back to
// the entity's default, so nothing a user sends reaches SQL unchecked.
func (d *EntityDef) sortSpec(key string) (col string, desc bool, name string) {
	resolve := func(k string) (string, bool, string, bool) {
		desc := strings.HasPrefix(k, "-")
		k = strings.TrimPrefix(k, "-")
		switch k {
		case "created_at", "updated_at":
			return "t." + k, desc, k, true
		case "name":
			if d.Entity == EntContacts || d.Entity == EntLeads {
				return "t.name_key", desc, k, true
			}
		}
		if f, ok := d.Field(k); ok && f.Sort != "" {
			return "t." + f.Sort, desc, k, true
		}
		if (k == "name" || k == "last_name") && (d.Entity == EntContacts || d.Entity == EntLeads) {
			return "t.name_key", desc, "name", true
		}
		return "", false, "", false
	}
	if c, de, n, ok := resolve(key); ok {
		if de {
			n = "-" + n
		}
		return c, de, n
	}
	c, de, n, _ := resolve(d.DefaultSort)
	if de {
		n = "-" + n
	}
	return c, de, n
}

// Sortable reports whether a sort key is allowed for the entity.
func (d *EntityDef) Sortable(key string) bool {
	_, _, n := d.sortSpec(key)
	return strings.TrimPrefix(n, "-") == strings.TrimPrefix(key, "-")
}

type cursor struct {
	V  any   `json:"v"`
	ID int64 `json:"i"`
}

func encodeCursor(v any, id int64) string {
	b, _ := json.Marshal(cursor{V: v, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 1000 {
		return nil, false
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID <= 0 {
		return nil, false
	}
	switch v := c.V.(type) {
	case float64:
		c.V = int64(v)
	case string:
	default:
		return nil, false
	}
	return &c, true
}

// FindRecords lists the records the actor may view, filtered and sorted,
// one keyset page at a time: the returned cursor fetches the next page, and
// pages stay stable while rows are inserted elsewhere. Page 1,000 costs what
// page 1 costs, because no OFFSET is used.
func (s *Store) FindRecords(ctx context.Context, a *Actor, e Entity, f Filter) ([]*Record, string, error) {
	d := defs[e]
	if d == nil {
		return nil, "", errNotFound()
	}
	if !a.Can(e, ActView) {
		return nil, "", errForbidden()
	}
	where, args, err := s.filterSQL(a, d, f, ActView)
	if err != nil {
		return nil, "", err
	}
	col, desc, _ := d.sortSpec(f.Sort)
	if f.Cursor != "" {
		c, ok := decodeCursor(f.Cursor)
		if !ok {
			return nil, "", errInvalid(map[string]string{"cursor": "error.cursor"})
		}
		op := ">"
		if desc {
			op = "<"
		}
		where += " AND (" + col + ", t.id) " + op + " (?, ?)"
		args = append(args, c.V, c.ID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 200 {
		limit = 200
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	q := d.selectSQL() + " WHERE " + where + " ORDER BY " + col + " " + dir + ", t.id " + dir + " LIMIT ?"
	args = append(args, limit+1)
	var recs []*Record
	var next string
	err = s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			r, err := d.scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			recs = append(recs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(recs) > limit {
			recs = recs[:limit]
			last := recs[len(recs)-1]
			var v any
			if err := tx.QueryRowContext(ctx, "SELECT "+col+" FROM "+d.Table+" t WHERE t.id = ?", last.ID).Scan(&v); err != nil {
				return err
			}
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			next = encodeCursor(v, last.ID)
		}
		return s.decorate(ctx, tx, a, d, recs)
	})
	if err != nil {
		return nil, "", err
	}
	return recs, next, nil
}

// CountRecords counts the records a filter matches, for list headers and
// board columns.
func (s *Store) CountRecords(ctx context.Context, a *Actor, e Entity, f Filter) (int64, error) {
	d := defs[e]
	if d == nil {
		return 0, errNotFound()
	}
	if !a.Can(e, ActView) {
		return 0, errForbidden()
	}
	where, args, err := s.filterSQL(a, d, f, ActView)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM "+d.Table+" t WHERE "+where, args...).Scan(&n)
	})
	return n, err
}

// filterSQL builds the WHERE clause of a list: the actor's scope first,
// then each filter, every value a parameter and every column allow-listed.
func (s *Store) filterSQL(a *Actor, d *EntityDef, f Filter, act Action) (string, []any, error) {
	cond, args := a.scopeSQL(d.Entity, act, "t.owner_id")
	w := []string{cond}
	if f.Trash {
		w = append(w, "t.deleted_at <> 0")
	} else {
		w = append(w, "t.deleted_at = 0")
	}
	fe := fieldErrors{}
	if q := strings.TrimSpace(f.Q); q != "" {
		if d.Searchable {
			m := ftsQuery(q)
			if m != "" {
				w = append(w, "t.id IN (SELECT rowid >> 3 FROM search_index WHERE search_index MATCH ? AND (rowid & 7) = ? ORDER BY rowid DESC LIMIT "+maxTextMatches+")")
				args = append(args, m, d.searchCode)
			} else {
				// Only punctuation was typed: match nothing, as Search does,
				// rather than silently dropping the filter.
				w = append(w, "0=1")
			}
		} else {
			w = append(w, "instr(t.name_key, ?) > 0")
			args = append(args, foldKey(q))
		}
	}
	for _, tag := range f.Tags {
		if tag = strings.TrimSpace(tag); tag == "" {
			continue
		}
		w = append(w, "t.id IN (SELECT rt.record_id FROM record_tags rt JOIN tags tg ON tg.id = rt.tag_id WHERE rt.entity = ? AND tg.name = ?)")
		args = append(args, string(d.Entity), tag)
	}
	if f.OwnerID != 0 {
		w = append(w, "t.owner_id = ?")
		args = append(args, f.OwnerID)
	}
	for key, v := range f.Eq {
		fl, ok := d.Field(key)
		if !ok || !fl.Filter {
			fe.add(key, "error.unknown_field")
			continue
		}
		val, k := coerce(fl, v)
		if k != "" {
			fe.add(key, k)
			continue
		}
		if fl.Kind == KRef && val.(int64) == 0 {
			w = append(w, "t."+fl.column()+" IS NULL")
			continue
		}
		w = append(w, "t."+fl.column()+" = ?")
		args = append(args, toDB(fl, val))
	}
	addTime := func(col, op string, t time.Time) {
		if !t.IsZero() {
			w = append(w, "t."+col+" "+op+" ?")
			args = append(args, ms(t))
		}
	}
	addTime("created_at", ">=", f.CreatedFrom)
	addTime("created_at", "<", f.CreatedTo)
	addTime("updated_at", ">=", f.UpdatedFrom)
	addTime("updated_at", "<", f.UpdatedTo)
	addTime("updated_at", ">=", f.UpdatedSince)
	if !f.DueBefore.IsZero() && d.Entity == EntTasks {
		w = append(w, "t.due_at <> 0 AND t.due_at < ?")
		args = append(args, ms(f.DueBefore))
	}
	if err := fe.err(); err != nil {
		return "", nil, err
	}
	return strings.Join(w, " AND "), args, nil
}
