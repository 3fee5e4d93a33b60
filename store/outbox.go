package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// OutboxStatus is where an outgoing e-mail is in its life.
type OutboxStatus string

// The states of an outbox row: pending → sending (leased) → sent, or back to
// pending after a temporary failure, or failed; cancelled by an admin.
const (
	OutboxPending   OutboxStatus = "pending"
	OutboxSending   OutboxStatus = "sending"
	OutboxSent      OutboxStatus = "sent"
	OutboxFailed    OutboxStatus = "failed"
	OutboxCancelled OutboxStatus = "cancelled"
)

// OutboxStatuses lists the states in display order.
var OutboxStatuses = []OutboxStatus{OutboxPending, OutboxSending, OutboxSent, OutboxFailed, OutboxCancelled}

// MaxOutboxAttempts is how many times a message is tried before a temporary
// failure becomes a permanent one.
const MaxOutboxAttempts = 10

// outboxBackoff is the wait after the n-th failed attempt (1-based); the
// last value repeats.
var outboxBackoff = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}

// OutboxBackoff returns how long to wait after the given number of attempts
// before trying again: 1m, 5m, 30m, 2h, then 6h.
func OutboxBackoff(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	return outboxBackoff[min(attempts, len(outboxBackoff))-1]
}

// OutgoingEmail is an e-mail to put in the outbox.
type OutgoingEmail struct {
	// Key is the idempotency key: queueing the same key twice queues one
	// message (e.g. "rule:{rule_id}:{record_id}:{due}"); QueueEmail makes a
	// random one when empty.
	Key     string
	To      string
	ToName  string
	ReplyTo string
	Subject string
	Text    string
	HTML    string
	// Entity and RecordID name the record the message concerns, if any.
	Entity   Entity
	RecordID int64
	// NotBefore, when set, holds the message until then (a campaign's
	// throttle paces its messages this way).
	NotBefore time.Time
	// Headers are extra header lines, by name; only OutboxHeaders are
	// allowed (List-Unsubscribe for campaigns, RFC 8058).
	Headers map[string]string
	// Attachments are files sent with the message (a scheduled report's
	// CSV and XLSX).
	Attachments []MailAttachment
}

// OutboxHeaders are the extra headers an outbox message may carry.
var OutboxHeaders = []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Precedence"}

// MailAttachment is a file attached to an outgoing e-mail.
type MailAttachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data []byte `json:"data"`
	// Inline attachments are shown inside the HTML part (a chart image,
	// referred to as cid:NAME), not offered as files.
	Inline bool `json:"inline,omitempty"`
}

// maxAttachmentBytes bounds the attachments of one message.
const maxAttachmentBytes = 10 << 20

// OutboxMessage is one row of the outbox.
type OutboxMessage struct {
	ID            int64
	Key           string
	MessageID     string
	To            string
	ToName        string
	ReplyTo       string
	Subject       string
	Text          string
	HTML          string
	Status        OutboxStatus
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    time.Time
	LastError     string
	Entity        Entity
	RecordID      int64
	Headers       map[string]string
	CreatedBy     int64
	CreatedAt     time.Time
	SentAt        time.Time
	Attachments   []MailAttachment
}

// MessageIDFor derives the Message-ID (without angle brackets) of the
// message with an idempotency key, so a retry after a crash carries the same
// Message-ID and receivers can recognise the duplicate.
func MessageIDFor(key, domain string) string {
	if domain == "" {
		domain = "cartera.local"
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:32] + "@" + domain
}

// mailDomain is the domain of this store's Message-IDs.
func (s *Store) mailDomain() string {
	d := strings.TrimSpace(s.opts.MailDomain)
	if d == "" || strings.ContainsAny(d, "<>@ \t\r\n") {
		return "cartera.local"
	}
	return d
}

