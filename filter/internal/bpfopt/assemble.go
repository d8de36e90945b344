package bpfopt

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// maxJumpOffset is the largest conditional jump offset the encoding holds:
// jt and jf are 8 bits.
const maxJumpOffset = 255

// Assemble validates prog and encodes it with 8-bit conditional jump
// offsets. A conditional jump whose target lies more than 255 instructions
// ahead is sent to a BPF_JA trampoline placed right after it (or to an
// existing trampoline for the same target within reach). It returns an error
// when an instruction is invalid, a jump leaves the program or goes
// backwards, the program can fall off its end, or the laid-out program is
// empty or longer than [bpfop.MaxInsns].
func Assemble(prog []Insn) ([]bpf.RawInstruction, error) {
	raw, _, err := AssembleMapped(prog)
	return raw, err
}

// AssembleMapped is Assemble that also returns the Src of each output
// instruction: an input instruction's own, and for a trampoline the Src of
// the jump it extends.
func AssembleMapped(prog []Insn) ([]bpf.RawInstruction, []uint16, error) {
	if err := Validate(prog); err != nil {
		return nil, nil, err
	}
	l := newLayout(prog)
	l.run()
	if len(l.nodes) > bpfop.MaxInsns {
		return nil, nil, fmt.Errorf("bpfopt: program of %d instructions (with jump chains) exceeds the limit of %d", len(l.nodes), bpfop.MaxInsns)
	}
	raw, err := l.encode()
	if err != nil {
		return nil, nil, err
	}
	srcs := make([]uint16, len(l.nodes))
	for i, nd := range l.nodes {
		srcs[i] = nd.in.Src
	}
	return raw, srcs, nil
}

// Validate checks prog as Assemble does, without laying it out: known
// opcodes, scratch indexes below 16, no division by constant zero, every jump
// inside the program (forward, but for a BPF_JA, which may go back as in
// libpcap's protochain loops), a return at the end, and a length between
// 1 and bpfop.MaxInsns.
func Validate(prog []Insn) error {
	if len(prog) > bpfop.MaxInsns {
		return fmt.Errorf("bpfopt: program of %d instructions exceeds the limit of %d", len(prog), bpfop.MaxInsns)
	}
	return validateShape(prog)
}

// validateShape is Validate without the length limit: Optimize accepts
// longer programs, as libpcap's optimizer does before its own size check.
func validateShape(prog []Insn) error {
	n := len(prog)
	if n == 0 {
		return fmt.Errorf("bpfopt: empty program")
	}
	for i, in := range prog {
		if err := validOp(in); err != nil {
			return fmt.Errorf("bpfopt: instruction %d %v: %w", i, in, err)
		}
		switch {
		case in.isJA():
			// A K of 2^31 or more is a backward jump, as libpcap's
			// validator allows by wrap-around (protochain loops).
			tgt := int64(i) + 1 + jaOffset(in)
			if tgt < 0 || tgt >= int64(n) {
				return fmt.Errorf("bpfopt: instruction %d %v: jump target %d outside the program of %d instructions", i, in, tgt, n)
			}
			if tgt == int64(i) {
				return fmt.Errorf("bpfopt: instruction %d %v: jumps to itself", i, in)
			}
		case in.isCondJump():
			for _, off := range [2]int{in.Jt, in.Jf} {
				if off < 0 {
					return fmt.Errorf("bpfopt: instruction %d %v: backward jump", i, in)
				}
				if i+1+off >= n {
					return fmt.Errorf("bpfopt: instruction %d %v: jump target %d outside the program of %d instructions", i, in, i+1+off, n)
				}
			}
		}
	}
	if last := prog[n-1]; bpfop.Class(last.Op) != bpfop.ClassRET {
		return fmt.Errorf("bpfopt: instruction %d %v: the program can run past its end (the last instruction must be a return)", n-1, last)
	}
	return nil
}

// layoutNode is one instruction of the output: an input instruction, or a
// trampoline (a BPF_JA to node jt).
type layoutNode struct {
	in         Insn
	id         int // the node's index in layout.ids
	jt, jf     int // target node ids for jumps (jt only for BPF_JA)
	trampoline bool
}

// layout places trampolines until every conditional offset fits in 8 bits.
// Nodes are kept in a slice in program order; targets are node ids that
// stay stable while positions shift.
type layout struct {
	nodes []*layoutNode // in program order
	ids   []*layoutNode // node by id
}

