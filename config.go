package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/robfig/cron/v3"

	"cartera/mail"
	"cartera/webhook"
)

// Config is everything Cartera can be configured with. Values come, in
// increasing precedence, from the built-in defaults, the TOML file given with
// --config, CARTERA_<SECTION>_<KEY> environment variables and command-line
// flags. Durations are kept as the strings the user wrote and checked by
// validate, so an error can quote the key and the value.
type Config struct {
	Server     ServerConfig     `toml:"server"`
	Database   DatabaseConfig   `toml:"database"`
	Mail       MailConfig       `toml:"mail"`
	Automation AutomationConfig `toml:"automation"`
	Service    ServiceConfig    `toml:"service"`
	Backup     BackupConfig     `toml:"backup"`
	Import     ImportConfig     `toml:"import"`
	Log        LogConfig        `toml:"log"`
	Session    SessionConfig    `toml:"session"`
	Webhooks   WebhooksConfig   `toml:"webhooks"`
	API        APIConfig        `toml:"api"`

	// Attachments is the [attachments] section (files on records).
	Attachments AttachmentsConfig `toml:"attachments"`
}

// WebhooksConfig is the [webhooks] section: outbound calls to the firm's
// other systems.
type WebhooksConfig struct {
	// Allow lists the LAN systems outgoing calls may reach although they
	// are private or loopback: IP addresses, CIDR prefixes, host names.
	Allow []string `toml:"allow"`
	// Timeout bounds one call; DrainInterval is how often the queue is
	// looked at.
	Timeout       string `toml:"timeout"`
	DrainInterval string `toml:"drain_interval"`
}

// APIConfig is the [api] section.
type APIConfig struct {
	// RatePerMinute is each token's request budget; 0 turns the limit off.
	RatePerMinute int `toml:"rate_per_minute"`
}

// ServerConfig is the [server] section.
type ServerConfig struct {
	Addr    string `toml:"addr"`
	BaseURL string `toml:"base_url"`
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	Pprof   bool   `toml:"pprof"`
}

// DatabaseConfig is the [database] section.
type DatabaseConfig struct {
	Path string `toml:"path"`
}

// MailConfig is the [mail] section (outgoing SMTP).
type MailConfig struct {
	Host     string `toml:"host"`
	Port     int    `toml:"port"`
	Username string `toml:"username"`
	Password string `toml:"password"`
	From     string `toml:"from"`
	TLS      string `toml:"tls"`
	Timeout  string `toml:"timeout"`
	// Dropbox is the IMAP mailbox people BCC or forward e-mail to, as
	// imaps://USER:PASSWORD@HOST/INBOX; empty turns the poller off.
	Dropbox string `toml:"dropbox"`
	// CAFile is a PEM file of the authorities trusted for the SMTP
	// server's certificate, for an office server with its own CA.
	CAFile string `toml:"ca_file"`
	// DrainInterval is how often the outbox is checked for e-mail to send.
	DrainInterval string `toml:"drain_interval"`
	// DropboxInterval is how often the dropbox is read.
	DropboxInterval string `toml:"dropbox_interval"`
}

// ServiceConfig is the [service] section: the support mailbox that turns
// e-mail into cases.
type ServiceConfig struct {
	// Mailbox is the IMAP support mailbox, in the same form as [mail]
	// dropbox; empty turns e-mail to case off.
	Mailbox string `toml:"mailbox"`
	// MailboxInterval is how often the support mailbox is read.
	MailboxInterval string `toml:"mailbox_interval"`
}

// AutomationConfig is the [automation] section.
type AutomationConfig struct {
	Tick string `toml:"tick"`
}

// BackupConfig is the [backup] section.
type BackupConfig struct {
	Dir      string `toml:"dir"`
	Schedule string `toml:"schedule"`
	Keep     int    `toml:"keep"`
}

