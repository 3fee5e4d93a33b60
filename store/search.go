package store

import (
	"context"
	"database/sql"
	"strings"
	"unicode"
)

// This file holds Cartera's full-text search: the only place that knows the
// FTS5 table search_index. Each searchable record has one row whose rowid
// is id*8 + the entity's code and whose body is the text to match.

// searchBody returns the SQL expression of a record's searchable text and
// the FROM clause it reads, for one row or in bulk.
func searchBody(e Entity) (expr, from string) {
	switch e {
	case EntAccounts:
		return `t.name || ' ' || t.city || ' ' || t.email || ' ' || t.tax_id || ' ' || t.phone_digits`, `accounts t`
	case EntContacts:
		return `t.first_name || ' ' || t.last_name || ' ' || t.email || ' ' || t.title || ' ' || t.phone_digits || ' ' || t.mobile_digits || ' ' || COALESCE(a.name, '')`,
			`contacts t LEFT JOIN accounts a ON a.id = t.account_id AND a.deleted_at = 0`
	case EntLeads:
		return `t.first_name || ' ' || t.last_name || ' ' || t.company || ' ' || t.email || ' ' || t.title || ' ' || t.phone_digits`, `leads t`
	case EntOpportunities:
		return `t.name || ' ' || COALESCE(a.name, '')`, `opportunities t LEFT JOIN accounts a ON a.id = t.account_id AND a.deleted_at = 0`
	case EntCases:
		return `t.subject || ' ' || substr(t.description, 1, 2000) || ' ' || COALESCE(a.name, '')`, `cases t LEFT JOIN accounts a ON a.id = t.account_id AND a.deleted_at = 0`
	}
	return "", ""
}

// indexRecord (re)writes the search row of one record.
func (s *Store) indexRecord(ctx context.Context, tx *sql.Tx, d *EntityDef, id int64) error {
	if err := s.unindexRecord(ctx, tx, d, id); err != nil {
		return err
	}
	expr, from := searchBody(d.Entity)
	_, err := tx.ExecContext(ctx, `INSERT INTO search_index (rowid, body) SELECT t.id * 8 + ?, `+expr+` FROM `+from+` WHERE t.id = ? AND t.deleted_at = 0`, d.searchCode, id)
	return err
}

func (s *Store) unindexRecord(ctx context.Context, tx *sql.Tx, d *EntityDef, id int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM search_index WHERE rowid = ?`, id*8+d.searchCode)
	return err
}

// reindexWhere rewrites the search rows of the records matching a
// condition, e.g. the contacts of a renamed account.
func (s *Store) reindexWhere(ctx context.Context, tx *sql.Tx, e Entity, cond string, args ...any) error {
	d := defs[e]
	rows, err := tx.QueryContext(ctx, "SELECT id FROM "+d.Table+" WHERE deleted_at = 0 AND "+cond, args...)
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
	for _, id := range ids {
		if err := s.indexRecord(ctx, tx, d, id); err != nil {
			return err
		}
	}
	return nil
}

// RebuildSearch rebuilds the whole search index in bulk, which is far
// faster than row by row after a large import or data generation.
func (s *Store) RebuildSearch(ctx context.Context, a *Actor) error {
	if !a.System && !a.Has(CapImport) {
		return errForbidden()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM search_index`); err != nil {
			return err
		}
		for _, e := range RecordEntities {
			d := defs[e]
			if !d.Searchable {
				continue
			}
			expr, from := searchBody(e)
			if _, err := tx.ExecContext(ctx, `INSERT INTO search_index (rowid, body) SELECT t.id * 8 + ?, `+expr+` FROM `+from+` WHERE t.deleted_at = 0`, d.searchCode); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO search_index (search_index) VALUES ('optimize')`)
		return err
	})
}

// ftsQuery turns what a person typed into a safe FTS5 query: every word
// becomes a quoted prefix term, so no FTS syntax can be injected. A query
// that is mostly a phone number becomes its digits. It returns "" when
// nothing searchable is left.
func ftsQuery(q string) string {
	q = strings.TrimSpace(q)
	if q == "" {
		return ""
	}
	digitsOnly := true
	nd := 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			nd++
		case r == ' ' || r == '+' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			digitsOnly = false
		}
	}
	if digitsOnly && nd >= 3 {
		return `"` + digitsOf(q) + `"*`
	}
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) })
	var parts []string
	for i, w := range words {
		if i >= 8 {
			break
		}
		parts = append(parts, `"`+w+`"*`)
	}
	return strings.Join(parts, " ")
}

// SearchGroup holds the best matches of one record type.
type SearchGroup struct {
	Entity  Entity
	Records []*Record
}

// Search finds records across accounts, contacts, leads, opportunities and
// cases, accent- and case-insensitively with prefix matching, returning at
// most perType of each type the actor may view, best first.
func (s *Store) Search(ctx context.Context, a *Actor, q string, perType int) ([]SearchGroup, error) {
	if a == nil {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	m := ftsQuery(q)
	if m == "" {
		return nil, nil
	}
	if perType <= 0 || perType > 50 {
		perType = 5
	}
	var out []SearchGroup
	err := s.read(ctx, func(tx *sql.Tx) error {
		for _, e := range RecordEntities {
			d := defs[e]
			if !d.Searchable || !a.Can(e, ActView) {
				continue
			}
			recs, err := s.searchEntity(ctx, tx, a, d, m, perType)
			if err != nil {
				return err
			}
			if len(recs) > 0 {
				out = append(out, SearchGroup{Entity: e, Records: recs})
			}
		}
		return nil
	})
	return out, err
}

func (s *Store) searchEntity(ctx context.Context, tx *sql.Tx, a *Actor, d *EntityDef, match string, limit int) ([]*Record, error) {
	cond, args := a.scopeSQL(d.Entity, ActView, "t.owner_id")
	q := `SELECT t.id FROM search_index s JOIN ` + d.Table + ` t ON t.id = (s.rowid >> 3)
		WHERE search_index MATCH ? AND (s.rowid & 7) = ? AND t.deleted_at = 0 AND ` + cond + ` ORDER BY s.rank LIMIT ?`
	rows, err := tx.QueryContext(ctx, q, append(append([]any{match, d.searchCode}, args...), limit)...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return s.recordsByID(ctx, tx, a, d, ids)
}

// recordsByID loads records in the order of ids.
func (s *Store) recordsByID(ctx context.Context, q querier, a *Actor, d *EntityDef, ids []int64) ([]*Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	set := map[int64]bool{}
	for _, id := range ids {
		set[id] = true
	}
	ph, args := inList(set)
	rows, err := q.QueryContext(ctx, d.selectSQL()+" WHERE t.id IN ("+ph+")", args...)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*Record{}
	for rows.Next() {
		r, err := d.scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		byID[r.ID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*Record, 0, len(ids))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			out = append(out, r)
		}
	}
	return out, s.decorate(ctx, q, a, d, out)
}
