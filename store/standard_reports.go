package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file holds the standard reports of issue 8: fixed reports a small
// firm reads every week (pipeline, forecast, lead sources, adoption…),
// each one a few aggregate queries over the existing indexes, run in one
// read transaction and under the viewer's scope: every record table is
// read through scopeSQL, so nobody sees numbers built from records they
// cannot see. Periods are local dates of the company's time zone.

// StandardReport describes a built-in report, for the reports index, the
// filter form and GET /api/v1/reports.
type StandardReport struct {
	Key string
	// Group is the index heading the report is listed under.
	Group string
	// Entity is the record type the report is built from; the viewer must
	// be able to view it.
	Entity Entity
	// Period is the default period: month, quarter, year, week, last12, or
	// none for a snapshot of now.
	Period string
	// Params are the report's own parameters besides period, owner, team.
	Params []ReportParam
	// Available is false for reports announced but not built yet.
	Available bool
}

// ReportParam is a report-specific parameter: a choice among Options, or
// free input (days, pipeline, quarter) when Options is empty.
type ReportParam struct {
	Key     string
	Options []string
	Default string
}

// ReportParams are the filters of a standard report run. From and To bound
// the period [From, To); zero values take the report's default period.
type ReportParams struct {
	From, To time.Time
	OwnerID  int64
	TeamID   int64
	// Days is the stalled threshold (stalled_opportunities, default 30) or
	// the stage-advance window (activities, default 14).
	Days int
	// Pipeline narrows opportunity reports to one pipeline.
	Pipeline string
	// By picks the grouping of reports that have several.
	By string
	// Bucket is the time bucket of lead_lifecycle (day … year).
	Bucket string
	// Quarter ("2026-Q4") picks the forecast's quarter.
	Quarter string
}

// ChartHint says how a report's rows are best drawn: Kind is bar,
// stacked_bar, line, pie, donut or funnel; Labels are the columns naming
// each category (joined), Series the columns plotted.
type ChartHint struct {
	Kind   string
	Labels []int
	Series []int
}

// stdReportLimit bounds the rows of list-like reports (stalled deals,
// contacts of open deals, new client accounts).
const stdReportLimit = 500

var standardReports = []StandardReport{
	{Key: "active_accounts", Group: "accounts", Entity: EntAccounts, Period: "month", Available: true},
	{Key: "account_owners", Group: "accounts", Entity: EntAccounts, Period: "none", Available: true},
	{Key: "new_clients", Group: "accounts", Entity: EntAccounts, Period: "month", Available: true,
		Params: []ReportParam{{Key: "by", Options: []string{"owner", "account"}, Default: "owner"}}},
	{Key: "contact_roles", Group: "accounts", Entity: EntOpportunities, Period: "none", Available: true,
		Params: []ReportParam{{Key: "by", Options: []string{"contact", "role"}, Default: "contact"}}},
	{Key: "lead_lifecycle", Group: "leads", Entity: EntLeads, Period: "last12", Available: true,
		Params: []ReportParam{{Key: "bucket", Options: []string{"week", "month", "quarter", "year"}, Default: "month"}}},
	{Key: "lead_sources", Group: "leads", Entity: EntLeads, Period: "year", Available: true},
	{Key: "campaigns", Group: "leads", Entity: EntCampaigns, Period: "month", Available: false},
	{Key: "pipeline", Group: "sales", Entity: EntOpportunities, Period: "none", Available: true,
		Params: []ReportParam{{Key: "pipeline", Default: DefaultPipeline}, {Key: "by", Options: []string{"stage", "owner"}, Default: "stage"}}},
	{Key: "stalled_opportunities", Group: "sales", Entity: EntOpportunities, Period: "none", Available: true,
		Params: []ReportParam{{Key: "days", Default: "30"}, {Key: "pipeline"}}},
	{Key: "closed_opportunities", Group: "sales", Entity: EntOpportunities, Period: "last12", Available: true,
		Params: []ReportParam{{Key: "by", Options: []string{"month", "owner", "lost_reason"}, Default: "month"}}},
	{Key: "forecast", Group: "sales", Entity: EntOpportunities, Period: "quarter", Available: true,
		Params: []ReportParam{{Key: "quarter"}}},
	{Key: "quotes", Group: "sales", Entity: EntOpportunities, Period: "month", Available: true,
		Params: []ReportParam{{Key: "by", Options: []string{"status", "owner"}, Default: "status"}}},
	{Key: "sales_performance", Group: "team", Entity: EntOpportunities, Period: "month", Available: true},
	{Key: "goals", Group: "team", Entity: EntReports, Period: "year", Available: true},
	{Key: "activities", Group: "team", Entity: EntActivities, Period: "month", Available: true,
		Params: []ReportParam{{Key: "by", Options: []string{"type", "owner", "objective"}, Default: "type"}, {Key: "days", Default: "14"}}},
	{Key: "adoption", Group: "team", Entity: EntActivities, Period: "week", Available: true,
		Params: []ReportParam{{Key: "by", Options: []string{"user", "day"}, Default: "user"}}},
	{Key: "cases", Group: "service", Entity: EntCases, Period: "month", Available: true,
		Params: []ReportParam{{Key: "by", Options: []string{"agent", "status"}, Default: "agent"}}},
}

// StandardReportGroups are the index headings in display order.
var StandardReportGroups = []string{"sales", "leads", "accounts", "team", "service"}

// StandardReports lists every standard report (unavailable ones included,
// marked), so the index, the API and the benchmark share one list.
func StandardReports() []StandardReport { return slices.Clone(standardReports) }

// FindStandardReport returns the description of a standard report.
func FindStandardReport(key string) (StandardReport, bool) {
	for _, r := range standardReports {
		if r.Key == key {
			return r, true
		}
	}
	return StandardReport{}, false
}

// StandardReportVisible reports whether the actor may run a report, so the
// index lists only what opens.
func StandardReportVisible(a *Actor, r StandardReport) bool {
	return r.Available && a.Can(EntReports, ActView) && (r.Entity == EntReports || a.Can(r.Entity, ActView))
}

// stdRun is one run of a standard report: its transaction, viewer,
// parameters and the result it fills.
type stdRun struct {
	ctx   context.Context
	tx    *sql.Tx
	a     *Actor
	p     ReportParams
	loc   *time.Location
	sc    *Schema
	now   time.Time
	users map[int64]string
	res   *ReportResult
}

// sqlb builds a statement and its arguments in textual order.
type sqlb struct {
	b    strings.Builder
	args []any
}

func (q *sqlb) add(s string, args ...any) *sqlb {
	q.b.WriteString(s)
	q.args = append(q.args, args...)
	return q
}

