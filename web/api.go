package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// maxRows is the most rows one request may ask for.
const maxRows = 2000

// Row is one line of the packet list.
type Row = store.Row

// CaptureInfo is a capture as the API lists it.
type CaptureInfo = store.Info

// FilterStatus is the progress of one filter job as the API reports it.
type FilterStatus = store.FilterStatus

// RowsResponse is the answer to a rows request.
type RowsResponse struct {
	Start     int           `json:"start"`     // display position of Rows[0]
	Total     int           `json:"total"`     // packets indexed so far
	Displayed int           `json:"displayed"` // packets displayed (matching the filter) so far
	Indexing  bool          `json:"indexing"`
	Filter    string        `json:"filter,omitempty"`
	Progress  *FilterStatus `json:"progress,omitempty"`
	Rows      []Row         `json:"rows"`
	// Sort is the sort the rows are in (?sort=), Fields the custom
	// columns' text of each row (?fields=).
	Sort   *SortStatus `json:"sort,omitempty"`
	Fields [][]string  `json:"fields,omitempty"`
}

// TreeNode is one line of a packet's dissect tree.
type TreeNode struct {
	Label  string `json:"label"`
	Field  string `json:"field,omitempty"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	// Source is 0 when Offset and Length are in the packet's data, else
	// 1 + the index in PacketResponse.Sources of the bytes they are in.
	Source int `json:"source,omitempty"`
	// Filter is the display filter matching the field's value ("Apply as
	// Filter"); see fieldFilter.
	Filter   string     `json:"filter,omitempty"`
	Children []TreeNode `json:"children,omitempty"`
}

// PacketResponse is one packet: bytes, summary and dissect tree.
type PacketResponse struct {
	Row
	Time      string     `json:"time"` // "no timestamp" for a packet without one
	LinkType  string     `json:"linkType"`
	Truncated bool       `json:"truncated"`
	Data      []byte     `json:"data"` // base64 in JSON
	Tree      []TreeNode `json:"tree"`
	// Sources are the bytes besides the packet's own that tree nodes were
	// decoded from: the datagram its IP fragment completes.
	Sources []PacketSource `json:"sources,omitempty"`
}

// PacketSource is a buffer a packet's tree was decoded from besides the
// packet's bytes, as Wireshark's extra byte tabs ("Reassembled IPv4 (3008
// bytes)").
type PacketSource struct {
	Name string `json:"name"`
	Data []byte `json:"data"` // base64 in JSON
}

// CompileResponse is the answer to a filter check: the language the
// expression was understood in and, for BPF, the compiled program, for a
// display filter the fields it reads and the expression as parsed; or
// (Valid false) why the expression does not compile.
type CompileResponse struct {
	Valid        bool             `json:"valid"`
	Filter       string           `json:"filter"`
	Language     store.Language   `json:"language"` // "display" or "bpf"
	LinkType     string           `json:"linkType"`
	Instructions int              `json:"instructions,omitempty"`
	Program      string           `json:"program,omitempty"`   // BPF: as tcpdump -d prints it
	Fields       []string         `json:"fields,omitempty"`    // display: the fields and protocols it reads
	Canonical    string           `json:"canonical,omitempty"` // display: as parsed (dfilter.Canonical)
	Error        string           `json:"error,omitempty"`     // what is wrong with the expression
	Column       int              `json:"column,omitempty"`    // 1-based column of the fault
	Length       int              `json:"length,omitempty"`    // display: bytes the fault spans
	Annotated    string           `json:"annotated,omitempty"` // BPF with annotate=1: Program.Annotated
	SourceMap    [][]SourceOrigin `json:"sourceMap,omitempty"` // BPF with annotate=1: each instruction's origins
}

// captureParam returns the capture named by the URL, or writes 404.
func (s *Server) captureParam(w http.ResponseWriter, r *http.Request) (*store.Store, bool) {
	id := chi.URLParam(r, "id")
	if !store.ValidID(id) {
		writeError(w, http.StatusNotFound, "no capture with id "+strconv.Quote(id))
		return nil, false
	}
	c, ok := s.capture(id)
	if !ok {
		writeError(w, http.StatusNotFound, "no capture with id "+id+" (it may have been deleted)")
	}
	return c, ok
}

// intParam parses an optional non-negative integer query parameter.
func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errors.New("parameter " + name + " must be a non-negative integer, not " + strconv.Quote(v))
	}
	return n, nil
}

// packetNoParam returns the packet number in the path ({no}), or writes
// a 404 naming the valid range and returns false.
func packetNoParam(w http.ResponseWriter, r *http.Request, c *store.Store) (int, bool) {
	no, err := strconv.Atoi(chi.URLParam(r, "no"))
	if err != nil || no < 1 || no > c.Count() {
		writeError(w, http.StatusNotFound, "packet number must be between 1 and "+strconv.Itoa(c.Count()))
		return 0, false
	}
	return no, true
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Captures())
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.captureParam(w, r); ok {
		writeJSON(w, http.StatusOK, c.Info())
	}
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	if err := s.pool.Remove(c.ID()); err != nil {
		s.log.Error("delete capture", "id", c.ID(), "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// filterError writes a compile error: 400 with the column (and, for a
// display filter, the length) of the fault for a *filter.Error or a
// *dfilter.Error, and the language whose error it is.
func filterError(w http.ResponseWriter, err error) {
	var fe *filter.Error
	var de *dfilter.Error
	switch {
	case errors.As(err, &de):
		writeJSON(w, http.StatusBadRequest, apiError{Error: de.Msg, Column: de.Column, Length: de.Len, Language: store.Display})
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, apiError{Error: fe.Msg, Column: fe.Column, Language: store.BPF})
	default:
		writeError(w, http.StatusBadRequest, err.Error())
	}
}

// job returns the filter job for expr on c, starting it after validating
// expr (in one of the server's compile slots), and counts it as asked for
// by r's client. It writes the error and returns nil on a bad expression,
// when no compile slot frees up in time, or (503) when no new job fits.
func (s *Server) job(w http.ResponseWriter, r *http.Request, c *store.Store, expr string) *store.Job {
	if j := c.LookupFilter(expr); j != nil {
		return j
	}
	release, ok := s.enterCompile(w, r)
	if !ok {
		return nil
	}
	j, err := c.StartFilter(expr, clientOf(r))
	release()
	switch {
	case errors.Is(err, store.ErrFilterMemory):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return nil
	case err != nil:
		filterError(w, err)
		return nil
	}
	return j
}

// checksumsParam reads ?checksums= (see checksumsOf); it writes 400 for
// a value it does not know.
func checksumsParam(w http.ResponseWriter, r *http.Request) (dissect.Options, bool) {
	return fromQuery(w, r, checksumsOf)
}

// fromQuery reads a value from r's query with parse; it writes 400 with
// parse's error, and returns false, when parse fails.
func fromQuery[T any](w http.ResponseWriter, r *http.Request, parse func(url.Values) (T, error)) (T, bool) {
	v, err := parse(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return v, false
	}
	return v, true
}

// checksumsOf reads ?checksums=: 1 verifies the IPv4, TCP, UDP and SCTP
// checksums, which Wireshark (and pkttap by default) leaves unverified; 0
// or none does not. Any other value is an error.
func checksumsOf(q url.Values) (dissect.Options, error) {
	switch v := q.Get("checksums"); v {
	case "", "0":
		return dissect.Options{}, nil
	case "1":
		return dissect.Options{ValidateChecksums: true}, nil
	default:
		return dissect.Options{}, errors.New("parameter checksums must be 1 (verify the IPv4, TCP, UDP and SCTP checksums) or 0, not " + strconv.Quote(v))
	}
}

// clientOf names the client of a request for fair turns of filter jobs:
// its IP address.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// handleRows returns the rows at display positions [start, start+count),
// of the whole capture or, with ?filter=, of the packets matching it (as
// far as the filter job has got); with ?checksums=1, rows whose checksums
// are wrong are tagged so; with ?names=, addresses and ports are resolved
// to names (optionsParam); with ?color= (coloring rules, see colorRules),
// each row carries the index of the first rule it matches.
func (s *Server) handleRows(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	view, err := parseRowView(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	start, err := intParam(r, "start", 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	count, err := intParam(r, "count", 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if count > maxRows {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter count must be at most %d, not %d: ask for more rows in several requests", maxRows, count))
		return
	}
	resp := RowsResponse{Start: start, Indexing: c.Indexing()}
	expr := store.NormalizeFilter(r.URL.Query().Get("filter"))
	var j *store.Job
	if expr != "" {
		if j = s.job(w, r, c, expr); j == nil {
			return
		}
		st := c.FilterStatus(j)
		resp.Filter, resp.Progress = expr, &st
	}
	spec, ok := sortSpec(w, r)
	if !ok {
		return
	}
	var page store.Page
	if spec.Column != "" {
		sorted, st, ok := s.sortedRows(w, r, c, spec, j, view.opts)
		if !ok {
			return
		}
		page, resp.Sort = *sorted, st
	} else {
		page, err = c.Rows(start, count, j, view.opts)
	}
	if err == nil {
		resp.Fields, err = view.decorate(c, page.Rows)
	}
	if err != nil {
		s.log.Error("rows", "id", c.ID(), "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	resp.Total, resp.Displayed, resp.Rows = page.Total, page.Displayed, page.Rows
	writeJSON(w, http.StatusOK, resp)
}

// handlePosition answers where packet ?no= is displayed under ?filter=:
// its display position, or the position of the next displayed packet with
// "exact": false (waiting for the filter job to know), and the number of
// packets displayed.
func (s *Server) handlePosition(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	no, err := intParam(r, "no", 0)
	if err != nil || no < 1 || no > c.Count() {
		writeError(w, http.StatusNotFound, "packet number must be between 1 and "+strconv.Itoa(c.Count()))
		return
	}
	var j *store.Job
	if expr := store.NormalizeFilter(r.URL.Query().Get("filter")); expr != "" {
		if j = s.job(w, r, c, expr); j == nil {
			return
		}
	}
	spec, ok := sortSpec(w, r)
	if !ok {
		return
	}
	if spec.Column != "" {
		s.sortedPosition(w, r, c, spec, j, no)
		return
	}
	pos, exact, displayed, err := c.Position(r.Context(), no, j)
	if err != nil {
		return // the client has gone
	}
	writeJSON(w, http.StatusOK, map[string]any{"position": pos, "exact": exact, "displayed": displayed})
}

// handlePacket returns one packet's bytes, summary and dissect tree, with
// its checksums verified for ?checksums=1 and names resolved for ?names=.
func (s *Server) handlePacket(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	opts, ok := optionsParam(w, r)
	if !ok {
		return
	}
	no, ok := packetNoParam(w, r, c)
	if !ok {
		return
	}
	resp, err := packetResponse(c, no, opts)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// packetResponse is packet no of c, decoded with opts, as GET
// …/packets/{no} serves it and the WebSocket pushes it.
func packetResponse(c *store.Store, no int, opts dissect.Options) (PacketResponse, error) {
	p, err := c.Packet(no, opts)
	if err != nil {
		return PacketResponse{}, err
	}
	when := "no timestamp"
	if !p.NoTime {
		when = p.Time.Format("2006-01-02 15:04:05.000000000 UTC")
	}
	resp := PacketResponse{
		Row:       p.Row,
		Time:      when,
		LinkType:  p.LinkType.String(),
		Truncated: p.CapLen < p.Length,
		Data:      p.Data,
		Tree:      []TreeNode{},
	}
	opts.Stream = p.Stream           // tshark's stream fields and TCP analysis
	opts.Reassembled = p.Reassembled // the datagram its fragment completes
	if tree := opts.Dissect(p.LinkType, p.Data, p.Length); tree != nil {
		for _, n := range tree.Layers {
			resp.Tree = append(resp.Tree, treeNode(n))
		}
		for _, src := range tree.Sources {
			resp.Sources = append(resp.Sources, PacketSource{Name: src.Name, Data: src.Data})
		}
	}
	resp.Tree = noteTree(p, resp.Tree)
	return resp, nil
}

func treeNode(n *dissect.Node) TreeNode {
	t := TreeNode{Label: n.Label, Field: n.Field, Offset: n.Offset, Length: n.Length, Source: int(n.Source), Filter: fieldFilter(n)}
	for _, ch := range n.Children {
		t.Children = append(t.Children, treeNode(ch))
	}
	return t
}

// handleCompile validates ?expr=, a display filter or a tcpdump
// expression (store.ChooseLanguage decides; ?lang=display or ?lang=bpf
// insists on one). A tcpdump expression is compiled for ?linktype= (a DLT
// name), or for the link type of capture ?capture=, or Ethernet; with
// ?interface=, as a capture filter for a live capture on that interface
// (see liveCompileOptions). ?linktype= and ?interface= ask for a program,
// so they mean ?lang=bpf. An expression that does not compile is an
// answer (200, valid false), not an error status: the page checks as the
// user types, and browsers log every error status in their console.
func (s *Server) handleCompile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := filter.FileOptions(nil, 0)
	opts.LinkType = pcapio.LinkTypeEthernet
	lang := store.Language(q.Get("lang"))
	if lang != "" && lang != store.Display && lang != store.BPF {
		writeError(w, http.StatusBadRequest, "parameter lang must be display, bpf or none (either, as the expression reads), not "+strconv.Quote(string(lang)))
		return
	}
	if name := q.Get("linktype"); name != "" {
		var err error
		if opts.LinkType, err = pcapio.LinkTypeFromName(name); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		lang = cmp.Or(lang, store.BPF)
	} else if id := q.Get("capture"); id != "" {
		c, ok := s.capture(id)
		if !ok {
			writeError(w, http.StatusNotFound, "no capture with id "+strconv.Quote(id))
			return
		}
		opts = c.FilterOptions()
	}
	if name := q.Get("interface"); name != "" {
		if lang == store.Display {
			writeError(w, http.StatusBadRequest, "a capture filter is a tcpdump expression: lang=display does not go with interface")
			return
		}
		opts, lang = s.liveCompileOptions(name), store.BPF
	}
	expr := q.Get("expr")
	release, ok := s.enterCompile(w, r)
	if !ok {
		return
	}
	var prog *filter.Program
	bpf := func() (err error) {
		prog, err = filter.Compile(expr, opts)
		return err
	}
	lang, df, err := compileIn(lang, expr, bpf)
	var canonical string
	if err == nil && lang == store.Display {
		canonical, _ = dfilter.Canonical(expr) // it compiled above
	}
	release()
	resp := CompileResponse{Filter: expr, Language: lang, LinkType: opts.LinkType.String()}
	var fe *filter.Error
	var de *dfilter.Error
	switch {
	case errors.As(err, &de):
		resp.Error, resp.Column, resp.Length = de.Msg, de.Column, de.Len
	case errors.As(err, &fe):
		resp.Error, resp.Column = fe.Msg, fe.Column
	case err != nil:
		resp.Error = err.Error()
	case lang == store.Display:
		resp.Valid, resp.Fields, resp.Canonical = true, df.Fields(), canonical
	default:
		resp.Valid, resp.Instructions, resp.Program = true, len(prog.Raw), prog.String()
		if q.Get("annotate") == "1" {
			resp.Annotated, resp.SourceMap = prog.Annotated(), sourceMap(prog)
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleStartFilter starts (or finds) the filter job for the expression in
// the JSON body {"filter": "..."} and returns its progress.
func (s *Server) handleStartFilter(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	var body struct {
		Filter string `json:"filter"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, `body must be JSON like {"filter": "tcp port 443"}: `+err.Error())
		return
	}
	expr := store.NormalizeFilter(body.Filter)
	if expr == "" {
		writeError(w, http.StatusBadRequest, "empty filter: every packet is displayed without one")
		return
	}
	j := s.job(w, r, c, expr)
	if j == nil {
		return
	}
	writeJSON(w, http.StatusAccepted, c.FilterStatus(j))
}

