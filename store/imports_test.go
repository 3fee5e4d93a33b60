package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"cartera/store"
)

func contactRow(line int, first, last, email string) store.ImportRow {
	return store.ImportRow{Line: line, Match: email, Input: store.Input{Values: map[string]any{"first_name": first, "last_name": last, "email": email}}}
}

func mustStartImport(t *testing.T, s *store.Store, a *store.Actor, policy store.ImportPolicy) *store.Import {
	t.Helper()
	imp, err := s.StartImport(context.Background(), a, store.ImportSpec{Entity: store.EntContacts, FileName: "clients.csv", Policy: policy, MatchOn: "email"})
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

func countContacts(t *testing.T, s *store.Store, a *store.Actor) int64 {
	t.Helper()
	n, err := s.CountRecords(context.Background(), a, store.EntContacts, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStore_ImportBatch covers the duplicate policies, the dry run,
// all-or-nothing batches, skipping invalid rows and undo.
func TestStore_ImportBatch(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*store.Store, *store.Actor, *store.Record) {
		s := mustOpenStore(t)
		admin := mustSetup(t, s)
		laura, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Laura", "email": "laura@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		return s, admin, laura
	}
	rows := []store.ImportRow{
		contactRow(2, "Laura", "García", "LAURA@example.com"),
		contactRow(3, "Joan", "Pérez", "joan@example.com"),
		contactRow(4, "Joan", "Pèrez", "joan@example.com"), // a twin inside the file
	}
	t.Run("dry run reports and applies nothing", func(t *testing.T) {
		s, admin, _ := setup(t)
		imp := mustStartImport(t, s, admin, store.PolicySkip)
		res, err := s.ImportBatch(ctx, admin, imp.ID, rows, true, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != 2 || res.Created != 1 || res.Rows[0].Action != "skipped" || res.Rows[1].Action != "created" {
			t.Errorf("dry run: %+v", res)
		}
		if n := countContacts(t, s, admin); n != 1 {
			t.Errorf("contacts after a dry run = %d", n)
		}
	})
	t.Run("skip", func(t *testing.T) {
		s, admin, laura := setup(t)
		imp := mustStartImport(t, s, admin, store.PolicySkip)
		res, err := s.ImportBatch(ctx, admin, imp.ID, rows, false, false)
		if err != nil || res.Created != 1 || res.Skipped != 2 {
			t.Fatalf("%v %+v", err, res)
		}
		got, _ := s.FindRecord(ctx, admin, store.EntContacts, laura.ID)
		if got.Str("last_name") != "" {
			t.Error("skipped record changed")
		}
	})
	t.Run("fill empty fields, then undo", func(t *testing.T) {
		s, admin, laura := setup(t)
		imp := mustStartImport(t, s, admin, store.PolicyFill)
		fill := []store.ImportRow{{Line: 2, Match: "laura@example.com", Input: store.Input{Values: map[string]any{"first_name": "Laia", "last_name": "García", "email": "laura@example.com"}}}}
		if _, err := s.ImportBatch(ctx, admin, imp.ID, fill, false, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishImport(ctx, admin, imp.ID, ""); err != nil {
			t.Fatal(err)
		}
		got, _ := s.FindRecord(ctx, admin, store.EntContacts, laura.ID)
		if got.Str("first_name") != "Laura" || got.Str("last_name") != "García" {
			t.Errorf("fill: %q %q", got.Str("first_name"), got.Str("last_name"))
		}
		res, err := s.UndoImport(ctx, admin, imp.ID)
		if err != nil || res.Restored != 1 {
			t.Fatalf("undo: %v %+v", err, res)
		}
		got, _ = s.FindRecord(ctx, admin, store.EntContacts, laura.ID)
		if got.Str("last_name") != "" || got.Str("first_name") != "Laura" {
			t.Errorf("after undo: %q %q", got.Str("first_name"), got.Str("last_name"))
		}
	})
	t.Run("overwrite", func(t *testing.T) {
		s, admin, laura := setup(t)
		imp := mustStartImport(t, s, admin, store.PolicyOverwrite)
		if _, err := s.ImportBatch(ctx, admin, imp.ID, rows[:1], false, false); err != nil {
			t.Fatal(err)
		}
		got, _ := s.FindRecord(ctx, admin, store.EntContacts, laura.ID)
		if got.Str("last_name") != "García" || got.Str("email") != "LAURA@example.com" {
			t.Errorf("overwrite: %q %q", got.Str("last_name"), got.Str("email"))
		}
	})
	t.Run("create anyway", func(t *testing.T) {
		s, admin, _ := setup(t)
		imp := mustStartImport(t, s, admin, store.PolicyCreate)
		res, err := s.ImportBatch(ctx, admin, imp.ID, rows, false, false)
		if err != nil || res.Created != 3 {
			t.Fatalf("%v %+v", err, res)
		}
	})
	bad := append(append([]store.ImportRow(nil), rows...), contactRow(5, "Pere", "Puig", "pere@"))
	t.Run("a bad row stops the batch and a failed import takes back earlier batches", func(t *testing.T) {
		s, admin, _ := setup(t)
		imp := mustStartImport(t, s, admin, store.PolicySkip)
		if _, err := s.ImportBatch(ctx, admin, imp.ID, []store.ImportRow{contactRow(2, "Anna", "Serra", "anna@example.com")}, false, false); err != nil {
			t.Fatal(err)
		}
		res, err := s.ImportBatch(ctx, admin, imp.ID, bad, false, false)
		if !errors.Is(err, store.ErrRowsFailed) || res.Failed != 1 || res.Rows[3].Errors[0].Field != "email" || res.Rows[3].Errors[0].Line != 5 {
			t.Fatalf("%v %+v", err, res)
		}
		if n := countContacts(t, s, admin); n != 2 {
			t.Errorf("contacts = %d, want 2 (Laura and the first batch's Anna)", n)
		}
		got, err := s.FinishImport(ctx, admin, imp.ID, "import.error.rows_failed")
		if err != nil || got.Status != "failed" {
			t.Fatalf("finish: %v %+v", err, got)
		}
		if n := countContacts(t, s, admin); n != 1 {
			t.Errorf("contacts after the failed import = %d, want 1", n)
		}
	})
	t.Run("skip invalid rows", func(t *testing.T) {
		s, admin, _ := setup(t)
		imp := mustStartImport(t, s, admin, store.PolicySkip)
		res, err := s.ImportBatch(ctx, admin, imp.ID, bad, false, true)
		if err != nil || res.Failed != 1 || res.Created != 1 {
			t.Fatalf("%v %+v", err, res)
		}
		got, _ := s.FindImport(ctx, admin, imp.ID)
		if got.Failed != 1 || len(got.Errors) != 1 || got.Errors[0].Key != "error.email" {
			t.Errorf("kept errors: %+v", got.Errors)
		}
	})
	t.Run("undo after create leaves records edited since", func(t *testing.T) {
		s, admin, _ := setup(t)
		imp := mustStartImport(t, s, admin, store.PolicySkip)
		res, err := s.ImportBatch(ctx, admin, imp.ID, []store.ImportRow{contactRow(2, "Anna", "Serra", "anna@example.com"), contactRow(3, "Biel", "Roca", "biel@example.com")}, false, false)
		if err != nil {
			t.Fatal(err)
		}
		s.FinishImport(ctx, admin, imp.ID, "")
		if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, res.Rows[1].RecordID, store.Input{Values: map[string]any{"title": "Gerent"}}); err != nil {
			t.Fatal(err)
		}
		u, err := s.UndoImport(ctx, admin, imp.ID)
		if err != nil || u.Removed != 1 || u.Kept != 1 {
			t.Fatalf("undo: %v %+v", err, u)
		}
		if n := countContacts(t, s, admin); n != 2 {
			t.Errorf("contacts = %d, want Laura and the edited Biel", n)
		}
		if _, err := s.UndoImport(ctx, admin, imp.ID); store.ErrorCode(err) != store.CodeConflict {
			t.Errorf("second undo: %v", err)
		}
	})
	t.Run("salesperson may not import", func(t *testing.T) {
		s, admin, _ := setup(t)
		sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
		if _, err := s.StartImport(ctx, sales, store.ImportSpec{Entity: store.EntContacts, Policy: store.PolicySkip}); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("err = %v", err)
		}
	})
}

// TestStore_ImportInterrupted reopens a database whose import never
// finished (the process was stopped) and finds nothing of it applied.
func TestStore_ImportInterrupted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cartera.db")
	opts := store.Options{Path: path, PasswordMemoryKiB: 64, PasswordTime: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s := mustOpenStoreOpts(t, opts)
	admin := mustSetup(t, s)
	imp := mustStartImport(t, s, admin, store.PolicySkip)
	if _, err := s.ImportBatch(ctx, admin, imp.ID, []store.ImportRow{contactRow(2, "Anna", "Serra", "anna@example.com")}, false, false); err != nil {
		t.Fatal(err)
	}
	if n := countContacts(t, s, admin); n != 1 {
		t.Fatalf("contacts mid-import = %d", n)
	}
	s.Close()
	s2, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	admin2, err := s2.ActorFor(ctx, admin.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if n := countContacts(t, s2, admin2); n != 0 {
		t.Errorf("contacts after restart = %d, want 0", n)
	}
	got, _ := s2.FindImport(ctx, admin2, imp.ID)
	if got.Status != "failed" || got.ErrorKey != "import.error.interrupted" {
		t.Errorf("import after restart: %+v", got)
	}
}

// TestStore_ImportMatchAnyColumn recognises duplicates by a column with no
// index of its own (a mobile number, an unindexed custom field): the import
// indexes it while it runs and drops the index when it ends.
func TestStore_ImportMatchAnyColumn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cartera.db")
	s := mustOpenStoreOpts(t, store.Options{Path: path})
	admin := mustSetup(t, s)
	if _, err := s.CreateCustomField(ctx, admin, store.EntContacts, store.CustomFieldInput{Key: "client_code", Kind: store.KText, Labels: store.Labels{"en": "Client code"}}); err != nil {
		t.Fatal(err)
	}
	in := store.Input{Values: map[string]any{"first_name": "Roser", "mobile": "600111222"}}
	in.SetCustom("client_code", "C-7")
	existing, err := s.CreateRecord(ctx, admin, store.EntContacts, in)
	if err != nil {
		t.Fatal(err)
	}
	db := openRawDB(t, path)
	indexes := func() int64 {
		return queryInt(t, db, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'import_match_%'`)
	}
	for _, c := range []struct{ key, match string }{{"mobile", "600111222"}, {"custom.client_code", "C-7"}} {
		t.Run(c.key, func(t *testing.T) {
			imp, err := s.StartImport(ctx, admin, store.ImportSpec{Entity: store.EntContacts, FileName: "c.csv", Policy: store.PolicyFill, MatchOn: c.key})
			if err != nil {
				t.Fatal(err)
			}
			if n := indexes(); n != 1 {
				t.Fatalf("%d match indexes during the import", n)
			}
			res, err := s.ImportBatch(ctx, admin, imp.ID, []store.ImportRow{
				{Line: 2, Match: c.match, Input: store.Input{Values: map[string]any{"first_name": "Roser", "last_name": "Puig"}}},
				{Line: 3, Match: "other", Input: store.Input{Values: map[string]any{"first_name": "Nil"}}},
			}, false, false)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows[0].Action != "updated" || res.Rows[0].RecordID != existing.ID || res.Rows[1].Action != "created" {
				t.Fatalf("rows = %+v", res.Rows)
			}
			if _, err := s.FinishImport(ctx, admin, imp.ID, ""); err != nil {
				t.Fatal(err)
			}
			if n := indexes(); n != 0 {
				t.Fatalf("%d match indexes after the import", n)
			}
		})
	}
	t.Run("a link cannot match", func(t *testing.T) {
		_, err := s.StartImport(ctx, admin, store.ImportSpec{Entity: store.EntContacts, Policy: store.PolicySkip, MatchOn: "account_id"})
		wantCode(t, err, store.CodeInvalid)
	})
}
