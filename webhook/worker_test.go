package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cartera/store"
	"cartera/webhook"
)

// clock is a movable clock shared by the store and the worker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// received is one delivery as the test receiver saw it.
type received struct {
	Event, EventID string
	Valid          bool
	Body           map[string]any
}

// receiver is a webhook endpoint that verifies signatures and can be told
// to fail.
type receiver struct {
	mu     sync.Mutex
	got    []received
	fail   int // answer 500 to this many requests first
	secret string
	now    func() time.Time
	srv    *httptest.Server
}

func newReceiver(t *testing.T, secret string, now func() time.Time) *receiver {
	rc := &receiver{secret: secret, now: now}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.fail > 0 {
			rc.fail--
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		var body map[string]any
		json.Unmarshal(b, &body)
		ok := webhook.Verify(rc.secret, r.Header.Get("X-Cartera-Timestamp"), r.Header.Get("X-Cartera-Signature"), b, rc.now(), 5*time.Minute)
		rc.got = append(rc.got, received{Event: r.Header.Get("X-Cartera-Event"), EventID: r.Header.Get("X-Cartera-Event-Id"), Valid: ok, Body: body})
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// openStore opens a set-up store over a fresh database file.
func openStore(t *testing.T, now func() time.Time) (*store.Store, *store.Actor) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "cartera.db"), PasswordMemoryKiB: 64, PasswordTime: 1, Now: now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u, err := st.Setup(ctx, store.SetupInput{
		Company:   store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna Puig", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura",
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.ActorFor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return st, a
}

func TestWorker_DeliversSigned(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	st, admin := openStore(t, clk.Now)
	g, err := webhook.NewGuard([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	st.SetURLChecker(g.CheckURL)
	w := webhook.NewWorker(st, g)
	w.Now = clk.Now
	w.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))

	const secret = "a-shared-secret-of-the-erp"
	rc := newReceiver(t, secret, clk.Now)
	hook, err := st.CreateWebhook(ctx, admin, store.WebhookInput{URL: rc.srv.URL + "/cartera", Events: []string{"contact.created", "contact.updated"}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a refused target is refused when subscribing", func(t *testing.T) {
		for url, reason := range map[string]string{
			"http://169.254.169.254/latest/meta-data/": "webhooks.refused.link_local",
			"http://[::1]:8080/":                       "webhooks.refused.loopback",
			"http://10.0.0.7/":                         "webhooks.refused.private",
		} {
			_, err := st.CreateWebhook(ctx, admin, store.WebhookInput{URL: url, Events: []string{"contact.created"}})
			if f := store.AsError(err).Fields["url"]; f != reason {
				t.Errorf("%s: %v, want %s", url, err, reason)
			}
		}
	})

	t.Run("deliveries arrive signed, with the record as payload", func(t *testing.T) {
		c, err := st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Pere", "last_name": "Roca", "email": "pere@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		n, err := w.DrainOnce(ctx)
		if err != nil || n != 1 {
			t.Fatalf("delivered %d, %v", n, err)
		}
		got := rc.all()
		if len(got) != 1 || !got[0].Valid || got[0].Event != "contact.created" {
			t.Fatalf("received %+v", got)
		}
		data := got[0].Body["data"].(map[string]any)
		rec := data["record"].(map[string]any)
		if got[0].Body["id"] != got[0].EventID || got[0].Body["type"] != "contact.created" || got[0].Body["time"] == "" || rec["email"] != "pere@example.com" || rec["id"] == nil {
			t.Fatalf("payload %+v", got[0].Body)
		}
		_ = c
	})

	t.Run("a failing receiver is retried with backoff and the attempts are logged", func(t *testing.T) {
		rc.mu.Lock()
		rc.fail = 2
		rc.mu.Unlock()
		c, _ := st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Serra"}})
		if _, err := st.UpdateRecord(ctx, admin, store.EntContacts, c.ID, store.Input{Values: map[string]any{"first_name": "Núria"}}); err != nil {
			t.Fatal(err)
		}
		if n, _ := w.DrainOnce(ctx); n != 0 {
			t.Fatalf("delivered %d while the receiver fails", n)
		}
		// Not due yet: nothing is sent.
		if n, _ := w.DrainOnce(ctx); n != 0 || len(rc.all()) != 1 {
			t.Fatalf("retried before the backoff")
		}
		clk.Add(31 * time.Second)
		if n, err := w.DrainOnce(ctx); n != 2 || err != nil {
			t.Fatalf("delivered %d after the backoff, %v", n, err)
		}
		ds, err := st.FindWebhookDeliveries(ctx, admin, hook.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds[:2] {
			if d.Status != store.DeliveryDelivered || len(d.Log) != 2 || d.Log[0].Status != 500 || d.Log[1].Status != 204 || d.LastStatus != 204 {
				t.Fatalf("delivery %+v", d)
			}
		}
	})

	t.Run("resend delivers the same event again", func(t *testing.T) {
		ds, _ := st.FindWebhookDeliveries(ctx, admin, hook.ID, 0, 10)
		first := ds[len(ds)-1]
		if _, err := st.ResendWebhookDelivery(ctx, admin, hook.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := w.DrainOnce(ctx); n != 1 {
			t.Fatal("resend not delivered")
		}
		got := rc.all()
		if last := got[len(got)-1]; last.EventID != first.EventID || !last.Valid {
			t.Fatalf("resent %+v, first %s", last, first.EventID)
		}
	})

	t.Run("workflow webhook action goes through the same queue", func(t *testing.T) {
		rule := &store.Workflow{Name: "To the ERP", Entity: store.EntContacts, Enabled: true, Trigger: store.Trigger{Type: store.TrigCreated},
			Actions: []store.WorkflowAction{{Type: store.ActWebhook, URL: rc.srv.URL + "/rule", Secret: secret}}}
		bad := *rule
		bad.Actions = []store.WorkflowAction{{Type: store.ActWebhook, URL: "http://169.254.169.254/"}}
		err := st.CreateWorkflow(ctx, admin, &bad)
		if f := store.AsError(err).Fields["actions.0.url"]; f != "webhooks.refused.link_local" {
			t.Fatalf("metadata address in a rule: %v", err)
		}
		if err := st.CreateWorkflow(ctx, admin, rule); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Ferrer"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.RunDueWorkflows(ctx, clk.Now(), nil); err != nil {
			t.Fatal(err)
		}
		before := len(rc.all())
		if _, err := w.DrainOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got := rc.all()[before:]
		var rule1 *received
		for i := range got {
			if got[i].Event == store.EventWorkflow {
				rule1 = &got[i]
			}
		}
		if rule1 == nil || !rule1.Valid {
			t.Fatalf("rule delivery missing or unsigned: %+v", got)
		}
		rec := rule1.Body["data"].(map[string]any)["record"].(map[string]any)
		if rec["last_name"] != "Ferrer" {
			t.Fatalf("rule payload %+v", rule1.Body)
		}
	})

	t.Run("a target refused at send time fails at once", func(t *testing.T) {
		strict, _ := webhook.NewGuard(nil)
		sw := webhook.NewWorker(st, strict)
		sw.Now = clk.Now
		sw.Logger = w.Logger
		if _, err := st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Puig"}}); err != nil {
			t.Fatal(err)
		}
		if n, err := sw.DrainOnce(ctx); n != 0 || err != nil {
			t.Fatalf("%d, %v", n, err)
		}
		ds, _ := st.FindWebhookDeliveries(ctx, admin, hook.ID, 0, 1)
		if ds[0].Status != store.DeliveryFailed || ds[0].Attempts != 1 || ds[0].LastError == "" {
			t.Fatalf("refused delivery %+v", ds[0])
		}
	})
}
