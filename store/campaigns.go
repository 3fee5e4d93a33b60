package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file holds e-mail campaigns: a template (one per language) sent to a
// segment's consenting members through the outbox, paced by a throttle,
// with signed unsubscribe, open and click links, and the campaign report.

// The states of a campaign: draft → scheduled → sending (recipients frozen
// and queued) → sent (every message delivered or failed); cancelled stops
// whatever is still waiting.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignSending   = "sending"
	CampaignSent      = "sent"
	CampaignCancelled = "cancelled"
)

// Campaign is an e-mail sent to a segment.
type Campaign struct {
	ID           int64     `json:"id,string"`
	Name         string    `json:"name"`
	SegmentID    int64     `json:"segment_id,string"`
	TemplateName string    `json:"template_name"`
	ReplyTo      string    `json:"reply_to"`
	Status       string    `json:"status"`
	ScheduledAt  time.Time `json:"scheduled_at"`
	PerMinute    int       `json:"per_minute"`
	TrackOpens   bool      `json:"track_opens"`
	TrackClicks  bool      `json:"track_clicks"`
	StartedAt    time.Time `json:"started_at"`
	FinishedAt   time.Time `json:"finished_at"`
	Recipients   int64     `json:"recipients"`
	Skipped      int64     `json:"skipped"`
	OwnerID      int64     `json:"owner_id,string"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// MaxPerMinute bounds a campaign's throttle.
const MaxPerMinute = 10000

// CampaignOptions is what sending needs from outside the store: the
// absolute address of Cartera ([server] base_url) for links, option labels
// and the words of the unsubscribe footer in each language.
type CampaignOptions struct {
	BaseURL string
	Label   Labeler
	Words   func(lang string) Words
}

func (o CampaignOptions) words(lang string) Words {
	if o.Words == nil {
		return plainWords{}
	}
	return o.Words(lang)
}

func (o CampaignOptions) label() Labeler {
	if o.Label == nil {
		return func(_, _, key string) string { return key }
	}
	return o.Label
}

const campaignCols = `id, name, segment_id, template_name, reply_to, status, scheduled_at, per_minute, track_opens, track_clicks,
	started_at, finished_at, recipients, skipped, owner_id, created_at, updated_at`

func scanCampaign(r rowScanner) (*Campaign, error) {
	c := &Campaign{}
	var sch, st, fin, ca, ua int64
	if err := r.Scan(&c.ID, &c.Name, &c.SegmentID, &c.TemplateName, &c.ReplyTo, &c.Status, &sch, &c.PerMinute, &c.TrackOpens, &c.TrackClicks,
		&st, &fin, &c.Recipients, &c.Skipped, &c.OwnerID, &ca, &ua); err != nil {
		return nil, err
	}
	c.ScheduledAt, c.StartedAt, c.FinishedAt, c.CreatedAt, c.UpdatedAt = fromMS(sch), fromMS(st), fromMS(fin), fromMS(ca), fromMS(ua)
	return c, nil
}

// loadCampaign reads a campaign and applies the record rule for act.
func (s *Store) loadCampaign(ctx context.Context, q querier, a *Actor, id int64, act Action) (*Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
	if err != nil {
		return nil, wrapErr(err)
	}
	var team int64
	q.QueryRowContext(ctx, `SELECT COALESCE(team_id, 0) FROM users WHERE id = ?`, c.OwnerID).Scan(&team)
	if err := a.checkRecord(EntCampaigns, act, c.OwnerID, team); err != nil {
		return nil, err
	}
	return c, nil
}

// templatesNamed returns the templates of a name by language.
func templatesNamed(ctx context.Context, q querier, name string) (map[string]*EmailTemplate, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, language, entity, subject, body_text, body_html FROM email_templates WHERE name = ?`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*EmailTemplate{}
	for rows.Next() {
		t := &EmailTemplate{}
		if err := rows.Scan(&t.ID, &t.Name, &t.Language, &t.Entity, &t.Subject, &t.BodyText, &t.BodyHTML); err != nil {
			return nil, err
		}
		out[t.Language] = t
	}
	return out, rows.Err()
}

