package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cartera/store"
)

// TestStore_Outbox covers the outbox: one row per idempotency key, leases
// claimed once and reclaimed when expired, backoff and the attempt cap,
// admin retry/cancel, and refusal of CR/LF in headers.
func TestStore_Outbox(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "cartera.db"), PasswordMemoryKiB: 64, PasswordTime: 1, Now: clock, MailDomain: "crm.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "marc@example.com", "salesperson")
	mail := func(key string) store.OutgoingEmail {
		return store.OutgoingEmail{Key: key, To: "laura@example.com", ToName: "Laura García", ReplyTo: "anna@example.com", Subject: "Hola", Text: "Bon dia"}
	}

	t.Run("idempotency key queues one row with a derived Message-ID", func(t *testing.T) {
		m1, err := s.QueueEmail(ctx, admin, mail("k1"))
		if err != nil {
			t.Fatal(err)
		}
		m2, err := s.QueueEmail(ctx, admin, mail("k1"))
		if err != nil {
			t.Fatal(err)
		}
		if m1.ID != m2.ID {
			t.Fatalf("two rows for one key: %d, %d", m1.ID, m2.ID)
		}
		if want := store.MessageIDFor("k1", "crm.example.com"); m1.MessageID != want || !strings.HasSuffix(want, "@crm.example.com") || len(want) != 32+len("@crm.example.com") {
			t.Errorf("message id %q, want %q", m1.MessageID, want)
		}
		if m1.Status != store.OutboxPending || m1.CreatedBy != admin.UserID {
			t.Errorf("queued row: %+v", m1)
		}
		list, err := s.FindOutbox(ctx, admin, store.OutboxFilter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v %d", err, len(list))
		}
		if err := s.CancelOutbox(ctx, admin, m1.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("CR/LF refused in addresses, names and subjects", func(t *testing.T) {
		bad := []store.OutgoingEmail{
			{Key: "b1", To: "laura@example.com", Subject: "Hola\r\nBcc: x@y.com", Text: "x"},
			{Key: "b2", To: "laura@example.com\r\nBcc: x@y.com", Subject: "Hola", Text: "x"},
			{Key: "b3", To: "laura@example.com", ToName: "Laura\nBcc: x@y.com", Subject: "Hola", Text: "x"},
			{Key: "b4", To: "laura@example.com", ReplyTo: "a@b.com\rBcc: x@y.com", Subject: "Hola", Text: "x"},
		}
		for _, e := range bad {
			_, err := s.QueueEmail(ctx, admin, e)
			if store.ErrorCode(err) != store.CodeInvalid {
				t.Errorf("%s: err %v, want invalid", e.Key, err)
			}
		}
		if list, _ := s.FindOutbox(ctx, admin, store.OutboxFilter{Status: store.OutboxPending}); len(list) != 0 {
			t.Errorf("refused messages queued: %d", len(list))
		}
	})

	t.Run("salesperson cannot queue or list", func(t *testing.T) {
		if _, err := s.QueueEmail(ctx, sales, mail("s1")); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("queue: %v", err)
		}
		if _, err := s.FindOutbox(ctx, sales, store.OutboxFilter{}); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("find: %v", err)
		}
	})

	t.Run("claim leases each row once; expired lease is reclaimed", func(t *testing.T) {
		a, _ := s.QueueEmail(ctx, admin, mail("c1"))
		b, _ := s.QueueEmail(ctx, admin, mail("c2"))
		var wg sync.WaitGroup
		got := make([][]*store.OutboxMessage, 4)
		for i := range got {
			wg.Go(func() {
				c, err := s.ClaimOutbox(ctx, clock(), time.Minute, 10)
				if err != nil {
					t.Error(err)
				}
				got[i] = c
			})
		}
		wg.Wait()
		seen := map[int64]int{}
		for _, c := range got {
			for _, m := range c {
				seen[m.ID]++
				if m.Status != store.OutboxSending || m.Attempts != 1 || !m.LeaseUntil.Equal(clock().Add(time.Minute)) {
					t.Errorf("claimed row: %+v", m)
				}
			}
		}
		if len(seen) != 2 || seen[a.ID] != 1 || seen[b.ID] != 1 {
			t.Fatalf("claims: %v", seen)
		}
		if c, _ := s.ClaimOutbox(ctx, clock(), time.Minute, 10); len(c) != 0 {
			t.Errorf("leased rows claimed again: %d", len(c))
		}
		advance(2 * time.Minute)
		c, err := s.ClaimOutbox(ctx, clock(), time.Minute, 10)
		if err != nil || len(c) != 2 || c[0].Attempts != 2 {
			t.Fatalf("expired leases not reclaimed: %v %d", err, len(c))
		}
		if err := s.MarkSent(ctx, a.ID, clock()); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkFailed(ctx, b.ID, true, "550 no such user", clock()); err != nil {
			t.Fatal(err)
		}
		ma, _ := s.GetOutbox(ctx, admin, a.ID)
		mb, _ := s.GetOutbox(ctx, admin, b.ID)
		if ma.Status != store.OutboxSent || !ma.SentAt.Equal(clock()) || mb.Status != store.OutboxFailed || mb.LastError != "550 no such user" {
			t.Errorf("after marks: %+v %+v", ma, mb)
		}
		advance(time.Hour)
		if c, _ := s.ClaimOutbox(ctx, clock(), time.Minute, 10); len(c) != 0 {
			t.Errorf("sent or failed rows claimed: %d", len(c))
		}
		if err := s.RetryOutbox(ctx, admin, b.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RetryOutbox(ctx, admin, a.ID); store.ErrorCode(err) != store.CodeConflict {
			t.Errorf("retry of a sent message: %v", err)
		}
		c, _ = s.ClaimOutbox(ctx, clock(), time.Minute, 10)
		if len(c) != 1 || c[0].ID != b.ID || c[0].Attempts != 1 {
			t.Fatalf("retried row not claimed afresh: %+v", c)
		}
		s.MarkSent(ctx, b.ID, clock())
	})

	t.Run("temporary failures back off, then fail after the cap", func(t *testing.T) {
		want := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 6 * time.Hour}
		for i, w := range want {
			if got := store.OutboxBackoff(i + 1); got != w {
				t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
			}
		}
		m, _ := s.QueueEmail(ctx, admin, mail("t1"))
		for attempt := 1; attempt <= store.MaxOutboxAttempts; attempt++ {
			c, err := s.ClaimOutbox(ctx, clock(), time.Minute, 10)
			if err != nil || len(c) != 1 || c[0].Attempts != attempt {
				t.Fatalf("attempt %d: %v %+v", attempt, err, c)
			}
			next := clock().Add(store.OutboxBackoff(attempt))
			if err := s.MarkFailed(ctx, m.ID, false, "421 try later", next); err != nil {
				t.Fatal(err)
			}
			got, _ := s.GetOutbox(ctx, admin, m.ID)
			if attempt < store.MaxOutboxAttempts {
				if got.Status != store.OutboxPending || !got.NextAttemptAt.Equal(next) {
					t.Fatalf("attempt %d: %+v", attempt, got)
				}
				advance(store.OutboxBackoff(attempt) - time.Second)
				if c, _ := s.ClaimOutbox(ctx, clock(), time.Minute, 10); len(c) != 0 {
					t.Fatalf("attempt %d: claimed before its backoff", attempt)
				}
				advance(time.Second)
			} else if got.Status != store.OutboxFailed {
				t.Fatalf("after %d attempts: %s", attempt, got.Status)
			}
		}
	})

	t.Run("a message whose every attempt crashed ends failed", func(t *testing.T) {
		m, _ := s.QueueEmail(ctx, admin, mail("crashy"))
		for attempt := 1; attempt <= store.MaxOutboxAttempts; attempt++ {
			c, err := s.ClaimOutbox(ctx, clock(), time.Minute, 10)
			if err != nil || len(c) != 1 || c[0].Attempts != attempt {
				t.Fatalf("attempt %d: %v %+v", attempt, err, c)
			}
			advance(2 * time.Minute) // the sender dies; the lease expires
		}
		if c, _ := s.ClaimOutbox(ctx, clock(), time.Minute, 10); len(c) != 0 {
			t.Fatalf("claimed after %d crashed attempts", store.MaxOutboxAttempts)
		}
		if got, _ := s.GetOutbox(ctx, admin, m.ID); got.Status != store.OutboxFailed || got.LastError == "" {
			t.Errorf("not failed: %+v", got)
		}
	})
}
