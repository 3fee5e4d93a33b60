package ui

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"

	"cartera/dav"
	"cartera/store"
)

// Export formats of a list.
const (
	exportCSV      = "csv"       // UTF-8 with a byte-order mark, comma-separated
	exportCSVExcel = "csv_excel" // Windows-1252, semicolon-separated: what Excel in ca/es opens directly
	exportXLSX     = "xlsx"
	exportVCard    = "vcf" // contacts only: vCard 4.0
)

// exportColumn is one column of an export: a header in the reader's
// language (so a re-import maps it back) and how to get its cell.
type exportColumn struct {
	header string
	cell   func(r *store.Record) string
}

// neutralise keeps a cell from being read as a formula by a spreadsheet
// (formula injection): a leading = + - @ tab or carriage return gets a
// quote before it. The importer takes that quote off again.
func neutralise(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportColumns lists the columns of a record type's export: id, the
// visible standard fields, owner (by e-mail), tags, custom fields, and the
// creation and change times.
func (s *Server) exportColumns(p *page, e store.Entity, emails map[int64]string) []exportColumn {
	d := p.def(e)
	// Option names repeat on every row: translate each once.
	names := map[string]string{}
	ex := &exporter{p: p, name: func(list, key string) string {
		k := list + "\x00" + key
		if v, ok := names[k]; ok {
			return v
		}
		v := p.OptName(list, key)
		names[k] = v
		return v
	}}
	cols := []exportColumn{{header: "id", cell: func(r *store.Record) string { return itoa(r.ID) }}}
	for _, f := range d.Fields {
		if f.Hidden {
			continue
		}
		f := f
		cols = append(cols, exportColumn{header: p.FieldName(e, f.Key), cell: func(r *store.Record) string { return ex.value(r, f) }})
	}
	cols = append(cols, exportColumn{header: p.FieldName(e, d.OwnerKey), cell: func(r *store.Record) string { return emails[r.OwnerID] }})
	if d.Tagged {
		cols = append(cols, exportColumn{header: p.T("field.tags"), cell: func(r *store.Record) string { return strings.Join(r.Tags, "; ") }})
	}
	for _, c := range d.Custom {
		c := c
		cols = append(cols, exportColumn{header: p.CustomName(c), cell: func(r *store.Record) string { return ex.custom(r, c) }})
	}
	cols = append(cols,
		exportColumn{header: p.T("export.created_at"), cell: func(r *store.Record) string { return r.CreatedAt.UTC().Format(time.RFC3339) }},
		exportColumn{header: p.T("export.updated_at"), cell: func(r *store.Record) string { return r.UpdatedAt.UTC().Format(time.RFC3339) }})
	return cols
}

// exporter formats cells for one export.
type exporter struct {
	p    *page
	name func(list, key string) string
}

// value is a standard field's cell: option labels in the reader's
// language, linked records by title, dates ISO, times RFC 3339, numbers
// with a decimal point.
func (x *exporter) value(r *store.Record, f store.Field) string {
	p := x.p
	v := r.Values[f.Key]
	switch f.Kind {
	case store.KSelect:
		s, _ := v.(string)
		list := f.Picklist
		if f.Key == "stage" && r.Entity == store.EntOpportunities {
			list = store.StageList(r.Str("pipeline"))
		}
		if s == "" {
			return ""
		}
		return x.name(list, s)
	case store.KRef:
		if id, _ := v.(int64); id != 0 {
			return r.Refs[f.Key]
		}
		return ""
	case store.KDateTime:
		if t, _ := v.(time.Time); !t.IsZero() {
			return t.UTC().Format(time.RFC3339)
		}
		return ""
	case store.KMoney:
		n, _ := v.(float64)
		return strconv.FormatFloat(n, 'f', 2, 64)
	case store.KNumber:
		n, _ := v.(int64)
		return strconv.FormatInt(n, 10)
	case store.KBool:
		if b, _ := v.(bool); b {
			return p.T("common.yes")
		}
		return p.T("common.no")
	}
	s, _ := v.(string)
	return s
}

// custom is a custom field's cell.
func (x *exporter) custom(r *store.Record, c *store.CustomField) string {
	p := x.p
	v, ok := r.Custom[c.Key]
	if !ok || v == nil {
		return ""
	}
	switch val := v.(type) {
	case string:
		if c.Kind == store.KSelect {
			return x.name(c.OptionList(), val)
		}
		return val
	case []string:
		names := make([]string, len(val))
		for i, k := range val {
			names[i] = x.name(c.OptionList(), k)
		}
		return strings.Join(names, "; ")
	case bool:
		if val {
			return p.T("common.yes")
		}
		return p.T("common.no")
	case float64:
		return strconv.FormatFloat(val, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(val, 10)
	}
	return fmt.Sprint(v)
}

// recordExport streams a list, with the list's filters and order, as CSV
// or an Excel workbook.
func (s *Server) recordExport(w http.ResponseWriter, r *http.Request) {
	e, d := s.pageEntity(r)
	a := reqCtxOf(r).actor
	if !a.Can(e, store.ActExport) {
		s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	p := s.newPage(r, "")
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = exportCSV
	}
	if format != exportCSV && format != exportCSVExcel && format != exportXLSX && (format != exportVCard || e != store.EntContacts) {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f, _ := listFilter(d, q, p.Tr.Location())
	users, err := s.st.FindUsers(r.Context(), a, store.UserFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	emails := map[int64]string{}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	cols := s.exportColumns(p, e, emails)
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.header
	}
	name := string(e) + "-" + time.Now().In(p.Tr.Location()).Format("2006-01-02")
	// Check the filter and the permission before the first byte: once
	// streaming starts, an error can only cut the file short.
	if _, _, err := s.st.FindRecords(r.Context(), a, e, store.Filter{Q: f.Q, Tags: f.Tags, OwnerID: f.OwnerID, Eq: f.Eq, Limit: 1}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	switch format {
	case exportVCard:
		w.Header().Set("Content-Type", "text/vcard; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.vcf"`)
		bw := bufio.NewWriterSize(w, 64<<10)
		enc := vcard.NewEncoder(bw)
		_, err = s.st.ExportRecords(r.Context(), a, e, f, func(recs []*store.Record) error {
			for _, rec := range recs {
				if err := enc.Encode(contactCard(rec)); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			err = bw.Flush()
		}
	case exportXLSX:
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		err = s.exportXLSX(r, w, a, e, f, header, cols)
	default:
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		var out io.Writer = w
		comma := ','
		if format == exportCSVExcel {
			w.Header().Set("Content-Type", "text/csv; charset=windows-1252")
			tw := transform.NewWriter(w, encoding.ReplaceUnsupported(charmap.Windows1252.NewEncoder()))
			defer tw.Close()
			out, comma = tw, ';'
		} else {
			w.Write([]byte("\ufeff"))
		}
		bw := bufio.NewWriterSize(out, 64<<10)
		cw := csv.NewWriter(bw)
		cw.Comma = comma
		cw.UseCRLF = format == exportCSVExcel
		cw.Write(header)
		row := make([]string, len(cols))
		_, err = s.st.ExportRecords(r.Context(), a, e, f, func(recs []*store.Record) error {
			for _, rec := range recs {
				for i, c := range cols {
					row[i] = neutralise(c.cell(rec))
				}
				if err := cw.Write(row); err != nil {
					return err
				}
			}
			cw.Flush()
			return cw.Error()
		})
		if err == nil {
			err = bw.Flush()
		}
	}
	if err != nil {
		s.log.Error("export cut short", "entity", e, "err", err)
	}
}

// contactCard is a contact as a vCard 4.0, mapped as the CardDAV server
// maps it (dav.ContactCard), so an exported file and a synced phone agree.
func contactCard(r *store.Record) vcard.Card {
	return dav.ContactCard(r, nil, "", "4.0")
}

// exportXLSX writes the export as a workbook through excelize's stream
// writer, which keeps rows on disk rather than in memory.
func (s *Server) exportXLSX(r *http.Request, w io.Writer, a *store.Actor, e store.Entity, f store.Filter, header []string, cols []exportColumn) error {
	x := excelize.NewFile()
	defer x.Close()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = h
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	n := 1
	_, err = s.st.ExportRecords(r.Context(), a, e, f, func(recs []*store.Record) error {
		for _, rec := range recs {
			n++
			row := make([]any, len(cols))
			for i, c := range cols {
				row[i] = neutralise(c.cell(rec))
			}
			cell, _ := excelize.CoordinatesToCellName(1, n)
			if err := sw.SetRow(cell, row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return x.Write(w)
}

// exportAll streams a zip with one CSV per record type and the custom
// field definitions, so a firm can always leave with all its data.
func (s *Server) exportAll(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	p := s.newPage(r, "")
	users, err := s.st.FindUsers(r.Context(), a, store.UserFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	emails := map[int64]string{}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	name := "cartera-" + time.Now().In(p.Tr.Location()).Format("2006-01-02")
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	zw := zip.NewWriter(w)
	for _, e := range store.RecordEntities {
		if !a.Can(e, store.ActExport) {
			continue
		}
		fw, err := zw.Create(string(e) + ".csv")
		if err != nil {
			s.log.Error("export all", "err", err)
			return
		}
		fw.Write([]byte("\ufeff"))
		cw := csv.NewWriter(fw)
		cols := s.exportColumns(p, e, emails)
		header := make([]string, len(cols))
		for i, c := range cols {
			header[i] = c.header
		}
		cw.Write(header)
		row := make([]string, len(cols))
		_, err = s.st.ExportRecords(r.Context(), a, e, store.Filter{}, func(recs []*store.Record) error {
			for _, rec := range recs {
				for i, c := range cols {
					row[i] = neutralise(c.cell(rec))
				}
				cw.Write(row)
			}
			cw.Flush()
			return cw.Error()
		})
		if err != nil {
			s.log.Error("export all cut short", "entity", e, "err", err)
			return
		}
	}
	fw, err := zw.Create("custom_fields.csv")
	if err == nil {
		fw.Write([]byte("\ufeff"))
		cw := csv.NewWriter(fw)
		cw.Write([]string{"entity", "key", "type", "label_ca", "label_es", "label_en", "required", "unique", "removed", "options"})
		sc := s.st.Schema()
		for _, e := range store.CustomEntities {
			for _, c := range sc.CustomFields(e, true) {
				var opts []string
				for _, o := range c.Options {
					opts = append(opts, o.Key+"="+o.Labels.In(p.Tr.Lang()))
				}
				cw.Write([]string{string(e), c.Key, string(c.Kind), c.Labels["ca"], c.Labels["es"], c.Labels["en"],
					strconv.FormatBool(c.Required), strconv.FormatBool(c.Unique), strconv.FormatBool(c.Removed), strings.Join(opts, "; ")})
			}
		}
		cw.Flush()
	}
	if err := zw.Close(); err != nil {
		s.log.Error("export all", "err", err)
	}
}
