package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AttachmentEntities are the record types that take files, in navigation
// order; tasks do not (a task's files belong on what it is about).
var AttachmentEntities = []Entity{EntAccounts, EntContacts, EntLeads, EntOpportunities, EntActivities, EntCases}

// DefaultMaxAttachment is the largest file accepted unless configured
// ([attachments] max_mb).
const DefaultMaxAttachment = 25 << 20

// attachmentChunk is the size of one stored piece of a file: uploads are
// read and downloads written this much at a time, whatever the file's size.
const attachmentChunk = 256 << 10

// Attachment is a file attached to a record; its bytes are read with
// WriteAttachment, never held in this struct.
type Attachment struct {
	ID       int64
	Entity   Entity
	RecordID int64
	// RecordTitle is the parent record's title, filled where a list mixes
	// records (the trash).
	RecordTitle string
	Name        string
	// ContentType is what the bytes are, detected from their content; the
	// name the sender gave plays no part.
	ContentType   string
	Size          int64
	SHA256        string
	HasThumb      bool
	CreatedBy     int64
	CreatedByName string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DeletedAt     time.Time
}

// activeTypes are the types a browser could run as a page or script; they
// are downloaded as opaque bytes so that no browser ever interprets them.
var activeTypes = []string{"text/html", "image/svg+xml", "text/xml", "application/xml", "application/xhtml+xml", "text/javascript", "application/javascript"}

// ServeType is the Content-Type a download declares: the detected type, or
// application/octet-stream for anything a browser could render or run.
func (at *Attachment) ServeType() string {
	base, _, _ := strings.Cut(at.ContentType, ";")
	if slices.Contains(activeTypes, strings.TrimSpace(base)) {
		return "application/octet-stream"
	}
	return at.ContentType
}

// IsImage reports a raster image type the thumbnailer reads.
func (at *Attachment) IsImage() bool {
	return at.ContentType == "image/png" || at.ContentType == "image/jpeg" || at.ContentType == "image/gif"
}

// Upload is one file to attach: the name its sender gave and its bytes,
// read once, a chunk at a time.
type Upload struct {
	Name string
	Body io.Reader
}

// MaxAttachmentSize is the largest file AddAttachments accepts, in bytes, so
// front ends can refuse a larger one before reading it all.
func (s *Store) MaxAttachmentSize() int64 {
	if s.opts.MaxAttachment > 0 {
		return s.opts.MaxAttachment
	}
	return DefaultMaxAttachment
}

