package importer_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
	"unicode/utf8"

	"cartera/importer"
)

// fuzzRead reads a source to the end, as an import would, within a row
// budget so a fuzzed file cannot make the test run for ever.
func fuzzRead(t *testing.T, src *importer.Source) {
	t.Helper()
	for range 10_000 {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			return
		}
		if len(row) < len(src.Header) {
			t.Fatalf("row of %d cells under a header of %d", len(row), len(src.Header))
		}
		for _, c := range row {
			if !utf8.ValidString(c) {
				t.Fatalf("invalid UTF-8 reached a cell: %q", c)
			}
		}
	}
}

// FuzzOpenCSV feeds arbitrary bytes to the CSV reader (delimiter and
// encoding detection, quotes, ragged rows): it must never panic, and
// every cell it yields is valid UTF-8.
func FuzzOpenCSV(f *testing.F) {
	for _, s := range []string{
		"Nom,Cognoms,Correu electrònic\nLaura,García,laura@example.com\n",
		"Nom;Cognoms\n\"Puig; Ferrer\";\"amb \"\"cometes\"\"\"\n",
		"a\tb\n1\t2\t3\n",
		"\xef\xbb\xbfname|email\nx|y\n",
		"\xff\xfeN\x00o\x00m\x00\n\x00",
		"Nom,Cognoms\nJos\xe9,N\xfa\xf1ez\n",
		"\"unterminated,quote\nx,y\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := importer.Open(bytes.NewReader(data), "f.csv", importer.ReadOptions{MaxColumns: 500})
		if err != nil {
			return
		}
		defer src.Close()
		for _, h := range src.Header {
			if !utf8.ValidString(h) {
				t.Fatalf("invalid UTF-8 header %q", h)
			}
		}
		fuzzRead(t, src)
	})
}

// FuzzOpenVCard feeds arbitrary bytes to the vCard reader.
func FuzzOpenVCard(f *testing.F) {
	for _, s := range []string{
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Laura García\r\nN:García;Laura;;;\r\nEMAIL:laura@example.com\r\nTEL:+34600000000\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\nVERSION:3.0\nN:Puig;Roser\nORG:Empresa ABC\nEND:VCARD\n",
		"BEGIN:VCARD\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\r\nFN:x\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := importer.Open(bytes.NewReader(data), "f.vcf", importer.ReadOptions{})
		if err != nil {
			return
		}
		defer src.Close()
		fuzzRead(t, src)
	})
}

// FuzzOpenXLSX feeds arbitrary bytes as a workbook (zip): refused or read,
// never a panic, with the decompressed size bounded.
func FuzzOpenXLSX(f *testing.F) {
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("not a zip at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := importer.Open(bytes.NewReader(data), "f.xlsx", importer.ReadOptions{MaxUnzipped: 1 << 20})
		if err != nil {
			return
		}
		defer src.Close()
		fuzzRead(t, src)
	})
}

// FuzzParseDate: any text either parses to a date in a sane range or is
// refused.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-03-04", "04/03/2024", "4-3-2024", "45352", "31/02/2024", "", "9999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, order := range []importer.DateOrder{importer.DayFirst, importer.MonthFirst} {
			d, ok := importer.ParseDate(s, order)
			if ok && (d.Year() < 1 || d.Year() > 9999 || d.Location() != time.UTC && d.Location().String() != "UTC") {
				t.Fatalf("ParseDate(%q) = %v", s, d)
			}
		}
	})
}
