package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// User is a person who signs in to Cartera.
type User struct {
	ID          int64
	Email       string
	Name        string
	RoleID      int64
	RoleKey     string
	RoleName    string
	TeamID      int64
	TeamName    string
	Language    string
	Timezone    string
	Disabled    bool
	LastLoginAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// UserInput creates a user.
type UserInput struct {
	Email    string
	Name     string
	Password string
	RoleKey  string
	TeamID   int64
	Language string
	Timezone string
}

// UserUpdate changes a user; nil fields are left alone.
type UserUpdate struct {
	Email    *string
	Name     *string
	RoleKey  *string
	TeamID   *int64
	Language *string
	Timezone *string
	Disabled *bool
}

func (in *UserInput) validate(withPassword bool) error {
	fe := fieldErrors{}
	var k string
	if in.Name, k = cleanText(in.Name, true, 100); k != "" {
		fe.add("name", k)
	}
	if in.Email, k = normEmail(in.Email); k != "" {
		fe.add("email", k)
	}
	if withPassword {
		if k = validatePassword(in.Password); k != "" {
			fe.add("password", k)
		}
	}
	if in.Language != "" && !ValidLanguage(in.Language) {
		fe.add("language", "error.language")
	}
	if in.Timezone != "" && !ValidTimezone(in.Timezone) {
		fe.add("timezone", "error.timezone")
	}
	if in.RoleKey == "" {
		fe.add("role", "error.required")
	}
	return fe.err()
}

const userCols = `u.id, u.email, u.name, u.role_id, r.key, r.name, COALESCE(u.team_id, 0), COALESCE(t.name, ''),
	u.language, u.timezone, u.disabled, u.last_login_at, u.created_at, u.updated_at`

const userFrom = ` FROM users u JOIN roles r ON r.id = u.role_id LEFT JOIN teams t ON t.id = u.team_id `

func scanUser(sc interface{ Scan(...any) error }) (*User, error) {
	u := &User{}
	var ll, ca, ua int64
	if err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.RoleID, &u.RoleKey, &u.RoleName, &u.TeamID, &u.TeamName,
		&u.Language, &u.Timezone, &u.Disabled, &ll, &ca, &ua); err != nil {
		return nil, err
	}
	u.LastLoginAt, u.CreatedAt, u.UpdatedAt = fromMS(ll), fromMS(ca), fromMS(ua)
	return u, nil
}

func (s *Store) findUser(ctx context.Context, q querier, id int64) (*User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE u.id = ?`, id))
	if err != nil {
		return nil, wrapErr(err)
	}
	return u, nil
}

// insertUser writes a validated user; the role must exist.
func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, in *UserInput, hash string) (int64, error) {
	role, err := findRoleByKey(ctx, tx, in.RoleKey)
	if err == sql.ErrNoRows {
		return 0, errInvalid(map[string]string{"role": "error.unknown_role"})
	} else if err != nil {
		return 0, err
	}
	var team any
	if in.TeamID != 0 {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM teams WHERE id = ?`, in.TeamID).Scan(new(int64)); err != nil {
			return 0, errInvalid(map[string]string{"team": "error.unknown_team"})
		}
		team = in.TeamID
	}
	now := s.nowMS()
	res, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, password_hash, role_id, team_id, language, timezone, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.Email, in.Name, hash, role.ID, team, in.Language, in.Timezone, now, now)
	if isUniqueViolation(err) {
		return 0, errConflict("error.email_taken", map[string]string{"email": "error.email_taken"})
	}
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// UserFilter narrows FindUsers.
type UserFilter struct {
	IncludeDisabled bool
}

