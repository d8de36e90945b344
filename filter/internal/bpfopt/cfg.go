package bpfopt

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// A block is a basic block of the control-flow graph: straight-line
// statements (loads, stores, ALU, tax/txa) ended by a terminator, which is a
// conditional jump (succ[0] on true, succ[1] on false), a return, or a goto
// (succ[0]; emitted as BPF_JA unless its target is laid out next).
type block struct {
	stmts []Insn
	term  Insn
	succ  [2]*block

	// Filled by the analyses of one optimization round.
	order  int     // index in the topological order
	preds  []edge  // incoming edges
	out    state   // value numbers before the terminator
	testA  vid     // value of A compared by a conditional terminator
	testB  vid     // value of the operand (constant or X)
	facts  factSet // facts known on every path to the block
	liveIn atomSet // atoms read before being written
	pos    int     // emission position
	seen   int     // epoch of the last topo visit
	pulled int     // pullEpoch of the last pullup that touched it
	rep    *block  // identical block that replaces this one (mergeIdentical)
	same   *block  // next block of mergeIdentical's hash bucket
	req    uint64  // captured length every path from the entry rejects below
	elide  bool    // goto whose target is laid out next
}

// edge is the branch dir (0 true/goto, 1 false) of block from.
type edge struct {
	from *block
	dir  int
}

// Terminator kinds.
func (b *block) isRet() bool  { return bpfop.Class(b.term.Op) == bpfop.ClassRET }
func (b *block) isGoto() bool { return b.term.isJA() }
func (b *block) isCond() bool { return b.term.isCondJump() }

// nsucc returns the number of successors.
func (b *block) nsucc() int {
	switch {
	case b.isRet():
		return 0
	case b.isGoto():
		return 1
	}
	return 2
}

// buildCFG splits a valid program into basic blocks and returns the entry
// block.
func (o *optimizer) buildCFG(prog []Insn) *block {
	n := len(prog)
	leader := append(o.leader[:0], make([]bool, n+1)...)
	o.leader = leader
	leader[0] = true
	for i, in := range prog {
		switch {
		case in.isJA():
			leader[i+1+int(in.K)] = true
			leader[i+1] = true
		case in.isCondJump():
			leader[i+1+in.Jt] = true
			leader[i+1+in.Jf] = true
			leader[i+1] = true
		case bpfop.Class(in.Op) == bpfop.ClassRET:
			leader[i+1] = true
		}
	}
	blocks := append(o.starts[:0], make([]*block, n)...)
	o.starts = blocks
	for i := 0; i < n; i++ {
		if leader[i] {
			blocks[i] = o.newBlock()
		}
	}
	for start := 0; start < n; start++ {
		b := blocks[start]
		if b == nil {
			continue
		}
		for i := start; ; i++ {
			in := prog[i]
			switch {
			case in.isJA():
				b.term = Insn{Op: bpfop.ClassJMP | bpfop.OpJA, Src: in.Src}
				b.succ[0] = blocks[i+1+int(in.K)]
			case in.isCondJump():
				b.term = Insn{Op: in.Op, K: in.K, Src: in.Src}
				b.succ[0] = blocks[i+1+in.Jt]
				b.succ[1] = blocks[i+1+in.Jf]
			case bpfop.Class(in.Op) == bpfop.ClassRET:
				b.term = Insn{Op: in.Op, K: in.K, Src: in.Src}
			default:
				b.stmts = append(b.stmts, Insn{Op: in.Op, K: in.K, Src: in.Src})
				if !leader[i+1] {
					continue
				}
				b.term = Insn{Op: bpfop.ClassJMP | bpfop.OpJA, Src: in.Src}
				b.succ[0] = blocks[i+1]
			}
			break
		}
	}
	root := blocks[0]
	clear(blocks)
	return root
}

// blockChunk is how many blocks the arena allocates at a time, at least.
const blockChunk = 32

// newBlock returns a zeroed block from the optimizer's arena. A block used
// by an earlier optimization keeps the storage of its slices.
func (o *optimizer) newBlock() *block {
	if o.used == len(o.arena) {
		chunk := make([]block, max(blockChunk, len(o.arena)))
		for i := range chunk {
			o.arena = append(o.arena, &chunk[i])
		}
	}
	b := o.arena[o.used]
	o.used++
	*b = block{stmts: b.stmts[:0], preds: b.preds[:0], facts: b.facts[:0]}
	return b
}

// topo returns the blocks reachable from root in a topological order
// (reverse postorder of a depth-first search), sets order and preds. The
// slice is valid until the next call.
func (o *optimizer) topo(root *block) []*block {
	post := o.order[:0]
	o.epoch++
	epoch := o.epoch
	// A depth-first search with an explicit stack (a recursive closure
	// cost more than the rest of topo): each frame is a block and the
	// next branch to follow. The false branch is followed first and the
	// true/goto branch last, so that in reverse postorder a goto's target
	// tends to come right after it.
	stack := append(o.stack[:0], dfsFrame{root, root.nsucc() - 1})
	root.seen = epoch
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.d < 0 {
			post = append(post, f.b)
			stack = stack[:len(stack)-1]
			continue
		}
		s := f.b.succ[f.d]
		f.d--
		if s.seen != epoch {
			s.seen = epoch
			stack = append(stack, dfsFrame{s, s.nsucc() - 1})
		}
	}
	o.stack = stack[:0]
	// The slice is reused by the next call: callers keep only the latest.
	order := post
	for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
		order[i], order[j] = order[j], order[i]
	}
	o.order = order
	for i, b := range order {
		b.order = i
		b.preds = b.preds[:0]
	}
	for _, b := range order {
		for d := 0; d < b.nsucc(); d++ {
			s := b.succ[d]
			s.preds = append(s.preds, edge{from: b, dir: d})
		}
	}
	return order
}

// dfsFrame is a block of topo's search and the branch it follows next.
type dfsFrame struct {
	b *block
	d int
}

// emit lays the blocks out in order and encodes them with wide offsets.
func emit(order []*block) []Insn {
	pos := 0
	for i, b := range order {
		b.pos = pos
		b.elide = b.isGoto() && i+1 < len(order) && order[i+1] == b.succ[0]
		pos += len(b.stmts)
		if !b.elide {
			pos++
		}
	}
	out := make([]Insn, 0, pos)
	for _, b := range order {
		out = append(out, b.stmts...)
		if b.elide {
			continue
		}
		next := len(out) + 1
		t := b.term
		switch {
		case b.isGoto():
			t.K = uint32(b.succ[0].pos - next)
		case b.isCond():
			t.Jt = b.succ[0].pos - next
			t.Jf = b.succ[1].pos - next
		}
		out = append(out, t)
	}
	return out
}
