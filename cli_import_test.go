package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
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