// attachmentParent loads the record a file belongs to and applies its
// permission: not visible is not_found, visible but not allowed is
// forbidden.
func (s *Store) attachmentParent(ctx context.Context, q querier, a *Actor, e Entity, id int64, act Action) (*Record, error) {
	if !slices.Contains(AttachmentEntities, e) {
		return nil, errNotFound()
	}
	d := s.def(e)
	if d == nil {
		return nil, errNotFound()
	}
	rec, err := s.loadRecord(ctx, q, a, d, id, false)
	if err != nil {
		return nil, err
	}
	if act != ActView {
		if err := a.checkRecord(e, act, rec.OwnerID, rec.ownerTeam); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

const attachmentCols = `t.id, t.entity, t.record_id, t.name, t.content_type, t.size, t.sha256, t.thumb IS NOT NULL, COALESCE(t.created_by, 0), COALESCE(u.name, ''), t.created_at, t.updated_at, t.deleted_at`

const attachmentFrom = ` FROM attachments t LEFT JOIN users u ON u.id = t.created_by`

func scanAttachment(sc interface{ Scan(...any) error }, extra ...any) (*Attachment, error) {
	at := &Attachment{}
	var ent string
	var ca, ua, da int64
	dest := append([]any{&at.ID, &ent, &at.RecordID, &at.Name, &at.ContentType, &at.Size, &at.SHA256, &at.HasThumb, &at.CreatedBy, &at.CreatedByName, &ca, &ua, &da}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	at.Entity = Entity(ent)
	at.CreatedAt, at.UpdatedAt, at.DeletedAt = fromMS(ca), fromMS(ua), fromMS(da)
	return at, nil
}

// loadAttachment reads a file and checks act on its parent record; a file
// whose parent the actor cannot see is not_found, like the parent.
func (s *Store) loadAttachment(ctx context.Context, q querier, a *Actor, id int64, act Action, trash bool) (*Attachment, *Record, error) {
	del := "t.deleted_at = 0"
	if trash {
		del = "t.deleted_at <> 0"
	}
	at, err := scanAttachment(q.QueryRowContext(ctx, `SELECT `+attachmentCols+attachmentFrom+` WHERE t.id = ? AND `+del, id))
	if err != nil {
		return nil, nil, wrapErr(err)
	}
	rec, err := s.attachmentParent(ctx, q, a, at.Entity, at.RecordID, act)
	if err != nil {
		return nil, nil, err
	}
	at.RecordTitle = rec.Title
	return at, rec, nil
}

// AddAttachments stores files on a record in one transaction: all of them
// or, when one is refused (empty, larger than MaxAttachmentSize), none.
// Each body is read a chunk at a time and never past the limit, so memory
// stays flat and an oversized file is refused as soon as it shows. It
// needs edit permission on the record.
func (s *Store) AddAttachments(ctx context.Context, a *Actor, e Entity, recordID int64, files []Upload) ([]*Attachment, error) {
	if len(files) == 0 {
		return nil, errInvalid(map[string]string{"file": "attachments.no_file"})
	}
	buf := make([]byte, attachmentChunk)
	var out []*Attachment
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rec, err := s.attachmentParent(ctx, tx, a, e, recordID, ActEdit)
		if err != nil {
			return err
		}
		for _, f := range files {
			at, err := s.storeFile(ctx, tx, a, e, recordID, f, buf)
			if err != nil {
				return err
			}
			at.RecordTitle = rec.Title
			out = append(out, at)
			if err := s.audit(ctx, tx, a, "create", "attachments", at.ID, map[string]any{"entity": e, "record_id": recordID, "name": at.Name, "size": at.Size, "content_type": at.ContentType, "sha256": at.SHA256}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// storeFile writes one upload as chunk rows, checking the size limit before
// each chunk is stored, then records its size, hash and thumbnail.
func (s *Store) storeFile(ctx context.Context, tx *sql.Tx, a *Actor, e Entity, recordID int64, f Upload, buf []byte) (*Attachment, error) {
	max := s.MaxAttachmentSize()
	if f.Body == nil {
		return nil, errInvalid(map[string]string{"file": "attachments.empty"})
	}
	// Never read more than one byte past the limit from the sender.
	body := &io.LimitedReader{R: f.Body, N: max + 1}
	n, rerr := io.ReadFull(body, buf)
	if n == 0 {
		if rerr != nil && rerr != io.EOF {
			return nil, rerr
		}
		return nil, errInvalid(map[string]string{"file": "attachments.empty"})
	}
	name := CleanFileName(f.Name)
	if name == "" {
		name = "attachment"
	}
	now := s.nowMS()
	at := &Attachment{Entity: e, RecordID: recordID, Name: name, ContentType: detectType(buf[:n]), CreatedBy: a.UserID, CreatedByName: a.Name,
		CreatedAt: fromMS(now), UpdatedAt: fromMS(now)}
	res, err := tx.ExecContext(ctx, `INSERT INTO attachments (entity, record_id, name, content_type, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(e), recordID, name, at.ContentType, a.auditUser(), now, now)
	if err != nil {
		return nil, err
	}
	if at.ID, err = res.LastInsertId(); err != nil {
		return nil, err
	}
	h := sha256.New()
	for seq := 0; n > 0; seq++ {
		at.Size += int64(n)
		if at.Size > max {
			return nil, &Error{Code: CodeInvalid, Key: "attachments.too_large", Fields: map[string]string{"file": "attachments.too_large"}}
		}
		if _, err := execTx(ctx, tx, `INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES (?, ?, ?)`, at.ID, seq, buf[:n]); err != nil {
			return nil, err
		}
		h.Write(buf[:n])
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
		n, rerr = io.ReadFull(body, buf)
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return nil, rerr
		}
	}
	at.SHA256 = hex.EncodeToString(h.Sum(nil))
	var thumb []byte
	var thumbType string
	if at.IsImage() {
		thumb, thumbType = makeThumb(at.ContentType, func() io.Reader { return &chunkReader{ctx: ctx, q: tx, id: at.ID} })
	}
	at.HasThumb = thumb != nil
	_, err = tx.ExecContext(ctx, `UPDATE attachments SET size = ?, sha256 = ?, thumb = ?, thumb_type = ? WHERE id = ?`, at.Size, at.SHA256, thumb, thumbType, at.ID)
	return at, err
}

// chunkReader reads a stored file back one chunk at a time.
type chunkReader struct {
	ctx  context.Context
	q    querier
	id   int64
	seq  int
	buf  []byte
	off  int
	done bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.off >= len(c.buf) {
		if c.done {
			return 0, io.EOF
		}
		c.buf = c.buf[:0]
		err := c.q.QueryRowContext(c.ctx, `SELECT data FROM attachment_chunks WHERE attachment_id = ? AND seq = ?`, c.id, c.seq).Scan(&c.buf)
		if errors.Is(err, sql.ErrNoRows) {
			c.done = true
			return 0, io.EOF
		}
		if err != nil {
			return 0, err
		}
		c.seq++
		c.off = 0
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

// CleanFileName makes a sender's file name safe to store and show: the last
// path element only, valid UTF-8, without control or invisible formatting
// characters (a right-to-left override can disguise "exe" as "pdf"), at most
// 200 characters.
func CleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	return name
}

// detectType names what a file is from its first bytes: net/http's sniffer
// plus magic numbers it lacks (office documents, 7-Zip, HEIC) and SVG, which
// it reads as text or XML.
func detectType(b []byte) string {
	head := b[:min(len(b), 512)]
	ct := http.DetectContentType(head)
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		if t := zipType(b); t != "" {
			return t
		}
	case bytes.HasPrefix(b, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")):
		return "application/x-ole-storage" // .doc, .xls, .msg
	case bytes.HasPrefix(b, []byte("7z\xBC\xAF\x27\x1C")):
		return "application/x-7z-compressed"
	case len(b) >= 12 && string(b[4:8]) == "ftyp" && (string(b[8:12]) == "heic" || string(b[8:12]) == "heix" || string(b[8:12]) == "mif1"):
		return "image/heic"
	}
	if strings.HasPrefix(ct, "text/") {
		// An SVG is an image that can carry script: it must be known as one.
		if bytes.Contains(bytes.ToLower(head), []byte("<svg")) {
			return "image/svg+xml"
		}
	}
	return ct
}

// zipType tells the zip-based office formats apart by the names of their
// first entries; a plain zip stays application/zip.
func zipType(b []byte) string {
	if len(b) > 38 && string(b[30:38]) == "mimetype" {
		rest := b[38:min(len(b), 38+80)]
		for _, t := range []string{"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet", "application/vnd.oasis.opendocument.presentation"} {
			if bytes.HasPrefix(rest, []byte(t)) {
				return t
			}
		}
	}
	if !bytes.Contains(b, []byte("[Content_Types].xml")) {
		return ""
	}
	switch {
	case bytes.Contains(b, []byte("word/")):
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case bytes.Contains(b, []byte("xl/")):
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case bytes.Contains(b, []byte("ppt/")):
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	}
	return ""
}

// Attachments lists a record's files, newest first; the record's view
// permission applies.
func (s *Store) Attachments(ctx context.Context, a *Actor, e Entity, recordID int64) ([]*Attachment, error) {
	var out []*Attachment
	err := s.read(ctx, func(tx *sql.Tx) error {
		if _, err := s.attachmentParent(ctx, tx, a, e, recordID, ActView); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+attachmentCols+attachmentFrom+` WHERE t.entity = ? AND t.record_id = ? AND t.deleted_at = 0 ORDER BY t.created_at DESC, t.id DESC`, string(e), recordID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			at, err := scanAttachment(rows)
			if err != nil {
				return err
			}
			out = append(out, at)
		}
		return rows.Err()
	})
	return out, err
}

// FindAttachment returns one file's description if the actor may view its
// parent record; otherwise not_found.
func (s *Store) FindAttachment(ctx context.Context, a *Actor, id int64) (*Attachment, error) {
	var at *Attachment
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		at, _, err = s.loadAttachment(ctx, tx, a, id, ActView, false)
		return err
	})
	return at, err
}

// WriteAttachment streams a file the actor may view: the parent record's
// permission is checked, then prepare sees the description (to set
// headers) and returns where the bytes go, written one chunk at a time from
// one consistent snapshot. prepare is not called when the file is refused.
func (s *Store) WriteAttachment(ctx context.Context, a *Actor, id int64, prepare func(*Attachment) io.Writer) error {
	return s.read(ctx, func(tx *sql.Tx) error {
		at, _, err := s.loadAttachment(ctx, tx, a, id, ActView, false)
		if err != nil {
			return err
		}
		w := prepare(at)
		rows, err := tx.QueryContext(ctx, `SELECT data FROM attachment_chunks WHERE attachment_id = ? ORDER BY seq`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b sql.RawBytes
			if err := rows.Scan(&b); err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// AttachmentThumb returns the re-encoded preview of an image file and its
// type (image/png or image/jpeg), under the parent record's view
// permission; a file without one is not_found.
func (s *Store) AttachmentThumb(ctx context.Context, a *Actor, id int64) ([]byte, string, error) {
	var b []byte
	var ct string
	err := s.read(ctx, func(tx *sql.Tx) error {
		if _, _, err := s.loadAttachment(ctx, tx, a, id, ActView, false); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT thumb, thumb_type FROM attachments WHERE id = ? AND thumb IS NOT NULL`, id).Scan(&b, &ct)
	})
	return b, ct, err
}

// RenameAttachment changes a file's name; it needs edit permission on the
// parent record.
func (s *Store) RenameAttachment(ctx context.Context, a *Actor, id int64, name string) (*Attachment, error) {
	clean := CleanFileName(name)
	if clean == "" {
		return nil, errInvalid(map[string]string{"name": "attachments.name_required"})
	}
	var at *Attachment
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if at, _, err = s.loadAttachment(ctx, tx, a, id, ActEdit, false); err != nil {
			return err
		}
		old := at.Name
		now := s.nowMS()
		if _, err := tx.ExecContext(ctx, `UPDATE attachments SET name = ?, updated_at = ? WHERE id = ?`, clean, now, id); err != nil {
			return err
		}
		at.Name, at.UpdatedAt = clean, fromMS(now)
		return s.audit(ctx, tx, a, "rename", "attachments", id, map[string]any{"entity": at.Entity, "record_id": at.RecordID, "old": old, "new": clean})
	})
	return at, err
}

// DeleteAttachment moves a file to the trash, from where it can be restored;
// it needs edit permission on the parent record.
func (s *Store) DeleteAttachment(ctx context.Context, a *Actor, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		at, _, err := s.loadAttachment(ctx, tx, a, id, ActEdit, false)
		if err != nil {
			return err
		}
		now := s.nowMS()
		if _, err := tx.ExecContext(ctx, `UPDATE attachments SET deleted_at = ?, deleted_by = ?, updated_at = ? WHERE id = ?`, now, a.auditUser(), now, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "attachments", id, map[string]any{"entity": at.Entity, "record_id": at.RecordID, "name": at.Name})
	})
}

