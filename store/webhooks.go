package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// entityEventNames is the singular name of each record type in event
// types ("contact.created"), the way integrations name things.
var entityEventNames = map[Entity]string{
	EntAccounts: "account", EntContacts: "contact", EntLeads: "lead", EntOpportunities: "opportunity",
	EntActivities: "activity", EntTasks: "task", EntCases: "case",
}

// WebhookEntities are the record types whose changes webhooks report.
var WebhookEntities = []Entity{EntAccounts, EntContacts, EntLeads, EntOpportunities, EntCases, EntTasks, EntActivities}

// WebhookEvents lists every event type a subscription may name, in the
// order the settings page offers them.
var WebhookEvents = func() []string {
	var out []string
	for _, e := range WebhookEntities {
		n := entityEventNames[e]
		out = append(out, n+".created", n+".updated", n+".deleted")
	}
	return append(out, "opportunity.stage_changed", "opportunity.won", "opportunity.lost", "case.status_changed", "form.submitted")
}()

// EventWorkflow is the event type of a delivery made by a workflow rule's
// webhook action.
const EventWorkflow = "workflow.webhook"

// WebhookRetryWindow is how long a delivery is retried after its event.
const WebhookRetryWindow = 24 * time.Hour

// WebhookBackoff is the wait after the n-th failed attempt (1-based):
// 30 s doubling each time, at most 2 h, which makes about 17 attempts in
// the 24 h window.
func WebhookBackoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < 2*time.Hour; i++ {
		d *= 2
	}
	return min(d, 2*time.Hour)
}

// Webhook is an administrator's subscription of a URL to events.
type Webhook struct {
	ID        int64
	URL       string
	Events    []string
	Enabled   bool
	CreatedBy int64
	CreatedAt time.Time
	// Secret signs the deliveries; it is filled only on the value
	// CreateWebhook returns, the one moment it is shown.
	Secret string
}

// WebhookInput is a new subscription; an empty Secret gets a random one.
type WebhookInput struct {
	URL    string
	Events []string
	Secret string
}

// DeliveryStatus is where a webhook delivery is in its life.
type DeliveryStatus string

// The states of a delivery: pending → sending (leased) → delivered, or
// pending again after a failed attempt, or failed once its window ends.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySending   DeliveryStatus = "sending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// WebhookDelivery is one event for one target, as queued and as logged.
type WebhookDelivery struct {
	ID            int64
	WebhookID     int64
	WorkflowID    int64
	EventID       string
	Event         string
	URL           string
	Body          string
	Secret        string
	Status        DeliveryStatus
	Attempts      int
	NextAttemptAt time.Time
	ExpiresAt     time.Time
	LastStatus    int
	LastError     string
	LastDuration  time.Duration
	ResentFrom    int64
	CreatedAt     time.Time
	DeliveredAt   time.Time
	// Log is every attempt, oldest first (filled by FindWebhookDeliveries).
	Log []WebhookAttempt
}

// WebhookAttempt is one try of a delivery: when, the HTTP status (0 when
// nothing answered), how long it took and the error.
type WebhookAttempt struct {
	At       time.Time
	Status   int
	Duration time.Duration
	Error    string
}

// RecordRenderer renders a record as the API shows it; the ui package
// hands its own to the store so webhook payloads match the API exactly.
type RecordRenderer func(*Record) map[string]any

// URLChecker says whether an outgoing URL may be called (resolving its
// name); errors with a RefusalReason() method name why not. The package
// that owns outbound HTTP provides it.
type URLChecker func(ctx context.Context, rawURL string) error

// webhookState is the store's webhook snapshot and the two functions
// other packages lend it.
type webhookState struct {
	subs   atomic.Pointer[hookSet]
	render atomic.Pointer[RecordRenderer]
	check  atomic.Pointer[URLChecker]
}

// hookSet is the enabled subscriptions by event type, swapped after every
// change, so a record write without subscribers costs one map lookup.
type hookSet struct {
	byEvent map[string][]hookSub
}

type hookSub struct {
	id          int64
	url, secret string
}

// SetRecordJSON installs the API's record renderer for webhook payloads.
func (s *Store) SetRecordJSON(fn RecordRenderer) { s.hooks.render.Store(&fn) }

// SetURLChecker installs the outbound guard's check, run on every URL an
// admin saves (subscriptions and workflow webhook actions).
func (s *Store) SetURLChecker(fn URLChecker) { s.hooks.check.Store(&fn) }

