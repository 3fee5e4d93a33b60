package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"cartera/i18n"
	"cartera/store"
)

// dbFlags are the flags every command that touches the database takes.
type dbFlags struct {
	fs     *flag.FlagSet
	db     string
	config string
	addr   string // serve only
}

func addDBFlags(fs *flag.FlagSet) *dbFlags {
	f := &dbFlags{fs: fs}
	fs.StringVar(&f.db, "db", "cartera.db", "SQLite database `FILE` (overrides [database] path)")
	fs.StringVar(&f.config, "config", "", "TOML configuration `FILE` (optional; see config.example.toml)")
	return f
}

// load builds the configuration; flags override only when given, so a
// flag's default never hides the environment or the file.
func (f *dbFlags) load(e *env) (*Config, error) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return loadConfig(f.config, e.lookupEnv, func(cfg *Config) {
		if set["db"] {
			cfg.Database.Path = f.db
		}
		if set["addr"] {
			cfg.Server.Addr = f.addr
		}
	})
}

// newLogger builds the logger [log] asks for, writing to w. Commands other
// than serve pass minLevel warn so that routine lines ("database opened")
// do not clutter their output.
func newLogger(cfg *Config, w io.Writer, minLevel slog.Level) *slog.Logger {
	var level slog.Level
	switch cfg.Log.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	if level < minLevel && level != slog.LevelDebug {
		level = minLevel
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// cliCmd is the state of a command-line command that uses the database.
type cliCmd struct {
	e   *env
	fs  *flag.FlagSet
	f   *dbFlags
	cfg *Config
	log *slog.Logger
	tr  *i18n.Translator // English, for store error messages; nil if unavailable
}

func newCLICmd(e *env, name string) *cliCmd {
	fs := newFlagSet(e, name)
	return &cliCmd{e: e, fs: fs, f: addDBFlags(fs)}
}

// setup loads the configuration and the logger after the flags are parsed.
func (c *cliCmd) setup() bool {
	cfg, err := c.f.load(c.e)
	if err != nil {
		c.errorf("configuration: %v", err)
		return false
	}
	c.cfg = cfg
	c.log = newLogger(cfg, c.e.stderr, slog.LevelWarn)
	slog.SetDefault(c.log)
	if b, err := i18n.Load(); err == nil {
		c.tr = b.For("en", nil)
	} else {
		c.log.Warn("message catalogs unavailable; errors are shown as keys", "err", err)
	}
	return true
}

// errorf prints an error line to standard error.
func (c *cliCmd) errorf(format string, args ...any) {
	fmt.Fprintf(c.e.stderr, "cartera: %s\n", fmt.Sprintf(format, args...))
}

// t translates a message key to English.
func (c *cliCmd) t(key string) string {
	if c.tr == nil {
		return key
	}
	return c.tr.T(key)
}

// storeError prints a store error: its message, then one `field: message`
// line per field; names maps store field names to the flags that set them.
// Internal errors show their cause: the person at the console runs the
// server and needs it.
func (c *cliCmd) storeError(err error, names map[string]string) int {
	se := store.AsError(err)
	if se.Code == store.CodeInternal {
		c.errorf("%v", err)
		return exitFail
	}
	if len(se.Fields) == 0 || se.Code != store.CodeInvalid {
		c.errorf("%s", c.t(se.Key))
	}
	fields := make([]string, 0, len(se.Fields))
	for f := range se.Fields {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		name := f
		if n, ok := names[f]; ok {
			name = n
		}
		fmt.Fprintf(c.e.stderr, "%s: %s\n", name, c.t(se.Fields[f]))
	}
	return exitFail
}

// open opens the configured database. Commands other than init refuse to
// create a database that does not exist: a mistyped --db should not leave
// an empty database behind.
func (c *cliCmd) open(ctx context.Context, create bool) (*store.Store, bool) {
	path := c.cfg.Database.Path
	if !create {
		if _, err := os.Stat(path); err != nil {
			c.errorf("no database at %s (set one up with \"cartera init\", or pass --db)", path)
			return nil, false
		}
	}
	st, err := store.Open(ctx, store.Options{
		Path:            path,
		BackupDir:       c.cfg.Backup.Dir,
		Logger:          c.log,
		IdleTimeout:     c.cfg.idleTimeout(),
		AbsoluteTimeout: c.cfg.absoluteTimeout(),
		MaxAttachment:   int64(c.cfg.Attachments.MaxMB) << 20,
	})
	if err != nil {
		c.errorf("%v", err)
		return nil, false
	}
	return st, true
}

// openSetUp opens an existing database that has been set up.
func (c *cliCmd) openSetUp(ctx context.Context) (*store.Store, bool) {
	st, ok := c.open(ctx, false)
	if !ok {
		return nil, false
	}
	done, err := st.IsSetUp(ctx)
	if err != nil {
		st.Close()
		c.errorf("%v", err)
		return nil, false
	}
	if !done {
		st.Close()
		c.errorf("the database %s is not set up yet (run \"cartera init\" or open the setup link \"cartera serve\" prints)", c.cfg.Database.Path)
		return nil, false
	}
	return st, true
}

// userByEmail finds a user for the commands that take --email.
func (c *cliCmd) userByEmail(ctx context.Context, st *store.Store, email string) (*store.User, bool) {
	u, err := st.FindUserByEmail(ctx, store.SystemActor(), strings.TrimSpace(email))
	if store.ErrorCode(err) == store.CodeNotFound {
		c.errorf("no user with e-mail %s", email)
		return nil, false
	}
	if err != nil {
		c.storeError(err, nil)
		return nil, false
	}
	return u, true
}

// readPassword reads a password from the first line of standard input,
// prompting on standard error when a person is typing it. The line ending
// (\n or \r\n) is not part of the password.
func readPassword(e *env, prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(e.stderr, prompt)
		}
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("no password on standard input; pipe it in, e.g. printf '%s\\n' 'a-long-password' | cartera ...")
		}
		return "", fmt.Errorf("reading the password: %w", err)
	}
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	return line, nil
}

