package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"
)

// This file holds the export of everything Cartera keeps about a person
// (the GDPR right of access and portability): the contact or lead with its
// custom fields and tags, the records of the same person (converted or
// merged ones), linked activities, tasks, cases and opportunities, e-mails
// sent (outbox) and received (dropbox), field history and web form
// submissions. Consent fields, when the firm's records have them, are part
// of the record's fields.

// PersonalData is the export of one person's data; ui renders it as JSON
// and as an HTML page.
type PersonalData struct {
	Entity     Entity    `json:"entity"`
	ID         int64     `json:"id,string"`
	ExportedAt time.Time `json:"exported_at"`
	Erased     bool      `json:"erased"`
	// Records are the person's records: the one asked for first, then the
	// lead it was converted from (or the contact it became) and merged
	// duplicates.
	Records       []PersonalRecord      `json:"records"`
	Activities    []PersonalActivity    `json:"activities"`
	Tasks         []PersonalTask        `json:"tasks"`
	Cases         []PersonalCase        `json:"cases"`
	Opportunities []PersonalOpportunity `json:"opportunities"`
	EmailsSent    []PersonalEmail       `json:"emails_sent"`
	EmailsIn      []PersonalEmail       `json:"emails_received"`
	History       []PersonalChange      `json:"field_history"`
	WebForms      []PersonalSubmission  `json:"web_form_submissions"`
	Suppressed    bool                  `json:"suppressed"`
}

// PersonalRecord is one contact or lead with its fields as text.
type PersonalRecord struct {
	Entity    Entity            `json:"entity"`
	ID        int64             `json:"id,string"`
	Fields    map[string]string `json:"fields"`
	Custom    map[string]string `json:"custom"`
	Tags      []string          `json:"tags"`
	Owner     string            `json:"owner"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	InTrash   bool              `json:"in_trash"`
	// Order lists the keys of Fields in the form's order, for pages.
	Order []string `json:"-"`
}

// PersonalActivity is an activity linked to the person.
type PersonalActivity struct {
	ID          int64     `json:"id,string"`
	Type        string    `json:"type"`
	OccurredAt  time.Time `json:"occurred_at"`
	Subject     string    `json:"subject"`
	Description string    `json:"description"`
	Outcome     string    `json:"outcome"`
	Owner       string    `json:"owner"`
}

// PersonalTask is a task linked to the person.
type PersonalTask struct {
	ID          int64     `json:"id,string"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	DueAt       time.Time `json:"due_at"`
}

// PersonalCase is a service case of the person.
type PersonalCase struct {
	ID          int64     `json:"id,string"`
	Subject     string    `json:"subject"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
}

// PersonalOpportunity is an opportunity the person is the contact of or has
// a role in.
type PersonalOpportunity struct {
	ID     int64   `json:"id,string"`
	Name   string  `json:"name"`
	Stage  string  `json:"stage"`
	Amount float64 `json:"amount"`
	Role   string  `json:"role"`
}

// PersonalEmail is an e-mail sent to or received from the person.
type PersonalEmail struct {
	ID      int64     `json:"id,string"`
	At      time.Time `json:"at"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	Status  string    `json:"status"`
}

// PersonalChange is one field change of one of the person's records.
type PersonalChange struct {
	Entity Entity    `json:"entity"`
	ID     int64     `json:"id,string"`
	Field  string    `json:"field"`
	Old    string    `json:"old"`
	New    string    `json:"new"`
	At     time.Time `json:"at"`
	User   string    `json:"user"`
}

// PersonalSubmission is one web form the person sent.
type PersonalSubmission struct {
	Form string    `json:"form"`
	At   time.Time `json:"at"`
}

