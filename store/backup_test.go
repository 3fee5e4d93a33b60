package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cartera/store"
)

// fileSum returns the SHA-256 of a file's contents.
func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// dirNames lists the names in a folder, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

// checkAuditInvariant checks, on a database file, that every user and team
// has its audit "create" entry and every such entry its row: both are
// written in one transaction, so a consistent snapshot has both or neither.
func checkAuditInvariant(t *testing.T, path string) {
	t.Helper()
	db := openRawDB(t, path)
	for _, tbl := range []string{"users", "teams"} {
		if n := queryInt(t, db, `SELECT count(*) FROM `+tbl+` x WHERE NOT EXISTS
			(SELECT 1 FROM audit_log l WHERE l.entity = ? AND l.action = 'create' AND l.record_id = x.id)`, tbl); n != 0 {
			t.Errorf("%s: %d rows without their audit entry", tbl, n)
		}
		if n := queryInt(t, db, `SELECT count(*) FROM audit_log l WHERE l.entity = ? AND l.action = 'create'
			AND NOT EXISTS (SELECT 1 FROM `+tbl+` x WHERE x.id = l.record_id)`, tbl); n != 0 {
			t.Errorf("%s: %d audit entries without their row", tbl, n)
		}
	}
}

func TestStore_Backup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)

	t.Run("consistent copy while writers run", func(t *testing.T) {
		var (
			mu          sync.Mutex
			acked       []int64 // users whose CreateUser returned
			afterBackup []int64 // users whose CreateUser started after Backup returned
			backupDone  atomic.Bool
			wg          sync.WaitGroup
			seq         atomic.Int64
		)
		// Writers run for about a second: until at least 20 users are
		// acknowledged (at most 2 s), then through the backup, then 300 ms
		// more, so the backup overlaps writes on both sides.
		var stop atomic.Bool
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					done := backupDone.Load()
					n := seq.Add(1)
					u, err := s.CreateUser(ctx, admin, store.UserInput{Email: fmt.Sprintf("w%d@example.com", n), Name: fmt.Sprintf("Writer %d", n), Password: "password-123", RoleKey: "salesperson"})
					if err != nil {
						t.Errorf("CreateUser: %v", err)
						return
					}
					mu.Lock()
					acked = append(acked, u.ID)
					if done {
						afterBackup = append(afterBackup, u.ID)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if _, err := s.SaveTeam(ctx, admin, 0, fmt.Sprintf("Equip %d", i)); err != nil {
					t.Errorf("SaveTeam: %v", err)
					return
				}
			}
		}()

		time.Sleep(500 * time.Millisecond)
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 20 {
				break
			}
		}
		mu.Lock()
		before := slices.Clone(acked)
		mu.Unlock()
		dst := filepath.Join(t.TempDir(), "cartera-backup.db")
		err := s.Backup(ctx, dst)
		backupDone.Store(true)
		time.Sleep(300 * time.Millisecond)
		stop.Store(true)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			t.FailNow()
		}
		mu.Lock()
		after := slices.Clone(afterBackup)
		total := len(acked)
		mu.Unlock()
		t.Logf("%d users acknowledged before the backup, %d in all, %d started after it", len(before), total, len(after))
		if len(before) == 0 {
			t.Fatal("no write was acknowledged before the backup; the test proves nothing")
		}

		if err := store.CheckIntegrity(ctx, dst); err != nil {
			t.Fatalf("backup fails the integrity check: %v", err)
		}
		checkAuditInvariant(t, dst)

		b := mustOpenStoreOpts(t, store.Options{Path: dst})
		ba, err := b.ActorFor(ctx, admin.UserID)
		if err != nil {
			t.Fatal(err)
		}
		us, err := b.FindUsers(ctx, ba, store.UserFilter{IncludeDisabled: true})
		if err != nil {
			t.Fatal(err)
		}
		inBackup := map[int64]bool{}
		for _, u := range us {
			inBackup[u.ID] = true
		}
		for _, id := range before {
			if !inBackup[id] {
				t.Errorf("user %d, acknowledged before the backup, is missing from it", id)
			}
		}
		for _, id := range after {
			if inBackup[id] {
				t.Errorf("user %d, created after the backup returned, is in it", id)
			}
		}
		if err := store.CheckIntegrity(ctx, s.Path()); err != nil {
			t.Fatalf("live database after the backup: %v", err)
		}
		if n := countUsers(t, s, admin); n != total+1 {
			t.Fatalf("live database has %d users, want %d", n, total+1)
		}
	})

	t.Run("replaces an older backup", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "backup.db")
		if err := s.Backup(ctx, dst); err != nil {
			t.Fatal(err)
		}
		mustUser(t, s, admin, "late@example.com", "marketing")
		if err := s.Backup(ctx, dst); err != nil {
			t.Fatal(err)
		}
		db := openRawDB(t, dst)
		if n := queryInt(t, db, `SELECT count(*) FROM users WHERE email = 'late@example.com'`); n != 1 {
			t.Fatal("second backup does not hold the newer user")
		}
		if names := dirNames(t, filepath.Dir(dst)); !reflect.DeepEqual(names, []string{"backup.db"}) {
			t.Fatalf("backup folder holds %v", names)
		}
	})

	t.Run("creates a missing destination folder", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "nightly", "2026", "backup.db")
		if err := s.Backup(ctx, dst); err != nil {
			t.Fatal(err)
		}
		if err := store.CheckIntegrity(ctx, dst); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a failed backup leaves no temporary files", func(t *testing.T) {
		t.Run("destination folder is a file", func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "not-a-folder")
			if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := s.Backup(ctx, filepath.Join(file, "backup.db")); err == nil {
				t.Fatal("backup into a file's path succeeded")
			}
			if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"not-a-folder"}) {
				t.Fatalf("folder holds %v after a failed backup", names)
			}
		})
		t.Run("destination is a folder", func(t *testing.T) {
			// The copy is made, then renaming it onto a folder fails.
			dir := t.TempDir()
			dst := filepath.Join(dir, "backup.db")
			if err := os.Mkdir(dst, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := s.Backup(ctx, dst); err == nil {
				t.Fatal("backup onto a folder succeeded")
			}
			if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"backup.db"}) {
				t.Fatalf("folder holds %v after a failed backup", names)
			}
			if names := dirNames(t, dst); len(names) != 0 {
				t.Fatalf("destination folder holds %v", names)
			}
		})
	})
}

