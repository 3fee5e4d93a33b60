package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"cartera/store"
)

// migrationFiles lists the SQL migrations in store/migrations (the files the
// binary embeds), oldest first, with their versions.
func migrationFiles(t *testing.T) (names []string, versions []int64) {
	t.Helper()
	es, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s has no numeric version: %v", e.Name(), err)
		}
		names = append(names, e.Name())
		versions = append(versions, v)
	}
	if len(names) == 0 {
		t.Fatal("no migrations found")
	}
	if !slices.IsSorted(versions) {
		t.Fatalf("migration versions out of order: %v", versions)
	}
	return names, versions
}

// migrateRawTo builds a database at path holding only the given migrations,
// as an older Cartera would have left it, using goose the way the store does.
func migrateRawTo(t *testing.T, path string, names []string) {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("migrations", n))
		if err != nil {
			t.Fatal(err)
		}
		fsys[n] = &fstest.MapFile{Data: b}
	}
	db := openRawDB(t, path)
	vs, err := database.NewStore(database.DialectSQLite3, "schema_migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider("", db, fsys, goose.WithStore(vs))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// tableDump returns every row of every table, for comparing databases by
// content rather than by bytes; its connection is closed on return so that
// it leaves no -wal or -shm file behind.
func tableDump(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", rawDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string][]string{}
	for _, tbl := range tables {
		rows, err := db.Query(`SELECT * FROM "` + tbl + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[tbl] = append(out[tbl], fmt.Sprint(vals...))
		}
		rows.Close()
	}
	return out
}

func TestStore_Migrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	names, versions := migrationFiles(t)
	newest := versions[len(versions)-1]

	t.Run("an empty file gets the whole schema", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "cartera.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		s := mustOpenStoreOpts(t, store.Options{Path: path})
		cur, known, err := s.SchemaVersion(ctx)
		if err != nil || cur != newest || known != newest {
			t.Fatalf("SchemaVersion = %d, %d, %v; want %d, %d", cur, known, err, newest, newest)
		}
		if ok, err := s.IsSetUp(ctx); err != nil || ok {
			t.Fatalf("IsSetUp = %v, %v", ok, err)
		}
		for _, n := range dirNames(t, dir) {
			if strings.Contains(n, "before-migration") {
				t.Fatalf("backup %s taken of an empty database", n)
			}
		}
	})

	t.Run("an empty path is refused", func(t *testing.T) {
		if _, err := store.Open(ctx, store.Options{}); err == nil {
			t.Fatal("Open with no path succeeded")
		}
	})

	t.Run("reopening keeps data and takes no backup", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "cartera.db")
		s := mustOpenStoreOpts(t, store.Options{Path: path})
		admin := mustSetup(t, s)
		mustUser(t, s, admin, "joan@example.com", "salesperson")
		mustUser(t, s, admin, "marta@example.com", "marketing")
		users := usersSnapshot(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		backups := t.TempDir()
		r := mustOpenStoreOpts(t, store.Options{Path: path, BackupDir: backups})
		if got := usersSnapshot(t, r); !reflect.DeepEqual(got, users) {
			t.Fatalf("users after reopening:\n got %+v\nwant %+v", got, users)
		}
		if c, err := r.Company(ctx); err != nil || c.Name != "Empresa ABC" {
			t.Fatalf("company after reopening = %+v, %v", c, err)
		}
		if cur, known, err := r.SchemaVersion(ctx); err != nil || cur != newest || known != newest {
			t.Fatalf("SchemaVersion = %d, %d, %v", cur, known, err)
		}
		if n := dirNames(t, backups); len(n) != 0 {
			t.Fatalf("backup folder holds %v with nothing to migrate", n)
		}
		for _, n := range dirNames(t, dir) {
			if strings.Contains(n, "before-migration") {
				t.Fatalf("backup %s taken with nothing to migrate", n)
			}
		}
	})

	t.Run("a newer schema is refused and left untouched", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "cartera.db")
		s := mustOpenStoreOpts(t, store.Options{Path: path})
		mustSetup(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		db := openRawDB(t, path)
		if _, err := db.Exec(`INSERT INTO schema_migrations (version_id, is_applied) VALUES (9999, 1)`); err != nil {
			t.Fatal(err)
		}
		// Closing the last connection checkpoints the WAL into the file,
		// so the file alone holds the database from here on.
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		sum, names, dump := fileSum(t, path), dirNames(t, dir), tableDump(t, path)
		if sum != fileSum(t, path) {
			t.Fatal("reading the database changed its bytes; cannot compare by bytes")
		}

		backups := t.TempDir()
		got, err := store.Open(ctx, store.Options{Path: path, BackupDir: backups, PasswordMemoryKiB: 64, PasswordTime: 1})
		if got != nil {
			got.Close()
		}
		if !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
		}
		if !strings.Contains(err.Error(), "9999") {
			t.Errorf("error %q does not name the database's version", err)
		}
		if fileSum(t, path) != sum {
			t.Error("Open changed the database file")
		}
		if after := dirNames(t, dir); !reflect.DeepEqual(after, names) {
			t.Errorf("folder holds %v, had %v", after, names)
		}
		if n := dirNames(t, backups); len(n) != 0 {
			t.Errorf("backup folder holds %v", n)
		}
		if after := tableDump(t, path); !reflect.DeepEqual(after, dump) {
			t.Error("Open changed the database's contents")
		}
	})

	t.Run("pending migrations on a non-empty database are backed up first", func(t *testing.T) {
		if len(names) < 2 {
			t.Skip("needs a second migration; added when 0002 lands")
		}
		previous := versions[len(versions)-2]
		for _, tc := range []struct {
			name      string
			backupDir func(dbDir string) string
		}{
			{"into the backup folder", func(string) string { return t.TempDir() }},
			{"beside the database by default", func(string) string { return "" }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "cartera.db")
				migrateRawTo(t, path, names[:len(names)-1])
				db := openRawDB(t, path)
				if _, err := db.Exec(`CREATE TABLE zz_test_marker (v TEXT); INSERT INTO zz_test_marker VALUES ('abans')`); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}

				clock := newFakeClock()
				backupDir := tc.backupDir(dir)
				s := mustOpenStoreOpts(t, store.Options{Path: path, BackupDir: backupDir, Now: clock.Now})
				if cur, known, err := s.SchemaVersion(ctx); err != nil || cur != newest || known != newest {
					t.Fatalf("SchemaVersion = %d, %d, %v; want %d", cur, known, err, newest)
				}
				if backupDir == "" {
					backupDir = dir
				}
				want := fmt.Sprintf("cartera.db.before-migration-%d-%s", newest, clock.Now().UTC().Format("20060102T150405Z"))
				var found []string
				for _, n := range dirNames(t, backupDir) {
					if strings.Contains(n, "before-migration") {
						found = append(found, n)
					}
				}
				if !reflect.DeepEqual(found, []string{want}) {
					t.Fatalf("backups = %v, want [%s]", found, want)
				}
				bk := filepath.Join(backupDir, want)
				if err := store.CheckIntegrity(ctx, bk); err != nil {
					t.Fatal(err)
				}
				bdb := openRawDB(t, bk)
				if v := queryInt(t, bdb, `SELECT max(version_id) FROM schema_migrations`); v != previous {
					t.Fatalf("backup is at version %d, want %d (before migrating)", v, previous)
				}
				if n := queryInt(t, bdb, `SELECT count(*) FROM zz_test_marker WHERE v = 'abans'`); n != 1 {
					t.Fatal("backup lacks the data")
				}
				if n := queryInt(t, openRawDB(t, path), `SELECT count(*) FROM zz_test_marker WHERE v = 'abans'`); n != 1 {
					t.Fatal("migrated database lost the data")
				}
			})
		}
	})
}
