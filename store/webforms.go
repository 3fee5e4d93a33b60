package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds public web forms (web-to-lead): an administrator builds a
// form from lead or contact fields, and anonymous visitors submit it at
// /f/{slug}. A submission goes through the same validation as every other
// write path, in one transaction, as the system actor.

// WebFormEntities are the record types a public form may create.
var WebFormEntities = []Entity{EntLeads, EntContacts}

// Owner assignment modes of a web form.
const (
	WebFormOwnerUser = "user" // always the same user
	WebFormOwnerTeam = "team" // round-robin among the team's active members
)

// WebFormField is one input of a public form: a standard field key or
// "custom.KEY", which is also the input's name on the public page.
type WebFormField struct {
	Key      string `json:"key"`
	Required bool   `json:"required"`
}

// WebForm is a public form that creates leads or contacts; only its
// configured fields are ever read from a submission.
type WebForm struct {
	ID          int64
	Slug        string
	Name        string
	Entity      Entity
	Fields      []WebFormField
	Title       string
	Intro       string
	ThanksText  string
	RedirectURL string
	OwnerMode   string
	OwnerUserID int64
	OwnerTeamID int64
	LastOwnerID int64
	Tags        []string
	// ConsentText, when not empty, adds a consent checkbox the visitor must tick.
	ConsentText string
	// Language of the public page; "" uses the company's language.
	Language    string
	Active      bool
	Submissions int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Field returns the form's field with an input name, so a submission
// reader can tell configured inputs from injected ones.
func (f *WebForm) Field(key string) (WebFormField, bool) {
	for _, x := range f.Fields {
		if x.Key == key {
			return x, true
		}
	}
	return WebFormField{}, false
}

// WebFormInput is what creating or editing a web form carries; the record
// type is fixed once the form exists, since its fields depend on it.
type WebFormInput struct {
	Name        string
	Slug        string
	Entity      Entity
	Fields      []WebFormField
	Title       string
	Intro       string
	ThanksText  string
	RedirectURL string
	OwnerMode   string
	OwnerUserID int64
	OwnerTeamID int64
	Tags        []string
	ConsentText string
	Language    string
	Active      bool
}

// WebFormCandidate is a field an administrator may put on a public form,
// with what the public page needs to draw its input.
type WebFormCandidate struct {
	// Key is the input name: the standard field's key or "custom.KEY".
	Key string
	// Kind decides the input type.
	Kind Kind
	// Field is the standard field (zero for a custom one).
	Field Field
	// Custom is the custom field (nil for a standard one).
	Custom *CustomField
	// Required is set when every record of the type needs the field, so a
	// form without it could never be submitted.
	Required bool
}

// webFormExcluded are standard fields a visitor must never set: the store
// sets the source, and the status belongs to the firm's process.
var webFormExcluded = map[Entity][]string{EntLeads: {"source", "status"}}

// WebFormCandidates lists, in form order, the fields a public form of a
// record type may ask for: visible, writable, and not links to records an
// anonymous visitor cannot see.
func (sc *Schema) WebFormCandidates(e Entity) []WebFormCandidate {
	d := sc.Def(e)
	if d == nil || !slices.Contains(WebFormEntities, e) {
		return nil
	}
	var out []WebFormCandidate
	for _, slot := range sc.FormOrder(e) {
		if slot.Custom {
			c, ok := d.CustomField(slot.Key)
			if !ok || c.Kind == KRef {
				continue
			}
			out = append(out, WebFormCandidate{Key: "custom." + c.Key, Kind: c.Kind, Custom: c, Required: c.Required})
			continue
		}
		f, ok := d.Field(slot.Key)
		if !ok || f.ReadOnly || f.Hidden || f.Kind == KRef || slices.Contains(webFormExcluded[e], f.Key) {
			continue
		}
		out = append(out, WebFormCandidate{Key: f.Key, Kind: f.Kind, Field: f, Required: f.Required})
	}
	return out
}

// WebFormCandidate returns one field a form of the record type may ask for.
func (sc *Schema) WebFormCandidate(e Entity, key string) (WebFormCandidate, bool) {
	for _, c := range sc.WebFormCandidates(e) {
		if c.Key == key {
			return c, true
		}
	}
	return WebFormCandidate{}, false
}

var slugRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// ValidWebFormSlug reports whether s can be the last part of a form's
// public address.
func ValidWebFormSlug(s string) bool { return slugRe.MatchString(s) }

// slugFrom derives a slug from a form's name: "Sol·licitud d'alta" →
// "sol-licitud-d-alta".
func slugFrom(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range foldKey(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			if b.Len() >= 60 {
				break
			}
		} else {
			dash = true
		}
	}
	return b.String()
}

