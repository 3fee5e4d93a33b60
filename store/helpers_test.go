package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cartera/store"
)

// mustOpenStore opens a fresh database file in a temporary folder with cheap
// password hashing so the suite stays fast.
func mustOpenStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{
		Path:              filepath.Join(t.TempDir(), "cartera.db"),
		PasswordMemoryKiB: 64,
		PasswordTime:      1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mustSetup runs first-run setup and returns the admin as an actor.
func mustSetup(t *testing.T, s *store.Store) *store.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := s.Setup(ctx, store.SetupInput{
		Company:   store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna Puig", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura",
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.ActorFor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// mustUser creates a user with a role and returns them as an actor.
func mustUser(t *testing.T, s *store.Store, admin *store.Actor, email, role string) *store.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, admin, store.UserInput{Email: email, Name: email, Password: "password-123", RoleKey: role})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.ActorFor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// mustOpenStoreOpts is mustOpenStore with caller-chosen options (a clock,
// timeouts, a path, a backup folder); Path defaults to a fresh temporary
// file and password hashing is kept cheap unless the caller sets it.
func mustOpenStoreOpts(t *testing.T, opts store.Options) *store.Store {
	t.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(t.TempDir(), "cartera.db")
	}
	if opts.PasswordMemoryKiB == 0 {
		opts.PasswordMemoryKiB = 64
	}
	if opts.PasswordTime == 0 {
		opts.PasswordTime = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fakeClock is a store clock that only moves when a test moves it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

// Now is the clock function to pass as store.Options.Now.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// wantCode fails the test unless err carries the store error code want
// (want "" means err must be nil).
func wantCode(t *testing.T, err error, want store.Code) {
	t.Helper()
	if got := store.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// wantField fails the test unless err is a store error naming field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if se := store.AsError(err); se.Fields[field] == "" {
		t.Fatalf("error %v does not name field %q", err, field)
	}
}

// countUsers returns how many users exist, disabled ones included.
func countUsers(t *testing.T, s *store.Store, admin *store.Actor) int {
	t.Helper()
	us, err := s.FindUsers(context.Background(), admin, store.UserFilter{IncludeDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return len(us)
}

// openRawDB opens a plain database/sql connection to a database file, to
// look at what the store actually wrote; it is closed when the test ends.
func openRawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", rawDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rawDSN is a plain modernc DSN for a database file; what SQLite would read
// as URI syntax is escaped, as the store does.
func rawDSN(path string) string {
	name := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + name + "?_pragma=busy_timeout(10000)"
}

// queryInt runs a query returning one integer on db.
func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// mustAttachParent creates a record with the given values as a, failing the test
// on error.
func mustAttachParent(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, values map[string]any) *store.Record {
	t.Helper()
	r, err := s.CreateRecord(context.Background(), a, e, store.Input{Values: values})
	if err != nil {
		t.Fatalf("create %s: %v", e, err)
	}
	return r
}

// patternReader yields n deterministic bytes without holding them, and
// counts how many were read: a large upload that costs no test memory.
type patternReader struct {
	n, read int64
	seed    byte
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.read >= p.n {
		return 0, io.EOF
	}
	k := int64(len(b))
	if k > p.n-p.read {
		k = p.n - p.read
	}
	for i := range k {
		x := p.read + i
		b[i] = byte(x) ^ byte(x>>11) ^ p.seed
	}
	p.read += k
	return int(k), nil
}

// readAttachment downloads a file as a and returns its bytes.
func readAttachment(t *testing.T, s *store.Store, a *store.Actor, id int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteAttachment(context.Background(), a, id, func(*store.Attachment) io.Writer { return &buf }); err != nil {
		t.Fatalf("download %d: %v", id, err)
	}
	return buf.Bytes()
}
