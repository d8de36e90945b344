package dfilter

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/pkttap/pkttap/dissect"
)

// The checker turns the syntax tree into evaluable closures, giving every
// entity its type and converting values written in the expression to the
// type of what they are compared with.

// boolFn evaluates a logical expression on a packet.
type boolFn func(c *context) bool

// valuesFn appends an entity's values on a packet to dst.
type valuesFn func(c *context, dst []dissect.Value) []dissect.Value

// typed is a checked entity: its type, how to get its values, and the
// field it reads directly (for count and messages).
type typed struct {
	typ      dissect.Type
	base     dissect.Base
	eval     valuesFn
	field    string // a field or protocol read as is, "" otherwise
	slot     int    // with field, its slot plus one: its values are c.vals[slot-1]
	text     string // the entity as written
	pos, end int

	// What the tracer needs (Filter.Trace): the node's kind (with Op) in
	// the source map, the entities it is computed from, a slice's ranges.
	kind   Kind
	op     string
	args   []*typed
	ranges []sliceRange
	node   *Node
}

// lnode is a compiled logical expression: fn is the closure Match runs;
// the rest is what Filter.Trace needs to show how it decided.
type lnode struct {
	node *Node
	fn   boolFn
	kids []*lnode // and, or, not: the operands
	// A leaf's parts: the sides of a relation (a test's or membership's
	// entity is l), the comparison of one pair of values, and how the
	// pairs' results give the leaf's (see Quantifier).
	l, r    *typed
	pred    func(a, b dissect.Value) bool
	negate  bool // each pair's result is !pred (!=, !==, ~=)
	quant   Quantifier
	re      *regexp.Regexp // matches
	members []member       // membership
	bitwise bool           // a test of l, an "&": true when a value is not zero
}

// member is one member of a set: a value (hi nil) or a range lo..hi.
type member struct{ lo, hi *typed }

// checker holds what compiling found: the fields a filter reads.
type checker struct {
	src    string
	fields map[string]int // field name -> slot
	names  []string       // slot -> field name
	// valued names the protocols whose bytes the filter reads (not only
	// their presence): the fast path has no protocol bytes.
	valued map[string]bool
	exist  bool // compiling an existence test of a plain name
}

// slot returns the context slot holding a field's values.
func (k *checker) slot(name string) int {
	if i, ok := k.fields[name]; ok {
		return i
	}
	k.fields[name] = len(k.names)
	k.names = append(k.names, name)
	return len(k.names) - 1
}

func (k *checker) text(pos, end int) string {
	if end > len(k.src) {
		end = len(k.src)
	}
	return k.src[pos:end]
}

// expr compiles a logical expression.
func (k *checker) expr(e expr) *lnode {
	pos, end := e.span()
	var n *lnode
	switch e := e.(type) {
	case *paren:
		return k.expr(e.x) // the node is what the parentheses hold
	case *binary:
		ln, rn := k.expr(e.l), k.expr(e.r)
		l, r := ln.fn, rn.fn
		n = &lnode{kids: []*lnode{ln, rn}}
		if e.and {
			n.fn = func(c *context) bool { return l(c) && r(c) }
			n.node = newNode(k.src, KindAnd, "&&", pos, end, ln.node, rn.node)
		} else {
			n.fn = func(c *context) bool { return l(c) || r(c) }
			n.node = newNode(k.src, KindOr, "||", pos, end, ln.node, rn.node)
		}
		return n
	case *negation:
		xn := k.expr(e.x)
		x := xn.fn
		return &lnode{kids: []*lnode{xn}, fn: func(c *context) bool { return !x(c) },
			node: newNode(k.src, KindNot, "!", pos, end, xn.node)}
	case *test:
		n = k.test(e.x)
		n.node = newNode(k.src, KindTest, "", pos, end, n.l.node)
	case *relation:
		n = k.relation(e)
		n.node = newNode(k.src, KindRelation, e.op, pos, end, n.l.node, n.r.node)
	case *membership:
		n = k.membership(e)
		kids := []*Node{n.l.node}
		for _, m := range n.members {
			if m.hi == nil {
				kids = append(kids, m.lo.node)
			} else {
				kids = append(kids, newNode(k.src, KindRange, "..", m.lo.pos, m.hi.end, m.lo.node, m.hi.node))
			}
		}
		op := "in"
		if e.not {
			op = "not in"
		}
		n.node = newNode(k.src, KindMembership, op, pos, end, kids...)
	default:
		panic("dfilter: unknown expression")
	}
	return n
}