// checkTargetURL validates an outgoing URL: statically, then with the
// installed guard (which resolves the name, so it runs outside any
// transaction). field names the input for the error.
func (s *Store) checkTargetURL(ctx context.Context, raw, field string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errInvalid(map[string]string{field: "error.required"})
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2000 || u.Host == "" || u.Hostname() == "" {
		return "", errInvalid(map[string]string{field: "webhooks.error.url"})
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errInvalid(map[string]string{field: "webhooks.refused.scheme"})
	}
	if fn := s.hooks.check.Load(); fn != nil && *fn != nil {
		if err := (*fn)(ctx, raw); err != nil {
			var rr interface{ RefusalReason() string }
			key := "webhooks.refused.resolve"
			if errors.As(err, &rr) {
				key = "webhooks.refused." + rr.RefusalReason()
			}
			return "", &Error{Code: CodeInvalid, Key: "webhooks.error.refused", Fields: map[string]string{field: key}, Err: err}
		}
	}
	return raw, nil
}

// idText writes an id as the API does, a decimal string.
func idText(id int64) string { return strconv.FormatInt(id, 10) }

// newWebhookSecret is a random signing secret.
func newWebhookSecret() string {
	var b [24]byte
	rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}

// newEventID is a random event id, the same for every target of one event
// so receivers can recognise a duplicate.
func newEventID() string {
	var b [12]byte
	rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}

// CreateWebhook subscribes a URL to events; it needs the settings
// capability. A URL the outbound guard refuses is invalid, with the
// reason. The returned value carries the secret, shown this once.
func (s *Store) CreateWebhook(ctx context.Context, a *Actor, in WebhookInput) (*Webhook, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	fe := fieldErrors{}
	events := []string{}
	for _, e := range in.Events {
		e = strings.TrimSpace(e)
		if !slices.Contains(WebhookEvents, e) {
			fe.add("events", "webhooks.error.event")
			continue
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	if len(events) == 0 {
		fe.add("events", "webhooks.error.no_events")
	}
	secret := strings.TrimSpace(in.Secret)
	if secret == "" {
		secret = newWebhookSecret()
	} else if len(secret) < 16 || len(secret) > 200 || strings.ContainsFunc(secret, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		fe.add("secret", "webhooks.error.secret")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	u, err := s.checkTargetURL(ctx, in.URL, "url")
	if err != nil {
		return nil, err
	}
	ev, _ := json.Marshal(events)
	w := &Webhook{URL: u, Events: events, Enabled: true, CreatedBy: a.UserID, CreatedAt: s.now().UTC(), Secret: secret}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := execTx(ctx, tx, `INSERT INTO webhooks (url, events, secret, enabled, created_by, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?)`,
			u, string(ev), secret, a.auditUser(), ms(w.CreatedAt), ms(w.CreatedAt))
		if err != nil {
			return err
		}
		w.ID, _ = res.LastInsertId()
		return s.audit(ctx, tx, a, "create", "webhook", w.ID, map[string]any{"url": u, "events": events})
	})
	if err != nil {
		return nil, err
	}
	return w, s.reloadHooks(ctx)
}

const webhookCols = `id, url, events, enabled, COALESCE(created_by, 0), created_at`

func scanWebhook(r rowScanner) (*Webhook, error) {
	w := &Webhook{}
	var ev string
	var ca int64
	if err := r.Scan(&w.ID, &w.URL, &ev, &w.Enabled, &w.CreatedBy, &ca); err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(ev), &w.Events)
	if w.Events == nil {
		w.Events = []string{}
	}
	w.CreatedAt = fromMS(ca)
	return w, nil
}

// FindWebhooks lists the subscriptions, oldest first; it needs the
// settings capability. Secrets are never returned.
func (s *Store) FindWebhooks(ctx context.Context, a *Actor) ([]*Webhook, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	out := []*Webhook{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			w, err := scanWebhook(rows)
			if err != nil {
				return err
			}
			out = append(out, w)
		}
		return rows.Err()
	})
	return out, err
}

// FindWebhook returns one subscription without its secret.
func (s *Store) FindWebhook(ctx context.Context, a *Actor, id int64) (*Webhook, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	var w *Webhook
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		w, err = scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = ?`, id))
		return err
	})
	return w, err
}

// DeleteWebhook removes a subscription with its queued deliveries and log.
func (s *Store) DeleteWebhook(ctx context.Context, a *Actor, id int64) error {
	if err := a.require(CapSettings); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := execTx(ctx, tx, `DELETE FROM webhooks WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound()
		}
		return s.audit(ctx, tx, a, "delete", "webhook", id, nil)
	})
	if err != nil {
		return err
	}
	return s.reloadHooks(ctx)
}

