package store_test

// Benchmark of every standard report on a demo dataset, as the firm's
// administrator (every record) and as a salesperson (own records):
//
//	go test -run '^$' -bench StandardReports ./store/
//	CARTERA_REPORTS_DB=bench/data/demo-large-1-v2.db go test -run '^$' -bench StandardReports -benchtime 3x ./store/
//
// Without CARTERA_REPORTS_DB the dataset is a demo of
// CARTERA_BENCH_CONTACTS contacts (default 20,000) cached as
// $TMPDIR/cartera-reports-bench-N.db, a file of its own so that opening it
// with this branch's migrations never touches another benchmark's cache.
// With CARTERA_REPORTS_DB the given file is opened (and migrated) in place.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"cartera/demo"
	"cartera/store"
)

func reportsBenchStore(b *testing.B) (*store.Store, *store.Actor, *store.Actor) {
	b.Helper()
	ctx := context.Background()
	path := os.Getenv("CARTERA_REPORTS_DB")
	if path == "" {
		n := benchContacts()
		path = filepath.Join(os.TempDir(), fmt.Sprintf("cartera-reports-bench-%d.db", n))
		if _, err := os.Stat(path); err != nil {
			tmp := path + ".partial"
			for _, s := range []string{"", "-wal", "-shm"} {
				os.Remove(tmp + s)
			}
			st, err := store.Open(ctx, store.Options{Path: tmp, Logger: quietLogger(), PasswordMemoryKiB: 64, PasswordTime: 1})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := demo.Generate(ctx, st, demo.Options{Contacts: n, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			if err := st.Close(); err != nil {
				b.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				b.Fatal(err)
			}
		}
	}
	st, err := store.Open(ctx, store.Options{Path: path, Logger: quietLogger(), BackupDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	admin, err := actorByEmail(ctx, st, demo.Admin.Email)
	if err != nil {
		b.Fatal(err)
	}
	sales, err := actorByEmail(ctx, st, benchSalesperson)
	if err != nil {
		b.Fatal(err)
	}
	return st, admin, sales
}

// BenchmarkStandardReports runs each standard report with its default
// parameters; issue 8 asks for under 500 ms each on the large dataset.
func BenchmarkStandardReports(b *testing.B) {
	st, admin, sales := reportsBenchStore(b)
	ctx := context.Background()
	for _, rep := range store.StandardReports() {
		if !rep.Available {
			continue
		}
		for _, who := range []struct {
			name string
			a    *store.Actor
		}{{"admin", admin}, {"sales", sales}} {
			if !store.StandardReportVisible(who.a, rep) {
				continue
			}
			b.Run(rep.Key+"/"+who.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := st.RunStandardReport(ctx, who.a, rep.Key, store.ReportParams{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
