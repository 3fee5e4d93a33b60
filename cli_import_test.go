package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"cartera/store"
)

// TestCLI_Import imports seed 000's clients from a Windows-1252,
// semicolon-separated file (as a Spanish Excel saves it) with the real
// binary: automatic mapping, all or nothing, skip-invalid, duplicates.
func TestCLI_Import(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "cartera.db")
	mustRun(t, dir, adminPassword+"\n", "init", "--db", db, "--company", "Empresa ABC", "--admin-email", "anna@example.com", "--admin-name", "Anna Puig")
	text := "Nom;Cognoms;Correu electrònic;Telèfon\r\nJoan;Pérez;joan@example.com;123456789\r\nMaria;García;maria@example;987654321\r\n"
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "clients.csv")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := cartera(t, dir, "", "import", "--db", db, "--file", file, "--as", "anna@example.com")
	if r.code != 1 || !strings.Contains(r.stdout, `column "Correu electrònic" → email`) || !strings.Contains(r.stdout, "line 3: email: ") ||
		!strings.HasSuffix(r.stdout, "created 0, updated 0, skipped 0, failed 1\n") {
		t.Fatalf("all or nothing: %s", r)
	}
	r = mustRun(t, dir, "", "import", "--db", db, "--file", file, "--as", "anna@example.com", "--skip-invalid")
	if !strings.HasSuffix(r.stdout, "created 1, updated 0, skipped 0, failed 1\n") {
		t.Fatalf("skip invalid: %s", r)
	}
	r = mustRun(t, dir, "", "import", "--db", db, "--file", file, "--as", "anna@example.com", "--skip-invalid", "--dry-run")
	if !strings.Contains(r.stdout, "Dry run") || !strings.HasSuffix(r.stdout, "created 0, updated 0, skipped 1, failed 1\n") {
		t.Fatalf("dry run: %s", r)
	}
	r = cartera(t, dir, "", "import", "--db", db, "--file", file, "--as", "nobody@example.com")
	if r.code == 0 {
		t.Fatalf("unknown user accepted: %s", r)
	}
}

// TestCLI_ImportKilled kills `cartera import` in the middle of a file, after
// some batches are committed, and finds nothing of it applied when the
// database is opened again.
func TestCLI_ImportKilled(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "cartera.db")
	mustRun(t, dir, adminPassword+"\n", "init", "--db", db, "--company", "Empresa ABC", "--admin-email", "anna@example.com", "--admin-name", "Anna Puig")
	var csv strings.Builder
	csv.WriteString("Nom,Cognoms,Correu electrònic\n")
	for i := 0; i < 200_000; i++ {
		fmt.Fprintf(&csv, "Nom%d,Cognom,c%d@example.com\n", i, i)
	}
	file := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "import", "--db", db, "--file", file, "--as", "anna@example.com")
	cmd.Env = cleanEnv()
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "rows (") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no progress within a minute: %s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sys := store.SystemActor()
	imps, err := st.FindImports(ctx, sys)
	if err != nil || len(imps) != 1 {
		t.Fatalf("imports: %v %d", err, len(imps))
	}
	if imps[0].Status != "failed" || imps[0].ErrorKey != "import.error.interrupted" {
		t.Errorf("import after the kill: %+v", imps[0])
	}
	if n, err := st.CountRecords(ctx, sys, store.EntContacts, store.Filter{}); err != nil || n != 0 {
		t.Errorf("contacts after the kill = %d (%v), want 0", n, err)
	}
}
