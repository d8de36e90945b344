package filter

import "github.com/pkttap/pkttap/filter/internal/bpfopt"

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
		case in.Op&0x07 == classJMP:
			leader[i+1+in.Jt] = true
			leader[i+1+in.Jf] = true
		}
	}
	var block []*stmt
	for i, in := range prog {
		if leader[i] && len(block) > 0 {
			c.foldBlock(block, true)
			block = block[:0]
		}
		block = append(block, &stmt{code: in.Op, k: in.K})
		if in.Op&0x07 == classJMP || in.Op&0x07 == classRET {
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
		case classLD | modeIMM:
			a = constVal{true, s.k}
		case classLDX | modeIMM:
			x = constVal{true, s.k}
		case classLD | modeMEM:
			a = mem[s.k&15]
		case classLDX | modeMEM:
			x = mem[s.k&15]
		case classST:
			mem[s.k&15] = a
		case classSTX:
			mem[s.k&15] = x
		case classMISC | miscTAX:
			x = a
		case classMISC | miscTXA:
			a = x
		case classALU | aluNEG:
			if a.known {
				a.v = -a.v
			}
		default:
			switch s.code & 0x07 {
			case classALU:
				op := s.code & 0xf0
				var k constVal
				if s.code&srcX != 0 {
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
				case (op == aluDIV) && k.v == 0:
					c.errorf("division by zero")
				case (op == aluMOD) && k.v == 0:
					c.errorf("modulus by zero")
				case (op == aluLSH || op == aluRSH) && k.v > 31 && !a.known:
					c.errorf("shift by more than 31 bits")
				}
				if a.known {
					a.v = foldALU(op, a.v, k.v)
				}
			case classLD, classLDX:
				if s.code&0x07 == classLD {
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
			if b.s.code&srcX != 0 {
				k = x
			}
			op := b.s.code & 0xf0
			if !a.known && k.known && (op == jmpJGE && k.v == 0 || op == jmpJGT && k.v == 0xffffffff) {
				return true
			}
		}
		return visit(b.jt) || visit(b.jf)
	}
	return visit(root)
}

func foldALU(op uint16, a, b uint32) uint32 {
	switch op {
	case aluADD:
		return a + b
	case aluSUB:
		return a - b
	case aluMUL:
		return a * b
	case aluDIV:
		return a / b
	case aluMOD:
		return a % b
	case aluAND:
		return a & b
	case aluOR:
		return a | b
	case aluXOR:
		return a ^ b
	case aluLSH:
		if b < 32 {
			return a << b
		}
		return 0
	case aluRSH:
		if b < 32 {
			return a >> b
		}
		return 0
	}
	return 0
}
