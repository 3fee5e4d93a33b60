package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"unicode"
)

// This file holds Cartera's full-text search: the only place that knows the
// FTS5 table search_index. Each searchable record has one row whose rowid
// is id*8 + the entity's code and whose body is the text to match.

// searchBody returns the SQL expression of a record's searchable text and
// the FROM clause it reads, for one row or in bulk.
func searchBody(d *EntityDef) (expr, from string) {
	expr, from = baseSearchBody(d.Entity)
	for _, c := range d.Custom {
		if c.Searchable {
			expr += ` || ' ' || COALESCE(` + customExpr(c.Key) + `, '')`
		}
	}
	return expr, from
}

func baseSearchBody(e Entity) (expr, from string) {
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
	return s.indexNewRecord(ctx, tx, d, id)
}

// indexNewRecord writes the search row of a record that has none yet.
func (s *Store) indexNewRecord(ctx context.Context, tx *sql.Tx, d *EntityDef, id int64) error {
	expr, from := searchBody(d)
	_, err := execTx(ctx, tx, `INSERT INTO search_index (rowid, body) SELECT t.id * 8 + ?, `+expr+` FROM `+from+` WHERE t.id = ? AND t.deleted_at = 0`, d.searchCode, id)
	return err
}

func (s *Store) unindexRecord(ctx context.Context, tx *sql.Tx, d *EntityDef, id int64) error {
	_, err := execTx(ctx, tx, `DELETE FROM search_index WHERE rowid = ?`, id*8+d.searchCode)
	return err
}

