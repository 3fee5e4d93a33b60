package mail_test

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"cartera/mail"
	"cartera/store"
)

// imapBox is a real IMAP server in the test process with one user and an
// INBOX, reached over plain TCP on a loopback port.
type imapBox struct {
	addr string
	srv  *imapserver.Server
}

func startIMAP(t *testing.T) *imapBox {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("dropbox@empresa.example", "secret")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       discardLog{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &imapBox{addr: ln.Addr().String(), srv: srv}
}

type discardLog struct{}

func (discardLog) Printf(string, ...any) {}

// client signs in to the test server as the dropbox user.
func (b *imapBox) client(t *testing.T) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(b.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("dropbox@empresa.example", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// deliver appends raw messages to the INBOX with the IMAP APPEND command,
// as a mail server delivering to the dropbox would.
func (b *imapBox) deliver(t *testing.T, msgs ...string) {
	t.Helper()
	c := b.client(t)
	for _, m := range msgs {
		m = strings.ReplaceAll(strings.ReplaceAll(m, "\r\n", "\n"), "\n", "\r\n")
		cmd := c.Append("INBOX", int64(len(m)), nil)
		if _, err := cmd.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	c.Logout().Wait()
}

// unseen counts the INBOX messages without the \Seen flag.
func (b *imapBox) unseen(t *testing.T) int {
	t.Helper()
	c := b.client(t)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if !slices.Contains(m.Flags, imap.FlagSeen) {
			n++
		}
	}
	return n
}

const (
	msgFromContact = `From: Laura Vidal <laura@client.example>
To: Marc Soler <marc@example.com>
Subject: Pressupost
Date: Mon, 02 Mar 2026 10:00:00 +0100
Message-ID: <m1@client.example>
Content-Type: text/plain; charset=utf-8

Bon dia Marc,
us envio el pressupost.
`
	msgToLead = `From: Marc Soler <marc@example.com>
To: Joan Serra <joan@lead.example>
Bcc: dropbox@empresa.example
Subject: Proposta
Date: Mon, 02 Mar 2026 11:00:00 +0100
Message-ID: <m2@example.com>
Content-Type: text/plain; charset=utf-8

Adjunto la proposta.
`
	msgUnmatched = `From: Algú <someone@nowhere.example>
To: marc@example.com
Subject: Oferta
Date: Mon, 02 Mar 2026 12:00:00 +0100
Message-ID: <m3@nowhere.example>

Hola.
`
	// Latin-1 body in quoted-printable with an encoded-word subject and
	// sender name, as many Catalan and Spanish mail programs send.
	msgAccents = `From: =?ISO-8859-1?Q?N=FAria_Sol=E9?= <Nuria@Client.Example>
To: marc@example.com
Subject: =?UTF-8?Q?Reuni=C3=B3_dem=C3=A0?=
Date: Mon, 02 Mar 2026 13:00:00 +0100
Message-ID: <m4@client.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Bon dia, la reuni=F3 =E9s dem=E0 a les 10. Porta el caf=E8=
 i les galetes.
--b1
Content-Type: text/html; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

<p>Bon dia, la <b>reuni=F3</b></p>
--b1--
`
	msgForwarded = `From: Marc Soler <marc@example.com>
To: dropbox@empresa.example
Subject: Fwd: Dubte
Date: Mon, 02 Mar 2026 14:00:00 +0100
Message-ID: <m5@example.com>
Content-Type: text/plain; charset=utf-8

Per a l'historial.

---------- Forwarded message ---------
From: Joan Serra <joan@lead.example>
Date: Mon, 2 Mar 2026 at 09:00
Subject: Dubte
To: <marc@example.com>

Tinc un dubte sobre el preu.
`
	msgHTMLOnly = `From: laura@client.example
To: marc@example.com
Subject: Confirmat
Date: Tue, 03 Mar 2026 09:00:00 +0100
Message-ID: <m6@client.example>
Content-Type: text/html; charset=utf-8

<html><head><style>p{color:red}</style></head><body><p>Queda <b>confirmat</b>.</p><script>alert(1)</script></body></html>
`
)

// imapFixture is a store with users, a contact and a lead, and a poller
// over a real IMAP server.
type imapFixture struct {
	st                    *store.Store
	admin                 *store.Actor
	box                   *imapBox
	laura, nuria, joanLid int64
}

func newIMAPFixture(t *testing.T) *imapFixture {
	t.Helper()
	ctx := context.Background()
	st := must(store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "cartera.db"), PasswordMemoryKiB: 64, PasswordTime: 1, Logger: quiet()}))
	t.Cleanup(func() { st.Close() })
	u := must(st.Setup(ctx, store.SetupInput{
		Company:   store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna Puig", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura",
	}))
	admin := must(st.ActorFor(ctx, u.ID))
	must(st.CreateUser(ctx, admin, store.UserInput{Email: "marc@example.com", Name: "Marc Soler", Password: "password-123", RoleKey: "salesperson"}))
	rec := func(e store.Entity, vals map[string]any) int64 {
		return must(st.CreateRecord(ctx, admin, e, store.Input{Values: vals})).ID
	}
	return &imapFixture{
		st: st, admin: admin, box: startIMAP(t),
		laura:   rec(store.EntContacts, map[string]any{"first_name": "Laura", "last_name": "Vidal", "email": "laura@client.example"}),
		nuria:   rec(store.EntContacts, map[string]any{"first_name": "Núria", "last_name": "Solé", "email": "nuria@client.example"}),
		joanLid: rec(store.EntLeads, map[string]any{"first_name": "Joan", "last_name": "Serra", "email": "joan@lead.example"}),
	}
}