// RunStandardReport runs one standard report under the actor's
// permissions and returns its table, totals and chart hint.
func (s *Store) RunStandardReport(ctx context.Context, a *Actor, key string, p ReportParams) (*ReportResult, error) {
	def, ok := FindStandardReport(key)
	if !ok {
		return nil, errNotFound()
	}
	if !def.Available {
		return nil, &Error{Code: CodeNotFound, Key: "error.report_unavailable"}
	}
	if !StandardReportVisible(a, def) {
		return nil, errForbidden()
	}
	fe := fieldErrors{}
	for _, pr := range def.Params {
		if pr.Key == "by" {
			if p.By == "" {
				p.By = pr.Default
			} else if !slices.Contains(pr.Options, p.By) {
				fe.add("by", "error.option")
			}
		}
		if pr.Key == "bucket" {
			if p.Bucket == "" {
				p.Bucket = pr.Default
			} else if !slices.Contains(pr.Options, p.Bucket) {
				fe.add("bucket", "error.option")
			}
		}
		if pr.Key == "days" && p.Days == 0 {
			p.Days, _ = strconv.Atoi(pr.Default)
		}
	}
	if p.Days < 0 || p.Days > 3650 {
		fe.add("days", "error.invalid")
	}
	sc := s.Schema()
	if p.Pipeline == "" && key == "pipeline" {
		p.Pipeline = DefaultPipeline
	}
	if p.Pipeline != "" {
		if _, ok := sc.Pipeline(p.Pipeline); !ok {
			fe.add("pipeline", "error.option")
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	r := &stdRun{ctx: ctx, a: a, p: p, sc: sc, now: s.now(), res: &ReportResult{Key: key}}
	err := s.read(ctx, func(tx *sql.Tx) error {
		r.tx = tx
		var tz string
		if err := tx.QueryRowContext(ctx, `SELECT timezone FROM company WHERE id = 1`).Scan(&tz); err != nil && err != sql.ErrNoRows {
			return err
		}
		r.loc = time.UTC
		if l, err := time.LoadLocation(tz); err == nil && tz != "" {
			r.loc = l
		}
		if err := r.period(def); err != nil {
			return err
		}
		if err := r.loadUsers(); err != nil {
			return err
		}
		switch key {
		case "active_accounts":
			return r.activeAccounts()
		case "account_owners":
			return r.accountOwners()
		case "lead_lifecycle":
			return r.leadLifecycle()
		case "lead_sources":
			return r.leadSources()
		case "pipeline":
			return r.pipeline()
		case "stalled_opportunities":
			return r.stalled()
		case "closed_opportunities":
			return r.closed()
		case "forecast":
			return r.forecast()
		case "contact_roles":
			return r.contactRoles()
		case "new_clients":
			return r.newClients()
		case "activities":
			return r.activities()
		case "quotes":
			return r.quotes()
		case "sales_performance":
			return r.salesPerformance()
		case "cases":
			return r.cases()
		case "adoption":
			return r.adoption()
		case "goals":
			return r.goals()
		}
		return errNotFound()
	})
	if err != nil {
		return nil, err
	}
	return r.res, nil
}

// period settles the run's [From, To) from the parameters or the report's
// default, in the company's time zone.
func (r *stdRun) period(def StandardReport) error {
	if def.Period == "none" {
		return nil
	}
	if def.Key == "forecast" {
		label := r.p.Quarter
		if label == "" {
			t := r.p.From
			if t.IsZero() {
				t = r.now
			}
			t = t.In(r.loc)
			label = fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
		}
		first, _, next, ok := goalPeriod("quarter", label)
		if !ok {
			return errInvalid(map[string]string{"quarter": "error.invalid"})
		}
		r.p.From, r.p.To = r.localDate(first), r.localDate(next)
		r.res.From, r.res.To = r.p.From, r.p.To
		return nil
	}
	from, to := defaultPeriod(def.Period, r.now, r.loc)
	if !r.p.From.IsZero() {
		from = r.p.From
	}
	if !r.p.To.IsZero() {
		to = r.p.To
	} else if !r.p.From.IsZero() {
		to = midnight(r.now.In(r.loc)).AddDate(0, 0, 1)
	}
	if !to.After(from) || to.Sub(from) > 10*366*24*time.Hour {
		return errInvalid(map[string]string{"to": "error.invalid"})
	}
	r.p.From, r.p.To = from, to
	r.res.From, r.res.To = from, to
	return nil
}

// localDate is midnight of a "YYYY-MM-DD" date in the company's zone.
func (r *stdRun) localDate(d string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02", d, r.loc)
	return t
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// defaultPeriod returns the current period of a kind, in loc.
func defaultPeriod(kind string, now time.Time, loc *time.Location) (time.Time, time.Time) {
	n := now.In(loc)
	month := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc)
	switch kind {
	case "week":
		d := midnight(n)
		wd := (int(d.Weekday()) + 6) % 7 // Monday = 0
		d = d.AddDate(0, 0, -wd)
		return d, d.AddDate(0, 0, 7)
	case "quarter":
		q := time.Date(n.Year(), time.Month((int(n.Month())-1)/3*3+1), 1, 0, 0, 0, 0, loc)
		return q, q.AddDate(0, 3, 0)
	case "year":
		y := time.Date(n.Year(), 1, 1, 0, 0, 0, 0, loc)
		return y, y.AddDate(1, 0, 0)
	case "last12":
		return month.AddDate(0, -11, 0), month.AddDate(0, 1, 0)
	}
	return month, month.AddDate(0, 1, 0)
}

// bucket is one time slot of a report: its label and [lo, hi) in ms.
type bucket struct {
	label  string
	lo, hi int64
}

// maxBuckets bounds the time slots of a report.
const maxBuckets = 400

// buckets cuts [from, to) into local days, weeks, months, quarters or
// years; each slot's bounds are exact local midnights, so daylight saving
// changes never move a record into the wrong slot.
func buckets(loc *time.Location, from, to time.Time, unit string) ([]bucket, error) {
	start := from.In(loc)
	switch unit {
	case "day":
		start = midnight(start)
	case "week":
		start = midnight(start)
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
	case "month":
		start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, loc)
	case "quarter":
		start = time.Date(start.Year(), time.Month((int(start.Month())-1)/3*3+1), 1, 0, 0, 0, 0, loc)
	case "year":
		start = time.Date(start.Year(), 1, 1, 0, 0, 0, 0, loc)
	default:
		return nil, errInvalid(map[string]string{"bucket": "error.option"})
	}
	var out []bucket
	for t := start; t.Before(to); {
		var next time.Time
		var label string
		switch unit {
		case "day":
			next, label = t.AddDate(0, 0, 1), t.Format("2006-01-02")
		case "week":
			y, w := t.ISOWeek()
			next, label = t.AddDate(0, 0, 7), fmt.Sprintf("%d-W%02d", y, w)
		case "month":
			next, label = t.AddDate(0, 1, 0), t.Format("2006-01")
		case "quarter":
			next, label = t.AddDate(0, 3, 0), fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
		case "year":
			next, label = t.AddDate(1, 0, 0), t.Format("2006")
		}
		lo, hi := t, next
		if lo.Before(from) {
			lo = from
		}
		if hi.After(to) {
			hi = to
		}
		out = append(out, bucket{label: label, lo: ms(lo), hi: ms(hi)})
		if len(out) > maxBuckets {
			return nil, errInvalid(map[string]string{"to": "error.too_many_buckets"})
		}
		t = next
	}
	return out, nil
}

// bucketsCTE is the WITH clause b(label, lo, hi) of the slots; a query
// joins it with CROSS JOIN so SQLite reads each slot as one index range.
func bucketsCTE(q *sqlb, bs []bucket) {
	q.add("WITH b(label, lo, hi) AS (VALUES ")
	for i, b := range bs {
		if i > 0 {
			q.add(", ")
		}
		q.add("(?, ?, ?)", b.label, b.lo, b.hi)
	}
	q.add(") ")
}

// scope adds "alias.deleted_at = 0 AND <the actor's view scope>".
func (r *stdRun) scope(q *sqlb, e Entity, alias string) {
	cond, args := r.a.scopeSQL(e, ActView, alias+".owner_id")
	q.add(alias+".deleted_at = 0 AND "+cond, args...)
}

// where is scope plus the report's owner and team filters.
func (r *stdRun) where(q *sqlb, e Entity, alias string) {
	r.scope(q, e, alias)
	r.ownerFilter(q, alias+".owner_id")
}

// ownerFilter adds the owner and team filters on a user column.
func (r *stdRun) ownerFilter(q *sqlb, col string) {
	if r.p.OwnerID != 0 {
		q.add(" AND "+col+" = ?", r.p.OwnerID)
	}
	if r.p.TeamID != 0 {
		q.add(" AND "+col+" IN (SELECT id FROM users WHERE team_id = ?)", r.p.TeamID)
	}
}

// in adds "col IN (?, …)", or a false condition for an empty list.
func in(q *sqlb, col string, vals []string) {
	if len(vals) == 0 {
		q.add("0=1")
		return
	}
	q.add(col + " IN (")
	for i, v := range vals {
		if i > 0 {
			q.add(", ")
		}
		q.add("?", v)
	}
	q.add(")")
}

// stages returns the stage keys of a kind (open, won, lost) in the run's
// pipeline, or in every pipeline, in board order.
func (r *stdRun) stages(kind string) []string {
	var out []string
	for _, pl := range r.sc.Pipelines() {
		if r.p.Pipeline != "" && pl.Key != r.p.Pipeline {
			continue
		}
		for _, o := range r.sc.Options(StageList(pl.Key)) {
			if o.StageKind == kind && !slices.Contains(out, o.Key) {
				out = append(out, o.Key)
			}
		}
	}
	return out
}

// pipelineCond narrows opportunities to the run's pipeline, if any.
func (r *stdRun) pipelineCond(q *sqlb, alias string) {
	if r.p.Pipeline != "" {
		q.add(" AND "+alias+".pipeline = ?", r.p.Pipeline)
	}
}

// each runs a query and calls fn for every row.
func (r *stdRun) each(q *sqlb, fn func(rows *sql.Rows) error) error {
	if debugSQL != nil {
		t0 := time.Now()
		defer func() { debugSQL(q.b.String(), q.args, time.Since(t0)) }()
	}
	rows, err := r.tx.QueryContext(r.ctx, q.b.String(), q.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// debugSQL, when set (tests, benchmarks), receives every report query.
var debugSQL func(q string, args []any, d time.Duration)

// loadUsers reads every user's name once (a firm has tens of users).
func (r *stdRun) loadUsers() error {
	r.users = map[int64]string{}
	q := &sqlb{}
	q.add("SELECT id, name FROM users")
	return r.each(q, func(rows *sql.Rows) error {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		r.users[id] = name
		return nil
	})
}

func (r *stdRun) cols(kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		r.res.Columns = append(r.res.Columns, kv[i])
		r.res.Kinds = append(r.res.Kinds, kv[i+1])
	}
}

func money(cents int64) float64 { return float64(cents) / 100 }

// pct is n/d as a percentage with one decimal, nil when d is zero.
func pct(n, d float64) any {
	if d == 0 {
		return nil
	}
	return math.Round(1000*n/d) / 10
}

// avg is sum/n rounded to two decimals, nil when n is zero.
func avg(sum, n float64) any {
	if n == 0 {
		return nil
	}
	return math.Round(100*sum/n) / 100
}

const dayMS = 24 * 60 * 60 * 1000

// byUser collects per-user figures and turns them into rows sorted by a
// column, descending, then by name.
type byUser map[int64][]any

func (b byUser) row(id int64, width int) []any {
	if b[id] == nil {
		row := make([]any, width)
		row[0] = id
		b[id] = row
	}
	return b[id]
}

func (r *stdRun) userRows(b byUser, sortCol int) [][]any {
	ids := make([]int64, 0, len(b))
	for id := range b {
		ids = append(ids, id)
	}
	num := func(v any) float64 {
		switch x := v.(type) {
		case int64:
			return float64(x)
		case float64:
			return x
		}
		return -1
	}
	sort.Slice(ids, func(i, j int) bool {
		vi, vj := num(b[ids[i]][sortCol]), num(b[ids[j]][sortCol])
		if vi != vj {
			return vi > vj
		}
		return r.users[ids[i]] < r.users[ids[j]]
	})
	out := make([][]any, 0, len(ids))
	for _, id := range ids {
		row := b[id]
		row[0] = r.users[id]
		out = append(out, row)
	}
	return out
}

// zeroes replaces nil cells of integer columns with 0.
func zeroes(rows [][]any, cols ...int) {
	for _, row := range rows {
		for _, c := range cols {
			if row[c] == nil {
				row[c] = int64(0)
			}
		}
	}
}

// activeAccounts counts, per account owner, the accounts with an activity
// in the period or an open opportunity now.
func (r *stdRun) activeAccounts() error {
	r.cols("owner", "user", "active_accounts", "int", "with_activity", "int", "with_open_opportunities", "int")
	q := &sqlb{}
	q.add("WITH act(id) AS (SELECT DISTINCT x.account_id FROM activities x INDEXED BY activities_report WHERE x.occurred_at >= ? AND x.occurred_at < ? AND x.account_id IS NOT NULL AND ", ms(r.p.From), ms(r.p.To))
	r.scope(q, EntActivities, "x")
	q.add("), opp(id) AS (SELECT DISTINCT o.account_id FROM opportunities o WHERE o.account_id IS NOT NULL AND ")
	in(q, "o.stage", r.stages("open"))
	q.add(" AND ")
	r.scope(q, EntOpportunities, "o")
	q.add("), f(id, a, o) AS (SELECT id, max(a), max(o) FROM (SELECT id, 1 AS a, 0 AS o FROM act UNION ALL SELECT id, 0, 1 FROM opp) GROUP BY id)")
	q.add(" SELECT t.owner_id, count(*), sum(f.a), sum(f.o) FROM f CROSS JOIN accounts t WHERE t.id = f.id AND ")
	r.where(q, EntAccounts, "t")
	q.add(" GROUP BY t.owner_id")
	b := byUser{}
	err := r.each(q, func(rows *sql.Rows) error {
		var id, n, act, opp int64
		if err := rows.Scan(&id, &n, &act, &opp); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		row := b.row(id, 4)
		row[1], row[2], row[3] = n, act, opp
		return nil
	})
	r.res.Rows = r.userRows(b, 1)
	r.res.Totals = sumTotals(r.res.Rows, 1, 2, 3)
	r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{1}}
	return err
}

// sumTotals is a totals row summing the given integer or money columns.
func sumTotals(rows [][]any, cols ...int) []any {
	if len(rows) == 0 {
		return nil
	}
	t := make([]any, len(rows[0]))
	for _, c := range cols {
		var ni int64
		var nf float64
		isF := false
		for _, row := range rows {
			switch x := row[c].(type) {
			case int64:
				ni += x
			case float64:
				nf += x
				isF = true
			}
		}
		if isF {
			t[c] = math.Round((nf+float64(ni))*100) / 100
		} else {
			t[c] = ni
		}
	}
	return t
}

// accountOwners shows who owns how many accounts and how much open
// pipeline, now.
func (r *stdRun) accountOwners() error {
	r.cols("owner", "user", "accounts", "int", "open_opportunities", "int", "pipeline_amount", "money")
	b := byUser{}
	q := &sqlb{}
	q.add("SELECT t.owner_id, count(*) FROM accounts t WHERE ")
	r.where(q, EntAccounts, "t")
	q.add(" GROUP BY t.owner_id")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		b.row(id, 4)[1] = n
		return nil
	}); err != nil {
		return err
	}
	q = &sqlb{}
	var pls []string
	for _, pl := range r.sc.Pipelines() {
		pls = append(pls, pl.Key)
	}
	q.add("SELECT t.owner_id, count(*), COALESCE(sum(t.amount_cents), 0) FROM opportunities t INDEXED BY opportunities_board WHERE ")
	in(q, "t.pipeline", pls)
	q.add(" AND ")
	in(q, "t.stage", r.stages("open"))
	q.add(" AND ")
	r.where(q, EntOpportunities, "t")
	q.add(" GROUP BY t.owner_id")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, n, c int64
		if err := rows.Scan(&id, &n, &c); err != nil {
			return err
		}
		row := b.row(id, 4)
		row[2], row[3] = n, money(c)
		return nil
	}); err != nil {
		return err
	}
	r.res.Rows = r.userRows(b, 1)
	zeroes(r.res.Rows, 1, 2)
	for _, row := range r.res.Rows {
		if row[3] == nil {
			row[3] = 0.0
		}
	}
	r.res.Totals = sumTotals(r.res.Rows, 1, 2, 3)
	r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{1}}
	return nil
}