// ExportPersonalData gathers everything kept about a contact or lead; it
// needs the privacy capability and a record the actor may view (live or in
// the trash), and is written to the audit log. Linked records are included
// whoever owns them: the export is about the person.
func (s *Store) ExportPersonalData(ctx context.Context, a *Actor, e Entity, id int64) (*PersonalData, error) {
	if err := a.requirePrivacy(); err != nil {
		return nil, err
	}
	if !slices.Contains(PrivacyEntities, e) {
		return nil, errNotFound()
	}
	out := &PersonalData{Entity: e, ID: id, ExportedAt: s.now().UTC()}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.personRecord(ctx, tx, a, e, id); err != nil {
			return err
		}
		people, err := personRecords(ctx, tx, e, id)
		if err != nil {
			return err
		}
		var emails []string
		for _, p := range people {
			if err := s.exportPerson(ctx, tx, p, out); err != nil {
				return err
			}
		}
		for _, r := range out.Records {
			if em := suppressKey(r.Fields["email"]); em != "" && !slices.Contains(emails, em) {
				emails = append(emails, em)
			}
		}
		if err := exportEmails(ctx, tx, people, emails, out); err != nil {
			return err
		}
		var erasedAt int64
		if err := tx.QueryRowContext(ctx, "SELECT erased_at FROM "+s.def(e).Table+" WHERE id = ?", id).Scan(&erasedAt); err != nil {
			return err
		}
		out.Erased = erasedAt != 0
		for _, em := range emails {
			sup, err := s.isSuppressed(ctx, tx, em)
			if err != nil {
				return err
			}
			out.Suppressed = out.Suppressed || sup
		}
		return s.audit(ctx, tx, a, "privacy.export", string(e), id, map[string]any{"records": len(people)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// exportPerson adds one record of the person and what hangs off it.
func (s *Store) exportPerson(ctx context.Context, tx *sql.Tx, p PersonRef, out *PersonalData) error {
	d := s.def(p.Entity)
	var del int64
	if err := tx.QueryRowContext(ctx, "SELECT deleted_at FROM "+d.Table+" WHERE id = ?", p.ID).Scan(&del); err != nil {
		return err
	}
	r, err := s.loadRecord(ctx, tx, SystemActor(), d, p.ID, del != 0)
	if err != nil {
		return err
	}
	pr := PersonalRecord{Entity: p.Entity, ID: p.ID, Fields: map[string]string{}, Custom: map[string]string{}, Tags: r.Tags,
		Owner: r.OwnerName, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, InTrash: del != 0}
	if pr.Tags == nil {
		pr.Tags = []string{}
	}
	for _, f := range d.Fields {
		v := display(f, r.Values[f.Key])
		if f.Kind == KRef {
			if t := r.Refs[f.Key]; t != "" {
				v = t
			}
		}
		pr.Fields[f.Key] = v
		pr.Order = append(pr.Order, f.Key)
	}
	for k, v := range r.Custom {
		pr.Custom[k] = displayCustom(v)
	}
	for k, v := range r.retained {
		pr.Custom[k] = displayCustom(v)
	}
	out.Records = append(out.Records, pr)
	link := linkColumn(p.Entity)
	rows, err := tx.QueryContext(ctx, `SELECT x.id, x.type, x.occurred_at, x.subject, x.description, x.outcome, COALESCE(u.name, '')
		FROM activities x LEFT JOIN users u ON u.id = x.owner_id WHERE x.`+link+` = ? ORDER BY x.occurred_at, x.id`, p.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v PersonalActivity
		var at int64
		if err := rows.Scan(&v.ID, &v.Type, &at, &v.Subject, &v.Description, &v.Outcome, &v.Owner); err != nil {
			rows.Close()
			return err
		}
		v.OccurredAt = fromMS(at)
		out.Activities = append(out.Activities, v)
	}
	rows.Close()
	if rows, err = tx.QueryContext(ctx, `SELECT id, title, description, status, due_at FROM tasks WHERE `+link+` = ? ORDER BY id`, p.ID); err != nil {
		return err
	}
	for rows.Next() {
		var v PersonalTask
		var at int64
		if err := rows.Scan(&v.ID, &v.Title, &v.Description, &v.Status, &at); err != nil {
			rows.Close()
			return err
		}
		v.DueAt = fromMS(at)
		out.Tasks = append(out.Tasks, v)
	}
	rows.Close()
	if p.Entity == EntContacts {
		if rows, err = tx.QueryContext(ctx, `SELECT id, subject, description, status, created_at FROM cases WHERE contact_id = ? ORDER BY id`, p.ID); err != nil {
			return err
		}
		for rows.Next() {
			var v PersonalCase
			var at int64
			if err := rows.Scan(&v.ID, &v.Subject, &v.Description, &v.Status, &at); err != nil {
				rows.Close()
				return err
			}
			v.CreatedAt = fromMS(at)
			out.Cases = append(out.Cases, v)
		}
		rows.Close()
		if rows, err = tx.QueryContext(ctx, `SELECT o.id, o.name, o.stage, o.amount_cents, COALESCE(oc.role, 'primary') FROM opportunities o
			LEFT JOIN opportunity_contacts oc ON oc.opportunity_id = o.id AND oc.contact_id = ?1
			WHERE o.contact_id = ?1 OR oc.contact_id = ?1 ORDER BY o.id`, p.ID); err != nil {
			return err
		}
		for rows.Next() {
			var v PersonalOpportunity
			var cents int64
			if err := rows.Scan(&v.ID, &v.Name, &v.Stage, &cents, &v.Role); err != nil {
				rows.Close()
				return err
			}
			v.Amount = float64(cents) / 100
			out.Opportunities = append(out.Opportunities, v)
		}
		rows.Close()
	}
	if rows, err = tx.QueryContext(ctx, `SELECT h.field, h.old_value, h.new_value, h.at, COALESCE(u.name, '') FROM field_history h LEFT JOIN users u ON u.id = h.user_id
		WHERE h.entity = ? AND h.record_id = ? ORDER BY h.at, h.id`, string(p.Entity), p.ID); err != nil {
		return err
	}
	for rows.Next() {
		v := PersonalChange{Entity: p.Entity, ID: p.ID}
		var at int64
		if err := rows.Scan(&v.Field, &v.Old, &v.New, &at, &v.User); err != nil {
			rows.Close()
			return err
		}
		v.At = fromMS(at)
		out.History = append(out.History, v)
	}
	rows.Close()
	if rows, err = tx.QueryContext(ctx, `SELECT detail, at FROM audit_log WHERE action = 'web_form.submit' AND entity = ? AND record_id = ? ORDER BY at, id`, string(p.Entity), p.ID); err != nil {
		return err
	}
	for rows.Next() {
		var detail string
		var at int64
		if err := rows.Scan(&detail, &at); err != nil {
			rows.Close()
			return err
		}
		var dm struct {
			Form string `json:"form"`
		}
		json.Unmarshal([]byte(detail), &dm)
		out.WebForms = append(out.WebForms, PersonalSubmission{Form: dm.Form, At: fromMS(at)})
	}
	rows.Close()
	return rows.Err()
}

// exportEmails adds the outbox messages to the person or about their
// records, and the dropbox messages from, to or about them.
func exportEmails(ctx context.Context, tx *sql.Tx, people []PersonRef, emails []string, out *PersonalData) error {
	seen := map[int64]bool{}
	addOut := func(q string, args ...any) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, created_at, sent_at, to_addr, subject, body_text, status FROM outbox WHERE `+q+` ORDER BY id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v PersonalEmail
			var created, sent int64
			if err := rows.Scan(&v.ID, &created, &sent, &v.To, &v.Subject, &v.Body, &v.Status); err != nil {
				return err
			}
			if seen[v.ID] {
				continue
			}
			seen[v.ID] = true
			v.At = fromMS(max(created, sent))
			out.EmailsSent = append(out.EmailsSent, v)
		}
		return rows.Err()
	}
	for _, p := range people {
		if err := addOut(`entity = ? AND record_id = ?`, string(p.Entity), p.ID); err != nil {
			return err
		}
	}
	for _, em := range emails {
		if err := addOut(`lower(to_addr) = ?`, em); err != nil {
			return err
		}
	}
	ids := map[int64]bool{}
	for _, p := range people {
		got, err := idsWhereQ(ctx, tx, `SELECT ia.inbound_id FROM inbound_email_activities ia JOIN activities x ON x.id = ia.activity_id WHERE x.`+linkColumn(p.Entity)+` = ?`, p.ID)
		if err != nil {
			return err
		}
		for _, id := range got {
			ids[id] = true
		}
	}
	for _, em := range emails {
		got, err := idsWhereQ(ctx, tx, `SELECT id FROM inbound_emails WHERE lower(from_addr) = ? OR instr(lower(to_addrs), ?) > 0 OR instr(lower(cc_addrs), ?) > 0`, em, em, em)
		if err != nil {
			return err
		}
		for _, id := range got {
			ids[id] = true
		}
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	slices.Sort(list)
	for _, id := range list {
		m, err := scanInbound(tx.QueryRowContext(ctx, `SELECT `+inboundCols+` FROM inbound_emails m LEFT JOIN users u ON u.id = m.user_id WHERE m.id = ?`, id))
		if err != nil {
			return err
		}
		v := PersonalEmail{ID: m.ID, At: m.Date, From: m.From.String(), Subject: m.Subject, Body: m.Text, Status: string(m.Status)}
		var to []string
		for _, x := range append(append([]MailAddress{}, m.To...), m.Cc...) {
			to = append(to, x.String())
		}
		v.To = joinComma(to)
		out.EmailsIn = append(out.EmailsIn, v)
	}
	return nil
}

func joinComma(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
