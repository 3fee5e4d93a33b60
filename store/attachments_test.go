package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"cartera/store"
)

// testPNG encodes a w×h opaque PNG.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 90, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// countRows counts the rows of a table in the store's file.
func countRows(t *testing.T, s *store.Store, table string) int64 {
	t.Helper()
	return queryInt(t, openRawDB(t, s.Path()), "SELECT count(*) FROM "+table)
}

func TestStore_Attachments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	marta := mustUser(t, s, admin, "marta@example.com", "salesperson")
	lead := mustAttachParent(t, s, joan, store.EntLeads, map[string]any{"first_name": "Pau", "last_name": "Serra"})
	up := func(name, body string) store.Upload { return store.Upload{Name: name, Body: strings.NewReader(body)} }

	t.Run("upload several, list and download", func(t *testing.T) {
		big := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640 kB: three chunks
		got, err := s.AddAttachments(ctx, joan, store.EntLeads, lead.ID, []store.Upload{
			up("oferta.txt", "Oferta signada"), {Name: "dades.bin", Body: bytes.NewReader(big)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Name != "oferta.txt" || got[0].Size != 14 || got[1].Size != int64(len(big)) {
			t.Fatalf("added %+v", got)
		}
		sum := sha256.Sum256(big)
		if got[1].SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("hash %s", got[1].SHA256)
		}
		list, err := s.Attachments(ctx, joan, store.EntLeads, lead.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("list: %d, %v", len(list), err)
		}
		if b := readAttachment(t, s, joan, got[1].ID); !bytes.Equal(b, big) {
			t.Fatalf("downloaded %d bytes, differ", len(b))
		}
		if b := readAttachment(t, s, joan, got[0].ID); string(b) != "Oferta signada" {
			t.Fatalf("downloaded %q", b)
		}
		entries, err := s.FindAudit(ctx, admin, store.AuditFilter{Entity: "attachments", RecordID: got[0].ID})
		if err != nil || len(entries) != 1 || entries[0].Action != "create" || !strings.Contains(entries[0].Detail, "oferta.txt") {
			t.Fatalf("audit %+v %v", entries, err)
		}
	})

	t.Run("type from content, never the name", func(t *testing.T) {
		docx := "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x13\x00\x00\x00[Content_Types].xml ... word/document.xml"
		cases := []struct {
			name, body, want, serve string
		}{
			{"foto.pdf", string(testPNG(t, 4, 4)), "image/png", "image/png"},
			{"contracte.png", "%PDF-1.7\n%âãÏÓ\n1 0 obj\n", "application/pdf", "application/pdf"},
			{"nota.jpg", "<!DOCTYPE html><html><script>alert(1)</script></html>", "text/html; charset=utf-8", "application/octet-stream"},
			{"logo.png", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`, "image/svg+xml", "application/octet-stream"},
			{"logo2.txt", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "image/svg+xml", "application/octet-stream"},
			{"carta.pdf", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
			{"llista.exe", "Nom;Cognoms\nLaura;García\n", "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.AddAttachments(ctx, joan, store.EntLeads, lead.ID, []store.Upload{up(c.name, c.body)})
				if err != nil {
					t.Fatal(err)
				}
				if got[0].ContentType != c.want || got[0].ServeType() != c.serve || got[0].Name != c.name {
					t.Fatalf("%s: type %q serve %q, want %q %q", c.name, got[0].ContentType, got[0].ServeType(), c.want, c.serve)
				}
				if got[0].HasThumb != (c.want == "image/png") {
					t.Fatalf("%s: thumbnail %v", c.name, got[0].HasThumb)
				}
			})
		}
	})

	t.Run("image preview is re-encoded and small", func(t *testing.T) {
		got, err := s.AddAttachments(ctx, joan, store.EntLeads, lead.ID, []store.Upload{{Name: "gran.png", Body: bytes.NewReader(testPNG(t, 800, 400))}})
		if err != nil {
			t.Fatal(err)
		}
		b, ct, err := s.AttachmentThumb(ctx, joan, got[0].ID)
		if err != nil || ct != "image/png" {
			t.Fatalf("thumb %q %v", ct, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() != 200 || img.Bounds().Dy() != 100 {
			t.Fatalf("thumb %v %v", img.Bounds(), err)
		}
		_, _, err = s.AttachmentThumb(ctx, marta, got[0].ID)
		wantCode(t, err, store.CodeNotFound)
		// A broken image is stored without a preview, not refused.
		bad := append(testPNG(t, 10, 10)[:40], 0, 0, 0)
		got, err = s.AddAttachments(ctx, joan, store.EntLeads, lead.ID, []store.Upload{{Name: "trencat.png", Body: bytes.NewReader(bad)}})
		if err != nil || got[0].HasThumb {
			t.Fatalf("broken image: %+v %v", got, err)
		}
		_, _, err = s.AttachmentThumb(ctx, joan, got[0].ID)
		wantCode(t, err, store.CodeNotFound)
	})

	t.Run("another salesperson's file is not_found", func(t *testing.T) {
		got, err := s.AddAttachments(ctx, joan, store.EntLeads, lead.ID, []store.Upload{up("privat.txt", "secret")})
		if err != nil {
			t.Fatal(err)
		}
		id := got[0].ID
		_, err = s.FindAttachment(ctx, marta, id)
		wantCode(t, err, store.CodeNotFound)
		called := false
		err = s.WriteAttachment(ctx, marta, id, func(*store.Attachment) io.Writer { called = true; return io.Discard })
		wantCode(t, err, store.CodeNotFound)
		if called {
			t.Fatal("prepare called for a refused download")
		}
		_, err = s.Attachments(ctx, marta, store.EntLeads, lead.ID)
		wantCode(t, err, store.CodeNotFound)
		_, err = s.AddAttachments(ctx, marta, store.EntLeads, lead.ID, []store.Upload{up("x.txt", "x")})
		wantCode(t, err, store.CodeNotFound)
		_, err = s.RenameAttachment(ctx, marta, id, "nou.txt")
		wantCode(t, err, store.CodeNotFound)
		wantCode(t, s.DeleteAttachment(ctx, marta, id), store.CodeNotFound)
		// The admin sees everything.
		if b := readAttachment(t, s, admin, id); string(b) != "secret" {
			t.Fatalf("admin read %q", b)
		}
	})

	t.Run("a visible record that is not one's own: download yes, upload no", func(t *testing.T) {
		acc := mustAttachParent(t, s, joan, store.EntAccounts, map[string]any{"name": "Empresa ABC"})
		got, err := s.AddAttachments(ctx, joan, store.EntAccounts, acc.ID, []store.Upload{up("contracte.txt", "contracte")})
		if err != nil {
			t.Fatal(err)
		}
		if b := readAttachment(t, s, marta, got[0].ID); string(b) != "contracte" {
			t.Fatalf("marta read %q", b)
		}
		_, err = s.AddAttachments(ctx, marta, store.EntAccounts, acc.ID, []store.Upload{up("x.txt", "x")})
		wantCode(t, err, store.CodeForbidden)
		wantCode(t, s.DeleteAttachment(ctx, marta, got[0].ID), store.CodeForbidden)
	})

	t.Run("tasks take no files", func(t *testing.T) {
		task := mustAttachParent(t, s, joan, store.EntTasks, map[string]any{"title": "Trucar", "due_at": "2030-01-15T10:00:00Z"})
		_, err := s.AddAttachments(ctx, joan, store.EntTasks, task.ID, []store.Upload{up("x.txt", "x")})
		wantCode(t, err, store.CodeNotFound)
	})

	t.Run("names are cleaned; rename", func(t *testing.T) {
		got, err := s.AddAttachments(ctx, joan, store.EntLeads, lead.ID, []store.Upload{up("C:\\Users\\joan\\factura\u202Efdp.exe", "x")})
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Name != "facturafdp.exe" {
			t.Fatalf("name %q", got[0].Name)
		}
		_, err = s.RenameAttachment(ctx, joan, got[0].ID, "  \x00 ")
		wantField(t, err, "name")
		at, err := s.RenameAttachment(ctx, joan, got[0].ID, "factura 2026.txt")
		if err != nil || at.Name != "factura 2026.txt" {
			t.Fatalf("rename %+v %v", at, err)
		}
		if at, _ := s.FindAttachment(ctx, joan, got[0].ID); at.Name != "factura 2026.txt" {
			t.Fatalf("renamed to %q", at.Name)
		}
	})

	t.Run("delete to the trash, restore, purge", func(t *testing.T) {
		got, err := s.AddAttachments(ctx, joan, store.EntLeads, lead.ID, []store.Upload{up("esborrany.txt", "draft")})
		if err != nil {
			t.Fatal(err)
		}
		id := got[0].ID
		if err := s.DeleteAttachment(ctx, joan, id); err != nil {
			t.Fatal(err)
		}
		_, err = s.FindAttachment(ctx, joan, id)
		wantCode(t, err, store.CodeNotFound)
		trash, err := s.TrashedAttachments(ctx, joan, 0)
		if err != nil || len(trash) != 1 || trash[0].ID != id || trash[0].RecordTitle != "Pau Serra" {
			t.Fatalf("trash %+v %v", trash, err)
		}
		if trash, _ := s.TrashedAttachments(ctx, marta, 0); len(trash) != 0 {
			t.Fatalf("marta's trash shows %d", len(trash))
		}
		wantCode(t, s.RestoreAttachment(ctx, marta, id), store.CodeNotFound)
		if err := s.RestoreAttachment(ctx, joan, id); err != nil {
			t.Fatal(err)
		}
		if b := readAttachment(t, s, joan, id); string(b) != "draft" {
			t.Fatalf("restored %q", b)
		}
		if err := s.DeleteAttachment(ctx, joan, id); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.PurgeAttachment(ctx, joan, id), store.CodeForbidden)
		if err := s.PurgeAttachment(ctx, admin, id); err != nil {
			t.Fatal(err)
		}
		db := openRawDB(t, s.Path())
		if n := queryInt(t, db, "SELECT count(*) FROM attachment_chunks WHERE attachment_id = ?", id); n != 0 {
			t.Fatalf("%d chunks left", n)
		}
		var actions []string
		entries, _ := s.FindAudit(ctx, admin, store.AuditFilter{Entity: "attachments", RecordID: id})
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		if strings.Join(actions, ",") != "purge,delete,restore,delete,create" {
			t.Fatalf("audit %v", actions)
		}
	})

	t.Run("files follow their record to the trash and out of the database", func(t *testing.T) {
		l2 := mustAttachParent(t, s, joan, store.EntLeads, map[string]any{"first_name": "Rita", "last_name": "Vila"})
		got, err := s.AddAttachments(ctx, joan, store.EntLeads, l2.ID, []store.Upload{up("a.txt", "a")})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRecord(ctx, admin, store.EntLeads, l2.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.FindAttachment(ctx, joan, got[0].ID)
		wantCode(t, err, store.CodeNotFound)
		if err := s.RestoreRecord(ctx, admin, store.EntLeads, l2.ID); err != nil {
			t.Fatal(err)
		}
		if b := readAttachment(t, s, joan, got[0].ID); string(b) != "a" {
			t.Fatalf("after restore %q", b)
		}
		if err := s.DeleteRecord(ctx, admin, store.EntLeads, l2.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.PurgeRecord(ctx, admin, store.EntLeads, l2.ID); err != nil {
			t.Fatal(err)
		}
		db := openRawDB(t, s.Path())
		if n := queryInt(t, db, "SELECT count(*) FROM attachments WHERE id = ?", got[0].ID) + queryInt(t, db, "SELECT count(*) FROM attachment_chunks WHERE attachment_id = ?", got[0].ID); n != 0 {
			t.Fatalf("%d rows left after purging the record", n)
		}
	})
}

// TestStore_AttachmentsMerge checks a merged record's files move to the
// record it was merged into, and back when the merge is undone.
func TestStore_AttachmentsMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	keep := mustAttachParent(t, s, admin, store.EntContacts, map[string]any{"first_name": "Laura", "last_name": "García"})
	dup := mustAttachParent(t, s, admin, store.EntContacts, map[string]any{"first_name": "Laura", "last_name": "Garcia"})
	got, err := s.AddAttachments(ctx, admin, store.EntContacts, dup.ID, []store.Upload{{Name: "dni.txt", Body: strings.NewReader("dni")}})
	if err != nil {
		t.Fatal(err)
	}
	mid, err := s.MergeRecords(ctx, admin, store.EntContacts, keep.ID, dup.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Attachments(ctx, admin, store.EntContacts, keep.ID); len(list) != 1 || list[0].ID != got[0].ID {
		t.Fatalf("after the merge the kept record has %d files", len(list))
	}
	if err := s.UndoMerge(ctx, admin, mid); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Attachments(ctx, admin, store.EntContacts, dup.ID); len(list) != 1 {
		t.Fatalf("after undoing, the merged record has %d files", len(list))
	}
	if list, _ := s.Attachments(ctx, admin, store.EntContacts, keep.ID); len(list) != 0 {
		t.Fatalf("after undoing, the kept record has %d files", len(list))
	}
}

// TestStore_AttachmentLimits checks the size limit is enforced while the
// file is read, that a refused upload leaves nothing, and that memory stays
// flat however large the file.
func TestStore_AttachmentLimits(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	opp := mustAttachParent(t, s, admin, store.EntOpportunities, map[string]any{"name": "Mobles", "amount": "4500"})
	if s.MaxAttachmentSize() != 25<<20 {
		t.Fatalf("default limit %d", s.MaxAttachmentSize())
	}

	t.Run("30 MB over a 25 MB limit is refused mid-stream and leaves nothing", func(t *testing.T) {
		body := &patternReader{n: 30 << 20}
		_, err := s.AddAttachments(ctx, admin, store.EntOpportunities, opp.ID, []store.Upload{
			{Name: "petit.txt", Body: strings.NewReader("ok")}, {Name: "video.mp4", Body: body},
		})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "file")
		if store.AsError(err).Key != "attachments.too_large" {
			t.Fatalf("key %q", store.AsError(err).Key)
		}
		if body.read > 25<<20+1 {
			t.Fatalf("read %d bytes of the sender, past the limit", body.read)
		}
		if n := countRows(t, s, "attachments") + countRows(t, s, "attachment_chunks"); n != 0 {
			t.Fatalf("%d rows left by a refused upload", n)
		}
	})

	t.Run("exactly the limit is accepted", func(t *testing.T) {
		small := mustOpenStoreOpts(t, store.Options{MaxAttachment: 1000})
		a := mustSetup(t, small)
		acc := mustAttachParent(t, small, a, store.EntAccounts, map[string]any{"name": "ABC"})
		if _, err := small.AddAttachments(ctx, a, store.EntAccounts, acc.ID, []store.Upload{{Name: "a", Body: &patternReader{n: 1000}}}); err != nil {
			t.Fatal(err)
		}
		_, err := small.AddAttachments(ctx, a, store.EntAccounts, acc.ID, []store.Upload{{Name: "b", Body: &patternReader{n: 1001}}})
		wantCode(t, err, store.CodeInvalid)
	})

	t.Run("empty files and no files are refused", func(t *testing.T) {
		_, err := s.AddAttachments(ctx, admin, store.EntOpportunities, opp.ID, []store.Upload{{Name: "buit.txt", Body: strings.NewReader("")}})
		wantField(t, err, "file")
		_, err = s.AddAttachments(ctx, admin, store.EntOpportunities, opp.ID, nil)
		wantField(t, err, "file")
	})

	t.Run("20 MB in and out in flat memory", func(t *testing.T) {
		peak := watchHeap(t)
		got, err := s.AddAttachments(ctx, admin, store.EntOpportunities, opp.ID, []store.Upload{{Name: "gran.bin", Body: &patternReader{n: 20 << 20, seed: 7}}})
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if err := s.WriteAttachment(ctx, admin, got[0].ID, func(*store.Attachment) io.Writer { return h }); err != nil {
			t.Fatal(err)
		}
		growth := peak()
		t.Logf("heap grew by %d kB moving a 20 MB file", growth>>10)
		if growth > 4<<20 {
			t.Fatalf("heap grew by %d MB moving a 20 MB file", growth>>20)
		}
		want := sha256.New()
		io.Copy(want, &patternReader{n: 20 << 20, seed: 7})
		if !bytes.Equal(h.Sum(nil), want.Sum(nil)) || got[0].Size != 20<<20 {
			t.Fatal("the file came back different")
		}
	})
}

// watchHeap samples HeapInuse until the returned function is called, which
// reports the largest growth over the level at the start. The collector
// runs with a tight target meanwhile, so the figure is memory held rather
// than garbage not yet collected.
func watchHeap(t *testing.T) func() uint64 {
	t.Helper()
	old := debug.SetGCPercent(10)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, top := ms.HeapInuse, ms.HeapInuse
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
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
	}()
	return func() uint64 {
		close(stop)
		wg.Wait()
		return top - base
	}
}

// TestStore_AttachmentsBackup checks files survive backup → restore byte
// for byte: they live in the database, so VACUUM INTO copies them.
func TestStore_AttachmentsBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "cartera.db")
	s := mustOpenStoreOpts(t, store.Options{Path: dbPath})
	admin := mustSetup(t, s)
	c := mustAttachParent(t, s, admin, store.EntContacts, map[string]any{"first_name": "Laura", "last_name": "García"})
	img := testPNG(t, 300, 300)
	var big bytes.Buffer
	io.Copy(&big, &patternReader{n: 3<<20 + 12345, seed: 3})
	got, err := s.AddAttachments(ctx, admin, store.EntContacts, c.ID, []store.Upload{
		{Name: "foto.png", Body: bytes.NewReader(img)}, {Name: "contracte.pdf", Body: bytes.NewReader(big.Bytes())},
	})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	// Changed after the backup: the restore must bring the file back.
	if err := s.DeleteAttachment(ctx, admin, got[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Restore(ctx, dbPath, backup); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpenStoreOpts(t, store.Options{Path: dbPath})
	admin2, err := s2.ActorFor(ctx, admin.UserID)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s2.Attachments(ctx, admin2, store.EntContacts, c.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("restored list %d %v", len(list), err)
	}
	if b := readAttachment(t, s2, admin2, got[0].ID); !bytes.Equal(b, img) {
		t.Fatal("the image differs after restore")
	}
	if b := readAttachment(t, s2, admin2, got[1].ID); !bytes.Equal(b, big.Bytes()) {
		t.Fatal("the document differs after restore")
	}
	if th, _, err := s2.AttachmentThumb(ctx, admin2, got[0].ID); err != nil || len(th) == 0 {
		t.Fatalf("thumbnail after restore: %v", err)
	}
}
