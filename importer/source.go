// Package importer reads the files a firm brings (CSV in any common
// delimiter and encoding, Excel workbooks), maps their columns onto
// Cartera's fields and turns their cells into values the store accepts.
package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"cartera/store"
)

// Encodings a CSV file may come in; "" in ReadOptions means detect.
const (
	EncUTF8     = "utf-8"
	EncUTF16LE  = "utf-16le"
	EncUTF16BE  = "utf-16be"
	EncWin1252  = "windows-1252"
	EncISO88591 = "iso-8859-1"
)

// Delimiters are the CSV separators detected, in order of preference.
var Delimiters = []rune{',', ';', '\t', '|'}

// ReadOptions say how to read a file; the zero value detects everything.
type ReadOptions struct {
	// Encoding of a CSV file ("" detects: byte-order mark, valid UTF-8,
	// else Windows-1252, which is what a Spanish Excel saves).
	Encoding string
	// Delimiter of a CSV file (0 detects among Delimiters).
	Delimiter rune
	// Sheet of a workbook ("" is the first).
	Sheet string
	// MaxUnzipped bounds a workbook's decompressed size (zip bombs).
	MaxUnzipped int64
	// MaxColumns bounds a row's width.
	MaxColumns int
}

// DefaultMaxUnzipped is the decompressed-size limit of a workbook.
const DefaultMaxUnzipped = 1 << 30

// Source is a file being read row by row: the header first, then the
// data rows, so a million-row file never sits in memory whole.
type Source struct {
	// Header holds the column names of the first row.
	Header []string
	// Format is "csv", "xlsx" or "vcf".
	Format string
	// Encoding and Delimiter are what a CSV file was read with.
	Encoding  string
	Delimiter rune
	// Sheets lists a workbook's sheets; Sheet is the one read.
	Sheets []string
	Sheet  string

	next  func() ([]string, error)
	close func() error
	line  int
	max   int
}

// Line is the file line (CSV) or row (workbook) of the last row read,
// counting the header as 1, for error reports.
func (s *Source) Line() int { return s.line }

// Next returns the next data row, or io.EOF after the last one. Rows
// shorter than the header are padded; blank rows are skipped.
func (s *Source) Next() ([]string, error) {
	for {
		row, err := s.next()
		if err != nil {
			return nil, err
		}
		s.line++
		if s.max > 0 && len(row) > s.max {
			return nil, fileError("import.error.too_many_columns")
		}
		blank := true
		for _, c := range row {
			if strings.TrimSpace(c) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		for len(row) < len(s.Header) {
			row = append(row, "")
		}
		return row, nil
	}
}

// Close releases the file.
func (s *Source) Close() error {
	if s.close != nil {
		return s.close()
	}
	return nil
}

// fileError is a problem with the file as a whole, translated by key.
func fileError(key string) error {
	return &store.Error{Code: store.CodeInvalid, Key: key, Fields: map[string]string{"file": key}}
}

// Open reads a file's header; name decides the format by its extension
// (.xlsx) or, failing that, by its first bytes (a zip is a workbook).
func Open(r io.Reader, name string, opts ReadOptions) (*Source, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64)
	if isVCard(name, head) {
		return openVCard(br)
	}
	head, _ = br.Peek(4)
	if strings.HasSuffix(strings.ToLower(name), ".xlsx") || bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return openXLSX(br, opts)
	}
	if strings.HasSuffix(strings.ToLower(name), ".xls") {
		return nil, fileError("import.error.old_excel")
	}
	return openCSV(br, opts)
}

func openCSV(br *bufio.Reader, opts ReadOptions) (*Source, error) {
	sample, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	enc := opts.Encoding
	if enc == "" {
		enc = detectEncoding(sample)
	}
	var dec *encoding.Decoder
	switch enc {
	case EncUTF8:
		dec = unicode.UTF8BOM.NewDecoder()
	case EncUTF16LE:
		dec = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
	case EncUTF16BE:
		dec = unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()
	case EncWin1252:
		dec = charmap.Windows1252.NewDecoder()
	case EncISO88591:
		dec = charmap.ISO8859_1.NewDecoder()
	default:
		return nil, fileError("import.error.encoding")
	}
	text, _, _ := transform.Bytes(dec, sample)
	if enc == EncUTF8 && !utf8.Valid(trimPartialRune(sample)) {
		return nil, fileError("import.error.invalid_utf8")
	}
	delim := opts.Delimiter
	if delim == 0 {
		delim = detectDelimiter(text)
	}
	var raw io.Reader = br
	if enc == EncUTF8 {
		// The decoder would turn bad bytes into U+FFFD silently.
		raw = &utf8Check{r: br}
	}
	in := transform.NewReader(raw, dec)
	cr := csv.NewReader(in)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	src := &Source{Format: "csv", Encoding: enc, Delimiter: delim, max: maxCols(opts)}
	src.next = func() ([]string, error) {
		row, err := cr.Read()
		if err != nil && !errors.Is(err, io.EOF) {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &store.Error{Code: store.CodeInvalid, Key: "import.error.csv", Fields: map[string]string{"file": "import.error.csv"}, Err: err}
			}
			if errors.Is(err, errInvalidUTF8) {
				return nil, fileError("import.error.invalid_utf8")
			}
			return nil, err
		}
		return row, err
	}
	header, err := src.next()
	if errors.Is(err, io.EOF) {
		return nil, fileError("import.error.empty")
	}
	if err != nil {
		return nil, err
	}
	src.line = 1
	src.Header = cleanHeader(header)
	if src.max > 0 && len(src.Header) > src.max {
		return nil, fileError("import.error.too_many_columns")
	}
	return src, nil
}

