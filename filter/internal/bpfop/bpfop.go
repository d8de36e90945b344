// Package bpfop defines the fields of a classic BPF opcode, the limits of
// the classic BPF machine and the Linux ancillary data offsets, once for
// the code generator (filter), the optimizer (bpfopt) and the interpreter
// (vm). Each name is the <pcap/bpf.h> one with its field in front: BPF_LD
// is ClassLD, BPF_ABS is ModeABS, BPF_JEQ is OpJEQ, BPF_K is SrcK; the Linux
// offsets keep their <linux/filter.h> names in Go case: SKF_AD_OFF is
// SKFAdOff.
//
// An opcode is 16 bits of which classic BPF uses the low 8. Bits 2-0 are
// the class; what the other bits hold depends on it:
//
//	class      bits 7-3
//	LD, LDX    mode (7-5), size (4-3)
//	ST, STX    unused
//	ALU, JMP   op (7-4), src (3)
//	RET        rval (4-3)
//	MISC       miscop (7-3)
//
// A whole opcode is the OR of its fields, e.g. ClassLD|SizeH|ModeABS for
// "ldh [k]"; the functions Class, Size, Mode, Op, Src, Rval and MiscOp
// take one field back out. The constants are untyped, so that they serve
// the uint16 opcodes of golang.org/x/net/bpf and the code's own types alike.
package bpfop

// Instruction classes: the low three bits of an opcode (BPF_CLASS).
const (
	ClassLD   = 0x00 // load into A
	ClassLDX  = 0x01 // load into X
	ClassST   = 0x02 // store A into scratch memory
	ClassSTX  = 0x03 // store X into scratch memory
	ClassALU  = 0x04 // arithmetic and logic on A
	ClassJMP  = 0x05 // jumps
	ClassRET  = 0x06 // return
	ClassMISC = 0x07 // register moves
)

// Load sizes, for loads from the packet (BPF_SIZE).
const (
	SizeW = 0x00 // 32-bit word
	SizeH = 0x08 // 16-bit half word
	SizeB = 0x10 // byte
)

// Load modes: where a load takes its value (BPF_MODE).
const (
	ModeIMM = 0x00 // the constant k
	ModeABS = 0x20 // packet bytes at k
	ModeIND = 0x40 // packet bytes at X+k
	ModeMEM = 0x60 // scratch memory word k
	ModeLEN = 0x80 // the packet's wire length
	ModeMSH = 0xa0 // 4*(packet[k]&0xf), the IPv4 header length (LDX only)
)

// ALU operations, in the op field of ClassALU opcodes (BPF_OP).
const (
	OpADD = 0x00
	OpSUB = 0x10
	OpMUL = 0x20
	OpDIV = 0x30
	OpOR  = 0x40
	OpAND = 0x50
	OpLSH = 0x60
	OpRSH = 0x70
	OpNEG = 0x80
	OpMOD = 0x90
	OpXOR = 0xa0
)

// Jump operations, in the op field of ClassJMP opcodes (BPF_OP).
const (
	OpJA   = 0x00 // jump always, by k
	OpJEQ  = 0x10 // A == operand
	OpJGT  = 0x20 // A > operand
	OpJGE  = 0x30 // A >= operand
	OpJSET = 0x40 // A & operand != 0
)

// Operand sources of ALU and jump opcodes (BPF_SRC).
const (
	SrcK = 0x00 // the constant k
	SrcX = 0x08 // the register X
)

// Return value sources of ClassRET opcodes (BPF_RVAL).
const (
	RvalK = 0x00 // the constant k
	RvalX = 0x08 // the register X
	RvalA = 0x10 // the register A
)

// Register moves of ClassMISC opcodes (BPF_MISCOP).
const (
	MiscTAX = 0x00 // X = A
	MiscTXA = 0x80 // A = X
)

const (
	// MemWords is the number of 32-bit scratch memory words
	// (BPF_MEMWORDS).
	MemWords = 16

	// MaxInsns is the longest program the Linux kernel and libpcap accept
	// (BPF_MAXINSNS).
	MaxInsns = 4096
)

// Linux ancillary data (<linux/filter.h>): an absolute load at SKFAdOff
// plus one of the field offsets below reads packet metadata instead of
// packet bytes.
const (
	// SKFAdOff is SKF_AD_OFF, -4096 as a uint32.
	SKFAdOff = 0xfffff000

	SKFAdProtocol       = 0  // SKF_AD_PROTOCOL: the ethertype
	SKFAdPktType        = 4  // SKF_AD_PKTTYPE: host, broadcast, ...
	SKFAdIfIndex        = 8  // SKF_AD_IFINDEX: the capturing interface
	SKFAdVLANTag        = 44 // SKF_AD_VLAN_TAG: the stripped tag's TCI
	SKFAdVLANTagPresent = 48 // SKF_AD_VLAN_TAG_PRESENT: a tag was stripped
	SKFAdVLANTPID       = 60 // SKF_AD_VLAN_TPID: the stripped tag's TPID
	SKFAdMax            = 64 // SKF_AD_MAX: the end of the ancillary fields
)

// Class returns the class field of opcode op (BPF_CLASS).
func Class(op uint16) uint16 { return op & 0x07 }

// Size returns the size field of load opcode op (BPF_SIZE).
func Size(op uint16) uint16 { return op & 0x18 }

// Mode returns the mode field of load opcode op (BPF_MODE).
func Mode(op uint16) uint16 { return op & 0xe0 }

// Op returns the operation field of ALU or jump opcode op (BPF_OP).
func Op(op uint16) uint16 { return op & 0xf0 }

// Src returns the operand source field of ALU or jump opcode op (BPF_SRC).
func Src(op uint16) uint16 { return op & 0x08 }

// Rval returns the return value source field of return opcode op
// (BPF_RVAL).
func Rval(op uint16) uint16 { return op & 0x18 }

// MiscOp returns the operation field of register move opcode op
// (BPF_MISCOP).
func MiscOp(op uint16) uint16 { return op & 0xf8 }
