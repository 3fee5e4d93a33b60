package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// noEnv is an empty environment.
func noEnv(string) (string, bool) { return "", false }

// writeConfig writes a TOML file into a fresh temporary folder.
func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfig_DefaultsWithoutFile(t *testing.T) {
	cfg, err := loadConfig("", noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, defaultConfig()) {
		t.Fatalf("config = %+v, want defaults %+v", cfg, defaultConfig())
	}
	if cfg.Server.Addr != ":8080" || cfg.Database.Path != "cartera.db" || cfg.Backup.Keep != 14 ||
		cfg.Automation.Tick != "1m" || cfg.Log.Level != "info" || cfg.Log.Format != "text" {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	if cfg.idleTimeout().Hours() != 12 || cfg.absoluteTimeout().Hours() != 720 {
		t.Fatalf("session timeouts = %s, %s", cfg.idleTimeout(), cfg.absoluteTimeout())
	}
}

// The example file documents every key, with its environment variable, and
// its values are the defaults, so copying it changes nothing.
func TestConfig_ExampleDocumentsEveryKeyWithDefaults(t *testing.T) {
	cfg, err := loadConfig("config.example.toml", noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, defaultConfig()) {
		t.Fatalf("config.example.toml = %+v, want defaults %+v", cfg, defaultConfig())
	}
	text, err := os.ReadFile("config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	section := ""
	keys := map[string]bool{}
	for _, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
		} else if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[section+"."+strings.TrimSpace(k)] = true
		}
	}
	for _, f := range defaultConfig().fields() {
		if !keys[f.key] {
			t.Errorf("config.example.toml does not set %s", f.key)
		}
		if !bytes.Contains(text, []byte(f.env)) {
			t.Errorf("config.example.toml does not mention %s", f.env)
		}
	}
}

func TestConfig_EnvNames(t *testing.T) {
	want := []string{"CARTERA_SERVER_ADDR", "CARTERA_DATABASE_PATH", "CARTERA_MAIL_PASSWORD", "CARTERA_AUTOMATION_TICK",
		"CARTERA_SESSION_IDLE_TIMEOUT", "CARTERA_SERVER_TLS_CERT", "CARTERA_BACKUP_KEEP", "CARTERA_LOG_FORMAT"}
	have := map[string]bool{}
	for _, f := range defaultConfig().fields() {
		have[f.env] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("no environment variable %s", w)
		}
	}
}

