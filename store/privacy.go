package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"slices"
	"strings"
	"time"
)

// This file holds the privacy rights of issue 9 that are not erasure or
// export themselves: who may exercise them, the suppression list of erased
// e-mail addresses, and the data retention rule for leads. Erasure is in
// privacy_erase.go, the export of a person's data in privacy_export.go.

// CapPrivacy lets a role export and erase a person's data and set the
// retention rule, so a firm can give its data-protection contact these
// rights without making them an administrator.
const CapPrivacy Capability = "privacy"

// init adds the privacy capability to the list roles are edited with;
// administrators hold it like every capability.
func init() {
	if !slices.Contains(Capabilities, CapPrivacy) {
		Capabilities = append(Capabilities, CapPrivacy)
	}
}

// PrivacyEntities are the record types that describe a person and so can
// be exported and erased.
var PrivacyEntities = []Entity{EntContacts, EntLeads}

// Retention actions: what happens to leads past the retention period.
const (
	RetentionReview = "review" // listed on the privacy page for a person to decide
	RetentionErase  = "erase"  // erased by the scheduler
)

// PrivacySettings is the firm's data retention rule.
type PrivacySettings struct {
	// RetentionMonths is how many months without activity make a lead due
	// (0: no retention rule).
	RetentionMonths int
	// RetentionAction is RetentionReview or RetentionErase.
	RetentionAction string
	UpdatedAt       time.Time
}

// requirePrivacy refuses actors without the privacy capability.
func (a *Actor) requirePrivacy() error {
	if a == nil {
		return &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	if a.System {
		return nil
	}
	return a.require(CapPrivacy)
}

// suppressKey is the form of an address the suppression list hashes.
func suppressKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// suppressionHash is the salted SHA-256 of an address; the salt is the
// database's own, read in the caller's transaction.
func suppressionHash(ctx context.Context, q querier, email string) ([]byte, error) {
	var salt []byte
	if err := q.QueryRowContext(ctx, `SELECT salt FROM privacy_settings WHERE id = 1`).Scan(&salt); err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(suppressKey(email)))
	return h.Sum(nil), nil
}

// isSuppressed reports whether an address belongs to an erased person, so
// imports, web forms and campaigns do not bring it back.
func (s *Store) isSuppressed(ctx context.Context, q querier, email string) (bool, error) {
	if suppressKey(email) == "" {
		return false, nil
	}
	// Most firms never erase anyone: an empty list costs no query per
	// imported row. suppress marks the list as not empty.
	if s.suppressions.Load() == 0 {
		var any int
		if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM suppressions)`).Scan(&any); err != nil {
			return false, err
		}
		if any == 0 {
			return false, nil
		}
		s.suppressions.Store(1)
	}
	h, err := suppressionHash(ctx, q, email)
	if err != nil {
		return false, err
	}
	var one int
	err = q.QueryRowContext(ctx, `SELECT 1 FROM suppressions WHERE hash = ?`, h).Scan(&one)
	if isNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

// suppress adds an address to the suppression list (once).
func (s *Store) suppress(ctx context.Context, q querier, email, reason string) error {
	if suppressKey(email) == "" {
		return nil
	}
	h, err := suppressionHash(ctx, q, email)
	if err != nil {
		return err
	}
	s.suppressions.Store(1)
	_, err = q.ExecContext(ctx, `INSERT OR IGNORE INTO suppressions (hash, reason, created_at) VALUES (?, ?, ?)`, h, reason, s.nowMS())
	return err
}

// errSuppressed is the field error of an address on the suppression list.
func errSuppressed() error {
	return errInvalid(map[string]string{"email": "privacy.error.suppressed"})
}

// checkSuppressed refuses an input whose e-mail is on the suppression list,
// for the paths that bring people in from outside (imports, web forms).
func (s *Store) checkSuppressed(ctx context.Context, q querier, values map[string]any) error {
	email, _ := values["email"].(string)
	if email == "" {
		return nil
	}
	sup, err := s.isSuppressed(ctx, q, email)
	if err != nil {
		return err
	}
	if sup {
		return errSuppressed()
	}
	return nil
}

// IsSuppressed tells a privacy officer whether an address is on the
// suppression list (the list itself holds only hashes, so it cannot be
// read back).
func (s *Store) IsSuppressed(ctx context.Context, a *Actor, email string) (bool, error) {
	if err := a.requirePrivacy(); err != nil {
		return false, err
	}
	var out bool
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.isSuppressed(ctx, tx, email)
		return err
	})
	return out, err
}

// CountSuppressed returns how many addresses are on the suppression list.
func (s *Store) CountSuppressed(ctx context.Context, a *Actor) (int, error) {
	if err := a.requirePrivacy(); err != nil {
		return 0, err
	}
	var n int
	err := s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM suppressions`).Scan(&n)
	})
	return n, err
}

// GetPrivacySettings returns the retention rule; it needs the privacy
// capability.
func (s *Store) GetPrivacySettings(ctx context.Context, a *Actor) (*PrivacySettings, error) {
	if err := a.requirePrivacy(); err != nil {
		return nil, err
	}
	var out *PrivacySettings
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = privacySettings(ctx, tx)
		return err
	})
	return out, err
}

func privacySettings(ctx context.Context, q querier) (*PrivacySettings, error) {
	p := &PrivacySettings{}
	var at int64
	err := q.QueryRowContext(ctx, `SELECT retention_months, retention_action, updated_at FROM privacy_settings WHERE id = 1`).Scan(&p.RetentionMonths, &p.RetentionAction, &at)
	p.UpdatedAt = fromMS(at)
	return p, err
}

