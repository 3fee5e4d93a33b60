package ui

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cartera/store"
)

// attachmentPattern matches the record types that take files in URLs.
const attachmentPattern = "accounts|contacts|leads|opportunities|activities|cases"

// maxUploadFiles bounds the files of one upload request.
const maxUploadFiles = 20

// attachmentUploadPath matches the upload endpoints (page and API), whose
// bodies get the attachment limit instead of the small form limit.
var attachmentUploadPath = regexp.MustCompile(`^(/api/v1)?/(` + attachmentPattern + `)/[0-9]+/attachments$`)

// attachmentBodies sends uploads to raw, which bounds their bodies itself
// (readUploads), and every other request to limited.
func attachmentBodies(raw, limited http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && attachmentUploadPath.MatchString(r.URL.Path) {
			raw.ServeHTTP(w, r)
			return
		}
		limited.ServeHTTP(w, r)
	})
}

// errTooLarge is the refusal of a file over the limit, found while reading.
var errTooLarge = &store.Error{Code: store.CodeInvalid, Key: "attachments.too_large", Fields: map[string]string{"file": "attachments.too_large"}}

// readUploads reads the "file" parts of a multipart body. Each part is
// copied, 32 KiB at a time and never past the size limit, to an unlinked
// temporary file beside the database (disk, not memory, and gone with the
// process), so the store's single writer is held only while it copies
// from local disk, never while a slow client sends. done closes the files.
func (s *Server) readUploads(w http.ResponseWriter, r *http.Request) (files []store.Upload, done func(), err error) {
	var open []*os.File
	done = func() {
		for _, f := range open {
			f.Close()
		}
	}
	max := s.st.MaxAttachmentSize()
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadFiles*(max+64<<10)+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, done, &store.Error{Code: store.CodeInvalid, Key: "attachments.no_file", Fields: map[string]string{"file": "attachments.no_file"}, Err: err}
	}
	dir := filepath.Dir(s.st.Path())
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, done, uploadReadError(err)
		}
		if part.FormName() != "file" {
			continue
		}
		if len(files) == maxUploadFiles {
			return nil, done, &store.Error{Code: store.CodeInvalid, Key: "attachments.too_many", Fields: map[string]string{"file": "attachments.too_many"}}
		}
		f, err := os.CreateTemp(dir, ".upload-*")
		if err != nil {
			return nil, done, err
		}
		os.Remove(f.Name())
		open = append(open, f)
		n, err := io.CopyN(f, part, max+1)
		if err != nil && err != io.EOF {
			return nil, done, uploadReadError(err)
		}
		if n > max {
			return nil, done, errTooLarge
		}
		if n == 0 && part.FileName() == "" {
			continue // a form sent with no file chosen
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, done, err
		}
		files = append(files, store.Upload{Name: part.FileName(), Body: f})
	}
	if len(files) == 0 {
		return nil, done, &store.Error{Code: store.CodeInvalid, Key: "attachments.no_file", Fields: map[string]string{"file": "attachments.no_file"}}
	}
	return files, done, nil
}

// uploadReadError names a body that broke off or ran past the request
// limit.
func uploadReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return &store.Error{Code: store.CodeInvalid, Key: "attachments.broken", Fields: map[string]string{"file": "attachments.broken"}, Err: err}
}

// uploadStatus is the status of a refused upload: 413 for a file over the
// limit, else the error's own.
func uploadStatus(err error) int {
	if store.AsError(err).Key == "attachments.too_large" {
		return http.StatusRequestEntityTooLarge
	}
	return statusFor(store.ErrorCode(err))
}

// upload reads the files of a request and stores them on a record.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, e store.Entity, id int64) ([]*store.Attachment, error) {
	files, done, err := s.readUploads(w, r)
	defer done()
	if err != nil {
		return nil, err
	}
	return s.st.AddAttachments(r.Context(), reqCtxOf(r).actor, e, id, files)
}

