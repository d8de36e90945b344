package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/explain"
	"github.com/pkttap/pkttap/store"
)

// ExplainResponse is GET /api/captures/{id}/packets/{no}/explain: why the
// packet matches the tcpdump expression ?filter= or not.
type ExplainResponse struct {
	No       int    `json:"no"`
	LinkType string `json:"linkType"`
	explain.Explanation
}

// SourceOrigin is one piece of the expression an instruction implements,
// in GET /api/filter?annotate=1's sourceMap.
type SourceOrigin struct {
	Start int    `json:"start"` // byte offset in the expression
	End   int    `json:"end"`   // exclusive
	Text  string `json:"text"`
	Whole bool   `json:"whole,omitempty"` // the whole expression's code
}

// sourceMap returns, for each instruction of prog, the origins
// Program.Origins gives.
func sourceMap(prog *filter.Program) [][]SourceOrigin {
	out := make([][]SourceOrigin, len(prog.Raw))
	for i := range prog.Raw {
		for _, o := range prog.Origins(i) {
			out[i] = append(out[i], SourceOrigin{Start: o.Start, End: o.End, Text: o.Text, Whole: o.Whole})
		}
	}
	return out
}

// handleExplain explains the verdict of the tcpdump expression ?filter= on
// packet {no}, compiled for the packet's link type as a filter on the
// capture compiles it.
func (s *Server) handleExplain(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	no, ok := packetNoParam(w, r, c)
	if !ok {
		return
	}
	expr := r.URL.Query().Get("filter")
	if strings.TrimSpace(expr) == "" {
		writeError(w, http.StatusBadRequest, "parameter filter is empty: give the tcpdump expression to explain (filter=tcp+port+443)")
		return
	}
	p, err := c.Packet(no, dissect.Options{})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	opts := c.FilterOptions()
	opts.LinkType = p.LinkType
	release, ok := s.enterCompile(w, r)
	if !ok {
		return
	}
	x, err := explain.New(expr, opts)
	release()
	var fe *filter.Error
	switch {
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, apiError{Error: fe.Msg, Column: fe.Column, Language: store.BPF})
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ExplainResponse{No: no, LinkType: p.LinkType.String(), Explanation: *x.Explain(p.Data, p.Length, nil)})
}
