package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// TestStore_OutboxInTransaction checks that enqueueEmail joins the caller's
// transaction: a refused change leaves no e-mail behind, a committed one
// leaves exactly one per key.
func TestStore_OutboxInTransaction(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "cartera.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sys := SystemActor()
	e := OutgoingEmail{Key: "rule:1:2:3", To: "laura@example.com", Subject: "Seguiment", Text: "Hola"}
	count := func() (n int) {
		s.w.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n)
		return n
	}

	t.Run("rolled back with the change", func(t *testing.T) {
		err := s.write(ctx, func(tx *sql.Tx) error {
			if _, _, err := s.enqueueEmail(ctx, tx, sys, e); err != nil {
				return err
			}
			return errors.New("the change itself failed")
		})
		if err == nil || count() != 0 {
			t.Fatalf("err %v, %d rows", err, count())
		}
	})
	t.Run("committed once per key", func(t *testing.T) {
		for i := range 2 {
			err := s.write(ctx, func(tx *sql.Tx) error {
				_, created, err := s.enqueueEmail(ctx, tx, sys, e)
				if created != (i == 0) {
					t.Errorf("run %d: created %v", i, created)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if count() != 1 {
			t.Fatalf("%d rows", count())
		}
	})
}