// leadLifecycle counts the leads created in each slot by their status
// now, with the share converted and the days creation → conversion.
func (r *stdRun) leadLifecycle() error {
	statuses := r.sc.Options("lead_status")
	r.cols("period", "period", "created", "int")
	for _, o := range statuses {
		r.cols("lead_status:"+o.Key, "int")
	}
	r.cols("conversion_rate", "percent", "avg_days_to_convert", "number")
	bs, err := buckets(r.loc, r.p.From, r.p.To, r.p.Bucket)
	if err != nil {
		return err
	}
	w := 2 + len(statuses) + 2
	rows := map[string][]any{}
	conv := map[string][2]float64{}
	for _, b := range bs {
		row := make([]any, w)
		row[0] = b.label
		for i := 1; i < w-2; i++ {
			row[i] = int64(0)
		}
		rows[b.label] = row
	}
	q := &sqlb{}
	bucketsCTE(q, bs)
	q.add("SELECT b.label, t.status, count(*), sum(t.converted_at <> 0), COALESCE(sum(CASE WHEN t.converted_at <> 0 THEN t.converted_at - t.created_at END), 0) FROM b CROSS JOIN leads t WHERE t.created_at >= b.lo AND t.created_at < b.hi AND ")
	r.where(q, EntLeads, "t")
	q.add(" GROUP BY 1, 2")
	if err := r.each(q, func(rs *sql.Rows) error {
		var label, status string
		var n, nconv, span int64
		if err := rs.Scan(&label, &status, &n, &nconv, &span); err != nil {
			return err
		}
		row := rows[label]
		row[1] = row[1].(int64) + n
		for i, o := range statuses {
			if o.Key == status {
				row[2+i] = row[2+i].(int64) + n
			}
		}
		c := conv[label]
		conv[label] = [2]float64{c[0] + float64(nconv), c[1] + float64(span)}
		return nil
	}); err != nil {
		return err
	}
	series := []int{}
	for i := range statuses {
		series = append(series, 2+i)
	}
	for _, b := range bs {
		row := rows[b.label]
		c := conv[b.label]
		row[w-2] = pct(c[0], float64(row[1].(int64)))
		row[w-1] = avg(c[1]/dayMS, c[0])
		r.res.Rows = append(r.res.Rows, row)
	}
	tot := sumTotals(r.res.Rows, append([]int{1}, series...)...)
	if tot != nil {
		var nconv, span float64
		for _, c := range conv {
			nconv, span = nconv+c[0], span+c[1]
		}
		tot[w-2] = pct(nconv, float64(tot[1].(int64)))
		tot[w-1] = avg(span/dayMS, nconv)
	}
	r.res.Totals = tot
	r.res.Chart = &ChartHint{Kind: "stacked_bar", Labels: []int{0}, Series: series}
	return nil
}

// leadSources compares lead sources: leads created in the period, how many
// converted, and the won opportunities (and amount) they became.
func (r *stdRun) leadSources() error {
	r.cols("source", "option:source", "leads", "int", "converted", "int", "conversion_rate", "percent", "won_opportunities", "int", "won_amount", "money")
	q := &sqlb{}
	q.add("SELECT t.source, count(*), sum(t.converted_at <> 0), count(o.id), COALESCE(sum(o.amount_cents), 0) FROM leads t LEFT JOIN opportunities o ON o.id = t.converted_opportunity_id AND ")
	in(q, "o.stage", r.stages("won"))
	q.add(" AND ")
	r.scope(q, EntOpportunities, "o")
	q.add(" WHERE t.created_at >= ? AND t.created_at < ? AND ", ms(r.p.From), ms(r.p.To))
	r.where(q, EntLeads, "t")
	q.add(" GROUP BY t.source ORDER BY 5 DESC, 2 DESC, 1")
	err := r.each(q, func(rows *sql.Rows) error {
		var src string
		var n, conv, won, cents int64
		if err := rows.Scan(&src, &n, &conv, &won, &cents); err != nil {
			return err
		}
		r.res.Rows = append(r.res.Rows, []any{src, n, conv, pct(float64(conv), float64(n)), won, money(cents)})
		return nil
	})
	if t := sumTotals(r.res.Rows, 1, 2, 4, 5); t != nil {
		t[3] = pct(float64(t[2].(int64)), float64(t[1].(int64)))
		r.res.Totals = t
	}
	r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{1, 2, 4}}
	return err
}

// pipeline shows the open opportunities of a pipeline by stage (a funnel)
// or by owner: count, amount and amount weighted by probability.
func (r *stdRun) pipeline() error {
	open := r.stages("open")
	if r.p.By == "owner" {
		r.cols("owner", "user")
	} else {
		r.cols("stage", "option:"+StageList(r.p.Pipeline))
	}
	r.cols("count", "int", "amount", "money", "weighted_amount", "money")
	q := &sqlb{}
	group := "t.stage"
	if r.p.By == "owner" {
		group = "t.owner_id"
	}
	q.add("SELECT "+group+", count(*), COALESCE(sum(t.amount_cents), 0), COALESCE(sum(t.amount_cents * t.probability), 0) FROM opportunities t INDEXED BY opportunities_board WHERE t.pipeline = ? AND ", r.p.Pipeline)
	in(q, "t.stage", open)
	q.add(" AND ")
	r.where(q, EntOpportunities, "t")
	q.add(" GROUP BY 1")
	byStage := map[string][]any{}
	b := byUser{}
	err := r.each(q, func(rows *sql.Rows) error {
		var g any
		var n, c, wc int64
		if err := rows.Scan(&g, &n, &c, &wc); err != nil {
			return err
		}
		vals := []any{nil, n, money(c), math.Round(float64(wc)/100) / 100}
		if r.p.By == "owner" {
			id, _ := g.(int64)
			row := b.row(id, 4)
			copy(row[1:], vals[1:])
			return nil
		}
		st := fmt.Sprint(g)
		if bs, ok := g.([]byte); ok {
			st = string(bs)
		}
		vals[0] = st
		byStage[st] = vals
		return nil
	})
	if err != nil {
		return err
	}
	if r.p.By == "owner" {
		r.res.Rows = r.userRows(b, 2)
		r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{2, 3}}
	} else {
		for _, st := range open {
			row := byStage[st]
			if row == nil {
				row = []any{st, int64(0), 0.0, 0.0}
			}
			r.res.Rows = append(r.res.Rows, row)
		}
		r.res.Chart = &ChartHint{Kind: "funnel", Labels: []int{0}, Series: []int{2}}
	}
	r.res.Totals = sumTotals(r.res.Rows, 1, 2, 3)
	return nil
}

