package store

import (
	"context"
	"database/sql"
)

// automationEvent schedules the workflow rules a change starts.
func (s *Store) automationEvent(ctx context.Context, tx *sql.Tx, ev *recordEvent) error { return nil }
