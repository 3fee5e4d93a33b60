package main

import (
	"log/slog"

	"cartera/mail"
	"cartera/store"
)

// newDropboxPoller returns the poller of the e-mail dropbox ([mail]
// dropbox), or nil when none is configured, so serve can start it next to
// the outbox drainer.
func newDropboxPoller(cfg *Config, st *store.Store, log *slog.Logger) *mail.Poller {
	if cfg.Mail.Dropbox == "" {
		return nil
	}
	dc, err := mail.ParseDropboxURL(cfg.Mail.Dropbox)
	if err != nil {
		return nil // validate refused it already
	}
	p := mail.NewPoller(st, dc)
	p.Interval = mustDuration(cfg.Mail.DropboxInterval)
	p.Timeout = mustDuration(cfg.Mail.Timeout)
	p.Logger = log
	log.Info("reading the e-mail dropbox", "mailbox", p.Mailbox(), "every", p.Interval)
	return p
}

// newSupportPoller returns the poller of the support mailbox ([service]
// mailbox), which turns e-mail into cases, or nil when none is configured.
func newSupportPoller(cfg *Config, st *store.Store, log *slog.Logger) *mail.Poller {
	if cfg.Service.Mailbox == "" {
		return nil
	}
	dc, err := mail.ParseDropboxURL(cfg.Service.Mailbox)
	if err != nil {
		return nil // validate refused it already
	}
	p := mail.NewPoller(st, dc)
	p.Record = mail.CaseRecorder(st)
	p.Name = "support mailbox"
	p.Interval = mustDuration(cfg.Service.MailboxInterval)
	p.Timeout = mustDuration(cfg.Mail.Timeout)
	p.Logger = log
	log.Info("reading the support mailbox", "mailbox", p.Mailbox(), "every", p.Interval)
	return p
}