// requireFlags reports the first required flag left empty, as a usage error.
func requireFlags(fs *flag.FlagSet, names ...string) int {
	for _, n := range names {
		if strings.TrimSpace(fs.Lookup(n).Value.String()) == "" {
			return usageError(fs, "--%s is required", n)
		}
	}
	return -1
}

// noArgs refuses positional arguments for commands that take none.
func noArgs(fs *flag.FlagSet, pos []string) int {
	if len(pos) > 0 {
		return usageError(fs, "unexpected argument %q", pos[0])
	}
	return -1
}

func runInit(e *env, args []string) (code int) {
	c := newCLICmd(e, "init")
	company := c.fs.String("company", "", "company `NAME` (required)")
	email := c.fs.String("admin-email", "", "administrator's e-mail `ADDRESS` (required)")
	name := c.fs.String("admin-name", "", "administrator's full `NAME` (required)")
	lang := c.fs.String("language", "ca", "company `LANGUAGE`: ca, es or en")
	tz := c.fs.String("timezone", "Europe/Madrid", "company time `ZONE` (IANA name)")
	cur := c.fs.String("currency", "EUR", "company currency (ISO 4217 `CODE`)")
	pos, code := parseFlags(c.fs, args)
	if code >= 0 {
		return code
	}
	if code := noArgs(c.fs, pos); code >= 0 {
		return code
	}
	if code := requireFlags(c.fs, "company", "admin-email", "admin-name"); code >= 0 {
		return code
	}
	if !c.setup() {
		return exitFail
	}
	ctx := context.Background()
	path := c.cfg.Database.Path
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// A failed init must not leave an empty database behind, which
		// would make the next attempt look like an existing installation.
		_, lockErr := os.Stat(store.LockPath(path))
		hadLock := lockErr == nil
		defer func() {
			if code != exitOK {
				for _, ext := range []string{"", "-wal", "-shm", "-journal"} {
					os.Remove(path + ext)
				}
				if !hadLock {
					os.Remove(store.LockPath(path))
				}
			}
		}()
	}
	st, ok := c.open(ctx, true)
	if !ok {
		return exitFail
	}
	defer st.Close()
	alreadySetUp := func() int {
		c.errorf("the database %s is already set up; init changed nothing", c.cfg.Database.Path)
		return exitFail
	}
	if done, err := st.IsSetUp(ctx); err != nil {
		return c.storeError(err, nil)
	} else if done {
		return alreadySetUp()
	}
	pw, err := readPassword(e, "Password: ")
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	u, err := st.Setup(ctx, store.SetupInput{
		Company:       store.Company{Name: *company, Language: *lang, Timezone: *tz, Currency: *cur},
		AdminName:     *name,
		AdminEmail:    *email,
		AdminPassword: pw,
	})
	if store.ErrorCode(err) == store.CodeConflict {
		return alreadySetUp()
	}
	if err != nil {
		return c.storeError(err, map[string]string{
			"name": "company", "admin_name": "admin-name", "admin_email": "admin-email", "admin_password": "password",
		})
	}
	fmt.Fprintf(e.stdout, "Set up %q in %s; the administrator is %s.\n", strings.TrimSpace(*company), c.cfg.Database.Path, u.Email)
	return exitOK
}