// stalled lists open opportunities whose stage has not changed for more
// than Days days and that had no activity since, oldest first. Each open
// stage is read in stage_changed_at order from its index and the lists are
// merged, so the work stops at the limit instead of sorting every deal.
func (r *stdRun) stalled() error {
	r.cols("id", "id:opportunities", "opportunity", "text", "account", "text", "owner", "user", "stage", "option:stage",
		"amount", "money", "days_in_stage", "int", "last_activity", "date")
	cutoff := ms(r.now) - int64(r.p.Days)*dayMS
	type deal struct {
		row     []any
		changed int64
		id      int64
	}
	var all []deal
	for _, pl := range r.sc.Pipelines() {
		if r.p.Pipeline != "" && pl.Key != r.p.Pipeline {
			continue
		}
		for _, o := range r.sc.Options(StageList(pl.Key)) {
			if o.StageKind != "open" {
				continue
			}
			q := &sqlb{}
			q.add("SELECT t.id, t.name, COALESCE(a.name, ''), t.owner_id, t.stage, t.amount_cents, t.stage_changed_at, (SELECT max(x.occurred_at) FROM activities x WHERE x.opportunity_id = t.id AND ")
			r.scope(q, EntActivities, "x")
			q.add(") FROM opportunities t LEFT JOIN accounts a ON a.id = t.account_id AND ")
			r.scope(q, EntAccounts, "a")
			q.add(" WHERE t.pipeline = ? AND t.stage = ? AND t.stage_changed_at < ? AND ", pl.Key, o.Key, cutoff)
			r.where(q, EntOpportunities, "t")
			q.add(" AND NOT EXISTS (SELECT 1 FROM activities x WHERE x.opportunity_id = t.id AND x.occurred_at >= ? AND ", cutoff)
			r.scope(q, EntActivities, "x")
			q.add(") ORDER BY t.stage_changed_at, t.id LIMIT ?", stdReportLimit+1)
			if err := r.each(q, func(rows *sql.Rows) error {
				var id, owner, cents, changed int64
				var name, acc, stage string
				var last sql.NullInt64
				if err := rows.Scan(&id, &name, &acc, &owner, &stage, &cents, &changed, &last); err != nil {
					return err
				}
				var la any
				if last.Valid {
					la = fromMS(last.Int64).In(r.loc).Format("2006-01-02")
				}
				all = append(all, deal{row: []any{id, name, acc, r.users[owner], stage, money(cents), (ms(r.now) - changed) / dayMS, la}, changed: changed, id: id})
				return nil
			}); err != nil {
				return err
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].changed != all[j].changed {
			return all[i].changed < all[j].changed
		}
		return all[i].id < all[j].id
	})
	if len(all) > stdReportLimit {
		all, r.res.Truncated = all[:stdReportLimit], true
	}
	for _, d := range all {
		r.res.Rows = append(r.res.Rows, d.row)
	}
	return nil
}

// closed shows won and lost opportunities by the month they closed (with
// win rate, average deal, average sales cycle and the month-over-month
// change of the won amount), by owner, or lost ones by reason.
func (r *stdRun) closed() error {
	won, lost := r.stages("won"), r.stages("lost")
	both := append(slices.Clone(won), lost...)
	if r.p.By == "lost_reason" {
		r.cols("lost_reason", "option:lost_reason", "lost", "int", "lost_amount", "money")
		q := &sqlb{}
		q.add("SELECT t.lost_reason, count(*), COALESCE(sum(t.amount_cents), 0) FROM opportunities t WHERE t.closed_at >= ? AND t.closed_at < ? AND t.closed_at <> 0 AND ", ms(r.p.From), ms(r.p.To))
		in(q, "+t.stage", lost)
		q.add(" AND ")
		r.where(q, EntOpportunities, "t")
		r.pipelineCond(q, "t")
		q.add(" GROUP BY 1 ORDER BY 2 DESC, 1")
		err := r.each(q, func(rows *sql.Rows) error {
			var reason string
			var n, c int64
			if err := rows.Scan(&reason, &n, &c); err != nil {
				return err
			}
			r.res.Rows = append(r.res.Rows, []any{reason, n, money(c)})
			return nil
		})
		r.res.Totals = sumTotals(r.res.Rows, 1, 2)
		r.res.Chart = &ChartHint{Kind: "pie", Labels: []int{0}, Series: []int{1}}
		return err
	}
	type agg struct{ won, lost, cents, cycle int64 }
	figures := map[any]*agg{}
	var order []any
	q := &sqlb{}
	group := "t.owner_id"
	if r.p.By == "month" {
		bs, err := buckets(r.loc, r.p.From, r.p.To, "month")
		if err != nil {
			return err
		}
		bucketsCTE(q, bs)
		for _, b := range bs {
			order = append(order, b.label)
		}
		group = "b.label"
	}
	q.add("SELECT " + group + ", ")
	in(q, "t.stage", won)
	if r.p.By == "month" {
		q.add(", count(*), COALESCE(sum(t.amount_cents), 0), COALESCE(sum(t.closed_at - t.created_at), 0) FROM b CROSS JOIN opportunities t WHERE t.closed_at >= b.lo AND t.closed_at < b.hi AND ")
	} else {
		q.add(", count(*), COALESCE(sum(t.amount_cents), 0), COALESCE(sum(t.closed_at - t.created_at), 0) FROM opportunities t WHERE t.closed_at >= ? AND t.closed_at < ? AND ", ms(r.p.From), ms(r.p.To))
	}
	q.add("t.closed_at <> 0 AND ")
	in(q, "+t.stage", both)
	q.add(" AND ")
	r.where(q, EntOpportunities, "t")
	r.pipelineCond(q, "t")
	q.add(" GROUP BY 1, 2")
	if err := r.each(q, func(rows *sql.Rows) error {
		var g any
		var isWon bool
		var n, c, cycle int64
		if err := rows.Scan(&g, &isWon, &n, &c, &cycle); err != nil {
			return err
		}
		if b, ok := g.([]byte); ok {
			g = string(b)
		}
		f := figures[g]
		if f == nil {
			f = &agg{}
			figures[g] = f
			if r.p.By != "month" {
				order = append(order, g)
			}
		}
		if isWon {
			f.won, f.cents, f.cycle = f.won+n, f.cents+c, f.cycle+cycle
		} else {
			f.lost += n
		}
		return nil
	}); err != nil {
		return err
	}
	if r.p.By == "month" {
		r.cols("period", "period")
	} else {
		r.cols("owner", "user")
	}
	r.cols("won", "int", "lost", "int", "win_rate", "percent", "won_amount", "money", "avg_deal_size", "money", "avg_sales_cycle_days", "number")
	if r.p.By == "month" {
		r.cols("won_amount_change", "percent")
	}
	var tot agg
	var prev *agg
	for _, g := range order {
		f := figures[g]
		if f == nil {
			f = &agg{}
		}
		tot.won, tot.lost, tot.cents, tot.cycle = tot.won+f.won, tot.lost+f.lost, tot.cents+f.cents, tot.cycle+f.cycle
		label := g
		if id, ok := g.(int64); ok {
			label = r.users[id]
		}
		row := []any{label, f.won, f.lost, pct(float64(f.won), float64(f.won+f.lost)), money(f.cents), avg(money(f.cents), float64(f.won)), avg(float64(f.cycle)/dayMS, float64(f.won))}
		if r.p.By == "month" {
			var change any
			if prev != nil && prev.cents != 0 {
				change = pct(float64(f.cents-prev.cents), float64(prev.cents))
			}
			row = append(row, change)
			prev = f
		}
		r.res.Rows = append(r.res.Rows, row)
	}
	if r.p.By != "month" {
		sort.SliceStable(r.res.Rows, func(i, j int) bool { return r.res.Rows[i][4].(float64) > r.res.Rows[j][4].(float64) })
	}
	if len(r.res.Rows) > 0 {
		r.res.Totals = []any{nil, tot.won, tot.lost, pct(float64(tot.won), float64(tot.won+tot.lost)), money(tot.cents), avg(money(tot.cents), float64(tot.won)), avg(float64(tot.cycle)/dayMS, float64(tot.won))}
		if r.p.By == "month" {
			r.res.Totals = append(r.res.Totals, nil)
		}
	}
	if r.p.By == "month" {
		r.res.Chart = &ChartHint{Kind: "line", Labels: []int{0}, Series: []int{4}}
	} else {
		r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{4}}
	}
	return nil
}

