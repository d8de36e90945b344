package bpfopt

import "slices"

// Sources is the table behind Insn.Src: each id names a set of origins
// (the caller's numbers for the pieces of source an instruction came
// from). Id 0 is the empty set. A set is a leaf (one origin) or the union
// of two earlier sets, so a union costs the same however large its
// operands; Set expands it. A program keeps at most 65535 sets; past that,
// Union keeps the first operand's set (an instruction then keeps some of
// its origins, never none).
type Sources struct {
	nodes  []srcNode
	unions map[uint32]uint16 // made at the first union
	buf    [16]srcNode       // the first nodes, without an allocation
}

// srcNode is a leaf (l == 0: the origin o) or the union of sets l and r.
type srcNode struct {
	l, r uint16
	o    int32
}

// NewSources returns an empty table.
func NewSources() *Sources {
	t := &Sources{}
	t.nodes = append(t.buf[:0], srcNode{})
	return t
}

// Single returns a new id for the set {origin}.
func (t *Sources) Single(origin int32) uint16 {
	return t.add(srcNode{o: origin})
}

func (t *Sources) add(n srcNode) uint16 {
	if len(t.nodes) > 0xffff {
		return 0
	}
	t.nodes = append(t.nodes, n)
	return uint16(len(t.nodes) - 1)
}

// Union returns the id of the union of sets a and b.
func (t *Sources) Union(a, b uint16) uint16 {
	if t == nil || a == b || b == 0 {
		return a
	}
	if a == 0 {
		return b
	}
	key := uint32(a)<<16 | uint32(b)
	if id, ok := t.unions[key]; ok {
		return id
	}
	if t.unions == nil {
		t.unions = map[uint32]uint16{}
	}
	id := t.add(srcNode{l: a, r: b})
	if id == 0 {
		return a
	}
	t.unions[key] = id
	return id
}

// Set returns the origins of set id, in increasing order, without
// repeats.
func (t *Sources) Set(id uint16) []int32 {
	if id == 0 || int(id) >= len(t.nodes) {
		return nil
	}
	var out []int32
	seen := map[uint16]bool{}
	stack := []uint16{id}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == 0 || seen[n] {
			continue
		}
		seen[n] = true
		if nd := t.nodes[n]; nd.l == 0 {
			out = append(out, nd.o)
		} else {
			stack = append(stack, nd.l, nd.r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
