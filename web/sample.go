package web

import (
	"bytes"
	_ "embed"
	"net/http"

	"github.com/pkttap/pkttap/store"
)

//go:generate go run ../internal/samplegen/cmd/gensample -o sample.pcapng

// sampleCapture is the demo capture, written by package samplegen (see
// TestSampleUpToDate).
//
//go:embed sample.pcapng
var sampleCapture []byte

// sampleName is the name the demo capture is opened under.
const sampleName = "pkttap-sample.pcapng"

// handleSample opens the embedded demo capture: the copy already open if
// there is one (200), else a new copy (201). Another copy would hold the
// same read-only packets under the same name, and the capture menu could
// not tell the two apart; what a view of a capture has of its own (filter,
// selection, scroll) is the browser's, so sharing the copy loses nothing.
func (s *Server) handleSample(w http.ResponseWriter, r *http.Request) {
	s.sampleMu.Lock() // two quick clicks open one copy
	defer s.sampleMu.Unlock()
	if c := s.openSample(); c != nil {
		writeJSON(w, http.StatusOK, c.Info())
		return
	}
	s.receive(w, sampleName, bytes.NewReader(sampleCapture), s.cfg.MaxUpload)
}

// openSample returns an open capture of the demo capture, one of its name
// whose file holds exactly its bytes, or nil.
func (s *Server) openSample() *store.Store {
	for _, c := range s.pool.List() {
		if c.Name() == sampleName && c.HoldsFile(sampleCapture) {
			return c
		}
	}
	return nil
}
