package bpfopt

import (
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// Insn is one classic BPF instruction with wide jump offsets. For a
// conditional jump, Jt and Jf are the offsets (from the next instruction) of
// the true and false targets, of any non-negative size; for BPF_JA, K is the
// offset, as in classic BPF. Other instructions ignore Jt and Jf.
type Insn struct {
	Op uint16
	// Src is the instruction's origin for a source map: a set of a
	// Sources table (0: none). Optimize never looks at it to decide
	// anything; with OptimizeMapped it keeps it with the instruction
	// wherever the instruction goes, and unions the sets of instructions
	// it merges.
	Src    uint16
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
	return bpfop.Class(in.Op) == bpfop.ClassJMP && bpfop.Op(in.Op) != bpfop.OpJA
}

// isJA reports whether in is an unconditional jump.
func (in Insn) isJA() bool {
	return bpfop.Class(in.Op) == bpfop.ClassJMP && bpfop.Op(in.Op) == bpfop.OpJA
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
	switch bpfop.Class(op) {
	case bpfop.ClassLD, bpfop.ClassLDX:
		if op&^0xff != 0 {
			return fmt.Errorf("unknown opcode %#x", op)
		}
		mode := bpfop.Mode(op)
		if bpfop.Class(op) == bpfop.ClassLDX {
			switch {
			case op == bpfop.ClassLDX|bpfop.SizeW|bpfop.ModeIMM, op == bpfop.ClassLDX|bpfop.SizeW|bpfop.ModeMEM,
				op == bpfop.ClassLDX|bpfop.SizeW|bpfop.ModeLEN, op == bpfop.ClassLDX|bpfop.SizeB|bpfop.ModeMSH:
			default:
				return fmt.Errorf("unknown ldx opcode %#x", op)
			}
		} else {
			switch mode {
			case bpfop.ModeIMM, bpfop.ModeMEM, bpfop.ModeLEN:
				if bpfop.Size(op) != bpfop.SizeW {
					return fmt.Errorf("unknown ld opcode %#x", op)
				}
			case bpfop.ModeABS, bpfop.ModeIND:
				if bpfop.Size(op) == 0x18 {
					return fmt.Errorf("unknown ld size in opcode %#x", op)
				}
			default:
				return fmt.Errorf("unknown ld mode in opcode %#x", op)
			}
		}
		if mode == bpfop.ModeMEM && in.K >= bpfop.MemWords {
			return fmt.Errorf("scratch memory index %d out of range", in.K)
		}
	case bpfop.ClassST, bpfop.ClassSTX:
		if op != bpfop.ClassST && op != bpfop.ClassSTX {
			return fmt.Errorf("unknown store opcode %#x", op)
		}
		if in.K >= bpfop.MemWords {
			return fmt.Errorf("scratch memory index %d out of range", in.K)
		}
	case bpfop.ClassALU:
		if op&^0xff != 0 {
			return fmt.Errorf("unknown alu opcode %#x", op)
		}
		switch bpfop.Op(op) {
		case bpfop.OpADD, bpfop.OpSUB, bpfop.OpMUL, bpfop.OpOR, bpfop.OpAND, bpfop.OpXOR:
		case bpfop.OpLSH, bpfop.OpRSH:
			if bpfop.Src(op) == bpfop.SrcK && in.K >= 32 {
				return fmt.Errorf("shift by %d bits (more than 31)", in.K)
			}
		case bpfop.OpDIV, bpfop.OpMOD:
			if bpfop.Src(op) == bpfop.SrcK && in.K == 0 {
				return fmt.Errorf("division by constant zero")
			}
		case bpfop.OpNEG:
			if bpfop.Src(op) != bpfop.SrcK {
				return fmt.Errorf("unknown alu opcode %#x", op)
			}
		default:
			return fmt.Errorf("unknown alu opcode %#x", op)
		}
	case bpfop.ClassJMP:
		if op&^0xff != 0 {
			return fmt.Errorf("unknown jump opcode %#x", op)
		}
		switch bpfop.Op(op) {
		case bpfop.OpJA:
			if bpfop.Src(op) != bpfop.SrcK {
				return fmt.Errorf("unknown jump opcode %#x", op)
			}
		case bpfop.OpJEQ, bpfop.OpJGT, bpfop.OpJGE, bpfop.OpJSET:
		default:
			return fmt.Errorf("unknown jump opcode %#x", op)
		}
	case bpfop.ClassRET:
		if op != bpfop.ClassRET|bpfop.RvalK && op != bpfop.ClassRET|bpfop.RvalA {
			return fmt.Errorf("unknown return opcode %#x", op)
		}
	case bpfop.ClassMISC:
		if op != bpfop.ClassMISC|bpfop.MiscTAX && op != bpfop.ClassMISC|bpfop.MiscTXA {
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