// loadHooks reads the enabled subscriptions into a snapshot.
func loadHooks(ctx context.Context, q querier) (*hookSet, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, url, secret, events FROM webhooks WHERE enabled = 1 ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hs := &hookSet{byEvent: map[string][]hookSub{}}
	for rows.Next() {
		var sub hookSub
		var ev string
		if err := rows.Scan(&sub.id, &sub.url, &sub.secret, &ev); err != nil {
			return nil, err
		}
		var events []string
		json.Unmarshal([]byte(ev), &events)
		for _, e := range events {
			hs.byEvent[e] = append(hs.byEvent[e], sub)
		}
	}
	return hs, rows.Err()
}

// reloadHooks refreshes the snapshot after a committed change.
func (s *Store) reloadHooks(ctx context.Context) error {
	hs, err := loadHooks(ctx, s.w)
	if err != nil {
		return errInternal(err)
	}
	s.hooks.subs.Store(hs)
	return nil
}

// hookSnapshot returns the subscriptions, reading them on first use inside
// the caller's transaction (the writer connection is busy with it).
func (s *Store) hookSnapshot(ctx context.Context, tx *sql.Tx) (*hookSet, error) {
	if hs := s.hooks.subs.Load(); hs != nil {
		return hs, nil
	}
	hs, err := loadHooks(ctx, tx)
	if err != nil {
		return nil, err
	}
	s.hooks.subs.Store(hs)
	return hs, nil
}

// recordPayload renders a record for a webhook as the API would show it
// to an administrator.
func (s *Store) recordPayload(ctx context.Context, tx *sql.Tx, d *EntityDef, id int64, trash bool) (map[string]any, error) {
	rec, err := s.loadRecord(ctx, tx, SystemActor(), d, id, trash)
	if err != nil {
		return nil, err
	}
	if fn := s.hooks.render.Load(); fn != nil && *fn != nil {
		return (*fn)(rec), nil
	}
	return plainRecordJSON(rec), nil
}

// plainRecordJSON is a record's JSON when no renderer is installed (the
// command line): ids as strings, values as stored, RFC 3339 times.
func plainRecordJSON(r *Record) map[string]any {
	d := Def(r.Entity)
	out := map[string]any{"id": idText(r.ID), d.OwnerKey: idText(r.OwnerID), "custom": r.Custom,
		"created_at": r.CreatedAt.Format(time.RFC3339), "updated_at": r.UpdatedAt.Format(time.RFC3339), "version": r.Version}
	for k, v := range r.Values {
		if t, ok := v.(time.Time); ok {
			if t.IsZero() {
				v = nil
			} else {
				v = t.Format(time.RFC3339)
			}
		}
		out[k] = v
	}
	if d.Tagged {
		out["tags"] = r.Tags
	}
	if r.ExternalIDs != nil {
		out["external_ids"] = r.ExternalIDs
	}
	return out
}

// eventBody is the JSON every delivery carries: the event's id, type and
// time, and its data.
func eventBody(eventID, event string, at time.Time, data map[string]any) (string, error) {
	b, err := json.Marshal(map[string]any{"id": eventID, "type": event, "time": at.UTC().Format(time.RFC3339), "data": data})
	return string(b), err
}

// enqueueDelivery writes one delivery into the queue in the caller's
// transaction.
func (s *Store) enqueueDelivery(ctx context.Context, tx *sql.Tx, hookID, workflowID int64, eventID, event, target, secret, body string, now time.Time) error {
	var hook, rule any
	if hookID != 0 {
		hook = hookID
	}
	if workflowID != 0 {
		rule = workflowID
	}
	_, err := execTx(ctx, tx, `INSERT INTO webhook_deliveries (webhook_id, workflow_id, event_id, event, url, secret, body, status, next_attempt_at, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`, hook, rule, eventID, event, target, secret, body, ms(now), ms(now.Add(WebhookRetryWindow)), ms(now))
	return err
}