// check normalises a web form's settings and collects their problems; the
// owner and team are checked against the database by the caller.
func (in *WebFormInput) check(sc *Schema, fe fieldErrors) {
	var k string
	if in.Name, k = cleanText(in.Name, true, 100); k != "" {
		fe.add("name", k)
	}
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	if in.Slug == "" {
		in.Slug = slugFrom(in.Name)
	}
	if !ValidWebFormSlug(in.Slug) {
		fe.add("slug", "webforms.error.slug")
	}
	if !slices.Contains(WebFormEntities, in.Entity) {
		fe.add("entity", "error.option")
		return
	}
	seen := map[string]bool{}
	var fields []WebFormField
	for _, f := range in.Fields {
		if seen[f.Key] {
			continue
		}
		seen[f.Key] = true
		if _, ok := sc.WebFormCandidate(in.Entity, f.Key); !ok {
			fe.add("fields", "error.unknown_field")
			continue
		}
		fields = append(fields, f)
	}
	in.Fields = fields
	if len(fields) == 0 {
		fe.add("fields", "webforms.error.no_fields")
	} else if !seen["first_name"] && !seen["last_name"] && !seen["email"] && !(in.Entity == EntLeads && seen["company"]) {
		fe.add("fields", "webforms.error.identity_field")
	}
	for _, c := range sc.WebFormCandidates(in.Entity) {
		if c.Required && !seen[c.Key] {
			fe.add("fields", "webforms.error.required_missing")
		}
	}
	if in.Title, k = cleanText(in.Title, false, 200); k != "" {
		fe.add("title", k)
	}
	if in.Intro, k = cleanLongText(in.Intro, 2000); k != "" {
		fe.add("intro", k)
	}
	if in.ThanksText, k = cleanLongText(in.ThanksText, 2000); k != "" {
		fe.add("thanks_text", k)
	}
	if in.RedirectURL, k = cleanText(in.RedirectURL, false, 2000); k != "" {
		fe.add("redirect_url", k)
	} else if in.RedirectURL != "" {
		u, err := url.Parse(in.RedirectURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			fe.add("redirect_url", "webforms.error.redirect_url")
		}
	}
	if in.ConsentText, k = cleanLongText(in.ConsentText, 1000); k != "" {
		fe.add("consent_text", k)
	}
	if in.Language != "" && !ValidLanguage(in.Language) {
		fe.add("language", "error.option")
	}
	in.Tags = normTags(in.Tags)
	if len(in.Tags) > 10 {
		fe.add("tags", "webforms.error.too_many_tags")
	}
	for _, t := range in.Tags {
		if k := validTag(t); k != "" {
			fe.add("tags", k)
		}
	}
	switch in.OwnerMode {
	case WebFormOwnerUser:
		in.OwnerTeamID = 0
		if in.OwnerUserID == 0 {
			fe.add("owner_user_id", "error.required")
		}
	case WebFormOwnerTeam:
		in.OwnerUserID = 0
		if in.OwnerTeamID == 0 {
			fe.add("owner_team_id", "error.required")
		}
	default:
		fe.add("owner_mode", "error.option")
	}
}

// checkOwnerRefs verifies that the form's user is active and its team exists.
func checkOwnerRefs(ctx context.Context, q querier, in *WebFormInput, fe fieldErrors) error {
	if in.OwnerUserID != 0 {
		var disabled bool
		err := q.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = ?`, in.OwnerUserID).Scan(&disabled)
		if isNoRows(err) || (err == nil && disabled) {
			fe.add("owner_user_id", "error.unknown_user")
		} else if err != nil {
			return err
		}
	}
	if in.OwnerTeamID != 0 {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id = ?`, in.OwnerTeamID).Scan(&one)
		if isNoRows(err) {
			fe.add("owner_team_id", "webforms.error.unknown_team")
		} else if err != nil {
			return err
		}
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

const webFormCols = `id, slug, name, entity, fields, title, intro, thanks_text, redirect_url, owner_mode, COALESCE(owner_user_id, 0), COALESCE(owner_team_id, 0), last_owner_id, tags, consent_text, language, active, submissions, created_at, updated_at`

func scanWebForm(sc interface{ Scan(...any) error }) (*WebForm, error) {
	f := &WebForm{}
	var fields, tags string
	var ca, ua int64
	if err := sc.Scan(&f.ID, &f.Slug, &f.Name, &f.Entity, &fields, &f.Title, &f.Intro, &f.ThanksText, &f.RedirectURL, &f.OwnerMode,
		&f.OwnerUserID, &f.OwnerTeamID, &f.LastOwnerID, &tags, &f.ConsentText, &f.Language, &f.Active, &f.Submissions, &ca, &ua); err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(fields), &f.Fields)
	json.Unmarshal([]byte(tags), &f.Tags)
	f.CreatedAt, f.UpdatedAt = fromMS(ca), fromMS(ua)
	return f, nil
}

