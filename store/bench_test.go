package store_test

// Benchmarks of the store's hot paths on a demo dataset. They run only with
// -bench (never in `go test ./...`):
//
//	go test -run '^$' -bench . -benchmem ./store/
//	CARTERA_BENCH_CONTACTS=1000000 go test -run '^$' -bench Search ./store/
//
// The dataset (cartera/demo with CARTERA_BENCH_CONTACTS contacts, default
// 20,000, and the other records in proportion) is made once and cached as
// $TMPDIR/cartera-bench-N.db across runs; delete it to remake it. Reads run
// on the cached file; BenchmarkCreateRecord writes to a copy.

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"cartera/demo"
	"cartera/store"
)

const benchSalesperson = "marc.puig@demo.cartera.cat"

type benchData struct {
	path    string
	st      *store.Store
	admin   *store.Actor
	sales   *store.Actor
	ids     []int64 // random live contacts
	page    int     // the deep page's number
	cursor  string  // cursor of the deep page
	setupMu sync.Mutex
}

var (
	benchOnce sync.Once
	bench     *benchData
	benchErr  error
)

func benchContacts() int {
	if v := os.Getenv("CARTERA_BENCH_CONTACTS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 10 {
			return n
		}
	}
	return 20_000
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// benchDataset makes (once per machine) and opens the cached dataset.
func benchDataset(b *testing.B) *benchData {
	b.Helper()
	benchOnce.Do(func() { bench, benchErr = openBenchData() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

func openBenchData() (*benchData, error) {
	ctx := context.Background()
	n := benchContacts()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("cartera-bench-%d.db", n))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".partial"
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + s)
		}
		st, err := store.Open(ctx, store.Options{Path: tmp, Logger: quietLogger(), PasswordMemoryKiB: 64, PasswordTime: 1})
		if err != nil {
			return nil, err
		}
		if _, err := demo.Generate(ctx, st, demo.Options{Contacts: n, Seed: 1}); err != nil {
			st.Close()
			return nil, fmt.Errorf("demo data: %w", err)
		}
		if err := st.Close(); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, err
		}
		for _, s := range []string{"-wal", "-shm"} {
			os.Remove(tmp + s)
		}
	}
	st, err := store.Open(ctx, store.Options{Path: path, Logger: quietLogger()})
	if err != nil {
		return nil, err
	}
	// Opening migrates a dataset cached by an older Cartera; its backup is
	// not needed (the dataset can be remade).
	if old, _ := filepath.Glob(path + ".before-migration-*"); len(old) > 0 {
		for _, f := range old {
			os.Remove(f)
		}
	}
	d := &benchData{path: path, st: st}
	if d.admin, err = actorByEmail(ctx, st, demo.Admin.Email); err != nil {
		return nil, err
	}
	if d.sales, err = actorByEmail(ctx, st, benchSalesperson); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT id FROM contacts WHERE deleted_at = 0 ORDER BY random() LIMIT 10000`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		d.ids = append(d.ids, id)
	}
	rows.Close()
	return d, rows.Err()
}

func actorByEmail(ctx context.Context, st *store.Store, email string) (*store.Actor, error) {
	u, err := st.FindUserByEmail(ctx, store.SystemActor(), email)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", email, err)
	}
	return st.ActorFor(ctx, u.ID)
}

// deepCursor follows the keyset cursors to page 1,000 of 50 contacts (or
// the last full page of a smaller dataset), as a client paging the API does.
func (d *benchData) deepCursor(b *testing.B) (string, int) {
	d.setupMu.Lock()
	defer d.setupMu.Unlock()
	if d.cursor != "" {
		return d.cursor, d.page
	}
	ctx := context.Background()
	cursor, skipped := "", 0
	for skipped < 999*50 {
		recs, next, err := d.st.FindRecords(ctx, d.admin, store.EntContacts, store.Filter{Limit: min(200, 999*50-skipped), Cursor: cursor})
		if err != nil {
			b.Fatal(err)
		}
		if next == "" {
			break
		}
		skipped += len(recs)
		cursor = next
	}
	if cursor == "" {
		b.Skip("too few contacts for a second page")
	}
	d.cursor, d.page = cursor, skipped/50+1
	return d.cursor, d.page
}

func BenchmarkFindRecords_Contacts(b *testing.B) {
	d := benchDataset(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		recs, _, err := d.st.FindRecords(ctx, d.sales, store.EntContacts, store.Filter{Limit: 50})
		if err != nil || len(recs) == 0 {
			b.Fatal(err, len(recs))
		}
	}
}

func BenchmarkFindRecords_Filtered(b *testing.B) {
	d := benchDataset(b)
	ctx := context.Background()
	cases := []struct {
		name string
		a    *store.Actor
		e    store.Entity
		f    store.Filter
	}{
		{"contacts_tag_VIP", d.sales, store.EntContacts, store.Filter{Tags: []string{"VIP"}, Limit: 50}},
		{"opportunities_proposal_by_amount_salesperson", d.sales, store.EntOpportunities, store.Filter{Eq: map[string]string{"stage": "proposal"}, Sort: "amount", Limit: 50}},
		{"opportunities_proposal_by_amount_admin", d.admin, store.EntOpportunities, store.Filter{Eq: map[string]string{"stage": "proposal"}, Sort: "amount", Limit: 50}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := d.st.FindRecords(ctx, c.a, c.e, c.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFindRecords_Page1000 reads page 1,000 through its keyset cursor;
// it should cost what page 1 costs (BenchmarkFindRecords_Contacts).
func BenchmarkFindRecords_Page1000(b *testing.B) {
	d := benchDataset(b)
	cursor, page := d.deepCursor(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		recs, _, err := d.st.FindRecords(ctx, d.sales, store.EntContacts, store.Filter{Limit: 50, Cursor: cursor})
		if err != nil || len(recs) == 0 {
			b.Fatal(err, len(recs))
		}
	}
	b.ReportMetric(float64(page), "page")
}

// BenchmarkSearch_Prefix is search-as-you-type: each key typed is a search.
func BenchmarkSearch_Prefix(b *testing.B) {
	d := benchDataset(b)
	ctx := context.Background()
	for _, q := range []string{"g", "ga", "gar", "garc", "garci", "garcia"} {
		b.Run("q="+q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.st.Search(ctx, d.sales, q, 8); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFindRecord(b *testing.B) {
	d := benchDataset(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.st.FindRecord(ctx, d.sales, store.EntContacts, d.ids[r.IntN(len(d.ids))]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoard is the pipeline board: per stage a count, a total and 25
// cards (as the board page shows), for a salesperson (own opportunities)
// and an admin (all).
func BenchmarkBoard(b *testing.B) {
	d := benchDataset(b)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		a    *store.Actor
	}{{"salesperson", d.sales}, {"admin", d.admin}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.st.Board(ctx, c.a, 0, 25); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateRecord adds contacts (with search indexing, audit and a
// durable commit) to a copy of the dataset.
func BenchmarkCreateRecord(b *testing.B) {
	d := benchDataset(b)
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "create.db")
	if err := copyBenchFile(d.path, path); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, store.Options{Path: path, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a, err := actorByEmail(ctx, st, benchSalesperson)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		_, err := st.CreateRecord(ctx, a, store.EntContacts, store.Input{Values: map[string]any{
			"first_name": "Bench", "last_name": fmt.Sprintf("Prova %d", i),
			"email": fmt.Sprintf("bench.%d@example.com", i), "title": "Gerent",
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func copyBenchFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BenchmarkExportRecords reads every contact the way an export does, a
// page of 1,000 at a time; rows/s is the figure issue 6 targets (100,000).
func BenchmarkExportRecords(b *testing.B) {
	d := benchDataset(b)
	ctx := context.Background()
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		n, err := d.st.ExportRecords(ctx, d.admin, store.EntContacts, store.Filter{}, func([]*store.Record) error { return nil })
		if err != nil || n == 0 {
			b.Fatal(err, n)
		}
		rows += n
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
