package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Backup writes a consistent copy of the live database to dst with SQLite's
// VACUUM INTO, while other connections keep reading and writing. The copy is
// written to a temporary file in dst's folder, integrity-checked, synced and
// renamed, so dst is either the old file or a complete backup, never half.
func (s *Store) Backup(ctx context.Context, dst string) error {
	return backupFile(ctx, s.path, dst)
}

func backupFile(ctx context.Context, src, dst string) error {
	dst, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+filepath.Base(dst)+fmt.Sprintf(".tmp-%d", time.Now().UnixNano()))
	defer os.Remove(tmp)
	// A dedicated connection: VACUUM INTO cannot run on a query_only reader,
	// and running it on the writer would hold up every write meanwhile.
	db, err := sql.Open("sqlite", fileURI(src)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	db.Close()
	if err := CheckIntegrity(ctx, tmp); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return syncDir(dir)
}

// CheckIntegrity runs PRAGMA integrity_check on a database file without
// changing it.
func CheckIntegrity(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", fileURI(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity check of %s: %w", path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check of %s: %w", path, err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("integrity check of %s failed: %s", path, strings.Join(msgs, "; "))
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Lock is the exclusive claim a server holds on a database, so that two
// servers never serve the same file and restore never replaces it under one.
type Lock struct{ f *os.File }

// ErrLocked means another process holds the database's lock.
var ErrLocked = errors.New("the database is in use by another Cartera server")

// LockPath is the lock file kept beside a database.
func LockPath(dbPath string) string { return dbPath + ".lock" }

// AcquireLock takes the lock beside dbPath without waiting; the operating
// system releases it when the process dies, so a crash leaves no stale lock.
func AcquireLock(dbPath string) (*Lock, error) {
	f, err := os.OpenFile(LockPath(dbPath), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, err
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return &Lock{f: f}, nil
}

// Release gives the lock up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	err := l.f.Close()
	l.f = nil
	return err
}

// Restore replaces the database at dbPath with the backup at src. It refuses
// while a server holds the database, checks src's integrity first, keeps the
// replaced database as NAME.before-restore-TIMESTAMP and removes stale
// -wal/-shm files so SQLite cannot replay them onto the restored copy. It
// returns the name the old database was kept under ("" if there was none).
func Restore(ctx context.Context, dbPath, src string) (string, error) {
	lock, err := AcquireLock(dbPath)
	if err != nil {
		return "", err
	}
	defer lock.Release()
	if err := CheckIntegrity(ctx, src); err != nil {
		return "", err
	}
	dir := filepath.Dir(dbPath)
	tmp := filepath.Join(dir, "."+filepath.Base(dbPath)+fmt.Sprintf(".restore-%d", time.Now().UnixNano()))
	defer os.Remove(tmp)
	if err := copyFile(src, tmp); err != nil {
		return "", err
	}
	kept := ""
	if fileExists(dbPath) {
		// Fold any WAL left by a crash into the old file so the kept copy
		// is complete, then move it aside.
		if db, err := sql.Open("sqlite", fileURI(dbPath)+"?_pragma=busy_timeout(10000)"); err == nil {
			db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			db.Close()
		}
		kept = dbPath + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		// Never rename over an earlier kept copy (two restores within one
		// second): it may be the only copy of the original database.
		for i, base := 2, kept; fileExists(kept); i++ {
			kept = fmt.Sprintf("%s-%d", base, i)
		}
		if err := os.Rename(dbPath, kept); err != nil {
			return "", err
		}
	}
	for _, ext := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(dbPath + ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			return kept, err
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return kept, err
	}
	return kept, syncDir(dir)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
