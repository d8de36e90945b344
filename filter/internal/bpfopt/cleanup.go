package bpfopt

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// bypass points every edge (and the root) past empty goto blocks and turns
// conditional jumps with equal targets into gotos. It returns the new root
// and whether anything changed.
func bypass(root *block, order []*block) (*block, bool) {
	changed := false
	skipEmpty := func(s *block) *block {
		for hops := 0; len(s.stmts) == 0 && s.isGoto() && hops < len(order); hops++ {
			s = s.succ[0]
			changed = true
		}
		return s
	}
	// Bottom up, so that a jump whose branches meet becomes an empty goto
	// before its predecessors look at it: chains collapse in one pass.
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		for d := 0; d < b.nsucc(); d++ {
			b.succ[d] = skipEmpty(b.succ[d])
		}
		if b.isCond() && b.succ[0] == b.succ[1] {
			b.term, b.succ[1] = Insn{Op: bpfop.ClassJMP | bpfop.OpJA, Src: b.term.Src}, nil
			changed = true
		}
	}
	return skipEmpty(root), changed
}

// mergeIdentical replaces blocks by an identical one (same statements,
// terminator and successors), bottom up, so identical subgraphs and
// duplicate returns collapse. It returns the new root and whether anything
// changed.
func (o *optimizer) mergeIdentical(root *block, order []*block) (*block, bool) {
	changed := false
	seen := o.merged
	if seen == nil {
		seen = make(map[uint64]*block, len(order))
		o.merged = seen
	}
	clear(seen)
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		for d := 0; d < b.nsucc(); d++ {
			if r := b.succ[d].rep; r != b.succ[d] {
				b.succ[d] = r
				changed = true
			}
		}
		h := blockHash(b)
		var r *block
		for r = seen[h]; r != nil && !identical(r, b); r = r.same {
		}
		if r != nil {
			if o.src != nil {
				for j := range r.stmts {
					r.stmts[j].Src = o.src.Union(r.stmts[j].Src, b.stmts[j].Src)
				}
				r.term.Src = o.src.Union(r.term.Src, b.term.Src)
			}
			b.rep = r
			changed = true
			continue
		}
		b.same = seen[h]
		seen[h] = b
		b.rep = b
	}
	return root.rep, changed
}

// blockHash hashes what identical compares.
func blockHash(b *block) uint64 {
	h := uint64(len(b.stmts))
	mix := func(x uint64) { h = (h^x)*0x100000001b3 + 0x9e3779b97f4a7c15 }
	for _, in := range b.stmts {
		mix(uint64(in.Op)<<32 | uint64(in.K))
	}
	mix(uint64(b.term.Op)<<32 | uint64(b.term.K))
	for d := 0; d < b.nsucc(); d++ {
		mix(uint64(b.succ[d].order))
	}
	return h ^ h>>31
}

// identical reports whether a and b have the same statements, terminator
// and successors (sources aside), successors compared by their order as
// this round's topological sort numbered them.
func identical(a, b *block) bool {
	if len(a.stmts) != len(b.stmts) || a.term.Op != b.term.Op || a.term.K != b.term.K {
		return false
	}
	for j := range a.stmts {
		if a.stmts[j].Op != b.stmts[j].Op || a.stmts[j].K != b.stmts[j].K {
			return false
		}
	}
	for d := 0; d < a.nsucc(); d++ {
		if a.succ[d].order != b.succ[d].order {
			return false
		}
	}
	return true
}