// FindWebForms lists every web form by name, for the settings page.
func (s *Store) FindWebForms(ctx context.Context, a *Actor) ([]*WebForm, error) {
	if err := a.require(CapCustomize); err != nil {
		return nil, err
	}
	var out []*WebForm
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+webFormCols+` FROM web_forms ORDER BY name COLLATE NOCASE, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanWebForm(rows)
			if err != nil {
				return err
			}
			out = append(out, f)
		}
		return rows.Err()
	})
	return out, err
}

// FindWebForm returns one web form for editing.
func (s *Store) FindWebForm(ctx context.Context, a *Actor, id int64) (*WebForm, error) {
	if err := a.require(CapCustomize); err != nil {
		return nil, err
	}
	var f *WebForm
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		f, err = scanWebForm(tx.QueryRowContext(ctx, `SELECT `+webFormCols+` FROM web_forms WHERE id = ?`, id))
		return err
	})
	return f, err
}

// PublicWebForm returns an active form by its slug for the anonymous public
// page; an inactive or unknown one is not_found alike.
func (s *Store) PublicWebForm(ctx context.Context, slug string) (*WebForm, error) {
	if !ValidWebFormSlug(slug) {
		return nil, errNotFound()
	}
	var f *WebForm
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		f, err = scanWebForm(tx.QueryRowContext(ctx, `SELECT `+webFormCols+` FROM web_forms WHERE slug = ? AND active = 1`, slug))
		return err
	})
	return f, err
}

// CreateWebForm adds a public form; its slug must be unused.
func (s *Store) CreateWebForm(ctx context.Context, a *Actor, in WebFormInput) (*WebForm, error) {
	if err := a.require(CapCustomize); err != nil {
		return nil, err
	}
	fe := fieldErrors{}
	in.check(s.Schema(), fe)
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := checkOwnerRefs(ctx, tx, &in, fe); err != nil {
			return err
		}
		if err := fe.err(); err != nil {
			return err
		}
		now := s.nowMS()
		res, err := tx.ExecContext(ctx, `INSERT INTO web_forms (slug, name, entity, fields, title, intro, thanks_text, redirect_url, owner_mode, owner_user_id, owner_team_id, tags, consent_text, language, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.Slug, in.Name, in.Entity, jsonText(in.Fields), in.Title, in.Intro, in.ThanksText, in.RedirectURL, in.OwnerMode, nullID(in.OwnerUserID), nullID(in.OwnerTeamID),
			jsonText(append([]string{}, in.Tags...)), in.ConsentText, in.Language, in.Active, now, now)
		if isUniqueViolation(err) {
			return errInvalid(map[string]string{"slug": "webforms.error.slug_taken"})
		}
		if err != nil {
			return err
		}
		id, _ = res.LastInsertId()
		return s.audit(ctx, tx, a, "web_form.create", "web_forms", id, map[string]any{"slug": in.Slug, "entity": in.Entity})
	})
	if err != nil {
		return nil, err
	}
	return s.FindWebForm(ctx, a, id)
}

