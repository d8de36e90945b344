package bpfopt

import (
	"encoding/binary"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// testMeta stands for the Linux ancillary data a socket filter can read:
// the answer of an absolute load at SKF_AD_OFF + k.
type testMeta struct {
	seed uint32
}

// value returns a deterministic pseudo-random ancillary value for offset k.
func (m *testMeta) value(k uint32) uint32 {
	x := (k - bpfop.SKFAdOff) ^ m.seed
	x ^= x >> 13
	x *= 0x9e3779b1
	x ^= x >> 16
	return x % 7 // small values so comparisons with small constants hit
}

// interpret runs prog with libpcap's bpf_filter semantics. It exists beside
// filter/vm because it runs programs with wide jump offsets, before
// Assemble: the assembler's tests need an oracle that does not go through
// the assembler. TestCorpusVerdicts checks that it agrees with filter/vm.
//
// As in libpcap's bpf_filter, out-of-range loads and division by zero
// reject the packet and len is the wire length; absolute loads at SKF_AD_OFF
// and beyond read md (when md is nil they fail, as in libpcap's file
// interpreter).
func interpret(prog []Insn, data []byte, wireLen uint32, md *testMeta) uint32 {
	var a, x uint32
	var mem [bpfop.MemWords]uint32
	buflen := uint64(len(data))
	load := func(k uint64, size uint16) (uint32, bool) {
		n := uint64(4)
		switch size {
		case bpfop.SizeH:
			n = 2
		case bpfop.SizeB:
			n = 1
		}
		if k+n > buflen {
			return 0, false
		}
		switch n {
		case 4:
			return binary.BigEndian.Uint32(data[k:]), true
		case 2:
			return uint32(binary.BigEndian.Uint16(data[k:])), true
		}
		return uint32(data[k]), true
	}
	for pc, steps := 0, 0; pc < len(prog) && steps < 1<<20; pc, steps = pc+1, steps+1 {
		in := prog[pc]
		switch bpfop.Class(in.Op) {
		case bpfop.ClassRET:
			if bpfop.Rval(in.Op) == bpfop.RvalA {
				return a
			}
			return in.K
		case bpfop.ClassLD, bpfop.ClassLDX:
			var v uint32
			switch bpfop.Mode(in.Op) {
			case bpfop.ModeIMM:
				v = in.K
			case bpfop.ModeLEN:
				v = wireLen
			case bpfop.ModeMEM:
				v = mem[in.K]
			case bpfop.ModeABS:
				if in.K >= bpfop.SKFAdOff && md != nil {
					v = md.value(in.K)
					break
				}
				var ok bool
				if v, ok = load(uint64(in.K), bpfop.Size(in.Op)); !ok {
					return 0
				}
			case bpfop.ModeIND:
				var ok bool
				if v, ok = load(uint64(in.K)+uint64(x), bpfop.Size(in.Op)); !ok {
					return 0
				}
			case bpfop.ModeMSH:
				b, ok := load(uint64(in.K), bpfop.SizeB)
				if !ok {
					return 0
				}
				v = (b & 0xf) << 2
			}
			if bpfop.Class(in.Op) == bpfop.ClassLD {
				a = v
			} else {
				x = v
			}
		case bpfop.ClassST:
			mem[in.K] = a
		case bpfop.ClassSTX:
			mem[in.K] = x
		case bpfop.ClassALU:
			b := in.K
			if bpfop.Src(in.Op) == bpfop.SrcX {
				b = x
			}
			switch bpfop.Op(in.Op) {
			case bpfop.OpADD:
				a += b
			case bpfop.OpSUB:
				a -= b
			case bpfop.OpMUL:
				a *= b
			case bpfop.OpDIV:
				if b == 0 {
					return 0
				}
				a /= b
			case bpfop.OpMOD:
				if b == 0 {
					return 0
				}
				a %= b
			case bpfop.OpOR:
				a |= b
			case bpfop.OpAND:
				a &= b
			case bpfop.OpXOR:
				a ^= b
			case bpfop.OpLSH:
				if b >= 32 {
					a = 0
				} else {
					a <<= b
				}
			case bpfop.OpRSH:
				if b >= 32 {
					a = 0
				} else {
					a >>= b
				}
			case bpfop.OpNEG:
				a = -a
			}
		case bpfop.ClassJMP:
			if in.isJA() {
				pc += int(jaOffset(in))
				continue
			}
			b := in.K
			if bpfop.Src(in.Op) == bpfop.SrcX {
				b = x
			}
			var t bool
			switch bpfop.Op(in.Op) {
			case bpfop.OpJEQ:
				t = a == b
			case bpfop.OpJGT:
				t = a > b
			case bpfop.OpJGE:
				t = a >= b
			case bpfop.OpJSET:
				t = a&b != 0
			}
			if t {
				pc += in.Jt
			} else {
				pc += in.Jf
			}
		case bpfop.ClassMISC:
			if bpfop.MiscOp(in.Op) == bpfop.MiscTAX {
				x = a
			} else {
				a = x
			}
		}
	}
	return 0
}

// reference returns prog with the loads Optimize drops although they could
// fail (maskedAway: a load whose value the block masks away with "and #0"
// or "mul #0") replaced by "ld #0", which never fails. Optimize's result
// returns what reference(prog) returns on every packet; prog itself may
// reject a packet too short for such a load.
func reference(prog []Insn) []Insn {
	leader := make([]bool, len(prog)+1)
	for i, in := range prog {
		switch {
		case in.isJA():
			if t := i + 1 + int(jaOffset(in)); t >= 0 && t <= len(prog) {
				leader[t] = true
			}
		case in.isCondJump():
			leader[i+1+in.Jt], leader[i+1+in.Jf] = true, true
		}
	}
	out := append([]Insn(nil), prog...)
	for i := range prog {
		end := i + 1
		for end < len(prog) && !leader[end] && bpfop.Class(prog[end].Op) != bpfop.ClassJMP && bpfop.Class(prog[end].Op) != bpfop.ClassRET {
			end++
		}
		if maskedAway(prog[i:end], 0) {
			out[i] = Insn{Op: bpfop.ClassLD | bpfop.ModeIMM}
		}
	}
	return out
}
