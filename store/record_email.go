package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// RecordEmail is an e-mail a user writes to a contact, lead or client from
// its page.
type RecordEmail struct {
	Subject string
	Text    string
	HTML    string
}

// EmailableEntities are the record types that have an e-mail address to
// write to.
var EmailableEntities = []Entity{EntContacts, EntLeads, EntAccounts}

// SendRecordEmail queues an e-mail to a record's address, from the
// configured sender with the user as Reply-To, and logs it as an e-mail
// activity on the record, in one transaction: the message exists exactly
// when the activity does, and the outbox sends it after the commit.
func (s *Store) SendRecordEmail(ctx context.Context, a *Actor, e Entity, id int64, m RecordEmail) (*Record, error) {
	d := s.def(e)
	link := linkColumn(e)
	if d == nil || link == "" {
		return nil, errNotFound()
	}
	if _, ok := d.Field("email"); !ok {
		return nil, errNotFound()
	}
	if !a.Can(EntActivities, ActCreate) {
		return nil, errForbidden()
	}
	fe := fieldErrors{}
	m.Subject = strings.TrimSpace(m.Subject)
	if m.Subject == "" {
		fe.add("subject", "error.required")
	}
	if strings.TrimSpace(m.Text) == "" {
		fe.add("body", "error.required")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	var actID int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		rec, err := s.loadRecord(ctx, tx, a, d, id, false)
		if err != nil {
			return err
		}
		to := rec.Str("email")
		if to == "" {
			return errInvalid(map[string]string{"to": "error.no_email_address"})
		}
		actID, err = s.createRecord(ctx, tx, a, s.def(EntActivities), Input{Values: map[string]any{
			"type": "email", "subject": m.Subject, "description": m.Text, "occurred_at": s.now().UTC().Format(time.RFC3339),
			link: id, "outcome": "pending",
		}})
		if err != nil {
			return prefixFields(err, "activity.")
		}
		_, _, err = s.enqueueEmail(ctx, tx, a, OutgoingEmail{
			Key: "record-email:activity:" + itoa64(actID), To: to, ToName: rec.Title, ReplyTo: a.Email,
			Subject: m.Subject, Text: m.Text, HTML: m.HTML, Entity: e, RecordID: id,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FindRecord(ctx, a, EntActivities, actID)
}
