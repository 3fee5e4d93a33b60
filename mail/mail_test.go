package mail_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"net"
	netmail "net/mail"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"cartera/mail"
	"cartera/store"
)

// received is one message the test SMTP server accepted.
type received struct {
	From string
	To   []string
	Msg  *netmail.Message
	Body string
}

// smtpServer is a real SMTP server in the test process that records what it
// accepts; reject, when set, makes it answer RCPT TO with that error.
type smtpServer struct {
	mu     sync.Mutex
	msgs   []received
	reject *smtp.SMTPError
	srv    *smtp.Server
	addr   string
}

func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }

type session struct {
	srv  *smtpServer
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.srv.reject != nil {
		return s.srv.reject
	}
	s.to = append(s.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := netmail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(m.Body)
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, received{From: s.from, To: s.to, Msg: m, Body: string(body)})
	s.srv.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// startSMTP serves on addr ("127.0.0.1:0" for any port) until the test ends.
func startSMTP(t testing.TB, addr string) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *smtpServer) setReject(e *smtp.SMTPError) { s.mu.Lock(); s.reject = e; s.mu.Unlock() }

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// freeAddr returns a local address nobody listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// clock is a test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }
func quiet() *slog.Logger            { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// must panics on a setup error; the test fails with its message.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// fixture is a store with an admin, a clock, and a drainer pointed at addr.
type fixture struct {
	st     *store.Store
	admin  *store.Actor
	clock  *clock
	drain  *mail.Drainer
	sender *mail.Sender
}

func newFixture(t *testing.T, addr string) *fixture {
	t.Helper()
	ctx := context.Background()
	c := newClock()
	st := must(store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "cartera.db"), PasswordMemoryKiB: 64, PasswordTime: 1,
		Now: c.Now, Logger: quiet(), MailDomain: "empresa.example"}))
	t.Cleanup(func() { st.Close() })
	u := must(st.Setup(ctx, store.SetupInput{
		Company:   store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna Puig", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura",
	}))
	admin := must(st.ActorFor(ctx, u.ID))
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	snd := must(mail.NewSender(mail.Config{Host: host, Port: p, From: "Empresa ABC <crm@empresa.example>", TLS: "none", Timeout: 3 * time.Second}))
	d := mail.NewDrainer(st, snd)
	d.Now, d.Logger, d.Lease = c.Now, quiet(), time.Minute
	return &fixture{st: st, admin: admin, clock: c, drain: d, sender: snd}
}

func (f *fixture) queue(t *testing.T, key, to string) *store.OutboxMessage {
	t.Helper()
	return must(f.st.QueueEmail(context.Background(), f.admin, store.OutgoingEmail{
		Key: key, To: to, ToName: "Laura García", ReplyTo: "anna@example.com", Subject: "Seguiment – ¿com va?", Text: "Bon dia,\nfins aviat.", HTML: "<p>Bon dia</p>",
	}))
}

func (f *fixture) status(t *testing.T, id int64) *store.OutboxMessage {
	t.Helper()
	return must(f.st.GetOutbox(context.Background(), f.admin, id))
}

