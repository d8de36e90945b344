package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/pkttap/pkttap/dissect"
)

// FieldInfo is one name of the display-filter registry, as GET /api/fields
// lists it (tshark -G fields' columns).
type FieldInfo struct {
	Name        string `json:"name"`        // "tcp.srcport"; a protocol's is one word, "tcp"
	Type        string `json:"type"`        // Wireshark's type name: "FT_UINT16", "FT_PROTOCOL" for a protocol
	TypeText    string `json:"typeText"`    // the type in words: "Unsigned integer (2 bytes)"
	Description string `json:"description"` // "Source Port"
}

// fieldList is GET /api/fields' body, made once (the registry is fixed
// when the program is built), and its ETag.
var fieldList = sync.OnceValues(func() ([]byte, string) {
	fs := dissect.Fields()
	out := make([]FieldInfo, 0, len(fs))
	for _, f := range fs {
		out = append(out, FieldInfo{Name: f.Name, Type: f.Type.String(), TypeText: f.Type.Description(), Description: f.Description})
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic("web: the field registry does not marshal: " + err.Error()) // strings only: cannot happen
	}
	sum := sha256.Sum256(b)
	return b, `"` + hex.EncodeToString(sum[:12]) + `"`
})

// handleFields lists the display-filter registry's fields and protocols
// (name, type, description), for the filter bar's completion. The list is
// the same for the life of the program: it is revalidated (no-cache)
// against its ETag, as the page's assets are, so a reload costs a 304.
func (s *Server) handleFields(w http.ResponseWriter, r *http.Request) {
	body, tag := fieldList()
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", tag)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if match := r.Header.Get("If-None-Match"); strings.Contains(match, tag) || match == "*" {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(body) // the client has gone: nothing to do
}