func newLayout(prog []Insn) *layout {
	l := &layout{nodes: make([]*layoutNode, 0, len(prog)), ids: make([]*layoutNode, 0, len(prog))}
	slab := make([]layoutNode, len(prog)) // one allocation for the nodes
	for i, in := range prog {
		nd := &slab[i]
		*nd = layoutNode{in: in, id: i}
		switch {
		case in.isJA():
			nd.jt = i + 1 + int(jaOffset(in))
		case in.isCondJump():
			nd.jt, nd.jf = i+1+in.Jt, i+1+in.Jf
		}
		l.nodes = append(l.nodes, nd)
		l.ids = append(l.ids, nd)
	}
	return l
}

// positions returns the current position of every node id, in p's
// storage when it is large enough.
func (l *layout) positions(p []int) []int {
	if cap(p) < len(l.ids) {
		p = make([]int, len(l.ids), 2*len(l.ids))
	}
	p = p[:len(l.ids)]
	for i, nd := range l.nodes {
		p[nd.id] = i
	}
	return p
}

// run inserts trampolines until no conditional offset exceeds 255. It fixes
// the first far jump it finds, then recomputes positions. A far branch goes
// to a trampoline for the same target within reach if there is one, else to
// a new trampoline placed as far ahead as it can reach (after an instruction
// that cannot fall through, so the trampoline only runs when jumped to),
// where the most later jumps can share it. Every insertion only lengthens
// other jumps, so the number of trampolines grows monotonically and the
// loop ends; it also ends once the program is longer than BPF_MAXINSNS,
// which Assemble then refuses.
func (l *layout) run() {
	var pos []int
	for len(l.nodes) <= bpfop.MaxInsns {
		pos = l.positions(pos)
		i, tgt := l.firstFarJump(pos)
		if tgt == nil {
			return
		}
		final := l.finalTarget(*tgt)
		if t := l.findTrampoline(i, final); t >= 0 {
			*tgt = t
			continue
		}
		q := i + 1
		for p := i + 1 + maxJumpOffset; p > i+1; p-- {
			if p < len(l.nodes) && noFallThrough(l.nodes[p-1].in) {
				q = p
				break
			}
		}
		tr := &layoutNode{in: Insn{Op: bpfop.ClassJMP | bpfop.OpJA, Src: l.nodes[i].in.Src}, id: len(l.ids), jt: final, trampoline: true}
		l.ids = append(l.ids, tr)
		*tgt = tr.id
		l.nodes = slices.Insert(l.nodes, q, tr)
	}
}

// firstFarJump returns the position of the first conditional jump with a
// branch longer than 255 and a pointer to that branch's target id.
func (l *layout) firstFarJump(pos []int) (int, *int) {
	for i, nd := range l.nodes {
		if !nd.in.isCondJump() {
			continue
		}
		if pos[nd.jt]-i-1 > maxJumpOffset {
			return i, &nd.jt
		}
		if pos[nd.jf]-i-1 > maxJumpOffset {
			return i, &nd.jf
		}
	}
	return -1, nil
}

// noFallThrough reports whether execution never continues from in to the
// next instruction.
func noFallThrough(in Insn) bool {
	return bpfop.Class(in.Op) == bpfop.ClassRET || bpfop.Class(in.Op) == bpfop.ClassJMP
}

// finalTarget follows trampolines to the input instruction they lead to.
func (l *layout) finalTarget(id int) int {
	for l.ids[id].trampoline {
		id = l.ids[id].jt
	}
	return id
}

// findTrampoline returns the id of a trampoline to final placed after
// position from and within reach of a conditional jump there, or -1.
func (l *layout) findTrampoline(from, final int) int {
	for p := from + 1; p < len(l.nodes) && p-from-1 <= maxJumpOffset; p++ {
		nd := l.nodes[p]
		if nd.trampoline && nd.jt == final {
			return nd.id
		}
	}
	return -1
}

// encode writes the laid-out program with its final offsets.
func (l *layout) encode() ([]bpf.RawInstruction, error) {
	pos := l.positions(nil)
	raw := make([]bpf.RawInstruction, len(l.nodes))
	for i, nd := range l.nodes {
		r := bpf.RawInstruction{Op: nd.in.Op, K: nd.in.K}
		switch {
		case nd.in.isJA():
			r.K = uint32(pos[nd.jt] - i - 1)
		case nd.in.isCondJump():
			jt, jf := pos[nd.jt]-i-1, pos[nd.jf]-i-1
			if jt < 0 || jt > maxJumpOffset || jf < 0 || jf > maxJumpOffset {
				return nil, fmt.Errorf("bpfopt: internal error: instruction %d offsets %d/%d after layout", i, jt, jf)
			}
			r.Jt, r.Jf = uint8(jt), uint8(jf)
		}
		raw[i] = r
	}
	return raw, nil
}