// reindexWhere rewrites the search rows of the records matching a
// condition, e.g. the contacts of a renamed account.
func (s *Store) reindexWhere(ctx context.Context, tx *sql.Tx, e Entity, cond string, args ...any) error {
	d := s.def(e)
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
			d := s.def(e)
			if !d.Searchable {
				continue
			}
			expr, from := searchBody(d)
			if _, err := tx.ExecContext(ctx, `INSERT INTO search_index (rowid, body) SELECT t.id * 8 + ?, `+expr+` FROM `+from+` WHERE t.deleted_at = 0`, d.searchCode); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO search_index (search_index) VALUES ('optimize')`)
		return err
	})
}

// reindexAll rewrites the search rows of every record of a type under a
// changed description (a custom field became searchable), inside the
// transaction that changes it.
func (s *Store) reindexAll(ctx context.Context, tx *sql.Tx, e Entity, change func(d *EntityDef)) error {
	cur := s.def(e)
	if !cur.Searchable {
		return nil
	}
	d := *cur
	change(&d)
	expr, from := searchBody(&d)
	if _, err := tx.ExecContext(ctx, `DELETE FROM search_index WHERE (rowid & 7) = ?`, d.searchCode); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO search_index (rowid, body) SELECT t.id * 8 + ?, `+expr+` FROM `+from+` WHERE t.deleted_at = 0`, d.searchCode)
	return err
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
		have := map[Entity][]int64{}
		need := map[Entity]int{}
		var order []Entity
		for _, e := range RecordEntities {
			d := s.def(e)
			if !d.Searchable || !a.Can(e, ActView) {
				continue
			}
			order = append(order, e)
			ids, err := s.searchEntity(ctx, tx, a, d, q, perType)
			if err != nil {
				return err
			}
			have[e] = ids
			if len(ids) < perType {
				need[e] = perType - len(ids)
			}
		}
		found := 0
		for _, ids := range have {
			found += len(ids)
		}
		// The full-text pass only when the keys found too little: while a
		// name is being typed, its key matches are the answer.
		if len([]rune(foldKey(q))) >= 3 && found < perType {
			if err := s.searchFTS(ctx, tx, a, q, need, have); err != nil {
				return err
			}
		}
		for _, e := range order {
			recs, err := s.recordsByID(ctx, tx, a, s.def(e), have[e])
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

// searchEntity finds up to limit records of one type. It first reads
// sorted keys through indexes (name in both orders, e-mail, phone digits,
// tax id, and the records of clients whose name matches), which costs the
// same with a million records as with a hundred; only when those give too
// few results does it fall back to the full-text index, bounded to its most
// recent matches, so that no query ranks tens of thousands of rows.
func (s *Store) searchEntity(ctx context.Context, tx *sql.Tx, a *Actor, d *EntityDef, q string, limit int) ([]int64, error) {
	cond, cargs := a.scopeSQL(d.Entity, ActView, "t.owner_id")
	// For e-mail, phone, tax id and client lookups the key's own index must
	// drive the query; "+t.owner_id" stops SQLite from preferring the owner
	// index and then filtering a salesperson's thousands of records.
	condKey, _ := a.scopeSQL(d.Entity, ActView, "+t.owner_id")
	fq := foldKey(q)
	var ids []int64
	seen := map[int64]bool{}
	add := func(query string, args ...any) error {
		if len(ids) >= limit {
			return nil
		}
		rows, err := tx.QueryContext(ctx, query, append(append(args, cargs...), limit-len(ids))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		return rows.Err()
	}
	prefix := func(col string, v string) error {
		if v == "" {
			return nil
		}
		c := condKey
		if col == "name_key" || col == "alt_key" {
			c = cond // (owner_id, key) indexes serve names best
		}
		// "col <> ''" lets SQLite use the partial indexes on these keys.
		return add("SELECT t.id FROM "+d.Table+" t WHERE t."+col+" >= ? AND t."+col+" < ? AND t."+col+" <> '' AND t.deleted_at = 0 AND "+c+" ORDER BY t."+col+", t.id LIMIT ?", v, v+"\uffff")
	}
	digits := digitsOf(q)
	isPhone := ftsQuery(q) == `"`+digits+`"*` && len(digits) >= 3
	if isPhone {
		for _, col := range []string{"phone_digits", "mobile_digits"} {
			if _, ok := d.Field(strings.TrimSuffix(col, "_digits")); ok {
				if err := prefix(col, digits); err != nil {
					return nil, err
				}
			}
		}
	} else {
		if err := prefix("name_key", fq); err != nil {
			return nil, err
		}
		if d.Entity == EntContacts || d.Entity == EntLeads {
			if err := prefix("alt_key", fq); err != nil {
				return nil, err
			}
		}
		if _, ok := d.Field("email"); ok && !strings.Contains(fq, " ") {
			if err := prefix("email_key", strings.ToLower(strings.TrimSpace(q))); err != nil {
				return nil, err
			}
		}
		if d.Entity == EntAccounts {
			if err := prefix("tax_id_key", strings.ToUpper(strings.TrimSpace(q))); err != nil {
				return nil, err
			}
		}
		if _, ok := d.Field("account_id"); ok && d.Entity != EntActivities && d.Entity != EntTasks && len(fq) >= 2 && a.Can(EntAccounts, ActView) {
			acond, aargs := a.scopeSQL(EntAccounts, ActView, "x.owner_id")
			// Records of the first few clients whose name starts with q
			// ("Empresa ABC" lists that client's contacts).
			err := add("SELECT t.id FROM "+d.Table+" t WHERE t.account_id IN (SELECT x.id FROM accounts x WHERE x.name_key >= ? AND x.name_key < ? AND x.deleted_at = 0 AND "+acond+" ORDER BY x.name_key LIMIT 5) AND t.deleted_at = 0 AND "+condKey+" LIMIT ?",
				append([]any{fq, fq + "\uffff"}, aargs...)...)
			if err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

// searchFTS completes key-based results from the full-text index: one
// MATCH over the most recent matches of every type, then, per type with
// room left, the ones the actor may view. Bounding the MATCH keeps a
// common word from costing a ranking of tens of thousands of rows.
func (s *Store) searchFTS(ctx context.Context, tx *sql.Tx, a *Actor, q string, need map[Entity]int, have map[Entity][]int64) error {
	m := ftsQuery(q)
	if m == "" || len(need) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT rowid FROM search_index WHERE search_index MATCH ? ORDER BY rowid DESC LIMIT 3000`, m)
	if err != nil {
		return err
	}
	byCode := map[int64][]int64{}
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			rows.Close()
			return err
		}
		byCode[r&7] = append(byCode[r&7], r>>3)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for e, n := range need {
		d := s.def(e)
		cands := byCode[d.searchCode]
		if len(cands) == 0 || n <= 0 {
			continue
		}
		list, _ := json.Marshal(cands)
		cond, cargs := a.scopeSQL(e, ActView, "t.owner_id")
		r2, err := tx.QueryContext(ctx, "SELECT t.id FROM "+d.Table+" t WHERE t.id IN (SELECT value FROM json_each(?)) AND t.deleted_at = 0 AND "+cond+" ORDER BY t.id DESC LIMIT ?",
			append(append([]any{string(list)}, cargs...), n+len(have[e]))...)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, id := range have[e] {
			seen[id] = true
		}
		for r2.Next() {
			var id int64
			if err := r2.Scan(&id); err != nil {
				r2.Close()
				return err
			}
			if !seen[id] && n > 0 {
				have[e] = append(have[e], id)
				seen[id] = true
				n--
			}
		}
		r2.Close()
		if err := r2.Err(); err != nil {
			return err
		}
	}
	return nil
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
	sc := d.newScanner()
	for rows.Next() {
		r, err := sc.scan(rows)
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