// serveAttachment streams a file as a download: never inline, never
// sniffed, sandboxed should a browser open it anyway. The store checks the
// parent record's permission first; refused calls onErr.
func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request, onErr func(error)) {
	started := false
	err := s.st.WriteAttachment(r.Context(), reqCtxOf(r).actor, pathID(r, "id"), func(at *store.Attachment) io.Writer {
		started = true
		h := w.Header()
		disp := mime.FormatMediaType("attachment", map[string]string{"filename": at.Name})
		if disp == "" {
			disp = "attachment"
		}
		h.Set("Content-Type", at.ServeType())
		h.Set("Content-Disposition", disp)
		h.Set("Content-Length", strconv.FormatInt(at.Size, 10))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
		h.Set("Cache-Control", "private, no-store")
		h.Set("ETag", `"`+at.SHA256+`"`)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return io.Discard
		}
		return w
	})
	if err != nil {
		if started {
			// The client went away mid-download, or the disk failed: the
			// status is sent, so only the log can tell.
			if r.Context().Err() == nil {
				s.log.Error("download broken off", "path", r.URL.Path, "err", err)
			}
			return
		}
		onErr(err)
	}
}

// attachmentJSON is a file as the API shows it.
func attachmentJSON(at *store.Attachment) map[string]any {
	return map[string]any{
		"id": itoa(at.ID), "entity": at.Entity, "record_id": itoa(at.RecordID), "name": at.Name,
		"content_type": at.ContentType, "size": at.Size, "sha256": at.SHA256, "thumbnail": at.HasThumb,
		"created_by": itoa(at.CreatedBy), "created_at": at.CreatedAt.Format(time.RFC3339), "url": "/api/v1/attachments/" + itoa(at.ID),
	}
}

func attachmentsJSON(list []*store.Attachment) map[string]any {
	data := make([]map[string]any, 0, len(list))
	for _, at := range list {
		data = append(data, attachmentJSON(at))
	}
	return map[string]any{"data": data}
}

func (s *Server) apiAttachments(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.Attachments(r.Context(), reqCtxOf(r).actor, apiEntity(r), pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, attachmentsJSON(list))
}

func (s *Server) apiAttachmentUpload(w http.ResponseWriter, r *http.Request) {
	list, err := s.upload(w, r, apiEntity(r), pathID(r, "id"))
	if err != nil {
		s.uploadError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, attachmentsJSON(list))
}

// uploadError answers a refused upload in JSON (the API, and the page's
// script).
func (s *Server) uploadError(w http.ResponseWriter, r *http.Request, err error) {
	if uploadStatus(err) == http.StatusRequestEntityTooLarge {
		tr := reqCtxOf(r).tr
		msg := tr.T("attachments.too_large")
		writeJSON(w, http.StatusRequestEntityTooLarge, apiErrorBody{Error: apiErrorDetail{Code: string(store.CodeInvalid), Message: msg, Fields: map[string]string{"file": msg}}})
		return
	}
	s.apiError(w, r, err)
}

func (s *Server) apiAttachmentGet(w http.ResponseWriter, r *http.Request) {
	s.serveAttachment(w, r, func(err error) { s.apiError(w, r, err) })
}

func (s *Server) apiAttachmentRename(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	at, err := s.st.RenameAttachment(r.Context(), reqCtxOf(r).actor, pathID(r, "id"), body.Name)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, attachmentJSON(at))
}

