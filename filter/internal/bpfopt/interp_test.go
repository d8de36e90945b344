package bpfopt

import "encoding/binary"

// testMeta stands for the Linux ancillary data a socket filter can read:
// the answer of an absolute load at SKF_AD_OFF + k.
type testMeta struct {
	seed uint32
}

// value returns a deterministic pseudo-random ancillary value for offset k.
func (m *testMeta) value(k uint32) uint32 {
	x := (k - ancillaryOffset) ^ m.seed
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
	var mem [memWords]uint32
	buflen := uint64(len(data))
	load := func(k uint64, size uint16) (uint32, bool) {
		n := uint64(4)
		switch size {
		case sizeH:
			n = 2
		case sizeB:
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
		switch opClass(in.Op) {
		case clsRET:
			if opRval(in.Op) == retA {
				return a
			}
			return in.K
		case clsLD, clsLDX:
			var v uint32
			switch opMode(in.Op) {
			case modeIMM:
				v = in.K
			case modeLEN:
				v = wireLen
			case modeMEM:
				v = mem[in.K]
			case modeABS:
				if in.K >= ancillaryOffset && md != nil {
					v = md.value(in.K)
					break
				}
				var ok bool
				if v, ok = load(uint64(in.K), opSize(in.Op)); !ok {
					return 0
				}
			case modeIND:
				var ok bool
				if v, ok = load(uint64(in.K)+uint64(x), opSize(in.Op)); !ok {
					return 0
				}
			case modeMSH:
				b, ok := load(uint64(in.K), sizeB)
				if !ok {
					return 0
				}
				v = (b & 0xf) << 2
			}
			if opClass(in.Op) == clsLD {
				a = v
			} else {
				x = v
			}
		case clsST:
			mem[in.K] = a
		case clsSTX:
			mem[in.K] = x
		case clsALU:
			b := in.K
			if opSrc(in.Op) == srcX {
				b = x
			}
			switch opCode(in.Op) {
			case aluADD:
				a += b
			case aluSUB:
				a -= b
			case aluMUL:
				a *= b
			case aluDIV:
				if b == 0 {
					return 0
				}
				a /= b
			case aluMOD:
				if b == 0 {
					return 0
				}
				a %= b
			case aluOR:
				a |= b
			case aluAND:
				a &= b
			case aluXOR:
				a ^= b
			case aluLSH:
				if b >= 32 {
					a = 0
				} else {
					a <<= b
				}
			case aluRSH:
				if b >= 32 {
					a = 0
				} else {
					a >>= b
				}
			case aluNEG:
				a = -a
			}
		case clsJMP:
			if in.isJA() {
				pc += int(jaOffset(in))
				continue
			}
			b := in.K
			if opSrc(in.Op) == srcX {
				b = x
			}
			var t bool
			switch opCode(in.Op) {
			case jmpJEQ:
				t = a == b
			case jmpJGT:
				t = a > b
			case jmpJGE:
				t = a >= b
			case jmpJSET:
				t = a&b != 0
			}
			if t {
				pc += in.Jt
			} else {
				pc += in.Jf
			}
		case clsMISC:
			if opMisc(in.Op) == miscTAX {
				x = a
			} else {
				a = x
			}
		}
	}
	return 0
}
