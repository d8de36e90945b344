package bpfopt

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// thread retargets edges whose destination's outcome is already known on
// that edge (jump threading, libpcap's opt_j/fold_edge): for an edge b->s
// where s's statements, run from b's out state, can neither fail nor change
// an atom the chosen successor t reads, and the facts on the edge decide s's
// jump, b jumps straight to t; then the same edge is tried again from t. A
// goto block with such statements is skipped the same way.
//
// Sources are taken in reverse topological order. A retarget at b changes
// the paths into the blocks after b only, so the states and facts of the
// blocks still to be visited (all before b) stay exact; the liveness of b is
// recomputed once its edges are final, so every later check reads current
// liveness. It reports whether it changed anything.
func (o *optimizer) thread(order []*block) bool {
	changed := false
	o.simFrom, o.simTo = nil, nil // out states are this round's
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		for d := 0; d < b.nsucc(); d++ {
			var extra []fact
			if b.isCond() {
				extra = []fact{edgeFact(b, d)}
			}
			for hops := 0; hops < len(order); hops++ {
				t := o.skip(b, b.succ[d], extra)
				if t == nil {
					break
				}
				b.succ[d] = t
				changed = true
			}
			if s := o.strip(b, b.succ[d]); s != nil {
				o.couldStrip = true
				if o.stripping {
					b.succ[d] = s
					changed = true
				}
			}
		}
		b.liveIn = liveInOf(b)
	}
	return changed
}

// skip returns the successor of s that edge b->s certainly reaches without
// s doing anything observable, or nil.
func (o *optimizer) skip(b, s *block, extra []fact) *block {
	if s.isRet() {
		return nil
	}
	st, ok := o.simulate(b, s)
	if !ok {
		return nil
	}
	var t *block
	if s.isGoto() {
		t = s.succ[0]
	} else {
		a := st.v[atomA]
		bv := o.vals.konst(s.term.K)
		if bpfop.Src(s.term.Op) == bpfop.SrcX {
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
	if !sameOn(t.liveIn, &st, &b.out) {
		return nil
	}
	return t
}

// simulate runs s's statements from b's out state, as if b went on to s;
// it fails if one of them could reject the packet there. Within thread,
// where out states and statements stay as they are, the last edge's
// outcome is kept: strip asks for the edge skip just simulated.
func (o *optimizer) simulate(b, s *block) (state, bool) {
	if o.simFrom != b || o.simTo != s {
		o.simState, o.simOK = o.simulateFrom(&b.out, s)
		o.simFrom, o.simTo = b, s
	}
	return o.simState, o.simOK
}

// sameOn reports whether two states agree on the atoms of set.
func sameOn(set atomSet, x, y *state) bool {
	for a := 0; a < nAtoms; a++ {
		if set.has(a) && x.v[a] != y.v[a] {
			return false
		}
	}
	return true
}

// strip returns, for an edge b->s on which s's statements change nothing
// (they recompute what the atoms already hold, as a load repeated on one
// path but not on the others), a copy of s without them, or nil. Copies
// ending alike on different paths are merged once threading is done.
func (o *optimizer) strip(b, s *block) *block {
	if !s.isCond() || len(s.stmts) == 0 || len(s.preds) < 2 {
		return nil
	}
	st, ok := o.simulate(b, s)
	if !ok || !sameOn(liveOutOf(s), &st, &b.out) {
		return nil
	}
	c := o.newBlock()
	c.term, c.succ = s.term, s.succ
	c.liveIn = liveInOf(c)
	return c
}
