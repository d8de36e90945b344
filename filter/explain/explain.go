// Package explain says why a packet matched a filter expression, or why
// not, in the expression's own terms: which primitives were evaluated,
// which were true or false, which one decided the verdict, and which packet
// bytes each comparison read. It explains tcpdump expressions (New) and
// Wireshark's display filters (NewDisplay) in one shape, Explanation.
//
// # tcpdump expressions
//
// An Explainer compiles the expression twice: as the program that filters
// (optimized, what the VM runs and whose verdict is reported) and
// unoptimized, where each primitive's code stays whole so that the branch
// leaving it tells whether it was true (filter.Program.Exits). It traces the
// unoptimized program on the packet (vm.VM.Trace) and reads each executed
// comparison through the source map (filter.Program.Origins). Both
// programs return the same value for every packet (the optimizer's one
// documented exception, a load masked away as in "net 0.0.0.0/0", accepts
// a packet too short for the load: Explanation.Result is then the
// optimized program's, and the explanation says so).
//
// # Display filters
//
// A Display traces the display filter on the packet (dfilter.Filter.Trace:
// the filter's tree evaluated as Match evaluates it, short-circuits
// included, with every value's packet bytes). Its terms are the leaves of
// the expression (a comparison, a set membership, a field or protocol
// alone); each check is one pair of values compared (every occurrence of a
// field that occurs several times, such as ip.addr), and the term's
// Quantifier says how they give its outcome under Wireshark's meaning of
// the operator ("any" for ==, "all" for != and ===, "none" for not in).
// Explanation.Tree is the whole expression, and/or/not nodes and the
// values of each field, function or slice.
package explain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/vm"
)

// Explainer explains the verdicts of one compiled expression. It is safe
// for concurrent use.
type Explainer struct {
	prog, plain     *filter.Program
	progVM, plainVM *vm.VM
	linkHdr         int // length of the link-layer header, -1 if unknown
}

// New compiles expr with opts for explaining. Compile errors are those of
// filter.Compile.
func New(expr string, opts filter.Options) (*Explainer, error) {
	opts.NoOptimize = false
	prog, err := filter.Compile(expr, opts)
	if err != nil {
		return nil, err
	}
	opts.NoOptimize = true
	plain, err := filter.Compile(expr, opts)
	if err != nil {
		return nil, err
	}
	pv, err := vm.New(prog.Raw)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	uv, err := vm.New(plain.Raw)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	return &Explainer{prog: prog, plain: plain, progVM: pv, plainVM: uv, linkHdr: linkHeaderLen(opts)}, nil
}

// Program returns the optimized program whose verdicts are explained.
func (e *Explainer) Program() *filter.Program { return e.prog }

// Explanation is why one packet matched or not.
type Explanation struct {
	// Expr is the filter expression.
	Expr string `json:"expr"`
	// Match is the verdict: Result != 0.
	Match bool `json:"match"`
	// Result is what the filter program returns for the packet (the
	// number of bytes to keep; 0 rejects it), as vm.VM.Run returns it;
	// for a display filter 1 or 0.
	Result uint32 `json:"result"`
	// Terms are the primitives of the expression, in source order, with
	// their outcomes.
	Terms []Term `json:"terms"`
	// Decided is the index in Terms of the primitive whose outcome
	// decided the verdict (the last one evaluated), -1 when none did (an
	// empty expression, or a load of the code every packet runs failed).
	Decided int `json:"decided"`
	// Fault says why evaluation stopped early, when it did: a load past
	// the captured bytes of a truncated packet rejects it.
	Fault *Fault `json:"fault,omitempty"`
	// Note is set when the unoptimized program's verdict, which the terms
	// explain, differs from the filter's (see the package documentation);
	// for a display filter, when the packet is truncated (its fields in
	// the bytes not captured are absent).
	Note string `json:"note,omitempty"`
	// Tree is a display filter's evaluation tree (nil for a tcpdump
	// expression), whose leaves are the Terms.
	Tree *TreeNode `json:"tree,omitempty"`
}

// Outcome is what a primitive evaluated to.
type Outcome string

// Outcomes.
const (
	NotEvaluated Outcome = "not evaluated" // short-circuited away
	True         Outcome = "true"
	False        Outcome = "false"
	Failed       Outcome = "failed" // a load fell off the end of the packet
)

