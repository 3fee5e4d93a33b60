package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite"
)

// fixtures are facts about the dataset the workloads need: record ids to
// open and, per salesperson, contacts they may edit.
type fixtures struct {
	counts    map[string]int64
	recordIDs []int64           // random live contacts
	userIDs   map[string]int64  // e-mail → user id
	owned     map[int64][]int64 // salesperson id → random live contacts they own
}

// readerDSN is the DSN Cartera's read pool uses (store/store.go), so the
// raw baseline runs with the same pragmas.
func readerDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-16000)")
	q.Add("_pragma", "query_only(1)")
	return "file:" + path + "?" + q.Encode()
}

// writerDSN is the DSN of Cartera's single writer connection.
func writerDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-16000)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

func loadFixtures(ctx context.Context, path string) (*fixtures, error) {
	db, err := sql.Open("sqlite", readerDSN(path))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	fx := &fixtures{counts: map[string]int64{}, userIDs: map[string]int64{}, owned: map[int64][]int64{}}
	for _, t := range []string{"accounts", "contacts", "leads", "opportunities", "activities", "tasks", "cases"} {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t+" WHERE deleted_at = 0").Scan(&n); err != nil {
			return nil, fmt.Errorf("fixtures: %w", err)
		}
		fx.counts[t] = n
	}
	ids := func(q string, args ...any) ([]int64, error) {
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, rows.Err()
	}
	if fx.recordIDs, err = ids(`SELECT id FROM contacts WHERE deleted_at = 0 ORDER BY random() LIMIT 20000`); err != nil {
		return nil, fmt.Errorf("fixtures: %w", err)
	}
	if len(fx.recordIDs) == 0 {
		return nil, fmt.Errorf("fixtures: the dataset has no contacts")
	}
	for _, email := range append([]string{adminEmail}, salespeople...) {
		var id int64
		if err := db.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&id); err != nil {
			return nil, fmt.Errorf("fixtures: user %s: %w", email, err)
		}
		fx.userIDs[email] = id
		if email == adminEmail {
			continue
		}
		own, err := ids(`SELECT id FROM contacts WHERE owner_id = ? AND deleted_at = 0 ORDER BY random() LIMIT 2000`, id)
		if err != nil {
			return nil, fmt.Errorf("fixtures: %w", err)
		}
		fx.owned[id] = own
	}
	return fx, nil
}