// validateCampaign checks a campaign's own values and that its segment and
// template fit together.
func (s *Store) validateCampaign(ctx context.Context, q querier, a *Actor, c *Campaign) error {
	fe := fieldErrors{}
	var k string
	if c.Name, k = cleanText(c.Name, true, 200); k != "" {
		fe.add("name", k)
	}
	if strings.TrimSpace(c.ReplyTo) != "" {
		if c.ReplyTo, k = normEmail(c.ReplyTo); k != "" {
			fe.add("reply_to", k)
		}
	} else {
		c.ReplyTo = ""
	}
	if c.PerMinute == 0 {
		c.PerMinute = 60
	}
	if c.PerMinute < 1 || c.PerMinute > MaxPerMinute {
		fe.add("per_minute", "error.range")
	}
	g, err := s.loadSegment(ctx, q, a, c.SegmentID, ActView)
	if err != nil {
		if se := AsError(err); se.Code == CodeNotFound || se.Code == CodeForbidden {
			fe.add("segment_id", "error.not_found")
		} else {
			return err
		}
	}
	ts, err := templatesNamed(ctx, q, strings.TrimSpace(c.TemplateName))
	if err != nil {
		return err
	}
	c.TemplateName = strings.TrimSpace(c.TemplateName)
	if len(ts) == 0 {
		fe.add("template_name", "error.not_found")
	} else if g != nil {
		for _, t := range ts {
			if t.Entity != g.Entity {
				fe.add("template_name", "marketing.error.template_entity")
			}
		}
	}
	return fe.err()
}

// SaveCampaign creates (ID 0) or updates a campaign while it is a draft or
// scheduled; the actor must be able to view its segment.
func (s *Store) SaveCampaign(ctx context.Context, a *Actor, c *Campaign) error {
	if c.ID == 0 && !a.Can(EntCampaigns, ActCreate) {
		return errForbidden()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := s.validateCampaign(ctx, tx, a, c); err != nil {
			return err
		}
		now := s.nowMS()
		if c.ID == 0 {
			res, err := execTx(ctx, tx, `INSERT INTO campaigns (name, segment_id, template_name, reply_to, status, per_minute, track_opens, track_clicks, owner_id, created_at, updated_at)
				VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?)`, c.Name, c.SegmentID, c.TemplateName, c.ReplyTo, c.PerMinute, c.TrackOpens, c.TrackClicks, a.UserID, now, now)
			if err != nil {
				return err
			}
			c.ID, _ = res.LastInsertId()
			c.Status, c.OwnerID, c.CreatedAt, c.UpdatedAt = CampaignDraft, a.UserID, fromMS(now), fromMS(now)
			return s.audit(ctx, tx, a, "campaign.create", "campaigns", c.ID, map[string]string{"name": c.Name})
		}
		old, err := s.loadCampaign(ctx, tx, a, c.ID, ActEdit)
		if err != nil {
			return err
		}
		if old.Status != CampaignDraft && old.Status != CampaignScheduled {
			return errConflict("marketing.error.started", nil)
		}
		if _, err := execTx(ctx, tx, `UPDATE campaigns SET name = ?, segment_id = ?, template_name = ?, reply_to = ?, per_minute = ?, track_opens = ?, track_clicks = ?, updated_at = ? WHERE id = ?`,
			c.Name, c.SegmentID, c.TemplateName, c.ReplyTo, c.PerMinute, c.TrackOpens, c.TrackClicks, now, c.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "campaign.update", "campaigns", c.ID, nil)
	})
}

// ScheduleCampaign sets a draft (or scheduled) campaign to start at a time
// (zero: now); the automation scheduler starts it then.
func (s *Store) ScheduleCampaign(ctx context.Context, a *Actor, id int64, at time.Time, o CampaignOptions) error {
	if !strings.HasPrefix(o.BaseURL, "http://") && !strings.HasPrefix(o.BaseURL, "https://") {
		return errConflict("marketing.error.base_url", nil)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		c, err := s.loadCampaign(ctx, tx, a, id, ActEdit)
		if err != nil {
			return err
		}
		if c.Status != CampaignDraft && c.Status != CampaignScheduled {
			return errConflict("marketing.error.started", nil)
		}
		if err := s.validateCampaign(ctx, tx, a, c); err != nil {
			return err
		}
		now := s.now()
		if at.IsZero() || at.Before(now) {
			at = now
		}
		if _, err := execTx(ctx, tx, `UPDATE campaigns SET status = 'scheduled', scheduled_at = ?, updated_at = ? WHERE id = ?`, ms(at), ms(now), id); err != nil {
			return err
		}
		if !at.After(now) {
			s.wakePending.Store(true)
		}
		return s.audit(ctx, tx, a, "campaign.schedule", "campaigns", id, map[string]string{"at": at.UTC().Format(time.RFC3339)})
	})
}

