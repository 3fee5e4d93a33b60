package ui_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cartera/store"
	"cartera/ui"
)

// upload posts a file to the import wizard and returns the response.
func (b *browser) upload(path, entity, name string, content []byte) *http.Response {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("entity", entity)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.env.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.env.srv.URL)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

var importPath = regexp.MustCompile(`^/import/(\d+)$`)

// TestUI_ImportWizard runs seed 000's CSV through the wizard: upload,
// automatic mapping, dry run, import, the failures file, and undo.
func TestUI_ImportWizard(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	mustSeed000Fields(t, e.st, admin)
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	csv := []byte("Nom,Cognoms,Correu electrònic,Telèfon,Data de naixement,Preferències de contacte\n" +
		"Joan,Pérez,joan@example.com,123456789,1980-01-01,Correu electrònic\n" +
		"Maria,García,maria@example.com,987654321,15/05/1990,Telèfon\n" +
		"Pere,Puig,pere@,555,1990-01-01,Telèfon\n")

	resp := b.upload("/import", "contacts", "clients.csv", csv)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/import/staged/") {
		t.Fatalf("upload: %d %q", resp.StatusCode, loc)
	}
	code, body := b.get(loc)
	if code != 200 {
		t.Fatalf("mapping page: %d", code)
	}
	for i, want := range []string{"first_name", "last_name", "email", "phone", "custom.birth_date", "custom.contact_preference"} {
		if !regexp.MustCompile(`name="col_` + string(rune('0'+i)) + `">(?s:.*?)<option value="` + regexp.QuoteMeta(want) + `" selected>`).MatchString(body) {
			t.Errorf("column %d not mapped to %s", i, want)
		}
	}
	form := url.Values{"col_0": {"first_name"}, "col_1": {"last_name"}, "col_2": {"email"}, "col_3": {"phone"}, "col_4": {"custom.birth_date"}, "col_5": {"custom.contact_preference"},
		"match": {"email"}, "on_duplicate": {"skip"}}
	waitDone := func(path string) string {
		t.Helper()
		for i := 0; i < 100; i++ {
			_, body := b.get(path)
			if !strings.Contains(body, `hx-trigger="every 1s"`) {
				return body
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("import did not finish")
		return ""
	}
	t.Run("dry run", func(t *testing.T) {
		dry := url.Values{"dry_run": {"1"}}
		for k, v := range form {
			dry[k] = v
		}
		resp := b.post(loc, dry)
		if resp.StatusCode != http.StatusSeeOther || !importPath.MatchString(resp.Header.Get("Location")) {
			t.Fatalf("dry run: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		body := waitDone(resp.Header.Get("Location"))
		if !strings.Contains(body, "Dry run") || !strings.Contains(body, "Line 4") || !strings.Contains(body, "E-mail: ") {
			t.Errorf("dry run report:\n%s", body)
		}
		if n, _ := e.st.CountRecords(ctx, admin, store.EntContacts, store.Filter{}); n != 0 {
			t.Errorf("contacts after a dry run: %d", n)
		}
	})
	var statusPath string
	t.Run("import skipping the invalid row, then the failures file", func(t *testing.T) {
		run := url.Values{"skip_invalid": {"1"}}
		for k, v := range form {
			run[k] = v
		}
		resp := b.post(loc, run)
		statusPath = resp.Header.Get("Location")
		body := waitDone(statusPath)
		if !strings.Contains(body, "2 created, 0 updated, 0 skipped, 1 failed") {
			t.Errorf("report:\n%s", body)
		}
		recs, _, _ := e.st.FindRecords(ctx, admin, store.EntContacts, store.Filter{Eq: map[string]string{"custom.contact_preference": "phone"}})
		if len(recs) != 1 || recs[0].Custom["birth_date"] != "1990-05-15" {
			t.Errorf("Maria: %+v", recs)
		}
		code, _, failures := b.download(statusPath + "/errors.csv")
		if code != 200 || !strings.Contains(string(failures), "Pere,Puig,pere@") || !strings.Contains(string(failures), "E-mail: ") {
			t.Errorf("failures file: %d\n%s", code, failures)
		}
	})
	t.Run("undo", func(t *testing.T) {
		resp := b.post(statusPath+"/undo", url.Values{})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("undo: %d", resp.StatusCode)
		}
		if n, _ := e.st.CountRecords(ctx, admin, store.EntContacts, store.Filter{}); n != 0 {
			t.Errorf("contacts after undo: %d", n)
		}
		_, body := b.get("/import")
		if !strings.Contains(body, "Undone") {
			t.Error("history does not show the undone import")
		}
	})
	t.Run("the same columns map as last time", func(t *testing.T) {
		changed := []byte("Nom,Cognoms,Correu electrònic,Telèfon,Data de naixement,Preferències de contacte\nJoan,Pérez,joan@example.com,1,1980-01-01,Telèfon\n")
		resp := b.upload("/import", "contacts", "next-month.csv", changed)
		_, body := b.get(resp.Header.Get("Location"))
		if !strings.Contains(body, "mapped as in your import of clients.csv") {
			t.Error("remembered mapping not offered")
		}
	})
	t.Run("a column becomes a new custom field", func(t *testing.T) {
		file := []byte("Nom,Correu electrònic,Color preferit\nRoser,roser@example.com,Blau\n")
		resp := b.upload("/import", "contacts", "colors.csv", file)
		loc := resp.Header.Get("Location")
		resp = b.post(loc, url.Values{"col_0": {"first_name"}, "col_1": {"email"}, "col_2": {"+new_field"}, "match": {"email"}, "on_duplicate": {"skip"}})
		waitDone(resp.Header.Get("Location"))
		c, ok := e.st.Schema().CustomField(store.EntContacts, "color_preferit")
		if !ok || c.Labels["en"] != "Color preferit" {
			t.Fatalf("field: %v %+v", ok, c)
		}
		recs, _, _ := e.st.FindRecords(ctx, admin, store.EntContacts, store.Filter{Q: "roser@example.com"})
		if len(recs) != 1 || recs[0].Custom["color_preferit"] != "Blau" {
			t.Errorf("value: %+v", recs)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		resp := b.upload("/import", "contacts", "old.xls", []byte("not excel"))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf(".xls: %d", resp.StatusCode)
		}
		resp = b.upload("/import", "contacts", "empty.csv", nil)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("empty file: %d", resp.StatusCode)
		}
		e.mustUser(admin, "sales@example.com", "salesperson")
		sb := e.newBrowser()
		sb.login("sales@example.com", "password-123")
		if resp := sb.upload("/import", "contacts", "clients.csv", csv); resp.StatusCode != http.StatusForbidden {
			t.Errorf("salesperson upload: %d", resp.StatusCode)
		}
	})
}

// TestUI_ImportUploadLimit refuses a file over the configured limit
// before storing anything.
func TestUI_ImportUploadLimit(t *testing.T) {
	e := mustServer(t, func(o *ui.Options) { o.MaxUpload = 1 << 10 })
	e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	big := bytes.Repeat([]byte("Nom,Correu\nJoan,joan@example.com\n"), 200)
	resp := b.upload("/import", "contacts", "big.csv", big)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("big upload: %d", resp.StatusCode)
	}
}

