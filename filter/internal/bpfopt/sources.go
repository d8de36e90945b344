package bpfopt

import (
	"encoding/binary"
	"slices"
)

// Sources is the table behind Insn.Src: each id names a set of origins
// (the caller's numbers for the pieces of source an instruction came
// from). Id 0 is the empty set. A program keeps at most 65535 sets; past
// that, Union keeps the first operand's set (an instruction then keeps
// some of its origins, never none).
type Sources struct {
	sets  [][]int32
	index map[string]uint16
	key   []byte
}

// NewSources returns an empty table.
func NewSources() *Sources {
	return &Sources{sets: [][]int32{nil}, index: map[string]uint16{}}
}

// Single returns the id of the set {origin}.
func (t *Sources) Single(origin int32) uint16 {
	return t.intern([]int32{origin})
}

// Set returns the origins of set id, in increasing order. The slice
// belongs to the table.
func (t *Sources) Set(id uint16) []int32 {
	if int(id) >= len(t.sets) {
		return nil
	}
	return t.sets[id]
}

// Union returns the id of the union of sets a and b.
func (t *Sources) Union(a, b uint16) uint16 {
	if t == nil || a == b || b == 0 {
		return a
	}
	if a == 0 {
		return b
	}
	sa, sb := t.Set(a), t.Set(b)
	u := make([]int32, 0, len(sa)+len(sb))
	i, j := 0, 0
	for i < len(sa) || j < len(sb) {
		switch {
		case j == len(sb) || (i < len(sa) && sa[i] < sb[j]):
			u = append(u, sa[i])
			i++
		case i == len(sa) || sb[j] < sa[i]:
			u = append(u, sb[j])
			j++
		default:
			u = append(u, sa[i])
			i, j = i+1, j+1
		}
	}
	if len(u) == len(sa) {
		return a
	}
	if len(u) == len(sb) {
		return b
	}
	if id := t.intern(u); id != 0 {
		return id
	}
	return a
}

// intern returns the id of the sorted set s, adding it when new.
func (t *Sources) intern(s []int32) uint16 {
	t.key = t.key[:0]
	for _, o := range s {
		t.key = binary.LittleEndian.AppendUint32(t.key, uint32(o))
	}
	if id, ok := t.index[string(t.key)]; ok {
		return id
	}
	if len(t.sets) > 0xffff {
		return 0
	}
	id := uint16(len(t.sets))
	t.sets = append(t.sets, slices.Clone(s))
	t.index[string(t.key)] = id
	return id
}
