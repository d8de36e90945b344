package bpfopt

import (
	"encoding/binary"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

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
func mergeIdentical(root *block, order []*block, src *Sources) (*block, bool) {
	changed := false
	seen := make(map[string]*block, len(order))
	var key []byte
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		for d := 0; d < b.nsucc(); d++ {
			if r := b.succ[d].rep; r != b.succ[d] {
				b.succ[d] = r
				changed = true
			}
		}
		key = key[:0]
		for _, in := range b.stmts {
			key = binary.LittleEndian.AppendUint16(key, in.Op)
			key = binary.LittleEndian.AppendUint32(key, in.K)
		}
		key = binary.LittleEndian.AppendUint16(key, b.term.Op|0x8000)
		key = binary.LittleEndian.AppendUint32(key, b.term.K)
		for d := 0; d < b.nsucc(); d++ {
			key = binary.LittleEndian.AppendUint32(key, uint32(b.succ[d].order))
		}
		if r, ok := seen[string(key)]; ok {
			if src != nil {
				for j := range r.stmts {
					r.stmts[j].Src = src.Union(r.stmts[j].Src, b.stmts[j].Src)
				}
				r.term.Src = src.Union(r.term.Src, b.term.Src)
			}
			b.rep = r
			changed = true
			continue
		}
		seen[string(key)] = b
		b.rep = b
	}
	return root.rep, changed
}
