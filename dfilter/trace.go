package dfilter

import (
	"github.com/pkttap/pkttap/dissect"
)

// Tracing: Filter.Trace evaluates a filter's tree on one packet, as Match
// does (and short-circuits), recording what each node gave: a logical
// node's outcome, an entity's values with the packet bytes each came
// from, a leaf's comparisons pair by pair. Values come from the closures
// Match runs, so they are the ones it compares; the leaf's outcome is
// what its comparisons give under its Quantifier, which Wireshark's
// meaning of each operator decides. Match itself is not touched.

// Quantifier says how a leaf's comparisons (its checks: one per pair of
// values, or per value) give the leaf's outcome; it makes Wireshark's
// meaning of comparisons on fields that occur several times visible.
type Quantifier string

// The quantifiers.
const (
	// Any: true when some check is true (==, >, <, >=, <=, contains,
	// matches, in, !== and ~= whose checks are "differs", a test).
	Any Quantifier = "any"
	// All: true when there are checks and every one is true (=== and !=,
	// whose checks are "differs": ip.addr != X holds when no ip.addr is
	// X, and not without ip.addr).
	All Quantifier = "all"
	// None: true when no check is true, also when there are none ("not
	// in": no value is a member).
	None Quantifier = "none"
)

// Outcome is what a logical node of the tree evaluated to on a packet.
type Outcome string

// The outcomes.
const (
	NotEvaluated Outcome = "not evaluated" // short-circuited away
	True         Outcome = "true"
	False        Outcome = "false"
)

// Trace is one packet's evaluation of a filter, node by node.
type Trace struct {
	// Match is the verdict the traced evaluation gives (the root's
	// outcome); Match on the same packet gives the same.
	Match bool
	// Root is the step of the tree's root.
	Root *Step
	// Decided is the leaf whose outcome decided the verdict: the last
	// one evaluated.
	Decided *Step
	// misaligned is set when a value's bytes could not be followed
	// (a bug: the tests require it never is).
	misaligned bool
	// disagree is set when a leaf's checks give another outcome than the
	// closure Match runs (a bug: the tests require it never is).
	disagree bool
}

// Step is what one node of the tree gave on the packet.
type Step struct {
	// Node is the node of Filter.Tree.
	Node *Node
	// Outcome is a logical node's (empty for an entity).
	Outcome Outcome
	// Evaluated says an entity was evaluated (its Values are the
	// packet's); a logical node was when its Outcome is not NotEvaluated.
	Evaluated bool
	// Values are an entity's values, all occurrences in tree order (the
	// first MaxValues).
	Values []TracedValue
	// MoreValues counts the values left out of Values.
	MoreValues int
	// Quantifier, Checks and MoreChecks are a leaf's (a relation,
	// membership or test): its comparisons, the first MaxChecks of
	// them, and how their results give its outcome.
	Quantifier Quantifier
	Checks     []Check
	MoreChecks int
	// Order is a leaf's place in the order of evaluation, from 1; 0
	// when it was not evaluated (and for other nodes).
	Order int
	// Children are the steps of the node's children.
	Children []*Step
}

// MaxValues and MaxChecks bound what a Step records of a field that
// occurs very often; the outcome is computed from all.
const (
	MaxValues = 256
	MaxChecks = 256
)

// TracedValue is one value of an entity, with where it came from.
type TracedValue struct {
	Value dissect.Value
	// Field is the field the value was read from ("ip.dst" for a value
	// of ip.addr), empty for a value written in the expression.
	Field string
	// Bytes are the packet bytes the value was computed from (none for a
	// value written in the expression, or for a field that no bytes
	// carry, such as frame.number or tcp.stream).
	Bytes []ByteRange
}

// ByteRange is a run of a packet's captured bytes.
type ByteRange struct{ Offset, Length int }