// UpdateWebForm changes a form's settings; its record type stays. A new
// slug changes the public address, so old embeds stop working.
func (s *Store) UpdateWebForm(ctx context.Context, a *Actor, id int64, in WebFormInput) (*WebForm, error) {
	cur, err := s.FindWebForm(ctx, a, id)
	if err != nil {
		return nil, err
	}
	in.Entity = cur.Entity
	fe := fieldErrors{}
	in.check(s.Schema(), fe)
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := checkOwnerRefs(ctx, tx, &in, fe); err != nil {
			return err
		}
		if err := fe.err(); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE web_forms SET slug = ?, name = ?, fields = ?, title = ?, intro = ?, thanks_text = ?, redirect_url = ?, owner_mode = ?, owner_user_id = ?, owner_team_id = ?,
			tags = ?, consent_text = ?, language = ?, active = ?, updated_at = ? WHERE id = ?`,
			in.Slug, in.Name, jsonText(in.Fields), in.Title, in.Intro, in.ThanksText, in.RedirectURL, in.OwnerMode, nullID(in.OwnerUserID), nullID(in.OwnerTeamID),
			jsonText(append([]string{}, in.Tags...)), in.ConsentText, in.Language, in.Active, s.nowMS(), id)
		if isUniqueViolation(err) {
			return errInvalid(map[string]string{"slug": "webforms.error.slug_taken"})
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound()
		}
		return s.audit(ctx, tx, a, "web_form.update", "web_forms", id, map[string]any{"slug": in.Slug, "active": in.Active})
	})
	if err != nil {
		return nil, err
	}
	return s.FindWebForm(ctx, a, id)
}

// DeleteWebForm removes a form; the records it created stay.
func (s *Store) DeleteWebForm(ctx context.Context, a *Actor, id int64) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var slug string
		if err := tx.QueryRowContext(ctx, `SELECT slug FROM web_forms WHERE id = ?`, id).Scan(&slug); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM web_forms WHERE id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "web_form.delete", "web_forms", id, map[string]any{"slug": slug})
	})
}

// Words translates the few texts the store writes into records for people
// to read (a submission's note); *i18n.Translator satisfies it.
type Words interface {
	T(key string, args ...any) string
	Lang() string
}

// plainWords is the English used when the caller gives no Words.
type plainWords struct{}

func (plainWords) Lang() string { return "en" }

func (plainWords) T(key string, args ...any) string {
	msg := map[string]string{
		"webforms.note_subject":  "Web form: {{.Name}}",
		"webforms.note_received": "Received {{.At}} from {{.IP}}.",
		"webforms.note_consent":  "Consent given {{.At}} from {{.IP}}: “{{.Text}}”",
		"common.yes":             "Yes",
	}[key]
	if msg == "" {
		if strings.HasPrefix(key, "field.") {
			return strings.ReplaceAll(strings.TrimPrefix(key, "field."), "_", " ")
		}
		return key
	}
	for i := 0; i+1 < len(args); i += 2 {
		name, _ := args[i].(string)
		val, _ := args[i+1].(string)
		msg = strings.ReplaceAll(msg, "{{."+name+"}}", val)
	}
	return msg
}

// WebFormSubmission reports what a public submission did.
type WebFormSubmission struct {
	Form     *WebForm
	RecordID int64
	// Created is false when an existing record with the same e-mail got
	// the submission as a note instead of a twin record.
	Created    bool
	ActivityID int64
}

// SubmitWebForm stores a public form's submission in one transaction as the
// system actor: only the form's fields are read from values (anything else
// a visitor posts, such as an owner or a status, is ignored), every value
// is validated as on every other write path, and nothing is stored when one
// is wrong. A new lead gets source "web_form"; an existing contact (or, for
// lead forms, lead) with the same e-mail gets a note instead of a twin.
// Every submission leaves a note on its record with the values, the time,
// the sender's address and the consent text; w gives the note its words in
// the firm's language.
func (s *Store) SubmitWebForm(ctx context.Context, slug string, values map[string][]string, remoteIP string, w Words) (*WebFormSubmission, error) {
	if w == nil {
		w = plainWords{}
	}
	if !ValidWebFormSlug(slug) {
		return nil, errNotFound()
	}
	sys := SystemActor()
	res := &WebFormSubmission{}
	err := s.write(ctx, func(tx *sql.Tx) error {
		f, err := scanWebForm(tx.QueryRowContext(ctx, `SELECT `+webFormCols+` FROM web_forms WHERE slug = ? AND active = 1`, slug))
		if err != nil {
			return err
		}
		res.Form = f
		sc := s.Schema()
		d := sc.Def(f.Entity)
		in, lines, fe := webFormInput(sc, f, values, w)
		var consent string
		if f.ConsentText != "" {
			if v, _ := coerce(Field{Kind: KBool}, first(values["consent"])); v != true {
				fe.add("consent", "webforms.error.consent")
			} else {
				consent = f.ConsentText
			}
		}
		if f.Entity == EntLeads {
			in.Values["source"] = "web_form"
		}
		if consent != "" {
			// The ticked box is marketing consent (issue 9).
			in.Values["marketing_consent"], in.Values["marketing_consent_source"] = ConsentOptedIn, ConsentSourceWebForm
		}
		owner, rotate, err := s.webFormOwner(ctx, tx, f)
		if err != nil {
			return err
		}
		in.Values[d.OwnerKey] = owner
		// Validate everything (the form's own rules, then the record's)
		// before deciding between a new record and a note on an old one.
		row, err := s.prepareCreate(ctx, tx, sys, d, in, s.now(), nil)
		if err != nil {
			if se := AsError(err); se.Code == CodeInvalid {
				for k, v := range fe {
					if se.Fields == nil {
						se.Fields = map[string]string{}
					}
					se.Fields[k] = v
				}
				return se
			}
			return err
		}
		if err := fe.err(); err != nil {
			return err
		}
		email, _ := row.vals["email"].(string)
		// An erased person's address is refused, not stored without it:
		// nothing of the submission is kept (store/privacy.go).
		if sup, err := s.isSuppressed(ctx, tx, email); err != nil {
			return err
		} else if sup {
			return errSuppressed()
		}
		e, id, existingOwner, err := s.webFormDuplicate(ctx, tx, f.Entity, email)
		if err != nil {
			return err
		}
		noteOwner := owner
		if id == 0 {
			e = f.Entity
			if id, err = s.createRecord(ctx, tx, sys, d, in); err != nil {
				return err
			}
			res.Created = true
			if rotate {
				if _, err := tx.ExecContext(ctx, `UPDATE web_forms SET last_owner_id = ? WHERE id = ?`, owner, f.ID); err != nil {
					return err
				}
			}
		} else {
			if existingOwner != 0 {
				noteOwner = existingOwner
			}
			if err := s.addTags(ctx, tx, sys, e, id, f.Tags); err != nil {
				return err
			}
			if consent != "" {
				if _, err := s.setConsent(ctx, tx, sys, e, id, ConsentOptedIn, ConsentSourceWebForm); err != nil {
					return err
				}
			}
		}
		res.RecordID = id
		at := s.now().UTC().Format("2006-01-02 15:04:05 UTC")
		lines = append(lines, "", w.T("webforms.note_received", "At", at, "IP", remoteIP))
		if consent != "" {
			lines = append(lines, w.T("webforms.note_consent", "At", at, "IP", remoteIP, "Text", consent))
		}
		link := "lead_id"
		if e == EntContacts {
			link = "contact_id"
		}
		res.ActivityID, err = s.createRecord(ctx, tx, sys, sc.Def(EntActivities), Input{Values: map[string]any{
			"type": "note", "occurred_at": s.now(), "subject": truncRunes(w.T("webforms.note_subject", "Name", f.Name), 300),
			"description": strings.Join(lines, "\n"), link: id, "owner_id": noteOwner,
		}})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE web_forms SET submissions = submissions + 1 WHERE id = ?`, f.ID); err != nil {
			return err
		}
		if err := s.formSubmitted(ctx, tx, e, id, f.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, sys, "web_form.submit", string(e), id, map[string]any{"form": f.Slug, "created": res.Created})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// webFormInput reads a submission through the form's allow-list: only the
