package store

import (
	"context"
	"database/sql"
)

// exportPage is how many records an export reads per query.
const exportPage = 1000

// ExportRecords hands every record a list filter matches to fn, a page at
// a time in the list's order, so a million records stream in flat memory.
// It needs the export permission; scope applies as for lists. The export
// is written to the audit log with its count.
func (s *Store) ExportRecords(ctx context.Context, a *Actor, e Entity, f Filter, fn func([]*Record) error) (int, error) {
	if s.def(e) == nil {
		return 0, errNotFound()
	}
	if !a.Can(e, ActExport) || !a.Can(e, ActView) {
		return 0, errForbidden()
	}
	f.Cursor, f.Limit, f.bulk = "", exportPage, true
	n := 0
	for {
		recs, next, err := s.FindRecords(ctx, a, e, f)
		if err != nil {
			return n, err
		}
		if err := fn(recs); err != nil {
			return n, err
		}
		n += len(recs)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.audit(ctx, tx, a, "export", string(e), 0, map[string]any{"records": n, "q": f.Q, "filters": f.Eq, "tags": f.Tags})
	})
	return n, err
}
