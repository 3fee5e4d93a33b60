package ui_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"cartera/i18n"
	"cartera/store"
)

// smallPNG is a 300×150 PNG.
func smallPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 300, 150))
	for y := range 150 {
		for x := range 300 {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// firstID is the id of the first attachment of an API list answer.
func firstID(t *testing.T, out map[string]any) string {
	t.Helper()
	data, _ := out["data"].([]any)
	if len(data) == 0 {
		t.Fatalf("no attachments in %v", out)
	}
	id, _ := data[0].(map[string]any)["id"].(string)
	return id
}

// wantDownloadHeaders fails unless a response is a safe download: an
// attachment, not sniffed, sandboxed.
func wantDownloadHeaders(t *testing.T, h http.Header, ctype string) {
	t.Helper()
	if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Security-Policy") != "sandbox; default-src 'none'" || h.Get("Content-Type") != ctype {
		t.Fatalf("download headers %v, want type %s", h, ctype)
	}
}

func TestUI_Attachments(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	joan := e.mustUser(admin, "joan@example.com", "salesperson")
	marta := e.mustUser(admin, "marta@example.com", "salesperson")
	lead, err := e.st.CreateRecord(ctx, joan, store.EntLeads, store.Input{Values: map[string]any{"first_name": "Pau", "last_name": "Serra"}})
	if err != nil {
		t.Fatal(err)
	}
	tokJoan, _, _ := e.st.CreateToken(ctx, joan, joan.UserID, "t")
	tokMarta, _, _ := e.st.CreateToken(ctx, marta, marta.UserID, "t")
	leadPath := "/leads/" + strconvFormat(lead.ID)
	img := smallPNG(t)

	var pdfID, htmlID, svgID, pngID string
	t.Run("API: several files in one request, listed and downloaded", func(t *testing.T) {
		body, ct := multipartFiles([2]string{"oferta.pdf", "%PDF-1.7\nOferta signada\n"}, [2]string{"pàgina.html", "<!doctype html><html><script>alert(1)</script></html>"},
			[2]string{"logo.png", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`}, [2]string{"foto.jpg", string(img)})
		code, out := e.apiContent("POST", "/api/v1"+leadPath+"/attachments", tokJoan, ct, body)
		if code != http.StatusCreated {
			t.Fatalf("upload %d %v", code, out)
		}
		data := out["data"].([]any)
		if len(data) != 4 {
			t.Fatalf("uploaded %v", out)
		}
		ids := make([]string, 4)
		for i, d := range data {
			ids[i] = d.(map[string]any)["id"].(string)
		}
		pdfID, htmlID, svgID, pngID = ids[0], ids[1], ids[2], ids[3]
		if tp := data[3].(map[string]any)["content_type"]; tp != "image/png" {
			t.Fatalf("foto.jpg sniffed as %v", tp)
		}
		code, out = e.api("GET", "/api/v1"+leadPath+"/attachments", tokJoan, nil)
		if code != 200 || len(out["data"].([]any)) != 4 {
			t.Fatalf("list %d %v", code, out)
		}
		resp, b := e.apiRaw("GET", "/api/v1/attachments/"+pdfID, tokJoan)
		if resp.StatusCode != 200 || string(b) != "%PDF-1.7\nOferta signada\n" {
			t.Fatalf("download %d %q", resp.StatusCode, b)
		}
		wantDownloadHeaders(t, resp.Header, "application/pdf")
		if !strings.Contains(resp.Header.Get("Content-Disposition"), "oferta.pdf") {
			t.Fatalf("disposition %q", resp.Header.Get("Content-Disposition"))
		}
	})

	t.Run("HTML and SVG are never rendered inline", func(t *testing.T) {
		b := e.newBrowser()
		b.login("joan@example.com", "password-123")
		for _, id := range []string{htmlID, svgID} {
			code, h, body := b.download("/attachments/" + id)
			if code != 200 || !strings.Contains(string(body), "alert(1)") {
				t.Fatalf("download %s: %d", id, code)
			}
			wantDownloadHeaders(t, h, "application/octet-stream")
			resp, _ := e.apiRaw("GET", "/api/v1/attachments/"+id, tokJoan)
			wantDownloadHeaders(t, resp.Header, "application/octet-stream")
			if code, _, _ := b.download("/attachments/" + id + "/thumb"); code != 404 {
				t.Fatalf("thumbnail of %s: %d", id, code)
			}
		}
		// The image's preview is inline, and is new bytes, not the upload.
		code, h, thumb := b.download("/attachments/" + pngID + "/thumb")
		if code != 200 || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" || bytes.Equal(thumb, img) {
			t.Fatalf("thumbnail %d %v", code, h)
		}
		if cfg, err := png.DecodeConfig(bytes.NewReader(thumb)); err != nil || cfg.Width != 200 {
			t.Fatalf("thumbnail %v %v", cfg, err)
		}
		// The image itself downloads like any file.
		code, h, _ = b.download("/attachments/" + pngID)
		if code != 200 {
			t.Fatal(code)
		}
		wantDownloadHeaders(t, h, "image/png")
		// The record page shows a preview only for the image.
		code, page := b.get(leadPath)
		if code != 200 || !strings.Contains(page, `src="/attachments/`+pngID+`/thumb"`) || strings.Contains(page, `/attachments/`+svgID+`/thumb`) ||
			!strings.Contains(page, "pàgina.html") || !strings.Contains(page, `href="/attachments/`+htmlID+`" download`) {
			t.Fatalf("record page %d", code)
		}
	})

	t.Run("another salesperson's file is not_found, on pages and in the API", func(t *testing.T) {
		code, out := e.api("GET", "/api/v1/attachments/"+pdfID, tokMarta, nil)
		if code != 404 || out["error"].(map[string]any)["code"] != "not_found" {
			t.Fatalf("API download %d %v", code, out)
		}
		if code, _ := e.api("GET", "/api/v1"+leadPath+"/attachments", tokMarta, nil); code != 404 {
			t.Fatalf("API list %d", code)
		}
		if code, _ := e.api("DELETE", "/api/v1/attachments/"+pdfID, tokMarta, nil); code != 404 {
			t.Fatalf("API delete %d", code)
		}
		body, ct := multipartFiles([2]string{"x.txt", "x"})
		if code, _ := e.apiContent("POST", "/api/v1"+leadPath+"/attachments", tokMarta, ct, body); code != 404 {
			t.Fatalf("API upload %d", code)
		}
		b := e.newBrowser()
		b.login("marta@example.com", "password-123")
		for _, p := range []string{"/attachments/" + pdfID, "/attachments/" + pngID + "/thumb"} {
			if code, h, body := b.download(p); code != 404 || strings.Contains(string(body), "Oferta") || h.Get("Content-Disposition") != "" {
				t.Fatalf("%s: %d", p, code)
			}
		}
		if resp := b.post("/attachments/"+pdfID+"/delete", nil); resp.StatusCode != 404 {
			t.Fatalf("page delete %d", resp.StatusCode)
		}
		// Signed out, a download is a sign-in page, never the file.
		if code, _, body := e.newBrowser().download("/attachments/" + pdfID); code != http.StatusSeeOther || strings.Contains(string(body), "Oferta") {
			t.Fatalf("anonymous %d", code)
		}
	})

	t.Run("plain form without script: upload, rename, delete, restore", func(t *testing.T) {
		b := e.newBrowser()
		b.login("joan@example.com", "password-123")
		body, ct := multipartFiles([2]string{"acta.txt", "Acta de la reunió"}, [2]string{"pressupost.txt", "4.500 €"})
		resp, _ := b.postRaw(leadPath+"/attachments", ct, body, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != leadPath+"#attachments" {
			t.Fatalf("upload %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		list, _ := e.st.Attachments(ctx, joan, store.EntLeads, lead.ID)
		var acta *store.Attachment
		for _, at := range list {
			if at.Name == "acta.txt" {
				acta = at
			}
		}
		if acta == nil {
			t.Fatal("acta.txt not stored")
		}
		id := strconvFormat(acta.ID)
		_, page := b.get(leadPath)
		if !strings.Contains(page, `enctype="multipart/form-data"`) || !strings.Contains(page, "acta.txt") || !strings.Contains(page, "pressupost.txt") {
			t.Fatal("the record page lacks the form or the files")
		}
		if resp := b.post("/attachments/"+id+"/rename", url.Values{"name": {"acta-2026.txt"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("rename %d", resp.StatusCode)
		}
		if at, _ := e.st.FindAttachment(ctx, joan, acta.ID); at.Name != "acta-2026.txt" {
			t.Fatalf("renamed to %q", at.Name)
		}
		if resp := b.post("/attachments/"+id+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete %d", resp.StatusCode)
		}
		if code, _, _ := b.download("/attachments/" + id); code != 404 {
			t.Fatalf("deleted file downloads: %d", code)
		}
		_, trash := b.get("/trash")
		if !strings.Contains(trash, "acta-2026.txt") || !strings.Contains(trash, "/attachments/"+id+"/restore") {
			t.Fatal("the trash does not list the file")
		}
		if resp := b.post("/attachments/"+id+"/restore", url.Values{"from": {"trash"}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/trash" {
			t.Fatalf("restore %d", resp.StatusCode)
		}
		if code, _, body := b.download("/attachments/" + id); code != 200 || string(body) != "Acta de la reunió" {
			t.Fatalf("restored %d %q", code, body)
		}
	})

	t.Run("the page's script gets JSON; a cross-site upload is refused", func(t *testing.T) {
		b := e.newBrowser()
		b.login("joan@example.com", "password-123")
		body, ct := multipartFiles([2]string{"nota.txt", "nota"})
		resp, out := b.postRaw(leadPath+"/attachments", ct, body, map[string]string{"Accept": "application/json"})
		if resp.StatusCode != http.StatusCreated || !strings.Contains(out, `"name":"nota.txt"`) {
			t.Fatalf("script upload %d %s", resp.StatusCode, out)
		}
		body, ct = multipartFiles([2]string{"buit.txt", ""})
		resp, out = b.postRaw(leadPath+"/attachments", ct, body, map[string]string{"Accept": "application/json"})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out, "The file is empty.") {
			t.Fatalf("empty upload %d %s", resp.StatusCode, out)
		}
		before := len(mustList(t, e, joan, lead.ID))
		body, ct = multipartFiles([2]string{"x.txt", "x"})
		resp, _ = b.postRaw(leadPath+"/attachments", ct, body, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		if resp.StatusCode != http.StatusForbidden || len(mustList(t, e, joan, lead.ID)) != before {
			t.Fatalf("cross-site upload %d", resp.StatusCode)
		}
	})

	t.Run("audit log", func(t *testing.T) {
		entries, err := e.st.FindAudit(ctx, admin, store.AuditFilter{Entity: "attachments", Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, en := range entries {
			seen[en.Action] = true
		}
		for _, a := range []string{"create", "rename", "delete", "restore"} {
			if !seen[a] {
				t.Errorf("no %q entry in the audit log", a)
			}
		}
	})
}

// mustList lists a lead's files as a.
func mustList(t *testing.T, e *testEnv, a *store.Actor, lead int64) []*store.Attachment {
	t.Helper()
	list, err := e.st.Attachments(context.Background(), a, store.EntLeads, lead)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// countingReader counts the bytes the server read from a request body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// streamedUpload is a multipart body with one "file" part of n generated
// bytes, produced as it is read (no test memory), and its content type.
func streamedUpload(n int64) (io.ReadCloser, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("file", "gran.bin")
		buf := make([]byte, 32<<10)
		for i := range buf {
			buf[i] = byte(i*31 + i>>7)
		}
		for left := n; left > 0; {
			k := min(left, int64(len(buf)))
			if _, err := fw.Write(buf[:k]); err != nil {
				pw.CloseWithError(err)
				return
			}
			left -= k
		}
		pw.CloseWithError(mw.Close())
	}()
	return pr, mw.FormDataContentType()
}

// TestUI_AttachmentLimits sends uploads larger than the limit and larger
// than memory should hold through the real handler.
func TestUI_AttachmentLimits(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	acc, err := e.st.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Empresa ABC"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "t")
	path := "/api/v1/accounts/" + strconvFormat(acc.ID) + "/attachments"

	t.Run("30 MB over the 25 MB limit is refused mid-stream and leaves nothing", func(t *testing.T) {
		body, ct := streamedUpload(30 << 20)
		defer body.Close()
		cr := &countingReader{r: body}
		req := httptest.NewRequest(http.MethodPost, path, cr)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		e.ui.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "larger than the size limit") {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if cr.n < 25<<20 || cr.n > 25<<20+256<<10 {
			t.Fatalf("the server read %d bytes; it should stop just past the 25 MB limit", cr.n)
		}
		if list, _ := e.st.Attachments(ctx, admin, store.EntAccounts, acc.ID); len(list) != 0 {
			t.Fatalf("%d files left by a refused upload", len(list))
		}
		// No spooled copy is left beside the database.
		entries, _ := os.ReadDir(dirOf(e.st.Path()))
		for _, en := range entries {
			if strings.HasPrefix(en.Name(), ".upload-") {
				t.Fatalf("left %s", en.Name())
			}
		}
	})

	t.Run("20 MB through HTTP in flat memory", func(t *testing.T) {
		old := debug.SetGCPercent(10)
		defer debug.SetGCPercent(old)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base, top := ms.HeapInuse, ms.HeapInuse
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				top = max(top, m.HeapInuse)
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		})
		body, ct := streamedUpload(20 << 20)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, body)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("upload %d %s", resp.StatusCode, b)
		}
		list, _ := e.st.Attachments(ctx, admin, store.EntAccounts, acc.ID)
		resp, err = http.DefaultClient.Do(func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/attachments/"+strconvFormat(list[0].ID), nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			return r
		}())
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		close(stop)
		wg.Wait()
		growth := top - base
		t.Logf("heap grew by %d kB moving 20 MB up and down", growth>>10)
		if n != 20<<20 || list[0].Size != 20<<20 {
			t.Fatalf("sizes %d %d", n, list[0].Size)
		}
		if growth > 6<<20 {
			t.Fatalf("heap grew by %d MB moving a 20 MB file", growth>>20)
		}
	})
}

// dirOf is the folder of a file path.
func dirOf(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[:i]
	}
	return "."
}

// TestUI_AttachmentKeys checks every attachments.* message used by the
// feature's code and templates exists in Catalan, Spanish and English.
func TestUI_AttachmentKeys(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`"(attachments\.[a-z_]+)"`)
	n := 0
	for _, f := range []string{"attachments.go", "trash.go", "../store/attachments.go", "../assets/templates/partials/attachments.html", "../assets/templates/pages/trash.html"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(src), -1) {
			if m[1] == "attachments.js" || m[1] == "attachments.css" {
				continue // asset names
			}
			n++
			for _, lang := range []string{"ca", "es", "en"} {
				if !b.Has(lang, m[1]) {
					t.Errorf("%s uses %q, missing in %s", f, m[1], lang)
				}
			}
		}
	}
	if n < 15 {
		t.Fatalf("found only %d keys; is the scan broken?", n)
	}
}
