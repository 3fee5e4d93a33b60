// Package demo fills a database with realistic, deterministic data for a
// Catalan/Spanish small firm, for trying Cartera, training staff and
// benchmarks.
package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"unicode"

	"cartera/store"
)

// Options choose how much data to make.
type Options struct {
	// Size is small, medium or large; Contacts, when set, overrides it.
	Size     string
	Contacts int
	Seed     uint64
	// Progress receives a line per stage; nil for silence.
	Progress io.Writer
	// Now anchors dates ("two years of activities up to today").
	Now time.Time
}

// Counts is how many records of each type a size makes.
type Counts struct {
	Accounts, Contacts, Leads, Opportunities, Activities, Tasks, Cases int
}

// CountsFor returns the record counts of a size or contact count: the large
// size is the benchmark dataset (1,000,000 contacts, 100,000 accounts,
// 200,000 opportunities, 2,000,000 activities).
func CountsFor(size string, contacts int) (Counts, error) {
	if contacts == 0 {
		switch size {
		case "", "small":
			contacts = 1000
		case "medium":
			contacts = 100_000
		case "large":
			contacts = 1_000_000
		default:
			return Counts{}, fmt.Errorf("unknown size %q (small, medium or large)", size)
		}
	}
	if contacts < 10 {
		return Counts{}, fmt.Errorf("at least 10 contacts")
	}
	return Counts{
		Accounts: contacts / 10, Contacts: contacts, Leads: contacts / 10, Opportunities: contacts / 5,
		Activities: contacts * 2, Tasks: contacts / 10, Cases: contacts / 20,
	}, nil
}

// User is a demo login printed at the end.
type User struct {
	Email, Password, Role string
}

// Result is what Generate made.
type Result struct {
	Users  []User
	Counts Counts
}

// Admin is the demo administrator created when the database is new.
var Admin = User{Email: "admin@demo.cartera.cat", Password: "demo-admin-2026", Role: "admin"}

var staff = []struct {
	Email, Name, Role, Team string
}{
	{"laura.vendes@demo.cartera.cat", "Laura Vendes", "salesperson", "Vendes Catalunya"},
	{"marc.puig@demo.cartera.cat", "Marc Puig", "salesperson", "Vendes Catalunya"},
	{"nuria.ferrer@demo.cartera.cat", "Núria Ferrer", "salesperson", "Vendes Catalunya"},
	{"jose.garcia@demo.cartera.cat", "José García", "salesperson", "Ventas España"},
	{"lucia.perez@demo.cartera.cat", "Lucía Pérez", "salesperson", "Ventas España"},
	{"pau.serra@demo.cartera.cat", "Pau Serra", "salesperson", "Ventas España"},
	{"anna.soler@demo.cartera.cat", "Anna Soler", "service_agent", "Atenció al client"},
	{"ramon.vidal@demo.cartera.cat", "Ramon Vidal", "service_agent", "Atenció al client"},
	{"clara.roca@demo.cartera.cat", "Clara Roca", "marketing", ""},
}

// StaffPassword is the password of every demo staff user.
const StaffPassword = "demo-2026"

// Version changes whenever the generator makes different data, so cached
// benchmark datasets made by an older generator are not reused.
const Version = 2

