// Package store owns Cartera's domain: its types, validation, SQL, migrations
// and the permission policy that every front end goes through.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Options configures Open; the zero value of each field picks a safe default.
type Options struct {
	// Path is the SQLite database file.
	Path string
	// BackupDir receives the automatic backup taken before pending migrations
	// are applied to a non-empty database; default: the database's folder.
	BackupDir string
	// Logger receives store diagnostics; default: slog.Default().
	Logger *slog.Logger
	// Now is the clock, replaceable so tests can move time.
	Now func() time.Time
	// PasswordMemoryKiB and PasswordTime tune argon2id; tests lower them to
	// keep the suite fast, production keeps the defaults (19 MiB, 2 passes).
	PasswordMemoryKiB uint32
	PasswordTime      uint32
	// IdleTimeout and AbsoluteTimeout bound browser sessions.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// MailDomain is the right-hand side of outgoing Message-IDs; default
	// "cartera.local".
	MailDomain string
	// MaxAttachment is the largest attached file, in bytes; default
	// DefaultMaxAttachment (25 MB).
	MaxAttachment int64
}

// Store is the handle on one Cartera database: a single writer connection
// (so writers queue in Go instead of failing with SQLITE_BUSY) and a pool of
// read-only connections that run in parallel thanks to WAL.
type Store struct {
	w    *sql.DB
	r    *sql.DB
	path string
	log  *slog.Logger
	now  func() time.Time
	opts Options

	// dummyHash is checked when an e-mail is unknown, so a login for an
	// unknown account costs the same time as one for a known account.
	dummyOnce sync.Once
	dummyHash string

	// schema is the current customization snapshot (see Schema).
	schema atomic.Pointer[Schema]

	// rules is the enabled workflow rules (see ruleSet); wake tells the
	// scheduler a job is due now.
	rules atomic.Pointer[ruleSet]
	wake  chan struct{}
	// wakePending is set by a write that scheduled a job due now; the
	// wake is sent after its commit.
	wakePending atomic.Bool
	// suppressions is 1 once the suppression list is known not to be
	// empty (it only grows), so imports skip the check until then.
	suppressions atomic.Int32

	// hooks is the webhook subscriptions snapshot and the renderer and
	// URL check other packages lend the store (see store/webhooks.go).
	hooks webhookState
}

// dsn builds a modernc DSN with the pragmas every connection needs; they are
// in the DSN so that a connection the pool opens later gets them too.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		// Readers share the operating system's file cache; a small page
		// cache each keeps the server's memory flat under concurrency.
		q.Add("_pragma", "cache_size(-4000)")
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "cache_size(-16000)")
		// Deleted and overwritten content is zeroed, not left in free
		// space, so an erased person's data is really gone from the file
		// (see store/privacy.go).
		q.Add("_pragma", "secure_delete(1)")
		q.Set("_txlock", "immediate")
	}
	return fileURI(path) + "?" + q.Encode()
}

// uriEscaper escapes what SQLite would otherwise read as URI syntax in a
// file name: it decodes %XX and ends the path at '?' or '#'.
var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// fileURI turns a file path into an SQLite "file:" URI naming that exact
// file, so a folder such as "Còpies #1" is not cut short at the '#'.
func fileURI(path string) string { return "file:" + uriEscaper.Replace(path) }

// Open opens (creating if needed) the database at opts.Path and brings its
// schema up to date, refusing a database written by a newer Cartera.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("store: empty database path")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PasswordMemoryKiB == 0 {
		opts.PasswordMemoryKiB = 19 * 1024
	}
	if opts.PasswordTime == 0 {
		opts.PasswordTime = 2
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 12 * time.Hour
	}
	if opts.AbsoluteTimeout == 0 {
		opts.AbsoluteTimeout = 30 * 24 * time.Hour
	}
	if opts.BackupDir == "" {
		opts.BackupDir = filepath.Dir(opts.Path)
	}
	w, err := sql.Open(cachingDriverName, dsn(opts.Path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, path: opts.Path, log: opts.Logger, now: opts.Now, opts: opts, wake: make(chan struct{}, 1)}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", opts.Path, err)
	}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.reloadSchema(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: reading customization: %w", err)
	}
	if err := s.reloadRules(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: reading workflow rules: %w", err)
	}
	if err := s.recoverImports(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: taking back interrupted imports: %w", err)
	}
	r, err := sql.Open(cachingDriverName, dsn(opts.Path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open readers: %w", err)
	}
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	var version string
	if err := r.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	s.log.Info("database opened", "path", opts.Path, "sqlite_version", version)
	return s, nil
}