// emit queues one event for every subscription to it; data is built only
// when someone listens.
func (s *Store) emit(ctx context.Context, tx *sql.Tx, hs *hookSet, event string, at time.Time, data func() (map[string]any, error)) error {
	subs := hs.byEvent[event]
	if len(subs) == 0 {
		return nil
	}
	d, err := data()
	if err != nil {
		return err
	}
	id := newEventID()
	body, err := eventBody(id, event, at, d)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if err := s.enqueueDelivery(ctx, tx, sub.id, 0, id, event, sub.url, sub.secret, body, s.now()); err != nil {
			return err
		}
	}
	return nil
}

// webhookEvent queues the deliveries a record change causes, in the
// change's transaction: {entity}.created or .updated, and for
// opportunities and cases the stage, won/lost and status events.
func (s *Store) webhookEvent(ctx context.Context, tx *sql.Tx, ev *recordEvent) error {
	hs, err := s.hookSnapshot(ctx, tx)
	if err != nil || len(hs.byEvent) == 0 {
		return err
	}
	name, ok := entityEventNames[ev.Def.Entity]
	if !ok || (!ev.Created && len(ev.Changed) == 0) {
		return nil
	}
	var rec map[string]any
	data := func(extra map[string]any) func() (map[string]any, error) {
		return func() (map[string]any, error) {
			if rec == nil {
				var err error
				if rec, err = s.recordPayload(ctx, tx, ev.Def, ev.ID, false); err != nil {
					return nil, err
				}
			}
			out := map[string]any{"entity": string(ev.Def.Entity), "record": rec}
			for k, v := range extra {
				out[k] = v
			}
			return out, nil
		}
	}
	at := ev.At
	if at.IsZero() {
		at = s.now()
	}
	if ev.Created {
		if err := s.emit(ctx, tx, hs, name+".created", at, data(nil)); err != nil {
			return err
		}
	} else {
		changed := make([]string, 0, len(ev.Changed))
		for k := range ev.Changed {
			changed = append(changed, k)
		}
		sort.Strings(changed)
		if err := s.emit(ctx, tx, hs, name+".updated", at, data(map[string]any{"changed": changed})); err != nil {
			return err
		}
	}
	switch ev.Def.Entity {
	case EntOpportunities:
		if !ev.Created && !ev.Changed["stage"] {
			return nil
		}
		prev := map[string]any{}
		if !ev.Created {
			prev["stage"] = ev.Old["stage"]
			if err := s.emit(ctx, tx, hs, "opportunity.stage_changed", at, data(map[string]any{"previous": prev})); err != nil {
				return err
			}
		}
		pl, _ := ev.New["pipeline"].(string)
		st, _ := ev.New["stage"].(string)
		switch ev.Def.schema.StageKind(pl, st) {
		case "won":
			return s.emit(ctx, tx, hs, "opportunity.won", at, data(map[string]any{"previous": prev}))
		case "lost":
			return s.emit(ctx, tx, hs, "opportunity.lost", at, data(map[string]any{"previous": prev}))
		}
	case EntCases:
		if !ev.Created && ev.Changed["status"] {
			return s.emit(ctx, tx, hs, "case.status_changed", at, data(map[string]any{"previous": map[string]any{"status": ev.Old["status"]}}))
		}
	}
	return nil
}

// webhookDeleted queues {entity}.deleted with the record as it was moved
// to the trash.
func (s *Store) webhookDeleted(ctx context.Context, tx *sql.Tx, d *EntityDef, id int64) error {
	hs, err := s.hookSnapshot(ctx, tx)
	if err != nil || len(hs.byEvent) == 0 {
		return err
	}
	name, ok := entityEventNames[d.Entity]
	if !ok {
		return nil
	}
	return s.emit(ctx, tx, hs, name+".deleted", s.now(), func() (map[string]any, error) {
		rec, err := s.recordPayload(ctx, tx, d, id, true)
		if err != nil {
			return nil, err
		}
		return map[string]any{"entity": string(d.Entity), "record": rec}, nil
	})
}

// webhookForm queues form.submitted for the record a public web form
// created or updated.
func (s *Store) webhookForm(ctx context.Context, tx *sql.Tx, e Entity, id, formID int64) error {
	hs, err := s.hookSnapshot(ctx, tx)
	if err != nil || len(hs.byEvent) == 0 {
		return err
	}
	return s.emit(ctx, tx, hs, "form.submitted", s.now(), func() (map[string]any, error) {
		rec, err := s.recordPayload(ctx, tx, s.def(e), id, false)
		if err != nil {
			return nil, err
		}
		return map[string]any{"entity": string(e), "form_id": idText(formID), "record": rec}, nil
	})
}

