package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"cartera/demo"
)

// Demo logins (see demo/demo.go).
const (
	adminEmail    = "admin@demo.cartera.cat"
	adminPassword = "demo-admin-2026"
	staffPassword = "demo-2026"
)

// salespeople are the demo salespeople; the page workloads sign in as them.
var salespeople = []string{
	"marc.puig@demo.cartera.cat", "laura.vendes@demo.cartera.cat", "nuria.ferrer@demo.cartera.cat",
	"jose.garcia@demo.cartera.cat", "lucia.perez@demo.cartera.cat", "pau.serra@demo.cartera.cat",
}

// moduleRoot is the folder of cartera's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the benchmark inside the cartera module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

func buildBinary(ctx context.Context, root, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

// cleanEnv is the environment without CARTERA_* overrides, so a developer's
// settings cannot change what is measured.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CARTERA_") {
			env = append(env, kv)
		}
	}
	return env
}

// datasetInfo is stored next to a cached dataset: how long `cartera demo`
// took to make it.
type datasetInfo struct {
	Seconds float64 `json:"seconds"`
	Command string  `json:"command"`
	Made    string  `json:"made"`
	Note    string  `json:"note,omitempty"`
}

// ensureDataset returns the cached dataset, making it with `cartera demo`
// the first time, and how long making it took (0 if unknown).
func ensureDataset(ctx context.Context, c *config, bin string) (string, time.Duration, error) {
	name := fmt.Sprintf("demo-%s-%d-v%d.db", c.size, c.seed, demo.Version)
	args := []string{"demo", "--size", c.size, "--seed", strconv.FormatUint(c.seed, 10)}
	if c.contacts > 0 {
		name = fmt.Sprintf("demo-c%d-%d-v%d.db", c.contacts, c.seed, demo.Version)
		args = []string{"demo", "--contacts", strconv.Itoa(c.contacts), "--seed", strconv.FormatUint(c.seed, 10)}
	}
	path := filepath.Join(c.dataDir, name)
	info := path + ".json"
	if _, err := os.Stat(path); err == nil {
		logf("reusing cached dataset %s", path)
		var di datasetInfo
		if b, err := os.ReadFile(info); err == nil && json.Unmarshal(b, &di) == nil {
			return path, time.Duration(di.Seconds * float64(time.Second)), nil
		}
		return path, 0, nil
	}
	if err := os.MkdirAll(c.dataDir, 0o755); err != nil {
		return "", 0, err
	}
	tmp := path + ".partial"
	removeDB(tmp)
	logf("making the dataset: cartera %s (once; cached as %s)", strings.Join(args, " "), path)
	cmd := exec.CommandContext(ctx, bin, append(args, "--db", tmp)...)
	cmd.Env = cleanEnv()
	cmd.Dir = c.dataDir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		removeDB(tmp)
		return "", 0, fmt.Errorf("cartera demo: %w", err)
	}
	took := time.Since(start)
	for _, suffix := range []string{"-wal", "-shm"} {
		if fi, err := os.Stat(tmp + suffix); err == nil && fi.Size() > 0 && suffix == "-wal" {
			return "", 0, fmt.Errorf("cartera demo left a non-empty %s", tmp+suffix)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", 0, err
	}
	removeDB(tmp)
	b, _ := json.MarshalIndent(datasetInfo{Seconds: took.Seconds(), Command: "cartera " + strings.Join(args, " "), Made: time.Now().Format(time.RFC3339)}, "", "  ")
	os.WriteFile(info, b, 0o644)
	return path, took, nil
}

// migrateDataset brings a cached dataset made by an older cartera up to
// this binary's schema, once, so that runs measure neither the migration
// nor the backup taken before it.
func migrateDataset(ctx context.Context, bin, path string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "version", "--db", path).Output()
	if err != nil {
		return "", fmt.Errorf("cartera version: %w", err)
	}
	var cur, known int
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, "schema version "); i >= 0 {
			fmt.Sscanf(line[i:], "schema version %d (this binary knows up to %d)", &cur, &known)
		}
	}
	switch {
	case known == 0:
		return "", fmt.Errorf("cannot read the schema version of %s from %q", path, out)
	case cur > known:
		return "", fmt.Errorf("%s has schema %d, newer than this cartera (%d): delete it to remake it", path, cur, known)
	case cur == known:
		return fmt.Sprintf("schema %d", cur), nil
	}
	logf("migrating the cached dataset from schema %d to %d (once)", cur, known)
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "user", "list", "--db", path)
	cmd.Env = cleanEnv()
	cmd.Dir = filepath.Dir(path)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("migrating %s: %v: %s", path, err, errb.String())
	}
	took := time.Since(start)
	backups, _ := filepath.Glob(path + ".before-migration-*")
	for _, b := range backups {
		os.Remove(b)
	}
	return fmt.Sprintf("schema %d, migrated from %d in %s", known, cur, took.Round(time.Second)), nil
}

// gitState names the code measured: the commit and whether the working
// tree (outside bench/ and docs/) has uncommitted changes.
func gitState(root string) string {
	cmd := exec.Command("git", "rev-parse", "--short", "HEAD")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	state := strings.TrimSpace(string(out))
	cmd = exec.Command("git", "status", "--porcelain", "--", ".", ":(exclude)bench", ":(exclude)docs")
	cmd.Dir = root
	if st, err := cmd.Output(); err == nil {
		if t := strings.TrimSpace(string(st)); t != "" {
			n := len(strings.Split(t, "\n"))
			state += fmt.Sprintf(" + uncommitted changes (%d files)", n)
		}
	}
	return state
}

