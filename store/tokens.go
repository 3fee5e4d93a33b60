package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// tokenPrefix marks Cartera API tokens so secret scanners can spot leaks.
const tokenPrefix = "crt_"

// Token is an API token as listed; the secret itself is shown only once.
type Token struct {
	ID         int64
	UserID     int64
	Label      string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// canManageTokens: users manage their own tokens; user managers manage the
// tokens of users whose role they cover.
func (s *Store) canManageTokens(ctx context.Context, q querier, a *Actor, userID int64) error {
	if a == nil {
		return &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	if a.UserID == userID && !a.System {
		return nil
	}
	if !a.Has(CapUsers) {
		return errNotFound()
	}
	u, err := s.findUser(ctx, q, userID)
	if err != nil {
		return err
	}
	role, err := findRoleByKey(ctx, q, u.RoleKey)
	if err != nil {
		return wrapErr(err)
	}
	if !a.Permissions.Covers(role.Permissions) {
		return &Error{Code: CodeForbidden, Key: "error.higher_role"}
	}
	return nil
}

// CreateToken makes a new API token for a user and returns its secret,
// which is stored only as a hash and cannot be shown again.
func (s *Store) CreateToken(ctx context.Context, a *Actor, userID int64, label string) (string, *Token, error) {
	label, k := cleanText(label, false, 100)
	if k != "" {
		return "", nil, errInvalid(map[string]string{"label": k})
	}
	secret := tokenPrefix + newSecret()
	t := &Token{UserID: userID, Label: label, Prefix: secret[:10], CreatedAt: fromMS(s.nowMS())}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.canManageTokens(ctx, tx, a, userID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (user_id, label, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)`,
			userID, label, hashSecret(secret), t.Prefix, ms(t.CreatedAt))
		if err != nil {
			return err
		}
		t.ID, _ = res.LastInsertId()
		return s.audit(ctx, tx, a, "create", "api_tokens", t.ID, map[string]any{"user_id": userID, "label": label})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// FindTokens lists a user's tokens, revoked ones included.
func (s *Store) FindTokens(ctx context.Context, a *Actor, userID int64) ([]*Token, error) {
	var out []*Token
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := s.canManageTokens(ctx, tx, a, userID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, user_id, label, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = ? ORDER BY id DESC`, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t := &Token{}
			var ca, lu, ra int64
			if err := rows.Scan(&t.ID, &t.UserID, &t.Label, &t.Prefix, &ca, &lu, &ra); err != nil {
				return err
			}
			t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMS(ca), fromMS(lu), fromMS(ra)
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// RevokeToken stops a token from working at once.
func (s *Store) RevokeToken(ctx context.Context, a *Actor, tokenID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var userID int64
		if err := tx.QueryRowContext(ctx, `SELECT user_id FROM api_tokens WHERE id = ?`, tokenID).Scan(&userID); err != nil {
			return err
		}
		if err := s.canManageTokens(ctx, tx, a, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, s.nowMS(), tokenID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "revoke", "api_tokens", tokenID, map[string]any{"user_id": userID})
	})
}

// TokenActor resolves a bearer token to its user; revoked tokens and
// disabled users answer unauthorized.
func (s *Store) TokenActor(ctx context.Context, secret string) (*Actor, error) {
	unauth := &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 100 {
		return nil, unauth
	}
	var id, userID, revoked, lastUsed int64
	h := hashSecret(secret)
	err := s.r.QueryRowContext(ctx, `SELECT id, user_id, revoked_at, last_used_at FROM api_tokens WHERE token_hash = ?`, h).Scan(&id, &userID, &revoked, &lastUsed)
	if err == sql.ErrNoRows || revoked != 0 {
		return nil, unauth
	} else if err != nil {
		return nil, errInternal(err)
	}
	a, err := s.actorFor(ctx, s.r, userID)
	if err != nil {
		if ErrorCode(err) == CodeInternal {
			return nil, err
		}
		return nil, unauth
	}
	if now := s.nowMS(); now-lastUsed > 60_000 {
		if _, err := s.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, id); err != nil {
			return nil, errInternal(err)
		}
	}
	return a, nil
}
