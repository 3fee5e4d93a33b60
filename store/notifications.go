package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"cartera/i18n"
)

// The kinds of notification; each person chooses a channel for each.
const (
	NotifyAssigned = "assigned" // a record was given to you by someone else
	NotifyMention  = "mention"  // someone wrote @you in a note
	NotifyTaskDue  = "task_due" // a task reminder
	NotifyRule     = "rule"     // a workflow rule's "notify" action
)

// NotificationKinds lists the kinds in the order the profile page shows
// them, so the preferences form and the API agree.
var NotificationKinds = []string{NotifyAssigned, NotifyMention, NotifyTaskDue, NotifyRule}

// NotifyChannel is where a person gets one kind of notification.
type NotifyChannel string

// The channels: the bell only, e-mail only, or both.
const (
	ChannelInApp NotifyChannel = "in_app"
	ChannelEmail NotifyChannel = "email"
	ChannelBoth  NotifyChannel = "both"
)

// NotifyChannels lists the channels in display order.
var NotifyChannels = []NotifyChannel{ChannelInApp, ChannelEmail, ChannelBoth}

// DefaultChannel is the channel of a kind for a person who never chose
// one: reminders come by e-mail and in the app (the spec's promise), the
// rest in the app only.
func DefaultChannel(kind string) NotifyChannel {
	if kind == NotifyTaskDue {
		return ChannelBoth
	}
	return ChannelInApp
}

func (c NotifyChannel) valid() bool {
	return c == ChannelInApp || c == ChannelEmail || c == ChannelBoth
}

func (c NotifyChannel) inApp() bool { return c == ChannelInApp || c == ChannelBoth }
func (c NotifyChannel) email() bool { return c == ChannelEmail || c == ChannelBoth }

// NotificationContent is what a notification says; built-in kinds give a
// catalog key and arguments so each reader gets their own language, a
// workflow rule gives its own free-text Title and Body.
type NotificationContent struct {
	// Key is a message key ("notifications.msg.assigned"); Args fill its
	// {{.Name}} placeholders. An argument whose name ends in "At" holds
	// Unix milliseconds and is shown as a date and time in the reader's
	// zone.
	Key  string
	Args map[string]string
	// Title and Body are free text, used when Key is empty (rules); with a
	// key, Body is an optional excerpt shown under the translated title.
	Title string
	Body  string
	// Entity and RecordID link the notification to a record, if any.
	Entity   Entity
	RecordID int64
	// Dedup, when set, makes the notification reach each person once
	// (e.g. "reminder:{task}:{due}"); it also keys the e-mail.
	Dedup string
}

// Notification is one in-app notification of the signed-in user.
type Notification struct {
	ID        int64
	Kind      string
	Key       string
	Args      map[string]string
	Title     string
	Body      string
	Entity    Entity
	RecordID  int64
	CreatedAt time.Time
	ReadAt    time.Time
}

// Read reports whether the notification was marked read.
func (n *Notification) Read() bool { return !n.ReadAt.IsZero() }

// Text renders the notification's title and body with a reader's words,
// so the page, the API and the e-mail say the same thing.
func (n *Notification) Text(w Words) (title, body string) {
	return NotificationContent{Key: n.Key, Args: n.Args, Title: n.Title, Body: n.Body}.Text(w)
}

// Text renders the content's title and body with a reader's words.
func (c NotificationContent) Text(w Words) (title, body string) {
	if c.Key == "" {
		return c.Title, c.Body
	}
	return w.T(c.Key, wordArgs(w, c.Args)...), c.Body
}

// dateWords is the part of *i18n.Translator that formats moments.
type dateWords interface {
	DateTime(time.Time) string
}

// wordArgs turns stored arguments into the name/value pairs Words.T takes,
// formatting the "…At" moments in the reader's zone.
func wordArgs(w Words, args map[string]string) []any {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, 2*len(args))
	for _, k := range keys {
		v := args[k]
		if strings.HasSuffix(k, "At") {
			if m, err := strconv.ParseInt(v, 10, 64); err == nil {
				t := fromMS(m)
				if dw, ok := w.(dateWords); ok {
					v = dw.DateTime(t)
				} else {
					v = t.Format("2006-01-02 15:04 MST")
				}
			}
		}
		out = append(out, k, v)
	}
	return out
}

