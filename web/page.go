package web

import (
	"net/http"
)

// assetVersion is appended to asset URLs so a new binary's JS and CSS are
// never mixed with an old one's from the browser cache.
const assetVersion = "3"

// handlePage serves the UI shell; app.js and its modules do the rest.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := page(pageData{MaxUpload: s.cfg.MaxUpload, Version: assetVersion, Live: !s.cfg.NoLive}).Render(r.Context(), w); err != nil {
		s.log.Warn("render page", "err", err)
	}
}

// onOff writes a flag as a data attribute value.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