func runUserAdd(e *env, args []string) int {
	c := newCLICmd(e, "user add")
	email := c.fs.String("email", "", "e-mail `ADDRESS`, used to sign in (required)")
	name := c.fs.String("name", "", "full `NAME` (required)")
	role := c.fs.String("role", "", "`ROLE` key: admin, salesperson, service_agent, marketing or a custom role (required)")
	pos, code := parseFlags(c.fs, args)
	if code >= 0 {
		return code
	}
	if code := noArgs(c.fs, pos); code >= 0 {
		return code
	}
	if code := requireFlags(c.fs, "email", "name", "role"); code >= 0 {
		return code
	}
	if !c.setup() {
		return exitFail
	}
	ctx := context.Background()
	st, ok := c.openSetUp(ctx)
	if !ok {
		return exitFail
	}
	defer st.Close()
	pw, err := readPassword(e, "Password: ")
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	sys := store.SystemActor()
	u, err := st.CreateUser(ctx, sys, store.UserInput{Email: *email, Name: *name, RoleKey: *role, Password: pw})
	if err != nil {
		code := c.storeError(err, nil)
		if _, ok := store.AsError(err).Fields["role"]; ok {
			if roles, err := st.FindRoles(ctx, sys); err == nil {
				var keys []string
				for _, r := range roles {
					keys = append(keys, r.Key)
				}
				fmt.Fprintf(e.stderr, "roles: %s\n", strings.Join(keys, ", "))
			}
		}
		return code
	}
	fmt.Fprintf(e.stdout, "Added user %d: %s (%s)\n", u.ID, u.Email, u.RoleKey)
	return exitOK
}

func runUserList(e *env, args []string) int {
	c := newCLICmd(e, "user list")
	pos, code := parseFlags(c.fs, args)
	if code >= 0 {
		return code
	}
	if code := noArgs(c.fs, pos); code >= 0 {
		return code
	}
	if !c.setup() {
		return exitFail
	}
	ctx := context.Background()
	st, ok := c.openSetUp(ctx)
	if !ok {
		return exitFail
	}
	defer st.Close()
	users, err := st.FindUsers(ctx, store.SystemActor(), store.UserFilter{IncludeDisabled: true})
	if err != nil {
		return c.storeError(err, nil)
	}
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(e.stdout, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.RoleKey, status)
	}
	return exitOK
}

// forUser runs a command about one user, named by --email: it parses the
// flags, opens the set-up database, finds the user and calls fn.
func (c *cliCmd) forUser(args []string, email *string, fn func(ctx context.Context, st *store.Store, u *store.User) int) int {
	return c.asUser(args, "email", email, nil, fn)
}

// asUser is forUser for a command whose user flag has another name
// (import's --as) and that needs other flags too.
func (c *cliCmd) asUser(args []string, flag string, email *string, required []string, fn func(ctx context.Context, st *store.Store, u *store.User) int) int {
	pos, code := parseFlags(c.fs, args)
	if code >= 0 {
		return code
	}
	if code := noArgs(c.fs, pos); code >= 0 {
		return code
	}
	if code := requireFlags(c.fs, append([]string{flag}, required...)...); code >= 0 {
		return code
	}
	if !c.setup() {
		return exitFail
	}
	ctx := context.Background()
	st, ok := c.openSetUp(ctx)
	if !ok {
		return exitFail
	}
	defer st.Close()
	u, ok := c.userByEmail(ctx, st, *email)
	if !ok {
		return exitFail
	}
	return fn(ctx, st, u)
}

func runUserDisable(e *env, args []string) int {
	c := newCLICmd(e, "user disable")
	email := c.fs.String("email", "", "e-mail `ADDRESS` of the user (required)")
	return c.forUser(args, email, func(ctx context.Context, st *store.Store, u *store.User) int {
		if u.Disabled {
			fmt.Fprintf(e.stdout, "%s is already disabled\n", u.Email)
			return exitOK
		}
		disabled := true
		if _, err := st.UpdateUser(ctx, store.SystemActor(), u.ID, store.UserUpdate{Disabled: &disabled}); err != nil {
			return c.storeError(err, nil)
		}
		fmt.Fprintf(e.stdout, "Disabled %s; their sessions have ended and their API tokens no longer work.\n", u.Email)
		return exitOK
	})
}

