package store

import (
	"context"
	"database/sql"
	"fmt"
)

// LoadOptions tune a bulk load.
type LoadOptions struct {
	// Batch commits every Batch records; 0 loads everything in one
	// transaction (all or nothing).
	Batch int
	// DeferIndexes drops the record tables' secondary indexes for the load
	// and rebuilds them at the end, which is several times faster for
	// millions of rows. Only for loads into a database nobody else uses.
	DeferIndexes bool
	// Fast trades durability for speed during the load (synchronous=OFF
	// and a large page cache on the writer): a crash mid-load may corrupt
	// the file. Only for generating data into a throwaway database.
	Fast bool
}

// Loader creates many records quickly: prepared statements reused per
// record type, no per-record audit entry (one for the whole load) and the
// search index rebuilt once at the end. Every record is validated as
// CreateRecord validates it.
type Loader struct {
	s      *Store
	ctx    context.Context
	a      *Actor
	opts   LoadOptions
	tx     *sql.Tx
	stmts  map[string]*sql.Stmt
	tagIDs map[string]int64
	cache  *loadCache
	n      int
	total  int
}

// Load runs fn with a Loader. Afterwards the search index is rebuilt and
// dropped indexes are recreated, even when fn fails.
func (s *Store) Load(ctx context.Context, a *Actor, opts LoadOptions, fn func(*Loader) error) (err error) {
	if !a.System && !a.Has(CapImport) {
		return errForbidden()
	}
	if opts.Fast {
		// SQLite-specific tuning, undone when the load ends.
		if _, err := s.w.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
			return errInternal(err)
		}
		s.w.ExecContext(ctx, `PRAGMA cache_size = -262144`)
		defer func() {
			c := context.WithoutCancel(ctx)
			s.w.ExecContext(c, `PRAGMA wal_checkpoint(TRUNCATE)`)
			s.w.ExecContext(c, `PRAGMA synchronous = FULL`)
			s.w.ExecContext(c, `PRAGMA cache_size = -16000`)
		}()
	}
	var dropped []string
	if opts.DeferIndexes {
		if dropped, err = s.dropRecordIndexes(ctx); err != nil {
			return errInternal(err)
		}
		defer func() {
			for _, q := range dropped {
				if _, e := s.w.ExecContext(context.WithoutCancel(ctx), q); e != nil && err == nil {
					err = errInternal(fmt.Errorf("recreating index: %w", e))
				}
			}
		}()
	}
	l := &Loader{s: s, ctx: ctx, a: a, opts: opts, stmts: map[string]*sql.Stmt{}, tagIDs: map[string]int64{}, cache: newLoadCache()}
	if err := l.begin(); err != nil {
		return err
	}
	if err := fn(l); err != nil {
		l.rollback()
		return wrapErr(err)
	}
	if err := s.audit(ctx, l.tx, a, "load", "records", 0, map[string]any{"records": l.total}); err != nil {
		l.rollback()
		return errInternal(err)
	}
	if err := l.commit(); err != nil {
		return err
	}
	return s.RebuildSearch(ctx, a)
}

func (s *Store) dropRecordIndexes(ctx context.Context) ([]string, error) {
	var out, names []string
	rows, err := s.w.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN
		('accounts','contacts','leads','opportunities','activities','tasks','cases','record_tags','stage_history','field_history')`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, name)
		out = append(out, q)
	}
	rows.Close()
	for _, n := range names {
		if _, err := s.w.ExecContext(ctx, `DROP INDEX "`+n+`"`); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (l *Loader) begin() error {
	tx, err := l.s.w.BeginTx(l.ctx, nil)
	if err != nil {
		return errInternal(err)
	}
	l.tx = tx
	l.stmts = map[string]*sql.Stmt{}
	return nil
}

func (l *Loader) rollback() {
	for _, st := range l.stmts {
		st.Close()
	}
	l.tx.Rollback()
}

func (l *Loader) commit() error {
	for _, st := range l.stmts {
		st.Close()
	}
	if err := l.tx.Commit(); err != nil {
		return errInternal(err)
	}
	return nil
}

func (l *Loader) stmt(q string) (*sql.Stmt, error) {
	if st, ok := l.stmts[q]; ok {
		return st, nil
	}
	st, err := l.tx.PrepareContext(l.ctx, q)
	if err != nil {
		return nil, err
	}
	l.stmts[q] = st
	return st, nil
}

// Create validates and inserts one record and returns its id.
func (l *Loader) Create(e Entity, in Input) (int64, error) {
	d := l.s.def(e)
	if d == nil {
		return 0, errNotFound()
	}
	if !l.a.Can(e, ActCreate) {
		return 0, errForbidden()
	}
	row, err := l.s.prepareCreate(l.ctx, l.tx, l.a, d, in, l.s.now(), l.cache)
	if err != nil {
		return 0, err
	}
	st, err := l.stmt(row.sql)
	if err != nil {
		return 0, errInternal(err)
	}
	res, err := st.ExecContext(l.ctx, row.args...)
	if err != nil {
		return 0, errInternal(err)
	}
	id, _ := res.LastInsertId()
	if err := l.s.afterCreate(l.ctx, l.tx, l.a, d, id, in, row, l.tagIDs); err != nil {
		return 0, wrapErr(err)
	}
	l.cache.remember(e, id)
	l.n++
	l.total++
	if l.opts.Batch > 0 && l.n >= l.opts.Batch {
		if err := l.commit(); err != nil {
			return 0, err
		}
		l.n = 0
		if err := l.begin(); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// Count is how many records the loader has created so far.
func (l *Loader) Count() int { return l.total }
