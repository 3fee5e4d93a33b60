package store

import (
	"context"
	"database/sql"
	"net/url"
	"time"
)

// SavedView is a user's named list filter ("my open opportunities"): the
// list page's query string, kept per user and record type.
type SavedView struct {
	ID        int64
	Entity    Entity
	Name      string
	Query     string
	CreatedAt time.Time
}

// FindSavedViews lists the actor's saved views of a record type.
func (s *Store) FindSavedViews(ctx context.Context, a *Actor, e Entity) ([]*SavedView, error) {
	if a == nil || a.UserID == 0 {
		return nil, nil
	}
	var out []*SavedView
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, entity, name, query, created_at FROM saved_views WHERE user_id = ? AND entity = ? ORDER BY name`, a.UserID, string(e))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v := &SavedView{}
			var ca int64
			if err := rows.Scan(&v.ID, &v.Entity, &v.Name, &v.Query, &ca); err != nil {
				return err
			}
			v.CreatedAt = fromMS(ca)
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// SaveView stores (or replaces, by name) one of the actor's views.
func (s *Store) SaveView(ctx context.Context, a *Actor, e Entity, name, query string) (*SavedView, error) {
	if a == nil || a.UserID == 0 || defs[e] == nil {
		return nil, errForbidden()
	}
	name, k := cleanText(name, true, 100)
	if k != "" {
		return nil, errInvalid(map[string]string{"name": k})
	}
	if _, err := url.ParseQuery(query); err != nil || len(query) > 2000 {
		return nil, errInvalid(map[string]string{"query": "error.invalid"})
	}
	v := &SavedView{Entity: e, Name: name, Query: query, CreatedAt: fromMS(s.nowMS())}
	err := s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO saved_views (user_id, entity, name, query, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(user_id, entity, name) DO UPDATE SET query = excluded.query RETURNING id`, a.UserID, string(e), name, query, ms(v.CreatedAt)).Scan(&v.ID)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// DeleteView removes one of the actor's views; others' views are not_found.
func (s *Store) DeleteView(ctx context.Context, a *Actor, id int64) error {
	if a == nil {
		return errNotFound()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM saved_views WHERE id = ? AND user_id = ?`, id, a.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound()
		}
		return nil
	})
}
