package vm

import (
	"encoding/binary"
	"math/rand/v2"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// This file holds the random program and packet generators shared by the
// differential tests and the fuzz target, and a plain reference
// interpreter written straight from libpcap's bpf_filter.

// randomOffset returns a load offset: mostly inside small packets, some at
// the 32-bit edge and some ancillary.
func randomOffset(r *rand.Rand) uint32 {
	switch r.IntN(10) {
	case 0:
		return 0xffffffff - uint32(r.IntN(8))
	case 1:
		return bpfop.SKFAdOff + uint32(r.IntN(bpfop.SKFAdMax))
	case 2:
		return r.Uint32()
	}
	return uint32(r.IntN(72))
}

// randomConst returns an ALU or comparison constant.
func randomConst(r *rand.Rand) uint32 {
	switch r.IntN(4) {
	case 0:
		return r.Uint32()
	case 1:
		return 0xffffffff - uint32(r.IntN(4))
	}
	return uint32(r.IntN(256))
}

// randomInsn returns an instruction at position pos of a program whose
// last instruction is at last; jumps stay forward and inside.
func randomInsn(r *rand.Rand, pos, last int) bpf.RawInstruction {
	maxSkip := last - pos - 1
	for {
		c := allCodes[r.IntN(len(allCodes))]
		ri := bpf.RawInstruction{Op: c}
		switch c {
		case codeRetK, codeRetA:
			if r.IntN(3) != 0 {
				continue // returns early make short paths; keep them rarer
			}
			ri.K = randomConst(r)
		case codeLdWAbs, codeLdHAbs, codeLdBAbs, codeLdxMsh:
			ri.K = randomOffset(r)
		case codeLdWInd, codeLdHInd, codeLdBInd:
			if r.IntN(4) == 0 {
				ri.K = randomOffset(r)
			} else {
				ri.K = uint32(r.IntN(40))
			}
		case codeLdxImm:
			if r.IntN(4) == 0 {
				ri.K = randomConst(r)
			} else {
				ri.K = uint32(r.IntN(64))
			}
		case codeLdMem, codeLdxMem, codeSt, codeStx:
			ri.K = uint32(r.IntN(bpfop.MemWords))
		case codeJa:
			if maxSkip < 0 {
				continue
			}
			ri.K = uint32(r.IntN(maxSkip + 1))
		case codeDivK, codeModK:
			ri.K = randomConst(r)
			if ri.K == 0 {
				ri.K = 1 + uint32(r.IntN(9))
			}
		case codeLshK, codeRshK:
			ri.K = uint32(r.IntN(40))
		default:
			ri.K = randomConst(r)
		}
		if bpfop.Class(ri.Op) == bpfop.ClassJMP && c != codeJa {
			if maxSkip < 0 {
				continue
			}
			m := min(maxSkip, 255) + 1
			ri.Jt, ri.Jf = uint8(r.IntN(m)), uint8(r.IntN(m))
		}
		return ri
	}
}

// randomPattern returns a run of 3 or 4 instructions that the translator
// fuses (load-mask-jump, ldx msh + indexed load + jump, jeq chains, len +
// jump), starting at pos in a program whose last instruction is at last
// (at least pos+6).
func randomPattern(r *rand.Rand, pos, last int) []bpf.RawInstruction {
	jump := func(at int) bpf.RawInstruction {
		c := []uint16{codeJeqK, codeJgtK, codeJgeK, codeJsetK}[r.IntN(4)]
		m := min(last-at-1, 255) + 1
		return bpf.RawInstruction{Op: c, Jt: uint8(r.IntN(m)), Jf: uint8(r.IntN(m)), K: randomConst(r)}
	}
	abs := []uint16{codeLdWAbs, codeLdHAbs, codeLdBAbs}[r.IntN(3)]
	ind := []uint16{codeLdWInd, codeLdHInd, codeLdBInd}[r.IntN(3)]
	var p []bpf.RawInstruction
	switch r.IntN(4) {
	case 0:
		p = []bpf.RawInstruction{{Op: abs, K: randomOffset(r)}, {Op: codeAndK, K: randomConst(r)}, jump(pos + 2)}
	case 1:
		p = []bpf.RawInstruction{{Op: codeLdxMsh, K: randomOffset(r)}, {Op: ind, K: uint32(r.IntN(40))}, jump(pos + 2)}
	case 2:
		// jeqs whose false branch is mostly the jeq right after them.
		p = []bpf.RawInstruction{{Op: abs, K: randomOffset(r)}}
		for n := 2 + r.IntN(3); len(p) <= n; {
			j := jump(pos + len(p))
			j.Op = codeJeqK
			if r.IntN(4) != 0 {
				j.Jf = 0
			}
			if r.IntN(2) == 0 {
				j.K = uint32(r.IntN(4)) // small values so that some match
			}
			p = append(p, j)
		}
	default:
		p = []bpf.RawInstruction{{Op: codeLdLen}, jump(pos + 1)}
	}
	return p
}

// randomProgram returns a valid program with forward jumps only, which
// fills the scratch memory first (libpcap leaves it uninitialised).
func randomProgram(r *rand.Rand) []bpf.RawInstruction {
	p := []bpf.RawInstruction{{Op: codeLdImm, K: randomConst(r)}}
	for i := range bpfop.MemWords {
		p = append(p, bpf.RawInstruction{Op: codeSt, K: uint32(i)})
	}
	body := 1 + r.IntN(40)
	last := len(p) + body
	for len(p) < last {
		if room := last - len(p); room >= 6 && r.IntN(4) == 0 {
			p = append(p, randomPattern(r, len(p), last)...)
			continue
		}
		p = append(p, randomInsn(r, len(p), last))
	}
	if r.IntN(2) == 0 {
		p = append(p, bpf.RawInstruction{Op: codeRetA})
	} else {
		p = append(p, bpf.RawInstruction{Op: codeRetK, K: randomConst(r)})
	}
	return p
}

// randomPrograms returns n programs from gen.
func randomPrograms(r *rand.Rand, n int, gen func(*rand.Rand) []bpf.RawInstruction) [][]bpf.RawInstruction {
	progs := make([][]bpf.RawInstruction, n)
	for i := range progs {
		progs[i] = gen(r)
	}
	return progs
}

// randomPackets returns n packets from randomPacket.
func randomPackets(r *rand.Rand, n int) []testPacket {
	pkts := make([]testPacket, n)
	for i := range pkts {
		pkts[i] = randomPacket(r)
	}
	return pkts
}

// randomPacket returns a short packet, sometimes empty, whose wire length
// is often different from its captured length.
func randomPacket(r *rand.Rand) testPacket {
	n := r.IntN(90)
	if r.IntN(10) == 0 {
		n = r.IntN(5)
	}
	data := make([]byte, n)
	for i := range data {
		if r.IntN(3) == 0 {
			data[i] = byte(r.IntN(16)) // small values make jumps on X interesting
		} else {
			data[i] = byte(r.Uint32())
		}
	}
	wire := n
	switch r.IntN(4) {
	case 0:
		wire = n + r.IntN(1600)
	case 1:
		wire = r.IntN(n + 1)
	case 2:
		wire = int(r.Uint32() >> 1)
	}
	return testPacket{data: data, wireLen: wire}
}

// reference runs a validated program the simple way, straight from
// libpcap's bpf_filter, with the documented extensions (ancillary loads
// from md, a bounded number of backward jumps).
func reference(prog []bpf.RawInstruction, data []byte, wireLen uint32, md *Metadata) uint32 {
	var a, x uint32
	var mem [bpfop.MemWords]uint32
	budget := len(data) + loopSlack
	buflen := uint64(len(data))
	load := func(off uint64, size uint64) (uint32, bool) {
		if off+size > buflen {
			return 0, false
		}
		switch size {
		case 4:
			return binary.BigEndian.Uint32(data[off:]), true
		case 2:
			return uint32(binary.BigEndian.Uint16(data[off:])), true
		}
		return uint32(data[off]), true
	}
	sizeOf := map[uint16]uint64{bpfop.SizeW: 4, bpfop.SizeH: 2, bpfop.SizeB: 1}
	for pc := 0; ; pc++ {
		ri := prog[pc]
		k := ri.K
		var ok bool
		switch ri.Op {
		case codeRetK:
			return k
		case codeRetA:
			return a
		case codeLdWAbs, codeLdHAbs, codeLdBAbs:
			if isAncillary(k) {
				if a, ok = ancillary(md, k-bpfop.SKFAdOff); !ok {
					return 0
				}
				continue
			}
			if a, ok = load(uint64(k), sizeOf[bpfop.Size(ri.Op)]); !ok {
				return 0
			}
		case codeLdWInd, codeLdHInd, codeLdBInd:
			if a, ok = load(uint64(x)+uint64(k), sizeOf[bpfop.Size(ri.Op)]); !ok {
				return 0
			}
		case codeLdLen:
			a = wireLen
		case codeLdxLen:
			x = wireLen
		case codeLdImm:
			a = k
		case codeLdxImm:
			x = k
		case codeLdMem:
			a = mem[k]
		case codeLdxMem:
			x = mem[k]
		case codeLdxMsh:
			b, ok := load(uint64(k), 1)
			if !ok {
				return 0
			}
			x = (b & 0xf) << 2
		case codeSt:
			mem[k] = a
		case codeStx:
			mem[k] = x
		case codeJa:
			if int32(k) < 0 {
				if budget--; budget < 0 {
					return 0
				}
			}
			pc += int(int32(k))
		case codeJeqK, codeJeqX, codeJgtK, codeJgtX, codeJgeK, codeJgeX, codeJsetK, codeJsetX:
			v := k
			if bpfop.Src(ri.Op) == bpfop.SrcX {
				v = x
			}
			var cond bool
			switch bpfop.Op(ri.Op) {
			case bpfop.OpJEQ:
				cond = a == v
			case bpfop.OpJGT:
				cond = a > v
			case bpfop.OpJGE:
				cond = a >= v
			default:
				cond = a&v != 0
			}
			if cond {
				pc += int(ri.Jt)
			} else {
				pc += int(ri.Jf)
			}
		case codeNeg:
			a = -a
		case codeTax:
			x = a
		case codeTxa:
			a = x
		default: // ALU
			v := k
			if bpfop.Src(ri.Op) == bpfop.SrcX {
				v = x
			} else if ri.Op == codeLshK || ri.Op == codeRshK {
				v &= 31
			}
			switch bpfop.Op(ri.Op) {
			case bpfop.OpADD:
				a += v
			case bpfop.OpSUB:
				a -= v
			case bpfop.OpMUL:
				a *= v
			case bpfop.OpDIV:
				if v == 0 {
					return 0
				}
				a /= v
			case bpfop.OpMOD:
				if v == 0 {
					return 0
				}
				a %= v
			case bpfop.OpOR:
				a |= v
			case bpfop.OpAND:
				a &= v
			case bpfop.OpXOR:
				a ^= v
			case bpfop.OpLSH:
				if v >= 32 {
					a = 0
				} else {
					a <<= v
				}
			case bpfop.OpRSH:
				if v >= 32 {
					a = 0
				} else {
					a >>= v
				}
			}
		}
	}
}
