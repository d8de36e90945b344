package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/assets"
	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// Kernel limits on the length of a classic BPF program (BPF_MAXINSNS).
const (
	MaxLinuxInstructions = 4096
	MaxBSDInstructions   = filter.MaxDarwinInstructions // macOS and the BSDs
)

// ExploreResponse is GET /api/explore: a tcpdump expression's program as
// the Filter explorer shows it (each instruction with the source it
// implements and its jumps, the control-flow graph laid out, the sizes
// with and without the optimizer, and whether it fits each kernel), or
// (Valid false) why it does not compile.
type ExploreResponse struct {
	Expr         string        `json:"expr"`
	LinkType     string        `json:"linkType"`
	Valid        bool          `json:"valid"`
	Error        string        `json:"error,omitempty"`
	Column       int           `json:"column,omitempty"`  // 1-based column of the fault
	Display      bool          `json:"display,omitempty"` // the expression is a display filter, which has no BPF program
	Instructions []ExploreInsn `json:"instructions,omitempty"`
	// Unoptimized is the length of the program before the optimizer
	// (pkttap-inspect -d -O); UnoptimizedError says why there is none
	// (longer than the 4096 instructions a program may have).
	Unoptimized      int           `json:"unoptimized,omitempty"`
	UnoptimizedError string        `json:"unoptimizedError,omitempty"`
	Graph            *FlowGraph    `json:"graph,omitempty"`
	Limits           []KernelLimit `json:"limits"`
}

// ExploreInsn is one instruction of the optimized program.
type ExploreInsn struct {
	PC    int    `json:"pc"`
	Text  string `json:"text"`  // as tcpdump -d prints it, without the "(000) "
	Label string `json:"label"` // the same without the jump targets, for the graph
	// Jt and Jf are the targets of a conditional jump, Jt alone that of
	// an unconditional one; -1 when the instruction does not jump.
	Jt      int            `json:"jt"`
	Jf      int            `json:"jf"`
	Return  bool           `json:"return,omitempty"` // a ret: the program ends here
	Sources []SourceOrigin `json:"sources"`
}

// KernelLimit is one kernel's BPF_MAXINSNS and whether the program fits.
type KernelLimit struct {
	Kernel string `json:"kernel"`
	Max    int    `json:"max"`
	Fits   bool   `json:"fits"`
}

// kernelLimits returns the limits and whether a program of n instructions
// fits each.
func kernelLimits(n int) []KernelLimit {
	return []KernelLimit{
		{Kernel: "Linux", Max: MaxLinuxInstructions, Fits: n <= MaxLinuxInstructions},
		{Kernel: "macOS and the BSDs", Max: MaxBSDInstructions, Fits: n <= MaxBSDInstructions},
	}
}

// exploreOptions returns the compile options ?linktype= names, else those
// of the capture ?capture= names, else Ethernet's; a bad parameter is
// answered here (ok false).
func (s *Server) exploreOptions(w http.ResponseWriter, r *http.Request) (opts filter.Options, ok bool) {
	q := r.URL.Query()
	opts = filter.FileOptions(nil, 0)
	opts.LinkType = pcapio.LinkTypeEthernet
	if id := q.Get("capture"); id != "" {
		c, found := s.capture(id)
		if !found {
			writeError(w, http.StatusNotFound, "no capture with id "+strconv.Quote(id))
			return opts, false
		}
		opts = c.FilterOptions()
	}
	if name := q.Get("linktype"); name != "" {
		lt, err := pcapio.LinkTypeFromName(name)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return opts, false
		}
		opts.LinkType = lt
	}
	return opts, true
}

// handleExplore answers GET /api/explore?expr=EXPR&capture=ID or
// &linktype=NAME for the Filter explorer.
func (s *Server) handleExplore(w http.ResponseWriter, r *http.Request) {
	opts, ok := s.exploreOptions(w, r)
	if !ok {
		return
	}
	expr := r.URL.Query().Get("expr")
	release, ok := s.enterCompile(w, r)
	if !ok {
		return
	}
	resp := explore(expr, opts)
	release()
	writeJSON(w, http.StatusOK, resp)
}

// explore compiles expr with opts, optimized and not, for the explorer.
func explore(expr string, opts filter.Options) *ExploreResponse {
	resp := &ExploreResponse{Expr: expr, LinkType: opts.LinkType.String(), Limits: kernelLimits(0)}
	opts.NoOptimize = false
	prog, err := filter.Compile(expr, opts)
	if err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) {
			resp.Error, resp.Column = fe.Msg, fe.Column
		} else {
			resp.Error = err.Error()
		}
		if _, derr := dfilter.Compile(expr); derr == nil {
			resp.Display = true
			resp.Error, resp.Column = "this is a display filter: pkttap evaluates it on the dissected packets, so there is no BPF program to show", 0
		}
		return resp
	}
	resp.Valid = true
	resp.Limits = kernelLimits(len(prog.Raw))
	lines := strings.Split(strings.TrimSuffix(prog.String(), "\n"), "\n")
	srcs := sourceMap(prog)
	for pc, raw := range prog.Raw {
		in := ExploreInsn{PC: pc, Jt: -1, Jf: -1, Sources: srcs[pc]}
		if pc < len(lines) {
			in.Text = strings.TrimSpace(strings.TrimPrefix(lines[pc], fmt.Sprintf("(%03d)", pc)))
		}
		in.Label = in.Text
		if i := strings.Index(in.Label, " jt "); i >= 0 {
			in.Label = in.Label[:i]
		}
		in.Label = strings.Join(strings.Fields(in.Label), " ")
		in.Jt, in.Jf = jumpTargets(raw, pc)
		in.Return = raw.Op&bpfClassMask == bpfClassRET
		resp.Instructions = append(resp.Instructions, in)
	}
	opts.NoOptimize = true
	if plain, err := filter.Compile(expr, opts); err != nil {
		resp.UnoptimizedError = err.Error()
	} else {
		resp.Unoptimized = len(plain.Raw)
	}
	resp.Graph = layoutFlowGraph(resp.Instructions)
	return resp
}

// Classic BPF opcode bits jumpTargets reads.
const (
	bpfClassMask = 0x07
	bpfClassJMP  = 0x05
	bpfClassRET  = 0x06
	bpfOpMask    = 0xf0
	bpfOpJA      = 0x00
)

// jumpTargets returns the instructions raw at pc jumps to: both targets
// of a conditional jump, the target of an unconditional one (jf -1), or
// -1, -1 for an instruction that goes on to the next (or returns).
func jumpTargets(raw bpf.RawInstruction, pc int) (jt, jf int) {
	if raw.Op&bpfClassMask != bpfClassJMP {
		return -1, -1
	}
	if raw.Op&bpfOpMask == bpfOpJA {
		// Signed: libpcap's protochain loops back with a negative offset.
		return pc + 1 + int(int32(raw.K)), -1
	}
	return pc + 1 + int(raw.Jt), pc + 1 + int(raw.Jf)
}

// handleExplorerPage serves the Filter explorer's page (assets'
// explorer.html; its module, js/explorer.js, asks /api/explore).
func (s *Server) handleExplorerPage(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(assets.FS(), "explorer.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "explorer page: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
