package bpfopt

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// probe is a load a program makes and a constant it compares the loaded
// value with: writing the constant there steers packets down that branch.
type probe struct {
	mode uint16 // bpfop.ModeABS or bpfop.ModeIND
	size uint16
	k    uint32
	c    uint32
}

// probesOf collects the (load, constant) pairs of prog.
func probesOf(prog []Insn) []probe {
	var ps []probe
	var last *probe
	for _, in := range prog {
		switch {
		case bpfop.Class(in.Op) == bpfop.ClassLD && (bpfop.Mode(in.Op) == bpfop.ModeABS || bpfop.Mode(in.Op) == bpfop.ModeIND):
			last = &probe{mode: bpfop.Mode(in.Op), size: bpfop.Size(in.Op), k: in.K}
		case in.isCondJump() && bpfop.Src(in.Op) == bpfop.SrcK && last != nil:
			p := *last
			p.c = in.K
			ps = append(ps, p)
		case bpfop.Class(in.Op) == bpfop.ClassALU:
			// The compared value is derived: still try the raw constant.
		case bpfop.Class(in.Op) == bpfop.ClassLD:
			last = nil
		}
	}
	return ps
}

// packetGen makes packets likely to take many paths of a program: random
// bytes with the program's compared constants written where it loads them,
// an IPv4-like header length nibble for indexed loads, random truncation and
// random wire lengths.
type packetGen struct {
	r      *rand.Rand
	probes []probe
}

func (g *packetGen) next() (data []byte, wireLen uint32) {
	r := g.r
	n := r.IntN(100)
	if r.IntN(4) == 0 {
		n = r.IntN(20)
	}
	buf := make([]byte, 128)
	for i := range buf {
		buf[i] = byte(r.IntN(256))
		if r.IntN(2) == 0 {
			buf[i] = byte(r.IntN(4))
		}
	}
	// Candidate IP header starts for indexed loads: x = 4*(low nibble).
	nib := 5 + r.IntN(3)
	for _, off := range []int{0, 4, 14, 16, 18, 20, 22} {
		if r.IntN(2) == 0 {
			buf[off] = byte(0x40 | nib)
		}
	}
	for _, j := range r.Perm(len(g.probes)) {
		p := g.probes[j]
		if r.IntN(8) == 0 {
			continue
		}
		off := uint64(p.k)
		if p.mode == bpfop.ModeIND {
			off += uint64(4 * nib)
		}
		c := p.c
		if r.IntN(5) == 0 {
			c += uint32(r.IntN(3)) - 1
		}
		switch p.size {
		case bpfop.SizeW:
			if off+4 <= uint64(len(buf)) {
				binary.BigEndian.PutUint32(buf[off:], c)
			}
		case bpfop.SizeH:
			if off+2 <= uint64(len(buf)) {
				binary.BigEndian.PutUint16(buf[off:], uint16(c))
			}
		default:
			if off < uint64(len(buf)) {
				buf[off] = byte(c)
			}
		}
	}
	if r.IntN(3) > 0 {
		n = 40 + r.IntN(88)
	}
	data = buf[:n]
	wireLen = uint32(n)
	switch r.IntN(4) {
	case 0:
		wireLen += uint32(r.IntN(2000))
	case 1:
		wireLen = uint32(r.IntN(2000))
	}
	return data, wireLen
}
