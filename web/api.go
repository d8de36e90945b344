package web

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// maxRows is the most rows one request may ask for.
const maxRows = 2000

// Row is one line of the packet list.
type Row struct {
	No       int      `json:"no"`               // 1-based packet number in the capture
	Sec      int64    `json:"sec"`              // timestamp: seconds since the Unix epoch
	Nsec     int64    `json:"nsec"`             // and nanoseconds
	Delta    int64    `json:"delta"`            // ns since the previous displayed packet; 0 when either has no timestamp
	NoTime   bool     `json:"noTime,omitempty"` // the packet has no timestamp (a pcapng Simple Packet Block): sec and nsec are 0
	CapLen   int      `json:"caplen"`
	Length   int      `json:"length"`
	Source   string   `json:"src"`
	Dest     string   `json:"dst"`
	Protocol string   `json:"proto"`
	Info     string   `json:"info"`
	Tags     []string `json:"tags,omitempty"`
}

// RowsResponse is the answer to a rows request.
type RowsResponse struct {
	Start     int           `json:"start"`     // display position of Rows[0]
	Total     int           `json:"total"`     // packets indexed so far
	Displayed int           `json:"displayed"` // packets displayed (matching the filter) so far
	Indexing  bool          `json:"indexing"`
	Filter    string        `json:"filter,omitempty"`
	Progress  *FilterStatus `json:"progress,omitempty"`
	Rows      []Row         `json:"rows"`
}

// TreeNode is one line of a packet's dissect tree.
type TreeNode struct {
	Label    string     `json:"label"`
	Field    string     `json:"field,omitempty"`
	Offset   int        `json:"offset"`
	Length   int        `json:"length"`
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
}

// CompileResponse is a successfully compiled filter.
type CompileResponse struct {
	Filter       string `json:"filter"`
	LinkType     string `json:"linkType"`
	Instructions int    `json:"instructions"`
	Program      string `json:"program"` // as tcpdump -d prints it
}

