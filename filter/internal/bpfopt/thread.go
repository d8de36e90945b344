package bpfopt

// thread retargets edges whose destination's outcome is already known on
// that edge (jump threading, libpcap's opt_j/fold_edge): for an edge b->s
// where s's statements, run from b's out state, can neither fail nor change
// an atom the chosen successor t reads, and the facts on the edge decide s's
// jump, b jumps straight to t. A goto block with such statements is skipped
// the same way. Blocks whose incoming paths changed in this pass are left
// for the next round, as their states are stale. It reports whether it
// changed anything.
func (o *optimizer) thread(order []*block) bool {
	changed := false
	dirty := make(map[*block]bool)
	for _, b := range order {
		if dirty[b] {
			for d := 0; d < b.nsucc(); d++ {
				dirty[b.succ[d]] = true
			}
			continue
		}
		for d := 0; d < b.nsucc(); d++ {
			s := b.succ[d]
			var extra []fact
			if b.isCond() {
				extra = []fact{edgeFact(b, d)}
			}
			t := o.skip(b, s, extra)
			if t == nil {
				continue
			}
			b.succ[d] = t
			dirty[t] = true
			changed = true
		}
	}
	return changed
}

// skip returns the successor of s that edge b->s certainly reaches without
// s doing anything observable, or nil.
func (o *optimizer) skip(b, s *block, extra []fact) *block {
	if s.isRet() {
		return nil
	}
	st := b.out
	for _, in := range s.stmts {
		e := o.eval(&st, in)
		if e.canFail {
			return nil
		}
		st.apply(e)
	}
	var t *block
	if s.isGoto() {
		t = s.succ[0]
	} else {
		a := st.v[atomA]
		bv := o.vals.konst(s.term.K)
		if opSrc(s.term.Op) == srcX {
			bv = st.v[atomX]
		}
		r, ok := o.decide(b.facts, a, s.term, bv, extra...)
		if !ok {
			return nil
		}
		t = s.succ[1]
		if r {
			t = s.succ[0]
		}
	}
	for a := 0; a < nAtoms; a++ {
		if t.liveIn.has(a) && st.v[a] != b.out.v[a] {
			return nil
		}
	}
	return t
}