func maxCols(opts ReadOptions) int {
	if opts.MaxColumns > 0 {
		return opts.MaxColumns
	}
	return 500
}

// cleanHeader trims names and drops a stray byte-order mark.
func cleanHeader(h []string) []string {
	out := make([]string, len(h))
	for i, c := range h {
		out[i] = strings.TrimSpace(strings.TrimPrefix(c, "\ufeff"))
	}
	return out
}

// detectEncoding reads the byte-order mark, or takes valid UTF-8 as UTF-8
// and anything else as Windows-1252.
func detectEncoding(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return EncUTF8
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return EncUTF16LE
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return EncUTF16BE
	}
	if utf8.Valid(trimPartialRune(b)) {
		return EncUTF8
	}
	return EncWin1252
}

// trimPartialRune drops an incomplete rune cut by the sample's end.
func trimPartialRune(b []byte) []byte {
	for i := 0; i < 3 && len(b) > 0; i++ {
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size != 1 {
			break
		}
		if utf8.RuneStart(b[len(b)-1]) && !utf8.FullRune(b[len(b)-1:]) {
			b = b[:len(b)-1]
			continue
		}
		// A continuation byte: back up to its start.
		j := len(b) - 1
		for j > 0 && !utf8.RuneStart(b[j]) {
			j--
		}
		if !utf8.FullRune(b[j:]) {
			b = b[:j]
		}
		break
	}
	return b
}

// detectDelimiter picks the separator that splits the sample's first
// lines into the same number (more than one) of fields most often.
func detectDelimiter(text []byte) rune {
	best, bestScore := ',', -1.0
	for _, d := range Delimiters {
		cr := csv.NewReader(bytes.NewReader(text))
		cr.Comma = d
		cr.FieldsPerRecord = -1
		cr.LazyQuotes = true
		counts := map[int]int{}
		n := 0
		for n < 50 {
			rec, err := cr.Read()
			if err != nil {
				break
			}
			counts[len(rec)]++
			n++
		}
		if n == 0 {
			continue
		}
		mode, freq := 0, 0
		for c, f := range counts {
			if f > freq || (f == freq && c > mode) {
				mode, freq = c, f
			}
		}
		if mode < 2 {
			continue
		}
		score := float64(freq)/float64(n) + float64(mode)/1000
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

var errInvalidUTF8 = errors.New("invalid UTF-8")

// utf8Check fails a read of text that is not UTF-8, so a file that claims
// UTF-8 but is not never stores mangled names.
type utf8Check struct {
	r    io.Reader
	tail []byte
}

func (u *utf8Check) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	chunk := append(u.tail, p[:n]...)
	body := trimPartialRune(chunk)
	if !utf8.Valid(body) {
		return 0, errInvalidUTF8
	}
	u.tail = append([]byte(nil), chunk[len(body):]...)
	if errors.Is(err, io.EOF) && len(u.tail) > 0 {
		return 0, errInvalidUTF8
	}
	return n, err
}

func openXLSX(br *bufio.Reader, opts ReadOptions) (*Source, error) {
	limit := opts.MaxUnzipped
	if limit <= 0 {
		limit = DefaultMaxUnzipped
	}
	f, err := excelize.OpenReader(br, excelize.Options{UnzipSizeLimit: limit, UnzipXMLSizeLimit: min(limit, 16<<20)})
	if err != nil {
		if errors.Is(err, excelize.ErrOptionsUnzipSizeLimit) || strings.Contains(err.Error(), "unzip size") {
			return nil, fileError("import.error.too_large")
		}
		return nil, &store.Error{Code: store.CodeInvalid, Key: "import.error.xlsx", Fields: map[string]string{"file": "import.error.xlsx"}, Err: err}
	}
	sheets := f.GetSheetList()
	sheet := opts.Sheet
	if sheet == "" && len(sheets) > 0 {
		sheet = sheets[0]
	}
	found := false
	for _, s := range sheets {
		found = found || s == sheet
	}
	if !found {
		f.Close()
		return nil, fileError("import.error.sheet")
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, &store.Error{Code: store.CodeInvalid, Key: "import.error.xlsx", Fields: map[string]string{"file": "import.error.xlsx"}, Err: err}
	}
	src := &Source{Format: "xlsx", Sheets: sheets, Sheet: sheet, max: maxCols(opts)}
	src.next = func() ([]string, error) {
		if !rows.Next() {
			if err := rows.Error(); err != nil {
				return nil, &store.Error{Code: store.CodeInvalid, Key: "import.error.xlsx", Fields: map[string]string{"file": "import.error.xlsx"}, Err: err}
			}
			return nil, io.EOF
		}
		return rows.Columns(excelize.Options{RawCellValue: true})
	}
	src.close = func() error {
		rows.Close()
		return f.Close()
	}
	header, err := src.next()
	if errors.Is(err, io.EOF) {
		src.Close()
		return nil, fileError("import.error.empty")
	}
	if err != nil {
		src.Close()
		return nil, err
	}
	src.line = 1
	src.Header = cleanHeader(header)
	return src, nil
}
