package store

import (
	"context"
	"database/sql"
	"time"
)

// recordEvent is one change to a record, handed to automation and
// notifications inside the transaction that made it, so that what they
// schedule or write commits or rolls back with the change itself.
type recordEvent struct {
	Actor   *Actor
	Def     *EntityDef
	ID      int64
	Created bool
	// Old and New are the standard field values before and after; Old is
	// nil for a new record.
	Old, New map[string]any
	// OldCustom and NewCustom are the custom field values.
	OldCustom, NewCustom map[string]any
	// Changed names what changed: field keys, "custom.KEY", "tags" and the
	// owner key. On create it is empty.
	Changed map[string]bool
	// OldOwner and Owner are the owner (or assignee) before and after.
	OldOwner, Owner int64
	At              time.Time
}

type noAutomationKey struct{}

// withoutAutomation marks a batch (an import without the automation
// option) whose records must not start workflow rules, so a migration does
// not e-mail ten thousand old customers.
func withoutAutomation(ctx context.Context) context.Context {
	return context.WithValue(ctx, noAutomationKey{}, true)
}

func automationOff(ctx context.Context) bool { b, _ := ctx.Value(noAutomationKey{}).(bool); return b }

// recordChanged passes one change to the workflow rules, the webhook
// queue and the notifications, in the caller's transaction. A batch
// without automation (an import that asked for none) sends no webhooks
// either.
func (s *Store) recordChanged(ctx context.Context, tx *sql.Tx, ev *recordEvent) error {
	if !automationOff(ctx) {
		if err := s.automationEvent(ctx, tx, ev); err != nil {
			return err
		}
		if err := s.webhookEvent(ctx, tx, ev); err != nil {
			return err
		}
	}
	if err := s.serviceEvent(ctx, tx, ev); err != nil {
		return err
	}
	return s.notificationEvent(ctx, tx, ev)
}
