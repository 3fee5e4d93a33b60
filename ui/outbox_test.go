package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"cartera/mail"
	"cartera/store"
	"cartera/ui"
)

// smtpSink is a real SMTP server in the test process counting what it
// accepts; reject makes it refuse recipients with that error.
type smtpSink struct {
	mu     sync.Mutex
	got    []string
	reject *smtp.SMTPError
}

func (k *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{k: k}, nil }

type sinkSession struct{ k *smtpSink }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	if s.k.reject != nil {
		return s.k.reject
	}
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.k.mu.Lock()
	s.k.got = append(s.k.got, string(b))
	s.k.mu.Unlock()
	return err
}
func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }

func (k *smtpSink) count() int { k.mu.Lock(); defer k.mu.Unlock(); return len(k.got) }

// lateSender lets the test build the drainer after the store exists.
type lateSender struct{ d *mail.Drainer }

func (l *lateSender) SendNow(ctx context.Context, id int64) error { return l.d.SendNow(ctx, id) }

// TestUI_Outbox covers the outbox page, the test e-mail (sent at once
// through a real SMTP server, with its answer shown), retry and cancel, and
// refusal to a salesperson.
func TestUI_Outbox(t *testing.T) {
	ctx := context.Background()
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	late := &lateSender{}
	e := mustServer(t, func(o *ui.Options) { o.Mail = late; o.MailConfigured = true })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	snd, err := mail.NewSender(mail.Config{Host: host, Port: p, From: "crm@empresa.example", TLS: "none", Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	late.d = mail.NewDrainer(e.st, snd)
	late.d.Now = e.clock.Now
	late.d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	admin := e.mustSetupAdmin()
	e.mustUser(admin, "marc@example.com", "salesperson")
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")

	t.Run("settings index links the outbox; page renders", func(t *testing.T) {
		_, body := b.get("/settings")
		if !strings.Contains(body, `href="/settings/outbox"`) {
			t.Error("settings index lacks the outbox link")
		}
		code, body := b.get("/settings/outbox")
		if code != http.StatusOK || !strings.Contains(body, "Outbox") || !strings.Contains(body, "Send a test e-mail") || strings.Contains(body, "mail.") {
			t.Fatalf("outbox page: %d %s", code, body)
		}
	})

	t.Run("test e-mail is sent at once and listed as sent", func(t *testing.T) {
		code, body := b.postBody("/settings/outbox/test", url.Values{"to": {"laura@example.com"}})
		if code != http.StatusOK || !strings.Contains(body, "The SMTP server accepted the test e-mail to laura@example.com") {
			t.Fatalf("test e-mail: %d %s", code, body)
		}
		if sink.count() != 1 {
			t.Fatalf("SMTP server received %d", sink.count())
		}
		msgs, _ := e.st.FindOutbox(ctx, admin, store.OutboxFilter{})
		if len(msgs) != 1 || msgs[0].Status != store.OutboxSent || msgs[0].ReplyTo != "anna@example.com" {
			t.Fatalf("outbox: %+v", msgs)
		}
		if !strings.Contains(body, "Sent") {
			t.Error("list does not show the sent message")
		}
	})

	t.Run("bad address refused with a field error", func(t *testing.T) {
		code, body := b.postBody("/settings/outbox/test", url.Values{"to": {"laura@example.com\r\nBcc: x@y.com"}})
		if code != http.StatusUnprocessableEntity && code != http.StatusBadRequest {
			t.Errorf("status %d", code)
		}
		if !strings.Contains(body, "Enter a valid e-mail address.") {
			t.Errorf("no field error: %s", body)
		}
		if sink.count() != 1 {
			t.Errorf("SMTP server received %d", sink.count())
		}
	})

	t.Run("server refusal is shown; retry and cancel", func(t *testing.T) {
		sink.mu.Lock()
		sink.reject = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
		sink.mu.Unlock()
		code, body := b.postBody("/settings/outbox/test", url.Values{"to": {"nobody@example.com"}})
		if code != http.StatusOK || !strings.Contains(body, "was not sent") || !strings.Contains(body, "Mailbox unavailable") {
			t.Fatalf("refusal not shown: %d %s", code, body)
		}
		msgs, _ := e.st.FindOutbox(ctx, admin, store.OutboxFilter{Status: store.OutboxFailed})
		if len(msgs) != 1 {
			t.Fatalf("failed messages: %d", len(msgs))
		}
		id := strconvFormat(msgs[0].ID)
		if !strings.Contains(body, `action="/settings/outbox/`+id+`/retry"`) {
			t.Error("no retry button on the failed message")
		}
		if resp := b.post("/settings/outbox/"+id+"/retry", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("retry: %d", resp.StatusCode)
		}
		if m, _ := e.st.GetOutbox(ctx, admin, msgs[0].ID); m.Status != store.OutboxPending {
			t.Fatalf("after retry: %s", m.Status)
		}
		if resp := b.post("/settings/outbox/"+id+"/cancel", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("cancel: %d", resp.StatusCode)
		}
		if m, _ := e.st.GetOutbox(ctx, admin, msgs[0].ID); m.Status != store.OutboxCancelled {
			t.Fatalf("after cancel: %s", m.Status)
		}
		b.post("/settings/outbox/"+id+"/cancel", nil)
		if _, body := b.get("/settings/outbox?status=cancelled"); !strings.Contains(body, "cannot be changed in its current state") || !strings.Contains(body, "nobody@example.com") {
			t.Errorf("second cancel not refused with a message, or filter wrong: %s", body)
		}
	})

	t.Run("salesperson gets 403", func(t *testing.T) {
		m := e.newBrowser()
		m.login("marc@example.com", "password-123")
		if code, _ := m.get("/settings/outbox"); code != http.StatusForbidden {
			t.Errorf("GET: %d", code)
		}
		if code, _ := m.postBody("/settings/outbox/test", url.Values{"to": {"x@example.com"}}); code != http.StatusForbidden {
			t.Errorf("test e-mail: %d", code)
		}
		if resp := m.post("/settings/outbox/1/retry", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("retry: %d", resp.StatusCode)
		}
	})
}

// TestUI_OutboxNoServer covers the test e-mail without an SMTP server: it
// is queued and the page says nothing is sent.
func TestUI_OutboxNoServer(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	if resp := b.post("/settings/outbox/test", url.Values{"to": {"laura@example.com"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d", resp.StatusCode)
	}
	_, body := b.get("/settings/outbox")
	if !strings.Contains(body, "will be sent once an SMTP server is configured") || !strings.Contains(body, "No SMTP server is configured") {
		t.Errorf("page: %s", body)
	}
	msgs, _ := e.st.FindOutbox(context.Background(), admin, store.OutboxFilter{Status: store.OutboxPending})
	if len(msgs) != 1 {
		t.Errorf("pending: %d", len(msgs))
	}
}
