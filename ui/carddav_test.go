package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"cartera/store"
)

// vdirsyncerConfig is a vdirsyncer configuration pairing a folder of .vcf
// files with the CardDAV server, discovered from the server's root.
const vdirsyncerConfig = `[general]
status_path = "%[5]s/status/"

[pair crm]
a = "phone"
b = "cartera"
collections = ["from b"]
conflict_resolution = "b wins"

[storage phone]
type = "filesystem"
path = "%[5]s/contacts/"
fileext = ".vcf"

[storage cartera]
type = "carddav"
url = "%[2]s/"
username = "%[3]s"
password = "%[4]s"
`

// localCards reads every .vcf file vdirsyncer wrote, by UID.
func localCards(t *testing.T, dir string) map[string]struct {
	path string
	card vcard.Card
} {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.vcf"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]struct {
		path string
		card vcard.Card
	}{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := vcard.NewDecoder(bytes.NewReader(b)).Decode()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		uid := c.Value(vcard.FieldUID)
		if _, dup := out[uid]; dup {
			t.Fatalf("two local files hold UID %s", uid)
		}
		out[uid] = struct {
			path string
			card vcard.Card
		}{f, c}
	}
	if len(out) != len(files) {
		t.Fatalf("%d files but %d UIDs", len(files), len(out))
	}
	return out
}

