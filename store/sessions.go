package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"time"
)

// newSecret returns a random URL-safe secret with 256 bits of entropy.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:]
}

// Session is a signed-in browser, as the store keeps it.
type Session struct {
	UserID     int64
	Data       []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// CreateSession starts a new server-side session for a user and returns the
// random id to put in the cookie; only its hash is stored.
func (s *Store) CreateSession(ctx context.Context, userID int64, ip, userAgent string, data []byte) (string, error) {
	id := newSecret()
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, data, ip, user_agent, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			hashSecret(id), userID, data, truncate(ip, 64), truncate(userAgent, 256), ms(now), ms(now), ms(now.Add(s.opts.AbsoluteTimeout)))
		return err
	})
	return id, err
}

// SessionActor resolves a cookie's session id to its session and acting
// user. Sessions past the idle or absolute timeout, or of a disabled user,
// are deleted and answer unauthorized. Activity is recorded at most once a
// minute so that reads do not turn into writes.
func (s *Store) SessionActor(ctx context.Context, id string) (*Actor, *Session, error) {
	unauth := &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	if id == "" || len(id) > 100 {
		return nil, nil, unauth
	}
	h := hashSecret(id)
	ss := &Session{}
	var ca, ls, ex int64
	err := s.r.QueryRowContext(ctx, `SELECT user_id, data, created_at, last_seen_at, expires_at FROM sessions WHERE id_hash = ?`, h).
		Scan(&ss.UserID, &ss.Data, &ca, &ls, &ex)
	if err == sql.ErrNoRows {
		return nil, nil, unauth
	} else if err != nil {
		return nil, nil, errInternal(err)
	}
	now := s.now()
	ss.CreatedAt, ss.LastSeenAt = fromMS(ca), fromMS(ls)
	if now.UnixMilli() >= ex || now.Sub(ss.LastSeenAt) >= s.opts.IdleTimeout {
		s.DeleteSession(ctx, id)
		return nil, nil, unauth
	}
	a, err := s.actorFor(ctx, s.r, ss.UserID)
	if err != nil {
		if ErrorCode(err) != CodeInternal {
			s.DeleteSession(ctx, id)
			return nil, nil, unauth
		}
		return nil, nil, err
	}
	if now.Sub(ss.LastSeenAt) > time.Minute {
		if _, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, ms(now), h); err != nil {
			return nil, nil, errInternal(err)
		}
	}
	return a, ss, nil
}

// SaveSessionData replaces the opaque data (flash messages) of a session.
func (s *Store) SaveSessionData(ctx context.Context, id string, data []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET data = ? WHERE id_hash = ?`, data, hashSecret(id))
		return err
	})
}

// DeleteSession ends one session (logout).
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hashSecret(id))
		return err
	})
}

// PurgeSessions deletes expired sessions; the server runs it periodically.
func (s *Store) PurgeSessions(ctx context.Context) (int64, error) {
	var n int64
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`, ms(now), ms(now.Add(-s.opts.IdleTimeout)))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

func truncate(v string, n int) string {
	if len(v) > n {
		return v[:n]
	}
	return v
}
