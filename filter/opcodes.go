package filter

// Classic BPF opcode pieces (as in <pcap/bpf.h>).
const (
	classLD   = 0x00
	classLDX  = 0x01
	classST   = 0x02
	classSTX  = 0x03
	classALU  = 0x04
	classJMP  = 0x05
	classRET  = 0x06
	classMISC = 0x07

	sizeW = 0x00
	sizeH = 0x08
	sizeB = 0x10

	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

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

	srcK = 0x00
	srcX = 0x08

	miscTAX = 0x00
	miscTXA = 0x80

	opRetK = classRET | srcK
	opJA   = classJMP | jmpJA
)

// skfAdOff is the Linux offset of the ancillary data loads (SKF_AD_OFF).
const skfAdOff = 0xfffff000

// skfAdOffInt is SKF_AD_OFF as a signed offset (-4096), for the code
// generator's int offsets: it fits int on 32-bit platforms too, and it
// becomes the same instruction operand once converted to uint32.
const skfAdOffInt = -0x1000

// Linux ancillary data fields, added to skfAdOff.
const (
	skfAdProtocol       = 0
	skfAdPktType        = 4
	skfAdIfIndex        = 8
	skfAdVLANTag        = 44
	skfAdVLANTagPresent = 48
)