// forecast shows, per owner and in total, the quarter's open amounts by
// forecast category (commit, best case, pipeline; by expected close date),
// the amount already won, and the won-amount goal with its attainment.
func (r *stdRun) forecast() error {
	r.cols("owner", "user", "commit", "money", "best_case", "money", "pipeline", "money", "closed_won", "money", "goal", "money", "attainment", "percent")
	from, to := r.p.From.In(r.loc).Format("2006-01-02"), r.p.To.In(r.loc).Format("2006-01-02")
	b := byUser{}
	q := &sqlb{}
	q.add("SELECT t.owner_id, t.forecast_category, COALESCE(sum(t.amount_cents), 0) FROM opportunities t WHERE t.expected_close_date >= ? AND t.expected_close_date < ? AND ", from, to)
	in(q, "+t.stage", r.stages("open"))
	q.add(" AND ")
	r.where(q, EntOpportunities, "t")
	r.pipelineCond(q, "t")
	q.add(" GROUP BY 1, 2")
	col := map[string]int{"commit": 1, "best_case": 2, "pipeline": 3}
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, c int64
		var cat string
		if err := rows.Scan(&id, &cat, &c); err != nil {
			return err
		}
		if i, ok := col[cat]; ok {
			row := b.row(id, 7)
			v, _ := row[i].(float64)
			row[i] = v + money(c)
		}
		return nil
	}); err != nil {
		return err
	}
	q = &sqlb{}
	q.add("SELECT t.owner_id, COALESCE(sum(t.amount_cents), 0) FROM opportunities t WHERE t.closed_at >= ? AND t.closed_at < ? AND t.closed_at <> 0 AND ", ms(r.p.From), ms(r.p.To))
	in(q, "+t.stage", r.stages("won"))
	q.add(" AND ")
	r.where(q, EntOpportunities, "t")
	r.pipelineCond(q, "t")
	q.add(" GROUP BY 1")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, c int64
		if err := rows.Scan(&id, &c); err != nil {
			return err
		}
		b.row(id, 7)[4] = money(c)
		return nil
	}); err != nil {
		return err
	}
	goals, err := r.visibleGoals("won_amount", from, to)
	if err != nil {
		return err
	}
	for _, g := range goals {
		if g.UserID != 0 && r.userInFilter(g.UserID) {
			if t, ok := targetFor(goals, func(x *Goal) bool { return x.UserID == g.UserID }, from, to); ok {
				b.row(g.UserID, 7)[5] = t
			}
		}
	}
	for _, row := range b {
		for i := 1; i <= 4; i++ {
			if row[i] == nil {
				row[i] = 0.0
			}
		}
		if g, ok := row[5].(float64); ok {
			row[6] = pct(row[4].(float64), g)
		}
	}
	r.res.Rows = r.userRows(b, 4)
	if tot := sumTotals(r.res.Rows, 1, 2, 3, 4, 5); tot != nil {
		if r.p.TeamID != 0 {
			if t, ok := targetFor(goals, func(x *Goal) bool { return x.TeamID == r.p.TeamID }, from, to); ok {
				tot[5] = t
			}
		}
		if g, _ := tot[5].(float64); g != 0 {
			tot[6] = pct(tot[4].(float64), g)
		} else {
			tot[5] = nil
		}
		r.res.Totals = tot
	}
	r.res.Chart = &ChartHint{Kind: "stacked_bar", Labels: []int{0}, Series: []int{4, 1, 2, 3}}
	return nil
}

// userInFilter reports whether a user passes the owner and team filters.
func (r *stdRun) userInFilter(id int64) bool {
	if r.p.OwnerID != 0 && id != r.p.OwnerID {
		return false
	}
	if r.p.TeamID != 0 {
		var n int
		r.tx.QueryRowContext(r.ctx, `SELECT count(*) FROM users WHERE id = ? AND team_id = ?`, id, r.p.TeamID).Scan(&n)
		return n > 0
	}
	return true
}

// visibleGoals returns the actor's visible goals on a metric overlapping
// the local dates [from, to).
func (r *stdRun) visibleGoals(metric, from, to string) ([]*Goal, error) {
	gs, err := findGoals(r.ctx, r.tx, r.a, GoalFilter{From: from, To: to})
	if err != nil {
		return nil, err
	}
	var out []*Goal
	for _, g := range gs {
		if g.Metric == metric {
			out = append(out, g)
		}
	}
	return out, nil
}

// targetFor is the target of the matching goals for the local dates
// [from, to): the goal of exactly that period if one exists, else the sum
// of the month (or quarter) goals inside it, else a longer goal prorated
// by months.
func targetFor(goals []*Goal, match func(*Goal) bool, from, to string) (float64, bool) {
	var exact, months, quarters, prorated float64
	var hasExact, hasMonths, hasQuarters, hasProrated bool
	mfrom, mto := monthIndex(from), monthIndex(to)
	for _, g := range goals {
		if !match(g) {
			continue
		}
		end := goalEnd(g.Period, g.StartsOn)
		switch {
		case g.StartsOn == from && end == to:
			exact, hasExact = exact+g.Target, true
		case g.StartsOn >= from && end <= to:
			if g.Period == "month" {
				months, hasMonths = months+g.Target, true
			} else {
				quarters, hasQuarters = quarters+g.Target, true
			}
		case g.StartsOn <= from && end >= to:
			span := monthIndex(end) - monthIndex(g.StartsOn)
			if span > 0 {
				prorated, hasProrated = prorated+g.Target*float64(mto-mfrom)/float64(span), true
			}
		}
	}
	switch {
	case hasExact:
		return exact, true
	case hasMonths:
		return months, true
	case hasQuarters:
		return quarters, true
	case hasProrated:
		return math.Round(prorated*100) / 100, true
	}
	return 0, false
}

// monthIndex numbers the month of a "YYYY-MM-DD" date.
func monthIndex(d string) int {
	t, err := time.Parse("2006-01-02", d)
	if err != nil {
		return 0
	}
	return t.Year()*12 + int(t.Month()) - 1
}

// contactRoles lists the contacts of the largest open deals with their
// role (the deal's primary contact as "primary"), or counts them by role.
func (r *stdRun) contactRoles() error {
	open := r.stages("open")
	if r.p.By == "role" {
		r.cols("role", "option:contact_role", "contacts", "int", "opportunities", "int")
		q := &sqlb{}
		q.add("SELECT x.role, count(DISTINCT x.contact_id), count(DISTINCT x.opp) FROM (SELECT oc.role AS role, oc.contact_id AS contact_id, t.id AS opp FROM opportunities t JOIN opportunity_contacts oc ON oc.opportunity_id = t.id JOIN contacts c ON c.id = oc.contact_id AND ")
		r.scope(q, EntContacts, "c")
		q.add(" WHERE ")
		in(q, "t.stage", open)
		q.add(" AND ")
		r.where(q, EntOpportunities, "t")
		r.pipelineCond(q, "t")
		q.add(" UNION ALL SELECT 'primary', t.contact_id, t.id FROM opportunities t JOIN contacts c ON c.id = t.contact_id AND ")
		r.scope(q, EntContacts, "c")
		q.add(" WHERE ")
		in(q, "t.stage", open)
		q.add(" AND ")
		r.where(q, EntOpportunities, "t")
		r.pipelineCond(q, "t")
		q.add(" AND NOT EXISTS (SELECT 1 FROM opportunity_contacts oc WHERE oc.opportunity_id = t.id AND oc.contact_id = t.contact_id)) x GROUP BY 1 ORDER BY 3 DESC, 1")
		err := r.each(q, func(rows *sql.Rows) error {
			var role string
			var nc, no int64
			if err := rows.Scan(&role, &nc, &no); err != nil {
				return err
			}
			r.res.Rows = append(r.res.Rows, []any{role, nc, no})
			return nil
		})
		r.res.Chart = &ChartHint{Kind: "donut", Labels: []int{0}, Series: []int{2}}
		return err
	}
	r.cols("id", "id:contacts", "contact", "text", "account", "text", "opportunity", "text", "stage", "option:stage", "amount", "money", "role", "option:contact_role")
	q := &sqlb{}
	q.add("WITH top AS (SELECT t.id AS id, t.name AS name, t.stage AS stage, t.amount_cents AS cents, t.contact_id AS contact_id FROM opportunities t WHERE ")
	in(q, "t.stage", open)
	q.add(" AND ")
	r.where(q, EntOpportunities, "t")
	r.pipelineCond(q, "t")
	q.add(" ORDER BY t.amount_cents DESC, t.id DESC LIMIT ?) ", stdReportLimit)
	part := func(roleExpr, join, extra string) {
		q.add("SELECT c.id, trim(c.first_name || ' ' || c.last_name), COALESCE(ac.name, ''), top.name, top.stage, top.cents, " + roleExpr + ", top.id FROM top " + join + " AND ")
		r.scope(q, EntContacts, "c")
		q.add(" LEFT JOIN accounts ac ON ac.id = c.account_id AND ")
		r.scope(q, EntAccounts, "ac")
		q.add(extra)
	}
	part("oc.role", "JOIN opportunity_contacts oc ON oc.opportunity_id = top.id JOIN contacts c ON c.id = oc.contact_id", "")
	q.add(" UNION ALL ")
	part("'primary'", "JOIN contacts c ON c.id = top.contact_id", " WHERE NOT EXISTS (SELECT 1 FROM opportunity_contacts oc WHERE oc.opportunity_id = top.id AND oc.contact_id = top.contact_id)")
	q.add(" ORDER BY 6 DESC, 8 DESC, 7, 2 LIMIT ?", stdReportLimit+1)
	err := r.each(q, func(rows *sql.Rows) error {
		var cid, cents, oid int64
		var name, acc, opp, stage, role string
		if err := rows.Scan(&cid, &name, &acc, &opp, &stage, &cents, &role, &oid); err != nil {
			return err
		}
		r.res.Rows = append(r.res.Rows, []any{cid, name, acc, opp, stage, money(cents), role})
		return nil
	})
	if len(r.res.Rows) > stdReportLimit {
		r.res.Rows, r.res.Truncated = r.res.Rows[:stdReportLimit], true
	}
	return err
}

