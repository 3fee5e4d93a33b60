package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"cartera/store"
)

// deliveryEvents lists a subscription's queued event types, oldest first.
func deliveryEvents(t *testing.T, s *store.Store, a *store.Actor, hook int64) []string {
	t.Helper()
	ds, err := s.FindWebhookDeliveries(context.Background(), a, hook, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for i := len(ds) - 1; i >= 0; i-- {
		out = append(out, ds[i].Event)
	}
	return out
}

func TestStore_Webhooks(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clock.Now})
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")

	t.Run("only admins subscribe, with known events and a valid URL", func(t *testing.T) {
		_, err := s.CreateWebhook(ctx, sales, store.WebhookInput{URL: "https://example.com/h", Events: []string{"contact.created"}})
		wantCode(t, err, store.CodeForbidden)
		_, err = s.CreateWebhook(ctx, admin, store.WebhookInput{URL: "https://example.com/h", Events: []string{"contact.exploded"}})
		wantField(t, err, "events")
		_, err = s.CreateWebhook(ctx, admin, store.WebhookInput{URL: "ftp://example.com/h", Events: []string{"contact.created"}})
		wantField(t, err, "url")
		_, err = s.CreateWebhook(ctx, admin, store.WebhookInput{URL: "https://example.com/h", Events: []string{"contact.created"}, Secret: "short"})
		wantField(t, err, "secret")
		hooks, _ := s.FindWebhooks(ctx, admin)
		if len(hooks) != 0 {
			t.Fatalf("a refused subscription was stored: %v", hooks)
		}
	})

	t.Run("the installed guard's refusal names its reason", func(t *testing.T) {
		s.SetURLChecker(func(ctx context.Context, raw string) error { return refusedForTest{} })
		defer s.SetURLChecker(nil)
		_, err := s.CreateWebhook(ctx, admin, store.WebhookInput{URL: "http://169.254.169.254/", Events: []string{"contact.created"}})
		se := store.AsError(err)
		if se.Code != store.CodeInvalid || se.Fields["url"] != "webhooks.refused.link_local" {
			t.Fatalf("err = %v", err)
		}
	})

	hook, err := s.CreateWebhook(ctx, admin, store.WebhookInput{URL: "https://example.com/hook", Events: []string{
		"contact.created", "contact.updated", "contact.deleted", "opportunity.stage_changed", "opportunity.won", "case.status_changed"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hook.Secret) < 20 {
		t.Fatalf("secret %q", hook.Secret)
	}

	t.Run("record changes queue their events in the same transaction", func(t *testing.T) {
		c, err := s.CreateRecord(ctx, sales, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Marta", "last_name": "Vila"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateRecord(ctx, sales, store.EntContacts, c.ID, store.Input{Values: map[string]any{"phone": "+34 600 000 000"}}); err != nil {
			t.Fatal(err)
		}
		// No change, no event.
		if _, err := s.UpdateRecord(ctx, sales, store.EntContacts, c.ID, store.Input{Values: map[string]any{"phone": "+34 600 000 000"}}); err != nil {
			t.Fatal(err)
		}
		// A refused change queues nothing.
		if _, err := s.UpdateRecord(ctx, sales, store.EntContacts, c.ID, store.Input{Values: map[string]any{"email": "not an address"}}); err == nil {
			t.Fatal("bad e-mail accepted")
		}
		if err := s.DeleteRecord(ctx, admin, store.EntContacts, c.ID); err != nil {
			t.Fatal(err)
		}
		acc, _ := s.CreateRecord(ctx, sales, store.EntAccounts, store.Input{Values: map[string]any{"name": "Fusteria Pons"}})
		o, err := s.CreateRecord(ctx, sales, store.EntOpportunities, store.Input{Values: map[string]any{"name": "Taules", "account_id": acc.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateRecord(ctx, sales, store.EntOpportunities, o.ID, store.Input{Values: map[string]any{"stage": "won"}}); err != nil {
			t.Fatal(err)
		}
		got := deliveryEvents(t, s, admin, hook.ID)
		want := []string{"contact.created", "contact.updated", "contact.deleted", "opportunity.stage_changed", "opportunity.won"}
		if len(got) != len(want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("events %v, want %v", got, want)
			}
		}
		ds, _ := s.FindWebhookDeliveries(ctx, admin, hook.ID, 0, 10)
		var body struct {
			ID, Type, Time string
			Data           struct {
				Entity   string
				Record   map[string]any
				Previous map[string]any
			}
		}
		if err := json.Unmarshal([]byte(ds[0].Body), &body); err != nil {
			t.Fatal(err)
		}
		if body.Type != "opportunity.won" || body.Data.Entity != "opportunities" || body.Data.Record["stage"] != "won" || body.Data.Previous["stage"] != "reception" {
			t.Fatalf("payload %s", ds[0].Body)
		}
		if ds[0].EventID == ds[1].EventID || ds[0].Status != store.DeliveryPending || !ds[0].ExpiresAt.Equal(ds[0].CreatedAt.Add(24*time.Hour)) {
			t.Fatalf("delivery %+v", ds[0])
		}
	})

	t.Run("retries back off and stop after 24 hours", func(t *testing.T) {
		if got := []time.Duration{store.WebhookBackoff(1), store.WebhookBackoff(2), store.WebhookBackoff(3), store.WebhookBackoff(20)}; got[0] != 30*time.Second || got[1] != time.Minute || got[2] != 2*time.Minute || got[3] != 2*time.Hour {
			t.Fatalf("backoff %v", got)
		}
		attempts := 0
		for range 40 {
			ds, err := s.ClaimWebhookDeliveries(ctx, clock.Now(), time.Minute, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				attempts++
				if err := s.RecordWebhookAttempt(ctx, d.ID, store.WebhookOutcome{At: clock.Now(), Status: 503, Duration: 12 * time.Millisecond, Error: "HTTP 503"}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(time.Hour)
		}
		ds, _ := s.FindWebhookDeliveries(ctx, admin, hook.ID, 0, 10)
		for _, d := range ds {
			if d.Status != store.DeliveryFailed || d.LastStatus != 503 || len(d.Log) < 10 || d.Log[0].Duration != 12*time.Millisecond {
				t.Fatalf("delivery %d: %s after %d attempts (last %d)", d.ID, d.Status, len(d.Log), d.LastStatus)
			}
			if last := d.Log[len(d.Log)-1].At; last.After(d.ExpiresAt) {
				t.Fatalf("attempt at %v after the window %v", last, d.ExpiresAt)
			}
		}
	})

	t.Run("resend queues the same event again", func(t *testing.T) {
		ds, _ := s.FindWebhookDeliveries(ctx, admin, hook.ID, 0, 1)
		nd, err := s.ResendWebhookDelivery(ctx, admin, hook.ID, ds[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if nd.EventID != ds[0].EventID || nd.Body != ds[0].Body || nd.Status != store.DeliveryPending || nd.ResentFrom != ds[0].ID {
			t.Fatalf("resent %+v", nd)
		}
		_, err = s.ResendWebhookDelivery(ctx, sales, hook.ID, ds[0].ID)
		wantCode(t, err, store.CodeForbidden)
		_, err = s.ResendWebhookDelivery(ctx, admin, hook.ID+1, ds[0].ID)
		wantCode(t, err, store.CodeNotFound)
	})

	t.Run("without subscriptions nothing is queued", func(t *testing.T) {
		if err := s.DeleteWebhook(ctx, admin, hook.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateRecord(ctx, sales, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Soler"}}); err != nil {
			t.Fatal(err)
		}
		ds, err := s.ClaimWebhookDeliveries(ctx, clock.Now(), time.Minute, 100)
		if err != nil || len(ds) != 0 {
			t.Fatalf("claimed %d, %v", len(ds), err)
		}
	})
}

// refusedForTest is a refusal as the outbound guard reports one.
type refusedForTest struct{}

func (refusedForTest) Error() string         { return "refused: 169.254.169.254 is a link-local address" }
func (refusedForTest) RefusalReason() string { return "link_local" }

func TestStore_ExternalIDs(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
	other := mustUser(t, s, admin, "other@example.com", "salesperson")

	t.Run("first call creates, the next updates, a repeat changes nothing", func(t *testing.T) {
		r, created, err := s.UpsertByExternalID(ctx, sales, store.EntAccounts, "erp", "C-001", store.Input{Values: map[string]any{"name": "Forns Bertran"}})
		if err != nil || !created {
			t.Fatalf("created %v, %v", created, err)
		}
		if r.ExternalIDs["erp"] != "C-001" {
			t.Fatalf("external ids %v", r.ExternalIDs)
		}
		r2, created, err := s.UpsertByExternalID(ctx, sales, store.EntAccounts, "erp", "C-001", store.Input{Values: map[string]any{"name": "Forns Bertran SL"}})
		if err != nil || created || r2.ID != r.ID || r2.Str("name") != "Forns Bertran SL" {
			t.Fatalf("update: %v %v %+v", created, err, r2)
		}
		r3, _, err := s.UpsertByExternalID(ctx, sales, store.EntAccounts, "erp", "C-001", store.Input{Values: map[string]any{"name": "Forns Bertran SL"}})
		if err != nil || r3.Version != r2.Version {
			t.Fatalf("idempotent repeat changed the version: %d → %d (%v)", r2.Version, r3.Version, err)
		}
		// Another system's id is separate.
		r4, created, err := s.UpsertByExternalID(ctx, sales, store.EntAccounts, "shop", "C-001", store.Input{Values: map[string]any{"name": "Botiga"}})
		if err != nil || !created || r4.ID == r.ID {
			t.Fatalf("shop: %v %v", created, err)
		}
	})
	t.Run("validation and permissions are those of create and update", func(t *testing.T) {
		_, _, err := s.UpsertByExternalID(ctx, sales, store.EntAccounts, "erp", "C-002", store.Input{Values: map[string]any{}})
		wantField(t, err, "name")
		_, _, err = s.UpsertByExternalID(ctx, sales, store.EntAccounts, "ERP system", "C-002", store.Input{Values: map[string]any{"name": "x"}})
		wantField(t, err, "system")
		_, _, err = s.UpsertByExternalID(ctx, sales, store.EntTasks, "erp", "T-1", store.Input{Values: map[string]any{"title": "x"}})
		wantCode(t, err, store.CodeNotFound)
		// Someone else's record, out of the sales role's own scope.
		_, _, err = s.UpsertByExternalID(ctx, other, store.EntAccounts, "erp", "C-001", store.Input{Values: map[string]any{"name": "Stolen"}})
		if code := store.ErrorCode(err); code != store.CodeNotFound && code != store.CodeForbidden {
			t.Fatalf("other's record: %v", err)
		}
		n, _ := s.CountRecords(ctx, admin, store.EntAccounts, store.Filter{})
		if n != 2 {
			t.Fatalf("%d accounts after refused upserts", n)
		}
	})
	t.Run("a stale version is a conflict and changes nothing", func(t *testing.T) {
		r, _, _ := s.UpsertByExternalID(ctx, sales, store.EntAccounts, "erp", "C-001", store.Input{})
		_, _, err := s.UpsertByExternalID(ctx, sales, store.EntAccounts, "erp", "C-001", store.Input{Version: r.Version - 1, Values: map[string]any{"name": "Old"}})
		wantCode(t, err, store.CodeConflict)
		err = s.DeleteRecordVersion(ctx, admin, store.EntAccounts, r.ID, r.Version-1)
		wantCode(t, err, store.CodeConflict)
		if err := s.DeleteRecordVersion(ctx, admin, store.EntAccounts, r.ID, r.Version); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an id whose record is in the trash goes to a new record", func(t *testing.T) {
		r, created, err := s.UpsertByExternalID(ctx, sales, store.EntAccounts, "erp", "C-001", store.Input{Values: map[string]any{"name": "Forns Bertran (nou)"}})
		if err != nil || !created || r.ExternalIDs["erp"] != "C-001" {
			t.Fatalf("%v %v %+v", created, err, r)
		}
	})
}
