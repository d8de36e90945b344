package bpfopt

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// Insn is one classic BPF instruction with wide jump offsets. For a
// conditional jump, Jt and Jf are the offsets (from the next instruction) of
// the true and false targets, of any non-negative size; for BPF_JA, K is the
// offset, as in classic BPF. Other instructions ignore Jt and Jf.
type Insn struct {
	Op     uint16
	K      uint32
	Jt, Jf int
}

// String returns the instruction in the hex form of tcpdump -ddd plus its
// wide offsets, for test failures and debugging.
func (in Insn) String() string {
	return fmt.Sprintf("{op=%#04x k=%#x jt=%d jf=%d}", in.Op, in.K, in.Jt, in.Jf)
}

// isCondJump reports whether in is a conditional jump.
func (in Insn) isCondJump() bool {
	return opClass(in.Op) == clsJMP && opCode(in.Op) != jmpJA
}

// isJA reports whether in is an unconditional jump.
func (in Insn) isJA() bool {
	return opClass(in.Op) == clsJMP && opCode(in.Op) == jmpJA
}

// FromRaw converts an encoded program into instructions with wide offsets.
func FromRaw(raw []bpf.RawInstruction) []Insn {
	out := make([]Insn, len(raw))
	for i, r := range raw {
		out[i] = Insn{Op: r.Op, K: r.K, Jt: int(r.Jt), Jf: int(r.Jf)}
	}
	return out
}

// validOp reports whether op is an opcode libpcap's and Linux's validators
// accept, naming the problem otherwise.
func validOp(in Insn) error {
	op := in.Op
	switch opClass(op) {
	case clsLD, clsLDX:
		if op&^0xff != 0 {
			return fmt.Errorf("unknown opcode %#x", op)
		}
		mode := opMode(op)
		if opClass(op) == clsLDX {
			switch {
			case op == clsLDX|sizeW|modeIMM, op == clsLDX|sizeW|modeMEM,
				op == clsLDX|sizeW|modeLEN, op == clsLDX|sizeB|modeMSH:
			default:
				return fmt.Errorf("unknown ldx opcode %#x", op)
			}
		} else {
			switch mode {
			case modeIMM, modeMEM, modeLEN:
				if opSize(op) != sizeW {
					return fmt.Errorf("unknown ld opcode %#x", op)
				}
			case modeABS, modeIND:
				if opSize(op) == 0x18 {
					return fmt.Errorf("unknown ld size in opcode %#x", op)
				}
			default:
				return fmt.Errorf("unknown ld mode in opcode %#x", op)
			}
		}
		if mode == modeMEM && in.K >= memWords {
			return fmt.Errorf("scratch memory index %d out of range", in.K)
		}
	case clsST, clsSTX:
		if op != clsST && op != clsSTX {
			return fmt.Errorf("unknown store opcode %#x", op)
		}
		if in.K >= memWords {
			return fmt.Errorf("scratch memory index %d out of range", in.K)
		}
	case clsALU:
		if op&^0xff != 0 || op&0x07 != clsALU {
			return fmt.Errorf("unknown alu opcode %#x", op)
		}
		switch opCode(op) {
		case aluADD, aluSUB, aluMUL, aluOR, aluAND, aluXOR:
		case aluLSH, aluRSH:
			if opSrc(op) == srcK && in.K >= 32 {
				return fmt.Errorf("shift by %d bits (more than 31)", in.K)
			}
		case aluDIV, aluMOD:
			if opSrc(op) == srcK && in.K == 0 {
				return fmt.Errorf("division by constant zero")
			}
		case aluNEG:
			if opSrc(op) != srcK {
				return fmt.Errorf("unknown alu opcode %#x", op)
			}
		default:
			return fmt.Errorf("unknown alu opcode %#x", op)
		}
	case clsJMP:
		if op&^0xff != 0 {
			return fmt.Errorf("unknown jump opcode %#x", op)
		}
		switch opCode(op) {
		case jmpJA:
			if opSrc(op) != srcK {
				return fmt.Errorf("unknown jump opcode %#x", op)
			}
		case jmpJEQ, jmpJGT, jmpJGE, jmpJSET:
		default:
			return fmt.Errorf("unknown jump opcode %#x", op)
		}
	case clsRET:
		if op != clsRET|retK && op != clsRET|retA {
			return fmt.Errorf("unknown return opcode %#x", op)
		}
	case clsMISC:
		if op != clsMISC|miscTAX && op != clsMISC|miscTXA {
			return fmt.Errorf("unknown misc opcode %#x", op)
		}
	}
	return nil
}

// jaOffset returns the signed offset of a BPF_JA: libpcap's validator adds
// K to the 32-bit program counter, so a K of 2^31 or more goes backwards.
func jaOffset(in Insn) int64 { return int64(int32(in.K)) }

// hasBackwardJump reports whether prog contains a loop.
func hasBackwardJump(prog []Insn) bool {
	for _, in := range prog {
		if in.isJA() && jaOffset(in) < 0 {
			return true
		}
	}
	return false
}