// newClientsFrom adds the FROM and WHERE of "accounts whose first won
// opportunity closed in [from, to)": t is the first won deal, a its account.
func (r *stdRun) newClientsFrom(q *sqlb, from, to int64) {
	won := r.stages("won")
	q.add(" FROM opportunities t JOIN accounts a ON a.id = t.account_id AND ")
	r.scope(q, EntAccounts, "a")
	q.add(" WHERE t.closed_at >= ? AND t.closed_at < ? AND t.closed_at <> 0 AND ", from, to)
	in(q, "+t.stage", won)
	q.add(" AND ")
	r.scope(q, EntOpportunities, "t")
	q.add(" AND NOT EXISTS (SELECT 1 FROM opportunities e WHERE e.account_id = t.account_id AND ")
	in(q, "e.stage", won)
	q.add(" AND e.closed_at <> 0 AND (e.closed_at < t.closed_at OR (e.closed_at = t.closed_at AND e.id < t.id)) AND ")
	r.scope(q, EntOpportunities, "e")
	q.add(")")
}

// newClients counts the accounts that became clients in the period (their
// first won opportunity closed in it) per account owner, or lists them.
func (r *stdRun) newClients() error {
	q := &sqlb{}
	if r.p.By == "account" {
		r.cols("id", "id:accounts", "account", "text", "owner", "user", "first_won", "date", "amount", "money")
		q.add("SELECT a.id, a.name, a.owner_id, t.closed_at, t.amount_cents")
		r.newClientsFrom(q, ms(r.p.From), ms(r.p.To))
		r.ownerFilter(q, "a.owner_id")
		q.add(" ORDER BY t.closed_at, a.id LIMIT ?", stdReportLimit+1)
		err := r.each(q, func(rows *sql.Rows) error {
			var id, owner, at, cents int64
			var name string
			if err := rows.Scan(&id, &name, &owner, &at, &cents); err != nil {
				return err
			}
			r.res.Rows = append(r.res.Rows, []any{id, name, r.users[owner], fromMS(at).In(r.loc).Format("2006-01-02"), money(cents)})
			return nil
		})
		if len(r.res.Rows) > stdReportLimit {
			r.res.Rows, r.res.Truncated = r.res.Rows[:stdReportLimit], true
		}
		return err
	}
	r.cols("owner", "user", "new_clients", "int", "first_deal_amount", "money")
	q.add("SELECT a.owner_id, count(*), COALESCE(sum(t.amount_cents), 0)")
	r.newClientsFrom(q, ms(r.p.From), ms(r.p.To))
	r.ownerFilter(q, "a.owner_id")
	q.add(" GROUP BY 1")
	b := byUser{}
	err := r.each(q, func(rows *sql.Rows) error {
		var id, n, c int64
		if err := rows.Scan(&id, &n, &c); err != nil {
			return err
		}
		row := b.row(id, 3)
		row[1], row[2] = n, money(c)
		return nil
	})
	r.res.Rows = r.userRows(b, 1)
	r.res.Totals = sumTotals(r.res.Rows, 1, 2)
	r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{1}}
	return err
}

// activities counts the activities of the period by type, user or
// objective, with their outcomes, the share with a positive outcome, and
// how many (of those linked to a deal) were followed by a stage advance
// within Days days.
func (r *stdRun) activities() error {
	outcomes := r.sc.Options("activity_outcome")
	switch r.p.By {
	case "owner":
		r.cols("owner", "user")
	case "objective":
		r.cols("objective", "option:activity_objective")
	default:
		r.cols("type", "option:activity_type")
	}
	r.cols("total", "int")
	for _, o := range outcomes {
		r.cols("activity_outcome:"+o.Key, "int")
	}
	r.cols("no_outcome", "int", "effectiveness", "percent", "linked_to_deal", "int", "advanced", "int", "advance_rate", "percent")
	w := 2 + len(outcomes) + 5
	group := map[string]string{"owner": "t.owner_id", "objective": "t.objective"}[r.p.By]
	if group == "" {
		group = "t.type"
	}
	q := &sqlb{}
	q.add("SELECT "+group+", t.outcome, count(*), sum(t.opportunity_id IS NOT NULL), sum(CASE WHEN t.opportunity_id IS NOT NULL AND EXISTS (SELECT 1 FROM stage_history h WHERE h.opportunity_id = t.opportunity_id AND h.at > t.occurred_at AND h.at <= t.occurred_at + ? AND h.from_stage <> '' AND NOT ", int64(r.p.Days)*dayMS)
	in(q, "h.to_stage", r.stages("lost"))
	q.add(")")
	if cond, args := r.a.scopeSQL(EntOpportunities, ActView, "o.owner_id"); cond != "1=1" {
		q.add(" AND t.opportunity_id IN (SELECT o.id FROM opportunities o WHERE o.deleted_at = 0 AND "+cond+")", args...)
	}
	q.add(" THEN 1 ELSE 0 END) FROM activities t INDEXED BY activities_report WHERE t.occurred_at >= ? AND t.occurred_at < ? AND ", ms(r.p.From), ms(r.p.To))
	r.where(q, EntActivities, "t")
	q.add(" GROUP BY 1, 2")
	rows := map[any][]any{}
	var order []any
	err := r.each(q, func(rs *sql.Rows) error {
		var g any
		var outcome string
		var n, linked, adv int64
		if err := rs.Scan(&g, &outcome, &n, &linked, &adv); err != nil {
			return err
		}
		if b, ok := g.([]byte); ok {
			g = string(b)
		}
		row := rows[g]
		if row == nil {
			row = make([]any, w)
			row[0] = g
			for i := 1; i < w; i++ {
				row[i] = int64(0)
			}
			rows[g] = row
			order = append(order, g)
		}
		row[1] = row[1].(int64) + n
		col := 2 + len(outcomes) // no outcome
		for i, o := range outcomes {
			if o.Key == outcome {
				col = 2 + i
			}
		}
		row[col] = row[col].(int64) + n
		row[w-3] = row[w-3].(int64) + linked
		row[w-2] = row[w-2].(int64) + adv
		return nil
	})
	if err != nil {
		return err
	}
	posCol := -1
	for i, o := range outcomes {
		if o.Key == "positive" {
			posCol = 2 + i
		}
	}
	finish := func(row []any) {
		if posCol >= 0 {
			row[w-4] = pct(float64(row[posCol].(int64)), float64(row[1].(int64)))
		} else {
			row[w-4] = nil
		}
		row[w-1] = pct(float64(row[w-2].(int64)), float64(row[w-3].(int64)))
	}
	var list [][]any
	for _, g := range order {
		row := rows[g]
		finish(row)
		if id, ok := g.(int64); ok {
			row[0] = r.users[id]
		}
		list = append(list, row)
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i][1].(int64) > list[j][1].(int64) })
	r.res.Rows = list
	var sumCols []int
	for i := 1; i < w; i++ {
		if i != w-4 && i != w-1 {
			sumCols = append(sumCols, i)
		}
	}
	if tot := sumTotals(list, sumCols...); tot != nil {
		finish(tot)
		r.res.Totals = tot
	}
	var series []int
	for i := range outcomes {
		series = append(series, 2+i)
	}
	series = append(series, 2+len(outcomes))
	r.res.Chart = &ChartHint{Kind: "stacked_bar", Labels: []int{0}, Series: series}
	return nil
}

// salesPerformance compares salespeople over the period: activities,
// opportunities created, won and lost, win rate, won amount, and the
// won-amount goal with its attainment.
func (r *stdRun) salesPerformance() error {
	r.cols("salesperson", "user", "activities", "int", "opportunities_created", "int", "won", "int", "lost", "int",
		"win_rate", "percent", "won_amount", "money", "goal", "money", "attainment", "percent")
	const w = 9
	b := byUser{}
	from, to := ms(r.p.From), ms(r.p.To)
	// Activities per user through the (owner_id, occurred_at) index: one
	// range per user instead of every activity of the period.
	q := &sqlb{}
	q.add("SELECT u.id, (SELECT count(*) FROM activities t WHERE t.owner_id = u.id AND t.occurred_at >= ? AND t.occurred_at < ? AND ", from, to)
	r.scope(q, EntActivities, "t")
	q.add(") FROM users u WHERE 1=1")
	r.ownerFilter(q, "u.id")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		if n > 0 {
			b.row(id, w)[1] = n
		}
		return nil
	}); err != nil {
		return err
	}
	q = &sqlb{}
	q.add("SELECT t.owner_id, count(*) FROM opportunities t WHERE t.created_at >= ? AND t.created_at < ? AND ", from, to)
	r.where(q, EntOpportunities, "t")
	q.add(" GROUP BY 1")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		b.row(id, w)[2] = n
		return nil
	}); err != nil {
		return err
	}
	won := r.stages("won")
	q = &sqlb{}
	q.add("SELECT t.owner_id, ")
	in(q, "t.stage", won)
	q.add(", count(*), COALESCE(sum(t.amount_cents), 0) FROM opportunities t WHERE t.closed_at >= ? AND t.closed_at < ? AND t.closed_at <> 0 AND ", from, to)
	in(q, "+t.stage", append(slices.Clone(won), r.stages("lost")...))
	q.add(" AND ")
	r.where(q, EntOpportunities, "t")
	q.add(" GROUP BY 1, 2")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, n, c int64
		var isWon bool
		if err := rows.Scan(&id, &isWon, &n, &c); err != nil {
			return err
		}
		row := b.row(id, w)
		if isWon {
			row[3], row[6] = n, money(c)
		} else {
			row[4] = n
		}
		return nil
	}); err != nil {
		return err
	}
	dfrom, dto := r.p.From.In(r.loc).Format("2006-01-02"), r.p.To.In(r.loc).Format("2006-01-02")
	goals, err := r.visibleGoals("won_amount", dfrom, dto)
	if err != nil {
		return err
	}
	for _, g := range goals {
		if g.UserID != 0 && r.userInFilter(g.UserID) {
			if t, ok := targetFor(goals, func(x *Goal) bool { return x.UserID == g.UserID }, dfrom, dto); ok {
				b.row(g.UserID, w)[7] = t
			}
		}
	}
	for _, row := range b {
		for _, i := range []int{1, 2, 3, 4} {
			if row[i] == nil {
				row[i] = int64(0)
			}
		}
		if row[6] == nil {
			row[6] = 0.0
		}
		row[5] = pct(float64(row[3].(int64)), float64(row[3].(int64)+row[4].(int64)))
		if g, ok := row[7].(float64); ok {
			row[8] = pct(row[6].(float64), g)
		}
	}
	r.res.Rows = r.userRows(b, 6)
	if tot := sumTotals(r.res.Rows, 1, 2, 3, 4, 6, 7); tot != nil {
		tot[5] = pct(float64(tot[3].(int64)), float64(tot[3].(int64)+tot[4].(int64)))
		if g, _ := tot[7].(float64); g != 0 {
			tot[8] = pct(tot[6].(float64), g)
		} else {
			tot[7] = nil
		}
		r.res.Totals = tot
	}
	r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{6}}
	return nil
}