// validateEmail checks an outgoing e-mail; CR, LF and every other control
// character are refused in addresses, names and the subject, so no value can
// ever add a header.
func validateEmail(e OutgoingEmail) (OutgoingEmail, error) {
	fe := fieldErrors{}
	var k string
	if e.Key, k = cleanText(e.Key, true, 500); k != "" {
		fe.add("key", k)
	}
	if e.To, k = normEmail(e.To); k != "" {
		fe.add("to", k)
	}
	if e.ToName, k = cleanText(e.ToName, false, 200); k != "" {
		fe.add("to_name", k)
	}
	if strings.TrimSpace(e.ReplyTo) != "" {
		if e.ReplyTo, k = normEmail(e.ReplyTo); k != "" {
			fe.add("reply_to", k)
		}
	} else {
		e.ReplyTo = ""
	}
	if e.Subject, k = cleanText(e.Subject, true, 500); k != "" {
		fe.add("subject", k)
	}
	if e.Text, k = cleanLongText(e.Text, 200_000); k != "" {
		fe.add("text", k)
	}
	if !utf8.ValidString(e.HTML) {
		fe.add("html", "error.encoding")
	} else if len(e.HTML) > 1_000_000 {
		fe.add("html", "error.too_long")
	}
	if e.Text == "" && strings.TrimSpace(e.HTML) == "" {
		fe.add("text", "error.required")
	}
	if e.Entity != "" && (len(e.Entity) > 40 || !validKey(string(e.Entity))) {
		fe.add("entity", "error.invalid")
	}
	for k, v := range e.Headers {
		if !slices.Contains(OutboxHeaders, k) || len(v) > 2000 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			fe.add("headers", "error.invalid")
		}
	}
	size := 0
	for _, at := range e.Attachments {
		size += len(at.Data)
		if n, k := cleanText(at.Name, true, 200); k != "" || strings.ContainsAny(n, "/\\\"") {
			fe.add("attachments", "error.invalid")
		}
		if t, k := cleanText(at.Type, true, 200); k != "" || !strings.Contains(t, "/") {
			fe.add("attachments", "error.invalid")
		}
	}
	if size > maxAttachmentBytes {
		fe.add("attachments", "error.too_long")
	}
	return e, fe.err()
}

// enqueueEmail writes an e-mail into the outbox inside the caller's
// transaction, so the message exists exactly when the change that causes it
// does. A key already in the outbox queues nothing; the existing row's id is
// returned with created false.
func (s *Store) enqueueEmail(ctx context.Context, tx *sql.Tx, a *Actor, e OutgoingEmail) (id int64, created bool, err error) {
	if e, err = validateEmail(e); err != nil {
		return 0, false, err
	}
	var rec any
	if e.RecordID != 0 {
		rec = e.RecordID
	}
	now := s.nowMS()
	due := now
	if !e.NotBefore.IsZero() {
		due = ms(e.NotBefore)
	}
	headers := ""
	if len(e.Headers) > 0 {
		b, _ := json.Marshal(e.Headers)
		headers = string(b)
	}
	atts := ""
	if len(e.Attachments) > 0 {
		b, err := json.Marshal(e.Attachments)
		if err != nil {
			return 0, false, err
		}
		atts = string(b)
	}
	res, err := execTx(ctx, tx, `INSERT INTO outbox (idempotency_key, message_id, to_addr, to_name, reply_to, subject, body_text, body_html,
		status, next_attempt_at, entity, record_id, created_by, created_at, headers, attachments)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
		e.Key, MessageIDFor(e.Key, s.mailDomain()), e.To, e.ToName, e.ReplyTo, e.Subject, e.Text, e.HTML,
		due, string(e.Entity), rec, a.auditUser(), now, headers, atts)
	if err != nil {
		return 0, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		err = tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE idempotency_key = ?`, e.Key).Scan(&id)
		return id, false, err
	}
	id, err = res.LastInsertId()
	return id, true, err
}

