package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds the engine of custom reports: group the records a list
// filter matches by one or two fields and measure them (count, sum,
// average, minimum, maximum), in SQL and under the viewer's scope, so
// nobody sees numbers built from records they cannot see.

// Date buckets a date or date-time field can be grouped by.
var DateBuckets = []string{"day", "week", "month", "quarter", "year"}

// ReportOps are the measures a report can take.
var ReportOps = []string{"count", "sum", "avg", "min", "max"}

// GroupBy is one grouping of a report: a field key ("stage",
// "custom.contact_preference", "owner", "created_at") and, for dates, a
// bucket.
type GroupBy struct {
	Field  string
	Bucket string
}

// Measure is one column of figures: an operation over a numeric field
// (none for count).
type Measure struct {
	Op    string
	Field string
}

// ReportSpec is a custom report.
type ReportSpec struct {
	Entity   Entity
	Filter   Filter
	GroupBy  []GroupBy
	Measures []Measure
	// Location is the time zone dates are bucketed in (default UTC).
	Location *time.Location
}

// ReportResult is a report's table: one row per group, group values first
// (option keys, user names, bucket labels such as "2026-11" or "2026-Q4"),
// then the measures.
type ReportResult struct {
	Columns []string
	Rows    [][]any
	// The fields below are set by standard reports (standard_reports.go).
	// Kinds says how to show each column: text, id, user, option:LIST,
	// int, money, percent, number, date, bool or period.
	Kinds []string
	// Totals is a row of totals under the rows, or nil.
	Totals []any
	// Chart suggests how to draw the rows; nil means a table only.
	Chart *ChartHint
	// Key is the standard report's key; From and To the period it covered
	// ([From, To), zero for a snapshot of now).
	Key      string
	From, To time.Time
	// Truncated says the rows stop at the report's row limit.
	Truncated bool
}

// maxReportGroups bounds a report's rows.
const maxReportGroups = 1000

// RunReport runs a custom report under the actor's permissions.
func (s *Store) RunReport(ctx context.Context, a *Actor, spec ReportSpec) (*ReportResult, error) {
	d := s.def(spec.Entity)
	if d == nil {
		return nil, errNotFound()
	}
	if !a.Can(spec.Entity, ActView) {
		return nil, errForbidden()
	}
	fe := fieldErrors{}
	if len(spec.GroupBy) > 2 {
		fe.add("group", "error.too_many_groups")
	}
	if len(spec.Measures) == 0 {
		spec.Measures = []Measure{{Op: "count"}}
	}
	loc := spec.Location
	if loc == nil {
		loc = time.UTC
	}
	_, offset := time.Now().In(loc).Zone()
	shift := strconv.Itoa(offset) + " seconds"
	res := &ReportResult{}
	var selects, groups []string
	join := ""
	for i, g := range spec.GroupBy {
		expr, err := s.groupExpr(d, g, shift)
		if err != "" {
			fe.add("group."+strconv.Itoa(i), err)
			continue
		}
		if g.Field == "owner" {
			join = " LEFT JOIN users u ON u.id = t.owner_id"
		}
		selects = append(selects, expr)
		groups = append(groups, strconv.Itoa(len(selects)))
		res.Columns = append(res.Columns, g.Field)
	}
	for i, m := range spec.Measures {
		expr, err := measureExpr(d, m)
		if err != "" {
			fe.add("measure."+strconv.Itoa(i), err)
			continue
		}
		selects = append(selects, expr)
		col := m.Op
		if m.Field != "" {
			col += ":" + m.Field
		}
		res.Columns = append(res.Columns, col)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	where, args, err := s.filterSQL(a, d, spec.Filter, ActView)
	if err != nil {
		return nil, err
	}
	q := "SELECT " + strings.Join(selects, ", ") + " FROM " + d.Table + " t" + join + " WHERE " + where
	if len(groups) > 0 {
		q += " GROUP BY " + strings.Join(groups, ", ") + " ORDER BY " + strings.Join(groups, ", ")
	}
	q += " LIMIT " + strconv.Itoa(maxReportGroups)
	err = s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			vals := make([]any, len(selects))
			ptrs := make([]any, len(selects))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			res.Rows = append(res.Rows, vals)
		}
		return rows.Err()
	})
	return res, err
}

// groupExpr is the SQL of a grouping, or the key of its problem.
func (s *Store) groupExpr(d *EntityDef, g GroupBy, shift string) (string, string) {
	bucket := func(dayExpr string) (string, string) {
		switch g.Bucket {
		case "day":
			return dayExpr, ""
		case "week":
			return "strftime('%Y-W%W', " + dayExpr + ")", ""
		case "month", "":
			return "substr(" + dayExpr + ", 1, 7)", ""
		case "quarter":
			return "substr(" + dayExpr + ", 1, 4) || '-Q' || ((CAST(substr(" + dayExpr + ", 6, 2) AS INTEGER) + 2) / 3)", ""
		case "year":
			return "substr(" + dayExpr + ", 1, 4)", ""
		}
		return "", "error.option"
	}
	msDay := func(col string) string {
		return "date(" + col + " / 1000, 'unixepoch', '" + shift + "')"
	}
	switch g.Field {
	case "owner":
		return "COALESCE(u.name, '')", ""
	case "created_at", "updated_at":
		return bucket(msDay("t." + g.Field))
	}
	if ck, ok := strings.CutPrefix(g.Field, "custom."); ok {
		c, ok := d.CustomField(ck)
		if !ok || c.Kind == KMulti || c.Kind == KLongText {
			return "", "error.unknown_field"
		}
		switch c.Kind {
		case KDate:
			return bucket(customExpr(c.Key))
		case KDateTime:
			return bucket("date(" + customExpr(c.Key) + ", '" + shift + "')")
		}
		return customExpr(c.Key), ""
	}
	f, ok := d.Field(g.Field)
	if !ok || f.Kind == KLongText || f.Hidden {
		return "", "error.unknown_field"
	}
	switch f.Kind {
	case KDate:
		return bucket("NULLIF(t." + f.column() + ", '')")
	case KDateTime:
		return bucket(msDay("NULLIF(t." + f.column() + ", 0)"))
	}
	return "t." + f.column(), ""
}

// measureExpr is the SQL of a measure, or the key of its problem.
func measureExpr(d *EntityDef, m Measure) (string, string) {
	if !slices.Contains(ReportOps, m.Op) {
		return "", "error.option"
	}
	if m.Op == "count" {
		return "count(*)", ""
	}
	var expr string
	if ck, ok := strings.CutPrefix(m.Field, "custom."); ok {
		c, ok := d.CustomField(ck)
		if !ok || (c.Kind != KNumber && c.Kind != KMoney) {
			return "", "error.not_numeric"
		}
		expr = customExpr(c.Key)
	} else {
		f, ok := d.Field(m.Field)
		if !ok || (f.Kind != KNumber && f.Kind != KMoney) {
			return "", "error.not_numeric"
		}
		expr = "t." + f.column()
		if f.Kind == KMoney {
			expr += " / 100.0"
		}
	}
	return m.Op + "(" + expr + ")", ""
}