// test compiles an entity used alone: true when it has a value (a field
// or protocol is present), or for a bitwise and, a non-zero one.
func (k *checker) test(e entity) *lnode {
	if w, ok := e.(*word); ok {
		if _, known := dissect.LookupField(w.text); !known {
			k.unknown(w.text, w.pos, w.end)
		}
	}
	if s, ok := e.(*strLit); ok {
		fail(s.pos, s.end, "%s is neither a field nor a protocol name.", k.text(s.pos, s.end))
	}
	_, k.exist = e.(*word)
	t := k.entity(e, nil)
	k.exist = false
	if a, ok := e.(*arith); ok && a.op == "&" {
		return &lnode{l: t, quant: Any, bitwise: true, fn: func(c *context) bool {
			c.buf = t.eval(c, c.buf[:0])
			for _, v := range c.buf {
				if !isZero(v) {
					return true
				}
			}
			return false
		}}
	}
	return &lnode{l: t, quant: Any, fn: func(c *context) bool {
		c.buf = t.eval(c, c.buf[:0])
		return len(c.buf) > 0
	}}
}

func isZero(v dissect.Value) bool {
	if v.Type.IsBytesLike() {
		for _, b := range v.B {
			if b != 0 {
				return false
			}
		}
		return true
	}
	return v.N == 0
}

// unknown fails for a name that is neither a field nor a protocol, with
// the closest registered name as a suggestion.
func (k *checker) unknown(name string, pos, end int) {
	msg := name + " is neither a field nor a protocol name."
	if s := suggest(name); s != "" {
		msg += " Did you mean " + s + "?"
	}
	fail(pos, end, "%s", msg)
}

// isValue reports whether an entity is a value written in the expression
// (not a field, call or slice), whose type comes from the other side.
func isValue(e entity) bool {
	switch e := e.(type) {
	case *strLit:
		return true
	case *word:
		_, known := dissect.LookupField(e.text)
		return !known
	case *neg:
		return isValue(e.x)
	}
	return false
}

// entity compiles an entity; want is the type a value written in the
// expression is converted to (nil when the entity must have its own).
func (k *checker) entity(e entity, want *typed) *typed {
	t := k.entityOf(e, want)
	if t.node == nil {
		kids := make([]*Node, len(t.args))
		for i, a := range t.args {
			kids[i] = a.node
		}
		t.node = newNode(k.src, t.kind, t.op, t.pos, t.end, kids...)
	}
	return t
}

// entityOf compiles an entity for entity.
func (k *checker) entityOf(e entity, want *typed) *typed {
	pos, end := e.span()
	switch e := e.(type) {
	case *word:
		if f, ok := dissect.LookupField(e.text); ok {
			return k.field(f, pos, end)
		}
		if want == nil {
			k.unknown(e.text, pos, end)
		}
		v := literal(e.text, false, false, want.typ, pos, end)
		return constant(v, want, pos, end, e.text)
	case *strLit:
		if want == nil {
			fail(pos, end, "%s is neither a field nor a protocol name.", k.text(pos, end))
		}
		v := literal(e.text, !e.char, e.char, want.typ, pos, end)
		return constant(v, want, pos, end, k.text(pos, end))
	case *neg:
		if want != nil && isValue(e.x) {
			if w, ok := e.x.(*word); ok {
				v := literal("-"+w.text, false, false, want.typ, pos, end)
				return constant(v, want, pos, end, k.text(pos, end))
			}
		}
		x := k.entity(e.x, want)
		if !x.typ.IsUint() && !x.typ.IsInt() {
			fail(pos, end, "%s cannot be negated: it is a %s.", x.text, x.typ.Description())
		}
		return &typed{typ: dissect.TypeInt64, text: k.text(pos, end), pos: pos, end: end, kind: KindNeg, op: "-", args: []*typed{x},
			eval: func(c *context, dst []dissect.Value) []dissect.Value {
				n := len(dst)
				dst = x.eval(c, dst)
				for i := n; i < len(dst); i++ {
					dst[i] = dissect.Value{Type: dissect.TypeInt64, N: uint64(-int64(dst[i].N))}
				}
				return dst
			}}
	case *slice:
		return k.slice(e, want)
	case *call:
		return k.call(e)
	case *arith:
		return k.arith(e, want)
	}
	panic("dfilter: unknown entity")
}

