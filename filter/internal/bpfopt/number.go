package bpfopt

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// effect is what one statement does to the state.
type effect struct {
	atom    int    // atom written
	v       vid    // value written
	canFail bool   // the statement may reject the packet here
	ext     uint64 // captured length known after it succeeds (0: none)
	indX    vid    // for an indexed load: the index value (ext is past it)
	rewrite Insn   // an equivalent, simpler form of the statement
}

// eval computes the effect of statement in on state s.
func (o *optimizer) eval(s *state, in Insn) effect {
	t := o.vals
	e := effect{atom: atomA, rewrite: in}
	if bpfop.Class(in.Op) == bpfop.ClassLDX {
		e.atom = atomX
	}
	switch bpfop.Class(in.Op) {
	case bpfop.ClassLD, bpfop.ClassLDX:
		switch bpfop.Mode(in.Op) {
		case bpfop.ModeIMM:
			e.v = t.konst(in.K)
		case bpfop.ModeLEN:
			e.v = t.get(vexpr{kind: vkLen})
		case bpfop.ModeMEM:
			e.v = s.v[in.K]
			if c, ok := t.constOf(e.v); ok {
				e.rewrite = Insn{Op: bpfop.Class(in.Op) | bpfop.ModeIMM, K: c}
			} else if e.atom == atomX && s.v[atomA] == e.v {
				// "st M[k]; ldx M[k]" reads what A holds: tax, after
				// which the store may die.
				e.rewrite = Insn{Op: bpfop.ClassMISC | bpfop.MiscTAX}
			} else if e.atom == atomA && s.v[atomX] == e.v {
				e.rewrite = Insn{Op: bpfop.ClassMISC | bpfop.MiscTXA}
			}
		case bpfop.ModeABS:
			o.absLoad(s, &e, in.Op, uint64(in.K))
		case bpfop.ModeIND:
			size := loadSize(in.Op)
			if c, ok := t.constOf(s.v[atomX]); ok && !isSpecialOffset(uint64(in.K)) && !isSpecialOffset(uint64(in.K)+uint64(c)) {
				e.rewrite = Insn{Op: bpfop.ClassLD | bpfop.Size(in.Op) | bpfop.ModeABS, K: in.K + c}
				o.absLoad(s, &e, e.rewrite.Op, uint64(in.K)+uint64(c))
				break
			}
			e.v = t.get(vexpr{kind: vkInd, op: bpfop.Size(in.Op), a: s.v[atomX], k: in.K})
			e.canFail = !s.holds(e.v)
			if !isSpecialOffset(uint64(in.K)) {
				e.ext = uint64(in.K) + size
				e.indX = s.v[atomX]
				e.canFail = e.canFail && s.indExt(e.indX) < e.ext
			}
		case bpfop.ModeMSH:
			e.v = t.get(vexpr{kind: vkMsh, k: in.K})
			e.ext = uint64(in.K) + 1
			e.canFail = !s.holds(e.v) && e.ext > s.minLen
		}
	case bpfop.ClassST:
		e.atom, e.v = int(in.K), s.v[atomA]
	case bpfop.ClassSTX:
		e.atom, e.v = int(in.K), s.v[atomX]
	case bpfop.ClassALU:
		op := bpfop.Op(in.Op)
		b := t.konst(in.K)
		if bpfop.Src(in.Op) == bpfop.SrcX {
			b = s.v[atomX]
			if c, ok := t.constOf(b); ok && !((op == bpfop.OpDIV || op == bpfop.OpMOD) && c == 0) {
				e.rewrite = Insn{Op: bpfop.ClassALU | op | bpfop.SrcK, K: c}
			}
		}
		if op == bpfop.OpDIV || op == bpfop.OpMOD {
			c, ok := t.constOf(b)
			e.canFail = !ok || c == 0
		}
		e.v = t.alu(op, s.v[atomA], b)
		if c, ok := t.constOf(e.v); ok && !e.canFail {
			e.rewrite = Insn{Op: bpfop.ClassLD | bpfop.ModeIMM, K: c}
		}
	case bpfop.ClassMISC:
		if bpfop.MiscOp(in.Op) == bpfop.MiscTAX {
			e.atom, e.v = atomX, s.v[atomA]
		} else {
			e.atom, e.v = atomA, s.v[atomX]
		}
	}
	return e
}

// absLoad fills e for an absolute load of the size in op at offset k.
func (o *optimizer) absLoad(s *state, e *effect, op uint16, k uint64) {
	e.v = o.vals.get(vexpr{kind: vkLoad, op: bpfop.Size(op), k: uint32(k)})
	if isSpecialOffset(k) {
		e.canFail = !s.holds(e.v)
		return
	}
	e.ext = k + loadSize(op)
	e.canFail = !s.holds(e.v) && e.ext > s.minLen
}

// apply updates s with e.
func (s *state) apply(e effect) {
	if e.indX != 0 {
		s.noteInd(e.indX, e.ext)
	}
	s.v[e.atom] = e.v
	if e.ext > s.minLen {
		s.minLen = e.ext
	}
}

