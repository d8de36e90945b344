package bpfopt

// thread retargets edges whose destination's outcome is already known on
// that edge (jump threading, libpcap's opt_j/fold_edge): for an edge b->s
// where s's statements, run from b's out state, can neither fail nor change
// an atom the chosen successor t reads, and the facts on the edge decide s's
// jump, b jumps straight to t; then the same edge is tried again from t. A
// goto block with such statements is skipped the same way.
//
// A packet that takes the new edge would have gone through s to t: the
// facts known at t still hold for it, and so do the values t's analysis
// assumes, except where the new path leaves an atom with another value than
// t's entry state says. Such a t is marked dirty, and it and the blocks
// after it are not used as sources in this pass, as their states are stale;
// the next round recomputes them. It reports whether it changed anything.
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
			var extra []fact
			if b.isCond() {
				extra = []fact{edgeFact(b, d)}
			}
			for hops := 0; hops < len(order); hops++ {
				s := b.succ[d]
				t := o.skip(b, s, extra)
				if t == nil {
					break
				}
				b.succ[d] = t
				changed = true
				if !entryStillValid(s, t, &b.out) {
					dirty[t] = true
				}
			}
		}
	}
	return changed
}

// entryStillValid reports whether t's entry state still describes every
// path into t after an edge that went through s now goes to t directly,
// arriving with state st (s's statements no longer run on it): each atom is
// either fresh at t (whatever arrives), arrives with the value t's state
// says, or is one s did not write and took fresh at its entry (st holds
// what s would have received).
func entryStillValid(s, t *block, st *state) bool {
	var sdefs atomSet
	for _, in := range s.stmts {
		if _, d := usesDef(in); d >= 0 {
			sdefs |= 1 << d
		}
	}
	for a := 0; a < nAtoms; a++ {
		switch {
		case t.fresh.has(a), st.v[a] == t.in.v[a]:
		case !sdefs.has(a) && s.fresh.has(a) && t.in.v[a] == s.in.v[a]:
		default:
			return false
		}
	}
	return st.minLen >= t.in.minLen
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