// CancelCampaign stops a campaign: messages still waiting in the outbox
// are cancelled; those already sent stay sent.
func (s *Store) CancelCampaign(ctx context.Context, a *Actor, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		c, err := s.loadCampaign(ctx, tx, a, id, ActEdit)
		if err != nil {
			return err
		}
		if c.Status == CampaignSent || c.Status == CampaignCancelled {
			return errConflict("marketing.error.finished", nil)
		}
		if _, err := execTx(ctx, tx, `UPDATE outbox SET status = 'cancelled' WHERE status = 'pending'
			AND id IN (SELECT outbox_id FROM campaign_recipients WHERE campaign_id = ? AND outbox_id IS NOT NULL)`, id); err != nil {
			return err
		}
		if _, err := execTx(ctx, tx, `UPDATE campaigns SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ?`, s.nowMS(), s.nowMS(), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "campaign.cancel", "campaigns", id, nil)
	})
}

// GetCampaign returns one campaign the actor may view.
func (s *Store) GetCampaign(ctx context.Context, a *Actor, id int64) (*Campaign, error) {
	var c *Campaign
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = s.loadCampaign(ctx, tx, a, id, ActView)
		return err
	})
	return c, err
}

// FindCampaigns lists the campaigns the actor may view, newest first.
func (s *Store) FindCampaigns(ctx context.Context, a *Actor) ([]*Campaign, error) {
	if !a.Can(EntCampaigns, ActView) {
		return nil, errForbidden()
	}
	cond, args := a.scopeSQL(EntCampaigns, ActView, "owner_id")
	var out []*Campaign
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE `+cond+` ORDER BY id DESC LIMIT 500`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCampaign(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// campaignBatch is how many recipients one transaction queues.
const campaignBatch = 500

// RunCampaigns is the automation job: it starts the campaigns due at now
// (freezing their recipients) and queues the next recipients of those
// sending, each message due at start + its place × the throttle's
// interval; it is idempotent (a recipient is queued once, under the outbox
// key campaign:{id}:{record}), so a crash or restart neither loses nor
// repeats a message. It returns how many messages it queued.
func (s *Store) RunCampaigns(ctx context.Context, now time.Time, o CampaignOptions) (int, error) {
	var due []int64
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM campaigns WHERE (status = 'scheduled' AND scheduled_at <= ?) OR status = 'sending' ORDER BY id`, ms(now))
	if err != nil {
		return 0, errInternal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, errInternal(err)
		}
		due = append(due, id)
	}
	rows.Close()
	total := 0
	for _, id := range due {
		n, err := s.runCampaign(ctx, id, now, o)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// runCampaign starts one campaign if needed and queues its waiting
// recipients in batches, then marks it sent once nothing waits.
func (s *Store) runCampaign(ctx context.Context, id int64, now time.Time, o CampaignOptions) (int, error) {
	sys := SystemActor()
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := s.loadCampaign(ctx, tx, sys, id, ActView)
		if err != nil || c.Status != CampaignScheduled {
			return err
		}
		return s.startCampaign(ctx, tx, c, now)
	})
	if err != nil {
		return 0, err
	}
	company, err := s.Company(ctx)
	if err != nil {
		return 0, err
	}
	failed := map[string]bool{}
	total := 0
	for ctx.Err() == nil {
		n, more := 0, false
		err := s.write(ctx, func(tx *sql.Tx) error {
			var err error
			n, more, err = s.queueCampaignBatch(ctx, tx, id, company, failed, o)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if !more {
			break
		}
	}
	return total, s.write(ctx, func(tx *sql.Tx) error {
		var waiting int
		err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM campaign_recipients WHERE campaign_id = ? AND outbox_id IS NULL)
			+ (SELECT count(*) FROM campaign_recipients r JOIN outbox b ON b.id = r.outbox_id WHERE r.campaign_id = ? AND b.status IN ('pending', 'sending'))`, id, id).Scan(&waiting)
		if err != nil || waiting > 0 {
			return err
		}
		_, err = execTx(ctx, tx, `UPDATE campaigns SET status = 'sent', finished_at = ?, updated_at = ? WHERE id = ? AND status = 'sending'`, ms(now), ms(now), id)
		return err
	})
}

// startCampaign freezes a campaign's recipients: the segment's members its
// owner may view, with an e-mail address, consenting under the firm's
// mode, never opted out, one per address, and none whose address bounced
// (a message to it failed for good).
func (s *Store) startCampaign(ctx context.Context, tx *sql.Tx, c *Campaign, now time.Time) error {
	owner, err := s.actorFor(ctx, tx, c.OwnerID)
	if err != nil {
		// The owner left: the campaign keeps the reach it was planned with.
		owner = SystemActor()
	}
	g, err := scanSegment(tx.QueryRowContext(ctx, `SELECT `+segmentCols+` FROM segments WHERE id = ?`, c.SegmentID))
	if err != nil {
		return err
	}
	where, args, err := s.segmentSQL(owner, g)
	if err != nil {
		return err
	}
	var mode ConsentMode
	if err := tx.QueryRowContext(ctx, `SELECT consent_mode FROM marketing_settings WHERE id = 1`).Scan(&mode); err != nil {
		return err
	}
	table := s.def(g.Entity).Table
	var members int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` t WHERE `+where, args...).Scan(&members); err != nil {
		return err
	}
	res, err := execTx(ctx, tx, `INSERT OR IGNORE INTO campaign_recipients (campaign_id, record_id, seq, email, language)
		SELECT ?, id, row_number() OVER (ORDER BY id), email, language FROM (
			SELECT t.id, t.email, t.language, row_number() OVER (PARTITION BY t.email_key ORDER BY t.id) AS dup
			FROM `+table+` t WHERE `+where+` AND `+consentSQL(mode)+` AND t.marketing_consent <> 'opted_out' AND t.email_key <> ''
				AND t.email_key NOT IN (SELECT lower(to_addr) FROM outbox WHERE status = 'failed')
		) WHERE dup = 1`, append([]any{c.ID}, args...)...)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	_, err = execTx(ctx, tx, `UPDATE campaigns SET status = 'sending', started_at = ?, recipients = ?, skipped = ?, updated_at = ? WHERE id = ?`,
		ms(now), n, members-n, ms(now), c.ID)
	if err != nil {
		return err
	}
	return s.audit(ctx, tx, SystemActor(), "campaign.start", "campaigns", c.ID, map[string]int64{"recipients": n, "skipped": members - n})
}

// queueCampaignBatch renders and queues the next waiting recipients of a
// sending campaign; more says whether others still wait.
func (s *Store) queueCampaignBatch(ctx context.Context, tx *sql.Tx, id int64, company *Company, failed map[string]bool, o CampaignOptions) (int, bool, error) {
	sys := SystemActor()
	c, err := s.loadCampaign(ctx, tx, sys, id, ActView)
	if err != nil || c.Status != CampaignSending {
		return 0, false, err
	}
	var entity Entity
	if err := tx.QueryRowContext(ctx, `SELECT entity FROM segments WHERE id = ?`, c.SegmentID).Scan(&entity); err != nil {
		return 0, false, err
	}
	d := s.def(entity)
	rows, err := tx.QueryContext(ctx, `SELECT record_id, seq FROM campaign_recipients WHERE campaign_id = ? AND outbox_id IS NULL ORDER BY seq LIMIT ?`, id, campaignBatch+1)
	if err != nil {
		return 0, false, err
	}
	var ids []int64
	seqs := map[int64]int64{}
	for rows.Next() {
		var rid, seq int64
		if err := rows.Scan(&rid, &seq); err != nil {
			rows.Close()
			return 0, false, err
		}
		ids = append(ids, rid)
		seqs[rid] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	more := len(ids) > campaignBatch
	if more {
		ids = ids[:campaignBatch]
	}
	if len(ids) == 0 {
		return 0, false, nil
	}
	tpls, err := templatesNamed(ctx, tx, c.TemplateName)
	if err != nil {
		return 0, false, err
	}
	recs, err := s.recordsByID(ctx, tx, sys, d, ids)
	if err != nil {
		return 0, false, err
	}
	byID := map[int64]*Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	secret, err := s.marketingSecret(ctx, tx)
	if err != nil {
		return 0, false, err
	}
	var mode ConsentMode
	if err := tx.QueryRowContext(ctx, `SELECT consent_mode FROM marketing_settings WHERE id = 1`).Scan(&mode); err != nil {
		return 0, false, err
	}
	owners := map[int64][2]string{}
	interval := time.Minute / time.Duration(c.PerMinute)
	queued := 0
	for _, rid := range ids {
		r := byID[rid]
		// Consent is checked again now: someone who opted out (or was
		// deleted) since the start is skipped (outbox_id 0).
		if r == nil || !r.DeletedAt.IsZero() || r.Str("email") == "" || !consentAllows(mode, r.Str("marketing_consent")) {
			if _, err := execTx(ctx, tx, `UPDATE campaign_recipients SET outbox_id = 0 WHERE campaign_id = ? AND record_id = ?`, id, rid); err != nil {
				return 0, false, err
			}
			continue
		}
		if _, ok := owners[r.OwnerID]; !ok {
			var b [2]string
			tx.QueryRowContext(ctx, `SELECT name, email FROM users WHERE id = ?`, r.OwnerID).Scan(&b[0], &b[1])
			owners[r.OwnerID] = b
		}
		t := pickTemplate(tpls, r.Str("language"), company.Language)
		msg := s.renderCampaign(ctx, tx, c, t, r, company, owners[r.OwnerID], secret, o)
		msg.NotBefore = c.StartedAt.Add(time.Duration(seqs[rid]-1) * interval)
		obID, _, err := s.enqueueEmail(ctx, tx, sys, msg)
		if err != nil {
			if se := AsError(err); se.Code == CodeInvalid {
				// An address the outbox refuses: skip the recipient.
				obID = 0
			} else {
				return 0, false, err
			}
		} else {
			queued++
		}
		if _, err := execTx(ctx, tx, `UPDATE campaign_recipients SET outbox_id = ? WHERE campaign_id = ? AND record_id = ?`, obID, id, rid); err != nil {
			return 0, false, err
		}
	}
	return queued, more, nil
}

// consentAllows reports whether a consent state lets a campaign reach
// someone under the firm's mode.
func consentAllows(m ConsentMode, state string) bool {
	if state == ConsentOptedOut {
		return false
	}
	return m == ConsentModeNotOptedOut || state == ConsentOptedIn
}

// pickTemplate chooses the recipient's language, else the firm's, else
// the first of ca, es, en that exists.
func pickTemplate(ts map[string]*EmailTemplate, lang, firm string) *EmailTemplate {
	for _, l := range []string{lang, firm, "ca", "es", "en"} {
		if t, ok := ts[l]; ok {
			return t
		}
	}
	for _, t := range ts {
		return t
	}
	return &EmailTemplate{Subject: "-", BodyText: "-"}
}

// hrefRe finds the links of an HTML body; urlRe the addresses of a text one.
var (
	hrefRe = regexp.MustCompile(`href="(https?://[^"]+)"`)
	urlRe  = regexp.MustCompile(`https?://[^\s<>"]+`)
)