// ImportConfig is the [import] section: the limits a file must stay
// within, checked before anything of it is stored.
type ImportConfig struct {
	MaxUploadMB   int `toml:"max_upload_mb"`
	MaxRows       int `toml:"max_rows"`
	MaxUnzippedMB int `toml:"max_unzipped_mb"`
}

// AttachmentsConfig is the [attachments] section: files on records are
// kept in the database, so their size is bounded.
type AttachmentsConfig struct {
	MaxMB int `toml:"max_mb"`
}

// LogConfig is the [log] section.
type LogConfig struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// SessionConfig is the [session] section.
type SessionConfig struct {
	IdleTimeout     string `toml:"idle_timeout"`
	AbsoluteTimeout string `toml:"absolute_timeout"`
}

// defaultConfig returns the built-in defaults.
func defaultConfig() *Config {
	return &Config{
		Server:      ServerConfig{Addr: ":8080"},
		Database:    DatabaseConfig{Path: "cartera.db"},
		Mail:        MailConfig{Port: 587, TLS: "starttls", Timeout: "30s", DrainInterval: "5s", DropboxInterval: "1m"},
		Automation:  AutomationConfig{Tick: "1m"},
		Service:     ServiceConfig{MailboxInterval: "1m"},
		Backup:      BackupConfig{Keep: 14},
		Import:      ImportConfig{MaxUploadMB: 100, MaxRows: 1_000_000, MaxUnzippedMB: 1024},
		Log:         LogConfig{Level: "info", Format: "text"},
		Session:     SessionConfig{IdleTimeout: "12h", AbsoluteTimeout: "720h"},
		Webhooks:    WebhooksConfig{Allow: []string{}, Timeout: "10s", DrainInterval: "5s"},
		API:         APIConfig{RatePerMinute: 600},
		Attachments: AttachmentsConfig{MaxMB: 25},
	}
}

// loadCAFile reads PEM certificates into a pool; a file with none is an
// error, so a wrong path or format is caught at start.
func loadCAFile(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// envPrefix starts every environment variable Cartera reads.
const envPrefix = "CARTERA_"

// loadConfig builds the configuration: defaults, then the TOML file at path
// (none when path is ""), then the environment as lookup reports it, then
// override (the explicitly set flags), and finally validates the result.
func loadConfig(path string, lookup func(string) (string, bool), override func(*Config)) (*Config, error) {
	cfg := defaultConfig()
	if path != "" {
		if err := cfg.decodeFile(path); err != nil {
			return nil, err
		}
	}
	if lookup != nil {
		if err := cfg.applyEnv(lookup); err != nil {
			return nil, err
		}
	}
	if override != nil {
		override(cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decodeFile reads a TOML file over cfg, refusing keys Cartera does not know
// so that a typo is an error instead of a silently ignored setting.
func (cfg *Config) decodeFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: configuration file not found", path)
		}
		return fmt.Errorf("reading configuration: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(cfg)
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &strict):
		var msgs []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			msgs = append(msgs, fmt.Sprintf("unknown key %q (line %d)", strings.Join(e.Key(), "."), row))
		}
		return fmt.Errorf("%s: %s", path, strings.Join(msgs, "; "))
	case errors.As(err, &de):
		row, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			return fmt.Errorf("%s:%d:%d: key %q: %s", path, row, col, strings.Join(k, "."), msg)
		}
		return fmt.Errorf("%s:%d:%d: %s", path, row, col, msg)
	default:
		return fmt.Errorf("%s: %w", path, err)
	}
}

// envField is one configuration key with its environment variable name.
type envField struct {
	key string // section.key, as in the TOML file
	env string // CARTERA_SECTION_KEY
	val reflect.Value
}

