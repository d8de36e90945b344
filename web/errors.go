package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/pkttap/pkttap/store"
)

// errNoPacket reports a packet number outside the capture.
var errNoPacket = errors.New("no such packet")

// apiError is the JSON body of every error the API returns.
type apiError struct {
	Error    string         `json:"error"`
	Column   int            `json:"column,omitempty"`   // 1-based column of a filter's fault
	Length   int            `json:"length,omitempty"`   // bytes a display filter's fault spans
	Language store.Language `json:"language,omitempty"` // the language of a filter's fault
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

// jsonErrors makes every error answer of next the documented JSON, also
// those that code other than pkttap-web's writes with http.Error (the
// WebSocket library's refusals): an error status written without a JSON
// Content-Type is held back, and the text written with it becomes the
// message of a JSON error.
func jsonErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jw := &jsonErrorWriter{ResponseWriter: w}
		next.ServeHTTP(jw, r)
		jw.finish()
	})
}

// jsonErrorWriter is the ResponseWriter of jsonErrors.
type jsonErrorWriter struct {
	http.ResponseWriter
	status int    // an error status held back, or 0
	msg    []byte // the text written with it
}

// Unwrap gives http.ResponseController and WebSocket upgrades the
// underlying writer.
func (jw *jsonErrorWriter) Unwrap() http.ResponseWriter { return jw.ResponseWriter }

func (jw *jsonErrorWriter) WriteHeader(code int) {
	if code >= 400 && jw.status == 0 && !strings.HasPrefix(jw.Header().Get("Content-Type"), "application/json") {
		jw.status = code
		return
	}
	jw.ResponseWriter.WriteHeader(code)
}

func (jw *jsonErrorWriter) Write(p []byte) (int, error) {
	if jw.status != 0 {
		jw.msg = append(jw.msg, p...)
		return len(p), nil
	}
	return jw.ResponseWriter.Write(p)
}

// finish writes the error held back, if any.
func (jw *jsonErrorWriter) finish() {
	if jw.status == 0 {
		return
	}
	msg := strings.TrimSpace(string(jw.msg))
	if msg == "" {
		msg = http.StatusText(jw.status)
	}
	jw.Header().Del("Content-Length")
	writeError(jw.ResponseWriter, jw.status, msg)
}
