package store_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cartera/i18n"
	"cartera/store"
)

// notifEnv is a store with a movable clock, an admin and two salespeople
// (Laura in Spanish, Marc in English) for the notification tests.
type notifEnv struct {
	s           *store.Store
	admin       *store.Actor
	laura, marc *store.Actor
	mu          sync.Mutex
	now         time.Time
}

func (e *notifEnv) clock() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }

func (e *notifEnv) set(t time.Time) { e.mu.Lock(); e.now = t; e.mu.Unlock() }

func newNotifEnv(t *testing.T) *notifEnv {
	t.Helper()
	ctx := context.Background()
	e := &notifEnv{now: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	s, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "cartera.db"), PasswordMemoryKiB: 64, PasswordTime: 1, Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e.s = s
	e.admin = mustSetup(t, s)
	mk := func(email, name, lang string) *store.Actor {
		u, err := s.CreateUser(ctx, e.admin, store.UserInput{Email: email, Name: name, Password: "password-123", RoleKey: "salesperson", Language: lang})
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.ActorFor(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	e.laura = mk("laura.puig@example.com", "Laura Puig", "es")
	e.marc = mk("marc@example.com", "Marc Solé", "en")
	return e
}

func (e *notifEnv) notifications(t *testing.T, a *store.Actor) []*store.Notification {
	t.Helper()
	ns, err := e.s.FindNotifications(context.Background(), a, store.NotificationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func (e *notifEnv) outbox(t *testing.T, to string) []*store.OutboxMessage {
	t.Helper()
	all, err := e.s.FindOutbox(context.Background(), e.admin, store.OutboxFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []*store.OutboxMessage
	for _, m := range all {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func english(t *testing.T) *i18n.Translator {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return b.For("en", time.UTC)
}

// TestStore_NotifyAssigned checks that a record given to someone notifies
// them and not the person who gave it, on create and on reassignment.
func TestStore_NotifyAssigned(t *testing.T) {
	ctx := context.Background()
	e := newNotifEnv(t)
	en := english(t)

	t.Run("create for someone else notifies the owner only", func(t *testing.T) {
		if _, err := e.s.CreateRecord(ctx, e.admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Ferreteria Puig", "owner_id": e.laura.UserID}}); err != nil {
			t.Fatal(err)
		}
		ns := e.notifications(t, e.laura)
		if len(ns) != 1 || ns[0].Kind != store.NotifyAssigned || ns[0].Entity != store.EntAccounts || ns[0].Read() {
			t.Fatalf("laura's notifications: %+v", ns)
		}
		if title, _ := ns[0].Text(en); title != "Anna Puig assigned you “Ferreteria Puig”" {
			t.Errorf("title %q", title)
		}
		if ns := e.notifications(t, e.admin); len(ns) != 0 {
			t.Errorf("the actor was notified: %+v", ns)
		}
	})
	t.Run("own records notify no one", func(t *testing.T) {
		if _, err := e.s.CreateRecord(ctx, e.marc, store.EntTasks, store.Input{Values: map[string]any{"title": "Trucar"}}); err != nil {
			t.Fatal(err)
		}
		if ns := e.notifications(t, e.marc); len(ns) != 0 {
			t.Errorf("marc notified of his own task: %+v", ns)
		}
	})
	t.Run("reassignment notifies the new owner once", func(t *testing.T) {
		r, err := e.s.CreateRecord(ctx, e.admin, store.EntTasks, store.Input{Values: map[string]any{"title": "Enviar oferta"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.UpdateRecord(ctx, e.admin, store.EntTasks, r.ID, store.Input{Values: map[string]any{"assignee_id": e.marc.UserID}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.UpdateRecord(ctx, e.admin, store.EntTasks, r.ID, store.Input{Values: map[string]any{"title": "Enviar oferta revisada"}}); err != nil {
			t.Fatal(err)
		}
		ns := e.notifications(t, e.marc)
		if len(ns) != 1 || ns[0].RecordID != r.ID || ns[0].Entity != store.EntTasks {
			t.Fatalf("marc's notifications: %+v", ns)
		}
	})
	t.Run("users see and mark only their own", func(t *testing.T) {
		lauras := e.notifications(t, e.laura)
		if err := e.s.MarkNotificationsRead(ctx, e.marc, []int64{lauras[0].ID}); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.s.UnreadNotifications(ctx, e.laura); n != 1 {
			t.Errorf("marc marked laura's notification read: unread %d", n)
		}
		if err := e.s.MarkNotificationsRead(ctx, e.laura, nil); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.s.UnreadNotifications(ctx, e.laura); n != 0 {
			t.Errorf("unread after mark all: %d", n)
		}
		if n, _ := e.s.UnreadNotifications(ctx, e.marc); n != 1 {
			t.Errorf("marc's unread changed: %d", n)
		}
		if _, err := e.s.FindNotifications(ctx, store.SystemActor(), store.NotificationFilter{}); store.ErrorCode(err) != store.CodeUnauthorized {
			t.Errorf("system actor listed notifications: %v", err)
		}
	})
}

// TestStore_NotifyMention checks @mentions in notes: matched by e-mail name
// or by name, notified once, never for the writer or for records the person
// cannot see, and e-mail addresses are not mentions.
func TestStore_NotifyMention(t *testing.T) {
	ctx := context.Background()
	e := newNotifEnv(t)
	count := func(a *store.Actor) int { return len(e.notifications(t, a)) }

	acc, err := e.s.CreateRecord(ctx, e.admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Cal Ros", "notes": "Escriu a info@calros.cat"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("an e-mail address is not a mention", func(t *testing.T) {
		if count(e.laura)+count(e.marc) != 0 {
			t.Fatal("e-mail address notified someone")
		}
	})
	t.Run("a new mention notifies once", func(t *testing.T) {
		if _, err := e.s.UpdateRecord(ctx, e.admin, store.EntAccounts, acc.ID, store.Input{Values: map[string]any{"notes": "Escriu a info@calros.cat. @laura.puig, truca'ls."}}); err != nil {
			t.Fatal(err)
		}
		ns := e.notifications(t, e.laura)
		if len(ns) != 1 || ns[0].Kind != store.NotifyMention || !strings.Contains(ns[0].Body, "truca'ls") {
			t.Fatalf("laura's notifications: %+v", ns)
		}
		if title, _ := ns[0].Text(english(t)); title != "Anna Puig mentioned you in “Cal Ros”" {
			t.Errorf("title %q", title)
		}
		if _, err := e.s.UpdateRecord(ctx, e.admin, store.EntAccounts, acc.ID, store.Input{Values: map[string]any{"notes": "Escriu a info@calros.cat. @laura.puig, truca'ls demà."}}); err != nil {
			t.Fatal(err)
		}
		if n := count(e.laura); n != 1 {
			t.Errorf("an edit kept the mention and notified again: %d", n)
		}
	})
	t.Run("by name without spaces or accents, never the writer", func(t *testing.T) {
		if _, err := e.s.UpdateRecord(ctx, e.marc, store.EntContacts, mustContact(t, e.s, e.marc), store.Input{Values: map[string]any{"notes": "Parlat amb @MarcSole i @annapuig"}}); err != nil {
			t.Fatal(err)
		}
		if n := count(e.marc); n != 0 {
			t.Errorf("writer notified of his own mention: %d", n)
		}
		ns := e.notifications(t, e.admin)
		if len(ns) != 1 || ns[0].Kind != store.NotifyMention {
			t.Fatalf("admin's notifications: %+v", ns)
		}
	})
	t.Run("no notification for a record the person cannot see", func(t *testing.T) {
		// Salespeople see only their own activities.
		if _, err := e.s.CreateRecord(ctx, e.admin, store.EntActivities, store.Input{Values: map[string]any{
			"type": "note", "subject": "Reunió", "occurred_at": "2026-03-02T09:00:00Z", "description": "Cal avisar @marc",
		}}); err != nil {
			t.Fatal(err)
		}
		if n := count(e.marc); n != 0 {
			t.Errorf("marc notified of an activity he cannot view: %d", n)
		}
		if _, err := e.s.CreateRecord(ctx, e.marc, store.EntActivities, store.Input{Values: map[string]any{
			"type": "note", "subject": "Visita", "occurred_at": "2026-03-02T09:00:00Z", "description": "Ho sap @anna",
		}}); err != nil {
			t.Fatal(err)
		}
		if n := count(e.admin); n != 2 {
			t.Errorf("admin's notifications after an activity mention: %d, want 2", n)
		}
	})
}

func mustContact(t *testing.T, s *store.Store, a *store.Actor) int64 {
	t.Helper()
	r, err := s.CreateRecord(context.Background(), a, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Joan", "last_name": "Vila"}})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// TestStore_NotificationPrefs checks that each person's channel for a kind
// routes a notification to the bell, the outbox or both.
func TestStore_NotificationPrefs(t *testing.T) {
	ctx := context.Background()
	e := newNotifEnv(t)
	assign := func(name string) {
		t.Helper()
		if _, err := e.s.CreateRecord(ctx, e.admin, store.EntAccounts, store.Input{Values: map[string]any{"name": name, "owner_id": e.laura.UserID}}); err != nil {
			t.Fatal(err)
		}
	}
	prefs, err := e.s.NotificationPrefs(ctx, e.laura)
	if err != nil {
		t.Fatal(err)
	}
	if prefs.Channels[store.NotifyAssigned] != store.ChannelInApp || prefs.Channels[store.NotifyTaskDue] != store.ChannelBoth || prefs.Digest {
		t.Fatalf("defaults: %+v", prefs)
	}
	cases := []struct {
		channel      store.NotifyChannel
		inApp, email int
	}{
		{store.ChannelInApp, 1, 0},
		{store.ChannelEmail, 0, 1},
		{store.ChannelBoth, 1, 1},
	}
	for i, c := range cases {
		t.Run(string(c.channel), func(t *testing.T) {
			if err := e.s.SaveNotificationPrefs(ctx, e.laura, store.NotificationSettings{Channels: map[string]store.NotifyChannel{store.NotifyAssigned: c.channel}}); err != nil {
				t.Fatal(err)
			}
			beforeApp, beforeMail := len(e.notifications(t, e.laura)), len(e.outbox(t, "laura.puig@example.com"))
			assign("Client " + string(rune('A'+i)))
			gotApp := len(e.notifications(t, e.laura)) - beforeApp
			mails := e.outbox(t, "laura.puig@example.com")
			gotMail := len(mails) - beforeMail
			if gotApp != c.inApp || gotMail != c.email {
				t.Fatalf("in-app %d, e-mail %d; want %d, %d", gotApp, gotMail, c.inApp, c.email)
			}
			if gotMail == 1 {
				m := mails[0]
				if want := "Anna Puig te ha asignado «Client " + string(rune('A'+i)) + "»"; m.Subject != want {
					t.Errorf("subject %q, want %q (Laura reads Spanish)", m.Subject, want)
				}
				if m.Entity != store.EntAccounts || m.RecordID == 0 || !strings.Contains(m.Text, "perfil") {
					t.Errorf("mail: %+v", m)
				}
			}
		})
	}
	t.Run("unknown kinds and channels are refused", func(t *testing.T) {
		err := e.s.SaveNotificationPrefs(ctx, e.laura, store.NotificationSettings{Channels: map[string]store.NotifyChannel{"assigned": "sms"}})
		if store.ErrorCode(err) != store.CodeInvalid {
			t.Errorf("bad channel: %v", err)
		}
		err = e.s.SaveNotificationPrefs(ctx, e.laura, store.NotificationSettings{Channels: map[string]store.NotifyChannel{"gossip": "both"}})
		if store.ErrorCode(err) != store.CodeInvalid {
			t.Errorf("bad kind: %v", err)
		}
	})
}

// TestStore_SendDueReminders checks that a task reminder fires at due time
// minus the chosen offset, once per due time, again after the due time
// changes, and never for closed tasks or tasks without a reminder.
func TestStore_SendDueReminders(t *testing.T) {
	ctx := context.Background()
	e := newNotifEnv(t)
	due := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	task, err := e.s.CreateRecord(ctx, e.marc, store.EntTasks, store.Input{Values: map[string]any{"title": "Trucar a Joan", "due_at": due.Format(time.RFC3339), "remind_before": "15m"}})
	if err != nil {
		t.Fatal(err)
	}
	if task.Str("remind_before") != "15m" {
		t.Fatalf("remind_before not stored: %v", task.Values["remind_before"])
	}
	for _, v := range []map[string]any{
		{"title": "Sense recordatori", "due_at": due.Format(time.RFC3339)},
		{"title": "Feta", "due_at": due.Format(time.RFC3339), "remind_before": "1h", "status": "done"},
	} {
		if _, err := e.s.CreateRecord(ctx, e.marc, store.EntTasks, store.Input{Values: v}); err != nil {
			t.Fatal(err)
		}
	}
	send := func(at time.Time) int {
		t.Helper()
		e.set(at)
		n, err := e.s.SendDueReminders(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("not before the reminder time", func(t *testing.T) {
		if n := send(due.Add(-16 * time.Minute)); n != 0 {
			t.Fatalf("sent %d early", n)
		}
	})
	t.Run("fires once, in the app and by e-mail", func(t *testing.T) {
		if n := send(due.Add(-15 * time.Minute)); n != 1 {
			t.Fatalf("sent %d, want 1", n)
		}
		if n := send(due.Add(-10 * time.Minute)); n != 0 {
			t.Fatalf("second call sent %d", n)
		}
		ns := e.notifications(t, e.marc)
		if len(ns) != 1 || ns[0].Kind != store.NotifyTaskDue || ns[0].RecordID != task.ID {
			t.Fatalf("notifications: %+v", ns)
		}
		if title, _ := ns[0].Text(english(t)); title != "Task “Trucar a Joan” is due 2 Mar 2026 10:00" {
			t.Errorf("title %q", title)
		}
		mails := e.outbox(t, "marc@example.com")
		if len(mails) != 1 || !strings.HasPrefix(mails[0].Key, "reminder:") || !strings.Contains(mails[0].Subject, "Trucar a Joan") {
			t.Fatalf("outbox: %+v", mails)
		}
	})
	t.Run("a new due time fires again", func(t *testing.T) {
		newDue := due.Add(2 * time.Hour)
		if _, err := e.s.UpdateRecord(ctx, e.marc, store.EntTasks, task.ID, store.Input{Values: map[string]any{"due_at": newDue.Format(time.RFC3339)}}); err != nil {
			t.Fatal(err)
		}
		if n := send(newDue.Add(-20 * time.Minute)); n != 0 {
			t.Fatalf("sent %d early", n)
		}
		if n := send(newDue.Add(-5 * time.Minute)); n != 1 {
			t.Fatalf("sent %d, want 1", n)
		}
		if n := send(newDue); n != 0 {
			t.Fatalf("sent %d twice", n)
		}
		if got := len(e.outbox(t, "marc@example.com")); got != 2 {
			t.Errorf("outbox rows %d, want 2", got)
		}
	})
}

// TestStore_SendDigests checks the daily digest: from 07:00 company time,
// once per user per day, only for users who asked, in their language.
func TestStore_SendDigests(t *testing.T) {
	ctx := context.Background()
	e := newNotifEnv(t) // company zone: Europe/Madrid (UTC+1 in March)
	for _, a := range []*store.Actor{e.laura, e.marc} {
		for _, v := range []map[string]any{
			{"title": "Avui " + a.Name, "due_at": "2026-03-02T15:00:00Z"},
			{"title": "Ahir " + a.Name, "due_at": "2026-03-01T15:00:00Z"},
			{"title": "Demà " + a.Name, "due_at": "2026-03-03T15:00:00Z"},
		} {
			if _, err := e.s.CreateRecord(ctx, a, store.EntTasks, store.Input{Values: v}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.s.SaveNotificationPrefs(ctx, e.laura, store.NotificationSettings{Digest: true}); err != nil {
		t.Fatal(err)
	}
	digest := func(at string) int {
		t.Helper()
		now, _ := time.Parse(time.RFC3339, at)
		n, err := e.s.SendDigests(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("not before 07:00 local", func(t *testing.T) {
		if n := digest("2026-03-02T05:59:00Z"); n != 0 { // 06:59 in Madrid
			t.Fatalf("sent %d", n)
		}
	})
	t.Run("once per day for opted-in users, in their language", func(t *testing.T) {
		if n := digest("2026-03-02T06:00:00Z"); n != 1 {
			t.Fatalf("sent %d, want 1", n)
		}
		if n := digest("2026-03-02T12:00:00Z"); n != 0 {
			t.Fatalf("sent %d again the same day", n)
		}
		mails := e.outbox(t, "laura.puig@example.com")
		if len(mails) != 1 {
			t.Fatalf("laura's digests: %d", len(mails))
		}
		m := mails[0]
		if m.Subject != "Tus tareas del 02/03/2026" || m.Key != "digest:"+strconv.FormatInt(e.laura.UserID, 10)+":2026-03-02" {
			t.Errorf("subject %q key %q", m.Subject, m.Key)
		}
		if !strings.Contains(m.Text, "Avui Laura Puig") || !strings.Contains(m.Text, "Ahir Laura Puig") || !strings.Contains(m.Text, "(atrasada)") || strings.Contains(m.Text, "Demà") {
			t.Errorf("text:\n%s", m.Text)
		}
		if len(e.outbox(t, "marc@example.com")) != 0 {
			t.Error("marc did not ask for the digest")
		}
	})
	t.Run("next day again", func(t *testing.T) {
		if n := digest("2026-03-03T07:30:00Z"); n != 1 {
			t.Fatalf("sent %d, want 1", n)
		}
	})
}

// TestCatalogs_NotificationKeys checks that the keys the notification
// pages and e-mails build at run time exist in every language.
func TestCatalogs_NotificationKeys(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"notifications.msg.assigned", "notifications.msg.mention", "notifications.msg.task_due", "notifications.email.footer",
		"notifications.digest.subject", "notifications.digest.intro", "notifications.digest.overdue", "field.remind_before"}
	for _, k := range store.NotificationKinds {
		keys = append(keys, "notifications.kind."+k)
	}
	for _, c := range store.NotifyChannels {
		keys = append(keys, "notifications.channel."+string(c))
	}
	for _, o := range store.Picklist("task_reminder") {
		keys = append(keys, "opt.task_reminder."+o.Key)
	}
	for _, l := range i18n.Languages {
		for _, k := range keys {
			if !b.Has(l, k) {
				t.Errorf("key %q missing in %s", k, l)
			}
		}
	}
}
