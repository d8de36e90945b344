package bpfopt

// optimizer holds the state of one Optimize call.
type optimizer struct {
	vals       *valueTable
	stripping  bool // copy blocks to drop statements redundant on one edge
	couldStrip bool // stripping would have applied somewhere
	epoch      int  // visit mark of topo
	pullEpoch  int  // mark of the blocks one pullup call touched

	// Scratch storage reused across calls.
	order     []*block   // topo's result
	touched   []*block   // pullChain's blocks
	factBuf   [3]factSet // computeFacts' intersections
	ne, anyOf []uint32   // decide's knowledge
}

// maxRounds bounds the optimization rounds; each round that changes
// nothing ends the loop earlier, and programs converge in a few dozen.
const maxRounds = 200

// Optimize returns a program that returns the same value as prog for every
// packet, wire length and Linux ancillary data, and is never longer. The
// input may be longer than BPF_MAXINSNS (the limit applies to what is
// assembled); an otherwise invalid program (see [Validate]) is returned
// unchanged, for Assemble to report.
func Optimize(prog []Insn) []Insn {
	orig := append([]Insn(nil), prog...)
	if validateShape(prog) != nil || hasBackwardJump(prog) {
		// Loops (protochain) are left alone, as libpcap does.
		return orig
	}
	// Two strategies: plain, and with blocks copied where a path makes
	// their statements redundant; the shorter result wins (the first on a
	// tie), which keeps the outcome deterministic.
	out, couldStrip := optimizeWith(prog, false)
	if couldStrip {
		if alt, _ := optimizeWith(prog, true); len(alt) < len(out) {
			out = alt
		}
	}
	if len(out) > len(orig) || validateShape(out) != nil {
		return orig
	}
	return out
}

// optimizeWith runs the optimization rounds until nothing changes. It also
// reports whether the stripping strategy would have applied anywhere.
func optimizeWith(prog []Insn, stripping bool) ([]Insn, bool) {
	o := &optimizer{stripping: stripping, vals: newValueTable()}
	root := buildCFG(prog)
	for round := 0; round < maxRounds; round++ {
		changed := false
		o.vals.reset()
		order := o.topo(root)
		if o.number(order) {
			changed = true
			order = o.topo(root)
		}
		o.computeFacts(order)
		if o.thread(order) {
			changed = true
			order = o.topo(root)
		}
		if eliminateDead(order) {
			changed = true
		}
		if peephole(order) {
			changed = true
		}
		var c bool
		if root, c = bypass(root, order); c {
			changed = true
			order = o.topo(root)
		}
		if changed {
			continue
		}
		// Pull up tests of chains with the states and liveness of an
		// unchanged round.
		if o.pullup(order) {
			continue
		}
		// Merge identical blocks only once nothing else applies: a block
		// shared by several paths can no longer be threaded differently on
		// each of them.
		if root, c = mergeIdentical(root, order); !c {
			break
		}
	}
	return emit(o.topo(root)), o.couldStrip
}
