package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

// emailActivities returns the e-mail activities on a record's timeline.
func emailActivities(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, id int64) []store.TimelineItem {
	t.Helper()
	items, err := s.Timeline(context.Background(), a, e, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.TimelineItem
	for _, it := range items {
		if it.Kind == "activity" && it.Type == "email" {
			out = append(out, it)
		}
	}
	return out
}

func mustRecord(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, vals map[string]any) int64 {
	t.Helper()
	r, err := s.CreateRecord(context.Background(), a, e, store.Input{Values: vals})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func TestStore_LogInboundEmail(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	marc := mustUser(t, s, admin, "marc@example.com", "salesperson")
	pere := mustUser(t, s, admin, "pere@example.com", "salesperson")
	sys := store.SystemActor()
	acc := mustRecord(t, s, admin, store.EntAccounts, map[string]any{"name": "Client SA"})
	laura := mustRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Laura", "last_name": "Vidal", "email": "laura@client.example", "account_id": acc, "owner_id": marc.UserID})
	joan := mustRecord(t, s, admin, store.EntLeads, map[string]any{"first_name": "Joan", "email": "joan@lead.example"})
	gone := mustRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Gone", "email": "gone@client.example"})
	if err := s.DeleteRecord(ctx, admin, store.EntContacts, gone); err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	const box = "imap://dropbox.example/INBOX"

	t.Run("incoming from a contact is logged once on its timeline, owned by its recipient", func(t *testing.T) {
		in := store.InboundEmail{Mailbox: box, UIDValidity: 7, UID: 1, MessageID: "<m1@client.example>",
			From: store.MailAddress{Name: "Laura Vidal", Email: "LAURA@Client.Example"}, To: []store.MailAddress{{Email: "marc@example.com"}},
			Subject: "Pressupost", Text: "Bon dia,\r\nus envio el pressupost.", Date: date}
		m, created, err := s.LogInboundEmail(ctx, sys, in)
		if err != nil || !created {
			t.Fatalf("log: %v created=%v", err, created)
		}
		if m.Status != store.InboundLogged || m.Direction != store.DirectionIn || m.UserID != marc.UserID || m.Text != "" {
			t.Fatalf("message: %+v", m)
		}
		if len(m.Links) != 1 || m.Links[0].Entity != store.EntContacts || m.Links[0].RecordID != laura || m.Links[0].Title != "Laura Vidal" {
			t.Fatalf("links: %+v", m.Links)
		}
		acts := emailActivities(t, s, admin, store.EntContacts, laura)
		if len(acts) != 1 || acts[0].Subject != "Pressupost" || !strings.HasPrefix(acts[0].Detail, "← Laura Vidal <laura@client.example>") || !strings.Contains(acts[0].Detail, "us envio el pressupost.") {
			t.Fatalf("timeline: %+v", acts)
		}
		act, err := s.FindRecord(ctx, admin, store.EntActivities, m.Links[0].ActivityID)
		if err != nil {
			t.Fatal(err)
		}
		if act.Int("account_id") != acc || act.OwnerID != marc.UserID || !act.Time("occurred_at").Equal(date) {
			t.Fatalf("activity: account %d owner %d at %v", act.Int("account_id"), act.OwnerID, act.Time("occurred_at"))
		}
		if len(emailActivities(t, s, admin, store.EntAccounts, acc)) != 1 {
			t.Error("the client's timeline lacks the e-mail")
		}

		// The same message again, by Message-ID (another UID) or by place
		// (the same UID): nothing new.
		in.UID = 2
		if m2, created, err := s.LogInboundEmail(ctx, sys, in); err != nil || created || m2.ID != m.ID {
			t.Fatalf("again by Message-ID: %v created=%v", err, created)
		}
		in.UID, in.MessageID = 1, "<other@client.example>"
		if _, created, err := s.LogInboundEmail(ctx, sys, in); err != nil || created {
			t.Fatalf("again by UID: %v created=%v", err, created)
		}
		if n := len(emailActivities(t, s, admin, store.EntContacts, laura)); n != 1 {
			t.Fatalf("%d activities after reading the message again", n)
		}
		if v, last, err := s.InboundCursor(ctx, sys, box); err != nil || v != 7 || last != 2 {
			t.Fatalf("cursor = %d, %d, %v", v, last, err)
		}
	})

	t.Run("outgoing from a user is logged on each matched recipient", func(t *testing.T) {
		m, created, err := s.LogInboundEmail(ctx, sys, store.InboundEmail{Mailbox: box, UIDValidity: 7, UID: 3, MessageID: "out1@example.com",
			From: store.MailAddress{Email: "Marc@Example.com"}, To: []store.MailAddress{{Name: "Joan", Email: "joan@lead.example"}},
			Cc: []store.MailAddress{{Email: "laura@client.example"}, {Email: "anna@example.com"}}, Subject: "Proposta", Text: "Adjunto la proposta.", Date: date})
		if err != nil || !created {
			t.Fatal(err)
		}
		if m.Status != store.InboundLogged || m.Direction != store.DirectionOut || m.UserID != marc.UserID || len(m.Links) != 2 {
			t.Fatalf("message: %+v", m)
		}
		leadActs := emailActivities(t, s, admin, store.EntLeads, joan)
		if len(leadActs) != 1 || !strings.HasPrefix(leadActs[0].Detail, "→ Joan <joan@lead.example>, laura@client.example, anna@example.com") {
			t.Fatalf("lead timeline: %+v", leadActs)
		}
		if n := len(emailActivities(t, s, admin, store.EntContacts, laura)); n != 2 {
			t.Fatalf("contact has %d e-mails, want 2", n)
		}
	})

	t.Run("forwarded by a user: logged on the original sender", func(t *testing.T) {
		m, _, err := s.LogInboundEmail(ctx, sys, store.InboundEmail{MessageID: "fwd1@example.com",
			From: store.MailAddress{Email: "marc@example.com"}, To: []store.MailAddress{{Email: "dropbox@example.com"}},
			ForwardedFrom: store.MailAddress{Name: "Joan", Email: "joan@lead.example"}, Subject: "Fwd: Dubte", Text: "Una pregunta"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != store.InboundLogged || m.Direction != store.DirectionIn || m.From.Email != "joan@lead.example" || m.UserID != marc.UserID {
			t.Fatalf("message: %+v", m)
		}
	})

	var waiting, other int64
	t.Run("unmatched messages wait; trashed records do not match", func(t *testing.T) {
		m, _, err := s.LogInboundEmail(ctx, sys, store.InboundEmail{Mailbox: box, UIDValidity: 7, UID: 4, MessageID: "u1@client.example",
			From: store.MailAddress{Email: "gone@client.example"}, To: []store.MailAddress{{Email: "marc@example.com"}}, Subject: "Hola", Text: "Text"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != store.InboundUnmatched || m.Text != "Text" || len(m.Links) != 0 || m.UserID != marc.UserID {
			t.Fatalf("message: %+v", m)
		}
		waiting = m.ID
		m2, _, err := s.LogInboundEmail(ctx, sys, store.InboundEmail{MessageID: "u2@nowhere.example",
			From: store.MailAddress{Email: "someone@nowhere.example"}, To: []store.MailAddress{{Email: "marc@example.com"}}, Subject: "Spam"})
		if err != nil {
			t.Fatal(err)
		}
		other = m2.ID
		mine, err := s.FindInbound(ctx, marc, store.InboundFilter{})
		if err != nil || len(mine) != 2 || mine[0].ID != other || mine[1].ID != waiting {
			t.Fatalf("marc's inbox: %v %+v", err, mine)
		}
		if theirs, err := s.FindInbound(ctx, pere, store.InboundFilter{}); err != nil || len(theirs) != 0 {
			t.Fatalf("pere sees %d messages (%v)", len(theirs), err)
		}
		if all, err := s.FindInbound(ctx, admin, store.InboundFilter{}); err != nil || len(all) != 2 {
			t.Fatalf("admin sees %d (%v)", len(all), err)
		}
		if logged, err := s.FindInbound(ctx, admin, store.InboundFilter{Status: store.InboundLogged}); err != nil || len(logged) != 3 {
			t.Fatalf("admin sees %d logged (%v)", len(logged), err)
		}
	})

	t.Run("link: only the message's user or an admin, once", func(t *testing.T) {
		_, err := s.LinkInbound(ctx, pere, waiting, store.EntContacts, laura)
		wantCode(t, err, store.CodeNotFound)
		_, err = s.LinkInbound(ctx, marc, waiting, store.EntContacts, 999999)
		wantCode(t, err, store.CodeNotFound)
		_, err = s.LinkInbound(ctx, marc, waiting, store.EntContacts, gone)
		wantCode(t, err, store.CodeNotFound)
		if got, _ := s.GetInbound(ctx, marc, waiting); got.Status != store.InboundUnmatched || got.Text != "Text" {
			t.Fatalf("a refused link changed the message: %+v", got)
		}
		m, err := s.LinkInbound(ctx, marc, waiting, store.EntContacts, laura)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != store.InboundLogged || len(m.Links) != 1 || m.Links[0].RecordID != laura || m.Text != "" {
			t.Fatalf("linked: %+v", m)
		}
		acts := emailActivities(t, s, admin, store.EntContacts, laura)
		if len(acts) != 3 || acts[0].Subject != "Hola" && acts[1].Subject != "Hola" && acts[2].Subject != "Hola" {
			t.Fatalf("timeline after link: %+v", acts)
		}
		_, err = s.LinkInbound(ctx, marc, waiting, store.EntLeads, joan)
		wantCode(t, err, store.CodeConflict)
		if n := len(emailActivities(t, s, admin, store.EntContacts, laura)); n != 3 {
			t.Fatalf("%d e-mails after a second link", n)
		}
	})

	t.Run("discard: only the message's user or an admin; the body goes", func(t *testing.T) {
		wantCode(t, s.DiscardInbound(ctx, pere, other), store.CodeNotFound)
		if err := s.DiscardInbound(ctx, marc, other); err != nil {
			t.Fatal(err)
		}
		m, err := s.GetInbound(ctx, admin, other)
		if err != nil || m.Status != store.InboundDiscarded || m.Text != "" {
			t.Fatalf("discarded: %v %+v", err, m)
		}
		wantCode(t, s.DiscardInbound(ctx, marc, other), store.CodeConflict)
		_, err = s.LinkInbound(ctx, marc, other, store.EntContacts, laura)
		wantCode(t, err, store.CodeConflict)
		// Read again, it stays discarded.
		if _, created, err := s.LogInboundEmail(ctx, sys, store.InboundEmail{MessageID: "u2@nowhere.example", From: store.MailAddress{Email: "someone@nowhere.example"}}); err != nil || created {
			t.Fatalf("discarded message read again: %v %v", err, created)
		}
	})

	t.Run("only the system and administrators log", func(t *testing.T) {
		_, _, err := s.LogInboundEmail(ctx, marc, store.InboundEmail{MessageID: "x@y.example", From: store.MailAddress{Email: "laura@client.example"}})
		wantCode(t, err, store.CodeForbidden)
		_, _, err = s.InboundCursor(ctx, marc, box)
		wantCode(t, err, store.CodeForbidden)
	})

	t.Run("messy input is cleaned, not refused; no Message-ID is derived", func(t *testing.T) {
		in := store.InboundEmail{From: store.MailAddress{Name: "La\x00ura", Email: "laura@client.example"},
			To:      []store.MailAddress{{Email: "not an address"}, {Email: "marc@example.com"}},
			Subject: "Línia\r\nBcc: x@y.example \xff", Text: strings.Repeat("ç", 60_000), Date: date.Add(time.Hour)}
		m, created, err := s.LogInboundEmail(ctx, sys, in)
		if err != nil || !created {
			t.Fatal(err)
		}
		if !strings.HasSuffix(m.MessageID, "@cartera.inbound") || strings.ContainsAny(m.Subject, "\r\n") || len(m.To) != 1 || m.Status != store.InboundLogged {
			t.Fatalf("message: %q %q %+v %s", m.MessageID, m.Subject, m.To, m.Status)
		}
		if _, created, err := s.LogInboundEmail(ctx, sys, in); err != nil || created {
			t.Fatalf("derived Message-ID did not deduplicate: %v %v", err, created)
		}
	})

	t.Run("a new UIDVALIDITY restarts the cursor", func(t *testing.T) {
		if _, _, err := s.LogInboundEmail(ctx, sys, store.InboundEmail{Mailbox: box, UIDValidity: 8, UID: 1, MessageID: "<m1@client.example>",
			From: store.MailAddress{Email: "laura@client.example"}}); err != nil {
			t.Fatal(err)
		}
		if v, last, err := s.InboundCursor(ctx, sys, box); err != nil || v != 8 || last != 1 {
			t.Fatalf("cursor = %d, %d, %v", v, last, err)
		}
		if n := len(emailActivities(t, s, admin, store.EntContacts, laura)); n != 4 {
			t.Fatalf("contact has %d e-mails, want 4", n)
		}
	})
}
