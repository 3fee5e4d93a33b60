// Package ui serves Cartera's web pages and its JSON API over HTTP; every
// handler goes through store for data and permissions.
package ui

import (
	"html/template"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"cartera/i18n"
	"cartera/store"
)

// Options configures the HTTP front end.
type Options struct {
	// Logger receives one line per request and every internal error.
	Logger *slog.Logger
	// SetupToken is the secret the first-run setup link carries; only a
	// person who can read the server's console can claim the admin account.
	SetupToken string
	// SecureCookies marks the session cookie Secure (served over TLS).
	SecureCookies bool
	// Now is the clock, replaceable in tests (login throttling).
	Now func() time.Time
	// Pprof exposes /debug/pprof to administrators when true.
	Pprof bool
	// SessionMaxAge is the cookie lifetime; the store enforces the real timeouts.
	SessionMaxAge time.Duration
	// MailConfigured is true when the server has an SMTP server configured;
	// it ticks the e-mail step of the setup checklist.
	MailConfigured bool
	// Mail sends the test e-mail at once; nil when no SMTP server is
	// configured (messages then wait in the outbox).
	Mail MailSender
	// MaxUpload bounds an import file (default DefaultMaxUpload).
	MaxUpload int64
	// MaxImportRows bounds the data rows of an import (0: no limit).
	MaxImportRows int
	// MaxUnzipped bounds an Excel file's decompressed size (0: default).
	MaxUnzipped int64
	// BaseURL is [server] base_url, the public address that links in
	// e-mails (a sent quote's PDF) start with; empty: the request's host.
	BaseURL string
}

// Server is the HTTP front end: pages, API, static files.
type Server struct {
	st       *store.Store
	i18n     *i18n.Bundle
	log      *slog.Logger
	opts     Options
	pages    map[string]*template.Template
	static   *staticFiles
	sessions *sessionStore
	limiter  *loginLimiter
	handler  http.Handler
	// router matches paths to routes, so pages link only to pages that exist.
	router *mux.Router
	// setUp caches that first-run setup is done; it can never be undone.
	setUp atomic.Bool
	// imports holds uploaded files and imports running in the background.
	imports *imports
}

// New builds the server, parsing every template once; a broken template
// fails here, at start, rather than on a user's request.
func New(st *store.Store, bundle *i18n.Bundle, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionMaxAge == 0 {
		opts.SessionMaxAge = 30 * 24 * time.Hour
	}
	s := &Server{st: st, i18n: bundle, log: opts.Logger, opts: opts}
	var err error
	if s.imports, err = newImports(); err != nil {
		return nil, err
	}
	if s.static, err = loadStatic(); err != nil {
		return nil, err
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	s.sessions = newSessionStore(st, opts.SecureCookies, opts.SessionMaxAge)
	s.limiter = newLoginLimiter(opts.Now)
	s.handler = s.routes()
	return s, nil
}

// Handler returns the root handler with every middleware applied.
func (s *Server) Handler() http.Handler { return s.handler }