// QueueEmail puts one e-mail in the outbox on its own (the "send a test
// e-mail" button); it needs the settings capability.
func (s *Store) QueueEmail(ctx context.Context, a *Actor, e OutgoingEmail) (*OutboxMessage, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	if strings.TrimSpace(e.Key) == "" {
		var b [16]byte
		rand.Read(b[:])
		e.Key = "manual:" + hex.EncodeToString(b[:])
	}
	var m *OutboxMessage
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, created, err := s.enqueueEmail(ctx, tx, a, e)
		if err != nil {
			return err
		}
		if created {
			if err := s.audit(ctx, tx, a, "outbox.queue", "outbox", id, map[string]string{"to": strings.TrimSpace(e.To)}); err != nil {
				return err
			}
		}
		m, err = getOutbox(ctx, tx, id)
		return err
	})
	return m, err
}

const outboxCols = `id, idempotency_key, message_id, to_addr, to_name, reply_to, subject, body_text, body_html, status, attempts,
	next_attempt_at, lease_until, last_error, entity, COALESCE(record_id, 0), COALESCE(created_by, 0), created_at, sent_at, headers, attachments`

type rowScanner interface{ Scan(dest ...any) error }

func scanOutbox(r rowScanner) (*OutboxMessage, error) {
	m := &OutboxMessage{}
	var next, lease, created, sent int64
	var headers, atts string
	if err := r.Scan(&m.ID, &m.Key, &m.MessageID, &m.To, &m.ToName, &m.ReplyTo, &m.Subject, &m.Text, &m.HTML, &m.Status, &m.Attempts,
		&next, &lease, &m.LastError, &m.Entity, &m.RecordID, &m.CreatedBy, &created, &sent, &headers, &atts); err != nil {
		return nil, err
	}
	if atts != "" {
		if err := json.Unmarshal([]byte(atts), &m.Attachments); err != nil {
			return nil, err
		}
	}
	if headers != "" {
		if err := json.Unmarshal([]byte(headers), &m.Headers); err != nil {
			return nil, err
		}
	}
	m.NextAttemptAt, m.LeaseUntil, m.CreatedAt, m.SentAt = fromMS(next), fromMS(lease), fromMS(created), fromMS(sent)
	return m, nil
}

func getOutbox(ctx context.Context, tx *sql.Tx, id int64) (*OutboxMessage, error) {
	return scanOutbox(tx.QueryRowContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id))
}

func collectOutbox(rows *sql.Rows, err error) ([]*OutboxMessage, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ClaimOutbox leases up to limit messages that are due at now (pending with
// next_attempt_at reached, or sending with an expired lease) by moving them
// to sending until now+lease and counting an attempt; each row is claimed by
// one caller only; a message leased for its last allowed attempt whose
// lease expired becomes failed instead. The drainer sends them outside any
// transaction and then calls MarkSent or MarkFailed.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*OutboxMessage, error) {
	if limit <= 0 {
		limit = 10
	}
	var out []*OutboxMessage
	err := s.write(ctx, func(tx *sql.Tx) error {
		// A message whose last allowed attempt never reported back (a crash
		// each time it is sent) stops here instead of being sent forever.
		if _, err := execTx(ctx, tx, `UPDATE outbox SET status = 'failed', lease_until = 0,
				last_error = 'no result recorded for the last attempt (the sender stopped while sending)'
			WHERE status = 'sending' AND lease_until <= ? AND attempts >= ?`, ms(now), MaxOutboxAttempts); err != nil {
			return err
		}
		var err error
		out, err = collectOutbox(tx.QueryContext(ctx, `UPDATE outbox SET status = 'sending', lease_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox
				WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until <= ?)
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING `+outboxCols, ms(now.Add(lease)), ms(now), ms(now), limit))
		return err
	})
	return out, err
}

// ClaimOutboxMessage leases one pending message now, whatever its next
// attempt time, for an immediate send (the test e-mail); it returns a
// conflict when the message is not pending.
func (s *Store) ClaimOutboxMessage(ctx context.Context, id int64, now time.Time, lease time.Duration) (*OutboxMessage, error) {
	var out []*OutboxMessage
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = collectOutbox(tx.QueryContext(ctx, `UPDATE outbox SET status = 'sending', lease_until = ?, attempts = attempts + 1
			WHERE id = ? AND status = 'pending' RETURNING `+outboxCols, ms(now.Add(lease)), id))
		if err == nil && len(out) == 0 {
			return errConflict("mail.not_pending", nil)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// MarkSent records that a leased message was accepted by the SMTP server.
func (s *Store) MarkSent(ctx context.Context, id int64, now time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := execTx(ctx, tx, `UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = 0, last_error = ''
			WHERE id = ? AND status = 'sending'`, ms(now), id)
		return err
	})
}

// MarkFailed records a failed send of a leased message: a permanent failure,
// or a temporary one after MaxOutboxAttempts attempts, makes it failed;
// otherwise it is pending again from next (the caller's backoff, see
// OutboxBackoff).
func (s *Store) MarkFailed(ctx context.Context, id int64, permanent bool, errText string, next time.Time) error {
	if len(errText) > 1000 {
		errText = strings.ToValidUTF8(errText[:1000], "") + "…"
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := execTx(ctx, tx, `UPDATE outbox SET
				status = CASE WHEN ? OR attempts >= ? THEN 'failed' ELSE 'pending' END,
				next_attempt_at = ?, lease_until = 0, last_error = ?
			WHERE id = ? AND status = 'sending'`, permanent, MaxOutboxAttempts, ms(next), errText, id)
		return err
	})
}

