package bpfopt

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// fact records the outcome of a conditional jump on a path: value a
// compared by op (jump code and source) with value b was out.
type fact struct {
	a, b vid
	op   uint16
	out  bool
}

// factSet is a set of facts that hold on every path to a point, sorted
// by factLess so that sets intersect in linear time and the facts about one
// value are found by binary search.
type factSet []fact

func factLess(f, g fact) bool {
	switch {
	case f.a != g.a:
		return f.a < g.a
	case f.b != g.b:
		return f.b < g.b
	case f.op != g.op:
		return f.op < g.op
	}
	return !f.out && g.out
}

// withInto appends fs plus f to dst[:0] and returns it; dst must not share
// storage with fs.
func (fs factSet) withInto(dst factSet, f fact) factSet {
	// The first fact not less than f (sort.Search, without its closure).
	i, j := 0, len(fs)
	for i < j {
		h := int(uint(i+j) >> 1)
		if factLess(fs[h], f) {
			i = h + 1
		} else {
			j = h
		}
	}
	out := append(dst[:0], fs[:i]...)
	if i == len(fs) || fs[i] != f {
		out = append(out, f)
	}
	return append(out, fs[i:]...)
}

// intersectInto appends the facts in both fs and gs to dst[:0] and returns
// it; dst must not share storage with either.
func (fs factSet) intersectInto(dst, gs factSet) factSet {
	out := dst[:0]
	for i, j := 0, 0; i < len(fs) && j < len(gs); {
		switch {
		case fs[i] == gs[j]:
			out = append(out, fs[i])
			i++
			j++
		case factLess(fs[i], gs[j]):
			i++
		default:
			j++
		}
	}
	return out
}

// about returns the facts whose compared value is a.
func (fs factSet) about(a vid) factSet {
	i, j := 0, len(fs)
	for i < j { // the first fact about a or a later value
		h := int(uint(i+j) >> 1)
		if fs[h].a < a {
			i = h + 1
		} else {
			j = h
		}
	}
	for j < len(fs) && fs[j].a == a {
		j++
	}
	return fs[i:j]
}

// maxFacts bounds the facts kept per block, and factBudget the facts kept
// over all blocks: a long program keeps fewer per block (at least
// minFacts), so that a round's work and memory stay linear in its length.
// The facts kept are those about the values numbered first, which on a
// long list are the link-layer and protocol tests every path shares.
const (
	maxFacts   = 512
	minFacts   = 16
	factBudget = 1 << 18
)

// factLimit returns how many facts each of n blocks keeps.
func factLimit(n int) int {
	return max(minFacts, min(maxFacts, factBudget/max(n, 1)))
}

// edgeFact returns the fact that branch dir of conditional block b adds.
func edgeFact(b *block, dir int) fact {
	return fact{a: b.testA, b: b.testB, op: b.term.Op & 0xf8, out: dir == 0}
}

// edgeFacts returns the facts holding on edge p, in dst's storage.
func edgeFacts(dst factSet, p edge) factSet {
	if p.from.isCond() {
		return p.from.facts.withInto(dst, edgeFact(p.from, p.dir))
	}
	return append(dst[:0], p.from.facts...)
}

// computeFacts sets the facts of every block: those holding on all of its
// incoming edges (the conditions of the dominating edges, as libpcap's edge
// dominators find them). Each block keeps its facts in storage of its own,
// reused from round to round, and the intersections are built in the
// optimizer's two scratch sets, so a round allocates only where a block
// knows more than before.
func (o *optimizer) computeFacts(order []*block) {
	limit := factLimit(len(order))
	for _, b := range order {
		if len(b.preds) == 0 {
			b.facts = b.facts[:0]
			continue
		}
		if len(b.preds) == 1 {
			b.facts = edgeFacts(b.facts, b.preds[0])
		} else {
			fs := edgeFacts(o.factBuf[0], b.preds[0])
			for _, p := range b.preds[1:] {
				if len(fs) == 0 {
					break
				}
				o.factBuf[1] = edgeFacts(o.factBuf[1], p)
				o.factBuf[0] = fs.intersectInto(o.factBuf[2], o.factBuf[1])
				o.factBuf[2] = fs
				fs = o.factBuf[0]
			}
			o.factBuf[0] = fs
			b.facts = append(b.facts[:0], fs...)
		}
		if len(b.facts) > limit {
			// Knowing less is always sound; this bounds the work on
			// long chains of comparisons.
			b.facts = b.facts[:limit]
		}
	}
}

// knowledge is what facts say about one value: it lies in [lo, hi], is none
// of ne, has the bits of zero clear and some bit of each anyOf mask set.
type knowledge struct {
	lo, hi uint32
	ne     []uint32
	zero   uint32
	anyOf  []uint32
}

