package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"cartera/automation"
	"cartera/i18n"
	"cartera/mail"
	"cartera/store"
	"cartera/ui"
	"cartera/webhook"
)

// Server timeouts: slow clients cannot hold connections forever, and a
// shutdown waits a bounded time for requests in flight.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 120 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 1 << 20
	shutdownTimeout   = 15 * time.Second
	purgeInterval     = 10 * time.Minute
)

// newServeCmd is the serve command with its flags: the database flags and
// --addr.
func newServeCmd(e *env) *cliCmd {
	c := newCLICmd(e, "serve")
	c.fs.StringVar(&c.f.addr, "addr", ":8080", "listen `ADDRESS`, HOST:PORT or :PORT (overrides [server] addr)")
	return c
}

// serveMemoryLimit is the Go heap's soft limit while serving, unless the
// GOMEMLIMIT environment variable sets another.
const serveMemoryLimit = 64 << 20

func runServe(e *env, args []string) int {
	c := newServeCmd(e)
	pos, code := parseFlags(c.fs, args)
	if code >= 0 {
		return code
	}
	if code := noArgs(c.fs, pos); code >= 0 {
		return code
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft heap limit keeps a small office machine's memory flat:
		// the collector works harder near it instead of doubling the heap.
		debug.SetMemoryLimit(serveMemoryLimit)
	}
	cfg, err := c.f.load(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "cartera: configuration: %v\n", err)
		return exitFail
	}
	log := newLogger(cfg, e.stderr, slog.LevelDebug)
	slog.SetDefault(log)
	if err := serve(e, cfg, log); errors.Is(err, errReported) {
		return exitFail
	} else if err != nil {
		log.Error("server stopped with an error", "err", err)
		return exitFail
	}
	log.Info("stopped")
	return exitOK
}

// errReported means serve already told the person what went wrong.
var errReported = errors.New("reported")

