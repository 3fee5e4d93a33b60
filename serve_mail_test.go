package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"cartera/store"
)

// mailSink is an SMTP server in the test process that keeps every message.
type mailSink struct {
	mu   sync.Mutex
	msgs []string
}

func (k *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSinkSession{k: k}, nil }

type mailSinkSession struct{ k *mailSink }

func (s *mailSinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.k.mu.Lock()
	s.k.msgs = append(s.k.msgs, string(b))
	s.k.mu.Unlock()
	return err
}
func (s *mailSinkSession) Reset()        {}
func (s *mailSinkSession) Logout() error { return nil }

// startMailSink serves SMTP on 127.0.0.1 until the test ends and returns
// the sink with its host and port.
func startMailSink(t *testing.T) (*mailSink, string, string) {
	t.Helper()
	sink := &mailSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	return sink, host, port
}

func (k *mailSink) all() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.msgs...)
}

// TestServe_DeliversOutbox runs `cartera serve` with [mail] pointing at an
// SMTP server in the test process: a message in the outbox arrives with its
// Message-ID, and the drainer stops cleanly on SIGTERM.
func TestServe_DeliversOutbox(t *testing.T) {
	needBinary(t)
	ctx := context.Background()
	sink, host, port := startMailSink(t)

	dir := t.TempDir()
	db := filepath.Join(dir, "cartera.db")
	mustRun(t, dir, adminPassword+"\n", "init", "--db", db,
		"--company", "Empresa ABC", "--admin-email", "anna@example.com", "--admin-name", "Anna Puig")
	conf := filepath.Join(dir, "cartera.toml")
	os.WriteFile(conf, []byte("[mail]\nhost = \""+host+"\"\nport = "+port+"\ntls = \"none\"\nfrom = \"Empresa ABC <crm@empresa.example>\"\ndrain_interval = \"100ms\"\n"), 0o600)
	srv := startServer(t, dir, "--addr", "127.0.0.1:0", "--db", db, "--config", conf)

	// Queue through the store as a feature would; the server drains it.
	st, err := store.Open(ctx, store.Options{Path: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := st.QueueEmail(ctx, store.SystemActor(), store.OutgoingEmail{Key: "e2e:1", To: "laura@example.com", Subject: "Hola", Text: "Bon dia"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(sink.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := sink.all()
	if len(got) != 1 || !strings.Contains(got[0], "Message-ID: <"+m.MessageID+">") || !strings.Contains(got[0], "crm@empresa.example") {
		t.Fatalf("received %d messages: %q\nserver log:\n%s", len(got), got, srv.stderr)
	}
	if !strings.Contains(srv.stderr.String(), "sending e-mail") {
		t.Errorf("serve did not log its SMTP server")
	}
	srv.stop(t)
	time.Sleep(200 * time.Millisecond)
	if n := len(sink.all()); n != 1 {
		t.Errorf("delivered %d times", n)
	}
}

// TestServe_FollowUpRule is the README's e-mail walk-through with the real
// binary: [mail] and [automation] from the environment, seed 000's
// follow-up rule (a few seconds instead of three days) e-mails the contact
// created after the rule, not the older one, exactly once across a restart.
func TestServe_FollowUpRule(t *testing.T) {
	needBinary(t)
	ctx := context.Background()
	sink, host, port := startMailSink(t)

	dir := t.TempDir()
	db := filepath.Join(dir, "cartera.db")
	mustRun(t, dir, adminPassword+"\n", "init", "--db", db,
		"--company", "Empresa ABC", "--admin-email", "anna@example.com", "--admin-name", "Anna Puig")
	st, err := store.Open(ctx, store.Options{Path: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	admin, err := st.ActorFor(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &store.EmailTemplate{Name: "Seguiment", Language: "ca", Entity: store.EntContacts, Subject: "Com va, {{contact.first_name}}?", BodyText: "Hola {{contact.first_name}}"}
	if err := st.SaveEmailTemplate(ctx, admin, tpl); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Vell", "email": "vell@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWorkflow(ctx, admin, &store.Workflow{
		Name: "Seguiment", Entity: store.EntContacts, Enabled: true,
		Trigger: store.Trigger{Type: "time_after", Event: "created", Delay: "3s"},
		Actions: []store.WorkflowAction{{Type: "send_email", To: "record", TemplateID: store.FlexInt(tpl.ID)}},
	}); err != nil {
		t.Fatal(err)
	}
	env := []string{"CARTERA_MAIL_HOST=" + host, "CARTERA_MAIL_PORT=" + port, "CARTERA_MAIL_TLS=none",
		"CARTERA_MAIL_FROM=Empresa ABC <crm@empresa.example>", "CARTERA_AUTOMATION_TICK=1s", "CARTERA_MAIL_DRAIN_INTERVAL=200ms"}
	srv := startServerEnv(t, dir, env, "--addr", "127.0.0.1:0", "--db", db)
	if _, err := st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Laura", "email": "laura@example.com"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(sink.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := sink.all()
	if len(got) != 1 || !strings.Contains(got[0], "laura@example.com") || !strings.Contains(got[0], "Com va, Laura?") {
		t.Fatalf("received %d messages: %q\nserver log:\n%s", len(got), got, srv.stderr)
	}
	srv.stop(t)
	srv = startServerEnv(t, dir, env, "--addr", "127.0.0.1:0", "--db", db)
	time.Sleep(2500 * time.Millisecond)
	srv.stop(t)
	if n := len(sink.all()); n != 1 {
		t.Errorf("delivered %d messages, want 1", n)
	}
}