// catalogs are the message catalogs the store renders e-mails with, loaded
// once; the store cannot use ui's translators, and a scheduler tick has no
// request to take a language from.
var catalogs = sync.OnceValues(i18n.Load)

// wordsFor returns the words of a language in a time zone, for e-mails
// written to one person; English without catalogs if they fail to load.
func (s *Store) wordsFor(lang, tz string) Words {
	b, err := catalogs()
	if err != nil {
		s.log.Error("loading catalogs for notifications", "err", err)
		return plainWords{}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc = time.UTC
	}
	return b.For(lang, loc)
}

// recipient is what notifying one person needs to know about them.
type recipient struct {
	ID       int64
	Email    string
	Name     string
	Language string
	Timezone string
}

// loadRecipient reads an active user, filling language and zone from the
// company when the user has none; ok is false for a disabled or unknown
// user.
func loadRecipient(ctx context.Context, q querier, id int64) (r recipient, ok bool, err error) {
	var disabled bool
	var clang, ctz string
	err = q.QueryRowContext(ctx, `SELECT u.id, u.email, u.name, u.language, u.timezone, u.disabled, c.language, c.timezone
		FROM users u LEFT JOIN company c ON c.id = 1 WHERE u.id = ?`, id).
		Scan(&r.ID, &r.Email, &r.Name, &r.Language, &r.Timezone, &disabled, &clang, &ctz)
	if err == sql.ErrNoRows {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	if r.Language == "" {
		r.Language = clang
	}
	if r.Timezone == "" {
		r.Timezone = ctz
	}
	return r, !disabled, nil
}

// channelFor returns a person's chosen channel for a kind, or its default.
func channelFor(ctx context.Context, q querier, userID int64, kind string) (NotifyChannel, error) {
	var c string
	err := q.QueryRowContext(ctx, `SELECT channel FROM notification_prefs WHERE user_id = ? AND kind = ?`, userID, kind).Scan(&c)
	if err == sql.ErrNoRows {
		return DefaultChannel(kind), nil
	}
	return NotifyChannel(c), err
}

// notifyUsers notifies each user of one event inside the caller's
// transaction, in the app, by e-mail or both as each user chose for the
// kind; disabled users are skipped, and with n.Dedup set a user already
// notified of the event is not notified again. Workflow rules' "notify"
// action calls it with kind "rule".
func (s *Store) notifyUsers(ctx context.Context, tx *sql.Tx, kind string, userIDs []int64, n NotificationContent) error {
	args := "{}"
	if len(n.Args) > 0 {
		b, err := json.Marshal(n.Args)
		if err != nil {
			return err
		}
		args = string(b)
	}
	var rec any
	if n.RecordID != 0 {
		rec = n.RecordID
	}
	n.Title = truncateRunes(n.Title, 300)
	n.Body = truncateRunes(n.Body, 2000)
	seen := map[int64]bool{}
	for _, uid := range userIDs {
		if uid == 0 || seen[uid] {
			continue
		}
		seen[uid] = true
		r, ok, err := loadRecipient(ctx, tx, uid)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		ch, err := channelFor(ctx, tx, uid, kind)
		if err != nil {
			return err
		}
		mailKey := ""
		if n.Dedup != "" {
			mailKey = n.Dedup + ":" + strconv.FormatInt(uid, 10)
		}
		if ch.inApp() {
			res, err := execTx(ctx, tx, `INSERT INTO notifications (user_id, kind, msg_key, args, title, body, entity, record_id, dedup_key, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				uid, kind, n.Key, args, n.Title, n.Body, string(n.Entity), rec, n.Dedup, s.nowMS())
			if err != nil {
				return err
			}
			if c, _ := res.RowsAffected(); c == 0 {
				continue // already notified of this event
			}
			if mailKey == "" {
				id, _ := res.LastInsertId()
				mailKey = "notif:" + strconv.FormatInt(id, 10)
			}
		}
		if !ch.email() {
			continue
		}
		if mailKey == "" {
			var b [12]byte
			rand.Read(b[:])
			mailKey = "notif:" + kind + ":" + hex.EncodeToString(b[:])
		}
		w := s.wordsFor(r.Language, r.Timezone)
		title, body := n.Text(w)
		if strings.TrimSpace(title) == "" {
			title = w.T("notifications.kind." + kind)
		}
		text := title + "\n"
		if body != "" {
			text += "\n" + body + "\n"
		}
		text += "\n-- \n" + w.T("notifications.email.footer") + "\n"
		if _, _, err := s.enqueueEmail(ctx, tx, SystemActor(), OutgoingEmail{
			Key: mailKey, To: r.Email, ToName: r.Name, Subject: oneLine(title, 200), Text: text,
			Entity: n.Entity, RecordID: n.RecordID,
		}); err != nil {
			return err
		}
	}
	return nil
}

func truncateRunes(v string, n int) string {
	if utf8.RuneCountInString(v) <= n {
		return v
	}
	return string([]rune(v)[:n-1]) + "…"
}

// mentionFields are the note fields whose @mentions notify people.
func mentionFields(d *EntityDef) []string {
	var out []string
	for _, k := range []string{"notes", "description"} {
		if _, ok := d.Field(k); ok && (k == "notes" || d.Entity == EntActivities) {
			out = append(out, k)
		}
	}
	return out
}

// notificationEvent writes the notifications a change causes: the new
// owner or assignee of a record given to them by someone else, and the
// people newly @mentioned in a note. Imports (quiet batches) notify no one.
func (s *Store) notificationEvent(ctx context.Context, tx *sql.Tx, ev *recordEvent) error {
	if quietAudit(ctx) || ev.Def == nil {
		return nil
	}
	actorID := int64(0)
	actorName := ""
	if ev.Actor != nil {
		actorID, actorName = ev.Actor.UserID, ev.Actor.Name
	}
	title := ev.Def.title(ev.New)
	if ev.Owner != 0 && ev.Owner != actorID && (ev.Created || ev.Owner != ev.OldOwner) {
		if err := s.notifyUsers(ctx, tx, NotifyAssigned, []int64{ev.Owner}, NotificationContent{
			Key: "notifications.msg.assigned", Args: map[string]string{"Actor": actorName, "Title": title},
			Entity: ev.Def.Entity, RecordID: ev.ID,
		}); err != nil {
			return err
		}
	}
	for _, k := range mentionFields(ev.Def) {
		newText, _ := ev.New[k].(string)
		if !strings.Contains(newText, "@") {
			continue
		}
		oldText, _ := ev.Old[k].(string)
		before := map[string]bool{}
		for _, m := range mentions(oldText) {
			before[m] = true
		}
		var added []string
		for _, m := range mentions(newText) {
			if !before[m] {
				added = append(added, m)
			}
		}
		if len(added) == 0 {
			continue
		}
		ids, err := s.mentionedUsers(ctx, tx, added, actorID, ev)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			continue
		}
		if err := s.notifyUsers(ctx, tx, NotifyMention, ids, NotificationContent{
			Key: "notifications.msg.mention", Args: map[string]string{"Actor": actorName, "Title": title},
			Body: truncateRunes(strings.TrimSpace(newText), 300), Entity: ev.Def.Entity, RecordID: ev.ID,
		}); err != nil {
			return err
		}
	}
	return nil
}

// mentionRE finds @handles that start a word, so an e-mail address such as
// anna@example.com is not a mention.
var mentionRE = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_.@+-])@([\p{L}\p{N}][\p{L}\p{N}_.-]*)`)

// mentions returns the distinct folded handles a text mentions.
func mentions(text string) []string {
	if !strings.Contains(text, "@") {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		h := foldKey(strings.TrimRight(m[1], "._-"))
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// userHandles are the handles that mention a user: the local part of their
// e-mail and their name without spaces or with dots, accents removed
// ("Laura Puig" → laurapuig, laura.puig).
func userHandles(email, name string) []string {
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	n := foldKey(name)
	return []string{foldKey(local), strings.ReplaceAll(n, " ", ""), strings.ReplaceAll(n, " ", ".")}
}

// mentionedUsers resolves handles to active users other than the writer
// who may view the record, so a mention never reveals a record to someone
// outside its scope.
func (s *Store) mentionedUsers(ctx context.Context, tx *sql.Tx, handles []string, actorID int64, ev *recordEvent) ([]int64, error) {
	want := map[string]bool{}
	for _, h := range handles {
		want[h] = true
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, email, name FROM users WHERE disabled = 0 ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var cands []int64
	for rows.Next() {
		var id int64
		var email, name string
		if err := rows.Scan(&id, &email, &name); err != nil {
			rows.Close()
			return nil, err
		}
		if id == actorID {
			continue
		}
		for _, h := range userHandles(email, name) {
			if h != "" && want[h] {
				cands = append(cands, id)
				break
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(cands) == 0 {
		return nil, err
	}
	var ownerTeam int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(team_id, 0) FROM users WHERE id = ?`, ev.Owner).Scan(&ownerTeam); err != nil && err != sql.ErrNoRows {
		return nil, err
	}
	var out []int64
	for _, id := range cands {
		ra, err := s.actorFor(ctx, tx, id)
		if err != nil {
			if ErrorCode(err) == CodeUnauthorized || ErrorCode(err) == CodeNotFound {
				continue
			}
			return nil, err
		}
		if ra.inScope(ev.Def.Entity, ActView, ev.Owner, ownerTeam) {
			out = append(out, id)
		}
	}
	return out, nil
}

// reminderOffsets maps the task_reminder options to durations.
var reminderOffsets = map[string]time.Duration{
	"0": 0, "5m": 5 * time.Minute, "15m": 15 * time.Minute, "30m": 30 * time.Minute, "1h": time.Hour, "1d": 24 * time.Hour,
}

// staleReminder is how long after its due time a task is no longer
// reminded, so a scheduler that was stopped for a week does not send a
// week of stale reminders when it starts again.
const staleReminder = 24 * time.Hour

// SendDueReminders reminds the assignee of every open task whose reminder
// time (due_at minus remind_before) has come, in the app and by e-mail as
// they chose for "task_due"; each task is reminded once per due time, and
// again when its due time changes. The scheduler calls it every tick; it
// returns how many tasks were reminded.
func (s *Store) SendDueReminders(ctx context.Context, now time.Time) (int, error) {
	sent := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		sent = 0
		rows, err := tx.QueryContext(ctx, `SELECT id, title, due_at, remind_before, owner_id FROM tasks
			WHERE remind_before <> '' AND status = 'open' AND deleted_at = 0
				AND due_at > ? AND due_at <= ? AND reminded_due_at <> due_at
			ORDER BY due_at, id LIMIT 500`, ms(now.Add(-staleReminder)), ms(now.Add(24*time.Hour)))
		if err != nil {
			return err
		}
		type due struct {
			id, due, owner int64
			title          string
		}
		var todo []due
		for rows.Next() {
			var d due
			var before string
			if err := rows.Scan(&d.id, &d.title, &d.due, &before, &d.owner); err != nil {
				rows.Close()
				return err
			}
			off, ok := reminderOffsets[before]
			if ok && fromMS(d.due).Add(-off).Compare(now) <= 0 {
				todo = append(todo, d)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range todo {
			key := "reminder:" + strconv.FormatInt(d.id, 10) + ":" + strconv.FormatInt(d.due, 10)
			if err := s.notifyUsers(ctx, tx, NotifyTaskDue, []int64{d.owner}, NotificationContent{
				Key:    "notifications.msg.task_due",
				Args:   map[string]string{"Title": d.title, "DueAt": strconv.FormatInt(d.due, 10)},
				Entity: EntTasks, RecordID: d.id, Dedup: key,
			}); err != nil {
				return err
			}
			if _, err := execTx(ctx, tx, `UPDATE tasks SET reminded_due_at = ? WHERE id = ?`, d.due, d.id); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	return sent, err
}

// digestHour is the company-local hour from which the daily digest goes.
const digestHour = 7

// SendDigests e-mails each user who asked for the daily digest the list of
// their open tasks due today or overdue, once per company-local date and
// not before 07:00 there, in the user's language; a user with no such
// tasks gets no e-mail that day. The scheduler calls it every tick; it
// returns how many digests were queued.
func (s *Store) SendDigests(ctx context.Context, now time.Time) (int, error) {
	sent := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		sent = 0
		var ctz string
		if err := tx.QueryRowContext(ctx, `SELECT timezone FROM company WHERE id = 1`).Scan(&ctz); err == sql.ErrNoRows {
			return nil // not set up yet
		} else if err != nil {
			return err
		}
		loc, err := time.LoadLocation(ctz)
		if err != nil {
			loc = time.UTC
		}
		local := now.In(loc)
		if local.Hour() < digestHour {
			return nil
		}
		date := local.Format(time.DateOnly)
		y, m, d := local.Date()
		endOfDay := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE notify_digest = 1 AND disabled = 0 AND digest_sent_on <> ? ORDER BY id`, date)
		if err != nil {
			return err
		}
		var users []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			users = append(users, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, uid := range users {
			queued, err := s.sendDigest(ctx, tx, uid, date, local, endOfDay)
			if err != nil {
				return err
			}
			if queued {
				sent++
			}
			if _, err := execTx(ctx, tx, `UPDATE users SET digest_sent_on = ? WHERE id = ?`, date, uid); err != nil {
				return err
			}
		}
		return nil
	})
	return sent, err
}

// sendDigest queues one user's digest for a date; queued is false when the
// user has no open task due by the end of the day.
func (s *Store) sendDigest(ctx context.Context, tx *sql.Tx, uid int64, date string, local, endOfDay time.Time) (bool, error) {
	r, ok, err := loadRecipient(ctx, tx, uid)
	if err != nil || !ok {
		return false, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT title, due_at FROM tasks
		WHERE owner_id = ? AND status = 'open' AND deleted_at = 0 AND due_at > 0 AND due_at < ?
		ORDER BY due_at, id LIMIT 200`, uid, ms(endOfDay))
	if err != nil {
		return false, err
	}
	w := s.wordsFor(r.Language, r.Timezone)
	dw, _ := w.(dateWords)
	y, m, d := local.Date()
	startOfDay := time.Date(y, m, d, 0, 0, 0, 0, local.Location())
	var lines []string
	for rows.Next() {
		var title string
		var due int64
		if err := rows.Scan(&title, &due); err != nil {
			rows.Close()
			return false, err
		}
		at := fromMS(due).Format("2006-01-02 15:04")
		if dw != nil {
			at = dw.DateTime(fromMS(due))
		}
		line := "- " + title + " (" + at + ")"
		if fromMS(due).Before(startOfDay) {
			line += " " + w.T("notifications.digest.overdue")
		}
		lines = append(lines, line)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(lines) == 0 {
		return false, err
	}
	day := local.Format("02/01/2006")
	if dw, ok := w.(interface{ Date(time.Time) string }); ok {
		day = dw.Date(local)
	}
	text := w.T("notifications.digest.intro", "Count", strconv.Itoa(len(lines))) + "\n\n" + strings.Join(lines, "\n") +
		"\n\n-- \n" + w.T("notifications.email.footer") + "\n"
	_, _, err = s.enqueueEmail(ctx, tx, SystemActor(), OutgoingEmail{
		Key: "digest:" + strconv.FormatInt(uid, 10) + ":" + date, To: r.Email, ToName: r.Name,
		Subject: oneLine(w.T("notifications.digest.subject", "Date", day), 200), Text: text,
	})
	return err == nil, err
}

// NotificationFilter narrows FindNotifications; Before is a keyset cursor
// (an id), so a long list pages without OFFSET.
type NotificationFilter struct {
	Unread bool
	Before int64
	Limit  int
}

// requireUser refuses callers that are not a signed-in person: the system
// actor has no notifications.
func requireUser(a *Actor) error {
	if a == nil || a.System || a.UserID == 0 {
		return &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	return nil
}

const notificationCols = `id, kind, msg_key, args, title, body, entity, COALESCE(record_id, 0), created_at, read_at`

// FindNotifications lists the actor's own notifications, newest first, so
// the page and the API never show anyone else's.
func (s *Store) FindNotifications(ctx context.Context, a *Actor, f NotificationFilter) ([]*Notification, error) {
	if err := requireUser(a); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := `SELECT ` + notificationCols + ` FROM notifications WHERE user_id = ?`
	args := []any{a.UserID}
	if f.Unread {
		q += ` AND read_at = 0`
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	var out []*Notification
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n := &Notification{}
			var args string
			var ca, ra int64
			if err := rows.Scan(&n.ID, &n.Kind, &n.Key, &args, &n.Title, &n.Body, &n.Entity, &n.RecordID, &ca, &ra); err != nil {
				return err
			}
			if args != "" && args != "{}" {
				if err := json.Unmarshal([]byte(args), &n.Args); err != nil {
					return err
				}
			}
			n.CreatedAt, n.ReadAt = fromMS(ca), fromMS(ra)
			out = append(out, n)
		}
		return rows.Err()
	})
	return out, err
}

// UnreadNotifications counts the actor's unread notifications for the
// bell; it is one indexed count, cheap enough for every page.
func (s *Store) UnreadNotifications(ctx context.Context, a *Actor) (int, error) {
	if err := requireUser(a); err != nil {
		return 0, err
	}
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE user_id = ? AND read_at = 0`, a.UserID).Scan(&n)
	if err != nil {
		return 0, errInternal(err)
	}
	return n, nil
}

// MarkNotificationsRead marks the actor's notifications with the given ids
// read (nil: all of them); ids of other people's notifications change
// nothing.
func (s *Store) MarkNotificationsRead(ctx context.Context, a *Actor, ids []int64) error {
	if err := requireUser(a); err != nil {
		return err
	}
	if ids != nil && len(ids) == 0 {
		return nil
	}
	if len(ids) > 1000 {
		return errInvalid(map[string]string{"ids": "error.too_long"})
	}
	q := `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at = 0`
	args := []any{s.nowMS(), a.UserID}
	if ids != nil {
		q += ` AND id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}

// NotificationSettings are a person's notification preferences: a channel
// per kind and whether they want the daily digest e-mail.
type NotificationSettings struct {
	Channels map[string]NotifyChannel
	Digest   bool
}

// NotificationPrefs returns the actor's own preferences, every kind filled
// in (with its default when never chosen), for the profile page and API.
func (s *Store) NotificationPrefs(ctx context.Context, a *Actor) (*NotificationSettings, error) {
	if err := requireUser(a); err != nil {
		return nil, err
	}
	out := &NotificationSettings{Channels: map[string]NotifyChannel{}}
	for _, k := range NotificationKinds {
		out.Channels[k] = DefaultChannel(k)
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT notify_digest FROM users WHERE id = ?`, a.UserID).Scan(&out.Digest); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT kind, channel FROM notification_prefs WHERE user_id = ?`, a.UserID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k, c string
			if err := rows.Scan(&k, &c); err != nil {
				return err
			}
			if _, known := out.Channels[k]; known {
				out.Channels[k] = NotifyChannel(c)
			}
		}
		return rows.Err()
	})
	return out, err
}

// SaveNotificationPrefs stores the actor's own preferences; kinds left out
// keep their current channel, and an unknown kind or channel is refused.
func (s *Store) SaveNotificationPrefs(ctx context.Context, a *Actor, in NotificationSettings) error {
	if err := requireUser(a); err != nil {
		return err
	}
	fe := fieldErrors{}
	known := map[string]bool{}
	for _, k := range NotificationKinds {
		known[k] = true
	}
	for k, c := range in.Channels {
		if !known[k] {
			fe.add("channel."+k, "error.invalid")
		} else if !c.valid() {
			fe.add("channel."+k, "error.option")
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, k := range NotificationKinds {
			c, ok := in.Channels[k]
			if !ok {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO notification_prefs (user_id, kind, channel) VALUES (?, ?, ?)
				ON CONFLICT (user_id, kind) DO UPDATE SET channel = excluded.channel`, a.UserID, k, string(c)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET notify_digest = ? WHERE id = ?`, in.Digest, a.UserID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "notification_prefs.save", "users", a.UserID, nil)
	})
}
