package filter

import (
	"github.com/pkttap/pkttap/filter/internal/bpfopt"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// checkFolding reports the errors libpcap's optimizer raises while it folds
// constants: a division or modulus by a value known to be zero, or a shift
// by a known amount above 31 of a value that is not itself constant. Like
// libpcap, it looks at the program after jump optimization has removed the
// paths that cannot run, propagating constants (A, X and the scratch
// memory) through straight-line code.
func (c *compiler) checkFolding(prog []bpfopt.Insn) {
	leader := make([]bool, len(prog)+1)
	for i, in := range prog {
		switch {
		case in.Op == opJA:
			if t := i + 1 + int(int32(in.K)); t >= 0 && t < len(leader) {
				leader[t] = true
			}
		case bpfop.Class(in.Op) == bpfop.ClassJMP:
			leader[i+1+in.Jt] = true
			leader[i+1+in.Jf] = true
		}
	}
	var block []*stmt
	slab := make([]stmt, len(prog)) // one allocation for the statements
	for i, in := range prog {
		if leader[i] && len(block) > 0 {
			c.foldBlock(block, true)
			block = block[:0]
		}
		slab[i] = stmt{code: in.Op, k: in.K}
		block = append(block, &slab[i])
		if bpfop.Class(in.Op) == bpfop.ClassJMP || bpfop.Class(in.Op) == bpfop.ClassRET {
			c.foldBlock(block, true)
			block = block[:0]
		}
	}
	c.foldBlock(block, true)
}

type constVal struct {
	known bool
	v     uint32
}

// foldBlock propagates constants through straight-line code and returns
// what is known of A and X at its end; with report set it raises the
// folding errors.
func (c *compiler) foldBlock(stmts []*stmt, report bool) (a, x constVal) {
	var mem [16]constVal
	for _, s := range stmts {
		switch s.code {
		case bpfop.ClassLD | bpfop.ModeIMM:
			a = constVal{true, s.k}
		case bpfop.ClassLDX | bpfop.ModeIMM:
			x = constVal{true, s.k}
		case bpfop.ClassLD | bpfop.ModeMEM:
			a = mem[s.k&15]
		case bpfop.ClassLDX | bpfop.ModeMEM:
			x = mem[s.k&15]
		case bpfop.ClassST:
			mem[s.k&15] = a
		case bpfop.ClassSTX:
			mem[s.k&15] = x
		case bpfop.ClassMISC | bpfop.MiscTAX:
			x = a
		case bpfop.ClassMISC | bpfop.MiscTXA:
			a = x
		case bpfop.ClassALU | bpfop.OpNEG:
			if a.known {
				a.v = -a.v
			}
		default:
			switch bpfop.Class(s.code) {
			case bpfop.ClassALU:
				op := bpfop.Op(s.code)
				var k constVal
				if s.code&bpfop.SrcX != 0 {
					k = x
				} else {
					k = constVal{true, s.k}
				}
				if !k.known {
					a = constVal{}
					continue
				}
				switch {
				case !report:
				case (op == bpfop.OpDIV) && k.v == 0:
					c.errorf("division by zero")
				case (op == bpfop.OpMOD) && k.v == 0:
					c.errorf("modulus by zero")
				case (op == bpfop.OpLSH || op == bpfop.OpRSH) && k.v > 31 && !a.known:
					c.errorf("shift by more than 31 bits")
				}
				if a.known {
					a.v = foldALU(op, a.v, k.v)
				}
			case bpfop.ClassLD, bpfop.ClassLDX:
				if bpfop.Class(s.code) == bpfop.ClassLD {
					a = constVal{}
				} else {
					x = constVal{}
				}
			}
		}
	}
	return a, x
}

// hasUnsignedTautology reports whether some test of the generated program
// compares an unknown value with a bound every value meets or none does
// (jge #0, jgt #0xffffffff): libpcap's optimizer leaves such tests alone,
// so where they make an expression match nothing ("-len < 0") libpcap
// compiles it, while bpfopt proves it.
func (c *compiler) hasUnsignedTautology(root *block) bool {
	seen := map[*block]bool{}
	var visit func(b *block) bool
	visit = func(b *block) bool {
		if b == nil || seen[b] {
			return false
		}
		seen[b] = true
		if b.jt != nil {
			a, x := c.foldBlock(b.stmts, false)
			k := constVal{true, b.s.k}
			if b.s.code&bpfop.SrcX != 0 {
				k = x
			}
			op := bpfop.Op(b.s.code)
			if !a.known && k.known && (op == bpfop.OpJGE && k.v == 0 || op == bpfop.OpJGT && k.v == 0xffffffff) {
				return true
			}
		}
		return visit(b.jt) || visit(b.jf)
	}
	return visit(root)
}

func foldALU(op uint16, a, b uint32) uint32 {
	switch op {
	case bpfop.OpADD:
		return a + b
	case bpfop.OpSUB:
		return a - b
	case bpfop.OpMUL:
		return a * b
	case bpfop.OpDIV:
		return a / b
	case bpfop.OpMOD:
		return a % b
	case bpfop.OpAND:
		return a & b
	case bpfop.OpOR:
		return a | b
	case bpfop.OpXOR:
		return a ^ b
	case bpfop.OpLSH:
		if b < 32 {
			return a << b
		}
		return 0
	case bpfop.OpRSH:
		if b < 32 {
			return a >> b
		}
		return 0
	}
	return 0
}
