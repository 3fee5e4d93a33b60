package store

import (
	"context"
	"database/sql"
	"strconv"
)

// exportPage is how many records an export reads per query.
const exportPage = 1000

// ExportRecords hands every record a list filter matches to fn, a page at
// a time in creation (id) order, so a million records stream in flat memory.
// It needs the export permission; scope applies as for lists. The export
// is written to the audit log with its count.
func (s *Store) ExportRecords(ctx context.Context, a *Actor, e Entity, f Filter, fn func([]*Record) error) (int, error) {
	if s.def(e) == nil {
		return 0, errNotFound()
	}
	if !a.Can(e, ActExport) || !a.Can(e, ActView) {
		return 0, errForbidden()
	}
	// An export reads in id order: a walk of the table itself, not of a
	// sort index with a row lookup each, so a million rows take seconds.
	d := s.def(e)
	f.Cursor, f.Sort = "", ""
	where, args, err := s.filterSQL(a, d, f, ActView)
	if err != nil {
		return 0, err
	}
	q := d.selectSQL() + " WHERE " + where + " AND t.id > ? ORDER BY t.id LIMIT " + strconv.Itoa(exportPage)
	n := 0
	var last int64
	for {
		var recs []*Record
		err := s.read(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, q, append(args, last)...)
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
			return s.decorate(ctx, tx, a, d, recs)
		})
		if err != nil {
			return n, err
		}
		if len(recs) == 0 {
			break
		}
		if err := fn(recs); err != nil {
			return n, err
		}
		n += len(recs)
		last = recs[len(recs)-1].ID
		if len(recs) < exportPage {
			break
		}
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		return s.audit(ctx, tx, a, "export", string(e), 0, map[string]any{"records": n, "q": f.Q, "filters": f.Eq, "tags": f.Tags})
	})
	return n, err
}