// constant makes a typed entity of one value.
func constant(v dissect.Value, like *typed, pos, end int, text string) *typed {
	t := &typed{typ: v.Type, base: like.base, text: text, pos: pos, end: end, kind: KindValue}
	t.eval = func(c *context, dst []dissect.Value) []dissect.Value { return append(dst, v) }
	return t
}

// field makes the entity reading a field's (or an alias's) values.
func (k *checker) field(f *dissect.Field, pos, end int) *typed {
	slot := k.slot(f.Name)
	if f.IsProtocol() && !k.exist {
		k.valued[f.Name] = true
	}
	return &typed{typ: f.Type, base: f.Base, field: f.Name, slot: slot + 1, text: f.Name, pos: pos, end: end, kind: KindField,
		eval: func(c *context, dst []dissect.Value) []dissect.Value { return append(dst, c.vals[slot]...) }}
}

// slice compiles x[ranges]: the bytes of each value of x in the ranges.
func (k *checker) slice(e *slice, want *typed) *typed {
	x := k.entity(e.x, nil)
	if !x.typ.IsBytesLike() {
		fail(x.pos, x.end, "%q is a %s and cannot be sliced into a sequence of bytes.", x.text, x.typ.Description())
	}
	ranges := e.ranges
	typ := dissect.TypeBytes
	if x.typ == dissect.TypeString {
		typ = dissect.TypeString
	}
	pos, end := e.span()
	return &typed{typ: typ, text: k.text(pos, end), pos: pos, end: end, kind: KindSlice, args: []*typed{x}, ranges: ranges,
		eval: func(c *context, dst []dissect.Value) []dissect.Value {
			n := len(dst)
			dst = x.eval(c, dst)
			out := dst[:n]
			for _, v := range dst[n:] {
				b := v.B
				if v.Type == dissect.TypeString {
					b = []byte(v.S)
				}
				if s, ok := sliceBytes(b, ranges); ok {
					if typ == dissect.TypeString {
						out = append(out, dissect.Value{Type: typ, S: string(s)})
					} else {
						out = append(out, dissect.Value{Type: typ, B: s})
					}
				}
			}
			return out
		}}
}

// sliceBytes cuts b by Wireshark's slice ranges; false when a range lies
// outside b.
func sliceBytes(b []byte, ranges []sliceRange) ([]byte, bool) {
	if len(ranges) == 1 {
		return sliceOne(b, ranges[0])
	}
	var out []byte
	for _, r := range ranges {
		s, ok := sliceOne(b, r)
		if !ok {
			return nil, false
		}
		out = append(out, s...)
	}
	return out, true
}

func sliceOne(b []byte, r sliceRange) ([]byte, bool) {
	start := r.start
	if start < 0 {
		start += len(b)
	}
	if start < 0 || start > len(b) {
		return nil, false
	}
	if r.toEnd {
		return b[start:], start < len(b)
	}
	if r.length < 0 || r.length > len(b)-start {
		return nil, false
	}
	return b[start : start+r.length], true
}

// family groups types that compare with each other.
func family(t dissect.Type) int {
	switch {
	case t == dissect.TypeBool || t.IsUint() || t.IsInt():
		return 1
	case t == dissect.TypeBytes || t == dissect.TypeEther || t == dissect.TypeProtocol:
		return 2
	case t == dissect.TypeIPv4:
		return 3
	case t == dissect.TypeIPv6:
		return 4
	case t == dissect.TypeString:
		return 5
	case t == dissect.TypeTime || t == dissect.TypeRelTime:
		return 6
	}
	return 0
}

