package store

import (
	"context"
	"database/sql"
)

// NotificationContent is a rule's in-app message (temporary until the
// notifications land).
type NotificationContent struct {
	Title, Body string
	Entity      Entity
	RecordID    int64
}

func (s *Store) notifyUsers(ctx context.Context, tx *sql.Tx, kind string, ids []int64, n NotificationContent) error {
	return nil
}
