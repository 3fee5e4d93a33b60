package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// audit records one action in the audit log inside the caller's transaction,
// so the log entry exists exactly when the change does.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, a *Actor, action, entity string, recordID int64, detail any) error {
	d := []byte("{}")
	if detail != nil {
		var err error
		if d, err = json.Marshal(detail); err != nil {
			return err
		}
	}
	_, err := execTx(ctx, tx, `INSERT INTO audit_log (at, user_id, action, entity, record_id, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		s.nowMS(), a.auditUser(), action, entity, recordID, string(d))
	return err
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID       int64
	At       time.Time
	UserID   int64
	UserName string
	Action   string
	Entity   string
	RecordID int64
	Detail   string
}

// AuditFilter narrows the audit log; Before is a keyset cursor (an entry id).
type AuditFilter struct {
	Entity   string
	RecordID int64
	Before   int64
	Limit    int
}

// FindAudit lists audit entries newest first; it needs the audit capability.
func (s *Store) FindAudit(ctx context.Context, a *Actor, f AuditFilter) ([]*AuditEntry, error) {
	if err := a.require(CapAudit); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := `SELECT l.id, l.at, COALESCE(l.user_id, 0), COALESCE(u.name, ''), l.action, l.entity, l.record_id, l.detail
	      FROM audit_log l LEFT JOIN users u ON u.id = l.user_id WHERE 1=1`
	var args []any
	if f.Entity != "" {
		q += " AND l.entity = ?"
		args = append(args, f.Entity)
	}
	if f.RecordID != 0 {
		q += " AND l.record_id = ?"
		args = append(args, f.RecordID)
	}
	if f.Before != 0 {
		q += " AND l.id < ?"
		args = append(args, f.Before)
	}
	q += " ORDER BY l.id DESC LIMIT ?"
	args = append(args, f.Limit)
	var out []*AuditEntry
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e := &AuditEntry{}
			var at int64
			if err := rows.Scan(&e.ID, &at, &e.UserID, &e.UserName, &e.Action, &e.Entity, &e.RecordID, &e.Detail); err != nil {
				return err
			}
			e.At = fromMS(at)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}