// TestCardDAV_Vdirsyncer syncs 5,000 contacts with the real vdirsyncer:
// discovery from the server root, a full first sync, an edit on each side,
// a contact created and one deleted on the "phone", and repeated syncs with
// no duplicates and no loss on either side.
func TestCardDAV_Vdirsyncer(t *testing.T) {
	bin := mustVdirsyncer(t)
	env := mustServer(t)
	admin := env.mustSetupAdmin()
	ctx := context.Background()
	const n = 5000
	var accountID int64
	err := env.st.Load(ctx, admin, store.LoadOptions{}, func(l *store.Loader) error {
		var err error
		accountID, err = l.Create(store.EntAccounts, store.Input{Values: map[string]any{"name": "Ferreteria Puig", "address": "Carrer Major 1", "city": "Girona", "postal_code": "17001", "country": "Spain"}})
		if err != nil {
			return err
		}
		for i := range n {
			v := map[string]any{"first_name": fmt.Sprintf("Nom%04d", i), "last_name": "Garcia", "email": fmt.Sprintf("c%04d@example.com", i), "mobile": "+34 600 000 000", "title": "Comprador"}
			if i%10 == 0 {
				v["account_id"] = accountID
			}
			if _, err := l.Create(store.EntContacts, store.Input{Values: v}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	token := env.mustToken(admin)
	conf := filepath.Join(t.TempDir(), "config")
	dir := syncDir(t)
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(vdirsyncerConfig, "", env.srv.URL, admin.Email, token, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, append([]string{"-c", conf}, args...)...)
		cmd.Stdin = strings.NewReader(strings.Repeat("y\n", 5))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("vdirsyncer %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	countCRM := func() int64 {
		t.Helper()
		c, err := env.st.CountRecords(ctx, admin, store.EntContacts, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	book := filepath.Join(dir, "contacts", "cartera")

	start := time.Now()
	run("discover")
	run("sync")
	t.Logf("discover and first sync of %d contacts: %s", n, time.Since(start))
	cards := localCards(t, book)
	if len(cards) != n {
		t.Fatalf("first sync: %d cards on the phone, want %d", len(cards), n)
	}
	withOrg := cards["urn:cartera:contact:1"]
	if withOrg.card.Value(vcard.FieldOrganization) != "Ferreteria Puig" || withOrg.card.Address() == nil || withOrg.card.Address().Locality != "Girona" {
		t.Fatalf("contact 1's card lacks its client's name or address:\n%v", withOrg.card)
	}

	// An edit on each side.
	phoneEdit := cards["urn:cartera:contact:2"]
	b, _ := os.ReadFile(phoneEdit.path)
	if !bytes.Contains(b, []byte("TITLE:Comprador")) {
		t.Fatalf("card 2 has no title line:\n%s", b)
	}
	if err := os.WriteFile(phoneEdit.path, bytes.Replace(b, []byte("TITLE:Comprador"), []byte("TITLE:Directora de compres"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	crmEdit, err := env.st.FindRecord(ctx, admin, store.EntContacts, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.st.UpdateRecord(ctx, admin, store.EntContacts, 3, store.Input{Values: map[string]any{"email": "nova@example.com"}, Version: crmEdit.Version}); err != nil {
		t.Fatal(err)
	}
	// A contact created on the phone, and one deleted there.
	newCard := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:phone-made-1\r\nFN:Marta Vidal\r\nN:Vidal;Marta;;;\r\nEMAIL;TYPE=INTERNET:marta@example.com\r\nTEL;TYPE=CELL:+34 611 111 111\r\nEND:VCARD\r\n"
	if err := os.WriteFile(filepath.Join(book, "phone-made-1.vcf"), []byte(newCard), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(cards["urn:cartera:contact:4"].path); err != nil {
		t.Fatal(err)
	}

	start = time.Now()
	run("sync")
	t.Logf("second sync: %s", time.Since(start))
	got, err := env.st.FindRecord(ctx, admin, store.EntContacts, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Str("title") != "Directora de compres" || got.Str("email") != "c0001@example.com" {
		t.Fatalf("phone edit not in the CRM: title %q email %q", got.Str("title"), got.Str("email"))
	}
	if countCRM() != n+1 {
		t.Fatalf("CRM holds %d contacts, want %d (the phone's new one added, none deleted)", countCRM(), n+1)
	}
	if recs, _, err := env.st.FindRecords(ctx, admin, store.EntContacts, store.Filter{Q: "marta@example.com"}); err != nil || len(recs) != 1 || recs[0].Str("mobile") != "+34 611 111 111" {
		t.Fatalf("the phone's new contact: %v %v", recs, err)
	}
	if _, err := env.st.FindRecord(ctx, admin, store.EntContacts, 4); err != nil {
		t.Fatalf("deleting on the phone deleted the CRM contact: %v", err)
	}

	run("sync")
	cards = localCards(t, book)
	if len(cards) != n { // 5,000 − 1 removed from the address book + 1 new
		t.Fatalf("after the third sync the phone holds %d cards, want %d", len(cards), n)
	}
	if _, ok := cards["urn:cartera:contact:4"]; ok {
		t.Fatal("the contact deleted on the phone came back")
	}
	if c := cards["urn:cartera:contact:3"].card; c.PreferredValue(vcard.FieldEmail) != "nova@example.com" {
		t.Fatalf("CRM edit not on the phone: %v", c[vcard.FieldEmail])
	}
	if c := cards["urn:cartera:contact:2"].card; c.Value(vcard.FieldTitle) != "Directora de compres" {
		t.Fatalf("phone edit lost on the phone: %v", c.Value(vcard.FieldTitle))
	}
	if c, ok := cards["phone-made-1"]; !ok || c.card.Name().GivenName != "Marta" {
		t.Fatalf("the phone's new contact is missing or changed: %v", c.card)
	}
	if countCRM() != n+1 {
		t.Fatalf("CRM holds %d contacts after repeated syncs, want %d", countCRM(), n+1)
	}
	if out := run("sync"); strings.Contains(out, "Copying") || strings.Contains(out, "Deleting") {
		t.Fatalf("a sync with nothing changed still moved cards:\n%s", out)
	}
}

// syncDir is the folder vdirsyncer keeps its cards in: in memory
// (/dev/shm) where there is one, since vdirsyncer syncs every file it
// writes to disk and 5,000 of those cost a minute on a busy disk; else a
// temporary folder.
func syncDir(t *testing.T) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "cartera-vdirsyncer-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// TestCardDAV_Protocol checks app-password auth, discovery, vCard version
// negotiation and the 412 on a stale edit, over plain HTTP.
func TestCardDAV_Protocol(t *testing.T) {
	env := mustServer(t)
	admin := env.mustSetupAdmin()
	ctx := context.Background()
	c, err := env.st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Marta", "last_name": "Vidal", "email": "marta@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	token := env.mustToken(admin)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path, pass, body string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, env.srv.URL+path, strings.NewReader(body))
		if pass != "" {
			req.SetBasicAuth("anna@example.com", pass)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	card := "/dav/" + strconv.FormatInt(admin.UserID, 10) + "/contacts/cartera/" + strconv.FormatInt(c.ID, 10) + ".vcf"
	t.Run("auth", func(t *testing.T) {
		for _, pass := range []string{"", "contrasenya-segura", "crt_not-a-token"} {
			if resp, _ := do("PROPFIND", "/dav/", pass, "", "Depth", "0"); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("password %q: %d", pass, resp.StatusCode)
			}
		}
	})
	t.Run("discovery", func(t *testing.T) {
		resp, _ := do("PROPFIND", "/.well-known/carddav", token, "", "Depth", "0")
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "/dav/"+strconv.FormatInt(admin.UserID, 10)+"/" {
			t.Fatalf("well-known: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("versions", func(t *testing.T) {
		if _, body := do(http.MethodGet, card, token, ""); !strings.Contains(body, "VERSION:4.0") {
			t.Fatalf("default GET:\n%s", body)
		}
		if _, body := do(http.MethodGet, card, token, "", "Accept", "text/vcard; version=3.0"); !strings.Contains(body, "VERSION:3.0") {
			t.Fatalf("GET asking 3.0:\n%s", body)
		}
		multiget := `<?xml version="1.0"?><C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data content-type="text/vcard" version="3.0"/></D:prop><D:href>` + card + `</D:href></C:addressbook-multiget>`
		resp, body := do("REPORT", "/dav/"+strconv.FormatInt(admin.UserID, 10)+"/contacts/cartera/", token, multiget, "Content-Type", "application/xml", "Depth", "1")
		if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(body, "VERSION:3.0") || !strings.Contains(body, "Marta") {
			t.Fatalf("multiget asking 3.0: %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("stale edit", func(t *testing.T) {
		v := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:cartera:contact:1\r\nFN:Marta Puig\r\nN:Puig;Marta;;;\r\nEND:VCARD\r\n"
		resp, _ := do(http.MethodPut, card, token, v, "Content-Type", "text/vcard", "If-Match", `"999-0"`)
		if resp.StatusCode != http.StatusPreconditionFailed {
			t.Fatalf("stale PUT: %d", resp.StatusCode)
		}
		if got, _ := env.st.FindRecord(ctx, admin, store.EntContacts, c.ID); got.Str("last_name") != "Vidal" {
			t.Fatal("a stale PUT changed the contact")
		}
		resp, _ = do(http.MethodPut, card, token, v, "Content-Type", "text/vcard", "If-Match", `"1-0"`)
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
			t.Fatalf("PUT with the current ETag: %d", resp.StatusCode)
		}
		if got, _ := env.st.FindRecord(ctx, admin, store.EntContacts, c.ID); got.Str("last_name") != "Puig" {
			t.Fatal("PUT did not update the contact")
		}
	})
}
