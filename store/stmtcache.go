package store

import (
	"context"
	"database/sql"
)

// A batch that runs the same statements for hundreds of rows (an import)
// prepares each once per transaction instead of once per row: the
// transaction's statements are cached in the context it passes down.

type stmtCacheKey struct{}

type stmtCache struct {
	tx *sql.Tx
	m  map[string]*sql.Stmt
}

// withStmtCache returns a context whose tx statements run through
// execTx and queryRowTx are prepared once; they close with the tx.
func withStmtCache(ctx context.Context, tx *sql.Tx) context.Context {
	return context.WithValue(ctx, stmtCacheKey{}, &stmtCache{tx: tx, m: map[string]*sql.Stmt{}})
}

func cachedStmt(ctx context.Context, q querier, query string) (*sql.Stmt, bool, error) {
	c, ok := ctx.Value(stmtCacheKey{}).(*stmtCache)
	if !ok || any(c.tx) != any(q) {
		return nil, false, nil
	}
	if st, ok := c.m[query]; ok {
		return st, true, nil
	}
	st, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, true, err
	}
	c.m[query] = st
	return st, true, nil
}

// execTx runs a statement in tx, prepared once per batch when the context
// carries a statement cache.
func execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, ok, err := cachedStmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	if ok {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// queryRowTx is execTx for a query of one row.
func queryRowTx(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	st, ok, err := cachedStmt(ctx, q, query)
	if ok && err == nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

type quietAuditKey struct{}

// withQuietAudit marks a batch that is audited as a whole (an import, whose
// every change is also in import_changes), so records created in it do not
// each add an audit line.
func withQuietAudit(ctx context.Context) context.Context {
	return context.WithValue(ctx, quietAuditKey{}, true)
}

func quietAudit(ctx context.Context) bool { b, _ := ctx.Value(quietAuditKey{}).(bool); return b }

type ownerCacheKey struct{}

// ownerCheck is an owner already accepted for a record type in a batch.
type ownerCheck struct {
	e     Entity
	owner int64
}

// withOwnerCache lets a batch by one actor in one transaction check each
// owner once per record type rather than once per record.
func withOwnerCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownerCacheKey{}, map[ownerCheck]bool{})
}

type deferredIndexKey struct{}

// deferredIndex collects the records a batch created, so their search rows
// are written in one statement per record type when the batch ends.
type deferredIndex struct {
	ids map[Entity][]int64
}

func (p *deferredIndex) add(d *EntityDef, id int64) {
	p.ids[d.Entity] = append(p.ids[d.Entity], id)
}

// withDeferredIndex returns a context whose created records are indexed by
// flushIndex instead of one by one.
func withDeferredIndex(ctx context.Context) (context.Context, *deferredIndex) {
	p := &deferredIndex{ids: map[Entity][]int64{}}
	return context.WithValue(ctx, deferredIndexKey{}, p), p
}

// flushIndex writes the search rows of the records a batch created (those
// still live: a row rolled back to its savepoint is gone).
func (s *Store) flushIndex(ctx context.Context, tx *sql.Tx, p *deferredIndex) error {
	for e, ids := range p.ids {
		d := s.def(e)
		set := make(map[int64]bool, len(ids))
		for _, id := range ids {
			set[id] = true
		}
		ph, args := inList(set)
		expr, from := searchBody(d)
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO search_index (rowid, body) SELECT t.id * 8 + ?, `+expr+` FROM `+from+` WHERE t.id IN (`+ph+`) AND t.deleted_at = 0`, append([]any{d.searchCode}, args...)...); err != nil {
			return err
		}
	}
	p.ids = map[Entity][]int64{}
	return nil
}
