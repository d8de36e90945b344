package web

import (
	"bytes"
	_ "embed"
	"net/http"
)

//go:generate go run ../internal/samplegen/cmd/gensample -o sample.pcapng

// sampleCapture is the demo capture, written by package samplegen (see
// TestSampleUpToDate).
//
//go:embed sample.pcapng
var sampleCapture []byte

// handleSample opens a copy of the embedded demo capture.
func (s *Server) handleSample(w http.ResponseWriter, r *http.Request) {
	s.receive(w, "pkttap-sample.pcapng", bytes.NewReader(sampleCapture), s.cfg.MaxUpload)
}
