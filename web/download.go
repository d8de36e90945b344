package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// handleDownload streams the capture's packets, all of them or those
// matching ?filter=, as ?format=pcap (default) or pcapng (see
// store.Store.Download). With ?check=1 it answers 204 No Content where it
// would start the download, and the refusal a download would get
// otherwise: the page asks first, so it can show why a download is
// refused (a browser drops a refused download's message).
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	format, ext, ok := formatParam(w, r)
	if !ok {
		return
	}
	expr := store.NormalizeFilter(r.URL.Query().Get("filter"))
	var j *store.Job
	if expr != "" {
		if j = s.job(w, r, c, expr); j == nil {
			return
		}
	}
	d, err := c.Download(r.Context(), j, format)
	if !downloadError(w, r, err) {
		return
	}
	if r.URL.Query().Get("check") == "1" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.streamDownload(w, r, c, d, downloadName(c.Name(), expr, ext))
}

// formatParam reads ?format=: pcap (default) or pcapng, and the file name
// extension that goes with it; it answers anything else with 400.
func formatParam(w http.ResponseWriter, r *http.Request) (pcapio.Format, string, bool) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "pcap":
		return pcapio.FormatPcap, ".pcap", true
	case "pcapng":
		return pcapio.FormatPcapNg, ".pcapng", true
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format must be pcap or pcapng, not %q", f))
		return 0, "", false
	}
}

// downloadError answers the error of preparing a download (409 for a
// .pcap of mixed link types) and reports whether there was none.
func downloadError(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case r.Context().Err() != nil:
		return false // the client has gone
	case errors.Is(err, store.ErrMixedLinkTypes):
		writeError(w, http.StatusConflict, err.Error())
		return false
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return false
	}
	return true
}

// streamDownload writes d as an attachment named name.
func (s *Server) streamDownload(w http.ResponseWriter, r *http.Request, c *store.Store, d *store.Download, name string) {
	h := w.Header()
	h.Set("Content-Type", "application/vnd.tcpdump.pcap")
	if d.Format() == pcapio.FormatPcapNg {
		h.Set("Content-Type", "application/x-pcapng")
	}
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	body, done := s.watchDownload(w)
	defer done()
	if err := d.WriteTo(r.Context(), body); err != nil {
		s.log.Warn("download aborted", "id", c.ID(), "err", err)
		panic(http.ErrAbortHandler) // the client must see a broken download, not a short file
	}
}
