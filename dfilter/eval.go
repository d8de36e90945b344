package dfilter

import (
	"bytes"
	"strings"

	"github.com/pkttap/pkttap/dissect"
)

// context is one packet's evaluation state: the values of the fields the
// filter reads, by slot, and scratch buffers.
type context struct {
	vals [][]dissect.Value
	buf  []dissect.Value
	free [][]dissect.Value
	both bool
	hdr  dissect.Headers // the fast path's headers
}

// take returns an empty scratch slice; give returns it.
func (c *context) take() []dissect.Value {
	if n := len(c.free); n > 0 {
		s := c.free[n-1]
		c.free = c.free[:n-1]
		return s[:0]
	}
	return nil
}

func (c *context) give(s []dissect.Value) {
	if cap(s) > 0 {
		c.free = append(c.free, s)
	}
}

// compare orders two values of one family: integers by value, addresses
// under the shorter prefix of the two, bytes and strings bytewise.
func compare(a, b dissect.Value) int {
	switch {
	case a.Type == dissect.TypeIPv4 || a.Type == dissect.TypeIPv6:
		bits := len(a.B) * 8
		if a.N > 0 && int(a.N)-1 < bits {
			bits = int(a.N) - 1
		}
		if b.N > 0 && int(b.N)-1 < bits {
			bits = int(b.N) - 1
		}
		return comparePrefix(a.B, b.B, bits)
	case a.Type.IsBytesLike() && a.Type != dissect.TypeString:
		bb := b.B
		if b.Type == dissect.TypeString {
			bb = []byte(b.S)
		}
		return bytes.Compare(a.B, bb)
	case a.Type == dissect.TypeString:
		if b.Type != dissect.TypeString {
			return strings.Compare(a.S, string(b.B))
		}
		return strings.Compare(a.S, b.S)
	}
	// integers, booleans, times
	as, bs := a.Type.IsInt() || a.Type == dissect.TypeRelTime, b.Type.IsInt() || b.Type == dissect.TypeRelTime
	switch {
	case as && int64(a.N) < 0 && !(bs && int64(b.N) < 0):
		return -1
	case bs && int64(b.N) < 0 && !(as && int64(a.N) < 0):
		return 1
	case as && bs:
		return cmpInt(int64(a.N), int64(b.N))
	}
	switch {
	case a.N < b.N:
		return -1
	case a.N > b.N:
		return 1
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// comparePrefix compares the first bits bits of a and b.
func comparePrefix(a, b []byte, bits int) int {
	for i := 0; i < len(a) && i < len(b) && bits > 0; i++ {
		m := byte(0xff)
		if bits < 8 {
			m = 0xff << (8 - bits)
		}
		x, y := a[i]&m, b[i]&m
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
		bits -= 8
	}
	if bits > 0 && len(a) != len(b) {
		return cmpInt(int64(len(a)), int64(len(b)))
	}
	return 0
}
