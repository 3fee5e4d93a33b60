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
	// One reader connection for the whole export, with a larger page
	// cache: the linked clients and tags it looks up page after page then
	// stay in memory instead of being read from the file again.
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return 0, errInternal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -16000`); err == nil {
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = -4000`)
	}
	cache := &exportCache{titles: map[Entity]map[int64]string{}}
	// The next page is read while the caller writes the current one, so
	// the file is written at the speed of the slower of the two.
	type page struct {
		recs []*Record
		err  error
	}
	pages := make(chan page, 1)
	stop, done := make(chan struct{}), make(chan struct{})
	defer func() {
		// The reader must be off the connection before it is released.
		close(stop)
		<-done
	}()
	go func() {
		defer close(done)
		defer close(pages)
		var last int64
		for {
			var recs []*Record
			err := func() error {
				tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
				if err != nil {
					return err
				}
				defer tx.Rollback()
				rows, err := tx.QueryContext(ctx, q, append(args, last)...)
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
					recs = append(recs, r)
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
				return s.exportDecorate(ctx, tx, a, d, recs, cache)
			}()
			select {
			case pages <- page{recs, err}:
			case <-stop:
				return
			}
			if err != nil || len(recs) < exportPage {
				return
			}
			last = recs[len(recs)-1].ID
		}
	}()
	n := 0
	for pg := range pages {
		if pg.err != nil {
			return n, wrapErr(pg.err)
		}
		if len(pg.recs) == 0 {
			break
		}
		if err := fn(pg.recs); err != nil {
			return n, err
		}
		n += len(pg.recs)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		return s.audit(ctx, tx, a, "export", string(e), 0, map[string]any{"records": n, "q": f.Q, "filters": f.Eq, "tags": f.Tags})
	})
	return n, err
}

// exportCache keeps what an export looks up for every page.
type exportCache struct {
	// titles are the titles of every record of a linked type the actor may
	// view, loaded once when the type is small enough (clients, typically).
	titles map[Entity]map[int64]string
}

// maxPreloadedTitles bounds the linked records an export keeps in memory.
const maxPreloadedTitles = 200_000

// exportDecorate is decorate for an export's pages, which come in id
// order: linked titles from one preloaded map, tags by id range.
func (s *Store) exportDecorate(ctx context.Context, q querier, a *Actor, d *EntityDef, recs []*Record, c *exportCache) error {
	if len(recs) == 0 {
		return nil
	}
	perPage := false
	for _, f := range d.Fields {
		if f.Kind != KRef {
			continue
		}
		titles, ok := c.titles[f.Ref]
		if !ok {
			td := s.def(f.Ref)
			var count int
			if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+td.Table+" WHERE deleted_at = 0").Scan(&count); err != nil {
				return err
			}
			if count <= maxPreloadedTitles {
				titles = map[int64]string{}
				cond, args := a.scopeSQL(f.Ref, ActView, "x.owner_id")
				rows, err := q.QueryContext(ctx, "SELECT x.id, "+titleSQL(f.Ref, "x")+" FROM "+td.Table+" x WHERE x.deleted_at = 0 AND "+cond, args...)
				if err != nil {
					return err
				}
				for rows.Next() {
					var id int64
					var t string
					if err := rows.Scan(&id, &t); err != nil {
						rows.Close()
						return err
					}
					titles[id] = t
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
			}
			c.titles[f.Ref] = titles
		}
		if titles == nil {
			perPage = true
			continue
		}
		for _, r := range recs {
			if id := r.Int(f.Key); id != 0 {
				if t, ok := titles[id]; ok {
					r.Refs[f.Key] = t
				}
			}
		}
	}
	if perPage || d.Entity == EntOpportunities {
		// Large link targets and contact roles: the general lookups.
		return s.decorate(ctx, q, a, d, recs)
	}
	if d.Tagged {
		byID := make(map[int64]*Record, len(recs))
		for _, r := range recs {
			byID[r.ID] = r
			r.Tags = []string{}
		}
		rows, err := q.QueryContext(ctx, `SELECT rt.record_id, t.name FROM record_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.entity = ? AND rt.record_id BETWEEN ? AND ? ORDER BY rt.record_id, t.name_key`,
			string(d.Entity), recs[0].ID, recs[len(recs)-1].ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return err
			}
			if r, ok := byID[id]; ok {
				r.Tags = append(r.Tags, name)
			}
		}
		rows.Close()
		return rows.Err()
	}
	return nil
}
