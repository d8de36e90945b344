package web

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/store"
)

// findBudget is how long one find request searches before it answers with
// a cursor to resume from (at least one batch of packets is examined).
var findBudget = 200 * time.Millisecond

// maxFindLen is the longest search text a find request takes.
const maxFindLen = 4096

// FindResponse is the answer to a find request: the packet found, or that
// there is none, or (Done false) a cursor to continue the search with.
type FindResponse struct {
	Found     bool   `json:"found"`
	Done      bool   `json:"done"`              // found, or every displayed packet searched
	Wrapped   bool   `json:"wrapped,omitempty"` // found past the last (first) displayed packet, from the other end
	Position  int    `json:"position"`          // display position of the packet found
	No        int    `json:"no,omitempty"`      // its number
	Offset    int    `json:"offset"`            // the match's bytes in the packet (hex, string in bytes or details)
	Length    int    `json:"length,omitempty"`
	Label     string `json:"label,omitempty"`  // the details line that matched
	Cursor    string `json:"cursor,omitempty"` // when not done: pass it back as ?cursor= to continue
	Checked   int    `json:"checked"`          // displayed packets searched so far
	Displayed int    `json:"displayed"`
}

// ParseHex reads a byte string as Wireshark's Find Packet takes it: hex
// digit pairs, optionally separated by spaces, colons, dots or dashes
// ("00 11 22", "001122", "00:11:22"). A fault is reported with its
// 1-based column.
func ParseHex(s string) ([]byte, int, error) {
	var digits []byte
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == ' ' || r == ':' || r == '.' || r == '-' || r == '\t':
			if len(digits)%2 != 0 {
				return nil, i + 1, fmt.Errorf("%q: a byte needs two hex digits, found one before column %d", s, i+1)
			}
		case r < utf8.RuneSelf && strings.ContainsRune("0123456789abcdefABCDEF", r):
			digits = append(digits, byte(r))
		default:
			return nil, i + 1, fmt.Errorf("%q is not a hex digit (bytes are written 00 11 22, 001122 or 00:11:22)", string(r))
		}
		i += size
	}
	if len(digits) == 0 {
		return nil, 1, fmt.Errorf("no bytes to find: write them as 00 11 22, 001122 or 00:11:22")
	}
	if len(digits)%2 != 0 {
		return nil, len(s), fmt.Errorf("%q: odd number of hex digits, a byte needs two", s)
	}
	b := make([]byte, len(digits)/2)
	if _, err := hex.Decode(b, digits); err != nil {
		return nil, 1, fmt.Errorf("hex %q: %w", s, err)
	}
	return b, 0, nil
}

// indexFold returns the first index of pat in data comparing ASCII letters
// without case (pat is lower case), as Wireshark's case-insensitive byte
// search does, or -1.
func indexFold(data, pat []byte) int {
	lower := func(b byte) byte {
		if 'A' <= b && b <= 'Z' {
			return b + 'a' - 'A'
		}
		return b
	}
outer:
	for i := 0; i+len(pat) <= len(data); i++ {
		for k := range pat {
			if lower(data[i+k]) != pat[k] {
				continue outer
			}
		}
		return i
	}
	return -1
}

// containsFold reports whether s contains sub, without case (sub is lower
// case).
func containsFold(s, sub string) bool {
	return strings.Contains(strings.Map(unicode.ToLower, s), sub)
}

