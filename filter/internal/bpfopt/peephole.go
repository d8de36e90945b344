package bpfopt

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// peephole applies local rewrites that need the liveness eliminateDead just
// computed on the current graph. It reports whether it changed anything.
func peephole(order []*block, srcs *Sources) bool {
	changed := false
	for _, b := range order {
		if foldIndexAdd(b, srcs) {
			changed = true
		}
		if foldTestALU(b, srcs) {
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
func foldTestALU(b *block, srcs *Sources) bool {
	if !b.isCond() || len(b.stmts) == 0 || bpfop.Src(b.term.Op) != bpfop.SrcK {
		return false
	}
	if (b.succ[0].liveIn | b.succ[1].liveIn).has(atomA) {
		return false
	}
	last := b.stmts[len(b.stmts)-1]
	if bpfop.Class(last.Op) != bpfop.ClassALU {
		return false
	}
	op, k, c := bpfop.Op(last.Op), last.K, b.term.K
	src := bpfop.Src(last.Op)
	switch bpfop.Op(b.term.Op) {
	case bpfop.OpJEQ:
		switch {
		case src == bpfop.SrcK && op == bpfop.OpSUB:
			b.term.K = c + k
		case src == bpfop.SrcK && op == bpfop.OpADD:
			b.term.K = c - k
		case src == bpfop.SrcK && op == bpfop.OpXOR:
			b.term.K = c ^ k
		case src == bpfop.SrcX && op == bpfop.OpSUB && c == 0:
			b.term = Insn{Op: bpfop.ClassJMP | bpfop.OpJEQ | bpfop.SrcX, Src: b.term.Src}
		case src == bpfop.SrcX && op == bpfop.OpXOR && c == 0:
			b.term = Insn{Op: bpfop.ClassJMP | bpfop.OpJEQ | bpfop.SrcX, Src: b.term.Src}
		case src == bpfop.SrcK && op == bpfop.OpAND && c == 0:
			b.term = Insn{Op: bpfop.ClassJMP | bpfop.OpJSET, K: k, Src: b.term.Src}
			b.succ[0], b.succ[1] = b.succ[1], b.succ[0]
		default:
			return false
		}
	case bpfop.OpJSET:
		if src != bpfop.SrcK || op != bpfop.OpAND {
			return false
		}
		b.term.K = c & k
	default:
		return false
	}
	b.term.Src = srcs.Union(b.term.Src, last.Src)
	b.stmts = b.stmts[:len(b.stmts)-1]
	return true
}

// foldIndexAdd removes a "tax" that sets X to X+c (A computed as c + X just
// before) when X is only used by indexed loads until it is set again, adding
// c to their offsets instead: "ld #c; add x; tax; ldb [x+k]" loads from
// [x+k+c] with X unchanged (libpcap's peephole does the same). The rewrite
// is applied only where X+c cannot overflow (X bounded by its definition)
// and the new offsets stay plain packet offsets.
func foldIndexAdd(b *block, src *Sources) bool {
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
		case bpfop.Class(in.Op) == bpfop.ClassLD && bpfop.Mode(in.Op) == bpfop.ModeIMM:
			aConst, ac, aXPlus, aBound = true, in.K, false, uint64(in.K)
		case in.Op == bpfop.ClassALU|bpfop.OpADD|bpfop.SrcX && aConst:
			aConst, aXPlus, ax, aBound = false, true, ac, unknown
		case in.Op == bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK && aXPlus:
			ax += in.K
		case in.Op == bpfop.ClassMISC|bpfop.MiscTXA:
			aConst, aXPlus, ax, aBound = false, true, 0, xBound
		case in.Op == bpfop.ClassMISC|bpfop.MiscTAX:
			if aXPlus && ax != 0 && ax < 0x80000000 && xBound != unknown && xBound+uint64(ax) <= 0xffffffff && retargetIndexed(b, i, ax, src) {
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
			if bpfop.Class(in.Op) == bpfop.ClassLD && (bpfop.Mode(in.Op) == bpfop.ModeABS || bpfop.Mode(in.Op) == bpfop.ModeIND) {
				aBound = 1<<(8*loadSize(in.Op)) - 1
			}
		case def == atomX:
			aXPlus = false
			xBound = unknown
			switch bpfop.Mode(in.Op) {
			case bpfop.ModeMSH:
				xBound = 60
			case bpfop.ModeIMM:
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
func retargetIndexed(b *block, i int, c uint32, src *Sources) bool {
	var loads []int
	redefined := false
	for j := i + 1; j < len(b.stmts) && !redefined; j++ {
		in := b.stmts[j]
		u, def := usesDef(in)
		if u.has(atomX) {
			if bpfop.Class(in.Op) != bpfop.ClassLD || bpfop.Mode(in.Op) != bpfop.ModeIND || isSpecialOffset(uint64(in.K)+uint64(c)) {
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
		b.stmts[j].Src = src.Union(b.stmts[j].Src, b.stmts[i].Src)
	}
	return true
}
