package explain

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
)

// Display explains the verdicts of one display filter (Wireshark's
// language, package dfilter). It is safe for concurrent use.
type Display struct{ f *dfilter.Filter }

// NewDisplay compiles a display filter for explaining; a fault is
// dfilter.Compile's *dfilter.Error.
func NewDisplay(expr string) (*Display, error) {
	f, err := dfilter.Compile(expr)
	if err != nil {
		return nil, err
	}
	return &Display{f: f}, nil
}

// DisplayOf explains the verdicts of a compiled display filter.
func DisplayOf(f *dfilter.Filter) *Display { return &Display{f: f} }

// TreeNode is one node of a display filter's evaluation tree
// (Explanation.Tree): a logical node (and, or, not, and the leaves:
// relation, membership, test) with its outcome, or an entity (field,
// value, slice, call, arith, neg, range) with its values.
type TreeNode struct {
	// Kind is a dfilter.Kind; Op the operator ("==", "&&", "in", a
	// function's name).
	Kind string `json:"kind"`
	Op   string `json:"op,omitempty"`
	// Text, Start and End locate the node in the expression (byte
	// offsets, End exclusive).
	Text  string `json:"text"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	// Outcome is a logical node's: true, false or not evaluated.
	Outcome Outcome `json:"outcome,omitempty"`
	// Term is a leaf's index in Explanation.Terms, -1 for other nodes.
	Term int `json:"term"`
	// Evaluated says an entity was evaluated on the packet; Values are
	// then all its values (occurrences, in the packet's order; the first
	// dfilter.MaxValues, MoreValues counting the others).
	Evaluated  bool    `json:"evaluated,omitempty"`
	Values     []Value `json:"values,omitempty"`
	MoreValues int     `json:"more_values,omitempty"`
	// Children are the node's operands, in source order.
	Children []*TreeNode `json:"children,omitempty"`
}

// Value is one value of an entity of a display filter.
type Value struct {
	// Text is the value as a display filter writes it.
	Text string `json:"text"`
	// Field is the field it was read from ("ip.dst" for a value of
	// ip.addr); empty for a value written in the expression.
	Field string `json:"field,omitempty"`
	// Bytes are the packet bytes it came from.
	Bytes []Range `json:"bytes,omitempty"`
}

// Explain explains the verdict of the display filter on one packet. The
// verdict (Match) is the filter's own, dfilter.Filter.Match's; Terms are
// the leaves of the expression (relations, set memberships, tests of a
// field or protocol) with their checks, Tree the whole expression.
func (d *Display) Explain(p dfilter.Packet) *Explanation {
	match := d.f.Match(p)
	tr := d.f.Trace(p)
	x := &Explanation{Expr: d.f.String(), Match: match, Decided: -1}
	if match {
		x.Result = 1
	}
	if tr.Match != match {
		x.Note = fmt.Sprintf("the traced evaluation gives %v, the filter %v", tr.Match, match)
	} else if len(p.Data) < p.Length {
		x.Note = fmt.Sprintf("the packet was captured in %d of its %d bytes: fields in the bytes not captured are absent", len(p.Data), p.Length)
	}
	x.Tree = x.node(tr.Root, tr.Decided)
	return x
}

// node converts a step of the trace, adding the leaves to x.Terms.
func (x *Explanation) node(s *dfilter.Step, decided *dfilter.Step) *TreeNode {
	n := s.Node
	tn := &TreeNode{Kind: string(n.Kind), Op: n.Op, Text: n.Text, Start: n.Start, End: n.End, Outcome: Outcome(s.Outcome), Term: -1}
	if !n.Kind.Logical() {
		tn.Evaluated = s.Evaluated
		base := fieldBase(n)
		for _, v := range s.Values {
			tn.Values = append(tn.Values, Value{Text: valueText(v, n, base), Field: v.Field, Bytes: ranges(v.Bytes)})
		}
		tn.MoreValues = s.MoreValues
	}
	leaf := n.Kind == dfilter.KindRelation || n.Kind == dfilter.KindMembership || n.Kind == dfilter.KindTest
	if leaf {
		tn.Term = len(x.Terms)
		if s == decided {
			x.Decided = tn.Term
		}
		x.Terms = append(x.Terms, leafTerm(s))
	}
	for _, c := range s.Children {
		tn.Children = append(tn.Children, x.node(c, decided))
	}
	return tn
}

// leafTerm makes the term of a leaf: its checks, in words.
func leafTerm(s *dfilter.Step) Term {
	n := s.Node
	t := Term{Text: n.Text, Start: n.Start, End: n.End, Outcome: Outcome(s.Outcome), Quantifier: string(s.Quantifier), MoreChecks: s.MoreChecks}
	if s.Outcome == dfilter.NotEvaluated {
		return t
	}
	t.Absent = absent(s, nil)
	side := func(i int) *dfilter.Step {
		if i < len(s.Children) {
			return s.Children[i]
		}
		return nil
	}
	for _, c := range s.Checks {
		var l, r *dfilter.Step
		var op string
		hi := (*dfilter.Step)(nil)
		switch n.Kind {
		case dfilter.KindRelation:
			l, r, op = side(0), side(1), n.Op
			if op == "!=" || op == "!==" || op == "~=" {
				op = "!=" // each check is "differs"
			}
			if n.Op == "===" {
				op = "=="
			}
		case dfilter.KindMembership:
			l, r, op = side(0), side(c.Member+1), "=="
			if c.Hi >= 0 && r != nil && len(r.Children) == 2 {
				r, hi, op = r.Children[0], r.Children[1], "in"
			}
		case dfilter.KindTest:
			l, op = side(0), "present"
			if c.R >= 0 && l != nil && len(l.Children) == 2 {
				l, r, op = l.Children[0], l.Children[1], "&"
			}
		}
		t.Checks = append(t.Checks, makeCheck(c, l, r, hi, op))
	}
	return t
}

// absent lists the fields of a leaf that were evaluated and had no value.
func absent(s *dfilter.Step, out []string) []string {
	if s.Node.Kind == dfilter.KindField && s.Evaluated && len(s.Values) == 0 {
		for _, o := range out {
			if o == s.Node.Text {
				return out
			}
		}
		return append(out, s.Node.Text)
	}
	for _, c := range s.Children {
		out = absent(c, out)
	}
	return out
}

// makeCheck makes a check of values c.L of l and c.R of r (and c.Hi of
// hi, a range's high end).
func makeCheck(c dfilter.Check, l, r, hi *dfilter.Step, op string) Check {
	k := Check{Field: l.Node.Text, Op: op, Result: c.Result, PC: -1}
	var lv, rv dfilter.TracedValue
	lok := c.L >= 0 && c.L < len(l.Values)
	if lok {
		lv = l.Values[c.L]
		k.ValueText = valueText(lv, l.Node, fieldBase(l.Node))
		k.Bytes = ranges(lv.Bytes)
		if lv.Field != l.Node.Text {
			k.ValueField = lv.Field
		}
		if len(l.Values)+l.MoreValues > 1 {
			k.Occurrence = c.L + 1
		}
		k.Value = small(lv.Value)
	}
	if r != nil && c.R >= 0 && c.R < len(r.Values) {
		rv = r.Values[c.R]
		k.OperandText = valueText(rv, r.Node, fieldBase(l.Node))
		k.OperandBytes = ranges(rv.Bytes)
		k.OperandField = rv.Field
		k.Operand = small(rv.Value)
		if hi != nil && c.Hi >= 0 && c.Hi < len(hi.Values) {
			k.OperandText += ".." + valueText(hi.Values[c.Hi], hi.Node, fieldBase(l.Node))
			k.OperandBytes = append(k.OperandBytes, ranges(hi.Values[c.Hi].Bytes)...)
		}
	}
	k.Text = checkText(k)
	return k
}

// small returns an integer value that fits a uint32 (Check.Value's
// type), 0 for any other.
func small(v dissect.Value) uint32 {
	if (v.Type.IsUint() || v.Type == dissect.TypeBool) && v.N <= 0xffffffff || v.Type.IsInt() && int64(v.N) >= 0 && v.N <= 0xffffffff {
		return uint32(v.N)
	}
	return 0
}

// checkText puts a check in words: "ip.addr #2 (ip.dst) 10.0.0.1 (bytes
// 30–33) == 10.0.0.1 ✓".
func checkText(k Check) string {
	var sb strings.Builder
	sb.WriteString(k.Field)
	if k.Occurrence > 0 {
		fmt.Fprintf(&sb, " #%d", k.Occurrence)
	}
	if k.ValueField != "" {
		fmt.Fprintf(&sb, " (%s)", k.ValueField)
	}
	if k.ValueText != "" {
		sb.WriteString(" " + k.ValueText)
	}
	writeRanges(&sb, k.Bytes)
	sb.WriteString(" " + k.Op)
	if k.OperandText != "" {
		sb.WriteString(" " + k.OperandText)
		if k.OperandField != "" {
			fmt.Fprintf(&sb, " (%s", k.OperandField)
			for _, r := range k.OperandBytes {
				sb.WriteString(", " + r.String())
			}
			sb.WriteString(")")
		}
	}
	if k.Result {
		sb.WriteString(" ✓")
	} else {
		sb.WriteString(" ✗")
	}
	return sb.String()
}

func writeRanges(sb *strings.Builder, rs []Range) {
	if len(rs) == 0 {
		return
	}
	sb.WriteString(" (")
	for i, r := range rs {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(r.String())
	}
	sb.WriteString(")")
}

func ranges(bs []dfilter.ByteRange) []Range {
	var out []Range
	for _, b := range bs {
		out = append(out, Range{First: uint64(b.Offset), Last: uint64(b.Offset + b.Length - 1)})
	}
	return out
}

// fieldBase is the display base of a field node's values.
func fieldBase(n *dfilter.Node) dissect.Base {
	if n.Kind == dfilter.KindField {
		if f, ok := dissect.LookupField(n.Text); ok {
			return f.Base
		}
	}
	return dissect.BaseNone
}

// maxValueText is the most bytes of a string or byte string a value's
// text spells out.
const maxValueText = 32

// valueText writes a value as a display filter writes it: a value
// written in the expression as written, a string quoted, bytes as hex
// pairs (the first maxValueText, then "…"), a protocol as nothing (its
// presence is the point), others as tshark prints them.
func valueText(v dfilter.TracedValue, n *dfilter.Node, base dissect.Base) string {
	if n.Kind == dfilter.KindValue {
		return n.Text
	}
	if v.Field != "" && base == dissect.BaseNone {
		if f, ok := dissect.LookupField(v.Field); ok {
			base = f.Base
		}
	}
	val := v.Value
	switch val.Type {
	case dissect.TypeProtocol:
		return ""
	case dissect.TypeBool:
		return strconv.FormatUint(min(val.N, 1), 10)
	case dissect.TypeString:
		s := val.S
		if len(s) > maxValueText {
			return strconv.Quote(s[:maxValueText]) + "…"
		}
		return strconv.Quote(s)
	case dissect.TypeBytes:
		b := val.B
		more := len(b) > maxValueText
		if more {
			b = b[:maxValueText]
		}
		t := string(dissect.Value{Type: dissect.TypeBytes, B: b}.AppendText(nil, base))
		if more {
			t += "…"
		}
		return t
	}
	return string(val.AppendText(nil, base))
}

// displayVerdict recombines the outcomes of the terms through the tree,
// short-circuiting as the filter does, after checking that each evaluated
// term's checks give its outcome under its quantifier.
func (x *Explanation) displayVerdict() (bool, error) {
	for _, t := range x.Terms {
		if t.Outcome == NotEvaluated || t.MoreChecks > 0 {
			continue
		}
		n := 0
		for _, c := range t.Checks {
			if c.Result {
				n++
			}
		}
		var ok bool
		switch dfilter.Quantifier(t.Quantifier) {
		case dfilter.Any:
			ok = n > 0
		case dfilter.All:
			ok = n > 0 && n == len(t.Checks)
		case dfilter.None:
			ok = n == 0
		default:
			return false, fmt.Errorf("explain: term %q has no quantifier", t.Text)
		}
		if ok != (t.Outcome == True) {
			return false, fmt.Errorf("explain: the checks of term %q give %v under %q, its outcome is %s", t.Text, ok, t.Quantifier, t.Outcome)
		}
	}
	return x.treeVerdict(x.Tree, true)
}

func (x *Explanation) treeVerdict(n *TreeNode, need bool) (bool, error) {
	switch dfilter.Kind(n.Kind) {
	case dfilter.KindAnd, dfilter.KindOr:
		and := n.Kind == string(dfilter.KindAnd)
		l, err := x.treeVerdict(n.Children[0], need)
		if err != nil {
			return false, err
		}
		r, err := x.treeVerdict(n.Children[1], need && l == and)
		if and {
			return l && r, err
		}
		return l || r, err
	case dfilter.KindNot:
		v, err := x.treeVerdict(n.Children[0], need)
		return !v, err
	}
	if n.Term < 0 || n.Term >= len(x.Terms) {
		return false, fmt.Errorf("explain: node %q is neither and, or, not nor a term", n.Text)
	}
	return x.Terms[n.Term].value(need)
}