func TestStore_Restore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "cartera.db")
	s := mustOpenStoreOpts(t, store.Options{Path: dbPath})
	admin := mustSetup(t, s)
	mustUser(t, s, admin, "joan@example.com", "salesperson")
	mustUser(t, s, admin, "marta@example.com", "marketing")
	if _, err := s.Authenticate(ctx, "joan@example.com", "password-123"); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	wantUsers := usersSnapshot(t, s)
	// A change made after the backup: the restore must undo it, and the
	// kept copy of the replaced database must still hold it.
	mustUser(t, s, admin, "after@example.com", "salesperson")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	liveSum := fileSum(t, dbPath)
	liveNames := dirNames(t, dir)

	// untouched checks that a refused restore changed nothing.
	untouched := func(t *testing.T) {
		t.Helper()
		if fileSum(t, dbPath) != liveSum {
			t.Fatal("the database changed")
		}
		names := dirNames(t, dir)
		names = slices.DeleteFunc(names, func(n string) bool { return n == filepath.Base(store.LockPath(dbPath)) })
		if !reflect.DeepEqual(names, liveNames) {
			t.Fatalf("folder holds %v, had %v", names, liveNames)
		}
	}

	t.Run("refuses while the database is locked", func(t *testing.T) {
		lock, err := store.AcquireLock(dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Release()
		kept, err := store.Restore(ctx, dbPath, backup)
		if !errors.Is(err, store.ErrLocked) || kept != "" {
			t.Fatalf("Restore = %q, %v; want ErrLocked", kept, err)
		}
		untouched(t)
	})

	t.Run("refuses a corrupt source", func(t *testing.T) {
		garbage := filepath.Join(t.TempDir(), "garbage.db")
		b := make([]byte, 64<<10)
		for i := range b {
			b[i] = byte(i*7 + i/251)
		}
		if err := os.WriteFile(garbage, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := store.CheckIntegrity(ctx, garbage); err == nil {
			t.Fatal("CheckIntegrity accepts garbage")
		}
		if _, err := store.Restore(ctx, dbPath, garbage); err == nil {
			t.Fatal("Restore accepted garbage")
		}
		untouched(t)
	})

	t.Run("refuses a truncated backup", func(t *testing.T) {
		b, err := os.ReadFile(backup)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(t.TempDir(), "cut.db")
		if err := os.WriteFile(cut, b[:len(b)/2], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Restore(ctx, dbPath, cut); err == nil {
			t.Fatal("Restore accepted a truncated backup")
		}
		untouched(t)
	})

	t.Run("refuses a missing source", func(t *testing.T) {
		if _, err := store.Restore(ctx, dbPath, filepath.Join(dir, "nope.db")); err == nil {
			t.Fatal("Restore of a missing file succeeded")
		}
		untouched(t)
	})

	t.Run("replaces the database", func(t *testing.T) {
		// Stale WAL and shared-memory files, as a crash could leave them:
		// SQLite must never replay them onto the restored copy.
		for _, ext := range []string{"-wal", "-shm"} {
			if err := os.WriteFile(dbPath+ext, []byte(strings.Repeat("stale "+ext, 1000)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		kept, err := store.Restore(ctx, dbPath, backup)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(kept) != dir || !strings.HasPrefix(filepath.Base(kept), "cartera.db.before-restore-") {
			t.Fatalf("kept the old database as %q", kept)
		}
		for _, ext := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(dbPath + ext); !os.IsNotExist(err) {
				t.Fatalf("%s left behind: %v", ext, err)
			}
		}
		for _, n := range dirNames(t, dir) {
			if strings.HasPrefix(n, ".") {
				t.Fatalf("temporary file %s left behind", n)
			}
		}
		if fileSum(t, dbPath) != fileSum(t, backup) {
			t.Fatal("the restored database is not a copy of the backup")
		}
		if err := store.CheckIntegrity(ctx, kept); err != nil {
			t.Fatalf("kept database: %v", err)
		}
		if n := queryInt(t, openRawDB(t, kept), `SELECT count(*) FROM users WHERE email = 'after@example.com'`); n != 1 {
			t.Fatal("the kept database lost the change made after the backup")
		}

		r := mustOpenStoreOpts(t, store.Options{Path: dbPath})
		if got := usersSnapshot(t, r); !reflect.DeepEqual(got, wantUsers) {
			t.Fatalf("restored users:\n got %+v\nwant %+v", got, wantUsers)
		}
		if _, err := r.Authenticate(ctx, "joan@example.com", "password-123"); err != nil {
			t.Fatalf("login on the restored database: %v", err)
		}
		if _, err := r.Authenticate(ctx, "after@example.com", "password-123"); store.ErrorCode(err) != store.CodeUnauthorized {
			t.Fatalf("user created after the backup can sign in: %v", err)
		}
	})

	t.Run("restoring twice keeps every replaced database", func(t *testing.T) {
		// A second restore right after the first (within the same second)
		// must not overwrite the copy of the original database.
		before := map[string]bool{}
		for _, n := range dirNames(t, dir) {
			before[n] = true
		}
		var kept []string
		for i := 0; i < 2; i++ {
			k, err := store.Restore(ctx, dbPath, backup)
			if err != nil {
				t.Fatal(err)
			}
			if before[filepath.Base(k)] || slices.Contains(kept, k) {
				t.Fatalf("restore %d kept the replaced database as %s, overwriting an earlier copy", i+1, k)
			}
			kept = append(kept, k)
		}
		for _, k := range kept {
			if err := store.CheckIntegrity(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		found := 0
		for n := range before {
			if strings.Contains(n, "before-restore") {
				found += int(queryInt(t, openRawDB(t, filepath.Join(dir, n)), `SELECT count(*) FROM users WHERE email = 'after@example.com'`))
			}
		}
		if found != 1 {
			t.Fatalf("the copy of the original database is gone (%d copies hold its last change)", found)
		}
	})

	t.Run("restores where no database exists", func(t *testing.T) {
		fresh := filepath.Join(t.TempDir(), "new.db")
		kept, err := store.Restore(ctx, fresh, backup)
		if err != nil || kept != "" {
			t.Fatalf("Restore = %q, %v", kept, err)
		}
		if err := store.CheckIntegrity(ctx, fresh); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStore_Lock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cartera.db")
	l1, err := store.AcquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(store.LockPath(path)); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Fatalf("lock file holds %q, %v; want our pid", b, err)
	}
	if _, err := store.AcquireLock(path); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second AcquireLock = %v, want ErrLocked", err)
	}
	if err := l1.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := store.AcquireLock(path)
	if err != nil {
		t.Fatalf("AcquireLock after Release: %v", err)
	}
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l2.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	var none *store.Lock
	if err := none.Release(); err != nil {
		t.Fatalf("Release of a nil lock: %v", err)
	}
	if _, err := store.AcquireLock(filepath.Join(t.TempDir(), "missing", "cartera.db")); err == nil || errors.Is(err, store.ErrLocked) {
		t.Fatalf("AcquireLock in a missing folder = %v, want an error other than ErrLocked", err)
	}
}

// TestStore_OddPaths checks that database and backup paths are file names,
// not URIs: characters that mean something in a URI (#, ?, %) must work.
func TestStore_OddPaths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "Còpies #1 ? 100%25 & més")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "cartera#?.db")
	s := mustOpenStoreOpts(t, store.Options{Path: dbPath})
	admin := mustSetup(t, s)
	mustUser(t, s, admin, "joan@example.com", "salesperson")
	if _, err := os.Stat(dbPath); err != nil {
		t.Fatalf("database not at its path: %v", err)
	}
	backup := filepath.Join(dir, "backup %41#.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := store.CheckIntegrity(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Restore(ctx, dbPath, backup); err != nil {
		t.Fatal(err)
	}
	r := mustOpenStoreOpts(t, store.Options{Path: dbPath})
	if n := countUsers(t, r, store.SystemActor()); n != 2 {
		t.Fatalf("restored database has %d users, want 2", n)
	}
	for _, n := range dirNames(t, dir) {
		if !strings.HasPrefix(n, "cartera#?.db") && n != "backup %41#.db" {
			t.Errorf("unexpected file %q: a path was read as a URI", n)
		}
	}
}