// TestAPI_Imports starts an import over the API, follows it and undoes it.
func TestAPI_Imports(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "test")
	if err != nil {
		t.Fatal(err)
	}
	post := func(fields map[string]string, file []byte) (int, map[string]any) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		if file != nil {
			fw, _ := mw.CreateFormFile("file", "contacts.csv")
			fw.Write(file)
		}
		mw.Close()
		return e.apiContent("POST", "/api/v1/imports", tok, mw.FormDataContentType(), &buf)
	}
	csv := []byte("first_name,email\nAnna,anna.serra@example.com\nBiel,biel@example.com\n")
	code, got := post(map[string]string{"entity": "contacts", "mapping": `["first_name","email"]`}, csv)
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, got)
	}
	id := got["id"].(string)
	for i := 0; i < 100 && got["status"] == "running"; i++ {
		time.Sleep(20 * time.Millisecond)
		_, got = e.api("GET", "/api/v1/imports/"+id, tok, nil)
	}
	if got["status"] != "done" || got["created"].(float64) != 2 {
		t.Fatalf("status: %v", got)
	}
	code, got = e.api("POST", "/api/v1/imports/"+id+"/undo", tok, nil)
	if code != 200 || got["removed"].(float64) != 2 {
		t.Fatalf("undo: %d %v", code, got)
	}
	t.Run("bad requests", func(t *testing.T) {
		if code, _ := post(map[string]string{"entity": "contacts"}, nil); code != http.StatusUnprocessableEntity {
			t.Errorf("no file: %d", code)
		}
		if code, _ := post(map[string]string{"entity": "widgets"}, csv); code != http.StatusUnprocessableEntity {
			t.Errorf("bad entity: %d", code)
		}
		if code, _ := post(map[string]string{"entity": "contacts", "mapping": `["first_name"]`}, csv); code != http.StatusUnprocessableEntity {
			t.Errorf("short mapping: %d", code)
		}
		if code, _ := post(map[string]string{"entity": "contacts", "on_duplicate": "explode"}, csv); code != http.StatusUnprocessableEntity {
			t.Errorf("bad policy: %d", code)
		}
	})
}

// TestAPI_ImportLargerThanAnAPIBody accepts an upload bigger than the 1 MB
// limit of other API requests.
func TestAPI_ImportLargerThanAnAPIBody(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	tok, _, _ := e.st.CreateToken(context.Background(), admin, admin.UserID, "test")
	var csv bytes.Buffer
	csv.WriteString("first_name,email,notes\n")
	for i := 0; csv.Len() < 2<<20; i++ {
		csv.WriteString("Nom,n" + strconv.Itoa(i) + "@example.com," + strings.Repeat("x", 200) + "\n")
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("entity", "contacts")
	fw, _ := mw.CreateFormFile("file", "big.csv")
	fw.Write(csv.Bytes())
	mw.Close()
	if code, got := e.apiContent("POST", "/api/v1/imports", tok, mw.FormDataContentType(), &buf); code != http.StatusAccepted {
		t.Fatalf("2 MB import: %d %v", code, got)
	}
}

// TestUI_ImportRowLimit refuses a file with more rows than allowed at
// upload, before anything is stored.
func TestUI_ImportRowLimit(t *testing.T) {
	e := mustServer(t, func(o *ui.Options) { o.MaxImportRows = 2 })
	e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	if resp := b.upload("/import", "contacts", "three.csv", []byte("Nom\nA\nB\nC\n")); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("3 rows over a limit of 2: %d", resp.StatusCode)
	}
	if resp := b.upload("/import", "contacts", "two.csv", []byte("Nom\nA\nB\n")); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("2 rows: %d", resp.StatusCode)
	}
}