// configured fields that the record type still offers, each checked for the
// form's own "required". It also returns the note's lines (label: value).
func webFormInput(sc *Schema, f *WebForm, values map[string][]string, w Words) (Input, []string, fieldErrors) {
	fe := fieldErrors{}
	in := Input{Values: map[string]any{}, Custom: map[string]any{}}
	if len(f.Tags) > 0 {
		tags := slices.Clone(f.Tags)
		in.Tags = &tags
	}
	var lines []string
	for _, ff := range f.Fields {
		c, ok := sc.WebFormCandidate(f.Entity, ff.Key)
		if !ok {
			continue // hidden or removed since the form was built
		}
		vs := values[ff.Key]
		var shown string
		var raw any
		switch c.Kind {
		case KMulti:
			var items []string
			for _, v := range vs {
				if v = strings.TrimSpace(v); v != "" {
					items = append(items, v)
				}
			}
			if len(items) > 0 {
				raw = items
				var names []string
				for _, it := range items {
					names = append(names, optionName(c.Custom.Options, it, w.Lang()))
				}
				shown = strings.Join(names, ", ")
			}
		case KBool:
			v := strings.TrimSpace(first(vs))
			if b, k := coerce(Field{Kind: KBool}, v); k == "" && b == true {
				raw, shown = true, w.T("common.yes")
			}
		default:
			v := strings.TrimSpace(first(vs))
			if v != "" {
				raw, shown = v, v
				if c.Kind == KSelect && c.Custom != nil {
					shown = optionName(c.Custom.Options, v, w.Lang())
				}
			}
		}
		if raw == nil {
			if ff.Required {
				fe.add(ff.Key, "error.required")
			}
			continue
		}
		if c.Custom != nil {
			in.Custom[c.Custom.Key] = raw
		} else {
			in.Values[c.Field.Key] = raw
		}
		lines = append(lines, webFormLabel(sc, f.Entity, c, w)+": "+truncRunes(shown, 2000))
	}
	return in, lines, fe
}

