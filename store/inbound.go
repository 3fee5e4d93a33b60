package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// InboundStatus is what became of an e-mail read from the dropbox.
type InboundStatus string

// The states of a dropbox message: logged as activities, waiting for a user
// to link it, or discarded by a user.
const (
	InboundLogged    InboundStatus = "logged"
	InboundUnmatched InboundStatus = "unmatched"
	InboundDiscarded InboundStatus = "discarded"
)

// InboundStatuses lists the states in display order.
var InboundStatuses = []InboundStatus{InboundUnmatched, InboundLogged, InboundDiscarded}

// Directions of a logged e-mail, seen from the firm: received or sent.
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// Limits on what is kept of a dropbox message, so one huge e-mail cannot
// bloat the database or fail the activity's own limits.
const (
	inboundSubjectMax = 300
	inboundBodyMax    = 45_000
	inboundMaxAddrs   = 50
	inboundMaxRecords = 20
)

// MailAddress is one e-mail address with its display name.
type MailAddress struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// String formats the address for people: "Name <email>" or the address.
func (m MailAddress) String() string {
	if m.Name == "" {
		return m.Email
	}
	return m.Name + " <" + m.Email + ">"
}

// InboundEmail is one message read from the dropbox mailbox, as the IMAP
// poller hands it to the store.
type InboundEmail struct {
	// Mailbox names the dropbox (no credentials); with UIDValidity and UID
	// it is the message's place, remembered so it is read once.
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	// MessageID is the Message-ID header without angle brackets; when
	// empty one is derived from the content.
	MessageID   string
	From        MailAddress
	To          []MailAddress
	Cc          []MailAddress
	DeliveredTo []string
	// ForwardedFrom is the original sender of a message a user forwarded
	// to the dropbox, when the poller could read it from the message.
	ForwardedFrom MailAddress
	Subject       string
	Text          string
	Date          time.Time
	// References are the Message-IDs of the In-Reply-To and References
	// headers, which the support mailbox uses to find a case.
	References []string
	// Files are the message's attachments, read whole (the poller bounds
	// a message's size); each activity the message becomes keeps a copy.
	Files []InboundFile
}

// InboundFile is one file attached to a dropbox message.
type InboundFile struct {
	Name string
	Data []byte
}

// InboundLink is one activity a dropbox message became.
type InboundLink struct {
	ActivityID int64
	Entity     Entity
	RecordID   int64
	Title      string
}

// InboundMessage is one dropbox message as Cartera keeps it.
type InboundMessage struct {
	ID        int64
	MessageID string
	Status    InboundStatus
	Direction string
	From      MailAddress
	To        []MailAddress
	Cc        []MailAddress
	Subject   string
	// Text is the body while the message waits (empty once logged or
	// discarded).
	Text      string
	Date      time.Time
	UserID    int64
	UserName  string
	CreatedAt time.Time
	Links     []InboundLink
}

// Counterpart is the address of the other party: the sender of a received
// message, the first recipient of a sent one.
func (m *InboundMessage) Counterpart() string {
	if m.Direction == DirectionOut {
		if len(m.To) > 0 {
			return m.To[0].Email
		}
		if len(m.Cc) > 0 {
			return m.Cc[0].Email
		}
		return ""
	}
	return m.From.Email
}

// cleanAddr lower-cases and checks an address; "" when it is not one.
func cleanAddr(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if len(v) > 254 || strings.Count(v, "@") != 1 || strings.HasPrefix(v, "@") || strings.HasSuffix(v, "@") {
		return ""
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("<>,;\"()[]\\", r) {
			return ""
		}
	}
	return v
}

// oneLine makes untrusted header text safe to store and show: valid UTF-8,
// control characters as spaces, runs of spaces collapsed, at most max runes.
func oneLine(v string, max int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v)
	v = strings.Join(strings.Fields(v), " ")
	return truncRunes(v, max)
}