// TestDrainer_Deliver checks that queued messages arrive once with the
// derived Message-ID, the configured sender, the Reply-To and both bodies.
func TestDrainer_Deliver(t *testing.T) {
	ctx := context.Background()
	srv := startSMTP(t, "127.0.0.1:0")
	f := newFixture(t, srv.addr)
	m1 := f.queue(t, "k1", "laura@example.com")
	m2 := f.queue(t, "k2", "jordi@example.com")
	f.queue(t, "k1", "laura@example.com") // same key: no second message

	t.Run("delivered once with headers", func(t *testing.T) {
		if n, err := f.drain.DrainOnce(ctx); err != nil || n != 2 {
			t.Fatalf("drain: %d %v", n, err)
		}
		if n, _ := f.drain.DrainOnce(ctx); n != 0 {
			t.Fatalf("second drain sent %d", n)
		}
		got := srv.received()
		if len(got) != 2 {
			t.Fatalf("received %d messages", len(got))
		}
		byTo := map[string]received{}
		for _, r := range got {
			byTo[r.To[0]] = r
		}
		r := byTo["laura@example.com"]
		h := r.Msg.Header
		if h.Get("Message-Id") != "<"+m1.MessageID+">" || !strings.HasSuffix(m1.MessageID, "@empresa.example") {
			t.Errorf("Message-ID %q, want <%s>", h.Get("Message-Id"), m1.MessageID)
		}
		if h.Get("Reply-To") != "<anna@example.com>" {
			t.Errorf("Reply-To %q", h.Get("Reply-To"))
		}
		if r.From != "crm@empresa.example" || !strings.Contains(h.Get("From"), "crm@empresa.example") {
			t.Errorf("From: envelope %q header %q", r.From, h.Get("From"))
		}
		dec := new(mime.WordDecoder)
		if subj, _ := dec.DecodeHeader(h.Get("Subject")); subj != "Seguiment – ¿com va?" {
			t.Errorf("Subject %q", subj)
		}
		if !strings.Contains(r.Body, "text/plain") || !strings.Contains(r.Body, "text/html") {
			t.Errorf("body lacks plain or HTML part: %s", r.Body)
		}
		if byTo["jordi@example.com"].Msg.Header.Get("Message-Id") != "<"+m2.MessageID+">" {
			t.Error("second message's Message-ID")
		}
		if s := f.status(t, m1.ID); s.Status != store.OutboxSent || s.Attempts != 1 {
			t.Errorf("row after send: %s, %d attempts", s.Status, s.Attempts)
		}
	})

	t.Run("CR/LF subject refused before queueing", func(t *testing.T) {
		_, err := f.st.QueueEmail(ctx, f.admin, store.OutgoingEmail{Key: "inj", To: "laura@example.com", Subject: "Hola\r\nBcc: x@y.com", Text: "x"})
		if store.ErrorCode(err) != store.CodeInvalid {
			t.Fatalf("err %v, want invalid", err)
		}
		err = f.sender.Send(ctx, &store.OutboxMessage{To: "laura@example.com", Subject: "Hola\r\nBcc: x@y.com", Text: "x", MessageID: "a@b"})
		if !mail.IsPermanent(err) {
			t.Errorf("sender accepted a CR/LF subject: %v", err)
		}
		f.drain.DrainOnce(ctx)
		if n := len(srv.received()); n != 2 {
			t.Errorf("server received %d messages, want 2", n)
		}
	})
}

