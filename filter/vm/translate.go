package vm

import (
	"unsafe"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// An op is one pre-decoded step of a translated program. ops[i] stands for
// the program's instruction i; a fused op at i also performs instruction
// i+1 and jumps on its behalf, while ops[i+1] stays in place for jumps
// that land on it directly.
//
// Targets (jt, jf, jt2 and jcase.t) are op indices while translating and
// byte offsets into the op array once translate returns, so that the
// interpreter finds the next op with one addition.
type op struct {
	k    uint32 // offset, constant, scratch index, ancillary field or return value
	k2   uint32 // the comparand of a fused load-and-jump
	k3   uint32 // a second comparand (jeq chains), a mask (load-and-mask) or a jump kind
	jt   uint32 // next op when a comparison holds, or the jump target
	jf   uint32 // next op when it does not
	jt2  uint32 // next op when the second comparison of a jeq chain holds, or a chain's length
	code uint8  // one of the x* constants
	_    [7]byte
}

// opSize is the size of an op: a power of two.
const opSize = 32

// Compile-time check that opSize is the size of an op.
var _ = [1]struct{}{}[unsafe.Sizeof(op{})-opSize]

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
	// A jeq on A whose false branch is another jeq on A: a == k2 goes to
	// jt, a == k3 to jt2, anything else to jf. The plain form compares k.
	xJeqJeq
	xLdWJeqJeq
	xLdHJeqJeq
	xLdBJeqJeq
	// ldx 4*([k]&0xf) followed by a fused indexed load and jump: these set
	// X, then go on with the next op in the same step.
	xMshWI
	xMshHI
	xMshBI
	// An absolute load, an and with k3, and a jump on the result against
	// k2 (kinds in jeq, jgt, jge, jset order).
	xLdWAndJeq
	xLdWAndJgt
	xLdWAndJge
	xLdWAndJset
	xLdHAndJeq
	xLdHAndJgt
	xLdHAndJge
	xLdHAndJset
	xLdBAndJeq
	xLdBAndJgt
	xLdBAndJge
	xLdBAndJset
	// ld len and a jump on it against k2; k3 is the jump kind (jeq, jgt,
	// jge, jset).
	xLdLenJ
	// Chains of three or more jeq on A: the comparands and their targets
	// are cases[k3 : k3+jt2]; no match goes to jf.
	xJeqN
	xLdWJeqN
	xLdHJeqN
	xLdBJeqN
)

// A jcase is one comparison of a long jeq chain.
type jcase struct {
	k uint32 // the comparand
	t uint32 // the next op when A equals k
}

// maxChain is the longest jeq chain fused into one op.
const maxChain = 8

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

// translate turns a validated program into ops and the comparisons of
// their long jeq chains.
func translate(prog []bpf.RawInstruction) ([]op, []jcase) {
	ops := make([]op, len(prog))
	for i, ri := range prog {
		o := op{k: ri.K}
		switch ri.Op {
		case codeLdWAbs, codeLdHAbs, codeLdBAbs:
			o.code = absLoad(ri)
			if o.code == xAnc {
				o.k = ri.K - bpfop.SKFAdOff
			}
		case codeJa:
			t := uint32(i+1) + ri.K
			o.code = xJa
			if int(t) <= i {
				o.code = xJaBack
			} else {
				t = uint32(follow(prog, int(t)))
			}
			o.jt = t
		default:
			o.code = simple[ri.Op]
			if bpfop.Class(ri.Op) == bpfop.ClassJMP {
				o.jt = uint32(follow(prog, i+1+int(ri.Jt)))
				o.jf = uint32(follow(prog, i+1+int(ri.Jf)))
			}
		}
		// Shifts by a constant use its low five bits, as the processors
		// libpcap runs on do (see the package documentation).
		if o.code == xLshK || o.code == xRshK {
			o.k &= 31
		}
		ops[i] = o
	}
	fuseAnd(prog, ops)
	fuse(prog, ops)
	fuseLen(prog, ops)
	cases := fuseJeqChains(prog, ops)
	fuseMsh(ops)
	for i := range ops {
		if ops[i].code != xJeqN && ops[i].code != xLdWJeqN && ops[i].code != xLdHJeqN && ops[i].code != xLdBJeqN {
			ops[i].jt2 *= opSize
		}
		ops[i].jt *= opSize
		ops[i].jf *= opSize
	}
	for i := range cases {
		cases[i].t *= opSize
	}
	return ops, cases
}