// bodyText makes an untrusted body safe to store: valid UTF-8, LF line ends,
// no control characters but tab and newline, at most max runes.
func bodyText(v string, max int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
	v = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, v)
	return truncRunes(strings.TrimSpace(v), max)
}

// cleanAddrs keeps the valid addresses of a list, once each.
func cleanAddrs(in []MailAddress) []MailAddress {
	var out []MailAddress
	seen := map[string]bool{}
	for _, a := range in {
		e := cleanAddr(a.Email)
		if e == "" || seen[e] || len(out) >= inboundMaxAddrs {
			continue
		}
		seen[e] = true
		out = append(out, MailAddress{Name: oneLine(a.Name, 200), Email: e})
	}
	return out
}

// normInbound cleans a message read from the dropbox; nothing in it is
// refused, since a message that cannot be stored would be read forever.
func normInbound(m InboundEmail) InboundEmail {
	m.Mailbox = oneLine(m.Mailbox, 500)
	m.From = MailAddress{Name: oneLine(m.From.Name, 200), Email: cleanAddr(m.From.Email)}
	m.ForwardedFrom = MailAddress{Name: oneLine(m.ForwardedFrom.Name, 200), Email: cleanAddr(m.ForwardedFrom.Email)}
	m.To, m.Cc = cleanAddrs(m.To), cleanAddrs(m.Cc)
	var dt []string
	for _, v := range m.DeliveredTo {
		if e := cleanAddr(v); e != "" && len(dt) < inboundMaxAddrs {
			dt = append(dt, e)
		}
	}
	m.DeliveredTo = dt
	m.Subject = oneLine(m.Subject, inboundSubjectMax)
	m.Text = bodyText(m.Text, inboundBodyMax)
	id := strings.Trim(strings.TrimSpace(m.MessageID), "<>")
	if id == "" || len(id) > 500 || oneLine(id, 500) != id || strings.ContainsRune(id, ' ') {
		// No usable Message-ID: derive one from the content, so the same
		// message read again (another UID, a new mailbox) is still known.
		sum := sha256.Sum256([]byte(m.From.Email + "\x00" + m.Date.UTC().Format(time.RFC3339) + "\x00" + m.Subject + "\x00" + m.Text))
		id = "sha256-" + hex.EncodeToString(sum[:16]) + "@cartera.inbound"
	}
	m.MessageID = id
	return m
}

// inboundMatch is a contact or lead an address belongs to.
type inboundMatch struct {
	entity Entity
	id     int64
	owner  int64
}

// LogInboundEmail records one message read from the dropbox, in one
// transaction, so that each message is processed exactly once: a
// Message-ID or mailbox place already seen changes nothing (the stored
// message is returned with created false). A message from a user's address
// is outgoing and matched on its recipients; any other is incoming and
// matched on its sender (or, for a message a user forwarded, on the original
// sender). Each contact or lead matched gets an e-mail activity; a message
// matching nothing waits as unmatched. The mailbox's cursor advances in the
// same transaction. Only the system (the poller) and administrators may
// call it.
func (s *Store) LogInboundEmail(ctx context.Context, a *Actor, in InboundEmail) (msg *InboundMessage, created bool, err error) {
	if !a.System && !a.Has(CapSettings) {
		return nil, false, errForbidden()
	}
	m := normInbound(in)
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		if m.Mailbox != "" && m.UID != 0 {
			if err := advanceCursor(ctx, tx, m.Mailbox, m.UIDValidity, m.UID, s.nowMS()); err != nil {
				return err
			}
		}
		err := tx.QueryRowContext(ctx, `SELECT id FROM inbound_emails WHERE message_id = ?
			OR (? <> 0 AND mailbox = ? AND uid_validity = ? AND uid = ?) LIMIT 1`,
			m.MessageID, m.UID, m.Mailbox, m.UIDValidity, m.UID).Scan(&id)
		if err == nil {
			return nil
		} else if err != sql.ErrNoRows {
			return err
		}
		created = true
		id, err = s.logInbound(ctx, tx, m)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	msg, err = s.getInbound(ctx, SystemActor(), id)
	return msg, created, err
}

