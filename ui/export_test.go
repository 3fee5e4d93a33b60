package ui_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"cartera/importer"
	"cartera/store"
)

// download fetches an export and returns its body.
func (b *browser) download(path string) (int, http.Header, []byte) {
	b.t.Helper()
	resp, err := b.c.Get(b.env.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// testNamer names fields in English only, enough for re-importing an
// English export.
type testNamer struct{ p map[string][]string }

func (n testNamer) FieldNames(e store.Entity, key string) []string { return n.p[key] }
func (n testNamer) OptionNames(list, key string) []string          { return nil }

// TestUI_Export exports a filtered list as CSV, Excel CSV and xlsx,
// neutralises formulas, checks permissions and re-imports the export
// changing nothing.
func TestUI_Export(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	mustSeed000Fields(t, e.st, admin)
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	laura := createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "last_name": {"García"}, "email": {"laura@example.com"}, "phone": {"+34 600 000 001"},
		"custom.contact_preference": {"phone"}, "custom.birth_date": {"1980-05-17"}, "_present_tags": {"1"}, "tags": {"VIP"}})
	createByForm(t, b, "contacts", url.Values{"first_name": {"=HYPERLINK(\"http://x\")"}, "last_name": {"Ferrer"}, "email": {"marc@example.com"}, "custom.contact_preference": {"email"}})

	t.Run("csv with the list's filter", func(t *testing.T) {
		code, h, body := b.download("/contacts/export?format=csv&custom.contact_preference=phone")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") || !bytes.HasPrefix(body, []byte("\ufeff")) {
			t.Fatalf("export: %d %v", code, h)
		}
		text := string(body)
		for _, want := range []string{"First name", "Contact preference", "Date of birth", "García", "Phone", "1980-05-17", "VIP", "anna@example.com", "'+34 600 000 001"} {
			if !strings.Contains(text, want) {
				t.Errorf("export lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "Ferrer") {
			t.Error("filter not applied")
		}
	})
	t.Run("formula neutralised", func(t *testing.T) {
		_, _, body := b.download("/contacts/export?format=csv")
		if !strings.Contains(string(body), `'=HYPERLINK`) {
			t.Errorf("formula not neutralised:\n%s", body)
		}
	})
	t.Run("csv for Excel is Windows-1252 with semicolons", func(t *testing.T) {
		_, _, body := b.download("/contacts/export?format=csv_excel")
		text, err := charmap.Windows1252.NewDecoder().Bytes(body)
		if err != nil || !strings.Contains(string(text), "García;") {
			t.Errorf("excel csv: %v %q", err, text)
		}
	})
	t.Run("xlsx opens and reads back", func(t *testing.T) {
		code, _, body := b.download("/contacts/export?format=xlsx")
		src, err := importer.Open(bytes.NewReader(body), "contacts.xlsx", importer.ReadOptions{})
		if code != 200 || err != nil {
			t.Fatalf("%d %v", code, err)
		}
		defer src.Close()
		n := 0
		for {
			_, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 2 || src.Header[1] != "First name" {
			t.Errorf("rows %d, header %q", n, src.Header)
		}
	})
	t.Run("re-importing an export with update changes nothing", func(t *testing.T) {
		_, _, body := b.download("/contacts/export?format=csv")
		before, _ := e.st.FindRecord(ctx, admin, store.EntContacts, mustInt(t, laura))
		src, err := importer.Open(bytes.NewReader(body), "contacts.csv", importer.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := testNamer{p: map[string][]string{"first_name": {"First name"}, "last_name": {"Last name"}, "email": {"E-mail"}, "phone": {"Phone"}, "owner_id": {"Owner"}, "tags": {"Tags"}}}
		sum, err := importer.Run(ctx, e.st, admin, n, src, importer.Plan{Entity: store.EntContacts, Policy: store.PolicyFill, MatchOn: "email"}, nil)
		if err != nil || sum.Failed != 0 || sum.Created != 0 {
			t.Fatalf("%v %+v %+v", err, sum.Progress, sum.Rows)
		}
		after, _ := e.st.FindRecord(ctx, admin, store.EntContacts, mustInt(t, laura))
		if after.Version != before.Version {
			t.Errorf("version %d → %d", before.Version, after.Version)
		}
	})
	t.Run("vCard round trip", func(t *testing.T) {
		code, h, body := b.download("/contacts/export?format=vcf")
		if code != 200 || h.Get("Content-Type") != "text/vcard; charset=utf-8" || !bytes.Contains(body, []byte("VERSION:4.0")) {
			t.Fatalf("vcf: %d %v\n%s", code, h, body)
		}
		src, err := importer.Open(bytes.NewReader(body), "contacts.vcf", importer.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]string
		for {
			row, err := src.Next()
			if err != nil {
				break
			}
			rows = append(rows, row)
		}
		src.Close()
		found := false
		for _, r := range rows {
			if r[0] == "Laura" && r[1] == "García" && r[2] == "laura@example.com" && r[3] == "+34 600 000 001" && r[7] == "VIP" {
				found = true
			}
		}
		if len(rows) != 2 || !found {
			t.Errorf("vcf rows: %q", rows)
		}
		src, _ = importer.Open(bytes.NewReader(body), "contacts.vcf", importer.ReadOptions{})
		sum, err := importer.Run(ctx, e.st, admin, testNamer{}, src, importer.Plan{Entity: store.EntContacts, Policy: store.PolicySkip, MatchOn: "email"}, nil)
		if err != nil || sum.Skipped != 2 || sum.Created != 0 {
			t.Errorf("re-import: %v %+v", err, sum)
		}
	})
	t.Run("export needs the export permission and is audited", func(t *testing.T) {
		e.mustUser(admin, "sales@example.com", "salesperson")
		sb := e.newBrowser()
		sb.login("sales@example.com", "password-123")
		if code, _, _ := sb.download("/contacts/export?format=csv"); code != http.StatusForbidden {
			t.Errorf("salesperson export: %d", code)
		}
		entries, err := e.st.FindAudit(ctx, admin, store.AuditFilter{Entity: "contacts"})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, en := range entries {
			found = found || en.Action == "export"
		}
		if !found {
			t.Error("no export entry in the audit log")
		}
	})
}

// TestUI_ExportAll downloads the administrator's full export.
func TestUI_ExportAll(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	mustSeed000Fields(t, e.st, admin)
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	createByForm(t, b, "accounts", url.Values{"name": {"Empresa ABC"}})
	createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "custom.contact_preference": {"phone"}})
	code, _, body := b.download("/settings/export")
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if code != 200 || err != nil {
		t.Fatalf("%d %v", code, err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(data)
	}
	for _, name := range []string{"accounts.csv", "contacts.csv", "leads.csv", "opportunities.csv", "activities.csv", "tasks.csv", "cases.csv", "custom_fields.csv"} {
		if _, ok := files[name]; !ok {
			t.Errorf("zip lacks %s", name)
		}
	}
	if !strings.Contains(files["accounts.csv"], "Empresa ABC") || !strings.Contains(files["contacts.csv"], "Laura") || !strings.Contains(files["custom_fields.csv"], "contact_preference") {
		t.Error("zip content incomplete")
	}
	e.mustUser(admin, "sales@example.com", "salesperson")
	sb := e.newBrowser()
	sb.login("sales@example.com", "password-123")
	if code, _, _ := sb.download("/settings/export"); code != http.StatusForbidden {
		t.Errorf("salesperson full export: %d", code)
	}
}
