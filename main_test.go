package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cartera/store"
)

// bin is the cartera binary the end-to-end tests run; "" in -short mode.
var bin string

// TestMain builds the binary once for every end-to-end test.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "cartera-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "cartera")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cartera:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needBinary(t *testing.T) {
	t.Helper()
	if bin == "" {
		t.Skip("end-to-end test skipped in -short mode")
	}
}

// cleanEnv is the test's environment without CARTERA_ variables, so the
// developer's own settings cannot change what the binary does.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			out = append(out, kv)
		}
	}
	return out
}

// result is what a finished command left behind.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// cartera runs the binary in dir with stdin and returns its output; it
// fails the test if the command does not finish within a minute.
func cartera(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("cartera %q did not finish within a minute; stderr:\n%s", args, stderr.String())
	}
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running cartera %q: %v", args, err)
	}
	return r
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	r := cartera(t, dir, stdin, args...)
	if r.code != 0 {
		t.Fatalf("cartera %q failed: %s", args, r)
	}
	return r
}

// lockedBuffer is a bytes.Buffer safe to write from the process's copier
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is a `cartera serve` process.
type server struct {
	cmd    *exec.Cmd
	addr   string // host:port it listens on
	stdout *lockedBuffer
	stderr *lockedBuffer
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

var listeningRe = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServer starts `cartera serve` and waits until its log says where it
// listens and /healthz answers 200.
func startServer(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	return startServerEnv(t, dir, nil, args...)
}

// startServerEnv is startServer with extra CARTERA_ variables.
func startServerEnv(t *testing.T, dir string, env []string, args ...string) *server {
	t.Helper()
	s := &server{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	s.cmd.Dir = dir
	s.cmd.Env = append(cleanEnv(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for s.addr == "" {
		if m := listeningRe.FindStringSubmatch(s.stderr.String()); m != nil {
			s.addr = m[1]
			break
		}
		select {
		case <-s.exited:
			t.Fatalf("serve exited before listening: %v\nstderr:\n%s", s.err, s.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log its address within 30 s; stderr:\n%s", s.stderr)
		}
	}
	for {
		resp, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if !strings.Contains(string(body), `"ok"`) {
					t.Fatalf("/healthz body = %q", body)
				}
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz did not answer 200 within 30 s (last error %v); stderr:\n%s", err, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and asserts a clean exit within 20 s.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit within 20 s of SIGTERM; stderr:\n%s", s.stderr)
	}
	if s.err != nil {
		t.Fatalf("serve exited with %v after SIGTERM; stderr:\n%s", s.err, s.stderr)
	}
	for _, step := range []string{"shutting down", "http server stopped", "background jobs stopped", "database closed", "lock released"} {
		if !strings.Contains(s.stderr.String(), step) {
			t.Errorf("shutdown log lacks %q; stderr:\n%s", step, s.stderr)
		}
	}
}

const adminPassword = "contrasenya-segura"

func TestCLI_EndToEnd(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "cartera.db")

	// First-run setup from the command line, password on stdin.
	r := mustRun(t, dir, adminPassword+"\r\n", "init", "--db", db,
		"--company", "Empresa ABC", "--admin-email", "anna@example.com", "--admin-name", "Anna Puig")
	if !strings.Contains(r.stdout, "Empresa ABC") {
		t.Fatalf("init output: %s", r)
	}
	r = cartera(t, dir, adminPassword+"\n", "init", "--db", db,
		"--company", "Intrús", "--admin-email", "x@example.com", "--admin-name", "X")
	if r.code == 0 || !strings.Contains(r.stderr, "already set up") {
		t.Fatalf("second init was not refused: %s", r)
	}

	// Users.
	mustRun(t, dir, "password-de-laura\n", "user", "add", "--db", db,
		"--email", "laura.garcia@example.com", "--name", "Laura García", "--role", "salesperson")
	r = cartera(t, dir, "password-123\n", "user", "add", "--db", db,
		"--email", "not-an-email", "--name", "X", "--role", "salesperson")
	if r.code != 1 || !strings.Contains(r.stderr, "email: ") {
		t.Fatalf("invalid user: %s", r)
	}
	r = mustRun(t, dir, "", "user", "list", "--db", db)
	if !strings.Contains(r.stdout, "\tanna@example.com\tAnna Puig\tadmin\tactive\n") ||
		!strings.Contains(r.stdout, "\tlaura.garcia@example.com\tLaura García\tsalesperson\tactive\n") {
		t.Fatalf("user list: %s", r)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if n := len(strings.Split(line, "\t")); n != 5 {
			t.Fatalf("user list line %q has %d columns, want 5", line, n)
		}
	}
	mustRun(t, dir, "un-altre-password\n", "user", "passwd", "--db", db, "--email", "laura.garcia@example.com")

	// An API token, printed once as the last word.
	r = mustRun(t, dir, "", "token", "create", "--db", db, "--email", "anna@example.com", "--label", "e2e")
	words := strings.Fields(r.stdout)
	token := words[len(words)-1]
	if !strings.HasPrefix(token, "crt_") {
		t.Fatalf("token output: %s", r)
	}

	// The server.
	srv := startServer(t, dir, "--addr", "127.0.0.1:0", "--db", db)
	req, _ := http.NewRequest(http.MethodGet, "http://"+srv.addr+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "anna@example.com") {
			t.Fatalf("GET /api/v1/me with the CLI's token: %d %s", resp.StatusCode, body)
		}
	}
	if strings.Contains(srv.stdout.String(), "/setup?token=") {
		t.Fatalf("a set-up database printed a setup link: %s", srv.stdout)
	}

	// A second server on the same database is refused.
	r = cartera(t, dir, "", "serve", "--addr", "127.0.0.1:0", "--db", db)
	if r.code == 0 || !strings.Contains(r.stderr, "another Cartera server is using") || !strings.Contains(r.stderr, "in use") {
		t.Fatalf("second serve: %s", r)
	}

	// Restore refuses while the server runs and leaves the database alone.
	r = cartera(t, dir, "", "restore", "--db", db, filepath.Join(dir, "whatever.db"))
	if r.code != 1 || !strings.Contains(r.stderr, "refusing: a Cartera server is using") {
		t.Fatalf("restore while serving: %s", r)
	}

	// An online backup while the server runs.
	backup := filepath.Join(dir, "backups", "cartera-1.db")
	r = mustRun(t, dir, "", "backup", backup, "--db", db)
	if !strings.Contains(r.stdout, backup) || !strings.Contains(r.stdout, "bytes") {
		t.Fatalf("backup output: %s", r)
	}
	if err := store.CheckIntegrity(context.Background(), backup); err != nil {
		t.Fatalf("backup integrity: %v", err)
	}

	// A change after the backup, which the restore must undo.
	mustRun(t, dir, "password-de-carla\n", "user", "add", "--db", db,
		"--email", "carla@example.com", "--name", "Carla Vidal", "--role", "marketing")
	mustRun(t, dir, "", "user", "disable", "--db", db, "--email", "laura.garcia@example.com")
	r = mustRun(t, dir, "", "user", "list", "--db", db)
	if !strings.Contains(r.stdout, "carla@example.com") || !strings.Contains(r.stdout, "salesperson\tdisabled") {
		t.Fatalf("user list after changes: %s", r)
	}

	srv.stop(t)

	r = mustRun(t, dir, "", "restore", "--db", db, backup)
	kept, _ := filepath.Glob(db + ".before-restore-*")
	if len(kept) != 1 {
		t.Fatalf("before-restore files = %q; output: %s", kept, r)
	}
	if !strings.Contains(r.stdout, kept[0]) {
		t.Fatalf("restore does not say where the old database is: %s", r)
	}
	if err := store.CheckIntegrity(context.Background(), kept[0]); err != nil {
		t.Fatalf("kept database: %v", err)
	}
	r = mustRun(t, dir, "", "user", "list", "--db", db)
	if strings.Contains(r.stdout, "carla@example.com") || !strings.Contains(r.stdout, "salesperson\tactive") {
		t.Fatalf("user list after restore shows the later changes: %s", r)
	}

	// The restored database serves again.
	srv = startServer(t, dir, "--addr", "127.0.0.1:0", "--db", db)
	srv.stop(t)

	r = mustRun(t, dir, "", "version", "--db", db)
	if !strings.Contains(r.stdout, "cartera "+version) || !strings.Contains(r.stdout, runtime.Version()) ||
		!strings.Contains(r.stdout, "schema version") {
		t.Fatalf("version: %s", r)
	}
}

func TestCLI_ServePrintsSetupLinkOnFreshDatabase(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	srv := startServer(t, dir, "--addr", "127.0.0.1:0")
	want := "Open this link to set up Cartera: http://" + srv.addr + "/setup?token="
	var link string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if i := strings.Index(srv.stdout.String(), want); i >= 0 {
			link = strings.Fields(srv.stdout.String()[i+len("Open this link to set up Cartera: "):])[0]
			break
		}
	}
	if link == "" {
		t.Fatalf("no setup link; stdout:\n%s", srv.stdout)
	}
	token := strings.TrimPrefix(link, "http://"+srv.addr+"/setup?token=")
	if len(token) != 43 || strings.ContainsAny(token, "+/=") {
		t.Fatalf("setup token %q is not 32 bytes of base64url", token)
	}
	if _, err := os.Stat(filepath.Join(dir, "cartera.db")); err != nil {
		t.Fatalf("serve without --db did not use ./cartera.db: %v", err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET setup link = %d", resp.StatusCode)
	}
	srv.stop(t)
}

func TestCLI_UsageAndErrors(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()

	r := mustRun(t, dir, "", "help")
	for _, c := range []string{"serve", "init", "user add", "user list", "user disable", "user passwd", "token create", "backup", "restore", "version"} {
		if !strings.Contains(r.stdout, "  "+c+" ") {
			t.Errorf("help does not list %q:\n%s", c, r.stdout)
		}
	}
	for _, args := range [][]string{{"serve", "-h"}, {"init", "-h"}, {"user", "add", "-h"}, {"token", "create", "-h"}, {"backup", "-h"}, {"restore", "-h"}, {"version", "-h"}} {
		r := cartera(t, dir, "", args...)
		if r.code != 0 || !strings.Contains(r.stderr, "usage: cartera "+strings.Join(args[:len(args)-1], " ")) {
			t.Errorf("cartera %q: %s", args, r)
		}
	}
	r = cartera(t, dir, "", "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) || !strings.Contains(r.stderr, "usage:") {
		t.Fatalf("unknown command: %s", r)
	}
	r = cartera(t, dir, "", "init", "--company", "Empresa ABC")
	if r.code != 2 || !strings.Contains(r.stderr, "--admin-email is required") {
		t.Fatalf("missing flag: %s", r)
	}
	r = cartera(t, dir, "", "user", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "no database at cartera.db") {
		t.Fatalf("user list without a database: %s", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "cartera.db")); err == nil {
		t.Fatal("user list created a database")
	}
	r = cartera(t, dir, "pw\n", "init", "--company", "Empresa ABC", "--admin-email", "anna@example", "--admin-name", "Anna Puig", "--timezone", "Mars/Olympus")
	if r.code != 1 || !strings.Contains(r.stderr, "admin-email: ") || !strings.Contains(r.stderr, "password: ") || !strings.Contains(r.stderr, "timezone: ") {
		t.Fatalf("init with invalid fields: %s", r)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "cartera.db*")); len(left) > 0 {
		t.Fatalf("failed init left %q behind", left)
	}

	cfg := filepath.Join(dir, "cartera.toml")
	os.WriteFile(cfg, []byte("[server]\nadress = \":9000\"\n"), 0o600)
	r = cartera(t, dir, "", "serve", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, cfg) || !strings.Contains(r.stderr, `unknown key "server.adress"`) {
		t.Fatalf("serve with a mistyped key: %s", r)
	}
	r = cartera(t, dir, "", "version", "--config", filepath.Join(dir, "absent.toml"))
	if r.code != 1 || !strings.Contains(r.stderr, "absent.toml") {
		t.Fatalf("missing --config file: %s", r)
	}
	r = mustRun(t, dir, "", "version")
	if !strings.HasPrefix(r.stdout, "cartera "+version+"\n") || strings.Contains(r.stdout, "schema") {
		t.Fatalf("version without a database: %s", r)
	}
}

// The in-process entry point dispatches like the binary.
func TestRun_InProcess(t *testing.T) {
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: noEnv}
	if code := run([]string{"help"}, e); code != 0 || !strings.Contains(stdout.String(), "token create") {
		t.Fatalf("help: %d %s", code, stdout.String())
	}
	if code := run([]string{"user"}, e); code != 2 || !strings.Contains(stderr.String(), "user add") {
		t.Fatalf("user without subcommand: %d %s", code, stderr.String())
	}
	if code := run([]string{"backup"}, e); code != 2 {
		t.Fatalf("backup without FILE: %d", code)
	}
}

func TestReadPassword(t *testing.T) {
	cases := map[string]string{
		"secret-pass\n":        "secret-pass",
		"secret-pass\r\n":      "secret-pass",
		"secret-pass":          "secret-pass",
		"  spaced pass  \n":    "  spaced pass  ",
		"first-line\nsecond\n": "first-line",
	}
	for in, want := range cases {
		got, err := readPassword(&env{stdin: strings.NewReader(in), stderr: io.Discard}, "Password: ")
		if err != nil || got != want {
			t.Errorf("readPassword(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := readPassword(&env{stdin: strings.NewReader(""), stderr: io.Discard}, "Password: "); err == nil {
		t.Error("empty stdin accepted")
	}
}
