// Command bench is Cartera's end-to-end benchmark (issue 4). It builds the
// cartera binary, makes (or reuses) a demo dataset, starts `cartera serve`
// as a real process on a scratch copy of it, drives HTTP workloads with
// concurrent clients for a fixed time each, then runs the same queries
// directly against the same SQLite file (the raw baseline) and prints
// Cartera against raw, with the targets of issue 4 marked met or not.
//
//	go run ./bench -size small -duration 3s        # smoke test (CI)
//	go run ./bench -duration 15s -out docs/PERFORMANCE.md
//
// See docs/PERFORMANCE.md for the results and how to read them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type config struct {
	size          string
	contacts      int
	seed          uint64
	clients       int
	duration      time.Duration
	rawDuration   time.Duration
	mixedClients  int
	mixedDuration time.Duration
	dataDir       string
	out           string
	workloads     map[string]bool
	keep          bool
	noRaw         bool
	pprofDir      string
	importRows    int
	args          []string
}

func main() {
	var c config
	var workloads string
	flag.StringVar(&c.size, "size", "large", "dataset: small (1,000 contacts), medium (100,000) or large (1,000,000)")
	flag.IntVar(&c.contacts, "contacts", 0, "make this many contacts instead of a -size")
	flag.Uint64Var(&c.seed, "seed", 1, "demo data seed")
	flag.IntVar(&c.clients, "clients", 8, "concurrent clients per workload")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "how long each workload runs")
	flag.DurationVar(&c.rawDuration, "raw-duration", 0, "how long each raw baseline query runs (default: half of -duration)")
	flag.IntVar(&c.mixedClients, "mixed-clients", 50, "clients of the mixed workload")
	flag.DurationVar(&c.mixedDuration, "mixed-duration", 0, "how long the mixed workload runs (default: 4×-duration, at most 60s)")
	flag.StringVar(&c.dataDir, "data", "bench/data", "folder of cached datasets (git-ignored)")
	flag.StringVar(&c.out, "out", "", "append the results as markdown to this file")
	flag.StringVar(&workloads, "workloads", "", "comma-separated workloads to run (default: all): "+strings.Join(workloadNames(), ","))
	flag.IntVar(&c.importRows, "import-rows", 0, "rows of the import workload's CSV (default: 100,000 for the large size, 5,000 otherwise)")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary folder (binary, scratch database, server log)")
	flag.BoolVar(&c.noRaw, "no-raw", false, "skip the raw SQLite baseline")
	flag.StringVar(&c.pprofDir, "pprof", "", "serve with server.pprof on and save a CPU profile of each workload in this folder")
	flag.Parse()
	c.args = os.Args[1:]
	if flag.NArg() > 0 {
		fatalf("unexpected arguments: %v", flag.Args())
	}
	switch c.size {
	case "small", "medium", "large":
	default:
		fatalf("-size must be small, medium or large")
	}
	if c.importRows <= 0 {
		c.importRows = 5_000
		if c.size == "large" && c.contacts == 0 {
			c.importRows = 100_000
		}
	}
	if c.clients < 1 || c.mixedClients < 1 || c.duration <= 0 {
		fatalf("-clients, -mixed-clients and -duration must be positive")
	}
	if c.rawDuration <= 0 {
		c.rawDuration = max(c.duration/2, time.Second)
	}
	if c.mixedDuration <= 0 {
		c.mixedDuration = min(4*c.duration, 60*time.Second)
	}
	if workloads != "" {
		c.workloads = map[string]bool{}
		known := map[string]bool{}
		for _, n := range workloadNames() {
			known[n] = true
		}
		for _, w := range strings.Split(workloads, ",") {
			w = strings.TrimSpace(w)
			if w == "" {
				continue
			}
			if !known[w] {
				fatalf("unknown workload %q (known: %s)", w, strings.Join(workloadNames(), ", "))
			}
			c.workloads[w] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &c); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (c *config) want(name string) bool { return c.workloads == nil || c.workloads[name] }

// run is the whole benchmark: build, dataset, server, workloads, raw
// baseline, report.
func run(ctx context.Context, c *config) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(c.dataDir) {
		c.dataDir = filepath.Join(root, c.dataDir)
	}
	tmp, err := os.MkdirTemp("", "cartera-bench-")
	if err != nil {
		return err
	}
	if c.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	rep := &report{cfg: c, started: time.Now(), machine: machineInfo(), loadStart: loadAvg()}

	rep.commit = gitState(root)
	bin := filepath.Join(tmp, "cartera")
	logf("building %s", bin)
	if err := buildBinary(ctx, root, bin); err != nil {
		return err
	}
	if fi, err := os.Stat(bin); err == nil {
		rep.binarySize = fi.Size()
	}

	cache, demoTime, err := ensureDataset(ctx, c, bin)
	if err != nil {
		return err
	}
	rep.demoTime = demoTime
	if rep.schema, err = migrateDataset(ctx, bin, cache); err != nil {
		return err
	}
	if fi, err := os.Stat(cache + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("%s-wal is not empty: the cached dataset is in use or was not closed cleanly; stop what uses it or delete the cache", cache)
	}
	scratch := filepath.Join(tmp, "scratch.db")
	logf("copying %s to %s", cache, scratch)
	if err := copyFile(cache, scratch); err != nil {
		return err
	}
	if fi, err := os.Stat(scratch); err == nil {
		rep.dbSize = fi.Size()
	}

	token, err := createToken(ctx, bin, scratch, adminEmail)
	if err != nil {
		return err
	}
	fx, err := loadFixtures(ctx, scratch)
	if err != nil {
		return err
	}
	rep.counts = fx.counts

	if c.pprofDir != "" {
		if err := os.MkdirAll(c.pprofDir, 0o755); err != nil {
			return err
		}
	}
	srv, err := startServer(ctx, bin, scratch, filepath.Join(tmp, "server.log"), c.pprofDir != "")
	if err != nil {
		return err
	}
	rep.coldStart = srv.coldStart
	logf("server up in %s (pid %d, %s)", srv.coldStart.Round(time.Millisecond), srv.pid(), srv.base)
	httpErr := func() error {
		defer func() {
			rep.peakRSS = srv.peakRSS()
			rep.shutdown, _ = srv.stop()
			rep.busyTotal = srv.busy.Load()
			rep.serverErrors = srv.errorLines.Load()
			rep.serverSample = srv.sampleErrors()
		}()
		return runHTTP(ctx, c, srv, fx, token, rep)
	}()
	if httpErr != nil {
		return httpErr
	}
	if !c.noRaw && ctx.Err() == nil {
		if err := runRaw(ctx, c, scratch, fx, rep); err != nil {
			return err
		}
	}
	rep.finished, rep.loadEnd = time.Now(), loadAvg()
	rep.print(os.Stdout)
	if c.out != "" {
		if err := rep.appendMarkdown(c.out); err != nil {
			return err
		}
		logf("appended results to %s", c.out)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Missed targets are reported, not fatal; failed requests and errors in
	// the server log are, so the smoke test in CI catches breakage.
	failed := 0
	for _, x := range rep.http {
		failed += x.main.Errs
		for label, sub := range x.subs {
			if strings.HasPrefix(label, "+") {
				failed += sub.Errs // followed redirects
			}
		}
	}
	for _, x := range rep.raw {
		failed += x.main.Errs
	}
	if failed > 0 || rep.serverErrors > 0 {
		return fmt.Errorf("%d requests or queries failed and the server logged %d errors", failed, rep.serverErrors)
	}
	return nil
}