// advanceCursor remembers the highest UID processed in a mailbox; a new
// UIDVALIDITY replaces the old cursor.
func advanceCursor(ctx context.Context, tx *sql.Tx, mailbox string, validity, uid uint32, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO inbound_mailboxes (mailbox, uid_validity, last_uid, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (mailbox) DO UPDATE SET
			last_uid = CASE WHEN uid_validity = excluded.uid_validity THEN max(last_uid, excluded.last_uid) ELSE excluded.last_uid END,
			uid_validity = excluded.uid_validity, updated_at = excluded.updated_at`, mailbox, validity, uid, now)
	return err
}

// InboundCursor returns where the poller stopped in a mailbox: its
// UIDVALIDITY and the highest UID processed (zeros when never read).
func (s *Store) InboundCursor(ctx context.Context, a *Actor, mailbox string) (validity, lastUID uint32, err error) {
	if !a.System && !a.Has(CapSettings) {
		return 0, 0, errForbidden()
	}
	err = s.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT uid_validity, last_uid FROM inbound_mailboxes WHERE mailbox = ?`, oneLine(mailbox, 500)).Scan(&validity, &lastUID)
		if err == sql.ErrNoRows {
			return nil
		}
		return err
	})
	return validity, lastUID, err
}

// activeUsers maps the lower-cased addresses among addrs that belong to
// active users to their ids.
func activeUsers(ctx context.Context, tx *sql.Tx, addrs []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(addrs) == 0 {
		return out, nil
	}
	args := make([]any, len(addrs))
	for i, v := range addrs {
		args[i] = v
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, lower(email) FROM users WHERE disabled = 0 AND lower(email) IN (`+
		strings.TrimSuffix(strings.Repeat("?,", len(addrs)), ",")+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var e string
		if err := rows.Scan(&id, &e); err != nil {
			return nil, err
		}
		out[e] = id
	}
	return out, rows.Err()
}

// matchAddress finds the live contacts and open leads whose e-mail is addr,
// with their owner if that owner is active (0 otherwise).
func matchAddress(ctx context.Context, tx *sql.Tx, addr string) ([]inboundMatch, error) {
	var out []inboundMatch
	for _, q := range []struct {
		e   Entity
		sql string
	}{
		{EntContacts, `SELECT t.id, CASE WHEN u.disabled = 0 THEN t.owner_id ELSE 0 END FROM contacts t JOIN users u ON u.id = t.owner_id
			WHERE t.email_key = ? AND t.email_key <> '' AND t.deleted_at = 0 ORDER BY t.id LIMIT ?`},
		{EntLeads, `SELECT t.id, CASE WHEN u.disabled = 0 THEN t.owner_id ELSE 0 END FROM leads t JOIN users u ON u.id = t.owner_id
			WHERE t.email_key = ? AND t.email_key <> '' AND t.deleted_at = 0 AND t.status <> 'converted' ORDER BY t.id LIMIT ?`},
	} {
		rows, err := tx.QueryContext(ctx, q.sql, addr, inboundMaxRecords)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			m := inboundMatch{entity: q.e}
			if err := rows.Scan(&m.id, &m.owner); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// matchAll finds the records of several addresses, each record once and
// at most inboundMaxRecords in all.
func matchAll(ctx context.Context, tx *sql.Tx, addrs []string) ([]inboundMatch, error) {
	var out []inboundMatch
	seen := map[string]bool{}
	for _, c := range addrs {
		if seen[c] {
			continue
		}
		seen[c] = true
		ms, err := matchAddress(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
		if len(out) >= inboundMaxRecords {
			return out[:inboundMaxRecords], nil
		}
	}
	return out, nil
}

// fallbackOwner is the user who gets an activity when neither the message
// nor the record names an active one: the first active administrator.
func fallbackOwner(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id
		WHERE u.disabled = 0 ORDER BY r.key = 'admin' DESC, u.id LIMIT 1`).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

// logInbound stores a new dropbox message and the activities it becomes,
// inside the caller's transaction.
func (s *Store) logInbound(ctx context.Context, tx *sql.Tx, m InboundEmail) (int64, error) {
	var addrs []string
	addrs = append(addrs, m.From.Email)
	for _, x := range append(append([]MailAddress{}, m.To...), m.Cc...) {
		addrs = append(addrs, x.Email)
	}
	addrs = append(addrs, m.DeliveredTo...)
	users, err := activeUsers(ctx, tx, addrs)
	if err != nil {
		return 0, err
	}
	direction, userID := DirectionIn, int64(0)
	var candidates []string
	if uid, ok := users[m.From.Email]; ok && m.From.Email != "" {
		direction, userID = DirectionOut, uid
		for _, x := range append(append([]MailAddress{}, m.To...), m.Cc...) {
			if _, isUser := users[x.Email]; !isUser {
				candidates = append(candidates, x.Email)
			}
		}
	} else {
		if m.From.Email != "" {
			candidates = []string{m.From.Email}
		}
		for _, e := range addrs[1:] {
			if uid, ok := users[e]; ok {
				userID = uid
				break
			}
		}
	}
	matches, err := matchAll(ctx, tx, candidates)
	if err != nil {
		return 0, err
	}
	if _, isUser := users[m.ForwardedFrom.Email]; direction == DirectionOut && len(matches) == 0 && m.ForwardedFrom.Email != "" && !isUser {
		// A user forwarded a message they received (to the dropbox, or
		// to a colleague): it is the original sender's e-mail to them.
		direction = DirectionIn
		if matches, err = matchAll(ctx, tx, []string{m.ForwardedFrom.Email}); err != nil {
			return 0, err
		}
	}
	from := m.From
	if direction == DirectionIn && m.ForwardedFrom.Email != "" && userID != 0 && users[m.From.Email] == userID {
		from = m.ForwardedFrom
	}
	toJSON, _ := json.Marshal(nonNilAddrs(m.To))
	ccJSON, _ := json.Marshal(nonNilAddrs(m.Cc))
	now := s.nowMS()
	var user any
	if userID != 0 {
		user = userID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO inbound_emails (message_id, mailbox, uid_validity, uid, status, direction, from_addr, from_name,
		to_addrs, cc_addrs, subject, body_text, sent_at, user_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'unmatched', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.MessageID, m.Mailbox, m.UIDValidity, m.UID, direction, from.Email, from.Name,
		string(toJSON), string(ccJSON), m.Subject, m.Text, ms(m.Date), user, now, now)
	if err != nil {
		return 0, err
	}
	id, _ := res.LastInsertId()
	for _, f := range m.Files {
		if len(f.Data) == 0 || int64(len(f.Data)) > s.MaxAttachmentSize() {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbound_files (inbound_id, name, data) VALUES (?, ?, ?)`, id, CleanFileName(f.Name), f.Data); err != nil {
			return 0, err
		}
	}
	if len(matches) == 0 {
		return id, nil
	}
	msg, err := s.getInboundTx(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	// The activities are tried under a savepoint: if the firm's rules
	// refuse them (say a field it made required for e-mails), the message
	// waits as unmatched for a person instead of blocking the dropbox.
	if _, err := tx.ExecContext(ctx, `SAVEPOINT inbound_log`); err != nil {
		return 0, err
	}
	sys := SystemActor()
	logged := true
	for _, mt := range matches {
		owner := userID
		if owner == 0 {
			owner = mt.owner
		}
		if owner == 0 {
			if owner, err = fallbackOwner(ctx, tx); err != nil {
				return 0, err
			}
		}
		if err := s.attachInbound(ctx, tx, sys, msg, mt.entity, mt.id, owner); err != nil {
			if AsError(err).Code == CodeInternal {
				return 0, err
			}
			s.log.Warn("dropbox e-mail left unmatched: its activity was refused", "message_id", m.MessageID, "err", err)
			logged = false
			break
		}
	}
	if !logged {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO inbound_log`); err != nil {
			return 0, err
		}
	} else if _, err := tx.ExecContext(ctx, `UPDATE inbound_emails SET status = 'logged', body_text = '' WHERE id = ?`, id); err != nil {
		return 0, err
	} else if _, err := tx.ExecContext(ctx, `DELETE FROM inbound_files WHERE inbound_id = ?`, id); err != nil {
		// The activities hold their copies now.
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE inbound_log`); err != nil {
		return 0, err
	}
	return id, nil
}

func nonNilAddrs(v []MailAddress) []MailAddress {
	if v == nil {
		return []MailAddress{}
	}
	return v
}

// activityText is an e-mail activity's description: an arrow line naming
// the other party (← received from, → sent to), then the body.
func activityText(msg *InboundMessage) string {
	var head string
	if msg.Direction == DirectionOut {
		parts := make([]string, 0, len(msg.To)+len(msg.Cc))
		for _, x := range append(append([]MailAddress{}, msg.To...), msg.Cc...) {
			parts = append(parts, x.String())
		}
		head = "→ " + truncRunes(strings.Join(parts, ", "), 2000)
	} else {
		head = "← " + msg.From.String()
	}
	if msg.Text == "" {
		return head
	}
	return head + "\n\n" + msg.Text
}

// attachInbound creates the e-mail activity of a message on one record and
// remembers it, inside the caller's transaction; the actor's permissions
// apply to the record link and the owner.
func (s *Store) attachInbound(ctx context.Context, tx *sql.Tx, a *Actor, msg *InboundMessage, e Entity, recordID, owner int64) error {
	link := linkColumn(e)
	if link == "" {
		return errInvalid(map[string]string{"entity": "error.invalid"})
	}
	at := msg.Date
	if at.IsZero() {
		at = s.now()
	}
	subject := msg.Subject
	if subject == "" {
		subject = truncRunes(strings.Join(strings.Fields(msg.Text), " "), 80)
	}
	if subject == "" {
		subject = msg.Counterpart()
	}
	if subject == "" {
		subject = "—"
	}
	vals := map[string]any{
		"type": "email", "subject": subject, "description": activityText(msg),
		"occurred_at": at.UTC().Format(time.RFC3339), link: recordID,
	}
	if owner != 0 {
		vals["owner_id"] = owner
	}
	actID, err := s.createRecord(ctx, tx, a, s.def(EntActivities), Input{Values: vals})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO inbound_email_activities (inbound_id, activity_id) VALUES (?, ?)`, msg.ID, actID); err != nil {
		return err
	}
	return s.attachInboundFiles(ctx, tx, a, msg.ID, actID)
}

// attachInboundFiles copies a message's files onto one of its activities,
// as attachments that follow the activity's permissions like any other.
func (s *Store) attachInboundFiles(ctx context.Context, tx *sql.Tx, a *Actor, inboundID, activityID int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, data FROM inbound_files WHERE inbound_id = ? ORDER BY id`, inboundID)
	if err != nil {
		return err
	}
	var files []InboundFile
	for rows.Next() {
		var f InboundFile
		if err := rows.Scan(&f.Name, &f.Data); err != nil {
			rows.Close()
			return err
		}
		files = append(files, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	buf := make([]byte, attachmentChunk)
	for _, f := range files {
		if _, err := s.storeFile(ctx, tx, a, EntActivities, activityID, Upload{Name: f.Name, Body: bytes.NewReader(f.Data)}, buf); err != nil {
			return err
		}
	}
	return nil
}

const inboundCols = `m.id, m.message_id, m.status, m.direction, m.from_addr, m.from_name, m.to_addrs, m.cc_addrs, m.subject, m.body_text,
	m.sent_at, COALESCE(m.user_id, 0), COALESCE(u.name, ''), m.created_at`

func scanInbound(r rowScanner) (*InboundMessage, error) {
	m := &InboundMessage{}
	var to, cc string
	var sent, created int64
	if err := r.Scan(&m.ID, &m.MessageID, &m.Status, &m.Direction, &m.From.Email, &m.From.Name, &to, &cc, &m.Subject, &m.Text,
		&sent, &m.UserID, &m.UserName, &created); err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(to), &m.To)
	json.Unmarshal([]byte(cc), &m.Cc)
	m.Date, m.CreatedAt = fromMS(sent), fromMS(created)
	return m, nil
}

// inboundLinks fills the activities each message became.
func inboundLinks(ctx context.Context, q querier, msgs []*InboundMessage) error {
	for _, m := range msgs {
		rows, err := q.QueryContext(ctx, `SELECT x.activity_id, COALESCE(a.contact_id, 0), COALESCE(a.lead_id, 0), COALESCE(a.account_id, 0),
			COALESCE(a.opportunity_id, 0), COALESCE(a.case_id, 0) FROM inbound_email_activities x JOIN activities a ON a.id = x.activity_id
			WHERE x.inbound_id = ? ORDER BY x.activity_id`, m.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var l InboundLink
			var contact, lead, account, opp, cs int64
			if err := rows.Scan(&l.ActivityID, &contact, &lead, &account, &opp, &cs); err != nil {
				rows.Close()
				return err
			}
			switch {
			case contact != 0:
				l.Entity, l.RecordID = EntContacts, contact
			case lead != 0:
				l.Entity, l.RecordID = EntLeads, lead
			case opp != 0:
				l.Entity, l.RecordID = EntOpportunities, opp
			case cs != 0:
				l.Entity, l.RecordID = EntCases, cs
			case account != 0:
				l.Entity, l.RecordID = EntAccounts, account
			}
			m.Links = append(m.Links, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, l := range m.Links {
			if l.Entity == "" {
				continue
			}
			var title string
			if err := q.QueryRowContext(ctx, `SELECT `+titleSQL(l.Entity, "t")+` FROM `+defs[l.Entity].Table+` t WHERE t.id = ?`, l.RecordID).Scan(&title); err != nil && err != sql.ErrNoRows {
				return err
			}
			m.Links[i].Title = title
		}
	}
	return nil
}

func (s *Store) getInboundTx(ctx context.Context, q querier, id int64) (*InboundMessage, error) {
	m, err := scanInbound(q.QueryRowContext(ctx, `SELECT `+inboundCols+` FROM inbound_emails m LEFT JOIN users u ON u.id = m.user_id WHERE m.id = ?`, id))
	if err != nil {
		return nil, err
	}
	return m, inboundLinks(ctx, q, []*InboundMessage{m})
}

// seesAllInbound reports whether the actor sees every dropbox message, not
// only those they sent or received.
func (a *Actor) seesAllInbound() bool { return a.System || a.Has(CapSettings) }

// getInbound returns one message the actor may see; others are not_found.
func (s *Store) getInbound(ctx context.Context, a *Actor, id int64) (*InboundMessage, error) {
	var m *InboundMessage
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = s.getInboundTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !a.seesAllInbound() && m.UserID != a.UserID {
		return nil, errNotFound()
	}
	return m, nil
}

// GetInbound returns one dropbox message: administrators see every one,
// others only those they sent or received (the rest are not_found).
func (s *Store) GetInbound(ctx context.Context, a *Actor, id int64) (*InboundMessage, error) {
	if a == nil || (!a.System && a.UserID == 0) {
		return nil, errForbidden()
	}
	return s.getInbound(ctx, a, id)
}

// InboundFilter selects dropbox messages for the inbox page.
type InboundFilter struct {
	// Status defaults to unmatched, the messages waiting for a person.
	Status InboundStatus
	// Before lists messages older than this id (paging).
	Before int64
	Limit  int
}

// FindInbound lists dropbox messages newest first: administrators see
// every one, others only those they sent or received.
func (s *Store) FindInbound(ctx context.Context, a *Actor, f InboundFilter) ([]*InboundMessage, error) {
	if a == nil || (!a.System && a.UserID == 0) {
		return nil, errForbidden()
	}
	if f.Status == "" {
		f.Status = InboundUnmatched
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := `SELECT ` + inboundCols + ` FROM inbound_emails m LEFT JOIN users u ON u.id = m.user_id WHERE m.status = ?`
	args := []any{string(f.Status)}
	if !a.seesAllInbound() {
		q += ` AND m.user_id = ?`
		args = append(args, a.UserID)
	}
	if f.Before != 0 {
		q += ` AND m.id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY m.id DESC LIMIT ?`
	args = append(args, f.Limit)
	var out []*InboundMessage
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanInbound(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return inboundLinks(ctx, tx, out)
	})
	return out, err
}

// loadWaiting reads a message for a user's decision inside a write: it must
// be visible to the actor (else not_found) and still unmatched (else
// conflict).
func (s *Store) loadWaiting(ctx context.Context, tx *sql.Tx, a *Actor, id int64) (*InboundMessage, error) {
	m, err := s.getInboundTx(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !a.seesAllInbound() && m.UserID != a.UserID {
		return nil, errNotFound()
	}
	if m.Status != InboundUnmatched {
		return nil, errConflict("error.inbound_not_waiting", nil)
	}
	return m, nil
}

// LinkInbound logs a waiting dropbox message as an e-mail activity on a
// record the actor chooses and may see, owned by the message's user (the
// actor when it has none); the message is then logged.
func (s *Store) LinkInbound(ctx context.Context, a *Actor, id int64, e Entity, recordID int64) (*InboundMessage, error) {
	if a == nil || (!a.System && a.UserID == 0) {
		return nil, errForbidden()
	}
	if linkColumn(e) == "" {
		return nil, errInvalid(map[string]string{"entity": "error.invalid"})
	}
	if !a.Can(EntActivities, ActCreate) {
		return nil, errForbidden()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		m, err := s.loadWaiting(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := s.loadRecord(ctx, tx, a, s.def(e), recordID, false); err != nil {
			return err
		}
		owner := m.UserID
		if owner == 0 {
			owner = a.UserID
		}
		if err := s.attachInbound(ctx, tx, a, m, e, recordID, owner); err != nil {
			return prefixFields(err, "activity.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inbound_emails SET status = 'logged', body_text = '', handled_by = ?, updated_at = ? WHERE id = ?`,
			a.auditUser(), s.nowMS(), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inbound_files WHERE inbound_id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "inbound.link", "inbound_emails", id, map[string]string{"entity": string(e), "record_id": strconv.FormatInt(recordID, 10)})
	})
	if err != nil {
		return nil, err
	}
	return s.getInbound(ctx, a, id)
}

// DiscardInbound drops a waiting dropbox message (say a personal e-mail):
// its body is deleted and it is never logged; the row stays so the
// message is not read again.
func (s *Store) DiscardInbound(ctx context.Context, a *Actor, id int64) error {
	if a == nil || (!a.System && a.UserID == 0) {
		return errForbidden()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.loadWaiting(ctx, tx, a, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inbound_files WHERE inbound_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inbound_emails SET status = 'discarded', body_text = '', handled_by = ?, updated_at = ? WHERE id = ?`,
			a.auditUser(), s.nowMS(), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "inbound.discard", "inbound_emails", id, nil)
	})
}
