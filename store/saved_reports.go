package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file holds saved custom reports (issue 8): what the report builder
// makes. A saved report is a ReportSpec with a name, a sort and a chart
// type, owned by its author and shared with roles; it always runs under the
// viewer's permissions, so sharing a report never shares records.

// ReportCharts are the chart types a saved report can be drawn as; table
// draws none.
var ReportCharts = []string{"bar", "stacked_bar", "line", "pie", "funnel", "table"}

// ReportSorts order a saved report's rows: by the group labels (as the SQL
// gives them) or by the first measure, ascending or descending.
var ReportSorts = []string{"label", "-label", "value", "-value"}

// SavedReport is a custom report someone saved from the builder.
type SavedReport struct {
	ID        int64
	Name      string
	OwnerID   int64
	OwnerName string
	Entity    Entity
	// Eq, Tags, OwnerFilter, Q, CreatedFrom and CreatedTo are the filters
	// (CreatedFrom/To are local dates, "YYYY-MM-DD", To inclusive).
	Eq          map[string]string
	Tags        []string
	OwnerFilter int64
	Q           string
	CreatedFrom string
	CreatedTo   string
	GroupBy     []GroupBy
	Measures    []Measure
	Sort        string
	Chart       string
	// Roles are the role keys the report is shared with.
	Roles     []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// savedSpec is the JSON kept in saved_reports.spec.
type savedSpec struct {
	Entity      Entity            `json:"entity"`
	Eq          map[string]string `json:"eq,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	OwnerFilter int64             `json:"owner_id,omitempty"`
	Q           string            `json:"q,omitempty"`
	CreatedFrom string            `json:"created_from,omitempty"`
	CreatedTo   string            `json:"created_to,omitempty"`
	GroupBy     []GroupBy         `json:"group"`
	Measures    []Measure         `json:"measures"`
	Sort        string            `json:"sort,omitempty"`
	Chart       string            `json:"chart"`
}

// Spec turns the saved report into the engine's spec, dates read in loc.
func (r *SavedReport) Spec(loc *time.Location) (ReportSpec, error) {
	if loc == nil {
		loc = time.UTC
	}
	f := Filter{Eq: r.Eq, Tags: r.Tags, OwnerID: r.OwnerFilter, Q: r.Q}
	fe := fieldErrors{}
	if r.CreatedFrom != "" {
		t, err := time.ParseInLocation(time.DateOnly, r.CreatedFrom, loc)
		if err != nil {
			fe.add("created_from", "error.date")
		}
		f.CreatedFrom = t
	}
	if r.CreatedTo != "" {
		t, err := time.ParseInLocation(time.DateOnly, r.CreatedTo, loc)
		if err != nil {
			fe.add("created_to", "error.date")
		}
		f.CreatedTo = t.AddDate(0, 0, 1)
	}
	return ReportSpec{Entity: r.Entity, Filter: f, GroupBy: r.GroupBy, Measures: r.Measures, Location: loc}, fe.err()
}

// validate checks a report before it is saved or run; every group, measure
// and filter is checked the way RunReport checks them, so a saved report
// always runs.
func (s *Store) validateSavedReport(a *Actor, r *SavedReport, named bool) error {
	fe := fieldErrors{}
	var k string
	if named {
		if r.Name, k = cleanText(r.Name, true, 200); k != "" {
			fe.add("name", k)
		}
	}
	d := s.def(r.Entity)
	if d == nil || !slices.Contains(RecordEntities, r.Entity) {
		fe.add("entity", "error.option")
		return fe.err()
	}
	if !a.Can(r.Entity, ActView) {
		return errForbidden()
	}
	if len(r.GroupBy) > 2 {
		fe.add("group", "error.too_many_groups")
	}
	for i, g := range r.GroupBy {
		if _, e := s.groupExpr(d, g, "0 seconds"); e != "" {
			fe.add("group."+strconv.Itoa(i), e)
		}
	}
	if len(r.Measures) == 0 {
		r.Measures = []Measure{{Op: "count"}}
	}
	if len(r.Measures) > 5 {
		fe.add("measure", "error.invalid")
	}
	for i, m := range r.Measures {
		if _, e := measureExpr(d, m); e != "" {
			fe.add("measure."+strconv.Itoa(i), e)
		}
	}
	if r.Sort == "" {
		r.Sort = "label"
	}
	if !slices.Contains(ReportSorts, r.Sort) {
		fe.add("sort", "error.option")
	}
	if r.Chart == "" {
		r.Chart = "bar"
	}
	if !slices.Contains(ReportCharts, r.Chart) {
		fe.add("chart", "error.option")
	}
	if len(r.Tags) > 10 {
		fe.add("tags", "error.invalid")
	}
	if _, err := r.Spec(time.UTC); err != nil {
		for f, v := range err.(*Error).Fields {
			fe.add(f, v)
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	spec, _ := r.Spec(time.UTC)
	if _, _, err := s.filterSQL(a, d, spec.Filter, ActView); err != nil {
		return err
	}
	return nil
}

// SaveReport creates (ID 0) or updates a saved report; anyone who may read
// reports and the report's record type may save their own, and only its
// owner or someone who may edit every report may change it.
func (s *Store) SaveReport(ctx context.Context, a *Actor, r *SavedReport) error {
	if !a.Can(EntReports, ActView) {
		return errForbidden()
	}
	if err := s.validateSavedReport(a, r, true); err != nil {
		return err
	}
	roles := []string{}
	for _, k := range r.Roles {
		if k = strings.TrimSpace(k); k != "" && !slices.Contains(roles, k) {
			roles = append(roles, k)
		}
	}
	slices.Sort(roles)
	spec, _ := json.Marshal(savedSpec{Entity: r.Entity, Eq: r.Eq, Tags: r.Tags, OwnerFilter: r.OwnerFilter, Q: r.Q,
		CreatedFrom: r.CreatedFrom, CreatedTo: r.CreatedTo, GroupBy: r.GroupBy, Measures: r.Measures, Sort: r.Sort, Chart: r.Chart})
	rolesJSON, _ := json.Marshal(roles)
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, k := range roles {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM roles WHERE key = ?`, k).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errInvalid(map[string]string{"roles": "error.option"})
			}
		}
		now := s.nowMS()
		if r.ID == 0 {
			res, err := execTx(ctx, tx, `INSERT INTO saved_reports (name, owner_id, spec, shared_roles, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				r.Name, a.auditUser(), string(spec), string(rolesJSON), now, now)
			if err != nil {
				return err
			}
			r.ID, _ = res.LastInsertId()
			r.OwnerID = a.UserID
			r.Roles = roles
			return s.audit(ctx, tx, a, "report.create", "saved_reports", r.ID, map[string]string{"name": r.Name})
		}
		old, err := getSavedReport(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if !savedReportVisible(a, old) {
			return errNotFound()
		}
		if !savedReportEditable(a, old) {
			return errForbidden()
		}
		if _, err := execTx(ctx, tx, `UPDATE saved_reports SET name = ?, spec = ?, shared_roles = ?, updated_at = ? WHERE id = ?`,
			r.Name, string(spec), string(rolesJSON), now, r.ID); err != nil {
			return err
		}
		r.OwnerID = old.OwnerID
		r.Roles = roles
		return s.audit(ctx, tx, a, "report.update", "saved_reports", r.ID, map[string]string{"name": r.Name})
	})
}

// savedReportVisible is the sharing rule: the owner, the roles it is
// shared with, and whoever may edit every report see it.
func savedReportVisible(a *Actor, r *SavedReport) bool {
	if a == nil {
		return false
	}
	return a.System || (a.UserID != 0 && r.OwnerID == a.UserID) || slices.Contains(r.Roles, a.RoleKey) ||
		a.Permissions.Scope(EntReports, ActEdit) == ScopeAll
}

// savedReportEditable says who may change or delete a saved report.
func savedReportEditable(a *Actor, r *SavedReport) bool {
	return a.System || (a.UserID != 0 && r.OwnerID == a.UserID) || a.Permissions.Scope(EntReports, ActEdit) == ScopeAll
}

// CanEditReport reports whether the actor may change a saved report, so
// the page shows its edit and delete buttons only to them.
func CanEditReport(a *Actor, r *SavedReport) bool { return savedReportEditable(a, r) }

const savedReportCols = `r.id, r.name, COALESCE(r.owner_id, 0), COALESCE(u.name, ''), r.spec, r.shared_roles, r.created_at, r.updated_at`

func scanSavedReport(sc rowScanner) (*SavedReport, error) {
	r := &SavedReport{}
	var spec, roles string
	var ca, ua int64
	if err := sc.Scan(&r.ID, &r.Name, &r.OwnerID, &r.OwnerName, &spec, &roles, &ca, &ua); err != nil {
		return nil, err
	}
	var sp savedSpec
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		return nil, err
	}
	r.Entity, r.Eq, r.Tags, r.OwnerFilter, r.Q = sp.Entity, sp.Eq, sp.Tags, sp.OwnerFilter, sp.Q
	r.CreatedFrom, r.CreatedTo, r.GroupBy, r.Measures, r.Sort, r.Chart = sp.CreatedFrom, sp.CreatedTo, sp.GroupBy, sp.Measures, sp.Sort, sp.Chart
	_ = json.Unmarshal([]byte(roles), &r.Roles)
	r.CreatedAt, r.UpdatedAt = fromMS(ca), fromMS(ua)
	return r, nil
}

func getSavedReport(ctx context.Context, q querier, id int64) (*SavedReport, error) {
	r, err := scanSavedReport(q.QueryRowContext(ctx, `SELECT `+savedReportCols+` FROM saved_reports r LEFT JOIN users u ON u.id = r.owner_id WHERE r.id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, errNotFound()
	}
	return r, err
}

