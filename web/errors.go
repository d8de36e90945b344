package web

import (
	"encoding/json"
	"errors"
	"net/http"
)

// errNoPacket reports a packet number outside the capture.
var errNoPacket = errors.New("no such packet")

// apiError is the JSON body of every error the API returns.
type apiError struct {
	Error  string `json:"error"`
	Column int    `json:"column,omitempty"` // 1-based column of a filter's fault
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v) // the client has gone: nothing to do
}

// writeError writes an error body with the given status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}