// queueRuleWebhook queues a workflow rule's webhook action: the record as
// it is now (after the rule's earlier actions), to the action's URL.
func (s *Store) queueRuleWebhook(ctx context.Context, tx *sql.Tx, st *runState, act WorkflowAction) error {
	rec, err := s.recordPayload(ctx, tx, st.d, st.rec.ID, false)
	if err != nil {
		return err
	}
	id := newEventID()
	body, err := eventBody(id, EventWorkflow, s.now(), map[string]any{
		"entity": string(st.d.Entity), "record": rec,
		"workflow": map[string]any{"id": idText(st.w.ID), "name": st.w.Name},
	})
	if err != nil {
		return err
	}
	return s.enqueueDelivery(ctx, tx, 0, st.w.ID, id, EventWorkflow, act.URL, act.Secret, body, s.now())
}

// checkRuleWebhooks runs the outbound guard on a rule's webhook URLs
// before the rule is saved (outside the transaction: it resolves names).
func (s *Store) checkRuleWebhooks(ctx context.Context, acts []WorkflowAction) error {
	for i, act := range acts {
		if act.Type != ActWebhook || strings.TrimSpace(act.URL) == "" {
			continue
		}
		if _, err := s.checkTargetURL(ctx, act.URL, "actions."+strconv.Itoa(i)+".url"); err != nil {
			return err
		}
	}
	return nil
}

const deliveryCols = `id, COALESCE(webhook_id, 0), COALESCE(workflow_id, 0), event_id, event, url, secret, body, status, attempts,
	next_attempt_at, expires_at, last_status, last_error, last_duration_ms, COALESCE(resent_from, 0), created_at, delivered_at`

func scanDelivery(r rowScanner) (*WebhookDelivery, error) {
	d := &WebhookDelivery{}
	var next, exp, dur, ca, da int64
	if err := r.Scan(&d.ID, &d.WebhookID, &d.WorkflowID, &d.EventID, &d.Event, &d.URL, &d.Secret, &d.Body, &d.Status, &d.Attempts,
		&next, &exp, &d.LastStatus, &d.LastError, &dur, &d.ResentFrom, &ca, &da); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.ExpiresAt, d.CreatedAt, d.DeliveredAt = fromMS(next), fromMS(exp), fromMS(ca), fromMS(da)
	d.LastDuration = time.Duration(dur) * time.Millisecond
	return d, nil
}

func collectDeliveries(rows *sql.Rows, err error) ([]*WebhookDelivery, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*WebhookDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ClaimWebhookDeliveries leases up to limit deliveries due at now (pending
// and due, or sending with an expired lease) and counts an attempt; a
// delivery whose window ended while leased becomes failed. The worker
// sends them outside any transaction and then calls RecordWebhookAttempt.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*WebhookDelivery, error) {
	if limit <= 0 {
		limit = 10
	}
	var out []*WebhookDelivery
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := execTx(ctx, tx, `UPDATE webhook_deliveries SET status = 'failed', lease_until = 0,
				last_error = CASE WHEN last_error = '' THEN 'no answer recorded before the retry window ended' ELSE last_error END
			WHERE status IN ('pending', 'sending') AND expires_at <= ? AND (status = 'pending' OR lease_until <= ?)`, ms(now), ms(now)); err != nil {
			return err
		}
		var err error
		out, err = collectDeliveries(tx.QueryContext(ctx, `UPDATE webhook_deliveries SET status = 'sending', lease_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM webhook_deliveries
				WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until <= ?)
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING `+deliveryCols, ms(now.Add(lease)), ms(now), ms(now), limit))
		return err
	})
	return out, err
}

// WebhookOutcome is the result of one attempt, as the worker reports it.
type WebhookOutcome struct {
	At       time.Time
	Status   int
	Duration time.Duration
	Error    string
	// Delivered is a 2xx answer; Permanent a failure not worth retrying
	// (the guard refused the target).
	Delivered bool
	Permanent bool
}