// cases shows customer service per agent (opened and resolved in the
// period, open backlog now, average hours to the first activity and to
// resolution) or the open backlog by status and priority.
func (r *stdRun) cases() error {
	var open []string
	for _, o := range r.sc.Options("case_status") {
		if o.StageKind == "open" {
			open = append(open, o.Key)
		}
	}
	if r.p.By == "status" {
		prios := r.sc.Options("case_priority")
		r.cols("status", "option:case_status")
		for _, o := range prios {
			r.cols("case_priority:"+o.Key, "int")
		}
		r.cols("total", "int")
		w := 2 + len(prios)
		q := &sqlb{}
		q.add("SELECT t.status, t.priority, count(*) FROM cases t WHERE ")
		in(q, "t.status", open)
		q.add(" AND ")
		r.where(q, EntCases, "t")
		q.add(" GROUP BY 1, 2")
		rows := map[string][]any{}
		for _, st := range open {
			row := make([]any, w)
			row[0] = st
			for i := 1; i < w; i++ {
				row[i] = int64(0)
			}
			rows[st] = row
		}
		if err := r.each(q, func(rs *sql.Rows) error {
			var st, pr string
			var n int64
			if err := rs.Scan(&st, &pr, &n); err != nil {
				return err
			}
			row := rows[st]
			if row == nil {
				return nil
			}
			for i, o := range prios {
				if o.Key == pr {
					row[1+i] = row[1+i].(int64) + n
				}
			}
			row[w-1] = row[w-1].(int64) + n
			return nil
		}); err != nil {
			return err
		}
		var series []int
		for i := range prios {
			series = append(series, 1+i)
		}
		for _, st := range open {
			r.res.Rows = append(r.res.Rows, rows[st])
		}
		r.res.Totals = sumTotals(r.res.Rows, append(series, w-1)...)
		r.res.Chart = &ChartHint{Kind: "stacked_bar", Labels: []int{0}, Series: series}
		return nil
	}
	r.cols("agent", "user", "opened", "int", "resolved", "int", "backlog", "int", "avg_first_response_hours", "number", "avg_resolution_hours", "number")
	const w = 6
	b := byUser{}
	type span struct{ sum, n float64 }
	first, resol := map[int64]*span{}, map[int64]*span{}
	from, to := ms(r.p.From), ms(r.p.To)
	q := &sqlb{}
	q.add("SELECT x.owner_id, count(*), COALESCE(sum(x.fr - x.created_at), 0), count(x.fr) FROM (SELECT t.owner_id AS owner_id, t.created_at AS created_at, (SELECT min(a.occurred_at) FROM activities a WHERE a.case_id = t.id AND a.occurred_at >= t.created_at AND ")
	r.scope(q, EntActivities, "a")
	q.add(") AS fr FROM cases t WHERE t.created_at >= ? AND t.created_at < ? AND ", from, to)
	r.where(q, EntCases, "t")
	q.add(") x GROUP BY 1")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, n, sum, nfr int64
		if err := rows.Scan(&id, &n, &sum, &nfr); err != nil {
			return err
		}
		b.row(id, w)[1] = n
		first[id] = &span{float64(sum), float64(nfr)}
		return nil
	}); err != nil {
		return err
	}
	q = &sqlb{}
	q.add("SELECT t.owner_id, count(*), COALESCE(sum(t.resolved_at - t.created_at), 0) FROM cases t WHERE t.resolved_at >= ? AND t.resolved_at < ? AND t.resolved_at <> 0 AND ", from, to)
	r.where(q, EntCases, "t")
	q.add(" GROUP BY 1")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, n, sum int64
		if err := rows.Scan(&id, &n, &sum); err != nil {
			return err
		}
		b.row(id, w)[2] = n
		resol[id] = &span{float64(sum), float64(n)}
		return nil
	}); err != nil {
		return err
	}
	q = &sqlb{}
	q.add("SELECT t.owner_id, count(*) FROM cases t WHERE ")
	in(q, "t.status", open)
	q.add(" AND ")
	r.where(q, EntCases, "t")
	q.add(" GROUP BY 1")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		b.row(id, w)[3] = n
		return nil
	}); err != nil {
		return err
	}
	const hourMS = 3600 * 1000
	var tf, tr span
	for id, row := range b {
		if f := first[id]; f != nil {
			row[4] = avg(f.sum/hourMS, f.n)
			tf.sum, tf.n = tf.sum+f.sum, tf.n+f.n
		}
		if s := resol[id]; s != nil {
			row[5] = avg(s.sum/hourMS, s.n)
			tr.sum, tr.n = tr.sum+s.sum, tr.n+s.n
		}
	}
	r.res.Rows = r.userRows(b, 3)
	zeroes(r.res.Rows, 1, 2, 3)
	if tot := sumTotals(r.res.Rows, 1, 2, 3); tot != nil {
		tot[4], tot[5] = avg(tf.sum/hourMS, tf.n), avg(tr.sum/hourMS, tr.n)
		r.res.Totals = tot
	}
	r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{1, 2, 3}}
	return nil
}

// adoptionUsers are the enabled users whose use of Cartera the actor may
// follow: everyone for user administrators and firm-wide activity scope,
// the team for team scope, oneself otherwise.
func (r *stdRun) adoptionUsers() (map[int64]bool, error) {
	q := &sqlb{}
	q.add("SELECT id FROM users WHERE disabled = 0")
	sc := r.a.Permissions.Scope(EntActivities, ActView)
	switch {
	case r.a.System || r.a.Has(CapUsers) || r.a.Has(CapAudit) || sc == ScopeAll:
	case sc == ScopeTeam && r.a.TeamID != 0:
		q.add(" AND (id = ? OR team_id = ?)", r.a.UserID, r.a.TeamID)
	default:
		q.add(" AND id = ?", r.a.UserID)
	}
	r.ownerFilter(q, "id")
	out := map[int64]bool{}
	err := r.each(q, func(rows *sql.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		out[id] = true
		return nil
	})
	return out, err
}

// adoptionTables are the record types whose creation counts as use.
var adoptionTables = []string{"accounts", "contacts", "leads", "opportunities", "activities", "tasks", "cases"}

