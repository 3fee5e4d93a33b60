package store_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

// pageAll fetches every page of a list, failing on an error or a page
// larger than the limit, and returns the records in order.
func pageAll(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, f store.Filter) []*store.Record {
	t.Helper()
	var out []*store.Record
	for i := 0; ; i++ {
		recs, next, err := s.FindRecords(context.Background(), a, e, f)
		if err != nil {
			t.Fatalf("page %d of %s: %v", i, e, err)
		}
		if f.Limit > 0 && len(recs) > f.Limit {
			t.Fatalf("page %d has %d records, limit %d", i, len(recs), f.Limit)
		}
		out = append(out, recs...)
		if next == "" {
			return out
		}
		if i > 1000 {
			t.Fatal("pagination does not end")
		}
		f.Cursor = next
	}
}

func idsOf(recs []*store.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// contactKey is the sort key of a contact in the list sorted by name
// (ASCII test names only).
func contactKey(r *store.Record) string {
	return strings.ToLower(strings.TrimSpace(r.Str("last_name") + " " + r.Str("first_name")))
}

func TestStore_FindRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	sp := mustUser(t, s, admin, "sp@example.com", "salesperson")
	acc1 := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Empresa ABC")})
	acc2 := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Altra SL")})

	// 250 contacts: names come in pairs (ties broken by id), three created
	// per second (ties in created_at too), some with an account, an owner,
	// tags. The bulk loader keeps the set-up fast; the contacts added later
	// go through CreateRecord.
	t0 := clk.Now()
	const total = 250
	err := s.Load(ctx, admin, store.LoadOptions{}, func(l *store.Loader) error {
		for i := 0; i < total; i++ {
			in := store.Input{Values: vals("first_name", "Nom", "last_name", fmt.Sprintf("Cognom %03d", (i*37)%125), "title", "Comercial"), CreatedAt: t0.Add(time.Duration(i/3) * time.Second)}
			switch i % 3 {
			case 0:
				in.Values["account_id"] = acc1.ID
			case 1:
				in.Values["account_id"] = acc2.ID
			}
			if i%5 == 0 {
				in.Values["owner_id"] = sp.UserID
			}
			var tags []string
			if i%4 == 0 {
				tags = append(tags, "Quart")
			}
			if i%7 == 0 {
				tags = append(tags, "Set")
			}
			if tags != nil {
				in.Tags = &tags
			}
			if _, err := l.Create(store.EntContacts, in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	created := pageAll(t, s, admin, store.EntContacts, store.Filter{Sort: "created_at", Limit: 200})
	if len(created) != total {
		t.Fatalf("loaded %d contacts", len(created))
	}
	all := map[int64]*store.Record{}
	stamps := map[time.Time]bool{}
	for _, r := range created {
		all[r.ID] = r
		stamps[r.CreatedAt] = true
	}
	if len(stamps) != (total+2)/3 {
		t.Fatalf("%d distinct creation times, want %d", len(stamps), (total+2)/3)
	}
	// An hour later every tenth contact changes, in reverse order, so that
	// updated_at differs from creation order.
	clk.Advance(time.Hour + 100*time.Second)
	t1 := clk.Now()
	for i := total - 1; i >= 0; i -= 10 {
		r, err := s.UpdateRecord(ctx, admin, store.EntContacts, created[i].ID, store.Input{Values: vals("title", "Gerent")})
		if err != nil {
			t.Fatal(err)
		}
		all[r.ID] = r
		clk.Advance(time.Second)
	}

	sortCases := []struct {
		sort string
		less func(a, b *store.Record) int
	}{
		{"name", func(a, b *store.Record) int {
			if c := strings.Compare(contactKey(a), contactKey(b)); c != 0 {
				return c
			}
			return cmpID(a.ID, b.ID)
		}},
		{"-updated_at", func(a, b *store.Record) int {
			if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
				return c
			}
			return cmpID(b.ID, a.ID)
		}},
		{"created_at", func(a, b *store.Record) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return cmpID(a.ID, b.ID)
		}},
	}
	for _, sc := range sortCases {
		t.Run("keyset pages sorted by "+sc.sort, func(t *testing.T) {
			got := pageAll(t, s, admin, store.EntContacts, store.Filter{Sort: sc.sort, Limit: 50})
			want := make([]*store.Record, 0, total)
			for _, r := range all {
				want = append(want, r)
			}
			slices.SortFunc(want, sc.less)
			if !slices.Equal(idsOf(got), idsOf(want)) {
				t.Fatalf("order by %s:\n got %v\nwant %v", sc.sort, idsOf(got), idsOf(want))
			}
		})
	}

	t.Run("page sizes", func(t *testing.T) {
		recs, next, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{})
		if err != nil || len(recs) != 50 || next == "" {
			t.Fatalf("default page: %d records, next %q, %v", len(recs), next, err)
		}
		recs, _, err = s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Limit: 100000})
		if err != nil || len(recs) != 200 {
			t.Fatalf("huge limit: %d records, %v", len(recs), err)
		}
		recs, next, err = s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Limit: 250})
		if err != nil || len(recs) != 200 || next == "" {
			t.Fatalf("limit above the maximum: %d, %q, %v", len(recs), next, err)
		}
		// A page that holds everything left has no cursor.
		recs, next, err = s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Limit: 200, Cursor: next})
		if err != nil || len(recs) != 50 || next != "" {
			t.Fatalf("last page: %d, %q, %v", len(recs), next, err)
		}
	})

	t.Run("tampered cursor is invalid", func(t *testing.T) {
		_, next, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		enc := base64.RawURLEncoding.EncodeToString
		for _, c := range []string{
			"not a cursor",
			next + "x",
			next[:len(next)-3] + "!!!",
			enc([]byte(`{"v":"cognom","i":0}`)),
			enc([]byte(`{"v":"cognom","i":-4}`)),
			enc([]byte(`{"v":{"x":1},"i":4}`)),
			enc([]byte(`{"v":["a"],"i":4}`)),
			enc([]byte(`[1,2]`)),
			enc([]byte(strings.Repeat("a", 2000))),
		} {
			_, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Limit: 50, Cursor: c})
			if store.ErrorCode(err) != store.CodeInvalid {
				t.Errorf("cursor %q: %v, want invalid", c, err)
			} else {
				wantField(t, err, "cursor")
			}
		}
	})

	t.Run("unknown sort falls back to the default", func(t *testing.T) {
		def, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		byName, _, _ := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Sort: "name", Limit: 100})
		if !slices.Equal(idsOf(def), idsOf(byName)) {
			t.Fatal("default sort of contacts is not by name")
		}
		for _, bad := range []string{"password_hash", "notes", "-notes", "name; DROP TABLE contacts", "t.id", "--", "-"} {
			recs, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Sort: bad, Limit: 100})
			if err != nil {
				t.Errorf("sort %q: %v", bad, err)
				continue
			}
			if !slices.Equal(idsOf(recs), idsOf(def)) {
				t.Errorf("sort %q did not fall back to the default", bad)
			}
			if store.Def(store.EntContacts).Sortable(bad) {
				t.Errorf("%q is sortable", bad)
			}
		}
	})

	// count returns how many of the 250 contacts satisfy pred.
	count := func(pred func(r *store.Record) bool) int {
		n := 0
		for _, r := range all {
			if pred(r) {
				n++
			}
		}
		return n
	}
	checkFilter := func(t *testing.T, f store.Filter, pred func(r *store.Record) bool) {
		t.Helper()
		f.Limit = 200
		got := pageAll(t, s, admin, store.EntContacts, f)
		for _, r := range got {
			if !pred(r) {
				t.Errorf("filter %+v returned contact %d %v", f, r.ID, r.Values)
			}
		}
		want := count(pred)
		if len(got) != want {
			t.Errorf("filter %+v returned %d contacts, want %d", f, len(got), want)
		}
		f.Limit = 0
		if n, err := s.CountRecords(ctx, admin, store.EntContacts, f); err != nil || n != int64(want) {
			t.Errorf("count %+v = %d, %v, want %d", f, n, err, want)
		}
	}

	t.Run("filters", func(t *testing.T) {
		checkFilter(t, store.Filter{Eq: map[string]string{"account_id": fmt.Sprint(acc1.ID)}}, func(r *store.Record) bool { return r.Int("account_id") == acc1.ID })
		checkFilter(t, store.Filter{Eq: map[string]string{"account_id": "0"}}, func(r *store.Record) bool { return r.Int("account_id") == 0 })
		checkFilter(t, store.Filter{Eq: map[string]string{"account_id": ""}}, func(r *store.Record) bool { return r.Int("account_id") == 0 })
		checkFilter(t, store.Filter{Eq: map[string]string{"account_id": fmt.Sprint(acc2.ID), "title": "Gerent"}}, func(r *store.Record) bool {
			return r.Int("account_id") == acc2.ID && r.Str("title") == "Gerent"
		})
		checkFilter(t, store.Filter{Tags: []string{"Quart"}}, func(r *store.Record) bool { return slices.Contains(r.Tags, "Quart") })
		checkFilter(t, store.Filter{Tags: []string{"quart", "SET"}}, func(r *store.Record) bool {
			return slices.Contains(r.Tags, "Quart") && slices.Contains(r.Tags, "Set")
		})
		checkFilter(t, store.Filter{Tags: []string{"Quart", "Cap"}}, func(r *store.Record) bool { return false })
		checkFilter(t, store.Filter{OwnerID: sp.UserID}, func(r *store.Record) bool { return r.OwnerID == sp.UserID })
		checkFilter(t, store.Filter{OwnerID: sp.UserID, Tags: []string{"Set"}}, func(r *store.Record) bool {
			return r.OwnerID == sp.UserID && slices.Contains(r.Tags, "Set")
		})
		from, to := t0.Add(10*time.Second), t0.Add(20*time.Second)
		checkFilter(t, store.Filter{CreatedFrom: from, CreatedTo: to}, func(r *store.Record) bool {
			return !r.CreatedAt.Before(from) && r.CreatedAt.Before(to)
		})
		checkFilter(t, store.Filter{CreatedTo: from}, func(r *store.Record) bool { return r.CreatedAt.Before(from) })
		checkFilter(t, store.Filter{UpdatedFrom: t1}, func(r *store.Record) bool { return !r.UpdatedAt.Before(t1) })
		checkFilter(t, store.Filter{UpdatedTo: t1}, func(r *store.Record) bool { return r.UpdatedAt.Before(t1) })
		since := t1.Add(5 * time.Second)
		checkFilter(t, store.Filter{UpdatedSince: since}, func(r *store.Record) bool { return !r.UpdatedAt.Before(since) })
		if n := count(func(r *store.Record) bool { return !r.UpdatedAt.Before(since) }); n != 20 {
			t.Errorf("updated since = %d contacts, want 20", n)
		}
		checkFilter(t, store.Filter{Q: "cognom 007"}, func(r *store.Record) bool { return r.Str("last_name") == "Cognom 007" })
		checkFilter(t, store.Filter{Q: "gerent", Eq: map[string]string{"account_id": fmt.Sprint(acc1.ID)}}, func(r *store.Record) bool {
			return r.Str("title") == "Gerent" && r.Int("account_id") == acc1.ID
		})
		checkFilter(t, store.Filter{Q: "altra"}, func(r *store.Record) bool { return r.Int("account_id") == acc2.ID })
	})

	t.Run("filters of other record types", func(t *testing.T) {
		mk := func(e store.Entity, v map[string]any) *store.Record {
			return mustCreate(t, s, admin, e, store.Input{Values: v})
		}
		tk1 := mk(store.EntTasks, vals("title", "Trucar a la Núñez", "status", "done", "priority", "high"))
		tk2 := mk(store.EntTasks, vals("title", "Enviar pressupost", "priority", "high"))
		mk(store.EntTasks, vals("title", "Preparar visita", "status", "cancelled"))
		a1 := mk(store.EntActivities, vals("type", "call", "subject", "Trucada a García", "occurred_at", "2026-01-02T10:00:00Z", "outcome", "positive"))
		mk(store.EntActivities, vals("type", "meeting", "subject", "Reunió de seguiment", "occurred_at", "2026-01-03T10:00:00Z"))
		l1 := mk(store.EntLeads, vals("company", "Fleca Puig", "source", "event"))
		mk(store.EntLeads, vals("company", "Forn Vell", "source", "web_form"))
		for _, tc := range []struct {
			e    store.Entity
			f    store.Filter
			want []int64
		}{
			{store.EntTasks, store.Filter{Eq: map[string]string{"status": "done"}}, []int64{tk1.ID}},
			{store.EntTasks, store.Filter{Eq: map[string]string{"priority": "high"}, Sort: "title"}, []int64{tk2.ID, tk1.ID}},
			{store.EntTasks, store.Filter{Eq: map[string]string{"priority": "high", "status": "open"}}, []int64{tk2.ID}},
			{store.EntLeads, store.Filter{Eq: map[string]string{"source": "event"}}, []int64{l1.ID}},
			{store.EntActivities, store.Filter{Eq: map[string]string{"type": "call"}}, []int64{a1.ID}},
			{store.EntActivities, store.Filter{Eq: map[string]string{"outcome": "positive"}}, []int64{a1.ID}},
			// Substring search on subjects and titles, accent-insensitive.
			{store.EntTasks, store.Filter{Q: "nunez"}, []int64{tk1.ID}},
			{store.EntTasks, store.Filter{Q: "PRESSU"}, []int64{tk2.ID}},
			{store.EntTasks, store.Filter{Q: "ssupo"}, []int64{tk2.ID}},
			{store.EntActivities, store.Filter{Q: "garcía"}, []int64{a1.ID}},
			{store.EntActivities, store.Filter{Q: "a a garc"}, []int64{a1.ID}},
			{store.EntLeads, store.Filter{Q: "fleca"}, []int64{l1.ID}},
		} {
			got := idsOf(pageAll(t, s, admin, tc.e, tc.f))
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s %+v = %v, want %v", tc.e, tc.f, got, tc.want)
			}
		}
	})

	t.Run("unfilterable or unknown fields are invalid", func(t *testing.T) {
		for _, tc := range []struct {
			e   store.Entity
			key string
		}{
			{store.EntContacts, "notes"},
			{store.EntContacts, "email"},
			{store.EntContacts, "nope"},
			{store.EntContacts, "owner_id"},
			{store.EntContacts, "deleted_at"},
			{store.EntContacts, "name_key"},
			{store.EntContacts, "1=1 OR title"},
			{store.EntCases, "resolved_at"},
			{store.EntTasks, "description"},
		} {
			f := store.Filter{Eq: map[string]string{tc.key: "x"}}
			_, _, err := s.FindRecords(ctx, admin, tc.e, f)
			wantCode(t, err, store.CodeInvalid)
			wantField(t, err, tc.key)
			_, err = s.CountRecords(ctx, admin, tc.e, f)
			wantCode(t, err, store.CodeInvalid)
		}
		for _, tc := range []struct {
			e        store.Entity
			key, val string
		}{
			{store.EntContacts, "account_id", "abc"},
			{store.EntContacts, "account_id", "-1"},
			{store.EntContacts, "account_id", "1 OR 1=1"},
			{store.EntTasks, "status", "pending"},
			{store.EntTasks, "status", "' OR 1=1 --"},
		} {
			_, _, err := s.FindRecords(ctx, admin, tc.e, store.Filter{Eq: map[string]string{tc.key: tc.val}})
			wantCode(t, err, store.CodeInvalid)
			wantField(t, err, tc.key)
		}
	})

	t.Run("SQL and FTS metacharacters", func(t *testing.T) {
		evil := []string{`' OR 1=1 --`, `"`, `*`, `NEAR(`, `)`, `"a" OR "b"`, `nom*`, `{first_name}: nom`, `'; DROP TABLE contacts; --`, `%`, `\`}
		for _, q := range evil {
			for _, e := range []store.Entity{store.EntContacts, store.EntTasks, store.EntAccounts} {
				recs, _, err := s.FindRecords(ctx, admin, e, store.Filter{Q: q, Limit: 5})
				if err != nil && store.ErrorCode(err) != store.CodeInvalid {
					t.Errorf("%s Q %q: %v", e, q, err)
				}
				// Only the word "nom" may match anything: every contact is a "Nom".
				if strings.Contains(strings.ToLower(q), "nom") && e == store.EntContacts {
					continue
				}
				if len(recs) != 0 {
					t.Errorf("%s Q %q matched %d records", e, q, len(recs))
				}
			}
			if groups, err := s.Search(ctx, admin, q, 5); err != nil {
				t.Errorf("Search %q: %v", q, err)
			} else if !strings.Contains(strings.ToLower(q), "nom") && len(groups) != 0 {
				t.Errorf("Search %q found %+v", q, groups)
			}
			for _, key := range []string{"title", "account_id"} {
				recs, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Eq: map[string]string{key: q}, Limit: 5})
				if err != nil && store.ErrorCode(err) != store.CodeInvalid {
					t.Errorf("Eq %s %q: %v", key, q, err)
				}
				if len(recs) != 0 {
					t.Errorf("Eq %s %q matched %d records", key, q, len(recs))
				}
			}
			recs, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Tags: []string{q}, Limit: 5})
			if err != nil || len(recs) != 0 {
				t.Errorf("tag %q: %d records, %v", q, len(recs), err)
			}
		}
		// Still all there.
		if n, err := s.CountRecords(ctx, admin, store.EntContacts, store.Filter{}); err != nil || n != total {
			t.Fatalf("contacts after the attempts: %d, %v", n, err)
		}
	})

	t.Run("pages stay stable while contacts are added", func(t *testing.T) {
		page1, next, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Sort: "name", Limit: 50})
		if err != nil || len(page1) != 50 || next == "" {
			t.Fatalf("page 1: %d, %v", len(page1), err)
		}
		last := page1[len(page1)-1]
		added := map[int64]bool{} // id → sorts after the cursor
		for i := 0; i < 10; i++ {
			before := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Nom", "last_name", fmt.Sprintf("Abans %02d", i))})
			added[before.ID] = false
			// Same name as the cursor's record, but a higher id: after it.
			tie := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", last.Str("first_name"), "last_name", last.Str("last_name"))})
			added[tie.ID] = true
			after := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Nom", "last_name", fmt.Sprintf("Zeta %02d", i))})
			added[after.ID] = true
		}
		rest := pageAll(t, s, admin, store.EntContacts, store.Filter{Sort: "name", Limit: 50, Cursor: next})
		seen := map[int64]int{}
		for _, r := range append(page1, rest...) {
			seen[r.ID]++
		}
		for id := range all {
			if seen[id] != 1 {
				t.Errorf("original contact %d seen %d times", id, seen[id])
			}
		}
		for id, afterCursor := range added {
			want := 0
			if afterCursor {
				want = 1
			}
			if seen[id] != want {
				t.Errorf("added contact %d seen %d times, want %d", id, seen[id], want)
			}
		}
		if len(page1)+len(rest) != total+20 {
			t.Errorf("listed %d contacts, want %d", len(page1)+len(rest), total+20)
		}
	})
}

func cmpID(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// groupTitles returns the titles Search finds for q, by entity.
func groupTitles(t *testing.T, s *store.Store, a *store.Actor, q string, perType int) map[store.Entity][]string {
	t.Helper()
	groups, err := s.Search(context.Background(), a, q, perType)
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	out := map[store.Entity][]string{}
	for _, g := range groups {
		for _, r := range g.Records {
			out[g.Entity] = append(out[g.Entity], r.Title)
		}
	}
	return out
}

func TestStore_Search(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	abc := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Empresa ABC", "phone", "93 123 45 67")})
	altra := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Altra SL")})
	laura := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Laura", "last_name", "García", "email", "laura.garcia@empresaabc.com", "phone", "+34 612 34 56 78", "account_id", abc.ID)})
	joan := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Joan", "last_name", "Pérez", "mobile", "699 88 77 66", "account_id", abc.ID)})
	pau := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Pau", "last_name", "Núñez", "account_id", altra.ID)})
	rosa := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Rosa", "last_name", "Garriga")})
	opp := mustCreate(t, s, admin, store.EntOpportunities, store.Input{Values: vals("name", "Renovació TPV", "account_id", abc.ID)})
	lead := mustCreate(t, s, admin, store.EntLeads, store.Input{Values: vals("first_name", "Marta", "last_name", "Garcés", "company", "Ferreteria Ñandú")})
	kase := mustCreate(t, s, admin, store.EntCases, store.Input{Values: vals("subject", "La impressora no imprimeix", "account_id", abc.ID)})

	contactsOf := func(q string) []int64 {
		t.Helper()
		return sorted(searchIDs(t, s, admin, q, 10)[store.EntContacts])
	}
	ids := func(rs ...*store.Record) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return sorted(out)
	}

	t.Run("accent and case insensitive", func(t *testing.T) {
		for q, want := range map[string][]int64{
			"garcia":  ids(laura),
			"GARCÍA":  ids(laura),
			"PÉREZ":   ids(joan),
			"perez":   ids(joan),
			"nunez":   ids(pau),
			"NÚÑEZ":   ids(pau),
			"Nuñez":   ids(pau),
			"laura g": ids(laura),
		} {
			if got := contactsOf(q); !slices.Equal(got, want) {
				t.Errorf("search %q = %v, want %v", q, got, want)
			}
			f := store.Filter{Q: q}
			if got, _, err := s.FindRecords(ctx, admin, store.EntContacts, f); err != nil || !slices.Equal(sorted(idsOf(got)), want) {
				t.Errorf("list Q %q = %v, %v, want %v", q, idsOf(got), err, want)
			}
		}
		if got := searchIDs(t, s, admin, "nandu", 10)[store.EntLeads]; !slices.Equal(got, ids(lead)) {
			t.Errorf("lead by company = %v", got)
		}
		if got := searchIDs(t, s, admin, "renovacio", 10)[store.EntOpportunities]; !slices.Equal(got, ids(opp)) {
			t.Errorf("opportunity = %v", got)
		}
		if got := searchIDs(t, s, admin, "imprimeix", 10)[store.EntCases]; !slices.Equal(got, ids(kase)) {
			t.Errorf("case = %v", got)
		}
	})

	t.Run("prefix while typing", func(t *testing.T) {
		for q, want := range map[string][]int64{
			"ga":       ids(laura, rosa),
			"gar":      ids(laura, rosa),
			"garc":     ids(laura),
			"garr":     ids(rosa),
			"Ro Garr":  ids(rosa),
			"garcias":  nil,
			"laura ga": ids(laura),
		} {
			if got := contactsOf(q); !slices.Equal(got, want) {
				t.Errorf("search %q = %v, want %v", q, got, want)
			}
		}
		if got := searchIDs(t, s, admin, "gar", 10)[store.EntLeads]; !slices.Equal(got, ids(lead)) {
			t.Errorf("leads for gar = %v", got)
		}
	})

	t.Run("e-mail", func(t *testing.T) {
		for _, q := range []string{"laura.garcia@emp", "laura.garcia@empresaabc.com", "LAURA.GARCIA@EMPRESAABC.COM", "empresaabc.com"} {
			if got := contactsOf(q); !slices.Equal(got, ids(laura)) {
				t.Errorf("search %q = %v", q, got)
			}
		}
		if got := contactsOf("laura.garcia@altra"); len(got) != 0 {
			t.Errorf("wrong domain found %v", got)
		}
	})

	t.Run("phone", func(t *testing.T) {
		for _, q := range []string{"612345678", "612 34 56 78", "612 34", "+34 612 34 56 78", "+34612345678", "0034 612 345 678", "(+34) 612-34-56-78", "612.34.56.78"} {
			if got := contactsOf(q); !slices.Equal(got, ids(laura)) {
				t.Errorf("phone %q = %v", q, got)
			}
		}
		if got := contactsOf("699 88 77"); !slices.Equal(got, ids(joan)) {
			t.Errorf("mobile = %v", got)
		}
		if got := searchIDs(t, s, admin, "93 123 45 67", 10)[store.EntAccounts]; !slices.Equal(got, ids(abc)) {
			t.Errorf("account phone = %v", got)
		}
		if got := contactsOf("612 99"); len(got) != 0 {
			t.Errorf("wrong number found %v", got)
		}
	})

	t.Run("account name finds its records and follows renames", func(t *testing.T) {
		if got := contactsOf("Empresa ABC"); !slices.Equal(got, ids(laura, joan)) {
			t.Errorf("contacts of Empresa ABC = %v", got)
		}
		got := searchIDs(t, s, admin, "Empresa ABC", 10)
		if !slices.Equal(got[store.EntAccounts], ids(abc)) || !slices.Equal(got[store.EntOpportunities], ids(opp)) || !slices.Equal(got[store.EntCases], ids(kase)) {
			t.Errorf("search Empresa ABC = %v", got)
		}
		if _, err := s.UpdateRecord(ctx, admin, store.EntAccounts, abc.ID, store.Input{Values: vals("name", "Nova Corporació")}); err != nil {
			t.Fatal(err)
		}
		got = searchIDs(t, s, admin, "Empresa ABC", 10)
		if len(got[store.EntAccounts])+len(got[store.EntContacts])+len(got[store.EntOpportunities])+len(got[store.EntCases]) != 0 {
			t.Errorf("old name still finds %v", got)
		}
		if got := contactsOf("nova corporacio"); !slices.Equal(got, ids(laura, joan)) {
			t.Errorf("contacts of the new name = %v", got)
		}
		got = searchIDs(t, s, admin, "Nova Corp", 10)
		if !slices.Equal(got[store.EntAccounts], ids(abc)) || !slices.Equal(got[store.EntOpportunities], ids(opp)) || !slices.Equal(got[store.EntCases], ids(kase)) {
			t.Errorf("search new name = %v", got)
		}
		// Moving a contact to another account moves it in search too.
		if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, joan.ID, store.Input{Values: vals("account_id", altra.ID)}); err != nil {
			t.Fatal(err)
		}
		if got := contactsOf("nova corporacio"); !slices.Equal(got, ids(laura)) {
			t.Errorf("after moving Joan = %v", got)
		}
		if got := contactsOf("altra"); !slices.Equal(got, ids(joan, pau)) {
			t.Errorf("contacts of Altra = %v", got)
		}
	})

	t.Run("trash drops out and comes back", func(t *testing.T) {
		if err := s.DeleteRecord(ctx, admin, store.EntContacts, pau.ID); err != nil {
			t.Fatal(err)
		}
		if got := contactsOf("nunez"); len(got) != 0 {
			t.Errorf("deleted contact found: %v", got)
		}
		if got, _, _ := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Q: "nunez"}); len(got) != 0 {
			t.Errorf("deleted contact listed: %v", idsOf(got))
		}
		if err := s.DeleteRecord(ctx, admin, store.EntOpportunities, opp.ID); err != nil {
			t.Fatal(err)
		}
		if got := searchIDs(t, s, admin, "renovacio", 10); len(got) != 0 {
			t.Errorf("deleted opportunity found: %v", got)
		}
		if err := s.RestoreRecord(ctx, admin, store.EntContacts, pau.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RestoreRecord(ctx, admin, store.EntOpportunities, opp.ID); err != nil {
			t.Fatal(err)
		}
		if got := contactsOf("nunez"); !slices.Equal(got, ids(pau)) {
			t.Errorf("restored contact = %v", got)
		}
		if got := searchIDs(t, s, admin, "renovacio", 10)[store.EntOpportunities]; !slices.Equal(got, ids(opp)) {
			t.Errorf("restored opportunity = %v", got)
		}
	})

	t.Run("perType limit", func(t *testing.T) {
		for i := 0; i < 8; i++ {
			mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Martí", "last_name", fmt.Sprintf("Roca %d", i))})
		}
		mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Martí i Fills")})
		for _, tc := range []struct{ per, want int }{{3, 3}, {1, 1}, {0, 5}, {-1, 5}, {8, 8}, {20, 8}} {
			got := searchIDs(t, s, admin, "marti", tc.per)
			if len(got[store.EntContacts]) != tc.want || len(got[store.EntAccounts]) != 1 {
				t.Errorf("perType %d: %d contacts %d accounts, want %d", tc.per, len(got[store.EntContacts]), len(got[store.EntAccounts]), tc.want)
			}
		}
	})

	t.Run("empty and unknown queries", func(t *testing.T) {
		for _, q := range []string{"", "   ", "zzzzqqq"} {
			if got := searchIDs(t, s, admin, q, 5); len(got) != 0 {
				t.Errorf("search %q = %v", q, got)
			}
		}
		if _, err := s.Search(ctx, nil, "garcia", 5); store.ErrorCode(err) != store.CodeUnauthorized {
			t.Errorf("search without actor: %v", err)
		}
	})
}
