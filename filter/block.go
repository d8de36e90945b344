package filter

import (
	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/filter/internal/bpfopt"
)

// The code generator builds a graph of basic blocks the way libpcap's
// gencode.c does: every test is a block with a list of statements and a
// conditional branch; and/or/not rewire the unresolved branch edges
// ("backpatching"); finally the graph is laid out depth first, true branch
// before false branch, which gives the same unoptimized program as
// libpcap's.

// stmt is one non-branching instruction. A stmt may also be a block-local
// conditional jump (protochain's loop, the 802.11 header-length prologue),
// whose targets are other stmts of the same block.
type stmt struct {
	code   uint16
	src    uint16 // origin set in the compiler's source table (0: not yet stamped)
	k      uint32
	jt, jf *stmt
}

// block is a basic block ending in a conditional jump (or a return).
type block struct {
	stmts  []*stmt
	s      stmt // the final jump or return
	jt, jf *block
	// sense tells which of jt/jf is still an unresolved link in the
	// backpatch list: jt when false, jf when true.
	sense  bool
	head   *block // the entry block of the expression this block ends
	offset int    // position in the laid-out program
	seen   bool   // visited by blockOrder (false between calls)
	// exitT and exitF say what leaving the primitive by the true or
	// false branch means for it (see Exit), set when it is generated.
	exitT, exitF Exit
}

func newBlock(code uint16, k uint32) *block {
	b := &block{s: stmt{code: code, k: k}}
	b.head = b
	return b
}

func newStmt(code uint16, k uint32) *stmt { return &stmt{code: code, k: k} }

// stmtChunk and blockChunk are how many statements and blocks the
// compiler allocates at a time: a compile makes dozens, each of which was
// an allocation.
const (
	stmtChunk  = 32
	blockChunk = 16
)

// newBlock is newBlock from the compiler's chunks.
func (c *compiler) newBlock(code uint16, k uint32) *block {
	if len(c.blockChunk) == 0 {
		c.blockChunk = make([]block, blockChunk)
	}
	b := &c.blockChunk[0]
	c.blockChunk = c.blockChunk[1:]
	b.s = stmt{code: code, k: k}
	b.head = b
	return b
}

// newStmt is newStmt from the compiler's chunks.
func (c *compiler) newStmt(code uint16, k uint32) *stmt {
	if len(c.stmtChunk) == 0 {
		c.stmtChunk = make([]stmt, stmtChunk)
	}
	s := &c.stmtChunk[0]
	c.stmtChunk = c.stmtChunk[1:]
	s.code, s.k = code, k
	return s
}

// backpatch resolves every unresolved edge in list to target.
func backpatch(list, target *block) {
	for list != nil {
		var next *block
		if !list.sense {
			next = list.jt
			list.jt = target
		} else {
			next = list.jf
			list.jf = target
		}
		list = next
	}
}

// merge appends the unresolved-edge list b1 to the list b0.
func merge(b0, b1 *block) {
	p := b0
	for {
		var nx **block
		if !p.sense {
			nx = &p.jt
		} else {
			nx = &p.jf
		}
		if *nx == nil {
			*nx = b1
			return
		}
		p = *nx
	}
}

// genAnd makes b1 the conjunction of b0 and b1.
func genAnd(b0, b1 *block) {
	backpatch(b0, b1.head)
	b0.sense = !b0.sense
	b1.sense = !b1.sense
	merge(b1, b0)
	b1.sense = !b1.sense
	b1.head = b0.head
}

// genOr makes b1 the disjunction of b0 and b1.
func genOr(b0, b1 *block) {
	b0.sense = !b0.sense
	backpatch(b0, b1.head)
	b0.sense = !b0.sense
	merge(b1, b0)
	b1.head = b0.head
}

// genNot negates b.
func genNot(b *block) { b.sense = !b.sense }

// finish turns the expression ending in p into a whole program: true
// edges return snaplen, false edges return 0. It returns the root.
func finish(p *block, snaplen uint32) *block {
	backpatch(p, newBlock(opRetK, snaplen))
	p.sense = !p.sense
	backpatch(p, newBlock(opRetK, 0))
	return p.head
}

// blockOrder returns the blocks reachable from root in the order libpcap's
// convert_code_r finishes them (false successor, true successor, then the
// block): laid out from the end of the program backwards, each block comes
// before its true successor's subgraph, which comes before its false
// successor's.
func blockOrder(root *block) []*block {
	var order []*block
	var visit func(b *block)
	visit = func(b *block) {
		if b == nil || b.seen {
			return
		}
		b.seen = true
		visit(b.jf)
		visit(b.jt)
		order = append(order, b)
	}
	visit(root)
	for _, b := range order {
		b.seen = false
	}
	return order
}

// placeBlocks sets each block's offset for the given block sizes and
// returns the program length.
func placeBlocks(order []*block, size func(*block) int) int {
	n := 0
	for _, b := range order {
		n += size(b)
	}
	pos := n
	for _, b := range order {
		pos -= size(b)
		b.offset = pos
	}
	return n
}

// localJumps returns the offsets of a block-local conditional jump
// (protochain's loop, the 802.11 prologue) from its statement index i.
func localJumps(b *block, i int) (jt, jf int) {
	s := b.stmts[i]
	for j, t := range b.stmts {
		if t == s.jt {
			jt = j - i - 1
		}
		if t == s.jf {
			jf = j - i - 1
		}
	}
	return jt, jf
}

func isLocalJump(s *stmt) bool {
	return bpfop.Class(s.code) == bpfop.ClassJMP && s.code != opJA && s.jt != nil
}

// linearize lays the graph out in libpcap's order with wide relative jump
// offsets, for the optimizer. Instructions without an origin get def.
func linearize(root *block, def uint16) []bpfopt.Insn {
	order := blockOrder(root)
	n := placeBlocks(order, func(b *block) int { return len(b.stmts) + 1 })
	prog := make([]bpfopt.Insn, n)
	for _, b := range order {
		for i, s := range b.stmts {
			in := bpfopt.Insn{Op: s.code, K: s.k, Src: orDefault(s.src, def)}
			if isLocalJump(s) {
				in.Jt, in.Jf = localJumps(b, i)
			}
			prog[b.offset+i] = in
		}
		last := b.offset + len(b.stmts)
		in := bpfopt.Insn{Op: b.s.code, K: b.s.k, Src: orDefault(b.s.src, def)}
		if b.jt != nil {
			in.Jt = b.jt.offset - last - 1
			in.Jf = b.jf.offset - last - 1
		}
		prog[last] = in
	}
	return prog
}

func orDefault(src, def uint16) uint16 {
	if src == 0 {
		return def
	}
	return src
}
