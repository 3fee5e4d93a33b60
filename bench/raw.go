package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cartera/store"
)

// The raw baseline: the queries behind each workload run straight against
// the same SQLite file through database/sql and modernc.org/sqlite, with
// the pragmas of Cartera's connections but no HTTP, no templates, no
// sessions and no permission logic. It is the floor Cartera is measured
// against.

type rawQuery struct {
	name  string
	sql   string // shown in the report
	write bool
	op    func(ctx context.Context, w *rawWorker) (label string, err error)
}

type rawWorker struct {
	r, w *sql.DB
	rng  *rand.Rand
	n    int
	fx   *fixtures
	seq  *atomic.Int64
	run  string
	deep cursorValue
}

type cursorValue struct {
	V  string `json:"v"`
	ID int64  `json:"i"`
}

type rawResult struct {
	q        *rawQuery
	main     summary
	subs     map[string]summary
	subOrder []string
}

// drain runs a query and scans every column of every row, as a page would.
func drain(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) (int, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func idList(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// searchTables are the searchable record types: their full-text code and
// which keys store.searchEntity reads for them.
// boardCards is how many cards per stage the board shows (ui/crm.go).
const boardCards = 25

var searchTables = []struct {
	code                   int64
	table                  string
	alt, email, tax, accID bool
}{
	{1, "accounts", false, true, true, false},
	{2, "contacts", true, true, false, true},
	{3, "leads", true, true, false, false},
	{4, "opportunities", false, false, false, true},
	{5, "cases", false, false, false, true},
}

// rawSearch is store.Search's SQL without scopes: sorted-key prefix
// lookups per type, a bounded full-text pass for types with room, then the
// rows. q is plain lower-case ASCII here, so folding is lower-casing.
func rawSearch(ctx context.Context, db *sql.DB, q string, limit int) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	fq := strings.ToLower(q)
	have := make([][]int64, len(searchTables))
	for i, st := range searchTables {
		seen := map[int64]bool{}
		add := func(query string, args ...any) error {
			if len(have[i]) >= limit {
				return nil
			}
			ids, err := idList(ctx, tx, query, append(args, limit-len(have[i]))...)
			for _, id := range ids {
				if !seen[id] {
					seen[id] = true
					have[i] = append(have[i], id)
				}
			}
			return err
		}
		prefix := func(col, v string) error {
			return add("SELECT t.id FROM "+st.table+" t WHERE t."+col+" >= ? AND t."+col+" < ? AND t."+col+" <> '' AND t.deleted_at = 0 ORDER BY t."+col+", t.id LIMIT ?", v, v+"\uffff")
		}
		if err := prefix("name_key", fq); err != nil {
			return err
		}
		if st.alt {
			if err := prefix("alt_key", fq); err != nil {
				return err
			}
		}
		if st.email {
			if err := prefix("email_key", fq); err != nil {
				return err
			}
		}
		if st.tax {
			if err := prefix("tax_id_key", strings.ToUpper(q)); err != nil {
				return err
			}
		}
		if st.accID && len(fq) >= 2 {
			if err := add("SELECT t.id FROM "+st.table+" t WHERE t.account_id IN (SELECT x.id FROM accounts x WHERE x.name_key >= ? AND x.name_key < ? AND x.deleted_at = 0 ORDER BY x.name_key LIMIT 5) AND t.deleted_at = 0 LIMIT ?", fq, fq+"\uffff"); err != nil {
				return err
			}
		}
	}
	found := 0
	for i := range searchTables {
		found += len(have[i])
	}
	// The full-text pass only when the keys found too little in all.
	if len(fq) >= 3 && found < limit {
		ids, err := idList(ctx, tx, `SELECT rowid FROM search_index WHERE search_index MATCH ? ORDER BY rowid DESC LIMIT 3000`, `"`+q+`"*`)
		if err != nil {
			return err
		}
		byCode := map[int64][]int64{}
		for _, r := range ids {
			byCode[r&7] = append(byCode[r&7], r>>3)
		}
		for i, st := range searchTables {
			cands := byCode[st.code]
			if len(have[i]) >= limit || len(cands) == 0 {
				continue
			}
			list, _ := json.Marshal(cands)
			more, err := idList(ctx, tx, "SELECT t.id FROM "+st.table+" t WHERE t.id IN (SELECT value FROM json_each(?)) AND t.deleted_at = 0 ORDER BY t.id DESC LIMIT ?", string(list), 2*limit)
			if err != nil {
				return err
			}
			seen := map[int64]bool{}
			for _, id := range have[i] {
				seen[id] = true
			}
			for _, id := range more {
				if len(have[i]) < limit && !seen[id] {
					seen[id] = true
					have[i] = append(have[i], id)
				}
			}
		}
	}
	for i, st := range searchTables {
		if len(have[i]) == 0 {
			continue
		}
		args := make([]any, len(have[i]))
		for j, id := range have[i] {
			args[j] = id
		}
		if _, err := drain(ctx, tx, `SELECT * FROM `+st.table+` WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}

// tagSQL walks the name index and probes each contact's tags, as Cartera
// does for a tag carried by many records.
const tagSQL = `SELECT t.* FROM contacts t WHERE t.deleted_at = 0 AND EXISTS (SELECT 1 FROM record_tags rt WHERE rt.entity = 'contacts' AND rt.record_id = t.id AND rt.tag_id = (SELECT tg.id FROM tags tg WHERE tg.name = 'VIP')) ORDER BY t.name_key, t.id LIMIT 50`

// customSQL is what an indexed custom field filter reads, on the field's
// expression index.
const customSQL = `SELECT t.* FROM contacts t WHERE t.deleted_at = 0 AND json_extract(t.custom, '$.contact_preference') = 'whatsapp' ORDER BY t.name_key, t.id LIMIT 50`

func rawQueries() []*rawQuery {
	return []*rawQuery{
		{name: "list", sql: `SELECT * FROM contacts WHERE deleted_at = 0 ORDER BY name_key, id LIMIT 50`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				_, err := drain(ctx, w.r, `SELECT * FROM contacts WHERE deleted_at = 0 ORDER BY name_key, id LIMIT 50`)
				return "", err
			}},
		{name: "list_tag", sql: tagSQL,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				_, err := drain(ctx, w.r, tagSQL)
				return "", err
			}},
		{name: "list_custom", sql: customSQL,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				_, err := drain(ctx, w.r, customSQL)
				return "", err
			}},
		{name: "opps_proposal", sql: `SELECT * FROM opportunities WHERE deleted_at = 0 AND stage = 'proposal' ORDER BY amount_cents, id LIMIT 50`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				_, err := drain(ctx, w.r, `SELECT * FROM opportunities WHERE deleted_at = 0 AND stage = 'proposal' ORDER BY amount_cents, id LIMIT 50`)
				return "", err
			}},
		{name: "deep_page", sql: `SELECT * FROM contacts WHERE deleted_at = 0 AND (name_key, id) > (?, ?) ORDER BY name_key, id LIMIT 50`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				_, err := drain(ctx, w.r, `SELECT * FROM contacts WHERE deleted_at = 0 AND (name_key, id) > (?, ?) ORDER BY name_key, id LIMIT 50`, w.deep.V, w.deep.ID)
				return "", err
			}},
		{name: "search_fts", sql: `SELECT rowid FROM search_index WHERE search_index MATCH '"garc"*' ORDER BY rank LIMIT 8 (q = g … garcia; ranked full-text search, for reference)`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				q := searchPrefixes[w.n%len(searchPrefixes)]
				w.n++
				_, err := drain(ctx, w.r, `SELECT rowid FROM search_index WHERE search_index MATCH ? ORDER BY rank LIMIT 8`, `"`+q+`"*`)
				return "q=" + q, err
			}},
		{name: "search_entities", sql: `as store.Search does, unscoped: per entity, key-prefix lookups through indexes (name_key, alt_key, email_key, tax_id_key, client name; LIMIT 8), then, when q has ≥ 3 letters and the keys found fewer than 8 records in all, one FTS pass SELECT rowid FROM search_index WHERE search_index MATCH ? ORDER BY rowid DESC LIMIT 3000 for types with room; then SELECT * … WHERE id IN (…)`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				q := searchPrefixes[w.n%len(searchPrefixes)]
				w.n++
				return "q=" + q, rawSearch(ctx, w.r, q, 8)
			}},
		{name: "record", sql: `SELECT * FROM contacts WHERE id = ?`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				id := w.fx.recordIDs[w.rng.IntN(len(w.fx.recordIDs))]
				n, err := drain(ctx, w.r, `SELECT * FROM contacts WHERE id = ?`, id)
				if err == nil && n != 1 {
					err = fmt.Errorf("contact %d: %d rows", id, n)
				}
				return "", err
			}},
		{name: "board", sql: `per stage (6): SELECT count(*), COALESCE(sum(amount_cents), 0) FROM opportunities WHERE deleted_at = 0 AND pipeline = 'default' AND stage = ?; SELECT * … ORDER BY stage_changed_at DESC, id DESC LIMIT 25 (the cards the board shows)`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				tx, err := w.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
				if err != nil {
					return "", err
				}
				defer tx.Rollback()
				for _, o := range store.Picklist("stage") {
					var n, cents int64
					if err := tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(amount_cents), 0) FROM opportunities WHERE deleted_at = 0 AND pipeline = 'default' AND stage = ?`, o.Key).Scan(&n, &cents); err != nil {
						return "", err
					}
					if _, err := drain(ctx, tx, `SELECT * FROM opportunities WHERE deleted_at = 0 AND pipeline = 'default' AND stage = ? ORDER BY stage_changed_at DESC, id DESC LIMIT ?`, o.Key, boardCards); err != nil {
						return "", err
					}
				}
				return "", nil
			}},
		{name: "board_groupby", sql: `SELECT stage, count(*), sum(amount_cents) FROM opportunities WHERE deleted_at = 0 GROUP BY stage (reference: one query for all columns)`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				_, err := drain(ctx, w.r, `SELECT stage, count(*), sum(amount_cents) FROM opportunities WHERE deleted_at = 0 GROUP BY stage`)
				return "", err
			}},
		{name: "create", write: true, sql: `BEGIN IMMEDIATE; INSERT INTO contacts …; INSERT INTO search_index …; COMMIT (synchronous=FULL)`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				n := w.seq.Add(1)
				now := time.Now().UnixMilli()
				email := fmt.Sprintf("raw.%s.%d@example.com", w.run, n)
				last := fmt.Sprintf("Prova %s %d", w.run, n)
				tx, err := w.w.BeginTx(ctx, nil)
				if err != nil {
					return "", err
				}
				defer tx.Rollback()
				res, err := tx.ExecContext(ctx, `INSERT INTO contacts (first_name, last_name, name_key, email, email_key, title, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					"Raw", last, strings.ToLower(last+" raw"), email, email, titles[w.rng.IntN(len(titles))], w.fx.userIDs[adminEmail], now, now)
				if err != nil {
					return "", err
				}
				id, _ := res.LastInsertId()
				if _, err := tx.ExecContext(ctx, `INSERT INTO search_index (rowid, body) VALUES (?, ?)`, id*8+2, "Raw "+last+" "+email); err != nil {
					return "", err
				}
				return "", tx.Commit()
			}},
		{name: "update", write: true, sql: `BEGIN IMMEDIATE; UPDATE contacts SET title = ?, … WHERE id = ?; DELETE + INSERT search_index row; COMMIT (synchronous=FULL)`,
			op: func(ctx context.Context, w *rawWorker) (string, error) {
				id := w.fx.recordIDs[w.rng.IntN(len(w.fx.recordIDs))]
				now := time.Now().UnixMilli()
				tx, err := w.w.BeginTx(ctx, nil)
				if err != nil {
					return "", err
				}
				defer tx.Rollback()
				if _, err := tx.ExecContext(ctx, `UPDATE contacts SET title = ?, updated_at = ?, version = version + 1 WHERE id = ?`, titles[w.rng.IntN(len(titles))], now, id); err != nil {
					return "", err
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM search_index WHERE rowid = ?`, id*8+2); err != nil {
					return "", err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO search_index (rowid, body) SELECT id * 8 + 2, first_name || ' ' || last_name || ' ' || email || ' ' || title FROM contacts WHERE id = ?`, id); err != nil {
					return "", err
				}
				return "", tx.Commit()
			}},
	}
}

func decodeDeepCursor(s string) cursorValue {
	var c cursorValue
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		json.Unmarshal(b, &c)
	}
	return c
}

// runRaw runs every raw query with the same number of clients as the
// HTTP workloads, for -raw-duration each, after the server has stopped.
func runRaw(ctx context.Context, c *config, path string, fx *fixtures, rep *report) error {
	r, err := sql.Open("sqlite", readerDSN(path))
	if err != nil {
		return err
	}
	defer r.Close()
	r.SetMaxOpenConns(c.clients)
	r.SetMaxIdleConns(c.clients)
	w, err := sql.Open("sqlite", writerDSN(path))
	if err != nil {
		return err
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	deep := decodeDeepCursor(rep.deepCursor)
	var seq atomic.Int64
	run := fmt.Sprintf("%x", time.Now().UnixNano()%1e9)
	for _, q := range rawQueries() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if q.name == "deep_page" && deep.ID == 0 {
			continue
		}
		logf("raw %s: %d clients for %s", q.name, c.clients, c.rawDuration)
		res := &rawResult{q: q, subs: map[string]summary{}}
		aggs := make([]map[string]*agg, c.clients)
		start := time.Now()
		deadline := start.Add(c.rawDuration)
		var wg sync.WaitGroup
		var firstErr atomic.Value
		for i := range c.clients {
			aggs[i] = map[string]*agg{}
			rw := &rawWorker{r: r, w: w, rng: rand.New(rand.NewPCG(uint64(i)+7, uint64(time.Now().UnixNano()))), n: i, fx: fx, seq: &seq, run: run, deep: deep}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) && ctx.Err() == nil {
					t0 := time.Now()
					label, err := q.op(ctx, rw)
					d := time.Since(t0)
					a := aggs[i][label]
					if a == nil {
						a = newAgg()
						aggs[i][label] = a
					}
					status := 200
					if err != nil {
						status = 0
						firstErr.CompareAndSwap(nil, err.Error())
					}
					a.add(d, status, err == nil)
				}
			}()
		}
		wg.Wait()
		wall := time.Since(start)
		main := newAgg()
		byLabel := map[string]*agg{}
		for _, m := range aggs {
			for label, a := range m {
				if byLabel[label] == nil {
					byLabel[label] = newAgg()
					res.subOrder = append(res.subOrder, label)
				}
				byLabel[label].merge(a)
				main.merge(a)
			}
		}
		res.main = main.summary(wall)
		sortLabels(res.subOrder)
		if len(byLabel) > 1 {
			for label, a := range byLabel {
				res.subs[label] = a.summary(wall)
			}
		}
		if e := firstErr.Load(); e != nil {
			logf("  first error: %v", e)
		}
		logf("  %d queries, %.0f q/s, p50 %s p99 %s, %d errors", res.main.N, res.main.RPS, ms(res.main.P50), ms(res.main.P99), res.main.Errs)
		rep.raw = append(rep.raw, res)
	}
	return nil
}