// fields lists every key of the configuration by reflecting over the toml
// tags, so a new key gets its environment variable without more code.
func (cfg *Config) fields() []envField {
	var out []envField
	root := reflect.ValueOf(cfg).Elem()
	for i := range root.NumField() {
		sec := root.Type().Field(i).Tag.Get("toml")
		sv := root.Field(i)
		for j := range sv.NumField() {
			key := sv.Type().Field(j).Tag.Get("toml")
			out = append(out, envField{
				key: sec + "." + key,
				env: envPrefix + strings.ToUpper(sec+"_"+key),
				val: sv.Field(j),
			})
		}
	}
	return out
}

// applyEnv sets every key whose CARTERA_<SECTION>_<KEY> variable is set.
func (cfg *Config) applyEnv(lookup func(string) (string, bool)) error {
	for _, f := range cfg.fields() {
		v, ok := lookup(f.env)
		if !ok {
			continue
		}
		switch f.val.Kind() {
		case reflect.String:
			f.val.SetString(v)
		case reflect.Int:
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", f.env, v)
			}
			f.val.SetInt(int64(n))
		case reflect.Bool:
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%s: %q is not true or false", f.env, v)
			}
			f.val.SetBool(b)
		case reflect.Slice:
			// A list from the environment is comma-separated.
			var list []string
			for part := range strings.SplitSeq(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					list = append(list, part)
				}
			}
			f.val.Set(reflect.ValueOf(list))
		default:
			return fmt.Errorf("%s: unsupported kind %s", f.env, f.val.Kind())
		}
	}
	return nil
}