// FindUsers lists users. Every signed-in user may list names (owner pickers
// need them); only user managers see disabled accounts.
func (s *Store) FindUsers(ctx context.Context, a *Actor, f UserFilter) ([]*User, error) {
	if a == nil {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	q := `SELECT ` + userCols + userFrom
	if !f.IncludeDisabled || !a.Has(CapUsers) {
		q += `WHERE u.disabled = 0 `
	}
	q += `ORDER BY u.name COLLATE NOCASE, u.id`
	var out []*User
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}

// FindUser returns one user: themselves for anyone, others for user managers.
func (s *Store) FindUser(ctx context.Context, a *Actor, id int64) (*User, error) {
	if a == nil || (a.UserID != id && !a.Has(CapUsers)) {
		return nil, errNotFound()
	}
	return s.findUser(ctx, s.r, id)
}

// FindUserByEmail returns a user by e-mail, for the CLI (system actor) and
// user managers.
func (s *Store) FindUserByEmail(ctx context.Context, a *Actor, email string) (*User, error) {
	if !a.Has(CapUsers) {
		return nil, errForbidden()
	}
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE u.email = ?`, email))
	if err != nil {
		return nil, wrapErr(err)
	}
	return u, nil
}

// CreateUser adds a user; the actor needs the users capability and may give
// only a role whose permissions they hold themselves.
func (s *Store) CreateUser(ctx context.Context, a *Actor, in UserInput) (*User, error) {
	if err := a.require(CapUsers); err != nil {
		return nil, err
	}
	if err := in.validate(true); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return nil, errInternal(err)
	}
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		role, err := findRoleByKey(ctx, tx, in.RoleKey)
		if err == sql.ErrNoRows {
			return errInvalid(map[string]string{"role": "error.unknown_role"})
		} else if err != nil {
			return err
		}
		if !a.Permissions.Covers(role.Permissions) {
			return &Error{Code: CodeForbidden, Key: "error.grant_more_than_held", Fields: map[string]string{"role": "error.grant_more_than_held"}}
		}
		if id, err = s.insertUser(ctx, tx, &in, hash); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "users", id, map[string]any{"email": in.Email, "role": in.RoleKey})
	})
	if err != nil {
		return nil, err
	}
	return s.findUser(ctx, s.r, id)
}

// UpdateUser changes a user. Anyone may change their own name, language and
// time zone; the rest needs the users capability, a target whose role the
// actor covers, and never the actor's own role or disabled flag. Disabling a
// user ends their sessions at once.
func (s *Store) UpdateUser(ctx context.Context, a *Actor, id int64, up UserUpdate) (*User, error) {
	if a == nil {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	self := a.UserID == id && !a.System
	if !self && !a.Has(CapUsers) {
		return nil, errNotFound()
	}
	if self && (up.RoleKey != nil || up.Disabled != nil || up.TeamID != nil || up.Email != nil) && !a.Has(CapUsers) {
		return nil, errForbidden()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := s.findUser(ctx, tx, id)
		if err != nil {
			return err
		}
		curRole, err := findRoleByKey(ctx, tx, cur.RoleKey)
		if err != nil {
			return err
		}
		if !self && !a.Permissions.Covers(curRole.Permissions) {
			return &Error{Code: CodeForbidden, Key: "error.higher_role"}
		}
		in := UserInput{Email: cur.Email, Name: cur.Name, RoleKey: cur.RoleKey, TeamID: cur.TeamID, Language: cur.Language, Timezone: cur.Timezone}
		disabled := cur.Disabled
		if up.Name != nil {
			in.Name = *up.Name
		}
		if up.Email != nil {
			in.Email = *up.Email
		}
		if up.Language != nil {
			in.Language = *up.Language
		}
		if up.Timezone != nil {
			in.Timezone = *up.Timezone
		}
		if up.TeamID != nil {
			in.TeamID = *up.TeamID
		}
		if up.Disabled != nil {
			disabled = *up.Disabled
		}
		if err := in.validate(false); err != nil {
			return err
		}
		roleID := cur.RoleID
		if up.RoleKey != nil && *up.RoleKey != cur.RoleKey {
			if self {
				return &Error{Code: CodeForbidden, Key: "error.own_role", Fields: map[string]string{"role": "error.own_role"}}
			}
			role, err := findRoleByKey(ctx, tx, *up.RoleKey)
			if err == sql.ErrNoRows {
				return errInvalid(map[string]string{"role": "error.unknown_role"})
			} else if err != nil {
				return err
			}
			if !a.Permissions.Covers(role.Permissions) {
				return &Error{Code: CodeForbidden, Key: "error.grant_more_than_held", Fields: map[string]string{"role": "error.grant_more_than_held"}}
			}
			roleID = role.ID
			in.RoleKey = role.Key
		}
		if disabled != cur.Disabled && self {
			return &Error{Code: CodeForbidden, Key: "error.disable_self"}
		}
		if (disabled || in.RoleKey != "admin") && cur.RoleKey == "admin" && !cur.Disabled {
			var admins int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users u JOIN roles r ON r.id = u.role_id WHERE r.key = 'admin' AND u.disabled = 0`).Scan(&admins); err != nil {
				return err
			}
			if admins <= 1 {
				return &Error{Code: CodeConflict, Key: "error.last_admin"}
			}
		}
		var team any
		if in.TeamID != 0 {
			if err := tx.QueryRowContext(ctx, `SELECT id FROM teams WHERE id = ?`, in.TeamID).Scan(new(int64)); err != nil {
				return errInvalid(map[string]string{"team": "error.unknown_team"})
			}
			team = in.TeamID
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET email=?, name=?, role_id=?, team_id=?, language=?, timezone=?, disabled=?, updated_at=? WHERE id=?`,
			in.Email, in.Name, roleID, team, in.Language, in.Timezone, disabled, s.nowMS(), id)
		if isUniqueViolation(err) {
			return errConflict("error.email_taken", map[string]string{"email": "error.email_taken"})
		}
		if err != nil {
			return err
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "update", "users", id, diffUser(cur, &in, disabled))
	})
	if err != nil {
		return nil, err
	}
	return s.findUser(ctx, s.r, id)
}

// diffUser lists changed fields as old → new pairs for the audit log.
func diffUser(cur *User, in *UserInput, disabled bool) map[string]any {
	d := map[string]any{}
	add := func(k string, o, n any) {
		if o != n {
			d[k] = [2]any{o, n}
		}
	}
	add("email", cur.Email, in.Email)
	add("name", cur.Name, in.Name)
	add("role", cur.RoleKey, in.RoleKey)
	add("team_id", cur.TeamID, in.TeamID)
	add("language", cur.Language, in.Language)
	add("timezone", cur.Timezone, in.Timezone)
	add("disabled", cur.Disabled, disabled)
	return d
}

// SetPassword changes a user's password and ends all their sessions and
// none of their API tokens. Users changing their own password must give the
// current one; user managers may reset others they cover.
func (s *Store) SetPassword(ctx context.Context, a *Actor, id int64, current, next string) error {
	if a == nil {
		return &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	self := a.UserID == id && !a.System
	if !self && !a.Has(CapUsers) {
		return errNotFound()
	}
	if k := validatePassword(next); k != "" {
		return errInvalid(map[string]string{"password": k})
	}
	if self {
		var hash string
		if err := s.r.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, id).Scan(&hash); err != nil {
			return wrapErr(err)
		}
		if !checkPassword(hash, current) {
			return errInvalid(map[string]string{"current_password": "error.wrong_password"})
		}
	}
	hash, err := s.hashPassword(next)
	if err != nil {
		return errInternal(err)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		cur, err := s.findUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if !self {
			role, err := findRoleByKey(ctx, tx, cur.RoleKey)
			if err != nil {
				return err
			}
			if !a.Permissions.Covers(role.Permissions) {
				return &Error{Code: CodeForbidden, Key: "error.higher_role"}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, s.nowMS(), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "password", "users", id, nil)
	})
}

// Authenticate checks an e-mail and password. Unknown e-mails, wrong
// passwords and disabled users get the same error after the same work, so
// the answer reveals nothing about which accounts exist.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*User, error) {
	fail := &Error{Code: CodeUnauthorized, Key: "error.bad_login"}
	var id int64
	var hash string
	var disabled bool
	err := s.r.QueryRowContext(ctx, `SELECT id, password_hash, disabled FROM users WHERE email = ?`, email).Scan(&id, &hash, &disabled)
	if err == sql.ErrNoRows {
		s.dummyOnce.Do(func() { s.dummyHash, _ = s.hashPassword("cartera-dummy-password") })
		checkPassword(s.dummyHash, password)
		return nil, fail
	} else if err != nil {
		return nil, errInternal(err)
	}
	if !checkPassword(hash, password) || disabled {
		return nil, fail
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, s.nowMS(), id); err != nil {
		return nil, errInternal(err)
	}
	return s.findUser(ctx, s.r, id)
}

// actorFor loads the acting user with their role; disabled users get none.
func (s *Store) actorFor(ctx context.Context, q querier, userID int64) (*Actor, error) {
	a := &Actor{}
	var perms, secs string
	var disabled bool
	err := q.QueryRowContext(ctx, `SELECT u.id, u.name, u.email, r.key, COALESCE(u.team_id, 0), u.language, u.timezone, u.disabled, r.permissions, r.sections
		FROM users u JOIN roles r ON r.id = u.role_id WHERE u.id = ?`, userID).
		Scan(&a.UserID, &a.Name, &a.Email, &a.RoleKey, &a.TeamID, &a.Language, &a.Timezone, &disabled, &perms, &secs)
	if err != nil {
		return nil, wrapErr(err)
	}
	if disabled {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	if a.RoleKey == "admin" {
		a.Permissions = allPermissions()
	} else if err := json.Unmarshal([]byte(perms), &a.Permissions); err != nil {
		return nil, errInternal(err)
	}
	if err := json.Unmarshal([]byte(secs), &a.Sections); err != nil {
		return nil, errInternal(err)
	}
	return a, nil
}

// ActorFor loads a user as an actor, for the CLI acting as a named user.
func (s *Store) ActorFor(ctx context.Context, userID int64) (*Actor, error) {
	return s.actorFor(ctx, s.r, userID)
}
