package bpfopt

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// usesDef returns the atoms statement in reads, and def the atom it writes
// (-1 for none).
func usesDef(in Insn) (uses atomSet, def int) {
	const a, x = atomSet(1) << atomA, atomSet(1) << atomX
	switch bpfop.Class(in.Op) {
	case bpfop.ClassLD:
		switch bpfop.Mode(in.Op) {
		case bpfop.ModeIND:
			return x, atomA
		case bpfop.ModeMEM:
			return 1 << in.K, atomA
		}
		return 0, atomA
	case bpfop.ClassLDX:
		if bpfop.Mode(in.Op) == bpfop.ModeMEM {
			return 1 << in.K, atomX
		}
		return 0, atomX
	case bpfop.ClassST:
		return a, int(in.K)
	case bpfop.ClassSTX:
		return x, int(in.K)
	case bpfop.ClassALU:
		if bpfop.Src(in.Op) == bpfop.SrcX && bpfop.Op(in.Op) != bpfop.OpNEG {
			return a | x, atomA
		}
		return a, atomA
	case bpfop.ClassMISC:
		if bpfop.MiscOp(in.Op) == bpfop.MiscTAX {
			return a, atomX
		}
		return x, atomA
	case bpfop.ClassRET:
		if bpfop.Rval(in.Op) == bpfop.RvalA {
			return a, -1
		}
	case bpfop.ClassJMP:
		if in.isCondJump() {
			if bpfop.Src(in.Op) == bpfop.SrcX {
				return a | x, -1
			}
			return a, -1
		}
	}
	return 0, -1
}

// liveOutOf returns the atoms b's successors read before writing, plus
// those its terminator reads.
func liveOutOf(b *block) atomSet {
	var live atomSet
	for d := 0; d < b.nsucc(); d++ {
		live |= b.succ[d].liveIn
	}
	u, _ := usesDef(b.term)
	return live | u
}

// liveInOf returns the atoms b reads before writing, given its successors'
// liveIn.
func liveInOf(b *block) atomSet {
	live := liveOutOf(b)
	for j := len(b.stmts) - 1; j >= 0; j-- {
		u, d := usesDef(b.stmts[j])
		live = live&^(1<<d) | u
	}
	return live
}

// neverLen stands for "every packet is rejected from here on".
const neverLen = ^uint64(0)

// eliminateDead removes statements whose result no one reads (dead store
// elimination), in reverse topological order with liveness. A load that
// can fail on a short packet is removed only when every path from it
// rejects such packets anyway (another load at least as far reached before
// any accepting return, or a reject): reqLen tracks that bound backwards.
// It reports whether it removed anything.
func eliminateDead(order []*block) bool {
	changed := false
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		live := liveOutOf(b)
		var r uint64
		switch {
		case b.isRet():
			if bpfop.Rval(b.term.Op) == bpfop.RvalK && b.term.K == 0 {
				r = neverLen
			}
		case b.isGoto():
			r = b.succ[0].req
		default:
			r = min(b.succ[0].req, b.succ[1].req)
		}
		// Kept statements move to the end of the slice, in place.
		w := len(b.stmts)
		for j := len(b.stmts) - 1; j >= 0; j-- {
			in := b.stmts[j]
			u, d := usesDef(in)
			ext, removable := failBound(in)
			if !live.has(d) && removable && (ext == 0 || r >= ext) {
				changed = true
				continue
			}
			w--
			b.stmts[w] = in
			live = live&^(1<<d) | u
			if ext > r {
				r = ext
			}
		}
		b.stmts = b.stmts[w:]
		b.liveIn = live
		b.req = r
	}
	return changed
}

// failBound returns for a statement that rejects packets captured shorter
// than ext bytes (and only those) that bound, and whether the statement can
// be removed when its result is dead: loads of plain packet offsets can
// (given the bound is enforced later), indexed loads, special-offset loads
// and divisions by X cannot. An indexed load still reports the bound it
// implies.
func failBound(in Insn) (ext uint64, removable bool) {
	switch bpfop.Class(in.Op) {
	case bpfop.ClassLD, bpfop.ClassLDX:
		switch bpfop.Mode(in.Op) {
		case bpfop.ModeABS:
			if isSpecialOffset(uint64(in.K)) {
				return 0, false
			}
			return uint64(in.K) + loadSize(in.Op), true
		case bpfop.ModeMSH:
			return uint64(in.K) + 1, true
		case bpfop.ModeIND:
			if isSpecialOffset(uint64(in.K)) {
				return 0, false
			}
			return uint64(in.K) + loadSize(in.Op), false
		}
	case bpfop.ClassALU:
		if (bpfop.Op(in.Op) == bpfop.OpDIV || bpfop.Op(in.Op) == bpfop.OpMOD) && bpfop.Src(in.Op) == bpfop.SrcX {
			return 0, false
		}
	}
	return 0, true
}
