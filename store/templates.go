package store

import (
	"context"
	"database/sql"
	"html"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file holds e-mail templates and their merge fields. A template sees
// only a flat, allow-listed map of texts ("contact.first_name",
// "owner.name", "company.phone", custom fields by key): no method calls,
// no configuration, no other records.

// TemplateEntities are the record types a template can be written for.
var TemplateEntities = []Entity{EntContacts, EntLeads, EntAccounts, EntOpportunities, EntCases}

// EmailTemplate is a reusable e-mail in one language.
type EmailTemplate struct {
	ID        int64
	Name      string
	Language  string
	Entity    Entity
	Subject   string
	BodyText  string
	BodyHTML  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// mergeField matches {{ prefix.key }} in a template.
var mergeField = regexp.MustCompile(`\{\{\s*([a-z_]+)\.([a-z][a-z0-9_]*)\s*\}\}`)

// prefixOf is the merge-field prefix of a record type ("contact").
func prefixOf(e Entity) string {
	switch e {
	case EntAccounts:
		return "account"
	case EntContacts:
		return "contact"
	case EntLeads:
		return "lead"
	case EntOpportunities:
		return "opportunity"
	case EntCases:
		return "case"
	}
	return string(e)
}

// MergeFields lists the merge fields a template for a record type may use,
// sorted, for the editor's help and for validation.
func (s *Store) MergeFields(e Entity) []string {
	sc := s.Schema()
	var out []string
	add := func(prefix string, d *EntityDef) {
		for _, f := range d.Fields {
			if !f.Hidden {
				out = append(out, prefix+"."+f.Key)
			}
		}
		for _, c := range d.Custom {
			out = append(out, prefix+"."+c.Key)
		}
	}
	add(prefixOf(e), sc.Def(e))
	if _, ok := sc.Def(e).Field("account_id"); ok && e != EntAccounts {
		add("account", sc.Def(EntAccounts))
	}
	out = append(out, "owner.name", "owner.email", "company.name", "company.phone", "company.email", "company.address")
	sort.Strings(out)
	return out
}

// checkTemplate validates a template and its merge fields.
func (s *Store) checkTemplate(t *EmailTemplate) error {
	fe := fieldErrors{}
	t.Name, t.Subject = strings.TrimSpace(t.Name), strings.TrimSpace(t.Subject)
	if t.Name == "" || len([]rune(t.Name)) > 200 {
		fe.add("name", "error.required")
	}
	if !ValidLanguage(t.Language) {
		fe.add("language", "error.language")
	}
	if !slices.Contains(TemplateEntities, t.Entity) {
		fe.add("entity", "error.option")
	}
	if t.Subject == "" || len([]rune(t.Subject)) > 300 {
		fe.add("subject", "error.required")
	}
	if strings.ContainsAny(t.Subject, "\r\n") {
		fe.add("subject", "error.single_line")
	}
	if strings.TrimSpace(t.BodyText) == "" {
		fe.add("body_text", "error.required")
	}
	if len(t.BodyText) > 100_000 || len(t.BodyHTML) > 200_000 {
		fe.add("body_text", "error.too_long")
	}
	if slices.Contains(TemplateEntities, t.Entity) {
		known := s.MergeFields(t.Entity)
		for field, text := range map[string]string{"subject": t.Subject, "body_text": t.BodyText, "body_html": t.BodyHTML} {
			for _, m := range mergeField.FindAllStringSubmatch(text, -1) {
				if !slices.Contains(known, m[1]+"."+m[2]) {
					fe.add(field, "error.merge_field")
				}
			}
		}
	}
	return fe.err()
}

// SaveEmailTemplate creates (ID 0) or updates a template; it needs the
// customize capability.
func (s *Store) SaveEmailTemplate(ctx context.Context, a *Actor, t *EmailTemplate) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	if err := s.checkTemplate(t); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		now := ms(s.now())
		var err error
		if t.ID == 0 {
			var res sql.Result
			res, err = tx.ExecContext(ctx, `INSERT INTO email_templates (name, language, entity, subject, body_text, body_html, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				t.Name, t.Language, t.Entity, t.Subject, t.BodyText, t.BodyHTML, a.auditUser(), now, now)
			if err == nil {
				t.ID, _ = res.LastInsertId()
			}
		} else {
			var res sql.Result
			res, err = tx.ExecContext(ctx, `UPDATE email_templates SET name = ?, language = ?, entity = ?, subject = ?, body_text = ?, body_html = ?, updated_at = ? WHERE id = ?`,
				t.Name, t.Language, t.Entity, t.Subject, t.BodyText, t.BodyHTML, now, t.ID)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return errNotFound()
				}
			}
		}
		if isUniqueViolation(err) {
			return errInvalid(map[string]string{"name": "error.name_taken"})
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "email_template.save", "email_templates", t.ID, map[string]any{"name": t.Name})
	})
}

// DeleteEmailTemplate removes a template.
func (s *Store) DeleteEmailTemplate(ctx context.Context, a *Actor, id int64) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM email_templates WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound()
		}
		return s.audit(ctx, tx, a, "email_template.delete", "email_templates", id, nil)
	})
}

// FindEmailTemplates lists the templates (any signed-in user may use them),
// optionally for one record type.
func (s *Store) FindEmailTemplates(ctx context.Context, a *Actor, e Entity) ([]*EmailTemplate, error) {
	if a == nil {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	q := `SELECT id, name, language, entity, subject, body_text, body_html, created_at, updated_at FROM email_templates`
	var args []any
	if e != "" {
		q += ` WHERE entity = ?`
		args = append(args, e)
	}
	q += ` ORDER BY name, language`
	var out []*EmailTemplate
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t := &EmailTemplate{}
			var ca, ua int64
			if err := rows.Scan(&t.ID, &t.Name, &t.Language, &t.Entity, &t.Subject, &t.BodyText, &t.BodyHTML, &ca, &ua); err != nil {
				return err
			}
			t.CreatedAt, t.UpdatedAt = fromMS(ca), fromMS(ua)
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// FindEmailTemplate returns one template.
func (s *Store) FindEmailTemplate(ctx context.Context, a *Actor, id int64) (*EmailTemplate, error) {
	list, err := s.FindEmailTemplates(ctx, a, "")
	if err != nil {
		return nil, err
	}
	for _, t := range list {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, errNotFound()
}

// Labeler names options in a language (the caller holds the catalogs).
type Labeler func(lang, list, key string) string

// Rendered is a template filled for one record.
type Rendered struct {
	Subject, Text, HTML string
	// To is the record's e-mail address, when it has one.
	To string
}

// RenderEmailTemplate fills a template for a record the actor may view:
// merge fields become the record's values in the template's language
// (option labels, dates), HTML-escaped in the HTML body; a field without
// a value becomes empty.
func (s *Store) RenderEmailTemplate(ctx context.Context, a *Actor, t *EmailTemplate, recordID int64, label Labeler) (*Rendered, error) {
	rec, err := s.FindRecord(ctx, a, t.Entity, recordID)
	if err != nil {
		return nil, err
	}
	data := map[string]string{}
	s.mergeValues(data, prefixOf(t.Entity), rec, t.Language, label)
	if acc := rec.Int("account_id"); acc != 0 && t.Entity != EntAccounts {
		if ar, err := s.FindRecord(ctx, a, EntAccounts, acc); err == nil {
			s.mergeValues(data, "account", ar, t.Language, label)
		}
	}
	if owner, err := s.userBrief(ctx, rec.OwnerID); err == nil {
		data["owner.name"], data["owner.email"] = owner[0], owner[1]
	}
	if c, err := s.Company(ctx); err == nil {
		data["company.name"], data["company.phone"], data["company.email"], data["company.address"] = c.Name, c.Phone, c.Email, c.Address
	}
	fill := func(text string, escape bool) string {
		return mergeField.ReplaceAllStringFunc(text, func(m string) string {
			p := mergeField.FindStringSubmatch(m)
			v := data[p[1]+"."+p[2]]
			if escape {
				return html.EscapeString(v)
			}
			return v
		})
	}
	out := &Rendered{Subject: fill(t.Subject, false), Text: fill(t.BodyText, false), To: rec.Str("email")}
	// A value never adds a header line.
	out.Subject = strings.Join(strings.Fields(out.Subject), " ")
	if t.BodyHTML != "" {
		out.HTML = fill(t.BodyHTML, true)
	}
	return out, nil
}

// mergeValues puts a record's fields in the map as display texts.
func (s *Store) mergeValues(data map[string]string, prefix string, r *Record, lang string, label Labeler) {
	d := s.def(r.Entity)
	for _, f := range d.Fields {
		var v string
		switch x := r.Values[f.Key].(type) {
		case string:
			v = x
			if f.Kind == KSelect && x != "" {
				list := f.Picklist
				if f.Key == "stage" {
					list = StageList(r.Str("pipeline"))
				}
				v = label(lang, list, x)
			}
		case int64:
			if f.Kind == KRef {
				v = r.Refs[f.Key]
			} else {
				v = strconv.FormatInt(x, 10)
			}
		case float64:
			v = strconv.FormatFloat(x, 'f', 2, 64)
		case time.Time:
			if !x.IsZero() {
				v = x.Format("2006-01-02 15:04")
			}
		case bool:
			if x {
				v = "✓"
			}
		}
		data[prefix+"."+f.Key] = v
	}
	for _, c := range d.Custom {
		var v string
		switch x := r.Custom[c.Key].(type) {
		case string:
			v = x
			if c.Kind == KSelect {
				v = label(lang, c.OptionList(), x)
			}
		case []string:
			names := make([]string, len(x))
			for i, k := range x {
				names[i] = label(lang, c.OptionList(), k)
			}
			v = strings.Join(names, ", ")
		case float64:
			v = strconv.FormatFloat(x, 'f', -1, 64)
		case int64:
			v = strconv.FormatInt(x, 10)
		case bool:
			if x {
				v = "✓"
			}
		}
		data[prefix+"."+c.Key] = v
	}
}

// userBrief returns a user's name and e-mail.
func (s *Store) userBrief(ctx context.Context, id int64) ([2]string, error) {
	var out [2]string
	err := s.r.QueryRowContext(ctx, `SELECT name, email FROM users WHERE id = ?`, id).Scan(&out[0], &out[1])
	return out, err
}

// PreviewEmailTemplate checks a template, saved or not, and fills it for a
// record, so the editor shows the e-mail before it is saved.
func (s *Store) PreviewEmailTemplate(ctx context.Context, a *Actor, t *EmailTemplate, recordID int64, label Labeler) (*Rendered, error) {
	if err := s.checkTemplate(t); err != nil {
		return nil, err
	}
	return s.RenderEmailTemplate(ctx, a, t, recordID, label)
}
