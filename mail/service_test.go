package mail_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"cartera/mail"
	"cartera/store"
)

// TestIMAP_SupportMailbox is the issue's "an e-mail to the support mailbox
// opens a case and a reply lands in the same case", end to end over a real
// IMAP server and a real SMTP server: the customer's message opens a case
// and is acknowledged by e-mail with the case reference; the agent's reply
// goes out by SMTP; the customer's answer to it (by the subject's reference
// or by In-Reply-To alone) is added to the same case.
func TestIMAP_SupportMailbox(t *testing.T) {
	ctx := context.Background()
	smtpSrv := startSMTP(t, "127.0.0.1:0")
	f := newFixture(t, smtpSrv.addr)
	box := startIMAP(t)
	ss := must(f.st.GetServiceSettings(ctx, f.admin))
	ss.SupportAddress = "suport@empresa.example"
	if err := f.st.SaveServiceSettings(ctx, f.admin, *ss); err != nil {
		t.Fatal(err)
	}
	p := mail.NewPoller(f.st, mail.DropboxConfig{Address: box.addr, Security: "none", Username: "dropbox@empresa.example", Password: "secret"})
	p.Record, p.Name, p.Logger = mail.CaseRecorder(f.st), "support mailbox", quiet()

	box.deliver(t, `From: Laura Vidal <laura@client.example>
To: suport@empresa.example
Subject: No puc entrar al compte
Message-ID: <first@client.example>
Date: Mon, 2 Mar 2026 10:00:00 +0100
Content-Type: text/plain; charset=utf-8

Bon dia, no puc entrar al compte des d'ahir.
`)
	if n, err := p.PollOnce(ctx); err != nil || n != 1 {
		t.Fatalf("PollOnce = %d, %v", n, err)
	}
	cases := must2(f.st.FindRecords(ctx, f.admin, store.EntCases, store.Filter{}))
	if len(cases) != 1 || cases[0].Str("subject") != "No puc entrar al compte" || cases[0].Int("contact_id") == 0 {
		t.Fatalf("cases = %+v", cases)
	}
	c := cases[0]
	ref := store.CaseRef(c.ID)

	if _, err := f.drain.DrainOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := smtpSrv.received()
	if len(got) != 1 || got[0].To[0] != "laura@client.example" || !strings.Contains(got[0].Msg.Header.Get("Subject"), ref) ||
		!strings.Contains(got[0].Msg.Header.Get("Reply-To"), "suport@empresa.example") {
		t.Fatalf("acknowledgment = %+v", got)
	}

	if _, err := f.st.ReplyToCase(ctx, f.admin, c.ID, "Us hem restablert la contrasenya."); err != nil {
		t.Fatal(err)
	}
	if _, err := f.drain.DrainOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got = smtpSrv.received()
	if len(got) != 2 || !strings.Contains(got[1].Body, "restablert") || !strings.Contains(got[1].Msg.Header.Get("Subject"), ref) {
		t.Fatalf("reply = %+v", got)
	}
	replyID := got[1].Msg.Header.Get("Message-Id")

	box.deliver(t, `From: Laura Vidal <laura@client.example>
To: suport@empresa.example
Subject: Re: `+ref+` No puc entrar al compte
Message-ID: <second@client.example>
In-Reply-To: `+replyID+`
Date: Mon, 2 Mar 2026 12:00:00 +0100
Content-Type: text/plain; charset=utf-8

Ja funciona, gràcies!
`, `From: Laura Vidal <laura@client.example>
To: suport@empresa.example
Subject: una cosa més
Message-ID: <third@client.example>
In-Reply-To: `+replyID+`
References: <first@client.example> `+replyID+`
Date: Mon, 2 Mar 2026 12:05:00 +0100
Content-Type: text/plain; charset=utf-8

I la factura?
`)
	if n, err := p.PollOnce(ctx); err != nil || n != 2 {
		t.Fatalf("second PollOnce = %d, %v", n, err)
	}
	if n, err := p.PollOnce(ctx); err != nil || n != 0 {
		t.Fatalf("third PollOnce = %d, %v; want nothing new", n, err)
	}
	cases = must2(f.st.FindRecords(ctx, f.admin, store.EntCases, store.Filter{}))
	if len(cases) != 1 {
		t.Fatalf("the answers opened %d cases", len(cases))
	}
	acts := must2(f.st.FindRecords(ctx, f.admin, store.EntActivities, store.Filter{Eq: map[string]string{"case_id": strconv.FormatInt(c.ID, 10)}}))
	var texts []string
	for _, a := range acts {
		texts = append(texts, a.Str("description"))
	}
	all := strings.Join(texts, "\n")
	if len(acts) != 4 || !strings.Contains(all, "Ja funciona") || !strings.Contains(all, "I la factura?") || !strings.Contains(all, "restablert") {
		t.Fatalf("case activities = %q", texts)
	}
	if _, err := f.drain.DrainOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(smtpSrv.received()); n != 2 {
		t.Fatalf("%d e-mails sent; answers are not acknowledged again", n)
	}
}

// must2 is must for calls that return two values and an error.
func must2[T, U any](v T, _ U, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