// RecordWebhookAttempt logs an attempt of a leased delivery and moves it
// on: delivered, pending again after WebhookBackoff, or failed when the
// failure is permanent or the next try would fall after the window.
func (s *Store) RecordWebhookAttempt(ctx context.Context, id int64, o WebhookOutcome) error {
	if len(o.Error) > 1000 {
		o.Error = strings.ToValidUTF8(o.Error[:1000], "") + "…"
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var attempts int
		var exp int64
		err := tx.QueryRowContext(ctx, `SELECT attempts, expires_at FROM webhook_deliveries WHERE id = ? AND status = 'sending'`, id).Scan(&attempts, &exp)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := execTx(ctx, tx, `INSERT INTO webhook_attempts (delivery_id, at, status_code, duration_ms, error) VALUES (?, ?, ?, ?, ?)`,
			id, ms(o.At), o.Status, o.Duration.Milliseconds(), o.Error); err != nil {
			return err
		}
		status, next, delivered := DeliveryPending, o.At.Add(WebhookBackoff(attempts)), int64(0)
		switch {
		case o.Delivered:
			status, delivered = DeliveryDelivered, ms(o.At)
		case o.Permanent || ms(next) >= exp:
			status = DeliveryFailed
		}
		_, err = execTx(ctx, tx, `UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, lease_until = 0, last_status = ?, last_error = ?,
			last_duration_ms = ?, delivered_at = ? WHERE id = ?`, string(status), ms(next), o.Status, o.Error, o.Duration.Milliseconds(), delivered, id)
		return err
	})
}

// FindWebhookDeliveries lists a subscription's deliveries newest first,
// each with its attempts; before is a keyset cursor (a delivery id).
func (s *Store) FindWebhookDeliveries(ctx context.Context, a *Actor, webhookID, before int64, limit int) ([]*WebhookDelivery, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out []*WebhookDelivery
	err := s.read(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhooks WHERE id = ?`, webhookID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errNotFound()
		}
		q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries WHERE webhook_id = ?`
		args := []any{webhookID}
		if before > 0 {
			q += ` AND id < ?`
			args = append(args, before)
		}
		var err error
		if out, err = collectDeliveries(tx.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)); err != nil || len(out) == 0 {
			return err
		}
		ids := map[int64]bool{}
		byID := map[int64]*WebhookDelivery{}
		for _, d := range out {
			ids[d.ID], byID[d.ID] = true, d
			d.Log = []WebhookAttempt{}
		}
		ph, idArgs := inList(ids)
		rows, err := tx.QueryContext(ctx, `SELECT delivery_id, at, status_code, duration_ms, error FROM webhook_attempts WHERE delivery_id IN (`+ph+`) ORDER BY id`, idArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var did, at, dur int64
			var at1 WebhookAttempt
			if err := rows.Scan(&did, &at, &at1.Status, &dur, &at1.Error); err != nil {
				return err
			}
			at1.At, at1.Duration = fromMS(at), time.Duration(dur)*time.Millisecond
			byID[did].Log = append(byID[did].Log, at1)
		}
		return rows.Err()
	})
	return out, err
}

// ResendWebhookDelivery queues a delivery of a subscription again, as a
// new delivery with the same event id and body and a fresh 24 h window.
func (s *Store) ResendWebhookDelivery(ctx context.Context, a *Actor, webhookID, deliveryID int64) (*WebhookDelivery, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	var out *WebhookDelivery
	err := s.write(ctx, func(tx *sql.Tx) error {
		d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = ? AND webhook_id = ?`, deliveryID, webhookID))
		if err != nil {
			return err
		}
		var target, secret string
		if err := tx.QueryRowContext(ctx, `SELECT url, secret FROM webhooks WHERE id = ?`, webhookID).Scan(&target, &secret); err != nil {
			return err
		}
		now := s.now()
		res, err := execTx(ctx, tx, `INSERT INTO webhook_deliveries (webhook_id, event_id, event, url, secret, body, status, next_attempt_at, expires_at, resent_from, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`, webhookID, d.EventID, d.Event, target, secret, d.Body, ms(now), ms(now.Add(WebhookRetryWindow)), d.ID, ms(now))
		if err != nil {
			return err
		}
		id, _ := res.LastInsertId()
		if err := s.audit(ctx, tx, a, "resend", "webhook_delivery", id, map[string]any{"webhook_id": idText(webhookID), "from": idText(deliveryID)}); err != nil {
			return err
		}
		out, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = ?`, id))
		return err
	})
	return out, err
}

// PurgeWebhookDeliveries deletes finished deliveries (delivered or failed)
// older than 30 days, so the log stays small; the scheduler calls it.
func (s *Store) PurgeWebhookDeliveries(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := execTx(ctx, tx, `DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND created_at < ?`, ms(now.Add(-30*24*time.Hour)))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}