func (f *imapFixture) poller() *mail.Poller {
	p := mail.NewPoller(f.st, mail.DropboxConfig{Address: f.box.addr, Security: "none", Username: "dropbox@empresa.example", Password: "secret"})
	p.Logger = quiet()
	p.Batch = 2 // several FETCH rounds even with a few messages
	return p
}

// emails returns the e-mail activities on a record's timeline, newest first.
func (f *imapFixture) emails(t *testing.T, e store.Entity, id int64) []store.TimelineItem {
	t.Helper()
	items := must(f.st.Timeline(context.Background(), f.admin, e, id, 0))
	var out []store.TimelineItem
	for _, it := range items {
		if it.Kind == "activity" && it.Type == "email" {
			out = append(out, it)
		}
	}
	return out
}

func TestIMAP_Poller(t *testing.T) {
	ctx := context.Background()
	f := newIMAPFixture(t)
	f.box.deliver(t, msgFromContact, msgToLead, msgUnmatched, msgAccents, msgForwarded)

	p := f.poller()
	t.Run("first poll logs each message on the right record", func(t *testing.T) {
		n, err := p.PollOnce(ctx)
		if err != nil || n != 5 {
			t.Fatalf("PollOnce = %d, %v; want 5", n, err)
		}
		laura := f.emails(t, store.EntContacts, f.laura)
		if len(laura) != 1 || laura[0].Subject != "Pressupost" || !strings.HasPrefix(laura[0].Detail, "← Laura Vidal <laura@client.example>") ||
			!strings.Contains(laura[0].Detail, "us envio el pressupost.") || laura[0].UserName != "Marc Soler" {
			t.Fatalf("Laura's timeline: %+v", laura)
		}
		joan := f.emails(t, store.EntLeads, f.joanLid)
		if len(joan) != 2 {
			t.Fatalf("Joan's timeline has %d e-mails, want the sent one and the forwarded one: %+v", len(joan), joan)
		}
		var sent, fwd bool
		for _, it := range joan {
			sent = sent || (it.Subject == "Proposta" && strings.HasPrefix(it.Detail, "→ Joan Serra <joan@lead.example>"))
			fwd = fwd || (it.Subject == "Fwd: Dubte" && strings.HasPrefix(it.Detail, "← Joan Serra <joan@lead.example>") && strings.Contains(it.Detail, "Tinc un dubte"))
		}
		if !sent || !fwd {
			t.Fatalf("Joan's timeline: %+v", joan)
		}
		nuria := f.emails(t, store.EntContacts, f.nuria)
		if len(nuria) != 1 || nuria[0].Subject != "Reunió demà" || !strings.Contains(nuria[0].Detail, "la reunió és demà a les 10. Porta el cafè i les galetes.") ||
			!strings.HasPrefix(nuria[0].Detail, "← Núria Solé <nuria@client.example>") {
			t.Fatalf("Núria's timeline: %+v", nuria)
		}
		waiting := must(f.st.FindInbound(ctx, f.admin, store.InboundFilter{}))
		if len(waiting) != 1 || waiting[0].Subject != "Oferta" || waiting[0].From.Name != "Algú" || waiting[0].Text != "Hola." {
			t.Fatalf("unmatched: %+v", waiting)
		}
		if n := f.box.unseen(t); n != 0 {
			t.Errorf("%d messages not marked \\Seen", n)
		}
	})

	counts := func() [3]int {
		return [3]int{len(f.emails(t, store.EntContacts, f.laura)), len(f.emails(t, store.EntLeads, f.joanLid)), len(f.emails(t, store.EntContacts, f.nuria))}
	}
	before := counts()

	t.Run("polling again logs nothing twice", func(t *testing.T) {
		if n, err := p.PollOnce(ctx); err != nil || n != 0 {
			t.Fatalf("second PollOnce = %d, %v", n, err)
		}
		if got := counts(); got != before {
			t.Fatalf("counts %v, before %v", got, before)
		}
	})

	t.Run("after a restart only new mail is logged", func(t *testing.T) {
		f.box.deliver(t, msgHTMLOnly)
		p2 := f.poller()
		if n, err := p2.PollOnce(ctx); err != nil || n != 1 {
			t.Fatalf("PollOnce after restart = %d, %v; want 1", n, err)
		}
		laura := f.emails(t, store.EntContacts, f.laura)
		if len(laura) != 2 {
			t.Fatalf("Laura has %d e-mails, want 2", len(laura))
		}
		var html store.TimelineItem
		for _, it := range laura {
			if it.Subject == "Confirmat" {
				html = it
			}
		}
		if !strings.Contains(html.Detail, "Queda confirmat .") && !strings.Contains(html.Detail, "Queda confirmat.") {
			t.Fatalf("HTML body: %q", html.Detail)
		}
		if strings.ContainsAny(html.Detail, "<>{}") || strings.Contains(html.Detail, "alert") {
			t.Fatalf("HTML left in the text: %q", html.Detail)
		}
		if got := counts(); got[1] != before[1] || got[2] != before[2] {
			t.Fatalf("other timelines changed: %v, before %v", got, before)
		}
	})

	t.Run("a lost cursor still logs nothing twice", func(t *testing.T) {
		// Another mailbox name is a fresh cursor: every message is read
		// again and recognised by its Message-ID.
		p3 := mail.NewPoller(f.st, mail.DropboxConfig{Address: strings.Replace(f.box.addr, "127.0.0.1", "localhost", 1), Security: "none",
			Username: "dropbox@empresa.example", Password: "secret"})
		p3.Logger = quiet()
		if n, err := p3.PollOnce(ctx); err != nil || n != 0 {
			t.Fatalf("PollOnce with a fresh cursor = %d, %v", n, err)
		}
		if got := counts(); got[0] != before[0]+1 || got[1] != before[1] || got[2] != before[2] {
			t.Fatalf("counts %v, before %v (+1 for Laura)", got, before)
		}
	})

	t.Run("a wrong password is an error, not a crash", func(t *testing.T) {
		bad := mail.NewPoller(f.st, mail.DropboxConfig{Address: f.box.addr, Security: "none", Username: "dropbox@empresa.example", Password: "wrong"})
		bad.Logger = quiet()
		if _, err := bad.PollOnce(ctx); err == nil {
			t.Fatal("no error with a wrong password")
		}
	})

	t.Run("Run polls until cancelled", func(t *testing.T) {
		f.box.deliver(t, strings.Replace(strings.Replace(msgFromContact, "m1@client.example", "m7@client.example", 1), "Pressupost", "Segon pressupost", 1))
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		p.Interval = 10 * time.Millisecond
		go func() { p.Run(ctx); close(done) }()
		for range 300 {
			if len(f.emails(t, store.EntContacts, f.laura)) == 3 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		if n := len(f.emails(t, store.EntContacts, f.laura)); n != 3 {
			t.Fatalf("Laura has %d e-mails after Run, want 3", n)
		}
	})
}

func TestIMAP_ParseDropboxURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want mail.DropboxConfig
		bad  bool
	}{
		{in: "imaps://crm%40empresa.example:p%40ss@mail.empresa.example/INBOX", want: mail.DropboxConfig{Address: "mail.empresa.example:993", Security: "tls", Username: "crm@empresa.example", Password: "p@ss", Mailbox: "INBOX"}},
		{in: "imap://u:p@127.0.0.1:1143", want: mail.DropboxConfig{Address: "127.0.0.1:1143", Security: "none", Username: "u", Password: "p", Mailbox: "INBOX"}},
		{in: "imap://u:p@mail.example/Cartera?tls=starttls", want: mail.DropboxConfig{Address: "mail.example:143", Security: "starttls", Username: "u", Password: "p", Mailbox: "Cartera"}},
		{in: "imap://u:p@mail.example/?tls=ssl", bad: true},
		{in: "https://u:p@mail.example/", bad: true},
		{in: "imaps://mail.example/INBOX", bad: true},
		{in: "imaps://u:p@/INBOX", bad: true},
	} {
		got, err := mail.ParseDropboxURL(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%s: no error", tc.in)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestIMAP_ParseMessage(t *testing.T) {
	m := mail.ParseMessage([]byte(strings.ReplaceAll(msgAccents, "\n", "\r\n")))
	if m.From.Email != "Nuria@Client.Example" || m.From.Name != "Núria Solé" || m.Subject != "Reunió demà" || m.MessageID != "m4@client.example" {
		t.Fatalf("headers: %+v", m)
	}
	if !strings.Contains(m.Text, "la reunió és demà") || strings.Contains(m.Text, "<b>") {
		t.Fatalf("text: %q", m.Text)
	}
	broken := mail.ParseMessage([]byte("not a message at all"))
	if broken.MessageID != "" || broken.From.Email != "" {
		t.Fatalf("broken: %+v", broken)
	}
}

// TestIMAP_Attachments keeps the files of a dropbox message: on the
// activity at once when the message matches a contact, and when an
// unmatched one is linked from the inbox; byte for byte, and not kept
// twice.
func TestIMAP_Attachments(t *testing.T) {
	ctx := context.Background()
	f := newIMAPFixture(t)
	pdf := "%PDF-1.4\n% Oferta signada\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
	withFile := func(from, id, subject string) string {
		return "From: " + from + "\r\nTo: Marc Soler <marc@example.com>\r\nSubject: " + subject + "\r\nDate: Mon, 02 Mar 2026 11:00:00 +0100\r\nMessage-ID: <" + id + ">\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
			"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nUs adjunto l'oferta signada.\r\n" +
			"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"oferta signada.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString([]byte(pdf)) + "\r\n--b1--\r\n"
	}
	f.box.deliver(t, withFile("Laura Vidal <laura@client.example>", "att1@client.example", "Oferta signada"), withFile("Desconegut <nobody@else.example>", "att2@else.example", "Document"))
	if n, err := f.poller().PollOnce(ctx); err != nil || n != 2 {
		t.Fatalf("PollOnce = %d, %v", n, err)
	}
	check := func(t *testing.T, activity int64) {
		t.Helper()
		files := must(f.st.Attachments(ctx, f.admin, store.EntActivities, activity))
		if len(files) != 1 || files[0].Name != "oferta signada.pdf" || files[0].ContentType != "application/pdf" || files[0].Size != int64(len(pdf)) {
			t.Fatalf("files = %+v", files)
		}
		var buf strings.Builder
		if err := f.st.WriteAttachment(ctx, f.admin, files[0].ID, func(*store.Attachment) io.Writer { return &buf }); err != nil || buf.String() != pdf {
			t.Fatalf("content %q, %v", buf.String(), err)
		}
	}
	t.Run("a matched message's file is on its activity", func(t *testing.T) {
		laura := f.emails(t, store.EntContacts, f.laura)
		if len(laura) != 1 {
			t.Fatalf("timeline: %+v", laura)
		}
		check(t, laura[0].RecordID)
	})
	t.Run("an unmatched message's file follows it when linked", func(t *testing.T) {
		waiting := must(f.st.FindInbound(ctx, f.admin, store.InboundFilter{}))
		if len(waiting) != 1 {
			t.Fatalf("waiting: %+v", waiting)
		}
		if _, err := f.st.LinkInbound(ctx, f.admin, waiting[0].ID, store.EntContacts, f.nuria); err != nil {
			t.Fatal(err)
		}
		nuria := f.emails(t, store.EntContacts, f.nuria)
		if len(nuria) != 1 {
			t.Fatalf("timeline: %+v", nuria)
		}
		check(t, nuria[0].RecordID)
	})
}
