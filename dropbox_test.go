package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestConfig_Dropbox checks the dropbox keys: a password given through the
// environment is used but never shown in an error or a log line, and the
// interval is validated.
func TestConfig_Dropbox(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	t.Run("bad address: the error names the key, not the password", func(t *testing.T) {
		_, err := loadConfig("", env("CARTERA_MAIL_DROPBOX", "imaps://:s3cret-pw@mail.example.com/INBOX"), nil)
		if err == nil || !strings.Contains(err.Error(), "mail.dropbox") || strings.Contains(err.Error(), "s3cret-pw") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("interval below a second", func(t *testing.T) {
		_, err := loadConfig("", env("CARTERA_MAIL_DROPBOX_INTERVAL", "500ms"), nil)
		if err == nil || !strings.Contains(err.Error(), "mail.dropbox_interval") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("valid: a poller without the password in its name", func(t *testing.T) {
		cfg, err := loadConfig("", env("CARTERA_MAIL_DROPBOX", "imaps://crm%40example.com:s3cret-pw@mail.example.com/Cartera", "CARTERA_MAIL_DROPBOX_INTERVAL", "30s"), nil)
		if err != nil {
			t.Fatal(err)
		}
		var logs strings.Builder
		p := newDropboxPoller(cfg, nil, slog.New(slog.NewTextHandler(&logs, nil)))
		if p == nil || p.Interval.String() != "30s" {
			t.Fatalf("poller %+v", p)
		}
		if got := p.Mailbox(); got != "imaps://crm%40example.com@mail.example.com:993/Cartera" {
			t.Errorf("Mailbox() = %q", got)
		}
		if strings.Contains(logs.String(), "s3cret-pw") || !strings.Contains(logs.String(), "dropbox") {
			t.Errorf("log: %s", logs.String())
		}
	})
	t.Run("empty: no poller", func(t *testing.T) {
		cfg, err := loadConfig("", env(), nil)
		if err != nil || cfg.Mail.DropboxInterval != "1m" {
			t.Fatalf("%v %+v", err, cfg.Mail)
		}
		if newDropboxPoller(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil))) != nil {
			t.Fatal("a poller with no dropbox")
		}
	})
}