// loadServeConfig parses serve's flags as the command does and loads the
// configuration from the real process environment.
func loadServeConfig(t *testing.T, args ...string) *Config {
	t.Helper()
	var stderr bytes.Buffer
	c := newServeCmd(&env{stderr: &stderr, lookupEnv: os.LookupEnv})
	if _, code := parseFlags(c.fs, args); code >= 0 {
		t.Fatalf("parsing %q: exit %d: %s", args, code, stderr.String())
	}
	cfg, err := c.f.load(c.e)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestConfig_Precedence(t *testing.T) {
	for _, k := range []string{"CARTERA_SERVER_ADDR", "CARTERA_DATABASE_PATH", "CARTERA_MAIL_PORT", "CARTERA_SERVER_PPROF", "CARTERA_LOG_LEVEL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	file := writeConfig(t, "cartera.toml", `
[server]
addr = "127.0.0.1:9001"
pprof = true

[database]
path = "from-file.db"

[mail]
port = 2525

[log]
level = "warn"
`)

	t.Run("defaults without file, env or flags", func(t *testing.T) {
		cfg := loadServeConfig(t)
		if cfg.Server.Addr != ":8080" || cfg.Database.Path != "cartera.db" || cfg.Mail.Port != 587 || cfg.Server.Pprof {
			t.Fatalf("config = %+v", cfg)
		}
	})
	t.Run("file over defaults", func(t *testing.T) {
		cfg := loadServeConfig(t, "--config", file)
		if cfg.Server.Addr != "127.0.0.1:9001" || cfg.Database.Path != "from-file.db" || cfg.Mail.Port != 2525 ||
			!cfg.Server.Pprof || cfg.Log.Level != "warn" {
			t.Fatalf("config = %+v", cfg)
		}
		if cfg.Log.Format != "text" || cfg.Mail.TLS != "starttls" {
			t.Fatalf("keys absent from the file lost their defaults: %+v", cfg)
		}
	})
	t.Run("env over file", func(t *testing.T) {
		t.Setenv("CARTERA_SERVER_ADDR", "127.0.0.1:9002")
		t.Setenv("CARTERA_DATABASE_PATH", "from-env.db")
		t.Setenv("CARTERA_MAIL_PORT", "465")
		t.Setenv("CARTERA_SERVER_PPROF", "false")
		cfg := loadServeConfig(t, "--config", file)
		if cfg.Server.Addr != "127.0.0.1:9002" || cfg.Database.Path != "from-env.db" || cfg.Mail.Port != 465 || cfg.Server.Pprof {
			t.Fatalf("config = %+v", cfg)
		}
		if cfg.Log.Level != "warn" {
			t.Fatalf("a key without env var lost its file value: %+v", cfg)
		}
	})
	t.Run("flags over env, only when given", func(t *testing.T) {
		t.Setenv("CARTERA_SERVER_ADDR", "127.0.0.1:9002")
		t.Setenv("CARTERA_DATABASE_PATH", "from-env.db")
		cfg := loadServeConfig(t, "--config", file, "--addr", "127.0.0.1:9003", "--db", "from-flag.db")
		if cfg.Server.Addr != "127.0.0.1:9003" || cfg.Database.Path != "from-flag.db" {
			t.Fatalf("config = %+v", cfg)
		}
		// A flag left at its default must not hide the environment.
		cfg = loadServeConfig(t, "--config", file, "--db", "from-flag.db")
		if cfg.Server.Addr != "127.0.0.1:9002" {
			t.Fatalf("addr = %q, want the environment's", cfg.Server.Addr)
		}
	})
}

func TestConfig_UnknownKeysNameFileAndKey(t *testing.T) {
	file := writeConfig(t, "config.toml", "[server]\nadress = \":9000\"\n\n[mailer]\nhost = \"smtp.example.com\"\n")
	_, err := loadConfig(file, noEnv, nil)
	if err == nil {
		t.Fatal("unknown keys accepted")
	}
	msg := err.Error()
	for _, want := range []string{file + ":", `unknown key "server.adress"`, `unknown key "mailer"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
}

func TestConfig_MissingFileIsAnError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.toml")
	_, err := loadConfig(missing, noEnv, nil)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v, want one naming %s", err, missing)
	}
}

