package bpfopt

// peephole applies local rewrites that need the liveness eliminateDead just
// computed on the current graph. It reports whether it changed anything.
func peephole(order []*block) bool {
	changed := false
	for _, b := range order {
		if foldIndexAdd(b) {
			changed = true
		}
		if foldTestALU(b) {
			changed = true
		}
	}
	return changed
}

// foldTestALU merges an operation on A into the comparison that follows it
// when A is not read afterwards: "sub #k; jeq #c" becomes "jeq #c+k" (and
// likewise add and xor), "sub x; jeq #0" becomes "jeq x", "and #k; jeq #0"
// becomes "jset #k" with the branches swapped and "and #k; jset #m" becomes
// "jset #k&m". Each keeps the outcome for every value of A.
func foldTestALU(b *block) bool {
	if !b.isCond() || len(b.stmts) == 0 || opSrc(b.term.Op) != srcK {
		return false
	}
	if (b.succ[0].liveIn | b.succ[1].liveIn).has(atomA) {
		return false
	}
	last := b.stmts[len(b.stmts)-1]
	if opClass(last.Op) != clsALU {
		return false
	}
	op, k, c := opCode(last.Op), last.K, b.term.K
	src := opSrc(last.Op)
	switch opCode(b.term.Op) {
	case jmpJEQ:
		switch {
		case src == srcK && op == aluSUB:
			b.term.K = c + k
		case src == srcK && op == aluADD:
			b.term.K = c - k
		case src == srcK && op == aluXOR:
			b.term.K = c ^ k
		case src == srcX && op == aluSUB && c == 0:
			b.term = Insn{Op: clsJMP | jmpJEQ | srcX}
		case src == srcX && op == aluXOR && c == 0:
			b.term = Insn{Op: clsJMP | jmpJEQ | srcX}
		case src == srcK && op == aluAND && c == 0:
			b.term = Insn{Op: clsJMP | jmpJSET, K: k}
			b.succ[0], b.succ[1] = b.succ[1], b.succ[0]
		default:
			return false
		}
	case jmpJSET:
		if src != srcK || op != aluAND {
			return false
		}
		b.term.K = c & k
	default:
		return false
	}
	b.stmts = b.stmts[:len(b.stmts)-1]
	return true
}

// foldIndexAdd removes a "tax" that sets X to X+c (A computed as c + X just
// before) when X is only used by indexed loads until it is set again, adding
// c to their offsets instead: "ld #c; add x; tax; ldb [x+k]" loads from
// [x+k+c] with X unchanged (libpcap's peephole does the same). The rewrite
// is applied only where X+c cannot overflow (X bounded by its definition)
// and the new offsets stay plain packet offsets.
func foldIndexAdd(b *block) bool {
	changed := false
	const unknown = ^uint64(0)
	var (
		aConst bool
		ac     uint32
		aXPlus bool   // A == X + ax
		ax     uint32 //
		aBound = unknown
		xBound = unknown
	)
	for i := 0; i < len(b.stmts); i++ {
		in := b.stmts[i]
		_, def := usesDef(in)
		switch {
		case opClass(in.Op) == clsLD && opMode(in.Op) == modeIMM:
			aConst, ac, aXPlus, aBound = true, in.K, false, uint64(in.K)
		case in.Op == clsALU|aluADD|srcX && aConst:
			aConst, aXPlus, ax, aBound = false, true, ac, unknown
		case in.Op == clsALU|aluADD|srcK && aXPlus:
			ax += in.K
		case in.Op == clsMISC|miscTXA:
			aConst, aXPlus, ax, aBound = false, true, 0, xBound
		case in.Op == clsMISC|miscTAX:
			if aXPlus && ax != 0 && ax < 0x80000000 && xBound != unknown && xBound+uint64(ax) <= 0xffffffff && retargetIndexed(b, i, ax) {
				b.stmts = append(b.stmts[:i], b.stmts[i+1:]...)
				i--
				changed = true
				continue // X keeps its value; A still X+ax
			}
			xBound = aBound
			aConst, aXPlus = false, false
			if def == atomX {
				aXPlus, ax = true, 0
			}
		case def == atomA:
			aConst, aXPlus = false, false
			aBound = unknown
			if opClass(in.Op) == clsLD && (opMode(in.Op) == modeABS || opMode(in.Op) == modeIND) {
				aBound = 1<<(8*loadSize(in.Op)) - 1
			}
		case def == atomX:
			aXPlus = false
			xBound = unknown
			switch opMode(in.Op) {
			case modeMSH:
				xBound = 60
			case modeIMM:
				xBound = uint64(in.K)
			}
		}
	}
	return changed
}

// retargetIndexed checks that after b.stmts[i] (a tax to be removed) X is
// only read by indexed loads until it is redefined (or, if it is not, that
// neither the terminator nor any successor reads it), and if so adds c to
// those loads' offsets.
func retargetIndexed(b *block, i int, c uint32) bool {
	var loads []int
	redefined := false
	for j := i + 1; j < len(b.stmts) && !redefined; j++ {
		in := b.stmts[j]
		u, def := usesDef(in)
		if u.has(atomX) {
			if opClass(in.Op) != clsLD || opMode(in.Op) != modeIND || isSpecialOffset(uint64(in.K)+uint64(c)) {
				return false
			}
			loads = append(loads, j)
		}
		if def == atomX {
			redefined = true
		}
	}
	if !redefined {
		u, _ := usesDef(b.term)
		if u.has(atomX) || liveOutOf(b).has(atomX) {
			return false
		}
	}
	for _, j := range loads {
		b.stmts[j].K += c
	}
	return true
}
