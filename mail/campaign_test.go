package mail_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"cartera/mail"
	"cartera/store"
)

// campaignOpts are the sending options of the tests: an absolute base
// address and English words.
var campaignOpts = store.CampaignOptions{BaseURL: "https://crm.empresa.example"}

// loadAudience creates n contacts tagged "newsletter": every third opted
// in, every fifth of the rest opted out, the others unknown; languages
// rotate ca, es, en every three contacts (so the opted-in ones rotate too). It returns the opted-in and opted-out addresses.
func loadAudience(t *testing.T, st *store.Store, n int) (in, out map[string]bool) {
	t.Helper()
	in, out = map[string]bool{}, map[string]bool{}
	langs := []string{"ca", "es", "en"}
	err := st.Load(context.Background(), store.SystemActor(), store.LoadOptions{Batch: 2000}, func(l *store.Loader) error {
		for i := 0; i < n; i++ {
			email := fmt.Sprintf("p%05d@example.com", i)
			consent := store.ConsentUnknown
			switch {
			case i%3 == 0:
				consent = store.ConsentOptedIn
				in[email] = true
			case i%5 == 0:
				consent = store.ConsentOptedOut
				out[email] = true
			}
			tags := []string{"newsletter"}
			if _, err := l.Create(store.EntContacts, store.Input{Values: map[string]any{
				"first_name": fmt.Sprintf("Persona %d", i), "email": email, "marketing_consent": consent,
				"language": langs[(i/3)%3], "owner_id": int64(1),
			}, Tags: &tags}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return in, out
}

// newCampaign saves the "Butlletí" template in three languages, a segment
// of the tag and a campaign with the throttle, and schedules it now.
func newCampaign(t *testing.T, f *fixture, perMinute int) *store.Campaign {
	t.Helper()
	ctx := context.Background()
	for _, l := range []string{"ca", "es", "en"} {
		if err := f.st.SaveEmailTemplate(ctx, f.admin, &store.EmailTemplate{Name: "Butlletí", Language: l, Entity: store.EntContacts,
			Subject: "Novetats " + l + " per a {{contact.first_name}}", BodyText: "Hola {{contact.first_name}}, mira https://empresa.example/ofertes",
			BodyHTML: `<p>Hola {{contact.first_name}}, <a href="https://empresa.example/ofertes">ofertes</a></p>`}); err != nil {
			t.Fatal(err)
		}
	}
	g := &store.Segment{Name: "Butlletí", Entity: store.EntContacts, Conditions: []store.SegmentCondition{{Field: "tag", Op: "has", Value: "newsletter"}}}
	if err := f.st.SaveSegment(ctx, f.admin, g); err != nil {
		t.Fatal(err)
	}
	c := &store.Campaign{Name: "Primavera", SegmentID: g.ID, TemplateName: "Butlletí", PerMinute: perMinute, TrackClicks: true, TrackOpens: true}
	if err := f.st.SaveCampaign(ctx, f.admin, c); err != nil {
		t.Fatal(err)
	}
	if err := f.st.ScheduleCampaign(ctx, f.admin, c.ID, time.Time{}, campaignOpts); err != nil {
		t.Fatal(err)
	}
	return c
}

var unsubRe = regexp.MustCompile(`^<https://crm\.empresa\.example/m/u/(\d+)/(\d+)/([0-9a-f]{32})>$`)

// TestStore_CampaignDelivery sends a campaign to a 10,000-member segment
// through a real SMTP server: each opted-in member gets exactly one
// message in their language with the RFC 8058 headers, opted-out and
// unknown members none, the throttle paces the sends, a restart mid-send
// repeats nothing, and an unsubscribe cancels what still waited.
func TestStore_CampaignDelivery(t *testing.T) {
	ctx := context.Background()
	srv := startSMTP(t, "127.0.0.1:0")
	f := newFixture(t, srv.addr)
	in, out := loadAudience(t, f.st, 10000)
	c := newCampaign(t, f, 1000)

	t.Run("segment count", func(t *testing.T) {
		g := must(f.st.GetSegment(ctx, f.admin, c.SegmentID))
		if n := must(f.st.CountSegment(ctx, f.admin, g)); n != 10000 {
			t.Fatalf("segment has %d members", n)
		}
	})
	t.Run("queued once, consenting only", func(t *testing.T) {
		n, err := f.st.RunCampaigns(ctx, f.clock.Now(), campaignOpts)
		if err != nil || n != len(in) {
			t.Fatalf("queued %d (%v), want %d", n, err, len(in))
		}
		if n, _ := f.st.RunCampaigns(ctx, f.clock.Now(), campaignOpts); n != 0 {
			t.Fatalf("second pass queued %d", n)
		}
		got := must(f.st.GetCampaign(ctx, f.admin, c.ID))
		if got.Status != store.CampaignSending || got.Recipients != int64(len(in)) || got.Skipped != int64(10000-len(in)) {
			t.Fatalf("campaign %+v", got)
		}
	})
	t.Run("throttle", func(t *testing.T) {
		// 1,000 a minute: at the start one message is due, 30 s later 501.
		if n := must(f.drain.DrainOnce(ctx)); n != 1 {
			t.Fatalf("sent %d at the start", n)
		}
		f.clock.Add(30 * time.Second)
		if n := must(f.drain.DrainOnce(ctx)); n != 500 {
			t.Fatalf("sent %d in the next 30 s", n)
		}
		if n := len(srv.received()); n != 501 {
			t.Fatalf("server got %d", n)
		}
	})
	var unsubbed string
	t.Run("headers and unsubscribe", func(t *testing.T) {
		r := srv.received()[0]
		if r.Msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("List-Unsubscribe-Post %q", r.Msg.Header.Get("List-Unsubscribe-Post"))
		}
		if !unsubRe.MatchString(r.Msg.Header.Get("List-Unsubscribe")) {
			t.Fatalf("List-Unsubscribe %q", r.Msg.Header.Get("List-Unsubscribe"))
		}
		if !strings.Contains(r.Body, "crm.empresa.example/m/u/") || !strings.Contains(r.Body, "/m/c/") {
			t.Fatalf("body lacks the unsubscribe or click link:\n%s", r.Body)
		}
		// Someone still waiting unsubscribes through their own message's
		// link (built as the sender would for them).
		m := must(f.st.FindOutbox(ctx, f.admin, store.OutboxFilter{Status: store.OutboxPending, Limit: 1}))
		if len(m) != 1 {
			t.Fatal("nothing pending")
		}
		p := unsubRe.FindStringSubmatch(m[0].Headers["List-Unsubscribe"])
		var cid, rid int64
		fmt.Sscan(p[1], &cid)
		fmt.Sscan(p[2], &rid)
		if err := f.st.Unsubscribe(ctx, cid, rid, p[3]); err != nil {
			t.Fatal(err)
		}
		if err := f.st.Unsubscribe(ctx, cid, rid, p[3]); err != nil {
			t.Fatalf("second unsubscribe: %v", err)
		}
		if err := f.st.Unsubscribe(ctx, cid, rid+1, p[3]); store.AsError(err).Code != store.CodeNotFound {
			t.Fatalf("forged link: %v", err)
		}
		unsubbed = m[0].To
		rec := must(f.st.FindRecord(ctx, f.admin, store.EntContacts, rid))
		if rec.Str("marketing_consent") != store.ConsentOptedOut || rec.Str("marketing_consent_source") != store.ConsentSourceUnsubscribe {
			t.Fatalf("consent %v", rec.Values)
		}
		items := must(f.st.Timeline(ctx, f.admin, store.EntContacts, rid, 50))
		found := false
		for _, it := range items {
			found = found || (it.Field == "marketing_consent" && it.New == store.ConsentOptedOut)
		}
		if !found {
			t.Fatal("opt-out not on the timeline")
		}
	})
	t.Run("restart mid-send repeats nothing", func(t *testing.T) {
		path := f.st.Path()
		f.st.Close()
		st := must(store.Open(ctx, store.Options{Path: path, PasswordMemoryKiB: 64, PasswordTime: 1, Now: f.clock.Now, Logger: quiet(), MailDomain: "empresa.example"}))
		t.Cleanup(func() { st.Close() })
		if n, err := st.RunCampaigns(ctx, f.clock.Now(), campaignOpts); err != nil || n != 0 {
			t.Fatalf("after restart queued %d (%v)", n, err)
		}
		d := mail.NewDrainer(st, f.sender)
		d.Now, d.Logger, d.Lease = f.clock.Now, quiet(), time.Minute
		f.clock.Add(10 * time.Minute)
		must(d.DrainOnce(ctx))
		seen := map[string]int{}
		for _, r := range srv.received() {
			seen[r.To[0]]++
		}
		for addr, k := range seen {
			if k != 1 {
				t.Errorf("%s got %d messages", addr, k)
			}
			if !in[addr] {
				t.Errorf("%s got a message without consent (opted out: %v)", addr, out[addr])
			}
		}
		if seen[unsubbed] != 0 {
			t.Errorf("unsubscribed %s still got the campaign", unsubbed)
		}
		if len(seen) != len(in)-1 {
			t.Fatalf("%d of %d opted-in members reached", len(seen), len(in)-1)
		}
		if n, _ := st.RunCampaigns(ctx, f.clock.Now(), campaignOpts); n != 0 {
			t.Fatalf("late pass queued %d", n)
		}
		rep := must(st.CampaignReport(ctx, f.admin, c.ID, 0, 10))
		if rep.Campaign.Status != store.CampaignSent || rep.Sent != int64(len(in)-1) || rep.Unsubscribed != 1 || rep.Cancelled != 1 {
			t.Fatalf("report %+v", rep)
		}
	})
}

// TestStore_CampaignLanguage checks that each recipient gets the template
// of their language.
func TestStore_CampaignLanguage(t *testing.T) {
	ctx := context.Background()
	srv := startSMTP(t, "127.0.0.1:0")
	f := newFixture(t, srv.addr)
	loadAudience(t, f.st, 9)
	newCampaign(t, f, 6000)
	must(f.st.RunCampaigns(ctx, f.clock.Now(), campaignOpts))
	f.clock.Add(time.Minute)
	must(f.drain.DrainOnce(ctx))
	got := srv.received()
	if len(got) != 3 {
		t.Fatalf("received %d", len(got))
	}
	want := map[string]string{"p00000@example.com": "ca", "p00003@example.com": "es", "p00006@example.com": "en"}
	for _, r := range got {
		if s := r.Msg.Header.Get("Subject"); !strings.HasPrefix(s, "Novetats "+want[r.To[0]]+" per a Persona") {
			t.Errorf("%s: subject %q", r.To[0], s)
		}
	}
}