// renderCampaign fills the template for one recipient and adds the
// unsubscribe footer, the List-Unsubscribe headers and, when the campaign
// asks for them, the open pixel and signed click links.
func (s *Store) renderCampaign(ctx context.Context, tx *sql.Tx, c *Campaign, t *EmailTemplate, r *Record, company *Company, owner [2]string, secret []byte, o CampaignOptions) OutgoingEmail {
	data := map[string]string{}
	label := o.label()
	s.mergeValues(data, prefixOf(r.Entity), r, t.Language, label)
	if acc := r.Int("account_id"); acc != 0 && r.Entity == EntContacts {
		if ar, err := s.recordsByID(ctx, tx, SystemActor(), s.def(EntAccounts), []int64{acc}); err == nil && len(ar) == 1 {
			s.mergeValues(data, "account", ar[0], t.Language, label)
		}
	}
	data["owner.name"], data["owner.email"] = owner[0], owner[1]
	data["company.name"], data["company.phone"], data["company.email"], data["company.address"] = company.Name, company.Phone, company.Email, company.Address
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
	subject := strings.Join(strings.Fields(fill(t.Subject, false)), " ")
	text := fill(t.BodyText, false)
	body := ""
	if t.BodyHTML != "" {
		body = fill(t.BodyHTML, true)
	}
	if c.TrackClicks {
		click := func(target string) string {
			return linkURL(o.BaseURL, secret, LinkClick, c.ID, r.ID, target) + "?u=" + url.QueryEscape(target)
		}
		text = urlRe.ReplaceAllStringFunc(text, click)
		body = hrefRe.ReplaceAllStringFunc(body, func(m string) string {
			target := html.UnescapeString(hrefRe.FindStringSubmatch(m)[1])
			return `href="` + html.EscapeString(click(target)) + `"`
		})
	}
	unsub := linkURL(o.BaseURL, secret, LinkUnsubscribe, c.ID, r.ID, "")
	w := o.words(t.Language)
	text += "\n\n-- \n" + w.T("marketing.mail_footer", "Company", company.Name) + "\n" + w.T("marketing.mail_unsubscribe") + " " + unsub + "\n"
	if body != "" {
		foot := `<p style="font-size:12px;color:#555">` + html.EscapeString(w.T("marketing.mail_footer", "Company", company.Name)) +
			` <a href="` + html.EscapeString(unsub) + `">` + html.EscapeString(w.T("marketing.mail_unsubscribe")) + `</a></p>`
		if c.TrackOpens {
			foot += `<img src="` + html.EscapeString(linkURL(o.BaseURL, secret, LinkOpen, c.ID, r.ID, "")) + `" width="1" height="1" alt="">`
		}
		if i := strings.LastIndex(strings.ToLower(body), "</body>"); i >= 0 {
			body = body[:i] + foot + body[i:]
		} else {
			body += foot
		}
	}
	name := strings.TrimSpace(r.Str("first_name") + " " + r.Str("last_name"))
	return OutgoingEmail{
		Key: "campaign:" + strconv.FormatInt(c.ID, 10) + ":" + strconv.FormatInt(r.ID, 10),
		To:  r.Str("email"), ToName: name, ReplyTo: c.ReplyTo, Subject: subject, Text: text, HTML: body,
		Entity: r.Entity, RecordID: r.ID,
		Headers: map[string]string{
			"List-Unsubscribe":      "<" + unsub + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"List-Id":               "campaign-" + strconv.FormatInt(c.ID, 10) + " <campaign-" + strconv.FormatInt(c.ID, 10) + "." + s.mailDomain() + ">",
			"Precedence":            "bulk",
		},
	}
}

