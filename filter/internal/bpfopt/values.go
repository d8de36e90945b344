package bpfopt

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// Atoms are the storage a program can read and write: the 16 scratch
// memory words, the accumulator and the index register (as in libpcap).
const (
	atomA  = bpfop.MemWords
	atomX  = bpfop.MemWords + 1
	nAtoms = bpfop.MemWords + 2
)

// atomSet is a set of atoms as a bit mask.
type atomSet uint32

func (s atomSet) has(a int) bool { return s&(1<<a) != 0 }

// vid names a value: two equal vids hold the same number on a run. Zero is
// not a value.
type vid int32

// Kinds of value expressions.
const (
	vkConst = iota + 1 // the constant k
	vkLoad             // packet (or ancillary) bytes at k, size op
	vkInd              // packet bytes at X value a plus k, size op
	vkLen              // the wire length
	vkMsh              // 4*(P[k]&0xf)
	vkALU              // a op b (op an ALU operation; b 0 for neg)
	vkFresh            // whatever an atom holds where paths merge: block k, atom op
)

// vexpr is the hash-consing key of a value.
type vexpr struct {
	kind uint8
	op   uint16
	a, b vid
	k    uint32
}

// valueTable hash-conses value expressions, so that equal computations get
// the same vid wherever they happen. It is an open-addressing hash table
// of vids keyed by the packed expression (several times faster than a Go
// map on this hot path), emptied each round without freeing its storage.
type valueTable struct {
	slots  []vid   // 0: empty; a power of two long
	keys   []vkey  // by vid
	exprs  []vexpr // by vid
	hashed int     // values in slots (all but the fresh ones)
}

// vkey is a vexpr packed into two words.
type vkey [2]uint64

func (e vexpr) key() vkey {
	return vkey{
		uint64(e.kind) | uint64(e.op)<<8 | uint64(uint32(e.a))<<32,
		uint64(uint32(e.b)) | uint64(e.k)<<32,
	}
}

func (k vkey) hash() uint64 {
	h := k[0]*0x9e3779b97f4a7c15 ^ k[1]*0xc2b2ae3d27d4eb4f
	return h ^ h>>29
}

// minSlots is the smallest slot table.
const minSlots = 256

func newValueTable() *valueTable {
	return &valueTable{slots: make([]vid, minSlots), keys: make([]vkey, 1, 128), exprs: make([]vexpr, 1, 128)}
}

// reset empties the table for a new round, keeping its storage (but for
// slots far larger than the last round needed, as a pooled table's may be).
func (t *valueTable) reset() {
	if len(t.slots) > minSlots && 8*t.hashed < len(t.slots) {
		n := minSlots
		for n < 4*t.hashed {
			n *= 2
		}
		t.slots = make([]vid, n)
	} else {
		clear(t.slots)
	}
	t.hashed = 0
	t.keys = t.keys[:1]
	t.exprs = t.exprs[:1]
}

func (t *valueTable) get(e vexpr) vid {
	key := e.key()
	mask := uint64(len(t.slots) - 1)
	for i := key.hash() & mask; ; i = (i + 1) & mask {
		v := t.slots[i]
		if v == 0 {
			break
		}
		if t.keys[v] == key {
			return v
		}
	}
	v := vid(len(t.exprs))
	t.exprs = append(t.exprs, e)
	t.keys = append(t.keys, key)
	t.hashed++
	if 2*t.hashed > len(t.slots) {
		t.slots = make([]vid, 2*len(t.slots))
		mask = uint64(len(t.slots) - 1)
		for w := vid(1); w < v; w++ {
			if t.exprs[w].kind != vkFresh {
				t.insert(w, mask)
			}
		}
	}
	t.insert(v, mask)
	return v
}

// fresh returns a new value for e, a vkFresh expression asked for once per
// round (entryState's, one per block and atom): it gets the vid get would
// give it, but stays out of the hash slots, which no one probes for it.
// Most atoms are unknown where paths merge, so this is most of the values
// a round numbers.
func (t *valueTable) fresh(e vexpr) vid {
	v := vid(len(t.exprs))
	t.exprs = append(t.exprs, e)
	t.keys = append(t.keys, e.key())
	return v
}

// insert puts v in its first free slot.
func (t *valueTable) insert(v vid, mask uint64) {
	i := t.keys[v].hash() & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = v
}

func (t *valueTable) konst(k uint32) vid { return t.get(vexpr{kind: vkConst, k: k}) }

// constOf reports the constant a value stands for.
func (t *valueTable) constOf(v vid) (uint32, bool) {
	e := t.exprs[v]
	return e.k, e.kind == vkConst
}

// alu returns the value of a op b, folding constants and identities.
func (t *valueTable) alu(op uint16, a, b vid) vid {
	ka, aconst := t.constOf(a)
	kb, bconst := t.constOf(b)
	if op == bpfop.OpNEG {
		if aconst {
			return t.konst(-ka)
		}
		return t.get(vexpr{kind: vkALU, op: op, a: a})
	}
	if aconst && bconst {
		if r, ok := foldALU(op, ka, kb); ok {
			return t.konst(r)
		}
	}
	switch op {
	case bpfop.OpADD, bpfop.OpMUL, bpfop.OpAND, bpfop.OpOR, bpfop.OpXOR:
		if aconst && !bconst {
			// Commutative: put the constant second for the identities.
			a, b, ka, kb, aconst, bconst = b, a, kb, ka, bconst, aconst
		}
	}
	if bconst {
		switch {
		case kb == 0 && (op == bpfop.OpADD || op == bpfop.OpSUB || op == bpfop.OpOR || op == bpfop.OpXOR || op == bpfop.OpLSH || op == bpfop.OpRSH):
			return a
		case kb == 1 && (op == bpfop.OpMUL || op == bpfop.OpDIV):
			return a
		case kb == 0xffffffff && op == bpfop.OpAND:
			return a
		case kb == 0 && (op == bpfop.OpAND || op == bpfop.OpMUL):
			return t.konst(0)
		}
	}
	switch op {
	case bpfop.OpADD, bpfop.OpMUL, bpfop.OpAND, bpfop.OpOR, bpfop.OpXOR:
		if a > b {
			a, b = b, a
		}
	}
	return t.get(vexpr{kind: vkALU, op: op, a: a, b: b})
}