func (s *Server) apiAttachmentDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteAttachment(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// attachmentsSection is the record page's list of files and upload form.
type attachmentsSection struct {
	Action   string
	CanEdit  bool
	MaxBytes int64
	MaxMB    int64
	Items    []attachmentRow
}

// attachmentRow is one file as the record page lists it.
type attachmentRow struct {
	ID                    int64
	Name, Size, Type, Who string
	When                  string
	HasThumb              bool
}

// attachmentsFor builds a record page's attachments section; nil for
// record types that take no files.
func (s *Server) attachmentsFor(ctx context.Context, p *page, a *store.Actor, rec *store.Record) *attachmentsSection {
	if !strings.Contains("|"+attachmentPattern+"|", "|"+string(rec.Entity)+"|") {
		return nil
	}
	list, err := s.st.Attachments(ctx, a, rec.Entity, rec.ID)
	if err != nil {
		s.log.Error("attachments", "err", err)
		return nil
	}
	max := s.st.MaxAttachmentSize()
	sec := &attachmentsSection{Action: recordPath(rec.Entity, rec.ID) + "/attachments", MaxBytes: max, MaxMB: max >> 20,
		CanEdit: a.Can(rec.Entity, store.ActEdit) && a.CheckRecord(rec.Entity, store.ActEdit, rec.OwnerID, 0) == nil}
	for _, at := range list {
		sec.Items = append(sec.Items, attachmentRow{ID: at.ID, Name: at.Name, Size: humanSize(p, at.Size), Type: typeLabel(at.ContentType),
			Who: at.CreatedByName, When: p.DateTime(at.CreatedAt), HasThumb: at.HasThumb})
	}
	return sec
}

// humanSize writes a byte count for people: bytes, KB or MB.
func humanSize(p *page, n int64) string {
	switch {
	case n < 1<<10:
		return p.T("attachments.bytes", "N", p.Tr.Int(n))
	case n < 1<<20:
		return p.T("attachments.kb", "N", p.Tr.Number(float64(n)/(1<<10), 0))
	}
	return p.T("attachments.mb", "N", p.Tr.Number(float64(n)/(1<<20), 1))
}

// typeLabel is a short name of a content type (PDF, PNG, DOCX…).
func typeLabel(ct string) string {
	base, _, _ := strings.Cut(ct, ";")
	switch base {
	case "application/pdf":
		return "PDF"
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		return "DOCX"
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return "XLSX"
	case "application/vnd.openxmlformats-officedocument.presentationml.presentation":
		return "PPTX"
	case "text/plain":
		return "TXT"
	case "application/octet-stream":
		return "BIN"
	case "image/svg+xml":
		return "SVG"
	}
	if i := strings.LastIndexAny(base, "/.-"); i >= 0 {
		return strings.ToUpper(base[i+1:])
	}
	return strings.ToUpper(base)
}

// wantsJSON reports a request from the page's upload script, which reads
// JSON answers instead of following redirects.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// attachmentUpload stores files sent from a record page: by the script
// (one request per file, answered in JSON) or the plain form (several
// files, answered with a redirect back to the record).
func (s *Server) attachmentUpload(w http.ResponseWriter, r *http.Request) {
	e, _ := s.pageEntity(r)
	id := pathID(r, "id")
	list, err := s.upload(w, r, e, id)
	if wantsJSON(r) {
		if err != nil {
			s.uploadError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, attachmentsJSON(list))
		return
	}
	if err != nil {
		switch store.ErrorCode(err) {
		case store.CodeInvalid:
			s.flash(w, r, "error", store.AsError(err).Key)
		default:
			s.fail(w, r, err)
			return
		}
	} else {
		s.flash(w, r, "success", "attachments.uploaded")
	}
	redirect(w, r, recordPath(e, id)+"#attachments")
}

func (s *Server) attachmentDownload(w http.ResponseWriter, r *http.Request) {
	s.serveAttachment(w, r, func(err error) { s.fail(w, r, err) })
}

// attachmentThumb serves an image's re-encoded preview: the only bytes of
// a file ever shown inline.
func (s *Server) attachmentThumb(w http.ResponseWriter, r *http.Request) {
	b, ct, err := s.st.AttachmentThumb(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", "inline")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age=300")
	w.Write(b)
}

// attachmentBack redirects to the file's record after a change, or to the
// trash when it came from there.
func (s *Server) attachmentBack(w http.ResponseWriter, r *http.Request, at *store.Attachment) {
	if r.PostForm.Get("from") == "trash" || at == nil {
		redirect(w, r, "/trash")
		return
	}
	redirect(w, r, recordPath(at.Entity, at.RecordID)+"#attachments")
}

func (s *Server) attachmentRename(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	at, err := s.st.RenameAttachment(r.Context(), a, pathID(r, "id"), r.PostForm.Get("name"))
	if err != nil {
		if store.ErrorCode(err) != store.CodeInvalid {
			s.fail(w, r, err)
			return
		}
		s.flash(w, r, "error", "attachments.name_required")
		at, err = s.st.FindAttachment(r.Context(), a, pathID(r, "id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		s.flash(w, r, "success", "flash.saved")
	}
	s.attachmentBack(w, r, at)
}

// attachmentChange runs a trash action on a file and goes back.
func (s *Server) attachmentChange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a, ctx, id := reqCtxOf(r).actor, r.Context(), pathID(r, "id")
	var at *store.Attachment
	var err error
	var msg string
	switch {
	case strings.HasSuffix(r.URL.Path, "/delete"):
		if at, err = s.st.FindAttachment(ctx, a, id); err == nil {
			err = s.st.DeleteAttachment(ctx, a, id)
		}
		msg = "attachments.deleted"
	case strings.HasSuffix(r.URL.Path, "/restore"):
		if err = s.st.RestoreAttachment(ctx, a, id); err == nil {
			at, err = s.st.FindAttachment(ctx, a, id)
		}
		msg = "flash.restored"
	default:
		err = s.st.PurgeAttachment(ctx, a, id)
		msg = "flash.purged"
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", msg)
	s.attachmentBack(w, r, at)
}