// RestoreAttachment brings a file back from the trash; it needs edit
// permission on the parent record.
func (s *Store) RestoreAttachment(ctx context.Context, a *Actor, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		at, _, err := s.loadAttachment(ctx, tx, a, id, ActEdit, true)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE attachments SET deleted_at = 0, deleted_by = NULL, updated_at = ? WHERE id = ?`, s.nowMS(), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "restore", "attachments", id, map[string]any{"entity": at.Entity, "record_id": at.RecordID, "name": at.Name})
	})
}

// PurgeAttachment deletes a trashed file and its bytes for good; like
// purging records, it is for administrators (settings capability). Purging
// a record purges its files too (a trigger of migration 0021).
func (s *Store) PurgeAttachment(ctx context.Context, a *Actor, id int64) error {
	if err := a.require(CapSettings); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		at, _, err := s.loadAttachment(ctx, tx, a, id, ActView, true)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM attachments WHERE id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "purge", "attachments", id, map[string]any{"entity": at.Entity, "record_id": at.RecordID, "name": at.Name, "size": at.Size})
	})
}

// TrashedAttachments lists files in the trash whose parent record is live
// and editable by the actor (who may therefore restore them), most recently
// deleted first.
func (s *Store) TrashedAttachments(ctx context.Context, a *Actor, limit int) ([]*Attachment, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []*Attachment
	err := s.read(ctx, func(tx *sql.Tx) error {
		for _, e := range AttachmentEntities {
			d := s.def(e)
			if d == nil || !a.Can(e, ActEdit) {
				continue
			}
			cond, args := a.scopeSQL(e, ActEdit, "p.owner_id")
			rows, err := tx.QueryContext(ctx, `SELECT `+attachmentCols+`, `+titleSQL(e, "p")+attachmentFrom+` JOIN `+d.Table+` p ON p.id = t.record_id AND p.deleted_at = 0
				WHERE t.entity = ? AND t.deleted_at <> 0 AND `+cond+` ORDER BY t.deleted_at DESC LIMIT ?`, append(append([]any{string(e)}, args...), limit)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var title string
				at, err := scanAttachment(rows, &title)
				if err != nil {
					rows.Close()
					return err
				}
				at.RecordTitle = title
				out = append(out, at)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(out, func(x, y *Attachment) int { return y.DeletedAt.Compare(x.DeletedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// moveAttachments gives a merged record's files (trashed ones too) to the
// record it was merged into, returning their ids so the merge can be undone.
func (s *Store) moveAttachments(ctx context.Context, tx *sql.Tx, e Entity, from, to int64) ([]int64, error) {
	ids, err := idsWhere(ctx, tx, `SELECT id FROM attachments WHERE entity = ? AND record_id = ?`, string(e), from)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE attachments SET record_id = ? WHERE entity = ? AND record_id = ?`, to, string(e), from)
	return ids, err
}
