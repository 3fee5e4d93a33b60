package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"
)

// querier is what *sql.DB and *sql.Tx share, so private finders can run
// inside a caller's transaction or directly on the reader pool.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Role is a named set of permissions and visible sections given to users.
type Role struct {
	ID          int64
	Key         string
	Name        string
	Builtin     bool
	Permissions Permissions
	Sections    []Section
	UserCount   int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RoleInput is what an admin sets on a role.
type RoleInput struct {
	Key         string
	Name        string
	Permissions Permissions
	Sections    []Section
}

func (s *Store) ensureBuiltinRoles(ctx context.Context, tx *sql.Tx) error {
	now := s.nowMS()
	for _, r := range builtinRoles() {
		p, _ := json.Marshal(r.Permissions)
		sec, _ := json.Marshal(r.Sections)
		if _, err := tx.ExecContext(ctx, `INSERT INTO roles (key, name, builtin, permissions, sections, created_at, updated_at)
			VALUES (?, ?, 1, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING`, r.Key, r.Name, string(p), string(sec), now, now); err != nil {
			return err
		}
	}
	return nil
}

const roleCols = `r.id, r.key, r.name, r.builtin, r.permissions, r.sections, r.created_at, r.updated_at,
	(SELECT count(*) FROM users u WHERE u.role_id = r.id AND u.disabled = 0)`

func scanRole(sc interface{ Scan(...any) error }) (*Role, error) {
	r := &Role{}
	var perms, secs string
	var ca, ua int64
	if err := sc.Scan(&r.ID, &r.Key, &r.Name, &r.Builtin, &perms, &secs, &ca, &ua, &r.UserCount); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(perms), &r.Permissions); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(secs), &r.Sections); err != nil {
		return nil, err
	}
	if r.Key == "admin" {
		// The administrator role always grants everything, whatever is stored.
		r.Permissions = allPermissions()
	}
	r.CreatedAt, r.UpdatedAt = fromMS(ca), fromMS(ua)
	return r, nil
}

// FindRoles lists every role; anyone who manages users or roles may see them.
func (s *Store) FindRoles(ctx context.Context, a *Actor) ([]*Role, error) {
	if !a.Has(CapRoles) && !a.Has(CapUsers) {
		return nil, errForbidden()
	}
	var out []*Role
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+roleCols+` FROM roles r ORDER BY r.builtin DESC, r.id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRole(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// FindRole returns one role by id.
func (s *Store) FindRole(ctx context.Context, a *Actor, id int64) (*Role, error) {
	if !a.Has(CapRoles) && !a.Has(CapUsers) {
		return nil, errForbidden()
	}
	r, err := scanRole(s.r.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles r WHERE r.id = ?`, id))
	if err != nil {
		return nil, wrapErr(err)
	}
	return r, nil
}