// Term is one primitive of the expression.
type Term struct {
	// Text, Start and End locate the primitive in the expression (byte
	// offsets, End exclusive; the column is Start+1).
	Text  string `json:"text"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	// Outcome is what it evaluated to.
	Outcome Outcome `json:"outcome"`
	// Checks are its comparisons, in the order they ran.
	Checks []Check `json:"checks,omitempty"`
	// Quantifier, for a display filter's term, says how its checks give
	// its outcome: "any" (one true), "all" (there are checks, all true),
	// "none" (none true).
	Quantifier string `json:"quantifier,omitempty"`
	// MoreChecks counts a display filter term's checks left out of
	// Checks (past dfilter.MaxChecks).
	MoreChecks int `json:"more_checks,omitempty"`
	// Absent names the fields a display filter's term read that the
	// packet does not have.
	Absent []string `json:"absent,omitempty"`
}

// Check is one comparison the program made.
type Check struct {
	// Field names what was compared, in packet terms ("ethertype",
	// "destination port"), or "bytes 12–13" when pkttap has no name for
	// it; "A" for a value computed from no packet bytes.
	Field string `json:"field"`
	// Value is the value compared; Op ("=", ">", ">=", "&") and Operand
	// what it was compared with. For a display filter, Field is the
	// field (or function, slice) as written, Op the comparison ("==",
	// "!=", ">", "contains", "matches", "in" for a range of a set,
	// "present", "&"), and Value and Operand are set only for integers
	// that fit: ValueText and OperandText are the values in words.
	Value   uint32 `json:"value"`
	Op      string `json:"op"`
	Operand uint32 `json:"operand"`
	// Result is the comparison's outcome (for "&": a bit in common).
	Result bool `json:"result"`
	// Bytes are the packet bytes the value was computed from.
	Bytes []Range `json:"bytes,omitempty"`
	// WireLen says the value came from the packet's on-wire length.
	WireLen bool `json:"wire_len,omitempty"`
	// Text is the check in words: "ethertype 0x0800 (bytes 12–13) ✓".
	Text string `json:"text"`
	// PC is the instruction of the unoptimized program (pkttap-inspect
	// -d -O) that made it; -1 for a display filter.
	PC int `json:"pc"`

	// For a display filter: ValueText and OperandText are the values as
	// a display filter writes them; ValueField the field the value was
	// read from when the check names another (ip.dst for ip.addr);
	// Occurrence its place, from 1, among the values of a field that
	// has several; OperandField and OperandBytes where the operand came
	// from, when the packet holds it (ip.src == ip.dst).
	ValueText    string  `json:"value_text,omitempty"`
	OperandText  string  `json:"operand_text,omitempty"`
	ValueField   string  `json:"value_field,omitempty"`
	Occurrence   int     `json:"occurrence,omitempty"`
	OperandField string  `json:"operand_field,omitempty"`
	OperandBytes []Range `json:"operand_bytes,omitempty"`
}

// Range is a run of packet bytes: offsets First through Last, 0-based and
// inclusive.
type Range struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

func (r Range) String() string {
	if r.First == r.Last {
		return fmt.Sprintf("byte %d", r.First)
	}
	return fmt.Sprintf("bytes %d–%d", r.First, r.Last)
}

// Fault is what stopped the program before a return instruction and
// rejected the packet: a load past the captured bytes, mostly (also a
// division by zero, an ancillary field the packet lacks).
type Fault struct {
	// Offset and Size are the bytes a load wanted (0 for other faults);
	// CapLen is how many the packet has.
	Offset uint64 `json:"offset"`
	Size   int    `json:"size"`
	CapLen int    `json:"caplen"`
	// Term is the index in Terms of the primitive whose load it was, -1
	// for the code every packet runs.
	Term int `json:"term"`
	// Text is the fault in words.
	Text string `json:"text"`
}

// Explain explains the verdict on one packet: data are its captured bytes,
// wireLen its length on the wire; md answers Linux ancillary loads as in
// vm.VM.RunWithMetadata (nil: as in a capture file).
func (e *Explainer) Explain(data []byte, wireLen int, md *vm.Metadata) *Explanation {
	result := e.progVM.RunWithMetadata(data, wireLen, md)
	tr := e.plainVM.Trace(data, wireLen, md)
	x := &Explanation{Expr: e.prog.Expr, Result: result, Match: result != 0, Decided: -1}
	if tr.Result != result {
		x.Note = fmt.Sprintf("the unoptimized program returns %d, the filter %d: the optimizer dropped a load whose value is masked away, as libpcap's does", tr.Result, result)
	}
	// Every primitive is listed, evaluated or not, in source order.
	termAt := map[[2]int]int{}
	for pc := range e.plain.Raw {
		for _, o := range e.plain.Origins(pc) {
			if k := [2]int{o.Start, o.End}; !o.Whole && termAt[k] == 0 {
				termAt[k] = 1
				x.Terms = append(x.Terms, Term{Text: o.Text, Start: o.Start, End: o.End, Outcome: NotEvaluated})
			}
		}
	}
	slices.SortFunc(x.Terms, func(a, b Term) int { return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End)) })
	for i, t := range x.Terms {
		termAt[[2]int{t.Start, t.End}] = i
	}
	termOf := func(pc int) int {
		for _, o := range e.plain.Origins(pc) {
			if !o.Whole {
				return termAt[[2]int{o.Start, o.End}]
			}
		}
		return -1
	}
	p := newProvenance(e.linkHdr)
	for _, s := range tr.Steps {
		ti := termOf(s.PC)
		if l := s.Load; l != nil && l.Failed {
			f := &Fault{Offset: l.Offset, Size: l.Size, CapLen: len(data), Term: ti}
			if l.Ancillary {
				f.Text = fmt.Sprintf("ancillary field SKF_AD_OFF+%d is not known for this packet", l.Field)
			} else {
				f.Text = fmt.Sprintf("the load of %s fell off the end of the %d captured bytes", Range{l.Offset, l.Offset + uint64(l.Size) - 1}, len(data))
			}
			x.Fault = f
			if ti >= 0 {
				x.Terms[ti].Outcome = Failed
				x.Decided = ti
			}
			break
		}
		if s.Cmp != nil {
			c := p.check(s)
			if ti >= 0 {
				t := &x.Terms[ti]
				t.Checks = append(t.Checks, c)
				if t.Outcome == NotEvaluated {
					t.Outcome = "" // evaluating
				}
				jt, jf := e.plain.Exits(s.PC)
				ex := jf
				if s.Cmp.Result {
					ex = jt
				}
				switch ex {
				case filter.ExitTrue:
					t.Outcome = True
					x.Decided = ti
				case filter.ExitFalse:
					t.Outcome = False
					x.Decided = ti
				}
			}
		}
		p.step(s)
	}
	if tr.Fault != "" && x.Fault == nil && len(tr.Steps) > 0 {
		// not a load: a division by zero, or a loop that ran too long
		last := tr.Steps[len(tr.Steps)-1]
		ti := termOf(last.PC)
		x.Fault = &Fault{CapLen: len(data), Term: ti, Text: tr.Fault + " rejects the packet"}
		if ti >= 0 {
			x.Terms[ti].Outcome = Failed
			x.Decided = ti
		}
	}
	for i := range x.Terms {
		if x.Terms[i].Outcome == "" {
			// Evaluation of the primitive left it by a branch no exit
			// marks (cannot happen for code the generator stamped).
			x.Terms[i].Outcome = NotEvaluated
		}
	}
	return x
}

// String renders the explanation: the expression with the outcome of each
// evaluated primitive, one line per primitive with its comparisons, and
// the verdict:
//
//	tcp port 443 ✓ → match
//	tcp port 443 (col 1-12): ethertype 0x0800 (bytes 12–13) = 0x0800 ✓, ... → true (decides)
//	→ match (returns 262144)
func (x *Explanation) String() string {
	var sb strings.Builder
	// the expression with each evaluated term's outcome after it
	sb.WriteString("  ")
	pos := 0
	for _, t := range x.Terms {
		sb.WriteString(x.Expr[pos:t.End])
		pos = t.End
		switch t.Outcome {
		case True:
			sb.WriteString(" ✓")
		case False:
			sb.WriteString(" ✗")
		case Failed:
			sb.WriteString(" (failed)")
		}
	}
	sb.WriteString(x.Expr[pos:])
	if x.Match {
		sb.WriteString(" → match\n")
	} else {
		sb.WriteString(" → no match\n")
	}
	for i, t := range x.Terms {
		if t.Outcome == NotEvaluated {
			fmt.Fprintf(&sb, "  %s (col %d-%d): not evaluated\n", t.Text, t.Start+1, t.End)
			continue
		}
		fmt.Fprintf(&sb, "  %s (col %d-%d): ", t.Text, t.Start+1, t.End)
		if len(t.Absent) > 0 {
			fmt.Fprintf(&sb, "no %s in the packet", strings.Join(t.Absent, ", no "))
			if len(t.Checks) > 0 {
				sb.WriteString("; ")
			}
		}
		if t.Quantifier != "" && len(t.Checks) > 0 {
			fmt.Fprintf(&sb, "%s of ", t.Quantifier)
		}
		for j, c := range t.Checks {
			if j > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(c.Text)
		}
		if t.MoreChecks > 0 {
			fmt.Fprintf(&sb, " and %d more", t.MoreChecks)
		}
		if t.Outcome == Failed && x.Fault != nil {
			if len(t.Checks) > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(x.Fault.Text)
		}
		fmt.Fprintf(&sb, " → %s", t.Outcome)
		if i == x.Decided {
			sb.WriteString(" (decides)")
		}
		sb.WriteByte('\n')
	}
	if x.Fault != nil && x.Fault.Term < 0 {
		fmt.Fprintf(&sb, "  %s\n", x.Fault.Text)
	}
	if x.Note != "" {
		fmt.Fprintf(&sb, "  note: %s\n", x.Note)
	}
	switch {
	case x.Match && x.Tree != nil:
		sb.WriteString("  → match\n")
	case x.Match:
		fmt.Fprintf(&sb, "  → match (returns %d)\n", x.Result)
	default:
		sb.WriteString("  → no match\n")
	}
	return sb.String()
}