// OutboxFilter narrows the outbox list; Before is a keyset cursor (an id).
type OutboxFilter struct {
	Status OutboxStatus
	Before int64
	Limit  int
}

// FindOutbox lists outbox messages newest first; it needs the settings
// capability.
func (s *Store) FindOutbox(ctx context.Context, a *Actor, f OutboxFilter) ([]*OutboxMessage, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := `SELECT ` + outboxCols + ` FROM outbox WHERE 1=1`
	var args []any
	if f.Status != "" {
		q += " AND status = ?"
		args = append(args, string(f.Status))
	}
	if f.Before != 0 {
		q += " AND id < ?"
		args = append(args, f.Before)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	var out []*OutboxMessage
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = collectOutbox(tx.QueryContext(ctx, q, args...))
		return err
	})
	return out, err
}

// GetOutbox returns one outbox message; it needs the settings capability.
func (s *Store) GetOutbox(ctx context.Context, a *Actor, id int64) (*OutboxMessage, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	var m *OutboxMessage
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = getOutbox(ctx, tx, id)
		return err
	})
	return m, err
}

// RetryOutbox makes a failed or cancelled message pending again, due now
// and with its attempts counted from zero.
func (s *Store) RetryOutbox(ctx context.Context, a *Actor, id int64) error {
	return s.outboxAdmin(ctx, a, id, "outbox.retry", `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = ''
		WHERE id = ? AND status IN ('failed', 'cancelled')`)
}

// CancelOutbox stops a pending or failed message from being sent; a message
// being sent right now cannot be cancelled.
func (s *Store) CancelOutbox(ctx context.Context, a *Actor, id int64) error {
	return s.outboxAdmin(ctx, a, id, "outbox.cancel", `UPDATE outbox SET status = 'cancelled', next_attempt_at = ?
		WHERE id = ? AND status IN ('pending', 'failed')`)
}

// outboxAdmin runs an admin's state change on one message: not_found for an
// unknown id, conflict when the message is not in a state the change allows.
func (s *Store) outboxAdmin(ctx context.Context, a *Actor, id int64, action, query string) error {
	if err := a.require(CapSettings); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := getOutbox(ctx, tx, id); err != nil {
			return err
		}
		res, err := execTx(ctx, tx, query, s.nowMS(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errConflict("mail.wrong_state", nil)
		}
		return s.audit(ctx, tx, a, action, "outbox", id, nil)
	})
}
