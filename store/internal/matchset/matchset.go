// Package matchset holds the packet numbers a filter matched: a set of
// uint32 that grows at its top end, with rank ("how many members are below
// n?") and select ("which members are the k-th to the k+n-th?") for paging
// through a filtered packet list.
//
// Its memory is bounded by its content, and counted: numbers are grouped
// into blocks of 65,536 by their upper 16 bits, as Roaring bitmaps do, and
// each block keeps its members as a sorted list of their lower 16 bits (2
// bytes a member) while that is smaller than a bitmap of the block (8 KiB),
// and as that bitmap from then on. A set therefore never takes more than
// MaxBytes(n) for members below n, however many of them there are, and
// Bytes tells what it takes now.
//
// A Set is not safe for concurrent use; Clone gives an immutable copy for
// readers that costs at most one block's bytes, however large the set.
package matchset

import (
	"math/bits"
	"slices"
	"sort"
	"unsafe"
)

const (
	blockBits   = 16
	blockSize   = 1 << blockBits // numbers one block covers
	bitmapWords = blockSize / 64
	// maxList is the most members a block keeps as a list: a list of
	// maxList uint16 takes as many bytes as the block's bitmap.
	maxList = blockSize / 16
	// blockBytes is the size of a block's header.
	blockBytes = int(unsafe.Sizeof(block{}))
	// maxBlockBytes is the most a block takes, header included.
	maxBlockBytes = blockBytes + bitmapWords*8
)

// block holds the members of a Set whose upper 16 bits are key.
type block struct {
	key    uint32
	n      int      // members in the block
	before int      // members in the blocks before it
	list   []uint16 // lower 16 bits of the members, ascending; nil once bits is used
	bits   []uint64 // the members' lower 16 bits as a bitmap, once the list would be larger
}

// Set is an ascending set of uint32 that grows only at its top end. The
// zero value is an empty set ready to use.
type Set struct {
	blocks []block
	n      int
	last   uint32 // the largest member, when n > 0
}

// Len returns the number of members.
func (s *Set) Len() int { return s.n }

// Bytes returns the memory the set holds, in bytes (its own struct aside).
func (s *Set) Bytes() int {
	n := cap(s.blocks) * blockBytes
	for i := range s.blocks {
		b := &s.blocks[i]
		n += cap(b.list)*2 + cap(b.bits)*8
	}
	return n
}

// MaxBytes is the most memory a set whose members are all below n can
// take, in bytes (see Bytes): a full bitmap for every block, and headers
// for as many blocks again, the spare capacity append may have given the
// list of blocks.
func MaxBytes(n int) int {
	blocks := (n + blockSize - 1) / blockSize
	return blocks*maxBlockBytes + (blocks+1)*blockBytes
}

// Add adds v to the set. v must be above every member: Add reports false
// and does nothing otherwise.
func (s *Set) Add(v uint32) bool {
	if s.n > 0 && v <= s.last {
		return false
	}
	key := v >> blockBits
	if len(s.blocks) == 0 || s.blocks[len(s.blocks)-1].key < key {
		s.blocks = append(s.blocks, block{key: key, before: s.n})
	}
	b := &s.blocks[len(s.blocks)-1]
	lo := uint16(v)
	switch {
	case b.bits != nil:
		b.bits[lo/64] |= 1 << (lo % 64)
	case len(b.list) < maxList:
		b.list = append(b.list, lo)
	default:
		b.bits = make([]uint64, bitmapWords)
		for _, x := range b.list {
			b.bits[x/64] |= 1 << (x % 64)
		}
		b.bits[lo/64] |= 1 << (lo % 64)
		b.list = nil
	}
	b.n++
	s.n++
	s.last = v
	return true
}

// Rank returns the number of members below v and whether v is a member, as
// slices.BinarySearch does on a sorted slice: the position v has or would
// have.
func (s *Set) Rank(v uint32) (int, bool) {
	key := v >> blockBits
	i := sort.Search(len(s.blocks), func(i int) bool { return s.blocks[i].key >= key })
	if i == len(s.blocks) {
		return s.n, false
	}
	b := &s.blocks[i]
	if b.key > key {
		return b.before, false
	}
	lo := uint16(v)
	if b.bits == nil {
		k, ok := slices.BinarySearch(b.list, lo)
		return b.before + k, ok
	}
	r := 0
	for _, w := range b.bits[:lo/64] {
		r += bits.OnesCount64(w)
	}
	w := b.bits[lo/64]
	bit := uint64(1) << (lo % 64)
	r += bits.OnesCount64(w & (bit - 1))
	return b.before + r, w&bit != 0
}

// Window appends the members at positions [start, start+count) in
// ascending order (fewer at the end of the set) to dst and returns it.
func (s *Set) Window(dst []uint32, start, count int) []uint32 {
	if start < 0 || count <= 0 || start >= s.n {
		return dst
	}
	end := min(start+count, s.n)
	i := sort.Search(len(s.blocks), func(i int) bool { return s.blocks[i].before > start }) - 1
	for pos := start; pos < end; i++ {
		b := &s.blocks[i]
		high := b.key << blockBits
		r := pos - b.before // rank within the block of the first member wanted
		take := min(end-pos, b.n-r)
		if b.bits == nil {
			for _, lo := range b.list[r : r+take] {
				dst = append(dst, high|uint32(lo))
			}
		} else {
			dst = b.appendBits(dst, high, r, take)
		}
		pos += take
	}
	return dst
}

// appendBits appends take members of a bitmap block, starting at its r-th,
// to dst.
func (b *block) appendBits(dst []uint32, high uint32, r, take int) []uint32 {
	w := 0
	for ; w < len(b.bits); w++ {
		c := bits.OnesCount64(b.bits[w])
		if r < c {
			break
		}
		r -= c
	}
	for ; take > 0 && w < len(b.bits); w++ {
		word := b.bits[w]
		for word != 0 && take > 0 {
			t := bits.TrailingZeros64(word)
			word &= word - 1
			if r > 0 {
				r--
				continue
			}
			dst = append(dst, high|uint32(w*64+t))
			take--
		}
	}
	return dst
}

// Clone returns a copy of the set that later Adds to s do not change. It
// shares every block but the last with s (they no longer change), so it
// costs the block headers and at most one block's members.
func (s *Set) Clone() *Set {
	c := &Set{blocks: slices.Clone(s.blocks), n: s.n, last: s.last}
	if k := len(c.blocks) - 1; k >= 0 {
		c.blocks[k].list = slices.Clone(c.blocks[k].list)
		c.blocks[k].bits = slices.Clone(c.blocks[k].bits)
	}
	return c
}
