package store

import (
	"context"
	"database/sql"
)

// Team groups users for the "team" permission scope and round-robin work.
type Team struct {
	ID      int64
	Name    string
	Members int
}

// FindTeams lists teams with their member counts; any signed-in user may.
func (s *Store) FindTeams(ctx context.Context, a *Actor) ([]*Team, error) {
	if a == nil {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	var out []*Team
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT t.id, t.name, (SELECT count(*) FROM users u WHERE u.team_id = t.id AND u.disabled = 0) FROM teams t ORDER BY t.name COLLATE NOCASE`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t := &Team{}
			if err := rows.Scan(&t.ID, &t.Name, &t.Members); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// SaveTeam creates (id 0) or renames a team; it needs the users capability.
func (s *Store) SaveTeam(ctx context.Context, a *Actor, id int64, name string) (*Team, error) {
	if err := a.require(CapUsers); err != nil {
		return nil, err
	}
	name, k := cleanText(name, true, 100)
	if k != "" {
		return nil, errInvalid(map[string]string{"name": k})
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.nowMS()
		var res sql.Result
		var err error
		if id == 0 {
			res, err = tx.ExecContext(ctx, `INSERT INTO teams (name, created_at, updated_at) VALUES (?, ?, ?)`, name, now, now)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE teams SET name = ?, updated_at = ? WHERE id = ?`, name, now, id)
		}
		if isUniqueViolation(err) {
			return errConflict("error.team_taken", map[string]string{"name": "error.team_taken"})
		}
		if err != nil {
			return err
		}
		action := "update"
		if id == 0 {
			id, _ = res.LastInsertId()
			action = "create"
		} else if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound()
		}
		return s.audit(ctx, tx, a, action, "teams", id, map[string]any{"name": name})
	})
	if err != nil {
		return nil, err
	}
	// Teams are the case queues' options.
	if err := s.reloadSchema(ctx); err != nil {
		return nil, errInternal(err)
	}
	return &Team{ID: id, Name: name}, nil
}

// DeleteTeam removes a team; its members keep working without a team.
func (s *Store) DeleteTeam(ctx context.Context, a *Actor, id int64) error {
	if err := a.require(CapUsers); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM teams WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound()
		}
		return s.audit(ctx, tx, a, "delete", "teams", id, nil)
	})
	if err != nil {
		return err
	}
	// Teams are the case queues' options.
	if err := s.reloadSchema(ctx); err != nil {
		return errInternal(err)
	}
	return nil
}