// webFormLabel is a field's name in the firm's language: its custom or
// renamed label, else the catalog's.
func webFormLabel(sc *Schema, e Entity, c WebFormCandidate, w Words) string {
	if c.Custom != nil {
		if l := c.Custom.Labels.In(w.Lang()); l != "" {
			return l
		}
		return c.Custom.Key
	}
	if l := sc.Setting(e, c.Field.Key).Labels.In(w.Lang()); l != "" {
		return l
	}
	return w.T("field." + c.Field.Key)
}

func optionName(opts []Option, key, lang string) string {
	for _, o := range opts {
		if o.Key == key {
			if l := o.Labels.In(lang); l != "" {
				return l
			}
		}
	}
	return key
}

// webFormOwner picks the owner of a submission's new record: the form's
// user, or the next active member of its team after the last one given a
// record (round-robin by user id). When neither is possible any more (the
// user was disabled, the team emptied) the first active administrator gets
// it, so no submission is lost. rotate reports a round-robin pick, to be
// stored once the record exists.
func (s *Store) webFormOwner(ctx context.Context, tx *sql.Tx, f *WebForm) (owner int64, rotate bool, err error) {
	switch f.OwnerMode {
	case WebFormOwnerTeam:
		if f.OwnerTeamID == 0 {
			break
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE team_id = ? AND disabled = 0 ORDER BY id`, f.OwnerTeamID)
		if err != nil {
			return 0, false, err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, false, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, false, err
		}
		if len(ids) > 0 {
			next := ids[0]
			for _, id := range ids {
				if id > f.LastOwnerID {
					next = id
					break
				}
			}
			return next, true, nil
		}
	case WebFormOwnerUser:
		var disabled bool
		err := tx.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = ?`, f.OwnerUserID).Scan(&disabled)
		if err == nil && !disabled {
			return f.OwnerUserID, false, nil
		}
		if err != nil && !isNoRows(err) {
			return 0, false, err
		}
	}
	err = tx.QueryRowContext(ctx, `SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id WHERE r.key = 'admin' AND u.disabled = 0 ORDER BY u.id LIMIT 1`).Scan(&owner)
	if err != nil {
		return 0, false, err
	}
	return owner, false, nil
}

// webFormDuplicate finds the live record a submission with this e-mail
// belongs to: a contact, or for lead forms a contact first and then a lead.
// It returns id 0 when there is none.
func (s *Store) webFormDuplicate(ctx context.Context, tx *sql.Tx, e Entity, email string) (Entity, int64, int64, error) {
	if email == "" {
		return "", 0, 0, nil
	}
	key := strings.ToLower(email)
	look := []Entity{EntContacts}
	if e == EntLeads {
		look = append(look, EntLeads)
	}
	for _, le := range look {
		var id, owner int64
		err := tx.QueryRowContext(ctx, `SELECT t.id, CASE WHEN u.disabled = 0 THEN t.owner_id ELSE 0 END FROM `+defs[le].Table+` t LEFT JOIN users u ON u.id = t.owner_id
			WHERE t.email_key = ? AND t.email_key <> '' AND t.deleted_at = 0 ORDER BY t.id LIMIT 1`, key).Scan(&id, &owner)
		if err == nil {
			return le, id, owner, nil
		}
		if !isNoRows(err) {
			return "", 0, 0, err
		}
	}
	return "", 0, 0, nil
}

// addTags adds tags to a record, keeping the ones it has, through the
// ordinary update path (so the change is in the record's history).
func (s *Store) addTags(ctx context.Context, tx *sql.Tx, a *Actor, e Entity, id int64, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT t.name FROM record_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.entity = ? AND rt.record_id = ? ORDER BY t.name`, string(e), id)
	if err != nil {
		return err
	}
	var cur []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		cur = append(cur, n)
	}
	rows.Close()
	all := normTags(append(cur, tags...))
	return s.updateRecord(ctx, tx, a, s.def(e), id, Input{Tags: &all})
}