// foldALU computes a op b where the result is defined the same way by
// every interpreter (no division by zero, no shift of 32 or more).
func foldALU(op uint16, a, b uint32) (uint32, bool) {
	switch op {
	case bpfop.OpADD:
		return a + b, true
	case bpfop.OpSUB:
		return a - b, true
	case bpfop.OpMUL:
		return a * b, true
	case bpfop.OpDIV:
		if b != 0 {
			return a / b, true
		}
	case bpfop.OpMOD:
		if b != 0 {
			return a % b, true
		}
	case bpfop.OpOR:
		return a | b, true
	case bpfop.OpAND:
		return a & b, true
	case bpfop.OpXOR:
		return a ^ b, true
	case bpfop.OpLSH:
		if b < 32 {
			return a << b, true
		}
	case bpfop.OpRSH:
		if b < 32 {
			return a >> b, true
		}
	}
	return 0, false
}

// state is what is known at a program point: the value of every atom, and
// a lower bound of the captured length (every absolute load up to minLen
// has succeeded on every path here).
type state struct {
	v      [nAtoms]vid
	minLen uint64
	ind    [indSlots]indBound // indexed loads that have succeeded
}

// indSlots is how many index values state remembers indexed loads for.
const indSlots = 4

// indBound records that an indexed load with X holding x reached ext bytes
// past X (so the packet holds at least x+ext bytes, and any indexed load
// with that X up to ext cannot fail).
type indBound struct {
	x   vid
	ext uint64
}

// indExt returns how far past index value x loads are known to succeed.
func (s *state) indExt(x vid) uint64 {
	for _, b := range s.ind {
		if b.x == x {
			return b.ext
		}
	}
	return 0
}

// noteInd records an indexed load with index value x reaching ext; when
// the slots are full the oldest is forgotten, which is always sound.
func (s *state) noteInd(x vid, ext uint64) {
	for i := range s.ind {
		if s.ind[i].x == x {
			s.ind[i].ext = max(s.ind[i].ext, ext)
			return
		}
	}
	copy(s.ind[:], s.ind[1:])
	s.ind[indSlots-1] = indBound{x: x, ext: ext}
}

// meetInd keeps the indexed bounds both s and p know, with the smaller
// reach.
func (s *state) meetInd(p *state) {
	for i := range s.ind {
		if s.ind[i].x == 0 {
			continue
		}
		if e := p.indExt(s.ind[i].x); e > 0 {
			s.ind[i].ext = min(s.ind[i].ext, e)
		} else {
			s.ind[i] = indBound{}
		}
	}
}

// holds reports whether some atom holds v: then the computation of v has
// run (and succeeded) on every path to this point.
func (s *state) holds(v vid) bool {
	for _, x := range s.v {
		if x == v {
			return true
		}
	}
	return false
}

// isSpecialOffset reports whether an absolute offset is not a plain packet
// offset: Linux reads ancillary data (SKF_AD_OFF) or link/network-relative
// bytes (negative offsets) there.
func isSpecialOffset(k uint64) bool { return k >= 0x80000000 }

// loadSize returns the byte count of a load's size field.
func loadSize(op uint16) uint64 {
	switch bpfop.Size(op) {
	case bpfop.SizeH:
		return 2
	case bpfop.SizeB:
		return 1
	}
	return 4
}

// maxOf returns an upper bound of value v: loads of one or two bytes, the
// IPv4 header length of ldxb 4*([k]&0xf), masks and right shifts bound it.
func (t *valueTable) maxOf(v vid) uint32 {
	e := t.exprs[v]
	switch e.kind {
	case vkConst:
		return e.k
	case vkLoad, vkInd:
		switch e.op {
		case bpfop.SizeH:
			if e.kind == vkInd || !isSpecialOffset(uint64(e.k)) {
				return 0xffff
			}
		case bpfop.SizeB:
			if e.kind == vkInd || !isSpecialOffset(uint64(e.k)) {
				return 0xff
			}
		}
	case vkMsh:
		return 60
	case vkALU:
		switch e.op {
		case bpfop.OpAND:
			return min(t.maxOf(e.a), t.maxOf(e.b))
		case bpfop.OpRSH:
			if c, ok := t.constOf(e.b); ok && c < 32 {
				return t.maxOf(e.a) >> c
			}
		case bpfop.OpDIV:
			if c, ok := t.constOf(e.b); ok && c != 0 {
				return t.maxOf(e.a) / c
			}
		case bpfop.OpMOD:
			if c, ok := t.constOf(e.b); ok && c != 0 {
				return min(t.maxOf(e.a), c-1)
			}
		}
	}
	return 0xffffffff
}
