package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/explain"
	"github.com/pkttap/pkttap/store"
)

// ExplainResponse is GET /api/captures/{id}/packets/{no}/explain: why the
// packet matches the filter ?filter= or not, a tcpdump expression or a
// display filter (Language).
type ExplainResponse struct {
	No       int            `json:"no"`
	LinkType string         `json:"linkType"`
	Language store.Language `json:"language"`
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

// handleExplain explains the verdict of the filter ?filter= on packet
// {no}: a display filter or a tcpdump expression, told apart as every
// filter of the API is (store.ChooseLanguage; ?lang=display or bpf
// insists on one), the tcpdump expression compiled for the packet's link
// type as a filter on the capture compiles it.
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
		writeError(w, http.StatusBadRequest, "parameter filter is empty: give the display filter or tcpdump expression to explain (filter=tcp.port+%3D%3D+443, filter=tcp+port+443)")
		return
	}
	lang := store.Language(r.URL.Query().Get("lang"))
	if lang != "" && lang != store.Display && lang != store.BPF {
		writeError(w, http.StatusBadRequest, "parameter lang must be display, bpf or none (either, as the expression reads), not "+strconv.Quote(string(lang)))
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
	var x *explain.Explainer
	bpf := func() (err error) {
		x, err = explain.New(expr, opts)
		return err
	}
	lang, df, err := compileIn(lang, expr, bpf)
	release()
	if err != nil {
		filterError(w, err)
		return
	}
	resp := ExplainResponse{No: no, LinkType: p.LinkType.String(), Language: lang}
	if lang == store.Display {
		dp := dfilter.Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: no, Stream: p.Stream, Reassembled: p.Reassembled}
		resp.Explanation = *explain.DisplayOf(df).Explain(dp)
	} else {
		resp.Explanation = *x.Explain(p.Data, p.Length, nil)
	}
	writeJSON(w, http.StatusOK, resp)
}
