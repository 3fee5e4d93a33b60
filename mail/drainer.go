package mail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"cartera/store"
)

// Deliverer sends one outbox message; *Sender is the real one.
type Deliverer interface {
	Send(ctx context.Context, m *store.OutboxMessage) error
}

// Drainer delivers the outbox: every Interval it claims the due messages
// (leasing them), sends each outside any transaction and records the
// result, so SMTP being down loses nothing and a crash mid-send leaves a
// lease that expires and is claimed again.
type Drainer struct {
	st  *store.Store
	snd Deliverer
	// Interval is the time between two looks at the outbox (default 5s).
	Interval time.Duration
	// Lease is how long a claimed message stays with this drainer before
	// another claim may take it (default 5 minutes; keep it above the
	// SMTP timeout).
	Lease time.Duration
	// Batch is how many messages one look claims at most (default 20).
	Batch int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per failed delivery.
	Logger *slog.Logger
}

// NewDrainer returns a Drainer over the store's outbox and a Deliverer.
func NewDrainer(st *store.Store, snd Deliverer) *Drainer {
	return &Drainer{st: st, snd: snd}
}

func (d *Drainer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Drainer) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

func (d *Drainer) lease() time.Duration {
	if d.Lease > 0 {
		return d.Lease
	}
	return 5 * time.Minute
}

// Run drains the outbox until ctx is cancelled.
func (d *Drainer) Run(ctx context.Context) {
	interval := d.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := d.DrainOnce(ctx); err != nil && ctx.Err() == nil {
			d.log().Error("draining the outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DrainOnce claims the messages due now and delivers them one by one; it
// returns how many were accepted by the SMTP server.
func (d *Drainer) DrainOnce(ctx context.Context) (int, error) {
	batch := d.Batch
	if batch <= 0 {
		batch = 20
	}
	sent := 0
	for ctx.Err() == nil {
		msgs, err := d.st.ClaimOutbox(ctx, d.now(), d.lease(), batch)
		if err != nil {
			return sent, err
		}
		var down error
		for _, m := range msgs {
			if ctx.Err() != nil {
				// Shutting down: the lease expires and the next start sends it.
				return sent, nil
			}
			if down != nil {
				// The server could not be reached a moment ago: count this
				// as a failed attempt too instead of waiting for each
				// connection to time out.
				if err := d.st.MarkFailed(ctx, m.ID, false, down.Error(), d.now().Add(store.OutboxBackoff(m.Attempts))); err != nil {
					return sent, err
				}
				continue
			}
			sendErr, err := d.deliver(ctx, m)
			if err != nil {
				return sent, err
			}
			var me *Error
			switch {
			case sendErr == nil:
				sent++
			case errors.As(sendErr, &me) && !me.Permanent && me.Code == 0:
				down = sendErr
			}
		}
		if down != nil {
			return sent, nil
		}
		if len(msgs) < batch {
			break
		}
	}
	return sent, nil
}

// deliver sends one claimed message and records the result, returning the
// delivery error; the recording outlives a cancelled ctx so a finished send
// is never left "sending".
func (d *Drainer) deliver(ctx context.Context, m *store.OutboxMessage) (sendErr, err error) {
	sendErr = d.snd.Send(ctx, m)
	rec := context.WithoutCancel(ctx)
	if sendErr == nil {
		return nil, d.st.MarkSent(rec, m.ID, d.now())
	}
	permanent := IsPermanent(sendErr)
	d.log().Warn("e-mail not delivered", "outbox_id", m.ID, "to", m.To, "attempt", m.Attempts, "permanent", permanent, "err", sendErr)
	return sendErr, d.st.MarkFailed(rec, m.ID, permanent, sendErr.Error(), d.now().Add(store.OutboxBackoff(m.Attempts)))
}

// SendNow sends one pending message immediately (the "send a test e-mail"
// button) and returns the delivery error, if any; a temporary failure leaves
// the message in the outbox for the drainer to retry.
func (d *Drainer) SendNow(ctx context.Context, id int64) error {
	m, err := d.st.ClaimOutboxMessage(ctx, id, d.now(), d.lease())
	if err != nil {
		return err
	}
	sendErr, err := d.deliver(ctx, m)
	if err != nil {
		return err
	}
	return sendErr
}
