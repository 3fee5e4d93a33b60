package store

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// caseRefPattern finds a case reference ("[#C-123]") in a subject.
var caseRefPattern = regexp.MustCompile(`\[#C-([0-9]{1,18})\]`)

// CaseRefIn returns the case id a subject refers to (0 when none).
func CaseRefIn(subject string) int64 {
	m := caseRefPattern.FindStringSubmatch(subject)
	if m == nil {
		return 0
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// CaseEmailResult is what became of a message read from the support
// mailbox.
type CaseEmailResult struct {
	CaseID int64
	// Opened is true when the message opened a new case, false when it was
	// added to an existing one (or had been read before).
	Opened bool
	// ContactID is the case's contact: the one matched by the sender's
	// address, or one created for it.
	ContactID int64
}

// CaseFromEmail records one message read from the support mailbox in one
// transaction, exactly once (a Message-ID or mailbox place already seen
// changes nothing and returns created false). A message whose subject
// carries a case reference, or whose In-Reply-To/References name a case
// e-mail, is added to that case as an e-mail activity; any other opens a
// case in the configured queue, for the contact with the sender's address
// (a new contact when none has it), and queues an acknowledgment with the
// case reference. Only the system (the poller) and administrators may call
// it.
func (s *Store) CaseFromEmail(ctx context.Context, a *Actor, in InboundEmail) (res CaseEmailResult, created bool, err error) {
	if !a.System && !a.Has(CapSettings) {
		return res, false, errForbidden()
	}
	m := normInbound(in)
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, created = CaseEmailResult{}, false
		if m.Mailbox != "" && m.UID != 0 {
			if err := advanceCursor(ctx, tx, m.Mailbox, m.UIDValidity, m.UID, s.nowMS()); err != nil {
				return err
			}
		}
		var seen sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT case_id FROM case_emails WHERE message_id = ?
			OR (? <> 0 AND mailbox = ? AND uid_validity = ? AND uid = ?) LIMIT 1`,
			m.MessageID, m.UID, m.Mailbox, m.UIDValidity, m.UID).Scan(&seen)
		if err == nil {
			res.CaseID = seen.Int64
			return nil
		} else if !isNoRows(err) {
			return err
		}
		created = true
		ss, err := loadService(ctx, tx)
		if err != nil {
			return err
		}
		if m.From.Email == "" || (ss.SupportAddress != "" && m.From.Email == ss.SupportAddress) {
			// No sender to answer, or our own acknowledgment come back:
			// remember it and do nothing else, so mail never loops.
			return s.rememberCaseEmail(ctx, tx, m, DirectionIn, 0, 0)
		}
		caseID, err := s.caseOfEmail(ctx, tx, m)
		if err != nil {
			return err
		}
		if caseID == 0 {
			if caseID, res.ContactID, err = s.openEmailCase(ctx, tx, ss, m); err != nil {
				return err
			}
			res.Opened = true
		}
		res.CaseID = caseID
		var owner int64
		var contact sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT owner_id, contact_id FROM cases WHERE id = ?`, caseID).Scan(&owner, &contact); err != nil {
			return err
		}
		if res.ContactID == 0 {
			res.ContactID = contact.Int64
		}
		at := m.Date
		if at.IsZero() || at.After(s.now()) {
			at = s.now()
		}
		subject := m.Subject
		if subject == "" {
			subject = "—"
		}
		vals := map[string]any{
			"type": "email", "subject": subject, "occurred_at": at.UTC().Format(time.RFC3339),
			"description": strings.TrimSpace("← " + m.From.String() + "\n\n" + m.Text),
			"case_id":     caseID, "owner_id": owner,
		}
		if contact.Valid {
			vals["contact_id"] = contact.Int64
		}
		actID, err := s.createRecord(ctx, tx, SystemActor(), s.def(EntActivities), Input{Values: vals})
		if err != nil {
			return err
		}
		if err := s.rememberCaseEmail(ctx, tx, m, DirectionIn, caseID, actID); err != nil {
			return err
		}
		if !res.Opened {
			return nil
		}
		return s.acknowledgeCase(ctx, tx, ss, caseID, m)
	})
	if err != nil {
		return CaseEmailResult{}, false, err
	}
	return res, created, nil
}