// TestSendCampaign queues the campaign's e-mail, as the segment's first
// member would get it in the actor's language, to the actor's own address,
// and returns the outbox id (the caller may send it at once).
func (s *Store) TestSendCampaign(ctx context.Context, a *Actor, id int64, o CampaignOptions) (int64, error) {
	if strings.TrimSpace(a.Email) == "" {
		return 0, errConflict("marketing.error.no_email", nil)
	}
	company, err := s.Company(ctx)
	if err != nil {
		return 0, err
	}
	var obID int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		c, err := s.loadCampaign(ctx, tx, a, id, ActView)
		if err != nil {
			return err
		}
		g, err := s.loadSegment(ctx, tx, a, c.SegmentID, ActView)
		if err != nil {
			return err
		}
		where, args, err := s.segmentSQL(a, g)
		if err != nil {
			return err
		}
		d := s.def(g.Entity)
		var rid int64
		if err := tx.QueryRowContext(ctx, `SELECT t.id FROM `+d.Table+` t WHERE `+where+` ORDER BY t.id LIMIT 1`, args...).Scan(&rid); err != nil {
			if err == sql.ErrNoRows {
				return errConflict("marketing.error.empty_segment", nil)
			}
			return err
		}
		recs, err := s.recordsByID(ctx, tx, a, d, []int64{rid})
		if err != nil || len(recs) == 0 {
			return errNotFound()
		}
		tpls, err := templatesNamed(ctx, tx, c.TemplateName)
		if err != nil {
			return err
		}
		secret, err := s.marketingSecret(ctx, tx)
		if err != nil {
			return err
		}
		t := pickTemplate(tpls, a.Language, company.Language)
		msg := s.renderCampaign(ctx, tx, c, t, recs[0], company, [2]string{a.Name, a.Email}, secret, o)
		var b [8]byte
		rand.Read(b[:])
		msg.Key = "campaign-test:" + strconv.FormatInt(id, 10) + ":" + hex.EncodeToString(b[:])
		msg.To, msg.ToName = a.Email, a.Name
		msg.Subject = "[TEST] " + msg.Subject
		msg.Entity, msg.RecordID = "", 0
		obID, _, err = s.enqueueEmail(ctx, tx, a, msg)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "campaign.test", "campaigns", id, map[string]string{"to": a.Email})
	})
	return obID, err
}

