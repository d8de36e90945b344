package vm

// Classic BPF opcode fields (the layout of bpf.RawInstruction.Op):
//
//	7 6 5 | 4 3 | 2 1 0
//	mode  | size| class      loads and stores
//	op        |s| class      ALU and jumps (s: 0 = K, 1 = X)
const (
	classLD   = 0x00
	classLDX  = 0x01
	classST   = 0x02
	classSTX  = 0x03
	classALU  = 0x04
	classJMP  = 0x05
	classRET  = 0x06
	classMISC = 0x07
)

// The opcodes libpcap's interpreter executes; any other opcode is invalid.
const (
	codeLdWAbs  = 0x20
	codeLdHAbs  = 0x28
	codeLdBAbs  = 0x30
	codeLdWInd  = 0x40
	codeLdHInd  = 0x48
	codeLdBInd  = 0x50
	codeLdLen   = 0x80
	codeLdImm   = 0x00
	codeLdMem   = 0x60
	codeLdxImm  = 0x01
	codeLdxMem  = 0x61
	codeLdxLen  = 0x81
	codeLdxMsh  = 0xb1
	codeSt      = 0x02
	codeStx     = 0x03
	codeJa      = 0x05
	codeJeqK    = 0x15
	codeJeqX    = 0x1d
	codeJgtK    = 0x25
	codeJgtX    = 0x2d
	codeJgeK    = 0x35
	codeJgeX    = 0x3d
	codeJsetK   = 0x45
	codeJsetX   = 0x4d
	codeAddK    = 0x04
	codeAddX    = 0x0c
	codeSubK    = 0x14
	codeSubX    = 0x1c
	codeMulK    = 0x24
	codeMulX    = 0x2c
	codeDivK    = 0x34
	codeDivX    = 0x3c
	codeOrK     = 0x44
	codeOrX     = 0x4c
	codeAndK    = 0x54
	codeAndX    = 0x5c
	codeLshK    = 0x64
	codeLshX    = 0x6c
	codeRshK    = 0x74
	codeRshX    = 0x7c
	codeNeg     = 0x84
	codeModK    = 0x94
	codeModX    = 0x9c
	codeXorK    = 0xa4
	codeXorX    = 0xac
	codeRetK    = 0x06
	codeRetA    = 0x16
	codeTax     = 0x07
	codeTxa     = 0x87
	memWords    = 16
	maxProgram  = 1 << 16
	maxAbsolute = 1<<31 - 1
)

// known reports whether libpcap's interpreter executes opcode c.
func known(c uint16) bool {
	switch c {
	case codeLdWAbs, codeLdHAbs, codeLdBAbs, codeLdWInd, codeLdHInd, codeLdBInd,
		codeLdLen, codeLdImm, codeLdMem, codeLdxImm, codeLdxMem, codeLdxLen, codeLdxMsh,
		codeSt, codeStx,
		codeJa, codeJeqK, codeJeqX, codeJgtK, codeJgtX, codeJgeK, codeJgeX, codeJsetK, codeJsetX,
		codeAddK, codeAddX, codeSubK, codeSubX, codeMulK, codeMulX, codeDivK, codeDivX,
		codeOrK, codeOrX, codeAndK, codeAndX, codeLshK, codeLshX, codeRshK, codeRshX,
		codeNeg, codeModK, codeModX, codeXorK, codeXorX,
		codeRetK, codeRetA, codeTax, codeTxa:
		return true
	}
	return false
}