// add narrows k with the outcome of "v op c".
func (k *knowledge) add(op uint16, c uint32, out bool) {
	switch bpfop.Op(op) {
	case bpfop.OpJEQ:
		if out {
			k.lo, k.hi = max(k.lo, c), min(k.hi, c)
		} else {
			k.ne = append(k.ne, c)
		}
	case bpfop.OpJGT:
		if out {
			if c == 0xffffffff {
				k.lo, k.hi = 1, 0 // impossible
			} else {
				k.lo = max(k.lo, c+1)
			}
		} else {
			k.hi = min(k.hi, c)
		}
	case bpfop.OpJGE:
		if out {
			k.lo = max(k.lo, c)
		} else if c == 0 {
			k.lo, k.hi = 1, 0
		} else {
			k.hi = min(k.hi, c-1)
		}
	case bpfop.OpJSET:
		if out {
			k.anyOf = append(k.anyOf, c)
		} else {
			k.zero |= c
		}
	}
}

// allows reports whether the single value c is consistent with k.
func (k *knowledge) allows(c uint32) bool {
	if c < k.lo || c > k.hi || c&k.zero != 0 {
		return false
	}
	for _, n := range k.ne {
		if n == c {
			return false
		}
	}
	for _, m := range k.anyOf {
		if c&m == 0 {
			return false
		}
	}
	return true
}

// eval returns the outcome of "v op c" for every v k allows, if it is the
// same for all of them.
func (k *knowledge) eval(op uint16, c uint32) (bool, bool) {
	if k.lo > k.hi {
		return false, false // no value: an unreachable path, leave it
	}
	if k.lo == k.hi {
		if !k.allows(k.lo) {
			return false, false
		}
		return evalJump(op, k.lo, c), true
	}
	switch bpfop.Op(op) {
	case bpfop.OpJEQ:
		if !k.allows(c) {
			return false, true
		}
	case bpfop.OpJGT:
		if k.lo > c {
			return true, true
		}
		if k.hi <= c {
			return false, true
		}
	case bpfop.OpJGE:
		if k.lo >= c {
			return true, true
		}
		if k.hi < c {
			return false, true
		}
	case bpfop.OpJSET:
		if c&^k.zero == 0 {
			return false, true
		}
		for _, m := range k.anyOf {
			if m&^c == 0 {
				return true, true
			}
		}
	}
	return false, false
}

// evalJump computes a conditional jump on constants.
func evalJump(op uint16, a, b uint32) bool {
	switch bpfop.Op(op) {
	case bpfop.OpJEQ:
		return a == b
	case bpfop.OpJGT:
		return a > b
	case bpfop.OpJGE:
		return a >= b
	}
	return a&b != 0
}

// decide returns the outcome of terminator term comparing value a with
// value b, when constants or the facts fs (optionally with one extra fact)
// determine it.
func (o *optimizer) decide(fs factSet, a vid, term Insn, b vid, extra ...fact) (bool, bool) {
	t := o.vals
	ca, aok := t.constOf(a)
	cb, bok := t.constOf(b)
	if aok && bok {
		return evalJump(term.Op, ca, cb), true
	}
	op := term.Op & 0xf8
	if a == b {
		switch bpfop.Op(op) {
		case bpfop.OpJEQ, bpfop.OpJGE:
			return true, true
		case bpfop.OpJGT:
			return false, true
		}
	}
	if !bok {
		// Compared with X: only the very same comparison tells.
		for _, f := range extra {
			if f.a == a && f.b == b && f.op == op {
				return f.out, true
			}
		}
		for _, f := range fs.about(a) {
			if f.b == b && f.op == op {
				return f.out, true
			}
		}
		return false, false
	}
	k := knowledge{hi: t.maxOf(a), ne: o.ne[:0], anyOf: o.anyOf[:0]}
	if bpfop.Op(op) == bpfop.OpJEQ {
		// libpcap keeps "ip proto 256" (a byte compared with 256) as a
		// program that matches nothing rather than rejecting the
		// expression; the compiler relies on our reducing to "ret #0"
		// exactly where libpcap does, so equality does not use the bound.
		k.hi = 0xffffffff
	}
	if aok {
		k.lo, k.hi = ca, ca
	}
	note := func(f fact) {
		if f.a != a {
			return
		}
		if c, ok := t.constOf(f.b); ok {
			k.add(f.op, c, f.out)
		}
	}
	for _, f := range extra {
		note(f)
	}
	for _, f := range fs.about(a) {
		note(f)
	}
	r, ok := k.eval(op, cb)
	o.ne, o.anyOf = k.ne[:0], k.anyOf[:0] // keep the grown storage
	return r, ok
}