// Check is one comparison a leaf made. For a relation, L and R index the
// Values of the leaf's two children; for matches, R is 0, the pattern.
// For a membership, L indexes the values of the leaf's first child
// (the tested entity), Member the set member (the child Member+1), R
// its (or its range's low end's) values and Hi, for a range, its high
// end's (-1 otherwise). For a test, L indexes the entity's values (R is
// -1), except for a bitwise "a & b", where L and R index the values of
// the "&" node's two children.
type Check struct {
	L, R, Member, Hi int
	Result           bool
}

// occurrence is where one value of a field came from.
type occurrence struct {
	field string
	bytes []ByteRange
}

// tracer is one traced evaluation.
type tracer struct {
	c     *context
	occ   [][]occurrence // per slot, beside c.vals
	order int
	tr    *Trace
}

// Trace evaluates the filter on one packet as Match does, recording
// every node's outcome or values (see Trace). The packet is decoded as
// Match decodes a packet the fast path does not take, with each field's
// byte range.
func (f *Filter) Trace(p Packet) *Trace {
	tree := dissect.Options{Stream: p.Stream}.DissectLayers(p.LinkType, p.Data, p.Length, f.keep)
	return f.TraceTree(tree, p.Number)
}

// TraceTree is Trace on a packet already dissected into tree, number in
// its capture.
func (f *Filter) TraceTree(tree *dissect.Tree, number int) *Trace {
	c := &context{vals: make([][]dissect.Value, len(f.names))}
	collect(tree, number, f.want, f.alias, c.vals)
	t := &tracer{c: c, occ: make([][]occurrence, len(f.names)), tr: &Trace{}}
	t.occurrences(tree, number, f.want, f.alias)
	for i := range c.vals {
		if len(t.occ[i]) != len(c.vals[i]) {
			t.tr.misaligned = true
		}
	}
	t.tr.Root = t.logical(f.tree)
	t.tr.Match = t.tr.Root.Outcome == True
	return t.tr
}

// occurrences records, beside the values collect gathers, the field and
// bytes of each: the same walk.
func (t *tracer) occurrences(tree *dissect.Tree, number int, want map[string]int, alias map[string][]int) {
	if slot, ok := want["frame.number"]; ok {
		t.occ[slot] = append(t.occ[slot], occurrence{field: "frame.number"})
	}
	tree.Walk(func(n *dissect.Node, _ int) bool {
		if n.Field == "" {
			return true
		}
		var o occurrence
		if slot, ok := want[n.Field]; ok {
			o = occurrence{field: n.Field, bytes: nodeBytes(n)}
			t.occ[slot] = append(t.occ[slot], o)
		}
		for _, slot := range alias[n.Field] {
			if o.field == "" {
				o = occurrence{field: n.Field, bytes: nodeBytes(n)}
			}
			t.occ[slot] = append(t.occ[slot], o)
		}
		return true
	})
}

func nodeBytes(n *dissect.Node) []ByteRange {
	if n.Length <= 0 {
		return nil
	}
	return []ByteRange{{n.Offset, n.Length}}
}

// logical evaluates a logical node, short-circuiting as Match does.
func (t *tracer) logical(n *lnode) *Step {
	s := &Step{Node: n.node, Evaluated: true}
	outcome := func(b bool) Outcome {
		if b {
			return True
		}
		return False
	}
	switch n.node.Kind {
	case KindAnd, KindOr:
		l := t.logical(n.kids[0])
		var r *Step
		if (l.Outcome == True) == (n.node.Kind == KindAnd) {
			r = t.logical(n.kids[1])
			s.Outcome = r.Outcome
		} else {
			r = skipped(n.kids[1].node)
			s.Outcome = l.Outcome
		}
		s.Children = []*Step{l, r}
	case KindNot:
		x := t.logical(n.kids[0])
		s.Outcome = outcome(x.Outcome != True)
		s.Children = []*Step{x}
	default:
		t.leaf(n, s)
		t.order++
		s.Order = t.order
		t.tr.Decided = s
		if got := n.fn(t.c); got != (s.Outcome == True) {
			t.tr.disagree = true
		}
	}
	return s
}

