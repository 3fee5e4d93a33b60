package importer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"cartera/importer"
	"cartera/store"
)

// seed000 is the CSV of seed 000's exercise.
const seed000 = "Nom,Cognoms,Correu electrònic,Telèfon,Data de naixement,Preferències de contacte\n" +
	"Joan,Pérez,joan@example.com,123456789,1980-01-01,Correu electrònic\n" +
	"Maria,García,maria@example.com,987654321,1990-05-15,Telèfon\n"

// readAll opens a file and reads every row.
func readAll(t *testing.T, data []byte, name string, opts importer.ReadOptions) (*importer.Source, [][]string, error) {
	t.Helper()
	src, err := importer.Open(bytes.NewReader(data), name, opts)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	var rows [][]string
	for {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			return src, rows, nil
		}
		if err != nil {
			return src, rows, err
		}
		rows = append(rows, row)
	}
}

func encode(t *testing.T, s string, enc string) []byte {
	t.Helper()
	switch enc {
	case importer.EncWin1252:
		b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	case importer.EncUTF16LE:
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	case "utf-8-bom":
		return append([]byte{0xEF, 0xBB, 0xBF}, s...)
	}
	return []byte(s)
}

// TestImporter_Open reads the delimiter and encoding matrix and workbooks.
func TestImporter_Open(t *testing.T) {
	for _, enc := range []string{importer.EncUTF8, "utf-8-bom", importer.EncWin1252, importer.EncUTF16LE} {
		for _, delim := range importer.Delimiters {
			name := enc + "/" + string(delim)
			t.Run(name, func(t *testing.T) {
				text := strings.ReplaceAll(seed000, ",", string(delim))
				src, rows, err := readAll(t, encode(t, text, enc), "clients.csv", importer.ReadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if src.Delimiter != delim {
					t.Errorf("delimiter %q, want %q", src.Delimiter, delim)
				}
				wantEnc := enc
				if enc == "utf-8-bom" {
					wantEnc = importer.EncUTF8
				}
				if src.Encoding != wantEnc {
					t.Errorf("encoding %s, want %s", src.Encoding, wantEnc)
				}
				if len(src.Header) != 6 || src.Header[2] != "Correu electrònic" || src.Header[0] != "Nom" {
					t.Errorf("header %q", src.Header)
				}
				if len(rows) != 2 || rows[1][1] != "García" || rows[0][5] != "Correu electrònic" {
					t.Errorf("rows %q", rows)
				}
			})
		}
	}
	t.Run("quoted fields with newlines and ragged rows", func(t *testing.T) {
		text := "Nom;Notes;Ciutat\n\"Anna\";\"Primera línia\nsegona; amb punt i coma\";Vic\nBiel;curt\n\n"
		_, rows, err := readAll(t, []byte(text), "x.csv", importer.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0][1] != "Primera línia\nsegona; amb punt i coma" || len(rows[1]) != 3 || rows[1][2] != "" {
			t.Errorf("rows %q", rows)
		}
	})
	t.Run("bad quotes refused with a translated key", func(t *testing.T) {
		_, _, err := readAll(t, []byte("a,b\n\"x,y\n1,2\"z\"\n"), "x.csv", importer.ReadOptions{})
		if store.AsError(err).Key != "import.error.csv" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("invalid UTF-8 when UTF-8 is chosen", func(t *testing.T) {
		_, _, err := readAll(t, encode(t, seed000, importer.EncWin1252), "x.csv", importer.ReadOptions{Encoding: importer.EncUTF8})
		if store.AsError(err).Key != "import.error.invalid_utf8" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		_, _, err := readAll(t, nil, "x.csv", importer.ReadOptions{})
		if store.AsError(err).Key != "import.error.empty" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("xlsx first and chosen sheet, raw dates", func(t *testing.T) {
		f := excelize.NewFile()
		f.SetSheetRow("Sheet1", "A1", &[]any{"Nom", "Data de naixement"})
		f.SetSheetRow("Sheet1", "A2", &[]any{"Joan", 29221}) // 1980-01-01 as an Excel serial
		f.NewSheet("Altres")
		f.SetSheetRow("Altres", "A1", &[]any{"Empresa"})
		f.SetSheetRow("Altres", "A2", &[]any{"Empresa ABC"})
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			t.Fatal(err)
		}
		src, rows, err := readAll(t, buf.Bytes(), "llista.xlsx", importer.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if src.Format != "xlsx" || len(src.Sheets) != 2 || src.Header[1] != "Data de naixement" || len(rows) != 1 || rows[0][1] != "29221" {
			t.Errorf("sheet 1: %v %q %q", src.Sheets, src.Header, rows)
		}
		_, rows, err = readAll(t, buf.Bytes(), "llista.xlsx", importer.ReadOptions{Sheet: "Altres"})
		if err != nil || len(rows) != 1 || rows[0][0] != "Empresa ABC" {
			t.Errorf("sheet 2: %v %q", err, rows)
		}
		if _, _, err := readAll(t, buf.Bytes(), "llista.xlsx", importer.ReadOptions{Sheet: "Cap"}); store.AsError(err).Key != "import.error.sheet" {
			t.Errorf("unknown sheet: %v", err)
		}
	})
	t.Run("zip bomb refused", func(t *testing.T) {
		f := excelize.NewFile()
		sw, _ := f.NewStreamWriter("Sheet1")
		for i := 1; i <= 2000; i++ {
			cell, _ := excelize.CoordinatesToCellName(1, i)
			sw.SetRow(cell, []any{strings.Repeat("a", 1000)})
		}
		sw.Flush()
		var buf bytes.Buffer
		f.Write(&buf)
		_, _, err := readAll(t, buf.Bytes(), "bomb.xlsx", importer.ReadOptions{MaxUnzipped: 100 << 10})
		if err == nil || store.ErrorCode(err) != store.CodeInvalid {
			t.Errorf("err = %v", err)
		}
	})
}

// mustSchema opens a store with seed 000's custom fields on contacts and
// returns its schema.
func mustSchema(t *testing.T) *store.Schema {
	t.Helper()
	return mustStore(t).Schema()
}

// mustStore opens a store with seed 000's custom fields on contacts.
func mustStore(t *testing.T) *store.Store { return mustStoreB(t) }

// mustStoreB is mustStore for tests and benchmarks alike.
func mustStoreB(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "cartera.db"), PasswordMemoryKiB: 64, PasswordTime: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sys := store.SystemActor()
	if _, err := st.CreateCustomField(ctx, sys, store.EntContacts, store.CustomFieldInput{Key: "birth_date", Kind: store.KDate, Labels: store.Labels{"ca": "Data de naixement", "es": "Fecha de nacimiento", "en": "Date of birth"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateCustomField(ctx, sys, store.EntContacts, store.CustomFieldInput{Key: "contact_preference", Kind: store.KSelect,
		Labels:  store.Labels{"ca": "Preferències de contacte", "es": "Preferencias de contacto"},
		Options: []store.Option{{Key: "email", Labels: store.Labels{"ca": "Correu electrònic", "es": "Correo electrónico"}}, {Key: "phone", Labels: store.Labels{"ca": "Telèfon", "es": "Teléfono"}}}}); err != nil {
		t.Fatal(err)
	}
	return st
}
