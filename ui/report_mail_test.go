package ui_test

import (
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

	"cartera/automation"
	"cartera/i18n"
	"cartera/mail"
	"cartera/store"
	"cartera/ui"
)

// TestScheduledReports_OncePerSlot is issue 8's acceptance test for
// scheduled report e-mails: the built-in daily sales summary, enabled,
// reaches a real SMTP server through the automation scheduler, the
// scheduled-report job and the outbox drainer, once per salesperson, in
// each one's language and with their own records only, with CSV and XLSX
// attached; a restart sends nothing more; a day's slot missed while
// stopped is sent once on the next start that day.
func TestScheduledReports_OncePerSlot(t *testing.T) {
	ctx := context.Background()
	sink := &smtpSink{}
	ssrv := smtp.NewServer(sink)
	ssrv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ssrv.Serve(ln)
	t.Cleanup(func() { ssrv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	snd, err := mail.NewSender(mail.Config{Host: host, Port: p, From: "crm@empresa.example", TLS: "none", Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	madrid, _ := time.LoadLocation("Europe/Madrid")
	clock := &testClock{t: time.Date(2026, 11, 23, 7, 0, 0, 0, madrid)}
	path := filepath.Join(t.TempDir(), "cartera.db")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func() *store.Store {
		st, err := store.Open(ctx, store.Options{Path: path, PasswordMemoryKiB: 64, PasswordTime: 1, Now: clock.Now, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// boot starts Cartera's background work over the database file, as
	// serve does; stop ends it and closes the database.
	boot := func() (stop func()) {
		st := open()
		srv, err := ui.New(st, bundle, ui.Options{Now: clock.Now, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		sch := automation.New(st)
		sch.Tick, sch.Now, sch.Logger = time.Second, clock.Now, quiet
		sch.Jobs = []automation.Job{{Name: "scheduled reports", Run: srv.SendScheduledReports}}
		d := mail.NewDrainer(st, snd)
		d.Interval, d.Now, d.Logger = 100*time.Millisecond, clock.Now, quiet
		c, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { sch.Run(c) })
		wg.Go(func() { d.Run(c) })
		return func() { cancel(); wg.Wait(); st.Close() }
	}

	// The firm: an admin, two salespeople (Catalan, Spanish), a task due
	// today for each.
	st := open()
	u, err := st.Setup(ctx, store.SetupInput{
		Company:   store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "en", Currency: "EUR"},
		AdminName: "Anna Puig", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura",
	})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := st.ActorFor(ctx, u.ID)
	people := map[string]*store.Actor{}
	for _, c := range []struct{ email, lang, task string }{{"marc@example.com", "ca", "Trucar Laura"}, {"pere@example.com", "es", "Visitar Jordi"}} {
		nu, err := st.CreateUser(ctx, admin, store.UserInput{Email: c.email, Name: c.email, Password: "password-123", RoleKey: "salesperson", Language: c.lang})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := st.ActorFor(ctx, nu.ID)
		people[c.email] = a
		if _, err := st.CreateRecord(ctx, a, store.EntTasks, store.Input{Values: map[string]any{"title": c.task, "due_at": clock.Now().Add(5 * time.Hour).Format(time.RFC3339)}}); err != nil {
			t.Fatal(err)
		}
		// A call yesterday, so the activities widget has a chart.
		if _, err := st.CreateRecord(ctx, a, store.EntActivities, store.Input{Values: map[string]any{"type": "call", "subject": "Trucada", "occurred_at": clock.Now().Add(-20 * time.Hour).Format(time.RFC3339)}}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := st.FindReportSchedules(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	daily := list[0]
	daily.Enabled = true
	if err := st.SaveReportSchedule(ctx, admin, daily); err != nil {
		t.Fatal(err)
	}
	st.Close()

	wait := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for sink.count() < n && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := sink.count(); got != n {
			t.Fatalf("received %d e-mails, want %d", got, n)
		}
	}
	// Before 08:00 nothing goes.
	stop := boot()
	time.Sleep(1500 * time.Millisecond)
	stop()
	if sink.count() != 0 {
		t.Fatalf("sent %d e-mails before the slot", sink.count())
	}

	t.Run("the slot's e-mails arrive once per salesperson", func(t *testing.T) {
		clock.Add(65 * time.Minute) // 08:05
		stop := boot()
		wait(2)
		stop()
		sink.mu.Lock()
		msgs := append([]string(nil), sink.got...)
		sink.mu.Unlock()
		dec := new(mime.WordDecoder)
		bySubject := map[string]string{}
		for _, raw := range msgs {
			m, err := netmail.ReadMessage(strings.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			subj, _ := dec.DecodeHeader(m.Header.Get("Subject"))
			bySubject[subj] = raw
		}
		marc, pere := bySubject["Resum comercial diari · 23/11/2026"], bySubject["Resumen comercial diario · 23/11/2026"]
		if marc == "" || pere == "" {
			t.Fatalf("subjects: %v", keys(bySubject))
		}
		if !strings.Contains(marc, "Trucar Laura") || strings.Contains(marc, "Visitar Jordi") {
			t.Error("marc's summary does not show exactly his own task")
		}
		if !strings.Contains(pere, "Visitar Jordi") || strings.Contains(pere, "Trucar Laura") {
			t.Error("pere's summary does not show exactly his own task")
		}
		for _, want := range []string{"text/html", "Content-Disposition: attachment", ".csv", ".xlsx", "marc@example.com",
			// The chart travels as an inline PNG the HTML refers to.
			"Content-Type: image/png", "Content-Disposition: inline", "Content-Id: <chart-", "cid:chart-"} {
			if !strings.Contains(marc, want) {
				t.Errorf("marc's e-mail lacks %q", want)
			}
		}
	})
	t.Run("a restart sends nothing more", func(t *testing.T) {
		clock.Add(25 * time.Minute)
		stop := boot()
		time.Sleep(2500 * time.Millisecond)
		stop()
		if got := sink.count(); got != 2 {
			t.Fatalf("received %d e-mails after the restart, want 2", got)
		}
	})
	t.Run("a slot missed while stopped is sent once on the next start that day", func(t *testing.T) {
		clock.Add(26 * time.Hour) // the 24th, 10:30: Cartera was stopped at 08:00
		stop := boot()
		wait(4)
		stop()
		stop = boot()
		time.Sleep(2 * time.Second)
		stop()
		if got := sink.count(); got != 4 {
			t.Fatalf("received %d e-mails, want 4", got)
		}
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