// validate checks the merged configuration; each error names its key.
func (cfg *Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	oneOf := func(key, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	duration := func(key, v string, min time.Duration) bool {
		d, err := time.ParseDuration(v)
		if err != nil {
			bad(key, "%q is not a duration such as \"30s\", \"10m\" or \"12h\"", v)
			return false
		}
		if d < min {
			bad(key, "%q is shorter than %s", v, min)
			return false
		}
		return true
	}

	if _, _, err := net.SplitHostPort(cfg.Server.Addr); err != nil {
		bad("server.addr", "%q is not HOST:PORT or :PORT", cfg.Server.Addr)
	}
	if v := cfg.Server.BaseURL; v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("server.base_url", "%q is not an http:// or https:// address", v)
		}
	}
	if (cfg.Server.TLSCert == "") != (cfg.Server.TLSKey == "") {
		bad("server.tls_cert", "tls_cert and tls_key must be set together")
	}
	if cfg.Database.Path == "" {
		bad("database.path", "must not be empty")
	}
	if p := cfg.Mail.Port; p < 1 || p > 65535 {
		bad("mail.port", "%d is not a port between 1 and 65535", p)
	}
	oneOf("mail.tls", cfg.Mail.TLS, "none", "starttls", "tls")
	duration("mail.timeout", cfg.Mail.Timeout, time.Second)
	duration("mail.drain_interval", cfg.Mail.DrainInterval, 100*time.Millisecond)
	if cfg.Mail.Host != "" {
		if a, err := netmail.ParseAddress(cfg.Mail.From); err != nil || strings.ContainsAny(cfg.Mail.From, "\r\n") {
			bad("mail.from", "%q is not a sender address such as \"Empresa ABC <crm@example.com>\" (required with mail.host)", cfg.Mail.From)
		} else if !strings.Contains(a.Address, "@") {
			bad("mail.from", "%q has no domain", cfg.Mail.From)
		}
	}
	if v := cfg.Mail.Dropbox; v != "" {
		// The value holds a password: the error names the problem only.
		if _, err := mail.ParseDropboxURL(v); err != nil {
			bad("mail.dropbox", "not an address such as \"imaps://USER:PASSWORD@HOST/INBOX\": %v", err)
		}
	}
	duration("mail.dropbox_interval", cfg.Mail.DropboxInterval, time.Second)
	if f := cfg.Mail.CAFile; f != "" {
		if _, err := loadCAFile(f); err != nil {
			bad("mail.ca_file", "%v", err)
		}
	}
	if v := cfg.Service.Mailbox; v != "" {
		if _, err := mail.ParseDropboxURL(v); err != nil {
			bad("service.mailbox", "not an address such as \"imaps://USER:PASSWORD@HOST/INBOX\": %v", err)
		}
	}
	duration("service.mailbox_interval", cfg.Service.MailboxInterval, time.Second)
	duration("automation.tick", cfg.Automation.Tick, time.Second)
	if v := cfg.Backup.Schedule; v != "" {
		if _, err := cron.ParseStandard(v); err != nil {
			bad("backup.schedule", "%q is not a cron expression such as \"0 3 * * *\": %v", v, err)
		}
	}
	if cfg.Import.MaxUploadMB < 1 || cfg.Import.MaxUploadMB > 4096 {
		bad("import.max_upload_mb", "%d is not between 1 and 4096", cfg.Import.MaxUploadMB)
	}
	if cfg.Import.MaxRows < 1 {
		bad("import.max_rows", "%d is not a positive number", cfg.Import.MaxRows)
	}
	if cfg.Import.MaxUnzippedMB < 1 {
		bad("import.max_unzipped_mb", "%d is not a positive number", cfg.Import.MaxUnzippedMB)
	}
	if cfg.Attachments.MaxMB < 1 || cfg.Attachments.MaxMB > 1024 {
		bad("attachments.max_mb", "%d is not between 1 and 1024", cfg.Attachments.MaxMB)
	}
	if cfg.Backup.Keep < 0 {
		bad("backup.keep", "%d is negative", cfg.Backup.Keep)
	}
	if _, err := webhook.NewGuard(cfg.Webhooks.Allow); err != nil {
		bad("webhooks.allow", "%v", err)
	}
	duration("webhooks.timeout", cfg.Webhooks.Timeout, time.Second)
	duration("webhooks.drain_interval", cfg.Webhooks.DrainInterval, 100*time.Millisecond)
	if cfg.API.RatePerMinute < 0 {
		bad("api.rate_per_minute", "%d is negative", cfg.API.RatePerMinute)
	}
	oneOf("log.level", cfg.Log.Level, "debug", "info", "warn", "error")
	oneOf("log.format", cfg.Log.Format, "text", "json")
	idleOK := duration("session.idle_timeout", cfg.Session.IdleTimeout, time.Minute)
	absOK := duration("session.absolute_timeout", cfg.Session.AbsoluteTimeout, time.Minute)
	if idleOK && absOK && cfg.idleTimeout() > cfg.absoluteTimeout() {
		bad("session.idle_timeout", "%q is longer than session.absolute_timeout (%q)", cfg.Session.IdleTimeout, cfg.Session.AbsoluteTimeout)
	}
	return errors.Join(errs...)
}

// mustDuration parses a duration that validate has already checked.
func mustDuration(v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil {
		panic("config: unvalidated duration " + strconv.Quote(v))
	}
	return d
}

func (cfg *Config) idleTimeout() time.Duration { return mustDuration(cfg.Session.IdleTimeout) }

func (cfg *Config) absoluteTimeout() time.Duration {
	return mustDuration(cfg.Session.AbsoluteTimeout)
}

// mailDomain is the domain of the sender address, the right-hand side of
// outgoing Message-IDs ("" when no sender is configured).
func (cfg *Config) mailDomain() string {
	a, err := netmail.ParseAddress(cfg.Mail.From)
	if err != nil {
		return ""
	}
	return a.Address[strings.LastIndexByte(a.Address, '@')+1:]
}

// tlsEnabled reports whether the server serves HTTPS itself.
func (cfg *Config) tlsEnabled() bool { return cfg.Server.TLSCert != "" && cfg.Server.TLSKey != "" }

// secureCookies reports whether browsers reach Cartera over HTTPS, directly
// or through a proxy named in base_url.
func (cfg *Config) secureCookies() bool {
	return cfg.tlsEnabled() || strings.HasPrefix(strings.ToLower(cfg.Server.BaseURL), "https://")
}
