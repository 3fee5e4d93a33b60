package ui

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cartera/store"
)

// apiReportCustom runs a custom report: GET /api/v1/reports/custom?entity=
// opportunities&group=stage,owner&bucket=month&measure=count,sum:amount
// plus any list filter (stage=…, custom.KEY=…, tag=…, owner_id=…, q=…).
// It answers {"columns":[…],"rows":[[…],…]}, or CSV with format=csv.
func (s *Server) apiReportCustom(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	q := r.URL.Query()
	e := store.Entity(q.Get("entity"))
	if s.st.Schema().Def(e) == nil {
		s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"entity": "error.option"}})
		return
	}
	spec := store.ReportSpec{Entity: e, Location: reqCtxOf(r).tr.Location()}
	if c := reqCtxOf(r).company; c != nil {
		spec.Location = loadLocation(c.Timezone)
	}
	for _, g := range commaList(q.Get("group")) {
		spec.GroupBy = append(spec.GroupBy, store.GroupBy{Field: g, Bucket: q.Get("bucket")})
	}
	for _, m := range commaList(q.Get("measure")) {
		op, field, _ := strings.Cut(m, ":")
		spec.Measures = append(spec.Measures, store.Measure{Op: op, Field: field})
	}
	rest := url.Values{}
	for k, v := range q {
		switch k {
		case "entity", "group", "bucket", "measure", "format":
		default:
			rest[k] = v
		}
	}
	f, err := filterFromQuery(e, rest)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	spec.Filter = f
	res, err := s.st.RunReport(r.Context(), a, spec)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="report-`+string(e)+`.csv"`)
		w.Write([]byte("\ufeff"))
		cw := csv.NewWriter(w)
		cw.Write(res.Columns)
		for _, row := range res.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				if v != nil {
					cells[i] = neutralise(fmt.Sprint(v))
				}
			}
			cw.Write(cells)
		}
		cw.Flush()
		return
	}
	rows := res.Rows
	if rows == nil {
		rows = [][]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"columns": res.Columns, "rows": rows})
}

// commaList reads a comma-separated query value.
func commaList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// apiOutbox lists the outbox for administrators:
// GET /api/v1/outbox[?status=pending|sending|sent|failed|cancelled].
func (s *Server) apiOutbox(w http.ResponseWriter, r *http.Request) {
	f := store.OutboxFilter{Status: store.OutboxStatus(r.URL.Query().Get("status")), Limit: 200}
	msgs, err := s.st.FindOutbox(r.Context(), reqCtxOf(r).actor, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(msgs))
	for _, m := range msgs {
		item := map[string]any{"id": itoa(m.ID), "message_id": m.MessageID, "to": m.To, "subject": m.Subject, "status": m.Status,
			"attempts": m.Attempts, "last_error": m.LastError, "created_at": m.CreatedAt.Format(time.RFC3339)}
		if !m.SentAt.IsZero() {
			item["sent_at"] = m.SentAt.Format(time.RFC3339)
		}
		if m.RecordID != 0 {
			item["entity"], item["record_id"] = m.Entity, itoa(m.RecordID)
		}
		out = append(out, item)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}
