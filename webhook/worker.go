package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"cartera/store"
)

// Sign is the signature of a delivery: hex HMAC-SHA256 of
// "timestamp.body" under the secret, as X-Cartera-Signature carries it
// after "sha256=".
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery's signature header against the secret, and
// that its timestamp is within tolerance of now, so a captured delivery
// cannot be replayed later; it is what a receiver in Go would run.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return false
	}
	want := "sha256=" + Sign(secret, timestamp, body)
	return hmac.Equal([]byte(want), []byte(signature))
}

// Worker delivers the store's webhook queue: every Interval it claims the
// due deliveries (leasing them), posts each through the guarded client
// outside any transaction, signed, and records the attempt, so a receiver
// being down loses nothing and a crash mid-send leaves a lease that
// expires and is claimed again.
type Worker struct {
	st     *store.Store
	guard  *Guard
	client *http.Client
	// Interval is the time between two looks at the queue (default 5s).
	Interval time.Duration
	// Lease is how long a claimed delivery stays with this worker (default
	// 2 minutes; above the guard's timeout).
	Lease time.Duration
	// Batch is how many deliveries one look claims at most (default 20).
	Batch int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per failed attempt.
	Logger *slog.Logger
}

// NewWorker returns a Worker over the store's queue and a guard.
func NewWorker(st *store.Store, g *Guard) *Worker {
	return &Worker{st: st, guard: g, client: g.Client()}
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// Run delivers the queue until ctx is cancelled.
func (w *Worker) Run(ctx context.Context) {
	interval := w.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := w.DrainOnce(ctx); err != nil && ctx.Err() == nil {
			w.log().Error("delivering webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DrainOnce claims the deliveries due now and sends them one by one; it
// returns how many were delivered (answered 2xx).
func (w *Worker) DrainOnce(ctx context.Context) (int, error) {
	batch := w.Batch
	if batch <= 0 {
		batch = 20
	}
	lease := w.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	delivered := 0
	for ctx.Err() == nil {
		ds, err := w.st.ClaimWebhookDeliveries(ctx, w.now(), lease, batch)
		if err != nil {
			return delivered, err
		}
		for _, d := range ds {
			if ctx.Err() != nil {
				// Shutting down: the lease expires and the next start sends it.
				return delivered, nil
			}
			ok, err := w.deliver(ctx, d)
			if err != nil {
				return delivered, err
			}
			if ok {
				delivered++
			}
		}
		if len(ds) < batch {
			break
		}
	}
	return delivered, nil
}

// deliver posts one claimed delivery and records the attempt; the record
// outlives a cancelled ctx so a finished post is never left "sending".
func (w *Worker) deliver(ctx context.Context, d *store.WebhookDelivery) (bool, error) {
	body := []byte(d.Body)
	ts := strconv.FormatInt(w.now().Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Cartera-Webhooks/1")
	h.Set("X-Cartera-Event", d.Event)
	h.Set("X-Cartera-Event-Id", d.EventID)
	h.Set("X-Cartera-Delivery", strconv.FormatInt(d.ID, 10))
	h.Set("X-Cartera-Timestamp", ts)
	if d.Secret != "" {
		h.Set("X-Cartera-Signature", "sha256="+Sign(d.Secret, ts, body))
	}
	at := w.now()
	res := w.guard.Post(ctx, w.client, d.URL, h, body)
	o := store.WebhookOutcome{At: at, Status: res.Status, Duration: res.Duration, Delivered: res.OK(), Permanent: res.Refusal() != nil}
	switch {
	case res.Err != nil:
		o.Error = res.Err.Error()
	case !res.OK():
		o.Error = "HTTP " + strconv.Itoa(res.Status)
		if len(res.Body) > 0 && utf8.Valid(res.Body) {
			o.Error += ": " + string(res.Body[:min(len(res.Body), 300)])
		}
	}
	if !o.Delivered {
		w.log().Warn("webhook not delivered", "delivery_id", d.ID, "event", d.Event, "url", d.URL, "attempt", d.Attempts, "status", res.Status, "err", o.Error)
	}
	return o.Delivered, w.st.RecordWebhookAttempt(context.WithoutCancel(ctx), d.ID, o)
}