func TestConfig_InvalidValuesAreRejected(t *testing.T) {
	cases := []struct {
		name, file string
		env        map[string]string
		key        string // the error must name it
	}{
		{name: "mail tls", file: "[mail]\ntls = \"ssl\"", key: "mail.tls"},
		{name: "mail port range", file: "[mail]\nport = 70000", key: "mail.port"},
		{name: "mail port type", file: "[mail]\nport = \"smtp\"", key: "mail.port"},
		{name: "mail timeout", file: "[mail]\ntimeout = \"30 seconds\"", key: "mail.timeout"},
		{name: "mail drain interval", file: "[mail]\ndrain_interval = \"10ms\"", key: "mail.drain_interval"},
		{name: "mail from required with host", file: "[mail]\nhost = \"smtp.example.com\"", key: "mail.from"},
		{name: "mail from with a line break", file: "[mail]\nhost = \"smtp.example.com\"\nfrom = \"a@b.com\\r\\nBcc: c@d.com\"", key: "mail.from"},
		{name: "dropbox scheme", file: "[mail]\ndropbox = \"pop3://mail.example.com\"", key: "mail.dropbox"},
		{name: "automation tick", file: "[automation]\ntick = \"soon\"", key: "automation.tick"},
		{name: "backup schedule", file: "[backup]\nschedule = \"every night\"", key: "backup.schedule"},
		{name: "backup keep", file: "[backup]\nkeep = -1", key: "backup.keep"},
		{name: "log level", file: "[log]\nlevel = \"verbose\"", key: "log.level"},
		{name: "log format", file: "[log]\nformat = \"xml\"", key: "log.format"},
		{name: "idle timeout", file: "[session]\nidle_timeout = \"half a day\"", key: "session.idle_timeout"},
		{name: "idle longer than absolute", file: "[session]\nidle_timeout = \"48h\"\nabsolute_timeout = \"24h\"", key: "session.idle_timeout"},
		{name: "server addr", file: "[server]\naddr = \"8080\"", key: "server.addr"},
		{name: "base url", file: "[server]\nbase_url = \"crm.example.com\"", key: "server.base_url"},
		{name: "tls half set", file: "[server]\ntls_cert = \"cert.pem\"", key: "server.tls_cert"},
		{name: "env int", env: map[string]string{"CARTERA_MAIL_PORT": "smtp"}, key: "CARTERA_MAIL_PORT"},
		{name: "env bool", env: map[string]string{"CARTERA_SERVER_PPROF": "sure"}, key: "CARTERA_SERVER_PPROF"},
		{name: "env value", env: map[string]string{"CARTERA_LOG_LEVEL": "loud"}, key: "log.level"},
		{name: "env duration", env: map[string]string{"CARTERA_SESSION_ABSOLUTE_TIMEOUT": "30d"}, key: "session.absolute_timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeConfig(t, "cartera.toml", tc.file+"\n")
			}
			lookup := func(k string) (string, bool) {
				v, ok := tc.env[k]
				return v, ok
			}
			_, err := loadConfig(path, lookup, nil)
			if err == nil {
				t.Fatal("invalid configuration accepted")
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error %q does not name %s", err, tc.key)
			}
		})
	}
}

func TestSetupLink(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4zero, Port: 43210}
	cases := []struct {
		addr, baseURL, cert string
		want                string
	}{
		{addr: ":8080", want: "http://localhost:43210/setup?token=T"},
		{addr: "0.0.0.0:0", want: "http://localhost:43210/setup?token=T"},
		{addr: "[::]:0", want: "http://localhost:43210/setup?token=T"},
		{addr: "127.0.0.1:0", want: "http://127.0.0.1:43210/setup?token=T"},
		{addr: "crm.lan:8080", want: "http://crm.lan:43210/setup?token=T"},
		{addr: "[::1]:0", want: "http://[::1]:43210/setup?token=T"},
		{addr: ":8443", cert: "cert.pem", want: "https://localhost:43210/setup?token=T"},
		{addr: ":8080", baseURL: "https://crm.example.com/", want: "https://crm.example.com/setup?token=T"},
	}
	for _, tc := range cases {
		cfg := defaultConfig()
		cfg.Server.Addr, cfg.Server.BaseURL = tc.addr, tc.baseURL
		cfg.Server.TLSCert, cfg.Server.TLSKey = tc.cert, tc.cert
		if got := setupLink(cfg, bound, "T"); got != tc.want {
			t.Errorf("setupLink(%q, %q) = %q, want %q", tc.addr, tc.baseURL, got, tc.want)
		}
	}
}

func TestSecureCookies(t *testing.T) {
	cfg := defaultConfig()
	if cfg.secureCookies() {
		t.Fatal("plain HTTP marked secure")
	}
	cfg.Server.BaseURL = "https://crm.example.com"
	if !cfg.secureCookies() {
		t.Fatal("https base_url not marked secure")
	}
	cfg = defaultConfig()
	cfg.Server.TLSCert, cfg.Server.TLSKey = "c.pem", "k.pem"
	if !cfg.secureCookies() {
		t.Fatal("TLS not marked secure")
	}
}