func runUserPasswd(e *env, args []string) int {
	c := newCLICmd(e, "user passwd")
	email := c.fs.String("email", "", "e-mail `ADDRESS` of the user (required)")
	return c.forUser(args, email, func(ctx context.Context, st *store.Store, u *store.User) int {
		pw, err := readPassword(e, "New password: ")
		if err != nil {
			c.errorf("%v", err)
			return exitFail
		}
		if err := st.SetPassword(ctx, store.SystemActor(), u.ID, "", pw); err != nil {
			return c.storeError(err, nil)
		}
		fmt.Fprintf(e.stdout, "Changed the password of %s; their browser sessions have ended.\n", u.Email)
		return exitOK
	})
}

func runTokenCreate(e *env, args []string) int {
	c := newCLICmd(e, "token create")
	email := c.fs.String("email", "", "e-mail `ADDRESS` of the user the token acts as (required)")
	label := c.fs.String("label", "", "a `LABEL` to recognise the token by, e.g. \"invoicing script\"")
	return c.forUser(args, email, func(ctx context.Context, st *store.Store, u *store.User) int {
		secret, _, err := st.CreateToken(ctx, store.SystemActor(), u.ID, *label)
		if err != nil {
			return c.storeError(err, nil)
		}
		fmt.Fprintln(e.stderr, "Keep this token secret; it is shown only now and acts with the user's permissions.")
		fmt.Fprintf(e.stdout, "Token for %s: %s\n", u.Email, secret)
		return exitOK
	})
}

func runBackup(e *env, args []string) int {
	c := newCLICmd(e, "backup")
	pos, code := parseFlags(c.fs, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return usageError(c.fs, "give exactly one backup FILE")
	}
	if !c.setup() {
		return exitFail
	}
	dst, err := filepath.Abs(pos[0])
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	if src, err := filepath.Abs(c.cfg.Database.Path); err == nil && src == dst {
		c.errorf("the backup FILE must not be the database itself")
		return exitFail
	}
	ctx := context.Background()
	st, ok := c.open(ctx, false)
	if !ok {
		return exitFail
	}
	defer st.Close()
	if err := st.Backup(ctx, dst); err != nil {
		c.errorf("backup failed: %v", err)
		return exitFail
	}
	fi, err := os.Stat(dst)
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "Backed up %s to %s (%d bytes)\n", c.cfg.Database.Path, dst, fi.Size())
	return exitOK
}

func runRestore(e *env, args []string) int {
	c := newCLICmd(e, "restore")
	pos, code := parseFlags(c.fs, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return usageError(c.fs, "give exactly one backup FILE")
	}
	if !c.setup() {
		return exitFail
	}
	// The store is not opened: opening would migrate the database that is
	// about to be replaced. store.Restore takes the server lock itself.
	db := c.cfg.Database.Path
	kept, err := store.Restore(context.Background(), db, pos[0])
	if errors.Is(err, store.ErrLocked) {
		c.errorf("refusing: a Cartera server is using %s; stop it first", db)
		return exitFail
	}
	if err != nil {
		c.errorf("restore failed, %s is unchanged: %v", db, err)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "Restored %s from %s.\n", db, pos[0])
	if kept != "" {
		fmt.Fprintf(e.stdout, "The previous database was kept as %s\n", kept)
	} else {
		fmt.Fprintf(e.stdout, "There was no database at %s before.\n", db)
	}
	return exitOK
}

func runVersion(e *env, args []string) int {
	c := newCLICmd(e, "version")
	pos, code := parseFlags(c.fs, args)
	if code >= 0 {
		return code
	}
	if code := noArgs(c.fs, pos); code >= 0 {
		return code
	}
	fmt.Fprintf(e.stdout, "cartera %s\n", version)
	fmt.Fprintf(e.stdout, "built with %s for %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if !c.setup() {
		return exitFail
	}
	path := c.cfg.Database.Path
	if _, err := os.Stat(path); err != nil {
		return exitOK
	}
	ctx := context.Background()
	cur, known, err := store.PeekSchemaVersion(ctx, path)
	if err != nil {
		c.errorf("reading the schema version of %s: %v", path, err)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "database %s: schema version %d (this binary knows up to %d)\n", path, cur, known)
	return exitOK
}