// fuseLen merges "ld len; j?? #k" into one op.
func fuseLen(prog []bpf.RawInstruction, ops []op) {
	for i := 0; i+1 < len(ops); i++ {
		if ops[i].code != xLdLen {
			continue
		}
		kind, ok := jumpKind(prog[i+1].Op)
		if !ok {
			continue
		}
		j := ops[i+1]
		ops[i] = op{code: xLdLenJ, k2: j.k, k3: uint32(kind), jt: j.jt, jf: j.jf}
	}
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
		kind, ok := jumpKind(prog[i+1].Op)
		if !ok {
			continue
		}
		j := ops[i+1]
		ops[i].code = base + kind
		ops[i].k2 = j.k
		ops[i].jt, ops[i].jf = j.jt, j.jf
	}
}

// jumpKind returns the position of a conditional jump on a constant in
// the order jeq, jgt, jge, jset, or false.
func jumpKind(code uint16) (uint8, bool) {
	switch code {
	case codeJeqK:
		return 0, true
	case codeJgtK:
		return 1, true
	case codeJgeK:
		return 2, true
	case codeJsetK:
		return 3, true
	}
	return 0, false
}

// andBase gives the first load-and-mask op of each absolute load.
var andBase = map[uint8]uint8{xLdW: xLdWAndJeq, xLdH: xLdHAndJeq, xLdB: xLdBAndJeq}

// fuseAnd merges "ld [k]; and #m; j?? #c" into one op. It runs before
// fuse, which would otherwise not touch these loads anyway (an and
// follows them, not a jump).
func fuseAnd(prog []bpf.RawInstruction, ops []op) {
	for i := 0; i+2 < len(ops); i++ {
		base, ok := andBase[ops[i].code]
		if !ok || prog[i+1].Op != codeAndK {
			continue
		}
		kind, ok := jumpKind(prog[i+2].Op)
		if !ok {
			continue
		}
		j := ops[i+2]
		ops[i].code = base + kind
		ops[i].k3 = prog[i+1].K
		ops[i].k2 = j.k
		ops[i].jt, ops[i].jf = j.jt, j.jf
	}
}

// chainBase maps a jeq on a constant (plain or fused with a load) to its
// two-jeq chain form; chainNBase to its long chain form.
var (
	chainBase  = map[uint8]uint8{xJeqK: xJeqJeq, xLdWJeq: xLdWJeqJeq, xLdHJeq: xLdHJeqJeq, xLdBJeq: xLdBJeqJeq}
	chainNBase = map[uint8]uint8{xJeqK: xJeqN, xLdWJeq: xLdWJeqN, xLdHJeq: xLdHJeqN, xLdBJeq: xLdBJeqN}
)

// fuseJeqChains lets a jeq whose false branch lands on other jeqs on the
// same A (ethertype and protocol dispatch) test them all in one step. It
// returns the comparisons of chains longer than two.
func fuseJeqChains(prog []bpf.RawInstruction, ops []op) []jcase {
	var cases []jcase
	for i := range ops {
		if _, ok := chainBase[ops[i].code]; !ok {
			continue
		}
		k := ops[i].k2
		if ops[i].code == xJeqK {
			k = ops[i].k
		}
		chain := []jcase{{k, ops[i].jt}}
		f := int(ops[i].jf)
		for len(chain) < maxChain && prog[f].Op == codeJeqK {
			chain = append(chain, jcase{prog[f].K, uint32(follow(prog, f+1+int(prog[f].Jt)))})
			f = follow(prog, f+1+int(prog[f].Jf))
		}
		switch {
		case len(chain) == 2:
			ops[i].code = chainBase[ops[i].code]
			ops[i].k2, ops[i].k3 = chain[0].k, chain[1].k
			ops[i].jt, ops[i].jt2 = chain[0].t, chain[1].t
			ops[i].jf = uint32(f)
		case len(chain) > 2:
			ops[i].code = chainNBase[ops[i].code]
			ops[i].k3 = uint32(len(cases))
			ops[i].jt2 = uint32(len(chain))
			ops[i].jf = uint32(f)
			cases = append(cases, chain...)
		}
	}
	return cases
}

// mshBase maps the first fused indexed load op of each size to the op
// that performs a preceding ldx 4*([k]&0xf) first.
var mshBase = map[uint8]uint8{}

func init() {
	for c := xLdWIJeq; c <= xLdWIJset; c++ {
		mshBase[c] = xMshWI
	}
	for c := xLdHIJeq; c <= xLdHIJset; c++ {
		mshBase[c] = xMshHI
	}
	for c := xLdBIJeq; c <= xLdBIJset; c++ {
		mshBase[c] = xMshBI
	}
}

// fuseMsh marks each ldx 4*([k]&0xf) that is followed by a fused indexed
// load, so that the interpreter goes on with it without a dispatch.
func fuseMsh(ops []op) {
	for i := 0; i+1 < len(ops); i++ {
		if ops[i].code != xLdxMsh {
			continue
		}
		if m, ok := mshBase[ops[i+1].code]; ok {
			ops[i].code = m
		}
	}
}