// serve runs the server until SIGINT or SIGTERM, then shuts it down in
// order: stop accepting and finish requests, stop background jobs, close
// the database, release the lock.
func serve(e *env, cfg *Config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dbPath := cfg.Database.Path
	lock, err := store.AcquireLock(dbPath)
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(e.stderr, "cartera: another Cartera server is using %s (the database is in use; lock file %s)\n", dbPath, store.LockPath(dbPath))
		return errReported
	}
	if err != nil {
		return fmt.Errorf("locking the database: %w", err)
	}
	defer func() {
		if err := lock.Release(); err != nil {
			log.Warn("releasing the lock", "err", err)
		} else {
			log.Info("lock released")
		}
	}()

	st, err := store.Open(context.Background(), store.Options{
		Path:            dbPath,
		BackupDir:       cfg.Backup.Dir,
		Logger:          log,
		IdleTimeout:     cfg.idleTimeout(),
		AbsoluteTimeout: cfg.absoluteTimeout(),
		MaxAttachment:   int64(cfg.Attachments.MaxMB) << 20,
		MailDomain:      cfg.mailDomain(),
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Warn("closing the database", "err", err)
		} else {
			log.Info("database closed")
		}
	}()

	bundle, err := i18n.Load()
	if err != nil {
		return fmt.Errorf("loading message catalogs: %w", err)
	}
	setUp, err := st.IsSetUp(context.Background())
	if err != nil {
		return err
	}
	token := ""
	if !setUp {
		token = newSetupToken()
	}
	// Outgoing e-mail: a drainer delivers the outbox when [mail] host is set.
	drainer, err := newDrainer(cfg, st, log)
	if err != nil {
		return err
	}
	var mailer ui.MailSender
	if drainer != nil {
		mailer = drainer
	}
	srvUI, err := ui.New(st, bundle, ui.Options{
		Logger:        log,
		SetupToken:    token,
		SecureCookies: cfg.secureCookies(),
		SessionMaxAge: cfg.absoluteTimeout(),
		Pprof:         cfg.Server.Pprof,
		// A host ticks the checklist's e-mail step; Mail sends test e-mails.
		MailConfigured: cfg.Mail.Host != "",
		Mail:           mailer,
		MaxUpload:      int64(cfg.Import.MaxUploadMB) << 20,
		MaxImportRows:  cfg.Import.MaxRows,
		MaxUnzipped:    int64(cfg.Import.MaxUnzippedMB) << 20,
		// Each API token's request budget ([api] rate_per_minute).
		APIRatePerMinute: cfg.API.RatePerMinute,
		BaseURL:          cfg.Server.BaseURL,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           srvUI.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String(), "tls", cfg.tlsEnabled(), "db", dbPath, "version", version)
	if token != "" {
		log.Warn("the database is not set up yet; open the setup link printed on standard output")
		fmt.Fprintf(e.stdout, "Open this link to set up Cartera: %s\n", setupLink(cfg, ln.Addr(), token))
	}

	served := make(chan error, 1)
	go func() {
		if cfg.tlsEnabled() {
			served <- srv.ServeTLS(ln, cfg.Server.TLSCert, cfg.Server.TLSKey)
		} else {
			served <- srv.Serve(ln)
		}
	}()

	// Webhooks: every outgoing call goes through the guard; the worker
	// delivers the queue the store fills in each change's transaction.
	hooks := newWebhookWorker(cfg, st, log)

	bgCtx, stopBG := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Go(func() { purgeSessions(bgCtx, st, log) })
	bg.Go(func() { hooks.Run(bgCtx) })
	if drainer != nil {
		bg.Go(func() { drainer.Run(bgCtx) })
	}
	// Workflow rules, reminders and digests run on time in this process.
	sched := automation.New(st)
	sched.Tick = mustDuration(cfg.Automation.Tick)
	sched.Label = srvUI.Labeler()
	sched.Logger = log
	sched.Jobs = []automation.Job{
		{Name: "task reminders", Run: st.SendDueReminders},
		{Name: "daily digests", Run: st.SendDigests},
		// Data retention (store/privacy.go): erases leads past the firm's
		// retention period when it says so; idempotent.
		{Name: "data retention", Run: func(ctx context.Context, now time.Time) (int, error) {
			return st.ApplyRetention(ctx, store.SystemActor(), now)
		}},
		{Name: "satisfaction surveys", Run: func(ctx context.Context, now time.Time) (int, error) {
			return st.SendCaseSurveys(ctx, now, cfg.Server.BaseURL)
		}},
		{Name: "webhook log purge", Run: st.PurgeWebhookDeliveries},
		// E-mail campaigns: start those due, queue their paced messages.
		{Name: "campaigns", Run: srvUI.RunCampaigns},
		// Scheduled report e-mails, rendered per recipient (ui/report_schedules.go).
		{Name: "scheduled reports", Run: srvUI.SendScheduledReports},
		{Name: "expired quotes", Run: st.ExpireQuotes},
	}
	bg.Go(func() { sched.Run(bgCtx) })
	if p := newDropboxPoller(cfg, st, log); p != nil {
		bg.Go(func() { p.Run(bgCtx) })
	}
	if p := newSupportPoller(cfg, st, log); p != nil {
		bg.Go(func() { p.Run(bgCtx) })
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", shutdownTimeout)
	case serveErr = <-served:
		log.Error("server failed; shutting down", "err", serveErr)
	}
	stop() // a second signal now ends the process at once

	shCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shCtx); err != nil {
		log.Warn("requests still running after the shutdown timeout; closing their connections", "err", err)
		srv.Close()
	} else {
		log.Info("http server stopped")
	}
	stopBG()
	bg.Wait()
	log.Info("background jobs stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// newDrainer returns the outbox drainer over the configured SMTP server, or
// nil when [mail] host is empty (messages then wait in the outbox).
func newDrainer(cfg *Config, st *store.Store, log *slog.Logger) (*mail.Drainer, error) {
	if cfg.Mail.Host == "" {
		return nil, nil
	}
	var roots *x509.CertPool
	if cfg.Mail.CAFile != "" {
		var err error
		if roots, err = loadCAFile(cfg.Mail.CAFile); err != nil {
			return nil, err
		}
	}
	snd, err := mail.NewSender(mail.Config{
		Host: cfg.Mail.Host, Port: cfg.Mail.Port, Username: cfg.Mail.Username, Password: cfg.Mail.Password,
		From: cfg.Mail.From, TLS: cfg.Mail.TLS, Timeout: mustDuration(cfg.Mail.Timeout), RootCAs: roots,
	})
	if err != nil {
		return nil, err
	}
	d := mail.NewDrainer(st, snd)
	d.Interval = mustDuration(cfg.Mail.DrainInterval)
	d.Lease = max(5*time.Minute, 4*mustDuration(cfg.Mail.Timeout))
	d.Logger = log
	log.Info("sending e-mail", "smtp", snd.Server(), "tls", cfg.Mail.TLS, "every", d.Interval)
	return d, nil
}

// newWebhookWorker builds the outbound guard from [webhooks], lends its
// URL check to the store (so saving a URL it refuses is an error naming
// why) and returns the worker that delivers the webhook queue.
func newWebhookWorker(cfg *Config, st *store.Store, log *slog.Logger) *webhook.Worker {
	g, err := webhook.NewGuard(cfg.Webhooks.Allow)
	if err != nil {
		panic("config: unvalidated webhooks.allow: " + err.Error())
	}
	g.Timeout = mustDuration(cfg.Webhooks.Timeout)
	st.SetURLChecker(g.CheckURL)
	w := webhook.NewWorker(st, g)
	w.Interval = mustDuration(cfg.Webhooks.DrainInterval)
	w.Lease = max(2*time.Minute, 4*g.Timeout)
	w.Logger = log
	return w
}

// purgeSessions deletes expired sessions now and every purgeInterval.
func purgeSessions(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(purgeInterval)
	defer t.Stop()
	for {
		n, err := st.PurgeSessions(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("purging expired sessions", "err", err)
		} else if n > 0 {
			log.Info("purged expired sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// newSetupToken returns the one-time secret of the first-run setup link.
func newSetupToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// setupLink is the address a person opens to set Cartera up: under base_url
// when configured, else on the host the server listens on ("localhost" when
// it listens on every interface) and the port it actually bound.
func setupLink(cfg *Config, addr net.Addr, token string) string {
	path := "/setup?token=" + token
	if cfg.Server.BaseURL != "" {
		return strings.TrimRight(cfg.Server.BaseURL, "/") + path
	}
	host, port, _ := net.SplitHostPort(cfg.Server.Addr)
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	scheme := "http"
	if cfg.tlsEnabled() {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + path
}