// TestDrainer_Retry covers SMTP down then up, 4xx retried after the
// backoff, 5xx failed without retry, and a crash mid-send.
func TestDrainer_Retry(t *testing.T) {
	ctx := context.Background()

	t.Run("SMTP down then up delivers everything once", func(t *testing.T) {
		addr := freeAddr(t)
		f := newFixture(t, addr)
		var ids []int64
		for i := range 5 {
			ids = append(ids, f.queue(t, "down"+strconv.Itoa(i), "c"+strconv.Itoa(i)+"@example.com").ID)
		}
		if n, err := f.drain.DrainOnce(ctx); err != nil || n != 0 {
			t.Fatalf("drain while down: %d %v", n, err)
		}
		for _, id := range ids {
			if s := f.status(t, id); s.Status != store.OutboxPending || s.LastError == "" || s.Attempts != 1 {
				t.Fatalf("after a failed attempt: %+v", s)
			}
		}
		f.clock.Add(30 * time.Second) // before the 1-minute backoff
		srv := startSMTP(t, addr)
		if n, _ := f.drain.DrainOnce(ctx); n != 0 {
			t.Fatalf("sent %d before the backoff", n)
		}
		f.clock.Add(31 * time.Second)
		if n, err := f.drain.DrainOnce(ctx); err != nil || n != 5 {
			t.Fatalf("drain when up: %d %v", n, err)
		}
		f.clock.Add(time.Hour)
		f.drain.DrainOnce(ctx)
		if got := srv.received(); len(got) != 5 {
			t.Fatalf("received %d, want 5", len(got))
		}
		for _, id := range ids {
			if s := f.status(t, id); s.Status != store.OutboxSent {
				t.Errorf("message %d: %s", id, s.Status)
			}
		}
	})

	t.Run("SMTP closed mid-life then reopened", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0")
		f := newFixture(t, srv.addr)
		f.queue(t, "a", "a@example.com")
		f.drain.DrainOnce(ctx)
		srv.srv.Close()
		m := f.queue(t, "b", "b@example.com")
		f.drain.DrainOnce(ctx)
		if s := f.status(t, m.ID); s.Status != store.OutboxPending {
			t.Fatalf("with the server closed: %s", s.Status)
		}
		srv2 := startSMTP(t, srv.addr)
		f.clock.Add(2 * time.Minute)
		if n, _ := f.drain.DrainOnce(ctx); n != 1 {
			t.Fatalf("after reopening sent %d", n)
		}
		if len(srv.received()) != 1 || len(srv2.received()) != 1 {
			t.Errorf("deliveries: %d + %d", len(srv.received()), len(srv2.received()))
		}
	})

	t.Run("4xx is retried later", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0")
		f := newFixture(t, srv.addr)
		srv.setReject(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"})
		m := f.queue(t, "t", "laura@example.com")
		f.drain.DrainOnce(ctx)
		s := f.status(t, m.ID)
		if s.Status != store.OutboxPending || !strings.Contains(s.LastError, "451") || !s.NextAttemptAt.Equal(f.clock.Now().Add(time.Minute)) {
			t.Fatalf("after 451: %+v", s)
		}
		srv.setReject(nil)
		f.clock.Add(time.Minute)
		if n, _ := f.drain.DrainOnce(ctx); n != 1 {
			t.Fatalf("retry sent %d", n)
		}
		if s := f.status(t, m.ID); s.Status != store.OutboxSent || s.Attempts != 2 {
			t.Errorf("after retry: %s %d", s.Status, s.Attempts)
		}
	})

	t.Run("5xx fails without retry", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0")
		f := newFixture(t, srv.addr)
		srv.setReject(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"})
		m := f.queue(t, "p", "nobody@example.com")
		f.drain.DrainOnce(ctx)
		s := f.status(t, m.ID)
		if s.Status != store.OutboxFailed || !strings.Contains(s.LastError, "550") {
			t.Fatalf("after 550: %+v", s)
		}
		srv.setReject(nil)
		f.clock.Add(24 * time.Hour)
		f.drain.DrainOnce(ctx)
		if s := f.status(t, m.ID); s.Status != store.OutboxFailed || s.Attempts != 1 || len(srv.received()) != 0 {
			t.Errorf("failed message retried: %+v", s)
		}
		if err := f.st.RetryOutbox(ctx, f.admin, m.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := f.drain.DrainOnce(ctx); n != 1 {
			t.Errorf("admin retry sent %d", n)
		}
	})

	t.Run("crash mid-send: the lease expires and the same Message-ID is sent", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0")
		f := newFixture(t, srv.addr)
		m := f.queue(t, "crash", "laura@example.com")
		// A drainer that claimed the message and died before recording.
		if c, _ := f.st.ClaimOutbox(ctx, f.clock.Now(), time.Minute, 10); len(c) != 1 {
			t.Fatal("claim")
		}
		if n, _ := f.drain.DrainOnce(ctx); n != 0 {
			t.Fatal("leased message sent before its lease expired")
		}
		f.clock.Add(61 * time.Second)
		if n, _ := f.drain.DrainOnce(ctx); n != 1 {
			t.Fatal("expired lease not taken over")
		}
		got := srv.received()
		if len(got) != 1 || got[0].Msg.Header.Get("Message-Id") != "<"+m.MessageID+">" {
			t.Errorf("received %d, Message-ID %q", len(got), got[0].Msg.Header.Get("Message-Id"))
		}
	})

	t.Run("Run stops on cancel", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0")
		f := newFixture(t, srv.addr)
		f.drain.Interval = 20 * time.Millisecond
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { f.drain.Run(rctx); close(done) }()
		f.queue(t, "run", "laura@example.com")
		deadline := time.Now().Add(5 * time.Second)
		for len(srv.received()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		if len(srv.received()) != 1 {
			t.Errorf("Run delivered %d", len(srv.received()))
		}
	})
}

// TestDrainer_SendNow covers the immediate send of the test e-mail.
func TestDrainer_SendNow(t *testing.T) {
	ctx := context.Background()
	srv := startSMTP(t, "127.0.0.1:0")
	f := newFixture(t, srv.addr)
	m := f.queue(t, "now", "laura@example.com")
	if err := f.drain.SendNow(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.drain.SendNow(ctx, m.ID); store.ErrorCode(err) != store.CodeConflict {
		t.Errorf("second SendNow: %v", err)
	}
	f.drain.DrainOnce(ctx)
	if len(srv.received()) != 1 {
		t.Errorf("received %d", len(srv.received()))
	}
	srv.setReject(&smtp.SMTPError{Code: 554, Message: "Rejected"})
	m2 := f.queue(t, "now2", "laura@example.com")
	err := f.drain.SendNow(ctx, m2.ID)
	if !mail.IsPermanent(err) || !strings.Contains(err.Error(), "554") {
		t.Errorf("SendNow error %v", err)
	}
}