// captureParam returns the capture named by the URL, or writes 404.
func (s *Server) captureParam(w http.ResponseWriter, r *http.Request) (*Capture, bool) {
	id := chi.URLParam(r, "id")
	if !validID(id) {
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
	if err := s.remove(c.id); err != nil {
		s.log.Error("delete capture", "id", c.id, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// filterError writes a compile error: 400 with the column for a
// *filter.Error.
func filterError(w http.ResponseWriter, err error) {
	var fe *filter.Error
	if errors.As(err, &fe) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fe.Msg, Column: fe.Column})
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

// primaryLinkType is the link type a capture's filters are validated for:
// its first packet's, or Ethernet before any packet is indexed.
func (c *Capture) primaryLinkType() pcapio.LinkType {
	if lts := c.linkTypeList(); len(lts) > 0 {
		return lts[0]
	}
	return pcapio.LinkTypeEthernet
}

// job returns the filter job for expr on c, starting it after validating
// expr (in one of the server's compile slots), and counts it as asked for
// by r's client. It writes the error and returns nil on a bad expression,
// when no compile slot frees up in time, or (503) when no new job fits.
func (s *Server) job(w http.ResponseWriter, r *http.Request, c *Capture, expr string) *filterJob {
	if j := c.filters.lookup(expr); j != nil {
		return j
	}
	release, ok := s.enterCompile(w, r)
	if !ok {
		return nil
	}
	m := c.newMatcher(expr)
	err := m.Check(c.primaryLinkType())
	release()
	if err != nil {
		filterError(w, err)
		return nil
	}
	j, err := c.filters.get(m, clientOf(r))
	if err != nil {
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return nil
	}
	return j
}

// handleRows returns the rows at display positions [start, start+count),
// of the whole capture or, with ?filter=, of the packets matching it (as
// far as the filter job has got).
func (s *Server) handleRows(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
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
	resp := RowsResponse{Start: start, Indexing: c.indexing(), Rows: []Row{}}
	resp.Total = c.Packets()
	expr := normalizeFilter(r.URL.Query().Get("filter"))
	var idx []int // packet indices of the rows, plus the one before for the delta
	if expr == "" {
		resp.Displayed = resp.Total
		for i := max(start-1, 0); i < min(start+count, resp.Total); i++ {
			idx = append(idx, i)
		}
	} else {
		j := s.job(w, r, c, expr)
		if j == nil {
			return
		}
		st := c.filters.status(j)
		resp.Filter, resp.Progress = expr, &st
		lo := max(start-1, 0)
		win, total := j.window(lo, start+count-lo)
		resp.Displayed = total
		for _, i := range win {
			idx = append(idx, int(i))
		}
	}
	// idx holds the row before start when start > 0.
	var prev *record
	recs, err := c.recordsAt(idx)
	if err != nil {
		s.log.Error("rows", "id", c.id, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if start > 0 && len(recs) > 0 {
		prev, recs, idx = &recs[0], recs[1:], idx[1:]
	}
	sums, err := c.summaries(recs)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	for k := range recs {
		row := makeRow(idx[k], &recs[k], &sums[k])
		if prev != nil && !prev.noTime() && !recs[k].noTime() {
			row.Delta = recs[k].TSNanos - prev.TSNanos
		}
		prev = &recs[k]
		resp.Rows = append(resp.Rows, row)
	}
	writeJSON(w, http.StatusOK, resp)
}

// recordsAt reads the records of the given packet indices, reading runs of
// consecutive indices at once.
func (c *Capture) recordsAt(idx []int) ([]record, error) {
	out := make([]record, len(idx))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && idx[j] == idx[j-1]+1 {
			j++
		}
		if err := readRecords(c.index, idx[i], out[i:j]); err != nil {
			return nil, err
		}
		i = j
	}
	return out, nil
}

func makeRow(i int, rec *record, s *summary) Row {
	return Row{
		No: i + 1, Sec: rec.TSNanos / 1e9, Nsec: rec.TSNanos % 1e9,
		CapLen: int(rec.CapLen), Length: int(rec.WireLen),
		Source: s.Source, Dest: s.Destination, Protocol: s.Protocol, Info: s.Info, Tags: s.Tags,
		NoTime: rec.noTime(),
	}
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
	if err != nil || no < 1 || no > c.Packets() {
		writeError(w, http.StatusNotFound, "packet number must be between 1 and "+strconv.Itoa(c.Packets()))
		return
	}
	expr := normalizeFilter(r.URL.Query().Get("filter"))
	if expr == "" {
		writeJSON(w, http.StatusOK, map[string]any{"position": no - 1, "exact": true, "displayed": c.Packets()})
		return
	}
	j := s.job(w, r, c, expr)
	if j == nil {
		return
	}
	pos, exact := j.position(no - 1)
	if !exact {
		// The next match may not have been found yet: wait for the job.
		c.filters.hold(j)
		defer c.filters.release(j)
		select {
		case <-j.done:
		case <-r.Context().Done():
			return
		}
		pos, exact = j.position(no - 1)
	}
	_, displayed := j.window(0, 0)
	writeJSON(w, http.StatusOK, map[string]any{"position": pos, "exact": exact, "displayed": displayed})
}

// handlePacket returns one packet's bytes, summary and dissect tree.
func (s *Server) handlePacket(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	no, err := strconv.Atoi(chi.URLParam(r, "no"))
	if err != nil || no < 1 || no > c.Packets() {
		writeError(w, http.StatusNotFound, "packet number must be between 1 and "+strconv.Itoa(c.Packets()))
		return
	}
	rec, err := c.record(no - 1)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	data, err := c.packetData(&rec)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	sums, err := c.summaries([]record{rec})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	when := "no timestamp"
	if !rec.noTime() {
		when = rec.Time().Format("2006-01-02 15:04:05.000000000 UTC")
	}
	resp := PacketResponse{
		Row:       makeRow(no-1, &rec, &sums[0]),
		Time:      when,
		LinkType:  rec.LinkType.String(),
		Truncated: rec.CapLen < rec.WireLen,
		Data:      data,
		Tree:      []TreeNode{},
	}
	if tree := dissect.Dissect(rec.LinkType, data, int(rec.WireLen)); tree != nil {
		for _, n := range tree.Layers {
			resp.Tree = append(resp.Tree, treeNode(n))
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func treeNode(n *dissect.Node) TreeNode {
	t := TreeNode{Label: n.Label, Field: n.Field, Offset: n.Offset, Length: n.Length}
	for _, ch := range n.Children {
		t.Children = append(t.Children, treeNode(ch))
	}
	return t
}

// handleCompile validates and compiles ?expr= for ?linktype= (a DLT name),
// or for the link type of capture ?capture=, or Ethernet; with
// ?interface=, as a capture filter for a live capture on that interface
// (see liveCompileOptions).
func (s *Server) handleCompile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lt := pcapio.LinkTypeEthernet
	var order binary.ByteOrder // a capture's file's, when compiling for one
	if name := q.Get("linktype"); name != "" {
		var err error
		if lt, err = pcapio.LinkTypeFromName(name); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	} else if id := q.Get("capture"); id != "" {
		c, ok := s.capture(id)
		if !validID(id) || !ok {
			writeError(w, http.StatusNotFound, "no capture with id "+strconv.Quote(id))
			return
		}
		lt, order = c.primaryLinkType(), c.byteOrder()
	}
	opts := filter.FileOptions(order, 0)
	opts.LinkType = lt
	if name := q.Get("interface"); name != "" {
		opts = s.liveCompileOptions(name)
	}
	expr := q.Get("expr")
	release, ok := s.enterCompile(w, r)
	if !ok {
		return
	}
	prog, err := filter.Compile(expr, opts)
	release()
	if err != nil {
		filterError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, CompileResponse{
		Filter: expr, LinkType: opts.LinkType.String(), Instructions: len(prog.Raw), Program: prog.String(),
	})
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
	expr := normalizeFilter(body.Filter)
	if expr == "" {
		writeError(w, http.StatusBadRequest, "empty filter: every packet is displayed without one")
		return
	}
	j := s.job(w, r, c, expr)
	if j == nil {
		return
	}
	writeJSON(w, http.StatusAccepted, c.filters.status(j))
}

// handleCancelFilter stops the filter job for ?filter= and forgets it.
func (s *Server) handleCancelFilter(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	expr := normalizeFilter(r.URL.Query().Get("filter"))
	if !c.filters.cancel(expr) {
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