func findRoleByKey(ctx context.Context, q querier, key string) (*Role, error) {
	return scanRole(q.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles r WHERE r.key = ?`, key))
}

// validate checks a role input against the actor: nobody can grant what
// they do not hold themselves.
func (in *RoleInput) validate(a *Actor, checkKey bool) error {
	fe := fieldErrors{}
	var k string
	if checkKey && !validKey(in.Key) {
		fe.add("key", "error.key")
	}
	if in.Name, k = cleanText(in.Name, true, 100); k != "" {
		fe.add("name", k)
	}
	p, bad := in.Permissions.normalise()
	if bad != "" {
		fe.add("permissions", "error.unknown_permission")
	}
	in.Permissions = p
	var secs []Section
	for _, sc := range in.Sections {
		if !slices.Contains(Sections, sc) {
			fe.add("sections", "error.unknown_section")
			continue
		}
		if !slices.Contains(secs, sc) {
			secs = append(secs, sc)
		}
	}
	in.Sections = secs
	if err := fe.err(); err != nil {
		return err
	}
	if !a.Permissions.Covers(in.Permissions) {
		return &Error{Code: CodeForbidden, Key: "error.grant_more_than_held", Fields: map[string]string{"permissions": "error.grant_more_than_held"}}
	}
	for _, sc := range in.Sections {
		if !a.Sees(sc) {
			return &Error{Code: CodeForbidden, Key: "error.grant_more_than_held", Fields: map[string]string{"sections": "error.grant_more_than_held"}}
		}
	}
	return nil
}

// CreateRole adds a custom role; it needs the roles capability and may grant
// only permissions the actor holds.
func (s *Store) CreateRole(ctx context.Context, a *Actor, in RoleInput) (*Role, error) {
	if err := a.require(CapRoles); err != nil {
		return nil, err
	}
	if err := in.validate(a, true); err != nil {
		return nil, err
	}
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		p, _ := json.Marshal(in.Permissions)
		sec, _ := json.Marshal(in.Sections)
		now := s.nowMS()
		res, err := tx.ExecContext(ctx, `INSERT INTO roles (key, name, builtin, permissions, sections, created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?, ?)`,
			in.Key, in.Name, string(p), string(sec), now, now)
		if isUniqueViolation(err) {
			return errConflict("error.role_key_taken", map[string]string{"key": "error.role_key_taken"})
		}
		if err != nil {
			return err
		}
		id, _ = res.LastInsertId()
		return s.audit(ctx, tx, a, "create", "roles", id, map[string]any{"key": in.Key, "permissions": in.Permissions, "sections": in.Sections})
	})
	if err != nil {
		return nil, err
	}
	return s.FindRole(ctx, a, id)
}

// UpdateRole changes a role's name, permissions and sections. The actor may
// neither edit a role that holds more than they do, nor grant more than they
// hold, nor change their own role; the administrator role's permissions are
// fixed so the firm can never lock itself out.
func (s *Store) UpdateRole(ctx context.Context, a *Actor, id int64, in RoleInput) (*Role, error) {
	if err := a.require(CapRoles); err != nil {
		return nil, err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanRole(tx.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles r WHERE r.id = ?`, id))
		if err != nil {
			return err
		}
		if !a.System && cur.Key == a.RoleKey {
			return &Error{Code: CodeForbidden, Key: "error.own_role"}
		}
		if !a.Permissions.Covers(cur.Permissions) {
			return &Error{Code: CodeForbidden, Key: "error.higher_role"}
		}
		in.Key = cur.Key
		if cur.Key == "admin" {
			in.Permissions = allPermissions()
			in.Sections = slices.Clone(Sections)
		}
		if err := in.validate(a, false); err != nil {
			return err
		}
		p, _ := json.Marshal(in.Permissions)
		sec, _ := json.Marshal(in.Sections)
		if _, err := tx.ExecContext(ctx, `UPDATE roles SET name=?, permissions=?, sections=?, updated_at=? WHERE id=?`,
			in.Name, string(p), string(sec), s.nowMS(), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "roles", id, map[string]any{
			"name": [2]string{cur.Name, in.Name}, "permissions": [2]Permissions{cur.Permissions, in.Permissions}, "sections": [2][]Section{cur.Sections, in.Sections}})
	})
	if err != nil {
		return nil, err
	}
	return s.FindRole(ctx, a, id)
}

// DeleteRole removes a custom role that no user holds.
func (s *Store) DeleteRole(ctx context.Context, a *Actor, id int64) error {
	if err := a.require(CapRoles); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanRole(tx.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles r WHERE r.id = ?`, id))
		if err != nil {
			return err
		}
		if cur.Builtin {
			return &Error{Code: CodeConflict, Key: "error.builtin_role"}
		}
		if !a.Permissions.Covers(cur.Permissions) {
			return &Error{Code: CodeForbidden, Key: "error.higher_role"}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &Error{Code: CodeConflict, Key: "error.role_in_use"}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "roles", id, map[string]any{"key": cur.Key})
	})
}
