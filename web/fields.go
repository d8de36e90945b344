package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// fieldFilter returns the display filter that matches a tree field's
// value, as Wireshark's "Apply as Filter" writes it: "tcp.srcport ==
// 443", "ip.src == 10.0.0.1", "tcp.flags.syn == 1", `http.host ==
// "example.com"`; the name alone for a protocol, a field without a value
// or one whose value a filter cannot write (times); "" for a node that
// is no registered field. A byte string longer than maxFilterBytes (a
// payload) is matched by its length and its first maxFilterBytes bytes,
// so that a packet's tree stays small ("data.data[0:128] == 47:45:...
// && len(data.data) == 1400"), a string so long by its length and those
// bytes it contains.
func fieldFilter(n *dissect.Node) string {
	if n.Field == "" {
		return ""
	}
	f, ok := dissect.LookupField(n.Field)
	if !ok {
		return ""
	}
	v := n.Value
	switch {
	case v.Type == dissect.TypeBool:
		return n.Field + " == " + string(rune('0'+min(v.N, 1)))
	case v.Type == dissect.TypeString && len(v.S) > maxFilterBytes:
		return fmt.Sprintf("%s contains %s && len(%s) == %d", n.Field, appendQuoted(nil, v.S[:maxFilterBytes]), n.Field, len(v.S))
	case v.Type == dissect.TypeString:
		return string(appendQuoted([]byte(n.Field+" == "), v.S))
	case v.Type == dissect.TypeBytes && len(v.B) > maxFilterBytes:
		head := dissect.Value{Type: dissect.TypeBytes, B: v.B[:maxFilterBytes]}
		return fmt.Sprintf("%s[0:%d] == %s && len(%s) == %d", n.Field, maxFilterBytes, head.AppendText(nil, f.Base), n.Field, len(v.B))
	case v.Type.IsUint(), v.Type.IsInt(), v.Type == dissect.TypeIPv4, v.Type == dissect.TypeIPv6, v.Type == dissect.TypeEther, v.Type == dissect.TypeBytes:
		if text := v.AppendText(nil, f.Base); len(text) > 0 {
			return n.Field + " == " + string(text)
		}
	}
	return n.Field
}

// maxFilterBytes is the most bytes of a byte string a field's filter
// spells out.
const maxFilterBytes = 128

// appendQuoted appends s as a display filter's string: in double quotes,
// with \ and " escaped and other bytes outside printable ASCII as \xNN.
func appendQuoted(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '"':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