// maxRetentionMonths bounds the retention period (ten years).
const maxRetentionMonths = 120

// UpdatePrivacySettings changes the retention rule; it needs the privacy
// capability and is written to the audit log.
func (s *Store) UpdatePrivacySettings(ctx context.Context, a *Actor, in PrivacySettings) (*PrivacySettings, error) {
	if err := a.requirePrivacy(); err != nil {
		return nil, err
	}
	fe := fieldErrors{}
	if in.RetentionMonths < 0 || in.RetentionMonths > maxRetentionMonths {
		fe.add("retention_months", "privacy.error.months")
	}
	if in.RetentionAction == "" {
		in.RetentionAction = RetentionReview
	}
	if in.RetentionAction != RetentionReview && in.RetentionAction != RetentionErase {
		fe.add("retention_action", "error.option")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	var out *PrivacySettings
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_settings SET retention_months = ?, retention_action = ?, updated_at = ? WHERE id = 1`,
			in.RetentionMonths, in.RetentionAction, s.nowMS()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "privacy.settings", "privacy", 0, map[string]any{"retention_months": in.RetentionMonths, "retention_action": in.RetentionAction}); err != nil {
			return err
		}
		var err error
		out, err = privacySettings(ctx, tx)
		return err
	})
	return out, err
}

// RetentionLead is a lead past the retention period.
type RetentionLead struct {
	ID int64
	// Title is the lead's name as shown in lists.
	Title string
	// LastActivity is the lead's latest change or activity.
	LastActivity time.Time
	Deleted      bool
}

// retentionCutoff is the moment before which a lead's last activity makes
// it due: months calendar months before now.
func retentionCutoff(now time.Time, months int) int64 {
	return ms(now.AddDate(0, -months, 0))
}

// retentionDueSQL selects the leads due under the rule: not converted (a
// converted lead's person lives on as a contact), not already erased,
// unchanged since the cutoff and with no activity or task since it.
const retentionDueSQL = `FROM leads t WHERE t.erased_at = 0 AND t.status <> 'converted' AND t.updated_at < ?1
	AND NOT EXISTS (SELECT 1 FROM activities x WHERE x.lead_id = t.id AND x.occurred_at >= ?1 AND x.deleted_at = 0)
	AND NOT EXISTS (SELECT 1 FROM tasks k WHERE k.lead_id = t.id AND (k.updated_at >= ?1 OR k.due_at >= ?1) AND k.deleted_at = 0)`

// RetentionDue lists (up to limit) the leads past the retention period, for
// the review list; it needs the privacy capability and lists only leads the
// actor may view. No rule set means an empty list.
func (s *Store) RetentionDue(ctx context.Context, a *Actor, limit int) ([]RetentionLead, error) {
	if err := a.requirePrivacy(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var out []RetentionLead
	err := s.read(ctx, func(tx *sql.Tx) error {
		p, err := privacySettings(ctx, tx)
		if err != nil || p.RetentionMonths == 0 {
			return err
		}
		cond, args := a.scopeSQL(EntLeads, ActView, "t.owner_id")
		cut := retentionCutoff(s.now(), p.RetentionMonths)
		rows, err := tx.QueryContext(ctx, `SELECT t.id, `+titleSQL(EntLeads, "t")+`, t.updated_at, t.deleted_at,
			(SELECT max(x.occurred_at) FROM activities x WHERE x.lead_id = t.id AND x.deleted_at = 0) `+retentionDueSQL+` AND `+cond+` ORDER BY t.updated_at, t.id LIMIT ?`,
			append(append([]any{cut}, args...), limit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l RetentionLead
			var upd, del int64
			var act sql.NullInt64
			if err := rows.Scan(&l.ID, &l.Title, &upd, &del, &act); err != nil {
				return err
			}
			l.LastActivity = fromMS(max(upd, act.Int64))
			l.Deleted = del != 0
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}

// retentionBatch bounds the leads one scheduler pass erases, so a newly
// set rule over years of leads does not hold the database for long; the
// next passes take the rest.
const retentionBatch = 50

// ApplyRetention is the scheduler's retention job: when the rule says
// "erase", it erases the leads past the retention period (each in its own
// transaction, at most retentionBatch per pass) and returns how many; when
// it says "review" they wait on the review list and nothing changes. It is
// idempotent: an erased lead is never due again.
func (s *Store) ApplyRetention(ctx context.Context, a *Actor, now time.Time) (int, error) {
	if err := a.requirePrivacy(); err != nil {
		return 0, err
	}
	var ids []int64
	err := s.read(ctx, func(tx *sql.Tx) error {
		p, err := privacySettings(ctx, tx)
		if err != nil || p.RetentionMonths == 0 || p.RetentionAction != RetentionErase {
			return err
		}
		cond, args := a.scopeSQL(EntLeads, ActView, "t.owner_id")
		ids, err = idsWhereQ(ctx, tx, `SELECT t.id `+retentionDueSQL+` AND `+cond+` ORDER BY t.id LIMIT ?`,
			append(append([]any{retentionCutoff(now, p.RetentionMonths)}, args...), retentionBatch)...)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if _, err := s.eraseRecord(ctx, a, EntLeads, id, "retention", false); err != nil {
			if AsError(err).Code == CodeNotFound {
				continue // erased or purged meanwhile
			}
			return n, err
		}
		n++
	}
	if n > 0 {
		// One full-text merge for the whole batch.
		if err := s.optimizeSearchNow(ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}

// idsWhereQ reads a column of ids through any querier.
func idsWhereQ(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