// skipped is the step of a node not evaluated, and of those under it.
func skipped(n *Node) *Step {
	s := &Step{Node: n}
	if n.Kind.Logical() {
		s.Outcome = NotEvaluated
	}
	for _, c := range n.Children {
		s.Children = append(s.Children, skipped(c))
	}
	return s
}

// leaf evaluates a relation, membership or test into s: its entities'
// values, a check per pair (or value), and the outcome they give.
func (t *tracer) leaf(n *lnode, s *Step) {
	s.Quantifier = n.quant
	var results, checked int
	add := func(c Check) {
		checked++
		if c.Result {
			results++
		}
		if len(s.Checks) < MaxChecks {
			s.Checks = append(s.Checks, c)
		} else {
			s.MoreChecks++
		}
	}
	ls, lv := t.entity(n.l)
	s.Children = append(s.Children, ls)
	switch {
	case n.members != nil:
		for m, mem := range n.members {
			los, lo := t.entity(mem.lo)
			var his *Step
			var hi []TracedValue
			ms := los
			if mem.hi != nil {
				his, hi = t.entity(mem.hi)
				ms = &Step{Node: s.Node.Children[m+1], Evaluated: true, Children: []*Step{los, his}}
			}
			s.Children = append(s.Children, ms)
			for i, v := range lv {
				for j, a := range lo {
					if mem.hi == nil {
						add(Check{L: i, R: j, Member: m, Hi: -1, Result: compare(v.Value, a.Value) == 0})
						continue
					}
					for k, b := range hi {
						add(Check{L: i, R: j, Member: m, Hi: k, Result: compare(v.Value, a.Value) >= 0 && compare(v.Value, b.Value) <= 0})
					}
				}
			}
		}
	case n.re != nil:
		rs, _ := t.entity(n.r)
		s.Children = append(s.Children, rs)
		for i, v := range lv {
			var ok bool
			if v.Value.Type == dissect.TypeString {
				ok = n.re.MatchString(v.Value.S)
			} else {
				ok = n.re.Match(v.Value.B)
			}
			add(Check{L: i, R: 0, Hi: -1, Result: ok})
		}
	case n.r != nil:
		rs, rv := t.entity(n.r)
		s.Children = append(s.Children, rs)
		for i, a := range lv {
			for j, b := range rv {
				add(Check{L: i, R: j, Hi: -1, Result: n.pred(a.Value, b.Value) != n.negate})
			}
		}
	case n.bitwise:
		// the "&" node's values are its children's, pair by pair
		nr := 0
		if n.l.kind == KindArith && len(ls.Children) == 2 {
			nr = len(ls.Children[1].Values) + ls.Children[1].MoreValues
		}
		for k, v := range lv {
			c := Check{L: k, R: -1, Hi: -1, Result: !isZero(v.Value)}
			if nr > 0 {
				c.L, c.R = k/nr, k%nr
			}
			add(c)
		}
	default:
		for i := range lv {
			add(Check{L: i, R: -1, Hi: -1, Result: true})
		}
	}
	var ok bool
	switch n.quant {
	case Any:
		ok = results > 0
	case All:
		ok = checked > 0 && results == checked
	case None:
		ok = results == 0
	}
	s.Outcome = False
	if ok {
		s.Outcome = True
	}
}

// entity evaluates an entity with the closures Match runs, and follows
// each value back to the packet bytes it came from.
func (t *tracer) entity(e *typed) (*Step, []TracedValue) {
	s := &Step{Node: e.node, Evaluated: true}
	kids := make([][]TracedValue, len(e.args))
	for i, a := range e.args {
		var ks *Step
		ks, kids[i] = t.entity(a)
		s.Children = append(s.Children, ks)
	}
	vals := e.eval(t.c, nil)
	tv := make([]TracedValue, len(vals))
	for i, v := range vals {
		tv[i].Value = v
	}
	if !provenance(e, tv, kids, t.occ) {
		t.tr.misaligned = true
	}
	s.Values = tv[:min(len(tv), MaxValues)]
	s.MoreValues = len(tv) - len(s.Values)
	return s, tv
}

