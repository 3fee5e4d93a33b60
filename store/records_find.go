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
	SLA          string    // cases: "at_risk" or "breached" (store/service.go)

	// commonTags are filter tags carried by many records: for them a list
	// walks its sort index and probes each row's tags instead of sorting
	// every tagged record.
	commonTags map[string]bool
	// tagDriven means the query reads record_tags in sort_key order, so
	// the tag is its driving table rather than a condition.
	tagDriven bool
}

// commonTagThreshold is the number of tagged records above which walking
// the sort index beats sorting the tagged records.
var commonTagThreshold = 2000

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
	d := s.def(e)
	if d == nil {
		return nil, "", errNotFound()
	}
	if !a.Can(e, ActView) {
		return nil, "", errForbidden()
	}
	for _, tag := range f.Tags {
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM record_tags rt JOIN tags tg ON tg.id = rt.tag_id WHERE tg.name = ? AND rt.entity = ?`, tag, string(e)).Scan(&n); err != nil {
			return nil, "", errInternal(err)
		}
		if n > commonTagThreshold {
			if f.commonTags == nil {
				f.commonTags = map[string]bool{}
			}
			f.commonTags[tag] = true
		}
	}
	col, desc, _ := d.sortSpec(f.Sort)
	if len(f.Tags) == 1 && f.commonTags[strings.TrimSpace(f.Tags[0])] && col == "t.name_key" && d.Tagged {
		f.tagDriven = true
	}
	where, args, err := s.filterSQL(a, d, f, ActView)
	if err != nil {
		return nil, "", err
	}
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
	// Two steps: the ids of the page first, through the sort index and
	// without touching table rows that the filters reject; then the rows.
	q := "SELECT t.id, " + col + " FROM " + d.Table + " t WHERE " + where + " ORDER BY " + col + " " + dir + ", t.id " + dir + " LIMIT ?"
	if f.tagDriven {
		// One common tag, sorted by name: walk that tag's entries in name
		// order (record_tags.sort_key mirrors name_key, kept by triggers).
		q = "SELECT t.id, rt.sort_key FROM record_tags rt JOIN " + d.Table + " t ON t.id = rt.record_id WHERE rt.tag_id = (SELECT tg.id FROM tags tg WHERE tg.name = ?) AND rt.entity = ? AND " +
			strings.ReplaceAll(where, "(t.name_key, t.id)", "(rt.sort_key, rt.record_id)") + " ORDER BY rt.sort_key " + dir + ", rt.record_id " + dir + " LIMIT ?"
		args = append([]any{strings.TrimSpace(f.Tags[0]), string(e)}, args...)
	}
	args = append(args, limit+1)
	var recs []*Record
	var next string
	err = s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		var ids []int64
		var lastV any
		for rows.Next() {
			var id int64
			var v any
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return err
			}
			if len(ids) < limit {
				ids = append(ids, id)
				lastV = v
			} else {
				next = "more"
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if next != "" {
			if b, ok := lastV.([]byte); ok {
				lastV = string(b)
			}
			next = encodeCursor(lastV, ids[len(ids)-1])
		}
		recs, err = s.recordsByID(ctx, tx, a, d, ids)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return recs, next, nil
}

// CountRecords counts the records a filter matches, for list headers and
// board columns.
func (s *Store) CountRecords(ctx context.Context, a *Actor, e Entity, f Filter) (int64, error) {
	d := s.def(e)
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
	owner := "t.owner_id"
	for key, v := range f.Eq {
		if fl, ok := d.Field(key); ok && fl.Kind == KRef && v != "" && v != "0" {
			// A link (the contacts of an account) is far more selective
			// than an owner: "+" keeps SQLite on the link's index.
			owner = "+t.owner_id"
		}
	}
	cond, args := a.scopeSQL(d.Entity, act, owner)
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
		if tag = strings.TrimSpace(tag); tag == "" || f.tagDriven {
			continue
		}
		if f.commonTags[tag] {
			w = append(w, "EXISTS (SELECT 1 FROM record_tags rt WHERE rt.entity = ? AND rt.record_id = t.id AND rt.tag_id = (SELECT tg.id FROM tags tg WHERE tg.name = ?))")
		} else {
			w = append(w, "t.id IN (SELECT rt.record_id FROM record_tags rt JOIN tags tg ON tg.id = rt.tag_id WHERE rt.entity = ? AND tg.name = ?)")
		}
		args = append(args, string(d.Entity), tag)
	}
	if f.OwnerID != 0 {
		w = append(w, "t.owner_id = ?")
		args = append(args, f.OwnerID)
	}
	for key, v := range f.Eq {
		if ck, isCustom := strings.CutPrefix(key, "custom."); isCustom {
			c, ok := d.CustomField(ck)
			if !ok || !c.Filterable {
				fe.add(key, "error.unknown_field")
				continue
			}
			cond, cargs, k := customFilter(c, v)
			if k != "" {
				fe.add(key, k)
				continue
			}
			w = append(w, cond)
			args = append(args, cargs...)
			continue
		}
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
	if f.SLA != "" {
		cond, sargs, ok := slaFilter(f.SLA, s.now())
		if !ok || d.Entity != EntCases {
			fe.add("sla", "error.option")
		} else {
			w = append(w, cond)
			args = append(args, sargs...)
		}
	}
	if err := fe.err(); err != nil {
		return "", nil, err
	}
	return strings.Join(w, " AND "), args, nil
}