// campaignEntity returns the record type a campaign reaches.
func campaignEntity(ctx context.Context, q querier, campaignID int64) (Entity, error) {
	var e Entity
	err := q.QueryRowContext(ctx, `SELECT g.entity FROM campaigns c JOIN segments g ON g.id = c.segment_id WHERE c.id = ?`, campaignID).Scan(&e)
	return e, err
}

// Unsubscribe records a recipient's opt-out from a signed unsubscribe link
// (the page's button or the RFC 8058 one-click POST): the consent becomes
// opted_out on the record's timeline, and every campaign message still
// waiting for that person is cancelled. Repeating it changes nothing.
func (s *Store) Unsubscribe(ctx context.Context, campaignID, recordID int64, sig string) error {
	if err := s.VerifyCampaignLink(ctx, CampaignLink{Kind: LinkUnsubscribe, CampaignID: campaignID, RecordID: recordID}, sig); err != nil {
		return err
	}
	sys := SystemActor()
	return s.write(ctx, func(tx *sql.Tx) error {
		e, err := campaignEntity(ctx, tx, campaignID)
		if err != nil {
			return err
		}
		changed, err := s.setConsent(ctx, tx, sys, e, recordID, ConsentOptedOut, ConsentSourceUnsubscribe)
		if err != nil {
			return err
		}
		now := s.nowMS()
		if _, err := execTx(ctx, tx, `UPDATE campaign_recipients SET unsubscribed_at = ? WHERE campaign_id = ? AND record_id = ? AND unsubscribed_at = 0`, now, campaignID, recordID); err != nil {
			return err
		}
		if _, err := execTx(ctx, tx, `UPDATE outbox SET status = 'cancelled' WHERE status = 'pending' AND id IN (
			SELECT r.outbox_id FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id JOIN segments g ON g.id = c.segment_id
			WHERE r.record_id = ? AND g.entity = ? AND r.outbox_id IS NOT NULL)`, recordID, string(e)); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		return s.audit(ctx, tx, sys, "campaign.unsubscribe", string(e), recordID, map[string]int64{"campaign": campaignID})
	})
}