// handleCancelFilter stops the filter job for ?filter= and forgets it.
func (s *Server) handleCancelFilter(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	expr := store.NormalizeFilter(r.URL.Query().Get("filter"))
	if !c.CancelFilter(expr) {
		writeError(w, http.StatusNotFound, "no filter job for "+strconv.Quote(expr))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// downloadName derives a file name from the capture's name and the filter:
// "trace-tcp_port_443.pcapng".
func downloadName(capName, expr, ext string) string {
	base := capName
	for _, suf := range []string{".gz", ".pcapng", ".pcap", ".cap", ".ntar"} {
		base = strings.TrimSuffix(base, suf)
	}
	clean := func(s string, max int) string {
		var b strings.Builder
		under := false
		for _, r := range s {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.'
			if !ok {
				if !under && b.Len() > 0 {
					b.WriteByte('_')
				}
				under = true
				continue
			}
			under = false
			b.WriteRune(r)
			if b.Len() >= max {
				break
			}
		}
		return strings.Trim(b.String(), "_.")
	}
	base = clean(base, 80)
	if base == "" {
		base = "capture"
	}
	if f := clean(expr, 60); f != "" {
		base += "-" + f
	}
	return base + ext
}

// compileIn compiles expr in lang: as a tcpdump expression (with bpf), as
// a display filter, or, for no language, as store.ChooseLanguage reads it
// (bpf runs only when that needs it). It returns
// the language and the display filter (nil for a tcpdump expression).
func compileIn(lang store.Language, expr string, bpf func() error) (store.Language, *dfilter.Filter, error) {
	switch lang {
	case store.BPF:
		return lang, nil, bpf()
	case store.Display:
		df, err := dfilter.Compile(expr)
		return lang, df, err
	}
	return store.ChooseLanguage(expr, bpf)
}
