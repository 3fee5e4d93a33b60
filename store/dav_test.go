package store_test

import (
	"context"
	"testing"
	"time"

	"cartera/store"
)

// TestStore_AddressBook checks which contacts a user's CardDAV address book
// holds per setting, and what phones may do to them.
func TestStore_AddressBook(t *testing.T) {
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "joan@example.com", "salesperson")
	ctx := context.Background()
	mk := func(a *store.Actor, e store.Entity, v map[string]any) *store.Record {
		t.Helper()
		r, err := s.CreateRecord(ctx, a, e, store.Input{Values: v})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	acc := mk(sales, store.EntAccounts, map[string]any{"name": "Ferreteria Puig"})
	own := mk(sales, store.EntContacts, map[string]any{"first_name": "Marta", "email": "marta@example.com"})
	ofAccount := mk(admin, store.EntContacts, map[string]any{"first_name": "Pere", "account_id": acc.ID})
	other := mk(admin, store.EntContacts, map[string]any{"first_name": "Laia"})
	names := func(a *store.Actor) map[string]string {
		t.Helper()
		cards, err := s.AddressBook(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range cards {
			out[c.Name] = c.ETag
		}
		return out
	}
	name := func(r *store.Record) string { return itoaT(r.ID) + ".vcf" }

	t.Run("scopes", func(t *testing.T) {
		for _, tc := range []struct {
			scope string
			want  []*store.Record
		}{
			{store.BookOwn, []*store.Record{own}},
			{store.BookAccounts, []*store.Record{own, ofAccount}},
			{store.BookAll, []*store.Record{own, ofAccount, other}},
		} {
			if err := s.SetSyncSettings(ctx, sales, tc.scope, store.DeleteHide, false); err != nil {
				t.Fatal(err)
			}
			got := names(sales)
			if len(got) != len(tc.want) {
				t.Fatalf("%s: %d cards, want %d", tc.scope, len(got), len(tc.want))
			}
			for _, r := range tc.want {
				if _, ok := got[name(r)]; !ok {
					t.Fatalf("%s: %s missing", tc.scope, name(r))
				}
			}
		}
		wantCode(t, s.SetSyncSettings(ctx, sales, "everyone", store.DeleteHide, false), store.CodeInvalid)
		if st, _ := s.SyncSettings(ctx, sales); st.BookScope != store.BookAll {
			t.Fatal("a refused setting changed the settings")
		}
	})
	t.Run("card carries the client", func(t *testing.T) {
		c, err := s.FindCard(ctx, sales, name(ofAccount))
		if err != nil {
			t.Fatal(err)
		}
		if c.Account == nil || c.Account.Title != "Ferreteria Puig" || c.UID != "urn:cartera:contact:"+itoaT(ofAccount.ID) {
			t.Fatalf("card: %+v", c)
		}
		before := c.ETag
		if _, err := s.UpdateRecord(ctx, sales, store.EntAccounts, acc.ID, store.Input{Values: map[string]any{"name": "Ferreteria Puig SL"}}); err != nil {
			t.Fatal(err)
		}
		if after := names(sales)[name(ofAccount)]; after == before {
			t.Fatal("renaming the client kept the card's ETag")
		}
	})
	t.Run("put", func(t *testing.T) {
		c, _ := s.FindCard(ctx, sales, name(own))
		in := store.CardInput{FirstName: "Marta", LastName: "Vidal", Email: "marta@example.com", Mobile: "+34 600 000 000"}
		_, _, err := s.PutCard(ctx, sales, name(own), in, store.CardConditions{IfMatch: "99-0"})
		wantCode(t, err, store.CodeConflict)
		_, _, err = s.PutCard(ctx, sales, name(own), in, store.CardConditions{IfNoneMatch: true})
		wantCode(t, err, store.CodeConflict)
		got, _ := s.FindRecord(ctx, sales, store.EntContacts, own.ID)
		if got.Str("last_name") != "" {
			t.Fatal("a refused PUT changed the contact")
		}
		if _, created, err := s.PutCard(ctx, sales, name(own), in, store.CardConditions{IfMatch: c.ETag}); err != nil || created {
			t.Fatalf("PUT with the right ETag: %v created=%v", err, created)
		}
		got, _ = s.FindRecord(ctx, sales, store.EntContacts, own.ID)
		if got.Str("last_name") != "Vidal" || got.Str("mobile") != "+34 600 000 000" {
			t.Fatalf("contact after PUT: %v", got.Values)
		}
		// The salesperson may view but not edit the admin's contact.
		_, _, err = s.PutCard(ctx, sales, name(other), store.CardInput{FirstName: "X"}, store.CardConditions{})
		wantCode(t, err, store.CodeForbidden)
		// Bad input changes nothing.
		_, _, err = s.PutCard(ctx, sales, name(own), store.CardInput{Email: "not an e-mail"}, store.CardConditions{})
		wantCode(t, err, store.CodeInvalid)
		// A new card creates a contact owned by the phone's user, once.
		card, created, err := s.PutCard(ctx, sales, "abc-123.vcf", store.CardInput{FirstName: "Nou", UID: "abc-123"}, store.CardConditions{IfNoneMatch: true})
		if err != nil || !created || card.UID != "abc-123" || card.Contact.OwnerID != sales.UserID {
			t.Fatalf("create: %v %v %+v", err, created, card)
		}
		_, _, err = s.PutCard(ctx, sales, "abc-123.vcf", store.CardInput{FirstName: "Nou"}, store.CardConditions{IfNoneMatch: true})
		wantCode(t, err, store.CodeConflict)
		if _, err := s.FindCard(ctx, sales, itoaT(card.Contact.ID)+".vcf"); store.ErrorCode(err) != store.CodeNotFound {
			t.Fatal("a phone-made contact also answers at its id name")
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := s.SetSyncSettings(ctx, sales, store.BookAll, store.DeleteRefuse, false); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.DeleteCard(ctx, sales, name(other)), store.CodeForbidden)
		if err := s.SetSyncSettings(ctx, sales, store.BookAll, store.DeleteHide, false); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCard(ctx, sales, name(other)); err != nil {
			t.Fatal(err)
		}
		if _, ok := names(sales)[name(other)]; ok {
			t.Fatal("hidden contact still in the address book")
		}
		if _, err := s.FindRecord(ctx, admin, store.EntContacts, other.ID); err != nil {
			t.Fatal("hiding deleted the CRM contact")
		}
		if _, ok := names(admin)[name(other)]; !ok {
			t.Fatal("hiding on one user's phone hid it for another")
		}
		// Re-sending a hidden card never makes a second copy.
		_, _, err := s.PutCard(ctx, sales, name(other), store.CardInput{FirstName: "Laia"}, store.CardConditions{})
		wantCode(t, err, store.CodeForbidden)
		if st, _ := s.SyncSettings(ctx, sales); st.Hidden != 1 {
			t.Fatalf("hidden count %d", st.Hidden)
		}
		if err := s.SetSyncSettings(ctx, sales, store.BookAll, store.DeleteHide, true); err != nil {
			t.Fatal(err)
		}
		if _, ok := names(sales)[name(other)]; !ok {
			t.Fatal("show hidden did not put the contact back")
		}
	})
}

// TestStore_Calendar checks the calendar's items, period and scope, and the
// feed secret's life.
func TestStore_Calendar(t *testing.T) {
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "joan@example.com", "salesperson")
	ctx := context.Background()
	at := time.Date(2031, 5, 6, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		a *store.Actor
		e store.Entity
		v map[string]any
	}{
		{admin, store.EntTasks, map[string]any{"title": "Admin task", "due_at": at}},
		{sales, store.EntTasks, map[string]any{"title": "Sales task", "due_at": at}},
		{sales, store.EntActivities, map[string]any{"type": "call", "subject": "Sales call", "occurred_at": at.Add(time.Hour)}},
		{sales, store.EntActivities, map[string]any{"type": "note", "subject": "Sales note", "occurred_at": at}},
		{sales, store.EntTasks, map[string]any{"title": "Next month", "due_at": at.AddDate(0, 1, 0)}},
	} {
		if _, err := s.CreateRecord(ctx, c.a, c.e, store.Input{Values: c.v}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("items", func(t *testing.T) {
		items, err := s.Calendar(ctx, sales, store.CalendarQuery{From: at.AddDate(0, 0, -1), To: at.AddDate(0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 || items[0].Title != "Sales task" || items[1].Title != "Sales call" || !items[0].Editable {
			t.Fatalf("items: %+v", items)
		}
		_, err = s.Calendar(ctx, sales, store.CalendarQuery{From: at, To: at})
		wantCode(t, err, store.CodeInvalid)
	})
	t.Run("feed secret", func(t *testing.T) {
		secret, err := s.CreateFeedSecret(ctx, sales)
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.FeedActor(ctx, secret)
		if err != nil || a.UserID != sales.UserID {
			t.Fatalf("feed actor: %v %v", a, err)
		}
		if err := s.RevokeFeedSecret(ctx, sales); err != nil {
			t.Fatal(err)
		}
		_, err = s.FeedActor(ctx, secret)
		wantCode(t, err, store.CodeNotFound)
	})
}