// adoption shows daily use per user: sign-ins (sessions started), records
// created (audit log), records changed (field history), activities logged
// (owned by the user and dated that day), days active, last sign-in, and
// whether the user has logged no activity this week. by=day gives a row per
// user and day.
func (r *stdRun) adoption() error {
	users, err := r.adoptionUsers()
	if err != nil {
		return err
	}
	bs, err := buckets(r.loc, r.p.From, r.p.To, "day")
	if err != nil {
		return err
	}
	type key struct {
		day  string
		user int64
	}
	counts := map[key]*[4]int64{}
	add := func(day string, user int64, col int, n int64) {
		if !users[user] {
			return
		}
		k := key{day, user}
		if counts[k] == nil {
			counts[k] = &[4]int64{}
		}
		counts[k][col] += n
	}
	dayOf := func(at int64) string {
		i := sort.Search(len(bs), func(i int) bool { return bs[i].hi > at })
		if i < len(bs) && bs[i].lo <= at {
			return bs[i].label
		}
		return ""
	}
	from, to := ms(r.p.From), ms(r.p.To)
	// Sessions are few; they are bucketed here rather than in SQL.
	q := &sqlb{}
	q.add("SELECT user_id, created_at FROM sessions WHERE created_at >= ? AND created_at < ?", from, to)
	if err := r.each(q, func(rows *sql.Rows) error {
		var u, at int64
		if err := rows.Scan(&u, &at); err != nil {
			return err
		}
		if d := dayOf(at); d != "" {
			add(d, u, 0, 1)
		}
		return nil
	}); err != nil {
		return err
	}
	grouped := func(q *sqlb, col int) error {
		return r.each(q, func(rows *sql.Rows) error {
			var d string
			var u sql.NullInt64
			var n int64
			if err := rows.Scan(&d, &u, &n); err != nil {
				return err
			}
			if u.Valid {
				add(d, u.Int64, col, n)
			}
			return nil
		})
	}
	q = &sqlb{}
	bucketsCTE(q, bs)
	q.add("SELECT b.label, l.user_id, count(*) FROM b CROSS JOIN audit_log l WHERE l.at >= b.lo AND l.at < b.hi AND l.action IN ('create', 'convert', 'import') AND ")
	in(q, "l.entity", adoptionTables)
	q.add(" GROUP BY 1, 2")
	if err := grouped(q, 1); err != nil {
		return err
	}
	// Records changed: the field history, read per user and day through
	// its (user_id, at) index.
	q = &sqlb{}
	bucketsCTE(q, bs)
	q.add("SELECT b.label, h.user_id, count(DISTINCT h.entity || ':' || h.record_id) FROM b CROSS JOIN field_history h WHERE h.user_id IN (SELECT id FROM users) AND h.at >= b.lo AND h.at < b.hi GROUP BY 1, 2")
	if err := grouped(q, 2); err != nil {
		return err
	}
	// Activities logged: by their owner and date, one range of the
	// (owner_id, occurred_at) index per user and day.
	q = &sqlb{}
	bucketsCTE(q, bs)
	q.add("SELECT b.label, u.id, count(*) FROM b CROSS JOIN users u CROSS JOIN activities t WHERE t.owner_id = u.id AND t.occurred_at >= b.lo AND t.occurred_at < b.hi AND t.deleted_at = 0 AND u.disabled = 0 GROUP BY 1, 2")
	if err := grouped(q, 3); err != nil {
		return err
	}
	if r.p.By == "day" {
		r.cols("day", "period", "user", "user", "logins", "int", "records_created", "int", "records_updated", "int", "activities_logged", "int")
		ids := sortedUsers(users, r.users)
		for _, b := range bs {
			for _, id := range ids {
				c := counts[key{b.label, id}]
				if c == nil {
					c = &[4]int64{}
				}
				r.res.Rows = append(r.res.Rows, []any{b.label, r.users[id], c[0], c[1], c[2], c[3]})
			}
		}
		r.res.Totals = sumTotals(r.res.Rows, 2, 3, 4, 5)
		return nil
	}
	r.cols("user", "user", "logins", "int", "records_created", "int", "records_updated", "int", "activities_logged", "int", "active_days", "int", "last_login", "date", "idle_this_week", "bool")
	// "This week" is the current local week, whatever the period.
	wfrom, wto := defaultPeriod("week", r.now, r.loc)
	idle := map[int64]bool{}
	for id := range users {
		idle[id] = true
	}
	q = &sqlb{}
	q.add("SELECT u.id, (SELECT count(*) FROM activities t WHERE t.owner_id = u.id AND t.occurred_at >= ? AND t.occurred_at < ? AND t.deleted_at = 0) FROM users u WHERE u.disabled = 0", ms(wfrom), ms(wto))
	if err := r.each(q, func(rows *sql.Rows) error {
		var u, n int64
		if err := rows.Scan(&u, &n); err != nil {
			return err
		}
		if n > 0 {
			idle[u] = false
		}
		return nil
	}); err != nil {
		return err
	}
	last := map[int64]int64{}
	q = &sqlb{}
	q.add("SELECT id, last_login_at FROM users")
	if err := r.each(q, func(rows *sql.Rows) error {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		last[id] = at
		return nil
	}); err != nil {
		return err
	}
	b := byUser{}
	for id := range users {
		row := b.row(id, 8)
		row[1], row[2], row[3], row[4] = int64(0), int64(0), int64(0), int64(0)
		var days int64
		for _, bk := range bs {
			if c := counts[key{bk.label, id}]; c != nil {
				row[1] = row[1].(int64) + c[0]
				row[2] = row[2].(int64) + c[1]
				row[3] = row[3].(int64) + c[2]
				row[4] = row[4].(int64) + c[3]
				if c[1]+c[2]+c[3] > 0 {
					days++
				}
			}
		}
		row[5] = days
		if last[id] != 0 {
			row[6] = fromMS(last[id]).In(r.loc).Format("2006-01-02")
		}
		row[7] = idle[id]
	}
	r.res.Rows = r.userRows(b, 4)
	r.res.Totals = sumTotals(r.res.Rows, 1, 2, 3, 4)
	r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{2, 3, 4}}
	return nil
}

// sortedUsers returns the ids of a user set ordered by name.
func sortedUsers(set map[int64]bool, names map[int64]string) []int64 {
	ids := make([]int64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if names[ids[i]] != names[ids[j]] {
			return names[ids[i]] < names[ids[j]]
		}
		return ids[i] < ids[j]
	})
	return ids
}

// goals shows every visible goal overlapping the period with what was
// achieved in its own period, under the viewer's scope, and the
// attainment.
func (r *stdRun) goals() error {
	r.cols("id", "id:goals", "subject", "text", "metric", "option:goal_metric", "period", "period", "target", "number", "actual", "number", "attainment", "percent")
	from, to := r.p.From.In(r.loc).Format("2006-01-02"), r.p.To.In(r.loc).Format("2006-01-02")
	gs, err := findGoals(r.ctx, r.tx, r.a, GoalFilter{From: from, To: to, UserID: r.p.OwnerID, TeamID: r.p.TeamID})
	if err != nil {
		return err
	}
	for _, g := range gs {
		actual, err := r.goalActual(g)
		if err != nil {
			return err
		}
		r.res.Rows = append(r.res.Rows, []any{g.ID, g.Subject(), g.Metric, g.Label, g.Target, actual, pct(actual, g.Target)})
	}
	r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{1, 2, 3}, Series: []int{6}}
	return nil
}

// goalActual measures a goal's metric over its own period for its user or
// team, counting only records the viewer may see.
func (r *stdRun) goalActual(g *Goal) (float64, error) {
	from, to := ms(r.localDate(g.StartsOn)), ms(r.localDate(goalEnd(g.Period, g.StartsOn)))
	subject := func(q *sqlb, col string) {
		if g.TeamID != 0 {
			q.add(" AND "+col+" IN (SELECT id FROM users WHERE team_id = ?)", g.TeamID)
		} else {
			q.add(" AND "+col+" = ?", g.UserID)
		}
	}
	q := &sqlb{}
	switch g.Metric {
	case "won_amount":
		q.add("SELECT COALESCE(sum(t.amount_cents), 0) FROM opportunities t WHERE t.closed_at >= ? AND t.closed_at < ? AND t.closed_at <> 0 AND ", from, to)
		in(q, "+t.stage", r.stages("won"))
		q.add(" AND ")
		r.scope(q, EntOpportunities, "t")
		subject(q, "t.owner_id")
	case "new_clients":
		q.add("SELECT count(*)")
		r.newClientsFrom(q, from, to)
		subject(q, "a.owner_id")
	case "opportunities_created":
		q.add("SELECT count(*) FROM opportunities t WHERE t.created_at >= ? AND t.created_at < ? AND ", from, to)
		r.scope(q, EntOpportunities, "t")
		subject(q, "t.owner_id")
	case "activities_logged":
		q.add("SELECT count(*) FROM activities t WHERE t.occurred_at >= ? AND t.occurred_at < ? AND ", from, to)
		r.scope(q, EntActivities, "t")
		subject(q, "t.owner_id")
	default:
		return 0, nil
	}
	var v int64
	if err := r.tx.QueryRowContext(r.ctx, q.b.String(), q.args...).Scan(&v); err != nil {
		return 0, err
	}
	if g.Metric == "won_amount" {
		return money(v), nil
	}
	return float64(v), nil
}

// quotes shows the quotes made in the period (store/quotes.go), in the
// viewer's opportunity scope: by status, their count and amounts; or by
// salesperson (the opportunity's owner), how many were sent and accepted,
// the acceptance rate (accepted ÷ sent) and the accepted amount before tax.
func (r *stdRun) quotes() error {
	q := &sqlb{}
	if r.p.By == "owner" {
		r.cols("owner", "user", "quotes", "int", "sent", "int", "accepted", "int", "acceptance_rate", "percent", "accepted_amount", "money")
		q.add("SELECT o.owner_id, count(*), sum(qt.sent_at <> 0), sum(qt.status = 'accepted'), COALESCE(sum(CASE WHEN qt.status = 'accepted' THEN qt.subtotal_cents END), 0)")
	} else {
		r.cols("status", "option:quote_status", "count", "int", "amount", "money", "total", "money")
		q.add("SELECT qt.status, count(*), COALESCE(sum(qt.subtotal_cents), 0), COALESCE(sum(qt.total_cents), 0)")
	}
	q.add(" FROM quotes qt JOIN opportunities o ON o.id = qt.opportunity_id WHERE qt.created_at >= ? AND qt.created_at < ? AND ", ms(r.p.From), ms(r.p.To))
	r.where(q, EntOpportunities, "o")
	q.add(" GROUP BY 1")
	if r.p.By == "owner" {
		b := byUser{}
		err := r.each(q, func(rows *sql.Rows) error {
			var id, n, sent, acc, cents int64
			if err := rows.Scan(&id, &n, &sent, &acc, &cents); err != nil {
				return err
			}
			row := b.row(id, 6)
			row[1], row[2], row[3], row[4], row[5] = n, sent, acc, pct(float64(acc), float64(sent)), money(cents)
			return nil
		})
		r.res.Rows = r.userRows(b, 5)
		if t := sumTotals(r.res.Rows, 1, 2, 3, 5); t != nil {
			t[4] = pct(float64(t[3].(int64)), float64(t[2].(int64)))
			r.res.Totals = t
		}
		r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{2, 3}}
		return err
	}
	byStatus := map[string][]any{}
	err := r.each(q, func(rows *sql.Rows) error {
		var st string
		var n, sub, total int64
		if err := rows.Scan(&st, &n, &sub, &total); err != nil {
			return err
		}
		byStatus[st] = []any{st, n, money(sub), money(total)}
		return nil
	})
	for _, st := range QuoteStatuses {
		if row, ok := byStatus[st]; ok {
			r.res.Rows = append(r.res.Rows, row)
		}
	}
	r.res.Totals = sumTotals(r.res.Rows, 1, 2, 3)
	r.res.Chart = &ChartHint{Kind: "bar", Labels: []int{0}, Series: []int{2}}
	return err
}