// Close closes every connection; SQLite checkpoints the WAL on the last one.
func (s *Store) Close() error {
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	if e := s.w.Close(); e != nil {
		err = e
	}
	return err
}

// Path returns the database file the store was opened on.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers a query, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return errInternal(err)
	}
	return nil
}

// ErrSchemaTooNew is returned by Open for a database migrated by a newer binary.
var ErrSchemaTooNew = errors.New("store: the database was written by a newer version of Cartera; upgrade the binary")

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return err
	}
	vs, err := database.NewStore(database.DialectSQLite3, "schema_migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider("", s.w, sub, goose.WithStore(vs))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("store: reading schema version: %w", err)
	}
	if current > target {
		return fmt.Errorf("%w (database schema %d, this binary knows %d)", ErrSchemaTooNew, current, target)
	}
	if current == target {
		return nil
	}
	if current > 0 {
		name := fmt.Sprintf("%s.before-migration-%d-%s", filepath.Base(s.path), target, s.now().UTC().Format("20060102T150405Z"))
		dst := filepath.Join(s.opts.BackupDir, name)
		if err := s.Backup(ctx, dst); err != nil {
			return fmt.Errorf("store: backup before migrating: %w", err)
		}
		s.log.Info("backup taken before migrating", "file", dst, "from", current, "to", target)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: applying migrations: %w", err)
	}
	for _, m := range res {
		s.log.Info("migration applied", "version", m.Source.Version, "file", filepath.Base(m.Source.Path), "duration", m.Duration)
	}
	return nil
}

// SchemaVersion reports the applied schema version and the newest this
// binary knows, for `cartera version` and diagnostics.
func (s *Store) SchemaVersion(ctx context.Context) (current, known int64, err error) {
	return PeekSchemaVersion(ctx, s.path)
}

// PeekSchemaVersion reads a database file's schema version read-only,
// without migrating it, and the newest version this binary knows.
func PeekSchemaVersion(ctx context.Context, path string) (current, known int64, err error) {
	entries, err := fs.Glob(migrationsFS, "migrations/*.sql")
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		var n int64
		fmt.Sscanf(filepath.Base(e), "%d_", &n)
		known = max(known, n)
	}
	db, err := sql.Open("sqlite", fileURI(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, known, err
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil || tables == 0 {
		return 0, known, err
	}
	var v sql.NullInt64
	err = db.QueryRowContext(ctx, `SELECT max(version_id) FROM schema_migrations WHERE is_applied = 1`).Scan(&v)
	return v.Int64, known, err
}

// isUniqueViolation reports a UNIQUE or PRIMARY KEY constraint failure by its
// SQLite extended result code, never by message text.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// write runs fn in one IMMEDIATE transaction on the writer connection and
// commits only if fn returns nil, so a refused write changes nothing.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return errInternal(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		s.wakePending.Store(false)
		return wrapErr(err)
	}
	if err := tx.Commit(); err != nil {
		s.wakePending.Store(false)
		return errInternal(err)
	}
	if s.wakePending.Swap(false) {
		// Only now can the scheduler's readers see the job.
		s.wakeScheduler()
	}
	return nil
}

// read runs fn in one read transaction on the reader pool, so every query
// inside sees the same snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return errInternal(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return wrapErr(err)
	}
	return nil
}

func wrapErr(err error) error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeInternal, Key: "error.internal", Err: err}
	}
	return errInternal(err)
}

// ms converts a time to the integer milliseconds stored in the database.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts stored milliseconds back to a UTC time; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// nowMS is the store clock in stored form.
func (s *Store) nowMS() int64 { return s.now().UnixMilli() }

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
