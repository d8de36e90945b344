package filter

import (
	"fmt"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// skfNames are the symbolic names tcpdump prints for Linux ancillary loads.
var skfNames = map[uint32]string{
	0: "proto", 4: "type", 8: "ifidx", 12: "nla", 16: "nlan", 20: "mark",
	24: "queue", 28: "hatype", 32: "rxhash", 36: "cpu", 40: "xor_x",
	44: "vlan_tci", 48: "vlanp", 52: "poff", 56: "random", 60: "vlan_tpid",
}

// aluNames are the mnemonics of the two-operand ALU operations.
var aluNames = map[uint16]string{
	bpfop.OpADD: "add", bpfop.OpSUB: "sub", bpfop.OpMUL: "mul", bpfop.OpDIV: "div", bpfop.OpMOD: "mod",
	bpfop.OpAND: "and", bpfop.OpOR: "or", bpfop.OpXOR: "xor", bpfop.OpLSH: "lsh", bpfop.OpRSH: "rsh",
}

// imageOf renders instruction n as tcpdump -d does (libpcap's bpf_image).
func imageOf(p bpf.RawInstruction, n int) string {
	op, operand := "unimp", fmt.Sprintf("0x%x", p.Op)
	k := p.K
	abs := func() string {
		if k >= bpfop.SKFAdOff && k < bpfop.SKFAdOff+bpfop.SKFAdMax {
			if s, ok := skfNames[k-bpfop.SKFAdOff]; ok {
				return "[" + s + "]"
			}
		}
		return fmt.Sprintf("[%d]", int32(k))
	}
	hex := fmt.Sprintf("#0x%x", k)
	dec := fmt.Sprintf("#%d", int32(k))
	switch p.Op {
	case opRetK:
		op, operand = "ret", dec
	case bpfop.ClassRET | bpfop.RvalA:
		op, operand = "ret", ""
	case bpfop.ClassLD | bpfop.SizeW | bpfop.ModeABS:
		op, operand = "ld", abs()
	case bpfop.ClassLD | bpfop.SizeH | bpfop.ModeABS:
		op, operand = "ldh", abs()
	case bpfop.ClassLD | bpfop.SizeB | bpfop.ModeABS:
		op, operand = "ldb", abs()
	case bpfop.ClassLD | bpfop.SizeW | bpfop.ModeLEN:
		op, operand = "ld", "#pktlen"
	case bpfop.ClassLD | bpfop.SizeW | bpfop.ModeIND:
		op, operand = "ld", fmt.Sprintf("[x + %d]", int32(k))
	case bpfop.ClassLD | bpfop.SizeH | bpfop.ModeIND:
		op, operand = "ldh", fmt.Sprintf("[x + %d]", int32(k))
	case bpfop.ClassLD | bpfop.SizeB | bpfop.ModeIND:
		op, operand = "ldb", fmt.Sprintf("[x + %d]", int32(k))
	case bpfop.ClassLD | bpfop.ModeIMM:
		op, operand = "ld", hex
	case bpfop.ClassLDX | bpfop.ModeIMM:
		op, operand = "ldx", hex
	case bpfop.ClassLDX | bpfop.ModeMSH | bpfop.SizeB:
		op, operand = "ldxb", fmt.Sprintf("4*([%d]&0xf)", int32(k))
	case bpfop.ClassLD | bpfop.ModeMEM:
		op, operand = "ld", fmt.Sprintf("M[%d]", int32(k))
	case bpfop.ClassLDX | bpfop.ModeMEM:
		op, operand = "ldx", fmt.Sprintf("M[%d]", int32(k))
	case bpfop.ClassST:
		op, operand = "st", fmt.Sprintf("M[%d]", int32(k))
	case bpfop.ClassSTX:
		op, operand = "stx", fmt.Sprintf("M[%d]", int32(k))
	case bpfop.ClassJMP | bpfop.OpJA:
		op, operand = "ja", fmt.Sprintf("%d", n+1+int(int32(k)))
	case bpfop.ClassJMP | bpfop.OpJGT | bpfop.SrcK:
		op, operand = "jgt", hex
	case bpfop.ClassJMP | bpfop.OpJGE | bpfop.SrcK:
		op, operand = "jge", hex
	case bpfop.ClassJMP | bpfop.OpJEQ | bpfop.SrcK:
		op, operand = "jeq", hex
	case bpfop.ClassJMP | bpfop.OpJSET | bpfop.SrcK:
		op, operand = "jset", hex
	case bpfop.ClassJMP | bpfop.OpJGT | bpfop.SrcX:
		op, operand = "jgt", "x"
	case bpfop.ClassJMP | bpfop.OpJGE | bpfop.SrcX:
		op, operand = "jge", "x"
	case bpfop.ClassJMP | bpfop.OpJEQ | bpfop.SrcX:
		op, operand = "jeq", "x"
	case bpfop.ClassJMP | bpfop.OpJSET | bpfop.SrcX:
		op, operand = "jset", "x"
	case bpfop.ClassALU | bpfop.OpNEG:
		op, operand = "neg", ""
	case bpfop.ClassMISC | bpfop.MiscTAX:
		op, operand = "tax", ""
	case bpfop.ClassMISC | bpfop.MiscTXA:
		op, operand = "txa", ""
	default:
		if bpfop.Class(p.Op) == bpfop.ClassALU {
			if name, ok := aluNames[bpfop.Op(p.Op)]; ok {
				op = name
				switch {
				case bpfop.Src(p.Op) == bpfop.SrcX:
					operand = "x"
				case bpfop.Op(p.Op) == bpfop.OpAND || bpfop.Op(p.Op) == bpfop.OpOR || bpfop.Op(p.Op) == bpfop.OpXOR:
					operand = hex
				default:
					operand = dec
				}
			}
		}
	}
	if bpfop.Class(p.Op) == bpfop.ClassJMP && bpfop.Op(p.Op) != bpfop.OpJA {
		return fmt.Sprintf("(%03d) %-8s %-16s jt %d\tjf %d", n, op, operand, n+1+int(p.Jt), n+1+int(p.Jf))
	}
	return fmt.Sprintf("(%03d) %-8s %s", n, op, operand)
}

// Dump returns the program in one of tcpdump's formats: level 1 is -d
// (disassembly), 2 is -dd (C array initializers), 3 is -ddd (decimal, with
// the instruction count first). Each line ends in a newline.
func (p *Program) Dump(level int) string {
	var sb strings.Builder
	switch {
	case level > 2:
		fmt.Fprintf(&sb, "%d\n", len(p.Raw))
		for _, in := range p.Raw {
			fmt.Fprintf(&sb, "%d %d %d %d\n", in.Op, in.Jt, in.Jf, in.K)
		}
	case level == 2:
		for _, in := range p.Raw {
			fmt.Fprintf(&sb, "{ 0x%x, %d, %d, 0x%08x },\n", in.Op, in.Jt, in.Jf, in.K)
		}
	default:
		for i, in := range p.Raw {
			sb.WriteString(imageOf(in, i))
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// String returns the disassembly, as tcpdump -d prints it.
func (p *Program) String() string { return p.Dump(1) }
