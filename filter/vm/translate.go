package vm

import "golang.org/x/net/bpf"

// An op is one pre-decoded step of a translated program. ops[i] stands for
// the program's instruction i; a fused op at i also performs instruction
// i+1 and jumps on its behalf, while ops[i+1] stays in place for jumps
// that land on it directly.
type op struct {
	k    uint32 // offset, constant, scratch index, ancillary field or return value
	k2   uint32 // the comparand of a fused load-and-jump
	jt   uint16 // next op when a comparison holds, or the jump target
	jf   uint16 // next op when it does not
	code uint8  // one of the x* constants
}

// Operation codes of translated programs. The values are dense so that the
// interpreter's switch compiles to a jump table.
const (
	xRetK uint8 = iota
	xRetA
	xLdW // A = data[k:k+4]
	xLdH
	xLdB
	xLdWI // A = data[x+k:x+k+4]
	xLdHI
	xLdBI
	xLdLen
	xLdImm
	xLdMem
	xLdxImm
	xLdxMem
	xLdxLen
	xLdxMsh
	xSt
	xStx
	xJa
	xJaBack // a backward jump, counted against the loop budget
	xJeqK
	xJgtK
	xJgeK
	xJsetK
	xJeqX
	xJgtX
	xJgeX
	xJsetX
	xAddK
	xSubK
	xMulK
	xDivK
	xModK
	xAndK
	xOrK
	xXorK
	xLshK
	xRshK
	xAddX
	xSubX
	xMulX
	xDivX
	xModX
	xAndX
	xOrX
	xXorX
	xLshX
	xRshX
	xNeg
	xTax
	xTxa
	xAnc    // A = ancillary field k
	xReject // a load that can never be in range: return 0
	// Fused absolute load and jump on the loaded value against k2.
	xLdWJeq
	xLdWJgt
	xLdWJge
	xLdWJset
	xLdHJeq
	xLdHJgt
	xLdHJge
	xLdHJset
	xLdBJeq
	xLdBJgt
	xLdBJge
	xLdBJset
	// Fused indexed load and jump.
	xLdWIJeq
	xLdWIJgt
	xLdWIJge
	xLdWIJset
	xLdHIJeq
	xLdHIJgt
	xLdHIJge
	xLdHIJset
	xLdBIJeq
	xLdBIJgt
	xLdBIJge
	xLdBIJset
)

// simple maps the opcodes that translate one to one.
var simple = map[uint16]uint8{
	codeLdWInd: xLdWI, codeLdHInd: xLdHI, codeLdBInd: xLdBI,
	codeLdLen: xLdLen, codeLdImm: xLdImm, codeLdMem: xLdMem,
	codeLdxImm: xLdxImm, codeLdxMem: xLdxMem, codeLdxLen: xLdxLen, codeLdxMsh: xLdxMsh,
	codeSt: xSt, codeStx: xStx,
	codeJeqK: xJeqK, codeJgtK: xJgtK, codeJgeK: xJgeK, codeJsetK: xJsetK,
	codeJeqX: xJeqX, codeJgtX: xJgtX, codeJgeX: xJgeX, codeJsetX: xJsetX,
	codeAddK: xAddK, codeSubK: xSubK, codeMulK: xMulK, codeDivK: xDivK, codeModK: xModK,
	codeAndK: xAndK, codeOrK: xOrK, codeXorK: xXorK, codeLshK: xLshK, codeRshK: xRshK,
	codeAddX: xAddX, codeSubX: xSubX, codeMulX: xMulX, codeDivX: xDivX, codeModX: xModX,
	codeAndX: xAndX, codeOrX: xOrX, codeXorX: xXorX, codeLshX: xLshX, codeRshX: xRshX,
	codeNeg: xNeg, codeTax: xTax, codeTxa: xTxa, codeRetK: xRetK, codeRetA: xRetA,
}

// translate turns a validated program into ops.
func translate(prog []bpf.RawInstruction) []op {
	ops := make([]op, len(prog))
	for i, ri := range prog {
		o := op{k: ri.K}
		switch ri.Op {
		case codeLdWAbs, codeLdHAbs, codeLdBAbs:
			o.code = absLoad(ri)
			if o.code == xAnc {
				o.k = ri.K - skfAdOff
			}
		case codeJa:
			t := uint32(i+1) + ri.K
			o.code = xJa
			if int(t) <= i {
				o.code = xJaBack
			} else {
				t = uint32(follow(prog, int(t)))
			}
			o.jt = uint16(t)
		default:
			o.code = simple[ri.Op]
			if ri.Op&0x07 == classJMP {
				o.jt = uint16(follow(prog, i+1+int(ri.Jt)))
				o.jf = uint16(follow(prog, i+1+int(ri.Jf)))
			}
		}
		// Shifts by a constant use its low five bits, as the processors
		// libpcap runs on do (see the package documentation).
		if o.code == xLshK || o.code == xRshK {
			o.k &= 31
		}
		ops[i] = o
	}
	fuse(prog, ops)
	return ops
}

// absLoad chooses the op of an absolute load.
func absLoad(ri bpf.RawInstruction) uint8 {
	switch {
	case isAncillary(ri.K):
		return xAnc
	case ri.K > maxAbsolute:
		return xReject
	case ri.Op == codeLdWAbs:
		return xLdW
	case ri.Op == codeLdHAbs:
		return xLdH
	}
	return xLdB
}

// follow returns where execution really continues after landing on
// instruction t: chains of forward unconditional jumps are skipped.
func follow(prog []bpf.RawInstruction, t int) int {
	for prog[t].Op == codeJa {
		n := t + 1 + int(int32(prog[t].K))
		if n <= t {
			break
		}
		t = n
	}
	return t
}

// fusedBase gives, for each load op that can fuse with a following
// conditional jump on a constant, the first of its four fused ops (in the
// order jeq, jgt, jge, jset).
var fusedBase = map[uint8]uint8{
	xLdW: xLdWJeq, xLdH: xLdHJeq, xLdB: xLdBJeq,
	xLdWI: xLdWIJeq, xLdHI: xLdHIJeq, xLdBI: xLdBIJeq,
}

// fuse merges each packet load with the conditional jump that follows it.
func fuse(prog []bpf.RawInstruction, ops []op) {
	for i := 0; i+1 < len(ops); i++ {
		base, ok := fusedBase[ops[i].code]
		if !ok {
			continue
		}
		var off uint8
		switch prog[i+1].Op {
		case codeJeqK:
			off = 0
		case codeJgtK:
			off = 1
		case codeJgeK:
			off = 2
		case codeJsetK:
			off = 3
		default:
			continue
		}
		j := ops[i+1]
		ops[i].code = base + off
		ops[i].k2 = j.k
		ops[i].jt, ops[i].jf = j.jt, j.jf
	}
}