// pair compiles both sides of a comparison: a value written in the
// expression takes the type of the other side.
func (k *checker) pair(l, r entity, op string) (*typed, *typed) {
	lv, rv := isValue(l), isValue(r)
	switch {
	case lv && rv:
		p, q := l.span()
		if _, ok := l.(*strLit); ok || !strings.Contains(k.text(p, q), ".") {
			fail(p, q, "%s is neither a field nor a protocol name.", k.text(p, q))
		}
		k.unknown(k.text(p, q), p, q)
	case lv:
		rt := k.entity(r, nil)
		if w, ok := l.(*word); ok && looksLikeField(w.text) {
			k.notField(w, op)
		}
		return k.entity(l, rt), rt
	}
	lt := k.entity(l, nil)
	rt := k.entity(r, lt)
	if family(lt.typ) != family(rt.typ) && !(op == "contains" || op == "matches") {
		fail(lt.pos, rt.end, "%s and %s are not of compatible types.", lt.text, rt.text)
	}
	return lt, rt
}

// notField fails for an unknown field name on the left of op, as tshark
// does, with the closest registered name as a suggestion.
func (k *checker) notField(w *word, op string) {
	msg := "Left side of \"" + op + "\" expression must be a field or function, not " + w.text + "."
	if s := suggest(w.text); s != "" {
		msg += " Did you mean " + s + "?"
	}
	fail(w.pos, w.end, "%s", msg)
}

// looksLikeField reports whether an unknown word is written like a field
// name (letters, a dot, a known protocol before it) rather than a value.
func looksLikeField(s string) bool {
	proto, _, _ := strings.Cut(s, ".")
	f, ok := dissect.LookupField(proto)
	return ok && f.IsProtocol()
}

// relation compiles "l op r" with Wireshark 4.0's meaning for fields that
// occur several times: == > < >= <= contains matches hold when any pair
// of values does, != when no pair is equal (all_ne), === when all are
// (all_eq), ~= and !== when any pair differs. A side without values makes
// every relation false.
func (k *checker) relation(e *relation) *lnode {
	if e.op == "matches" {
		return k.matches(e)
	}
	if w, ok := e.l.(*word); ok && isValue(e.l) && looksLikeField(w.text) {
		k.notField(w, e.op)
	}
	l, r := k.pair(e.l, e.r, e.op)
	var pred func(a, b dissect.Value) bool
	switch e.op {
	case "contains":
		if !l.typ.IsBytesLike() {
			fail(l.pos, l.end, "%s is a %s and cannot be tested with contains.", l.text, l.typ.Description())
		}
		pred = contains
	case "==", "!=", "===", "!==", "~=":
		pred = func(a, b dissect.Value) bool { return compare(a, b) == 0 }
	case ">":
		pred = func(a, b dissect.Value) bool { return compare(a, b) > 0 }
	case "<":
		pred = func(a, b dissect.Value) bool { return compare(a, b) < 0 }
	case ">=":
		pred = func(a, b dissect.Value) bool { return compare(a, b) >= 0 }
	case "<=":
		pred = func(a, b dissect.Value) bool { return compare(a, b) <= 0 }
	default:
		fail(e.opPos, e.opEnd, "%q is not a comparison.", e.op)
	}
	n := &lnode{l: l, r: r, pred: pred}
	switch e.op {
	case "!=":
		n.fn = func(c *context) bool { return !anyPair(c, l, r, pred, false) && c.both }
		n.negate, n.quant = true, All
	case "===":
		n.fn = func(c *context) bool { return allPairs(c, l, r, pred) }
		n.quant = All
	case "!==", "~=":
		n.fn = func(c *context) bool { return anyPair(c, l, r, pred, true) }
		n.negate, n.quant = true, Any
	default:
		n.fn = func(c *context) bool { return anyPair(c, l, r, pred, false) }
		n.quant = Any
	}
	return n
}

// anyPair reports whether pred (or, with negate, its negation) holds for
// some pair of values; c.both records that both sides had values.
func anyPair(c *context, l, r *typed, pred func(a, b dissect.Value) bool, negate bool) bool {
	lv := values(c, l)
	rv := values(c, r)
	c.both = len(lv) > 0 && len(rv) > 0
	found := false
	for _, a := range lv {
		for _, b := range rv {
			if pred(a, b) != negate {
				found = true
				break
			}
		}
		if found {
			break
		}
	}
	giveValues(c, r, rv)
	giveValues(c, l, lv)
	return found
}