func removeDB(p string) {
	for _, s := range []string{"", "-wal", "-shm", ".lock"} {
		os.Remove(p + s)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// createToken makes an API token for email with `cartera token create`,
// which prints it as the last word.
func createToken(ctx context.Context, bin, db, email string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, "token", "create", "--email", email, "--label", "bench", "--db", db)
	cmd.Env = cleanEnv()
	cmd.Dir = filepath.Dir(db)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cartera token create: %v: %s", err, errb.String())
	}
	f := strings.Fields(out.String())
	if len(f) == 0 || !strings.HasPrefix(f[len(f)-1], "crt_") {
		return "", fmt.Errorf("cartera token create printed no token: %q", out.String())
	}
	return f[len(f)-1], nil
}

// server is a running `cartera serve`.
type server struct {
	cmd       *exec.Cmd
	base      string
	coldStart time.Duration
	done      chan struct{}
	waitErr   error

	busy       atomic.Int64 // stderr lines with "database is locked" / SQLITE_BUSY
	errorLines atomic.Int64 // stderr lines at level ERROR
	requests   atomic.Int64 // request log lines
	mu         sync.Mutex
	samples    []string // first error lines, for the report

	rssMax atomic.Int64 // highest VmRSS (KiB) since resetRSS
	hwm    atomic.Int64 // VmHWM (KiB), the kernel's peak
	log    *os.File
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts cartera serve and waits for /healthz to answer 200;
// coldStart is from process start to that first 200.
func startServer(ctx context.Context, bin, db, logPath string, pprof bool) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://" + addr, done: make(chan struct{}), log: lf}
	s.cmd = exec.Command(bin, "serve", "--addr", addr, "--db", db)
	// The load generator is one token hammering the API: the per-token
	// rate limit, which protects a firm from a runaway script, is off.
	s.cmd.Env = append(cleanEnv(), "CARTERA_API_RATE_PER_MINUTE=0")
	if pprof {
		s.cmd.Env = append(s.cmd.Env, "CARTERA_SERVER_PPROF=true")
	}
	s.cmd.Dir = filepath.Dir(db)
	s.cmd.Stdout = lf
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go s.scan(stderr)
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	go s.sampleRSS()
	for {
		resp, err := hc.Get(s.base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.coldStart = time.Since(start)
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("cartera serve exited: %v (log: %s)", s.waitErr, logPath)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(start) > 5*time.Minute {
			s.stop()
			return nil, errors.New("cartera serve did not answer /healthz within 5 minutes")
		}
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// scan reads the server's standard error: it counts SQLITE_BUSY and error
// lines and keeps everything but the per-request lines of successful
// requests in the log file.
func (s *server) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	w := bufio.NewWriter(s.log)
	defer w.Flush()
	for sc.Scan() {
		line := sc.Text()
		lower := strings.ToLower(line)
		isReq := strings.Contains(line, "msg=request")
		if isReq {
			s.requests.Add(1)
		}
		if strings.Contains(lower, "database is locked") || strings.Contains(lower, "sqlite_busy") {
			s.busy.Add(1)
		}
		if strings.Contains(line, "level=ERROR") {
			s.errorLines.Add(1)
			s.mu.Lock()
			if len(s.samples) < 10 {
				s.samples = append(s.samples, truncate(line, 400))
			}
			s.mu.Unlock()
		}
		if isReq && !strings.Contains(line, " status=5") && !strings.Contains(line, " status=4") {
			continue
		}
		w.WriteString(line)
		w.WriteByte('\n')
	}
}

func (s *server) sampleErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.samples...)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// procStatus reads VmRSS and VmHWM (KiB) of a process.
func procStatus(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rss, hwm
}

// procCPU is the CPU time a process has used so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

func (s *server) sampleRSS() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		s.readRSS()
		select {
		case <-s.done:
			return
		case <-t.C:
		}
	}
}

func (s *server) readRSS() {
	rss, hwm := procStatus(s.pid())
	if hwm > 0 {
		s.hwm.Store(hwm)
	}
	for {
		cur := s.rssMax.Load()
		if rss <= cur || s.rssMax.CompareAndSwap(cur, rss) {
			break
		}
	}
}

func (s *server) resetRSS() {
	rss, _ := procStatus(s.pid())
	s.rssMax.Store(rss)
}

// peakRSS is VmHWM in bytes.
func (s *server) peakRSS() int64 {
	s.readRSS()
	return s.hwm.Load() * 1024
}

// stop sends SIGTERM and waits for a clean exit; it returns how long the
// graceful shutdown took.
func (s *server) stop() (time.Duration, error) {
	select {
	case <-s.done:
		return 0, s.waitErr
	default:
	}
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	took := time.Since(start)
	time.Sleep(50 * time.Millisecond) // let scan flush
	s.log.Close()
	return took, s.waitErr
}

// machine describes where the benchmark ran.
type machine struct {
	CPUs      int
	CPUModel  string
	MemTotal  string
	GoVersion string
	OS        string
}

func machineInfo() machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		if f := strings.Fields(string(out)); len(f) >= 3 {
			m.GoVersion = f[2]
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/1024/1024)
			}
		}
	}
	return m
}