// Generate fills st. A new database is set up first (company "Distribucions
// Puig SL", administrator Admin); demo staff are added unless present.
func Generate(ctx context.Context, st *store.Store, o Options) (*Result, error) {
	counts, err := CountsFor(o.Size, o.Contacts)
	if err != nil {
		return nil, err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	now := o.Now.UTC().Truncate(24 * time.Hour).Add(9 * time.Hour)
	logf := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	res := &Result{Counts: counts}
	sys := store.SystemActor()
	ok, err := st.IsSetUp(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		if _, err := st.Setup(ctx, store.SetupInput{
			Company:   store.Company{Name: "Distribucions Puig SL", Address: "Carrer Major 12\n08500 Vic", Phone: "+34 938 86 00 00", Email: "info@distribucionspuig.cat", TaxID: "B12345678", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
			AdminName: "Admin Demo", AdminEmail: Admin.Email, AdminPassword: Admin.Password,
		}); err != nil {
			return nil, err
		}
		res.Users = append(res.Users, Admin)
	}
	teams := map[string]int64{}
	existing, err := st.FindTeams(ctx, sys)
	if err != nil {
		return nil, err
	}
	for _, t := range existing {
		teams[t.Name] = t.ID
	}
	var sales, agents, marketing []int64
	for _, sf := range staff {
		u, err := st.FindUserByEmail(ctx, sys, sf.Email)
		if store.ErrorCode(err) == store.CodeNotFound {
			var team int64
			if sf.Team != "" {
				if teams[sf.Team] == 0 {
					t, err := st.SaveTeam(ctx, sys, 0, sf.Team)
					if err != nil {
						return nil, err
					}
					teams[sf.Team] = t.ID
				}
				team = teams[sf.Team]
			}
			u, err = st.CreateUser(ctx, sys, store.UserInput{Email: sf.Email, Name: sf.Name, Password: StaffPassword, RoleKey: sf.Role, TeamID: team})
			if err != nil {
				return nil, err
			}
			res.Users = append(res.Users, User{Email: sf.Email, Password: StaffPassword, Role: sf.Role})
		} else if err != nil {
			return nil, err
		}
		switch sf.Role {
		case "salesperson":
			sales = append(sales, u.ID)
		case "service_agent":
			agents = append(agents, u.ID)
		case "marketing":
			marketing = append(marketing, u.ID)
		}
	}
	if err := customFields(ctx, st, sys); err != nil {
		return nil, err
	}
	g := &gen{r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), now: now}
	start := time.Now()
	big := counts.Contacts >= 100_000
	opts := store.LoadOptions{Batch: 50_000, DeferIndexes: big, Fast: big}
	err = st.Load(ctx, sys, opts, func(l *store.Loader) error {
		accIDs := make([]int64, 0, counts.Accounts)
		accOwner := make([]int64, 0, counts.Accounts)
		accDomain := make([]string, 0, counts.Accounts)
		for i := 0; i < counts.Accounts; i++ {
			owner := g.pick64(sales)
			name, domain := g.company(i)
			town := towns[g.r.IntN(len(towns))]
			in := store.Input{Values: map[string]any{
				"owner_id": owner, "name": name, "type": g.weighted([]string{"customer", "prospect", "partner", "competitor", "other"}, []int{60, 28, 6, 3, 3}),
				"sector": g.pickOpt("sector"), "origin": g.pickOpt("source"), "customer_type": g.weighted([]string{"business", "individual", "public_administration", "nonprofit"}, []int{80, 10, 6, 4}),
				"potential": g.weighted([]string{"high", "medium", "low"}, []int{20, 50, 30}), "address": "Carrer " + g.pick(lastNames) + " " + strconv.Itoa(1+g.r.IntN(120)),
				"city": town.City, "region": town.Region, "postal_code": town.Postal, "country": countryOf(town.Region), "phone": g.phone(9),
				"email": "info@" + domain, "website": "www." + domain, "tax_id": fmt.Sprintf("B%08d", 10_000_000+i),
			}, CreatedAt: g.past(730)}
			if g.r.IntN(10) == 0 {
				tags := []string{g.pick(tagNames)}
				in.Tags = &tags
			}
			id, err := l.Create(store.EntAccounts, in)
			if err != nil {
				return fmt.Errorf("account %d: %w", i, err)
			}
			accIDs, accOwner, accDomain = append(accIDs, id), append(accOwner, owner), append(accDomain, domain)
		}
		logf("accounts: %d (%s)", counts.Accounts, time.Since(start).Round(time.Second))
		conIDs := make([]int64, 0, counts.Contacts)
		conAcc := make([]int32, 0, counts.Contacts)
		firstContact := make([]int64, counts.Accounts)
		for i := 0; i < counts.Contacts; i++ {
			ai := g.r.IntN(len(accIDs))
			if i < len(accIDs) {
				ai = i // every account gets at least one contact
			}
			fn, ln := g.pick(firstNames), g.pick(lastNames)
			if g.r.IntN(3) == 0 {
				ln += " " + g.pick(lastNames)
			}
			in := store.Input{Values: map[string]any{
				"owner_id": accOwner[ai], "first_name": fn, "last_name": ln,
				"email": fmt.Sprintf("%s.%s%d@%s", ascii(fn), ascii(strings.Fields(ln)[0]), i, accDomain[ai]),
				"phone": g.phone(6), "title": g.pick(positions), "account_id": accIDs[ai],
			}, CreatedAt: g.past(730)}
			if g.r.IntN(4) == 0 {
				in.Values["mobile"] = g.phone(6)
			}
			if g.r.IntN(5) < 3 {
				in.SetCustom("birth_date", g.now.AddDate(-20-g.r.IntN(45), 0, -g.r.IntN(365)).Format("2006-01-02"))
			}
			if g.r.IntN(10) < 7 {
				in.SetCustom("contact_preference", g.weighted([]string{"email", "phone", "whatsapp", "visit", "post"}, []int{45, 30, 15, 7, 3}))
			}
			if g.r.IntN(12) == 0 {
				tags := []string{g.pick(tagNames)}
				in.Tags = &tags
			}
			id, err := l.Create(store.EntContacts, in)
			if err != nil {
				return fmt.Errorf("contact %d: %w", i, err)
			}
			conIDs = append(conIDs, id)
			conAcc = append(conAcc, int32(ai))
			if firstContact[ai] == 0 {
				firstContact[ai] = id
			}
		}
		logf("contacts: %d (%s)", counts.Contacts, time.Since(start).Round(time.Second))
		for i := 0; i < counts.Leads; i++ {
			fn, ln := g.pick(firstNames), g.pick(lastNames)
			name, domain := g.company(counts.Accounts + i)
			owner := g.pick64(sales)
			if len(marketing) > 0 && g.r.IntN(5) == 0 {
				owner = marketing[0]
			}
			in := store.Input{Values: map[string]any{
				"owner_id": owner, "first_name": fn, "last_name": ln, "company": name,
				"email": fmt.Sprintf("%s.%s@%s", ascii(fn), ascii(ln), domain), "phone": g.phone(6), "title": g.pick(positions),
				"source": g.pickOpt("source"), "status": g.weighted([]string{"new", "contacted", "qualified", "disqualified"}, []int{40, 30, 20, 10}),
			}, CreatedAt: g.past(365)}
			if _, err := l.Create(store.EntLeads, in); err != nil {
				return fmt.Errorf("lead %d: %w", i, err)
			}
		}
		logf("leads: %d (%s)", counts.Leads, time.Since(start).Round(time.Second))
		stages := []string{"reception", "qualification", "proposal", "negotiation", "won", "lost"}
		oppIDs := make([]int64, 0, counts.Opportunities)
		oppAcc := make([]int32, 0, counts.Opportunities)
		for i := 0; i < counts.Opportunities; i++ {
			ai := g.r.IntN(len(accIDs))
			stage := g.weighted(stages, []int{14, 14, 16, 11, 25, 20})
			created := g.past(730)
			path := []store.StageChange{{Stage: "reception", At: created}}
			last := created
			for _, st := range stages[1:4] {
				if st == stage || stageIndex(stage) > stageIndex(st) {
					last = last.Add(time.Duration(2+g.r.IntN(20)) * 24 * time.Hour)
					if last.After(now) {
						last = now.Add(-time.Hour)
					}
					path = append(path, store.StageChange{Stage: st, At: last})
				}
			}
			if stage == "won" || stage == "lost" {
				last = last.Add(time.Duration(3+g.r.IntN(30)) * 24 * time.Hour)
				if last.After(now) {
					last = now.Add(-time.Hour)
				}
				path = append(path, store.StageChange{Stage: stage, At: last})
			}
			closeDate := created.AddDate(0, 0, 30+g.r.IntN(150))
			in := store.Input{Values: map[string]any{
				"owner_id": accOwner[ai], "name": g.pick(opportunityWords) + " " + strings.TrimSuffix(strings.TrimSuffix(accountShort(ai, g, accDomain), " SL"), " SA"),
				"account_id": accIDs[ai], "contact_id": nilIfZero(firstContact[ai]), "amount": float64(500+g.r.IntN(200)*250) + float64(g.r.IntN(100))/100,
				"stage": stage, "expected_close_date": closeDate.Format("2006-01-02"),
				"forecast_category": g.weighted([]string{"pipeline", "best_case", "commit"}, []int{60, 25, 15}),
			}, CreatedAt: created, StageHistory: path}
			if stage == "lost" {
				in.Values["lost_reason"] = g.pickOpt("lost_reason")
			}
			if stage == "won" || stage == "lost" {
				delete(in.Values, "forecast_category")
			}
			if firstContact[ai] != 0 && g.r.IntN(3) == 0 {
				in.ContactRoles = &[]store.ContactRole{{ContactID: firstContact[ai], Role: g.pickOpt("contact_role")}}
			}
			id, err := l.Create(store.EntOpportunities, in)
			if err != nil {
				return fmt.Errorf("opportunity %d: %w", i, err)
			}
			oppIDs = append(oppIDs, id)
			oppAcc = append(oppAcc, int32(ai))
		}
		logf("opportunities: %d (%s)", counts.Opportunities, time.Since(start).Round(time.Second))
		types := []string{"call", "email", "meeting", "visit", "note"}
		for i := 0; i < counts.Activities; i++ {
			ci := g.r.IntN(len(conIDs))
			ai := conAcc[ci]
			typ := g.weighted(types, []int{35, 30, 12, 13, 10})
			in := store.Input{Values: map[string]any{
				"owner_id": accOwner[ai], "type": typ, "subject": g.pick(activitySubjects[typ]), "occurred_at": g.past(730).Format(time.RFC3339),
				"objective": g.pickOpt("activity_objective"), "outcome": g.weighted([]string{"positive", "neutral", "negative", "no_answer", "pending"}, []int{35, 30, 10, 15, 10}),
				"contact_id": conIDs[ci], "account_id": accIDs[ai],
			}}
			if g.r.IntN(5) == 0 && len(oppIDs) > 0 {
				oi := g.r.IntN(len(oppIDs))
				in.Values["opportunity_id"], in.Values["account_id"] = oppIDs[oi], accIDs[oppAcc[oi]]
			}
			if _, err := l.Create(store.EntActivities, in); err != nil {
				return fmt.Errorf("activity %d: %w", i, err)
			}
		}
		logf("activities: %d (%s)", counts.Activities, time.Since(start).Round(time.Second))
		for i := 0; i < counts.Tasks; i++ {
			ci := g.r.IntN(len(conIDs))
			ai := conAcc[ci]
			due := now.Add(time.Duration(g.r.IntN(60*24)-30*24) * time.Hour).Truncate(time.Hour)
			in := store.Input{Values: map[string]any{
				"assignee_id": accOwner[ai], "title": g.pick(taskTitles), "due_at": due.Format(time.RFC3339),
				"priority": g.weighted([]string{"low", "normal", "high"}, []int{20, 60, 20}), "status": g.weighted([]string{"open", "done", "cancelled"}, []int{60, 35, 5}),
				"contact_id": conIDs[ci], "account_id": accIDs[ai],
			}, CreatedAt: due.Add(-time.Duration(1+g.r.IntN(20)) * 24 * time.Hour)}
			if _, err := l.Create(store.EntTasks, in); err != nil {
				return fmt.Errorf("task %d: %w", i, err)
			}
		}
		logf("tasks: %d (%s)", counts.Tasks, time.Since(start).Round(time.Second))
		for i := 0; i < counts.Cases; i++ {
			ci := g.r.IntN(len(conIDs))
			ai := conAcc[ci]
			in := store.Input{Values: map[string]any{
				"assignee_id": g.pick64(agents), "subject": g.pick(caseSubjects), "description": "El client ens ha escrit sobre aquest tema.",
				"account_id": accIDs[ai], "contact_id": conIDs[ci], "status": g.weighted([]string{"new", "in_progress", "waiting", "resolved", "closed"}, []int{15, 20, 10, 20, 35}),
				"priority": g.weighted([]string{"low", "normal", "high", "urgent"}, []int{20, 55, 20, 5}), "category": g.pickOpt("case_category"),
			}, CreatedAt: g.past(365)}
			if _, err := l.Create(store.EntCases, in); err != nil {
				return fmt.Errorf("case %d: %w", i, err)
			}
		}
		logf("cases: %d (%s)", counts.Cases, time.Since(start).Round(time.Second))
		return nil
	})
	if err != nil {
		return nil, err
	}
	logf("indexes and search rebuilt (%s)", time.Since(start).Round(time.Second))
	return res, nil
}

func countryOf(region string) string {
	switch region {
	case "Barcelona", "Girona", "Lleida", "Tarragona", "Madrid", "València", "Zaragoza", "Sevilla", "Illes Balears", "Bizkaia", "Castelló":
		return "Espanya"
	case "Andorra":
		return "Andorra"
	}
	return ""
}

func stageIndex(s string) int {
	for i, x := range []string{"reception", "qualification", "proposal", "negotiation", "won", "lost"} {
		if x == s {
			if i >= 4 {
				return 4
			}
			return i
		}
	}
	return 0
}

func nilIfZero(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func accountShort(ai int, g *gen, domains []string) string {
	d := domains[ai]
	if i := strings.IndexByte(d, '.'); i > 0 {
		d = d[:i]
	}
	return strings.ToUpper(d[:1]) + d[1:]
}

// gen is the deterministic source of demo values.
type gen struct {
	r   *rand.Rand
	now time.Time
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *gen) pick64(list []int64) int64 { return list[g.r.IntN(len(list))] }

func (g *gen) pickOpt(picklist string) string {
	o := store.Picklist(picklist)
	return o[g.r.IntN(len(o))].Key
}

func (g *gen) weighted(keys []string, weights []int) string {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.r.IntN(total)
	for i, w := range weights {
		if n < w {
			return keys[i]
		}
		n -= w
	}
	return keys[len(keys)-1]
}

// past is a moment within the last days days, during office hours.
func (g *gen) past(days int) time.Time {
	d := g.r.IntN(days)
	return g.now.AddDate(0, 0, -d).Add(time.Duration(g.r.IntN(9*60)) * time.Minute).Add(-9 * time.Hour).Add(8 * time.Hour)
}

// phone is a Spanish number starting with first (6 mobile, 9 landline).
func (g *gen) phone(first int) string {
	return fmt.Sprintf("+34 %d%02d %02d %02d %02d", first, g.r.IntN(100), g.r.IntN(100), g.r.IntN(100), g.r.IntN(100))
}

// company makes a company name and its web domain; i keeps domains unique.
func (g *gen) company(i int) (string, string) {
	w, ln := g.pick(companyWords), g.pick(lastNames)
	sfx := g.pick(companySuffixes)
	name := strings.TrimSpace(w + " " + ln + " " + sfx)
	domain := ascii(strings.ToLower(w+ln)) + strconv.Itoa(i) + ".cat"
	return name, domain
}

// ascii folds accents and drops what is not a letter or digit, for e-mail
// addresses and domains.
func ascii(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, _ := transform.String(t, strings.ToLower(s))
	return strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, out)
}

// customFields adds seed 000's example fields to contacts, "Data de
// naixement" and "Preferències de contacte", unless they exist already.
func customFields(ctx context.Context, st *store.Store, sys *store.Actor) error {
	sc := st.Schema()
	if _, ok := sc.CustomField(store.EntContacts, "birth_date"); !ok {
		if _, err := st.CreateCustomField(ctx, sys, store.EntContacts, store.CustomFieldInput{
			Key: "birth_date", Kind: store.KDate, Section: "",
			Labels: store.Labels{"ca": "Data de naixement", "es": "Fecha de nacimiento", "en": "Date of birth"},
		}); err != nil {
			return fmt.Errorf("custom field birth_date: %w", err)
		}
	}
	if _, ok := sc.CustomField(store.EntContacts, "contact_preference"); !ok {
		opt := func(key, ca, es, en string) store.Option {
			return store.Option{Key: key, Labels: store.Labels{"ca": ca, "es": es, "en": en}}
		}
		if _, err := st.CreateCustomField(ctx, sys, store.EntContacts, store.CustomFieldInput{
			Key: "contact_preference", Kind: store.KSelect, List: true, Filterable: true,
			Labels: store.Labels{"ca": "Preferències de contacte", "es": "Preferencias de contacto", "en": "Contact preference"},
			Options: []store.Option{
				opt("email", "Correu electrònic", "Correo electrónico", "E-mail"),
				opt("phone", "Telèfon", "Teléfono", "Phone"),
				opt("whatsapp", "WhatsApp", "WhatsApp", "WhatsApp"),
				opt("visit", "Visita", "Visita", "Visit"),
				opt("post", "Correu postal", "Correo postal", "Post"),
			},
		}); err != nil {
			return fmt.Errorf("custom field contact_preference: %w", err)
		}
	}
	return nil
}