// provenance fills in the field and bytes of each of e's values out from
// those of its arguments' values kids (a field's from its occurrences),
// reproducing how each kind of entity makes its values. It reports
// whether the values lined up.
func provenance(e *typed, out []TracedValue, kids [][]TracedValue, occ [][]occurrence) bool {
	switch e.kind {
	case KindField:
		o := occ[e.slot-1]
		if len(o) != len(out) {
			return false
		}
		for i := range out {
			out[i].Field, out[i].Bytes = o[i].field, o[i].bytes
		}
	case KindValue:
	case KindNeg:
		return aligned(out, kids[0])
	case KindCall:
		switch e.op {
		case "count":
			if len(out) != 1 {
				return false
			}
			out[0].Bytes = union(kids[0]...)
		case "max", "min":
			var all []TracedValue
			for _, k := range kids {
				all = append(all, k...)
			}
			if len(out) != min(len(all), 1) {
				return false
			}
			for _, v := range all {
				if len(out) > 0 && compare(v.Value, out[0].Value) == 0 {
					out[0].Field, out[0].Bytes = v.Field, v.Bytes
					break
				}
			}
		default: // len upper lower string abs: a value for each
			return aligned(out, kids[0])
		}
	case KindSlice:
		k := 0
		for _, in := range kids[0] {
			b := in.Value.B
			if in.Value.Type == dissect.TypeString {
				b = []byte(in.Value.S)
			}
			if _, ok := sliceBytes(b, e.ranges); !ok {
				continue
			}
			if k == len(out) {
				return false
			}
			out[k].Field, out[k].Bytes = in.Field, sliceRanges(in.Bytes, len(b), e.ranges)
			k++
		}
		return k == len(out)
	case KindArith:
		k := 0
		skipZero := (e.op == "/" || e.op == "%") && e.typ != dissect.TypeBytes
		for _, a := range kids[0] {
			for _, b := range kids[1] {
				if skipZero && b.Value.N == 0 {
					continue
				}
				if k == len(out) {
					return false
				}
				out[k].Bytes = union(a, b)
				if a.Field == "" || b.Field == "" {
					out[k].Field = a.Field + b.Field // the one field it came from
				}
				k++
			}
		}
		return k == len(out)
	}
	return true
}

// aligned copies each in's provenance to the out value of its index.
func aligned(out, in []TracedValue) bool {
	if len(out) != len(in) {
		return false
	}
	for i := range out {
		out[i].Field, out[i].Bytes = in[i].Field, in[i].Bytes
	}
	return true
}

// union joins the byte ranges of values.
func union(vs ...TracedValue) []ByteRange {
	var out []ByteRange
	for _, v := range vs {
		for _, r := range v.Bytes {
			dup := false
			for _, o := range out {
				dup = dup || o == r
			}
			if !dup {
				out = append(out, r)
			}
		}
	}
	return out
}

// sliceRanges returns the packet bytes of the slice ranges of a value of
// n bytes read from bytes: exact when the value is its bytes as they
// are in the packet, else the whole value's.
func sliceRanges(bytes []ByteRange, n int, ranges []sliceRange) []ByteRange {
	if len(bytes) != 1 || bytes[0].Length != n {
		return bytes
	}
	var out []ByteRange
	for _, r := range ranges {
		start := r.start
		if start < 0 {
			start += n
		}
		length := r.length
		if r.toEnd {
			length = n - start
		}
		if length > 0 {
			out = append(out, ByteRange{bytes[0].Offset + start, length})
		}
	}
	return out
}
