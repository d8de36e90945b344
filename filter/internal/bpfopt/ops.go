package bpfopt

// Classic BPF opcode fields, as in <linux/filter.h> and libpcap's bpf.h.
const (
	// Instruction classes (op & 0x07).
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	// Load sizes (op & 0x18).
	sizeW = 0x00
	sizeH = 0x08
	sizeB = 0x10

	// Load modes (op & 0xe0).
	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

	// ALU and jump operations (op & 0xf0).
	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	// Operand source (op & 0x08).
	srcK = 0x00
	srcX = 0x08

	// Return value source (op & 0x18).
	retK = 0x00
	retX = 0x08
	retA = 0x10

	// Miscellaneous operations (op & 0xf8).
	miscTAX = 0x00
	miscTXA = 0x80

	// memWords is the number of scratch memory words (BPF_MEMWORDS).
	memWords = 16

	// MaxInstructions is the longest program the Linux kernel and libpcap
	// accept (BPF_MAXINSNS).
	MaxInstructions = 4096

	// maxJumpOffset is the largest conditional jump offset the encoding holds.
	maxJumpOffset = 255

	// ancillaryOffset is SKF_AD_OFF: absolute loads at or beyond it read
	// Linux ancillary data rather than packet bytes.
	ancillaryOffset = 0xfffff000
)

func opClass(op uint16) uint16 { return op & 0x07 }
func opSize(op uint16) uint16  { return op & 0x18 }
func opMode(op uint16) uint16  { return op & 0xe0 }
func opCode(op uint16) uint16  { return op & 0xf0 }
func opSrc(op uint16) uint16   { return op & 0x08 }
func opRval(op uint16) uint16  { return op & 0x18 }
func opMisc(op uint16) uint16  { return op & 0xf8 }
