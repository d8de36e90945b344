package web

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/pkttap/pkttap/internal/semaphore"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// multipartSlack is what a multipart upload may carry beyond the file itself
// (boundaries and part headers).
const multipartSlack = 64 << 10

// captureMagics are the first bytes an upload may start with: pcap in both
// byte orders and timestamp resolutions (and the "modified pcap" magic),
// pcapng's section header block, and gzip.
var captureMagics = [][]byte{
	{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4},
	{0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d},
	{0x34, 0xcd, 0xb2, 0xa1}, {0xa1, 0xb2, 0xcd, 0x34},
	{0x0a, 0x0d, 0x0d, 0x0a},
	{0x1f, 0x8b},
}

var errNotCapture = errors.New("not a .pcap, .pcapng or gzip file (the first bytes are not a capture file's magic number)")

// errTooBig marks an upload over the size limit.
var errTooBig = errors.New("upload too large")

// limitReader fails with errTooBig once more than max bytes come through.
type limitReader struct {
	r   io.Reader
	max int64
	n   int64
}

func (lr *limitReader) Read(p []byte) (int, error) {
	n, err := lr.r.Read(p)
	lr.n += int64(n)
	if lr.n > lr.max {
		return n, errTooBig
	}
	return n, err
}

// handleUpload receives a capture, either as the "file" part of a
// multipart/form-data body or as the raw request body (name in ?name=), and
// streams it to disk under the size limit. The index pass starts at once.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	limit := s.cfg.MaxUpload
	if r.ContentLength > limit+multipartSlack {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload of %d bytes exceeds the limit of %d bytes (pkttap-web --max-upload)", r.ContentLength, limit))
		return
	}
	if r.ContentLength > 0 {
		if err := s.pool.Fits(r.ContentLength); err != nil {
			s.uploadError(w, err)
			return
		}
	}
	release, err := s.uploads.acquire(r.Context(), clientAddr(r), s.cfg.UploadQueueWait)
	if err != nil {
		if errors.Is(err, semaphore.ErrBusy) {
			writeBusy(w, "every upload slot is taken")
		}
		return
	}
	defer release()
	defer s.watchUpload(w, r)()
	body := http.MaxBytesReader(w, r.Body, limit+multipartSlack)
	r.Body = body // r.MultipartReader reads r.Body: the cap holds for multipart bodies too
	name := r.URL.Query().Get("name")
	var src io.Reader = body
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad multipart upload: "+err.Error())
			return
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				s.uploadError(w, fmt.Errorf("no \"file\" part in the multipart upload: %w", err))
				return
			}
			if part.FormName() == "file" {
				name = part.FileName()
				src = part
				break
			}
			part.Close()
		}
	}
	s.receive(w, store.CleanName(name), src, limit)
}

// receive streams one upload to a new capture's folder and starts indexing
// it.
func (s *Server) receive(w http.ResponseWriter, name string, src io.Reader, limit int64) {
	br := bufio.NewReaderSize(&limitReader{r: src, max: limit}, headerPeek)
	magic, err := br.Peek(4)
	if len(magic) == 0 && errors.Is(err, io.EOF) {
		writeError(w, http.StatusUnsupportedMediaType, name+": the file is empty")
		return
	}
	if err != nil && len(magic) < 2 {
		if errors.Is(err, io.EOF) {
			err = errNotCapture
		}
		s.uploadError(w, err)
		return
	}
	known := false
	for _, m := range captureMagics {
		if bytes.HasPrefix(magic, m) {
			known = true
		}
	}
	if !known {
		writeError(w, http.StatusUnsupportedMediaType, name+": "+errNotCapture.Error())
		return
	}
	if err := checkHeader(br); err != nil {
		var fe *pcapio.FormatError
		if errors.As(err, &fe) || errors.Is(err, errBadGzip) {
			writeError(w, http.StatusUnsupportedMediaType, name+": not a valid capture file: "+err.Error())
		} else {
			s.uploadError(w, err)
		}
		return
	}
	c, err := s.pool.Add(name, br)
	if err != nil {
		s.uploadError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, c.Info())
}

// headerPeek is how many bytes of an upload are looked at, before it is
// accepted, to check its file header.
const headerPeek = 64 << 10

// errBadGzip marks an upload whose gzip stream is damaged at its start.
var errBadGzip = errors.New("bad gzip stream")

// checkHeader checks the capture file header at the start of an upload
// (decompressed first when it is gzip) without consuming it: the pcap file
// header, or pcapng's Section Header Block and the Interface Description
// Blocks after it. A fault is a *pcapio.FormatError, or errBadGzip. A
// header that goes on past the first headerPeek bytes is accepted as far
// as it is seen (the index pass judges the rest); other errors are the
// upload's own (the size limit, a stalled client).
func checkHeader(br *bufio.Reader) error {
	head, err := br.Peek(headerPeek)
	whole := errors.Is(err, io.EOF) // head is the whole upload
	if err != nil && !whole {
		return err
	}
	var src io.Reader = bytes.NewReader(head)
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return fmt.Errorf("%w: %w", errBadGzip, err)
		}
		src = zr
	}
	_, err = pcapio.NewReader(src)
	if err == nil || !whole && errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	var fe *pcapio.FormatError
	if !errors.As(err, &fe) {
		// The gzip stream failed under the reader.
		return fmt.Errorf("%w: %w", errBadGzip, err)
	}
	return err
}

// uploadError reports a failed upload with a fitting status.
func (s *Server) uploadError(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errTooBig) || errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload exceeds the limit of %d bytes (pkttap-web --max-upload)", s.cfg.MaxUpload))
	case errors.Is(err, errNotCapture):
		writeError(w, http.StatusUnsupportedMediaType, err.Error())
	case errors.Is(err, store.ErrDiskBudget):
		writeError(w, http.StatusInsufficientStorage, "upload refused: "+err.Error())
	case errors.Is(err, errStalled):
		writeError(w, http.StatusRequestTimeout, "upload failed: "+err.Error())
	default:
		writeError(w, http.StatusBadRequest, "upload failed: "+err.Error())
	}
}
