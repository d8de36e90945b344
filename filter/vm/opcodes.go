package vm

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// The opcodes libpcap's interpreter executes, as the OR of their fields
// (see bpfop); any other opcode is invalid.
const (
	codeLdWAbs = bpfop.ClassLD | bpfop.SizeW | bpfop.ModeABS
	codeLdHAbs = bpfop.ClassLD | bpfop.SizeH | bpfop.ModeABS
	codeLdBAbs = bpfop.ClassLD | bpfop.SizeB | bpfop.ModeABS
	codeLdWInd = bpfop.ClassLD | bpfop.SizeW | bpfop.ModeIND
	codeLdHInd = bpfop.ClassLD | bpfop.SizeH | bpfop.ModeIND
	codeLdBInd = bpfop.ClassLD | bpfop.SizeB | bpfop.ModeIND
	codeLdLen  = bpfop.ClassLD | bpfop.SizeW | bpfop.ModeLEN
	codeLdImm  = bpfop.ClassLD | bpfop.SizeW | bpfop.ModeIMM
	codeLdMem  = bpfop.ClassLD | bpfop.SizeW | bpfop.ModeMEM
	codeLdxImm = bpfop.ClassLDX | bpfop.SizeW | bpfop.ModeIMM
	codeLdxMem = bpfop.ClassLDX | bpfop.SizeW | bpfop.ModeMEM
	codeLdxLen = bpfop.ClassLDX | bpfop.SizeW | bpfop.ModeLEN
	codeLdxMsh = bpfop.ClassLDX | bpfop.SizeB | bpfop.ModeMSH
	codeSt     = bpfop.ClassST
	codeStx    = bpfop.ClassSTX
	codeJa     = bpfop.ClassJMP | bpfop.OpJA
	codeJeqK   = bpfop.ClassJMP | bpfop.OpJEQ | bpfop.SrcK
	codeJeqX   = bpfop.ClassJMP | bpfop.OpJEQ | bpfop.SrcX
	codeJgtK   = bpfop.ClassJMP | bpfop.OpJGT | bpfop.SrcK
	codeJgtX   = bpfop.ClassJMP | bpfop.OpJGT | bpfop.SrcX
	codeJgeK   = bpfop.ClassJMP | bpfop.OpJGE | bpfop.SrcK
	codeJgeX   = bpfop.ClassJMP | bpfop.OpJGE | bpfop.SrcX
	codeJsetK  = bpfop.ClassJMP | bpfop.OpJSET | bpfop.SrcK
	codeJsetX  = bpfop.ClassJMP | bpfop.OpJSET | bpfop.SrcX
	codeAddK   = bpfop.ClassALU | bpfop.OpADD | bpfop.SrcK
	codeAddX   = bpfop.ClassALU | bpfop.OpADD | bpfop.SrcX
	codeSubK   = bpfop.ClassALU | bpfop.OpSUB | bpfop.SrcK
	codeSubX   = bpfop.ClassALU | bpfop.OpSUB | bpfop.SrcX
	codeMulK   = bpfop.ClassALU | bpfop.OpMUL | bpfop.SrcK
	codeMulX   = bpfop.ClassALU | bpfop.OpMUL | bpfop.SrcX
	codeDivK   = bpfop.ClassALU | bpfop.OpDIV | bpfop.SrcK
	codeDivX   = bpfop.ClassALU | bpfop.OpDIV | bpfop.SrcX
	codeOrK    = bpfop.ClassALU | bpfop.OpOR | bpfop.SrcK
	codeOrX    = bpfop.ClassALU | bpfop.OpOR | bpfop.SrcX
	codeAndK   = bpfop.ClassALU | bpfop.OpAND | bpfop.SrcK
	codeAndX   = bpfop.ClassALU | bpfop.OpAND | bpfop.SrcX
	codeLshK   = bpfop.ClassALU | bpfop.OpLSH | bpfop.SrcK
	codeLshX   = bpfop.ClassALU | bpfop.OpLSH | bpfop.SrcX
	codeRshK   = bpfop.ClassALU | bpfop.OpRSH | bpfop.SrcK
	codeRshX   = bpfop.ClassALU | bpfop.OpRSH | bpfop.SrcX
	codeNeg    = bpfop.ClassALU | bpfop.OpNEG
	codeModK   = bpfop.ClassALU | bpfop.OpMOD | bpfop.SrcK
	codeModX   = bpfop.ClassALU | bpfop.OpMOD | bpfop.SrcX
	codeXorK   = bpfop.ClassALU | bpfop.OpXOR | bpfop.SrcK
	codeXorX   = bpfop.ClassALU | bpfop.OpXOR | bpfop.SrcX
	codeRetK   = bpfop.ClassRET | bpfop.RvalK
	codeRetA   = bpfop.ClassRET | bpfop.RvalA
	codeTax    = bpfop.ClassMISC | bpfop.MiscTAX
	codeTxa    = bpfop.ClassMISC | bpfop.MiscTXA
)

const (
	// maxProgram is the longest program New accepts, more than the
	// kernel's BPF_MAXINSNS, which libpcap's userland interpreter does not
	// apply.
	maxProgram = 1 << 16
	// maxAbsolute is the largest absolute load offset that can read packet
	// bytes; a load at a larger offset outside the ancillary range rejects
	// the packet.
	maxAbsolute = 1<<31 - 1
)

// allCodes lists every opcode libpcap's interpreter executes: the ones New
// accepts.
var allCodes = []uint16{
	codeLdWAbs, codeLdHAbs, codeLdBAbs, codeLdWInd, codeLdHInd, codeLdBInd,
	codeLdLen, codeLdImm, codeLdMem, codeLdxImm, codeLdxMem, codeLdxLen, codeLdxMsh,
	codeSt, codeStx,
	codeJa, codeJeqK, codeJeqX, codeJgtK, codeJgtX, codeJgeK, codeJgeX, codeJsetK, codeJsetX,
	codeAddK, codeAddX, codeSubK, codeSubX, codeMulK, codeMulX, codeDivK, codeDivX,
	codeOrK, codeOrX, codeAndK, codeAndX, codeLshK, codeLshX, codeRshK, codeRshX,
	codeNeg, codeModK, codeModX, codeXorK, codeXorX,
	codeRetK, codeRetA, codeTax, codeTxa,
}

// isKnown is allCodes as a set indexed by opcode (they all fit in a byte).
var isKnown = func() (set [256]bool) {
	for _, c := range allCodes {
		set[c] = true
	}
	return set
}()

// known reports whether libpcap's interpreter executes opcode c.
func known(c uint16) bool {
	return c < uint16(len(isKnown)) && isKnown[c]
}