// TrackOpen records that a recipient's e-mail was displayed (open pixel).
func (s *Store) TrackOpen(ctx context.Context, campaignID, recordID int64, sig string) error {
	if err := s.VerifyCampaignLink(ctx, CampaignLink{Kind: LinkOpen, CampaignID: campaignID, RecordID: recordID}, sig); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := execTx(ctx, tx, `UPDATE campaign_recipients SET opened_at = ? WHERE campaign_id = ? AND record_id = ? AND opened_at = 0`, s.nowMS(), campaignID, recordID)
		return err
	})
}

// TrackClick records a click on a signed link and returns where it goes;
// a link whose signature does not cover exactly this target is not_found,
// so the redirect can never be pointed elsewhere.
func (s *Store) TrackClick(ctx context.Context, campaignID, recordID int64, target, sig string) (string, error) {
	if err := s.VerifyCampaignLink(ctx, CampaignLink{Kind: LinkClick, CampaignID: campaignID, RecordID: recordID, Target: target}, sig); err != nil {
		return "", err
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errNotFound()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		now := s.nowMS()
		_, err := execTx(ctx, tx, `UPDATE campaign_recipients SET clicks = clicks + 1,
			clicked_at = CASE WHEN clicked_at = 0 THEN ? ELSE clicked_at END,
			opened_at = CASE WHEN opened_at = 0 THEN ? ELSE opened_at END
			WHERE campaign_id = ? AND record_id = ?`, now, now, campaignID, recordID)
		return err
	})
	return target, err
}

// CampaignRecipient is one line of the campaign report.
type CampaignRecipient struct {
	RecordID       int64     `json:"record_id,string"`
	Email          string    `json:"email"`
	Language       string    `json:"language"`
	Status         string    `json:"status"`
	SentAt         time.Time `json:"sent_at"`
	OpenedAt       time.Time `json:"opened_at"`
	ClickedAt      time.Time `json:"clicked_at"`
	Clicks         int64     `json:"clicks"`
	UnsubscribedAt time.Time `json:"unsubscribed_at"`
	Opportunities  int64     `json:"opportunities"`
	Leads          int64     `json:"leads"`
}

// CampaignStats is the campaign report: totals and a page of recipients.
type CampaignStats struct {
	Campaign      *Campaign           `json:"campaign"`
	Recipients    int64               `json:"recipients"`
	Skipped       int64               `json:"skipped"`
	Pending       int64               `json:"pending"`
	Sent          int64               `json:"sent"`
	Failed        int64               `json:"failed"`
	Cancelled     int64               `json:"cancelled"`
	Opened        int64               `json:"opened"`
	Clicked       int64               `json:"clicked"`
	Unsubscribed  int64               `json:"unsubscribed"`
	Leads         int64               `json:"leads"`
	Opportunities int64               `json:"opportunities"`
	Rows          []CampaignRecipient `json:"recipients_list"`
}