// entryState merges the out states of b's predecessors: an atom keeps a
// value all of them agree on, else it gets a fresh value for this block.
func (o *optimizer) entryState(b *block) state {
	var s state
	if len(b.preds) == 0 {
		for a := range s.v {
			s.v[a] = o.vals.fresh(vexpr{kind: vkFresh, op: uint16(a), k: 0xffffffff})
		}
		return s
	}
	s = b.preds[0].from.out
	for _, p := range b.preds[1:] {
		ps := &p.from.out
		for a := range s.v {
			if s.v[a] != ps.v[a] {
				s.v[a] = 0
			}
		}
		if ps.minLen < s.minLen {
			s.minLen = ps.minLen
		}
		s.meetInd(ps)
	}
	for a := range s.v {
		if s.v[a] == 0 {
			s.v[a] = o.vals.fresh(vexpr{kind: vkFresh, op: uint16(a), k: uint32(b.order)})
		}
	}
	return s
}

// number runs value numbering over the blocks in topological order and
// rewrites them: statements that recompute what their target already holds
// go, constants replace loads and operations whose value is known, indexed
// loads with a known index become absolute, jumps with a known outcome
// become gotos, returns of a known A return the constant, and a load whose
// value is masked away goes (see maskedAway). It reports whether it
// changed the program.
func (o *optimizer) number(order []*block) bool {
	changed := false
	clear(o.producer)
	for _, b := range order {
		s := o.entryState(b)
		kept := b.stmts[:0]
		for j, in := range b.stmts {
			if maskedAway(b.stmts, j) {
				changed = true
				continue
			}
			e := o.eval(&s, in)
			e.rewrite.Src = in.Src
			if s.v[e.atom] == e.v && !e.canFail {
				if o.src != nil {
					o.mergeSrc(e.v, in.Src)
				}
				changed = true
				continue
			}
			if e.rewrite != in {
				changed = true
			}
			kept = append(kept, e.rewrite)
			if o.src != nil {
				o.setProducer(e.v, &kept[len(kept)-1])
			}
			s.apply(e)
		}
		b.stmts = kept
		b.out = s
		if o.numberTerm(b) {
			changed = true
		}
	}
	return changed
}

// numberTerm simplifies b's terminator with b.out and records the values
// a conditional jump compares.
func (o *optimizer) numberTerm(b *block) bool {
	t := o.vals
	switch {
	case b.isRet():
		if bpfop.Rval(b.term.Op) == bpfop.RvalA {
			if c, ok := t.constOf(b.out.v[atomA]); ok {
				b.term = Insn{Op: bpfop.ClassRET | bpfop.RvalK, K: c, Src: b.term.Src}
				return true
			}
		}
	case b.isCond():
		changed := false
		if b.succ[0] == b.succ[1] {
			b.term, b.succ[1] = Insn{Op: bpfop.ClassJMP | bpfop.OpJA, Src: b.term.Src}, nil
			return true
		}
		if bpfop.Src(b.term.Op) == bpfop.SrcX {
			if c, ok := t.constOf(b.out.v[atomX]); ok {
				b.term = Insn{Op: b.term.Op &^ bpfop.SrcX, K: c, Src: b.term.Src}
				changed = true
			}
		}
		b.testA = b.out.v[atomA]
		if bpfop.Src(b.term.Op) == bpfop.SrcX {
			b.testB = b.out.v[atomX]
		} else {
			b.testB = t.konst(b.term.K)
		}
		if r, ok := o.decide(nil, b.testA, b.term, b.testB); ok {
			d := 1
			if r {
				d = 0
			}
			b.term, b.succ[0], b.succ[1] = Insn{Op: bpfop.ClassJMP | bpfop.OpJA, Src: b.term.Src}, b.succ[d], nil
			return true
		}
		return changed
	}
	return false
}

// maskedAway reports whether statement j of a block is a load into A whose
// value the block masks away: the next statement that uses A is "and #0"
// or "mul #0", which value numbering folds to the constant 0 whatever A
// held. Such a load goes even where it could reject a short packet, as
// libpcap's optimizer drops it (the folded operation becomes "ld #0" and
// the load a dead store): "net 0.0.0.0/0" then accepts every IPv4 packet,
// however short, as libpcap's optimized program does. It is the one place
// where the result may accept a packet the input rejects.
func maskedAway(stmts []Insn, j int) bool {
	if bpfop.Class(stmts[j].Op) != bpfop.ClassLD {
		return false
	}
	for _, in := range stmts[j+1:] {
		uses, def := usesDef(in)
		if uses.has(atomA) {
			op := bpfop.Op(in.Op)
			return bpfop.Class(in.Op) == bpfop.ClassALU && bpfop.Src(in.Op) == bpfop.SrcK && in.K == 0 &&
				(op == bpfop.OpAND || op == bpfop.OpMUL)
		}
		if def == atomA {
			return false
		}
	}
	return false
}

// setProducer records p as the kept statement that computes value v in
// this numbering pass, for the source map.
func (o *optimizer) setProducer(v vid, p *Insn) {
	if int(v) >= len(o.producer) {
		n := max(int(v)+1, 2*len(o.producer), 64)
		o.producer = append(o.producer, make([]*Insn, n-len(o.producer))...)
	}
	o.producer[v] = p
}

// mergeSrc adds src, the origins of a statement dropped because it
// recomputes value v, to the statement that computes v.
func (o *optimizer) mergeSrc(v vid, src uint16) {
	if int(v) < len(o.producer) && o.producer[v] != nil {
		o.producer[v].Src = o.src.Union(o.producer[v].Src, src)
	}
}
