package ui_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"cartera/store"
)

// TestBrowser_Attachments uploads two files through the record page's
// script in a real browser (allowed by the CSP, one request per file) and
// finds them listed, the image with its preview.
func TestBrowser_Attachments(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	lead, err := e.st.CreateRecord(context.Background(), admin, store.EntLeads, store.Input{Values: map[string]any{"first_name": "Pau", "last_name": "Serra"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "plànol.png"), filepath.Join(dir, "oferta.txt")}
	if err := os.WriteFile(files[0], smallPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[1], []byte("Oferta 2026-031"), 0o600); err != nil {
		t.Fatal(err)
	}

	c := mustBrowser(t)
	c.base = e.srv.URL
	c.login("anna@example.com", "contrasenya-segura")
	page := "/leads/" + strconvFormat(lead.ID)
	c.open(page)
	c.assertNoConsoleErrors("loading the record page")
	c.step("choosing two files", chromedp.SetUploadFiles(chromedp.ID("att-file"), files))
	if p := c.navigate("uploading them with the script", chromedp.Click(chromedp.CSS(`form[data-attachments] button[type=submit]`))); p != page {
		t.Fatalf("after the upload the browser is on %s", p)
	}
	if n := eval[int](c, `document.querySelectorAll("#attachments .att-item").length`); n != 2 {
		t.Fatalf("the page lists %d files, want 2", n)
	}
	if n := eval[int](c, `document.querySelectorAll("#attachments img.att-thumb").length`); n != 1 {
		t.Fatalf("%d previews, want 1", n)
	}
	if eval[bool](c, `document.querySelector(".flash") !== null`) {
		t.Error("a flash message: the plain form was sent, not the script's requests")
	}
	c.assertNoConsoleErrors("after the upload")
}