// values returns t's values: a field's are its slot's own (read only, not
// copied), any other entity's are evaluated into a scratch slice.
func values(c *context, t *typed) []dissect.Value {
	if t.slot > 0 {
		return c.vals[t.slot-1]
	}
	return t.eval(c, c.take())
}

// giveValues gives back the scratch slice values returned for t.
func giveValues(c *context, t *typed, vs []dissect.Value) {
	if t.slot == 0 {
		c.give(vs)
	}
}

// allPairs reports whether pred holds for every pair, there being some.
func allPairs(c *context, l, r *typed, pred func(a, b dissect.Value) bool) bool {
	lv := l.eval(c, c.take())
	rv := r.eval(c, c.take())
	ok := len(lv) > 0 && len(rv) > 0
	for _, a := range lv {
		for _, b := range rv {
			if !pred(a, b) {
				ok = false
			}
		}
	}
	c.give(rv)
	c.give(lv)
	return ok
}

// matches compiles "x matches "re"": Wireshark 4.0 matches without regard
// to case; the expression is Go's RE2 syntax.
func (k *checker) matches(e *relation) *lnode {
	l := k.entity(e.l, nil)
	if !l.typ.IsBytesLike() {
		fail(l.pos, l.end, "%s is a %s and cannot be tested with matches.", l.text, l.typ.Description())
	}
	s, ok := e.r.(*strLit)
	if !ok || s.char {
		p, q := e.r.span()
		fail(p, q, "the pattern of matches must be a quoted string, not %s", k.text(p, q))
	}
	re, err := regexp.Compile("(?i)" + s.text)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		fail(s.pos, s.end, "Regex compilation error: %s.", msg)
	}
	pattern := constant(dissect.Value{Type: dissect.TypeString, S: s.text}, l, s.pos, s.end, k.text(s.pos, s.end))
	pattern.node = newNode(k.src, KindValue, "", s.pos, s.end)
	return &lnode{l: l, r: pattern, re: re, quant: Any, fn: func(c *context) bool {
		vals := l.eval(c, c.take())
		found := false
		for _, v := range vals {
			if v.Type == dissect.TypeString {
				found = re.MatchString(v.S)
			} else {
				found = re.Match(v.B)
			}
			if found {
				break
			}
		}
		c.give(vals)
		return found
	}}
}

// membership compiles "x in {…}" (any value of x equal to a member or in
// a range) and "x not in {…}", its negation.
func (k *checker) membership(e *membership) *lnode {
	x := k.entity(e.x, nil)
	type item = member
	var items []item
	for _, it := range e.items {
		lo := k.entity(it.lo, x)
		var hi *typed
		if it.hi != nil {
			hi = k.entity(it.hi, x)
		}
		for _, t := range []*typed{lo, hi} {
			if t != nil && family(t.typ) != family(x.typ) {
				fail(t.pos, t.end, "%s and %s are not of compatible types.", x.text, t.text)
			}
		}
		items = append(items, item{lo, hi})
	}
	in := func(c *context) bool {
		vals := x.eval(c, c.take())
		defer c.give(vals)
		for _, it := range items {
			los := it.lo.eval(c, c.take())
			var his []dissect.Value
			if it.hi != nil {
				his = it.hi.eval(c, c.take())
			}
			for _, v := range vals {
				for _, lo := range los {
					if it.hi == nil {
						if compare(v, lo) == 0 {
							return true
						}
						continue
					}
					for _, hi := range his {
						if compare(v, lo) >= 0 && compare(v, hi) <= 0 {
							return true
						}
					}
				}
			}
			c.give(his)
			c.give(los)
		}
		return false
	}
	n := &lnode{l: x, members: items, fn: in, quant: Any}
	if e.not {
		n.fn, n.quant = func(c *context) bool { return !in(c) }, None
	}
	return n
}

// contains reports whether a holds b's bytes (or text).
func contains(a, b dissect.Value) bool {
	ab, bb := a.B, b.B
	if a.Type == dissect.TypeString {
		if b.Type == dissect.TypeString {
			return strings.Contains(a.S, b.S)
		}
		return strings.Contains(a.S, string(bb))
	}
	if b.Type == dissect.TypeString {
		bb = []byte(b.S)
	}
	return bytes.Contains(ab, bb)
}