// findMatcher builds the search of a find request: it writes 400 (with
// the column of the fault) for a bad query.
func findMatcher(w http.ResponseWriter, r *http.Request, opts dissect.Options) (match func(p *store.FindPacket) (store.FindMatch, bool), rows bool, ok bool) {
	q := r.URL.Query()
	text := q.Get("q")
	if text == "" {
		writeError(w, http.StatusBadRequest, "parameter q must say what to find")
		return nil, false, false
	}
	if len(text) > maxFindLen {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter q is %d bytes long: at most %d", len(text), maxFindLen))
		return nil, false, false
	}
	sensitive := false
	switch v := q.Get("case"); v {
	case "", "0":
	case "1":
		sensitive = true
	default:
		writeError(w, http.StatusBadRequest, "parameter case must be 1 (case sensitive) or 0, not "+strconv.Quote(v))
		return nil, false, false
	}
	switch typ := q.Get("type"); typ {
	case "filter":
		f, err := dfilter.Compile(text)
		if err != nil {
			filterError(w, err)
			return nil, false, false
		}
		return func(p *store.FindPacket) (store.FindMatch, bool) {
			return store.FindMatch{}, f.Match(dfilter.Packet{LinkType: p.LinkType, Data: p.Data, Length: p.WireLen, Number: p.Index + 1, Reassembled: p.Reassembled})
		}, false, true
	case "hex":
		pat, col, err := ParseHex(text)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error(), Column: col})
			return nil, false, false
		}
		return func(p *store.FindPacket) (store.FindMatch, bool) {
			i := bytes.Index(p.Data, pat)
			return store.FindMatch{Offset: i, Length: len(pat)}, i >= 0
		}, false, true
	case "string", "":
	default:
		writeError(w, http.StatusBadRequest, "parameter type must be filter, hex or string, not "+strconv.Quote(typ))
		return nil, false, false
	}
	lower := strings.Map(unicode.ToLower, text)
	has := func(s string) bool {
		if sensitive {
			return strings.Contains(s, text)
		}
		return containsFold(s, lower)
	}
	switch in := q.Get("in"); in {
	case "bytes", "":
		pat, fold := []byte(text), []byte(strings.ToLower(text))
		if !sensitive {
			// Only ASCII letters fold in bytes (Wireshark's search does
			// the same); other bytes match as they are.
			fold = bytes.Map(func(r rune) rune {
				if r < utf8.RuneSelf {
					return unicode.ToLower(r)
				}
				return r
			}, pat)
		}
		return func(p *store.FindPacket) (store.FindMatch, bool) {
			i := bytes.Index(p.Data, pat)
			if !sensitive {
				i = indexFold(p.Data, fold)
			}
			return store.FindMatch{Offset: i, Length: len(pat)}, i >= 0
		}, false, true
	case "details":
		return func(p *store.FindPacket) (store.FindMatch, bool) {
			tree := opts.Dissect(p.LinkType, p.Data, p.WireLen)
			var m store.FindMatch
			found := false
			tree.Walk(func(n *dissect.Node, _ int) bool {
				if !found && has(n.Label) {
					m, found = store.FindMatch{Offset: n.Offset, Length: n.Length, Label: n.Label}, true
				}
				return !found
			})
			return m, found
		}, false, true
	case "list":
		return func(p *store.FindPacket) (store.FindMatch, bool) {
			row := p.Row
			return store.FindMatch{}, has(row.Source) || has(row.Dest) || has(row.Protocol) || has(row.Info)
		}, true, true
	default:
		writeError(w, http.StatusBadRequest, "parameter in must be bytes, details or list, not "+strconv.Quote(in))
		return nil, false, false
	}
}

// handleFind is Wireshark's Find Packet: GET
// /api/captures/{id}/find?type=filter|hex|string&q=...&in=bytes|details|list&case=1
// &dir=next|prev&from=POS&filter=APPLIED searches the displayed packets (those
// matching ?filter= when it is given) from the one after (before, for prev)
// display position ?from= (none: from the first, or the last), wrapping
// around the ends, for the first that matches. It answers within
// findBudget: when the search is not done, ?cursor= with the answer's
// cursor continues it.
func (s *Server) handleFind(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	opts, ok := checksumsParam(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	next := true
	switch d := q.Get("dir"); d {
	case "", "next":
	case "prev":
		next = false
	default:
		writeError(w, http.StatusBadRequest, "parameter dir must be next or prev, not "+strconv.Quote(d))
		return
	}
	match, rows, ok := findMatcher(w, r, opts)
	if !ok {
		return
	}
	var j *store.Job
	displayed := c.Count()
	if expr := store.NormalizeFilter(q.Get("filter")); expr != "" {
		if j = s.job(w, r, c, expr); j == nil {
			return
		}
		displayed = c.FilterStatus(j).Matched
	}
	from := -1
	if !next {
		from = displayed
	}
	if q.Get("from") != "" {
		var err error
		if from, err = intParam(r, "from", 0); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	cur := store.NewFindCursor(from, next, displayed)
	if cs := q.Get("cursor"); cs != "" {
		var err error
		if cur, err = store.ParseFindCursor(cs, from, next); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	res, err := c.Find(r.Context(), j, cur, time.Now().Add(findBudget), rows, match)
	if err != nil {
		s.log.Error("find", "id", c.ID(), "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	resp := FindResponse{Found: res.Found, Done: res.Done, Wrapped: res.Wrapped, Checked: res.Cursor.Checked, Displayed: res.Displayed}
	if res.Found {
		resp.Position, resp.No, resp.Offset, resp.Length, resp.Label = res.Pos, res.No, res.Match.Offset, res.Match.Length, res.Match.Label
	}
	if !res.Done {
		resp.Cursor = res.Cursor.String()
	}
	writeJSON(w, http.StatusOK, resp)
}