// caseOfEmail finds the live case a message answers: by the reference in
// its subject, else by a case e-mail its In-Reply-To or References name.
func (s *Store) caseOfEmail(ctx context.Context, tx *sql.Tx, m InboundEmail) (int64, error) {
	var id int64
	if ref := CaseRefIn(m.Subject); ref != 0 {
		err := tx.QueryRowContext(ctx, `SELECT id FROM cases WHERE id = ? AND deleted_at = 0`, ref).Scan(&id)
		if err == nil || !isNoRows(err) {
			return id, err
		}
	}
	for _, r := range m.References {
		r = strings.Trim(strings.TrimSpace(r), "<>")
		if r == "" || len(r) > 500 {
			continue
		}
		err := tx.QueryRowContext(ctx, `SELECT c.id FROM case_emails e JOIN cases c ON c.id = e.case_id WHERE e.message_id = ? AND c.deleted_at = 0`, r).Scan(&id)
		if err == nil || !isNoRows(err) {
			return id, err
		}
	}
	return 0, nil
}

// openEmailCase opens the case of a new support message: its contact is
// the live contact with the sender's address (the oldest when several),
// else a new contact named after the sender; the case goes to the
// configured queue and, when the queue is round-robin, to its next member,
// else to the contact's owner or the first administrator.
func (s *Store) openEmailCase(ctx context.Context, tx *sql.Tx, ss *ServiceSettings, m InboundEmail) (caseID, contactID int64, err error) {
	sys := SystemActor()
	var contactOwner int64
	var account sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT t.id, CASE WHEN u.disabled = 0 THEN t.owner_id ELSE 0 END, t.account_id FROM contacts t JOIN users u ON u.id = t.owner_id
		WHERE t.email_key = ? AND t.deleted_at = 0 ORDER BY t.id LIMIT 1`, m.From.Email).Scan(&contactID, &contactOwner, &account)
	if err != nil && !isNoRows(err) {
		return 0, 0, err
	}
	owner, err := s.queueAssignee(ctx, tx, sys, ss.MailboxQueue)
	if err != nil {
		return 0, 0, err
	}
	if owner == 0 {
		owner = contactOwner
	}
	if owner == 0 {
		if owner, err = fallbackOwner(ctx, tx); err != nil {
			return 0, 0, err
		}
	}
	if contactID == 0 {
		first, last := splitName(m.From.Name)
		contactID, err = s.createRecord(ctx, tx, sys, s.def(EntContacts), Input{Values: map[string]any{
			"first_name": first, "last_name": last, "email": m.From.Email, "owner_id": owner,
		}})
		if err != nil {
			return 0, 0, err
		}
	}
	subject := m.Subject
	if subject == "" {
		subject = truncRunes(strings.Join(strings.Fields(m.Text), " "), 80)
	}
	if subject == "" {
		subject = m.From.Email
	}
	vals := map[string]any{
		"subject": subject, "description": m.Text, "contact_id": contactID, "assignee_id": owner,
		"queue": ss.MailboxQueue,
	}
	if account.Valid {
		vals["account_id"] = account.Int64
	}
	caseID, err = s.createRecord(ctx, tx, sys, s.def(EntCases), Input{Values: vals})
	return caseID, contactID, err
}

// splitName splits a display name into first and last name at its first
// space.
func splitName(name string) (first, last string) {
	name = strings.TrimSpace(strings.Trim(strings.TrimSpace(name), `"'`))
	first, last, _ = strings.Cut(name, " ")
	return truncRunes(first, 100), truncRunes(strings.TrimSpace(last), 100)
}