// GetSavedReport returns a saved report the actor may see; one outside
// their sharing is not_found.
func (s *Store) GetSavedReport(ctx context.Context, a *Actor, id int64) (*SavedReport, error) {
	if !a.Can(EntReports, ActView) {
		return nil, errForbidden()
	}
	var r *SavedReport
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = getSavedReport(ctx, tx, id)
		if err == nil && !savedReportVisible(a, r) {
			return errNotFound()
		}
		return err
	})
	return r, err
}

// FindSavedReports lists the saved reports the actor may see whose record
// type they may view, by name.
func (s *Store) FindSavedReports(ctx context.Context, a *Actor) ([]*SavedReport, error) {
	if !a.Can(EntReports, ActView) {
		return nil, nil
	}
	var out []*SavedReport
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+savedReportCols+` FROM saved_reports r LEFT JOIN users u ON u.id = r.owner_id ORDER BY r.name COLLATE NOCASE, r.id LIMIT 1000`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanSavedReport(rows)
			if err != nil {
				return err
			}
			if savedReportVisible(a, r) && a.Can(r.Entity, ActView) {
				out = append(out, r)
			}
		}
		return rows.Err()
	})
	return out, err
}

// DeleteSavedReport removes a saved report; widgets that showed it then
// show that it is gone.
func (s *Store) DeleteSavedReport(ctx context.Context, a *Actor, id int64) error {
	if !a.Can(EntReports, ActView) {
		return errForbidden()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		r, err := getSavedReport(ctx, tx, id)
		if err != nil {
			return err
		}
		if !savedReportVisible(a, r) {
			return errNotFound()
		}
		if !savedReportEditable(a, r) {
			return errForbidden()
		}
		if _, err := execTx(ctx, tx, `DELETE FROM saved_reports WHERE id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "report.delete", "saved_reports", id, map[string]string{"name": r.Name})
	})
}

// RunSavedReport runs a report from the builder (saved or not) under the
// actor's permissions, sorts its rows and fills in how to show each column
// and draw the chart.
func (s *Store) RunSavedReport(ctx context.Context, a *Actor, r *SavedReport, loc *time.Location) (*ReportResult, error) {
	if !a.Can(EntReports, ActView) {
		return nil, errForbidden()
	}
	if err := s.validateSavedReport(a, r, false); err != nil {
		return nil, err
	}
	spec, _ := r.Spec(loc)
	res, err := s.RunReport(ctx, a, spec)
	if err != nil {
		return nil, err
	}
	d := s.def(r.Entity)
	ng := len(r.GroupBy)
	for _, g := range r.GroupBy {
		res.Kinds = append(res.Kinds, s.groupKind(d, g))
	}
	for _, m := range r.Measures {
		res.Kinds = append(res.Kinds, measureKind(d, m))
	}
	if len(res.Rows) == maxReportGroups {
		res.Truncated = true
	}
	if strings.HasSuffix(r.Sort, "value") && ng < len(res.Columns) {
		desc := r.Sort == "-value"
		sort.SliceStable(res.Rows, func(i, j int) bool {
			a, b := numOf(res.Rows[i][ng]), numOf(res.Rows[j][ng])
			if desc {
				return a > b
			}
			return a < b
		})
	} else if r.Sort == "-label" {
		slices.Reverse(res.Rows)
	}
	if r.Chart != "table" && ng > 0 {
		h := &ChartHint{Kind: r.Chart}
		for i := range ng {
			h.Labels = append(h.Labels, i)
		}
		for i := ng; i < len(res.Columns); i++ {
			h.Series = append(h.Series, i)
		}
		if r.Chart == "pie" || r.Chart == "funnel" {
			h.Series = h.Series[:1]
		}
		res.Chart = h
	}
	return res, nil
}

// numOf is a cell as a number for sorting.
func numOf(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// groupKind says how a grouping column reads: an option of a picklist, a
// user's name, a period label or text.
func (s *Store) groupKind(d *EntityDef, g GroupBy) string {
	if g.Field == "owner" {
		return "text"
	}
	if g.Field == "created_at" || g.Field == "updated_at" {
		return "period"
	}
	if ck, ok := strings.CutPrefix(g.Field, "custom."); ok {
		c, _ := d.CustomField(ck)
		switch {
		case c == nil:
			return "text"
		case c.Kind == KDate || c.Kind == KDateTime:
			return "period"
		case c.Kind == KSelect:
			return "option:" + c.OptionList()
		case c.Kind == KBool:
			return "bool"
		}
		return "text"
	}
	f, _ := d.Field(g.Field)
	switch f.Kind {
	case KDate, KDateTime:
		return "period"
	case KSelect:
		return "option:" + f.Picklist
	case KBool:
		return "bool"
	case KRef:
		return "id:" + string(f.Ref)
	}
	return "text"
}

// measureKind says how a measure column reads.
func measureKind(d *EntityDef, m Measure) string {
	if m.Op == "count" {
		return "int"
	}
	kind := KNumber
	if ck, ok := strings.CutPrefix(m.Field, "custom."); ok {
		if c, ok := d.CustomField(ck); ok {
			kind = c.Kind
		}
	} else if f, ok := d.Field(m.Field); ok {
		kind = f.Kind
	}
	if kind == KMoney {
		return "money"
	}
	return "number"
}

// CopyStandardReport returns a builder report equivalent (as far as the
// engine can express it) to a standard report, as a starting point; ok is
// false for reports the engine cannot express.
func CopyStandardReport(key string) (*SavedReport, bool) {
	r := &SavedReport{Sort: "label", Chart: "bar"}
	switch key {
	case "pipeline":
		r.Entity, r.GroupBy = EntOpportunities, []GroupBy{{Field: "stage"}}
		r.Measures = []Measure{{Op: "count"}, {Op: "sum", Field: "amount"}}
		r.Chart = "funnel"
	case "lead_sources":
		r.Entity, r.GroupBy = EntLeads, []GroupBy{{Field: "source"}}
		r.Measures, r.Sort = []Measure{{Op: "count"}}, "-value"
	case "lead_lifecycle":
		r.Entity, r.GroupBy = EntLeads, []GroupBy{{Field: "created_at", Bucket: "month"}, {Field: "status"}}
		r.Measures, r.Chart = []Measure{{Op: "count"}}, "stacked_bar"
	case "account_owners":
		r.Entity, r.GroupBy = EntAccounts, []GroupBy{{Field: "owner"}}
		r.Measures, r.Sort = []Measure{{Op: "count"}}, "-value"
	case "activities":
		r.Entity, r.GroupBy = EntActivities, []GroupBy{{Field: "type"}}
		r.Measures, r.Sort = []Measure{{Op: "count"}}, "-value"
	case "cases":
		r.Entity, r.GroupBy = EntCases, []GroupBy{{Field: "status"}, {Field: "priority"}}
		r.Measures = []Measure{{Op: "count"}}
	case "forecast":
		r.Entity, r.GroupBy = EntOpportunities, []GroupBy{{Field: "forecast_category"}}
		r.Measures, r.Chart = []Measure{{Op: "sum", Field: "amount"}, {Op: "count"}}, "pie"
	default:
		return nil, false
	}
	return r, true
}

// RoleChoice is a role as the sharing form names it.
type RoleChoice struct {
	Key, Name string
}

// ShareableRoles lists the roles a saved report can be shared with; anyone
// who may read reports may share their own, so they see the roles' names
// (never their permissions).
func (s *Store) ShareableRoles(ctx context.Context, a *Actor) ([]RoleChoice, error) {
	if !a.Can(EntReports, ActView) {
		return nil, errForbidden()
	}
	var out []RoleChoice
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT key, name FROM roles ORDER BY builtin DESC, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c RoleChoice
			if err := rows.Scan(&c.Key, &c.Name); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}