// attributionWindow is how long after a campaign reached someone a new lead
// or opportunity of theirs counts as created from it.
const attributionWindow = 90 * 24 * time.Hour

// CampaignReport returns a campaign's totals and up to limit recipients
// (after a record id, for paging). Leads created from it are new leads with
// a recipient's address (a web form filled after the e-mail) or, for a lead
// campaign, recipients converted since; opportunities are those created
// for a recipient contact (or by converting a recipient lead) since the
// campaign reached them, within 90 days.
func (s *Store) CampaignReport(ctx context.Context, a *Actor, id int64, after int64, limit int) (*CampaignStats, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	st := &CampaignStats{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		c, err := s.loadCampaign(ctx, tx, a, id, ActView)
		if err != nil {
			return err
		}
		st.Campaign = c
		e, err := campaignEntity(ctx, tx, id)
		if err != nil {
			return err
		}
		start, end := ms(c.StartedAt), ms(c.StartedAt.Add(attributionWindow))
		leads, opps := `(SELECT count(*) FROM leads l WHERE l.email_key = lower(r.email) AND l.created_at >= ? AND l.created_at < ? AND l.deleted_at = 0)`,
			`(SELECT count(*) FROM opportunities o WHERE o.contact_id = r.record_id AND o.created_at >= ? AND o.created_at < ? AND o.deleted_at = 0)`
		if e == EntLeads {
			leads = `(SELECT count(*) FROM leads l WHERE l.id = r.record_id AND l.converted_at >= ? AND l.converted_at < ?)`
			opps = `(SELECT count(*) FROM leads l WHERE l.id = r.record_id AND l.converted_opportunity_id IS NOT NULL AND l.converted_at >= ? AND l.converted_at < ?)`
		}
		base := `SELECT r.record_id AS rid, r.email AS email, r.language AS language,
			COALESCE(CASE WHEN r.outbox_id = 0 THEN 'skipped' ELSE b.status END, 'waiting') AS status, COALESCE(b.sent_at, 0) AS sent,
			r.opened_at AS opened, r.clicked_at AS clicked, r.clicks AS clicks, r.unsubscribed_at AS unsub, ` + leads + ` AS leads, ` + opps + ` AS opps
			FROM campaign_recipients r LEFT JOIN outbox b ON b.id = r.outbox_id WHERE r.campaign_id = ?`
		err = tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(status = 'waiting' OR status = 'pending' OR status = 'sending'), 0), COALESCE(sum(status = 'sent'), 0),
			COALESCE(sum(status = 'failed'), 0), COALESCE(sum(status = 'cancelled' OR status = 'skipped'), 0),
			COALESCE(sum(opened <> 0), 0), COALESCE(sum(clicked <> 0), 0), COALESCE(sum(unsub <> 0), 0), COALESCE(sum(leads), 0), COALESCE(sum(opps), 0)
			FROM (`+base+`)`,
			start, end, start, end, id).
			Scan(&st.Recipients, &st.Pending, &st.Sent, &st.Failed, &st.Cancelled, &st.Opened, &st.Clicked, &st.Unsubscribed, &st.Leads, &st.Opportunities)
		if err != nil {
			return err
		}
		st.Skipped = c.Skipped
		rows, err := tx.QueryContext(ctx, base+` AND r.record_id > ? ORDER BY r.record_id LIMIT ?`, start, end, start, end, id, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r CampaignRecipient
			var sent, op, cl, un int64
			if err := rows.Scan(&r.RecordID, &r.Email, &r.Language, &r.Status, &sent, &op, &cl, &r.Clicks, &un, &r.Leads, &r.Opportunities); err != nil {
				return err
			}
			r.SentAt, r.OpenedAt, r.ClickedAt, r.UnsubscribedAt = fromMS(sent), fromMS(op), fromMS(cl), fromMS(un)
			st.Rows = append(st.Rows, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// CampaignStatuses lists the campaign states in display order.
var CampaignStatuses = []string{CampaignDraft, CampaignScheduled, CampaignSending, CampaignSent, CampaignCancelled}
