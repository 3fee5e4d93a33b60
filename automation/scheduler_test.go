package automation_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"cartera/automation"
	"cartera/mail"
	"cartera/store"
)

// sink is an SMTP server in the test process that keeps every message.
type sink struct {
	mu   sync.Mutex
	msgs []string
	at   []time.Time
}

func (k *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{k: k}, nil }

type session struct{ k *sink }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.k.mu.Lock()
	s.k.msgs = append(s.k.msgs, string(b))
	s.k.at = append(s.k.at, time.Now())
	s.k.mu.Unlock()
	return err
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func (k *sink) all() ([]string, []time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.msgs...), append([]time.Time(nil), k.at...)
}

// mustSMTP starts an SMTP server on 127.0.0.1:0 and returns a sender to it.
func mustSMTP(t *testing.T) (*sink, *mail.Sender) {
	t.Helper()
	k := &sink{}
	srv := smtp.NewServer(k)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	snd, err := mail.NewSender(mail.Config{Host: host, Port: p, TLS: "none", From: "Empresa ABC <crm@empresa.example>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return k, snd
}

func mustStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: path, PasswordMemoryKiB: 64, PasswordTime: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// start runs a scheduler and a drainer until the returned stop is called.
func start(t *testing.T, st *store.Store, snd *mail.Sender, tick time.Duration) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sch := automation.New(st)
	sch.Tick = tick
	sch.Logger = slog.New(slog.DiscardHandler)
	d := mail.NewDrainer(st, snd)
	d.Interval = 100 * time.Millisecond
	d.Logger = sch.Logger
	var wg sync.WaitGroup
	wg.Go(func() { sch.Run(ctx) })
	wg.Go(func() { d.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// TestScheduler_FollowUp is the acceptance test: the follow-up
// e-mail reaches a real SMTP server at its due time (with a one-minute
// tick: the scheduler sleeps exactly until the due-time), not for a contact
// older than the rule, and exactly once across a restart.
func TestScheduler_FollowUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cartera.db")
	st := mustStore(t, path)
	u, err := st.Setup(ctx, store.SetupInput{
		Company:   store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna Puig", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura",
	})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := st.ActorFor(ctx, u.ID)
	box, snd := mustSMTP(t)
	tpl := &store.EmailTemplate{Name: "Seguiment", Language: "ca", Entity: store.EntContacts, Subject: "Com va, {{contact.first_name}}?", BodyText: "Hola {{contact.first_name}}"}
	if err := st.SaveEmailTemplate(ctx, admin, tpl); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Vell", "email": "vell@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWorkflow(ctx, admin, &store.Workflow{
		Name: "Seguiment", Entity: store.EntContacts, Enabled: true,
		Trigger: store.Trigger{Type: "time_after", Event: "created", Delay: "2s"},
		Actions: []store.WorkflowAction{{Type: "send_email", To: "record", TemplateID: store.FlexInt(tpl.ID)}},
	}); err != nil {
		t.Fatal(err)
	}
	stop := start(t, st, snd, time.Minute)
	c, err := st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Laura", "email": "laura@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, 10*time.Second, func() bool { m, _ := box.all(); return len(m) > 0 }) {
		stop()
		t.Fatal("the follow-up never arrived")
	}
	msgs, at := box.all()
	if !strings.Contains(msgs[0], "laura@example.com") || !strings.Contains(msgs[0], "Com va, Laura?") {
		t.Fatalf("message: %s", msgs[0])
	}
	due := c.CreatedAt.Add(2 * time.Second)
	if at[0].Before(due) || at[0].After(due.Add(3*time.Second)) {
		t.Errorf("arrived at %v, due at %v", at[0], due)
	}
	stop()
	// A new scheduler on the same database (a restart) sends nothing more.
	stop = start(t, st, snd, time.Second)
	time.Sleep(2500 * time.Millisecond)
	stop()
	if msgs, _ := box.all(); len(msgs) != 1 {
		t.Fatalf("received %d messages, want 1", len(msgs))
	}
}

// TestScheduler_Immediate: a "created" rule runs right after the write,
// without waiting for the tick.
func TestScheduler_Immediate(t *testing.T) {
	ctx := context.Background()
	st := mustStore(t, filepath.Join(t.TempDir(), "cartera.db"))
	u, err := st.Setup(ctx, store.SetupInput{
		Company:   store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna Puig", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura",
	})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := st.ActorFor(ctx, u.ID)
	_, snd := mustSMTP(t)
	if err := st.CreateWorkflow(ctx, admin, &store.Workflow{
		Name: "Etiqueta", Entity: store.EntLeads, Enabled: true,
		Trigger: store.Trigger{Type: "created"},
		Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "nou"}},
	}); err != nil {
		t.Fatal(err)
	}
	stop := start(t, st, snd, time.Hour)
	defer stop()
	time.Sleep(100 * time.Millisecond)
	l, err := st.CreateRecord(ctx, admin, store.EntLeads, store.Input{Values: map[string]any{"first_name": "Nil"}})
	if err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, 2*time.Second, func() bool {
		r, _ := st.FindRecord(ctx, admin, store.EntLeads, l.ID)
		return r != nil && len(r.Tags) == 1
	}) {
		t.Fatal("the rule did not run within two seconds")
	}
}