// rememberCaseEmail keeps a case e-mail's Message-ID and mailbox place.
func (s *Store) rememberCaseEmail(ctx context.Context, tx *sql.Tx, m InboundEmail, dir string, caseID, actID int64) error {
	var c, act any
	if caseID != 0 {
		c = caseID
	}
	if actID != 0 {
		act = actID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO case_emails (message_id, mailbox, uid_validity, uid, direction, case_id, activity_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.MessageID, m.Mailbox, m.UIDValidity, m.UID, dir, c, act, s.nowMS())
	return err
}

// companyWords are the words of e-mails to customers: the company's
// language and time zone.
func (s *Store) companyWords(ctx context.Context, q querier) Words {
	var lang, tz string
	q.QueryRowContext(ctx, `SELECT language, timezone FROM company WHERE id = 1`).Scan(&lang, &tz)
	return s.wordsFor(lang, tz)
}

// caseSubject is the subject of an e-mail about a case: the reference,
// then the subject given (without an older reference or "Re:").
func caseSubject(id int64, subject string) string {
	subject = strings.TrimSpace(caseRefPattern.ReplaceAllString(subject, ""))
	for {
		l := strings.ToLower(subject)
		if strings.HasPrefix(l, "re:") || strings.HasPrefix(l, "fw:") {
			subject = strings.TrimSpace(subject[3:])
			continue
		}
		break
	}
	return oneLine(CaseRef(id)+" "+subject, 300)
}

// acknowledgeCase queues the e-mail that tells the sender their case was
// opened and how to add to it.
func (s *Store) acknowledgeCase(ctx context.Context, tx *sql.Tx, ss *ServiceSettings, caseID int64, m InboundEmail) error {
	w := s.companyWords(ctx, tx)
	ref := "C-" + strconv.FormatInt(caseID, 10)
	text := w.T("service.ack.body", "Ref", ref, "Subject", m.Subject) + "\n\n-- \n" + w.T("service.email.footer") + "\n"
	_, _, err := s.enqueueEmail(ctx, tx, SystemActor(), OutgoingEmail{
		Key: "case-ack:" + strconv.FormatInt(caseID, 10), To: m.From.Email, ToName: m.From.Name, ReplyTo: ss.SupportAddress,
		Subject: caseSubject(caseID, m.Subject), Text: text, Entity: EntCases, RecordID: caseID,
	})
	return err
}

// ReplyToCase e-mails an agent's reply to the case's contact through the
// outbox, with the case reference in the subject and the support address
// as Reply-To, and logs it on the case as an e-mail activity; the first
// reply is the case's first response. The actor must be able to edit the
// case and create activities.
func (s *Store) ReplyToCase(ctx context.Context, a *Actor, caseID int64, text string) (*Record, error) {
	if !a.Can(EntActivities, ActCreate) || !a.Can(EntCases, ActEdit) {
		return nil, errForbidden()
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errInvalid(map[string]string{"text": "error.required"})
	}
	if len([]rune(text)) > 45_000 {
		return nil, errInvalid(map[string]string{"text": "error.too_long"})
	}
	var actID int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := s.loadRecord(ctx, tx, a, s.def(EntCases), caseID, false)
		if err != nil {
			return err
		}
		if err := a.checkRecord(EntCases, ActEdit, c.OwnerID, c.ownerTeam); err != nil {
			return err
		}
		var email, first, last string
		if id := c.Int("contact_id"); id != 0 {
			err := tx.QueryRowContext(ctx, `SELECT email, first_name, last_name FROM contacts WHERE id = ? AND deleted_at = 0`, id).Scan(&email, &first, &last)
			if err != nil && !isNoRows(err) {
				return err
			}
		}
		if email == "" {
			return errInvalid(map[string]string{"text": "service.error.no_contact_email"})
		}
		ss, err := loadService(ctx, tx)
		if err != nil {
			return err
		}
		subject := caseSubject(caseID, c.Str("subject"))
		name := strings.TrimSpace(first + " " + last)
		actID, err = s.createRecord(ctx, tx, a, s.def(EntActivities), Input{Values: map[string]any{
			"type": "email", "subject": subject, "occurred_at": s.now().UTC().Format(time.RFC3339),
			"description": "→ " + MailAddress{Name: name, Email: email}.String() + "\n\n" + text,
			"case_id":     caseID, "contact_id": c.Int("contact_id"),
		}})
		if err != nil {
			return err
		}
		key := "case-reply:" + strconv.FormatInt(actID, 10)
		w := s.companyWords(ctx, tx)
		if _, _, err := s.enqueueEmail(ctx, tx, a, OutgoingEmail{
			Key: key, To: email, ToName: name, ReplyTo: ss.SupportAddress, Subject: subject,
			Text: text + "\n\n-- \n" + w.T("service.email.footer") + "\n", Entity: EntCases, RecordID: caseID,
		}); err != nil {
			return err
		}
		return s.rememberCaseEmail(ctx, tx, InboundEmail{MessageID: MessageIDFor(key, s.mailDomain())}, DirectionOut, caseID, actID)
	})
	if err != nil {
		return nil, err
	}
	return s.FindRecord(ctx, a, EntActivities, actID)
}
