package filter

import (
	"fmt"
	"strings"

	"golang.org/x/net/bpf"
)

// skfNames are the symbolic names tcpdump prints for Linux ancillary loads.
var skfNames = map[uint32]string{
	0: "proto", 4: "type", 8: "ifidx", 12: "nla", 16: "nlan", 20: "mark",
	24: "queue", 28: "hatype", 32: "rxhash", 36: "cpu", 40: "xor_x",
	44: "vlan_tci", 48: "vlanp", 52: "poff", 56: "random", 60: "vlan_tpid",
}

// imageOf renders instruction n as tcpdump -d does (libpcap's bpf_image).
func imageOf(p bpf.RawInstruction, n int) string {
	op, operand := "unimp", fmt.Sprintf("0x%x", p.Op)
	k := p.K
	abs := func() string {
		if k >= skfAdOff && k < skfAdOff+64 {
			if s, ok := skfNames[k-skfAdOff]; ok {
				return "[" + s + "]"
			}
		}
		return fmt.Sprintf("[%d]", int32(k))
	}
	hex := fmt.Sprintf("#0x%x", k)
	dec := fmt.Sprintf("#%d", int32(k))
	switch p.Op {
	case classRET | srcK:
		op, operand = "ret", dec
	case classRET | 0x10: // BPF_A
		op, operand = "ret", ""
	case classLD | sizeW | modeABS:
		op, operand = "ld", abs()
	case classLD | sizeH | modeABS:
		op, operand = "ldh", abs()
	case classLD | sizeB | modeABS:
		op, operand = "ldb", abs()
	case classLD | sizeW | modeLEN:
		op, operand = "ld", "#pktlen"
	case classLD | sizeW | modeIND:
		op, operand = "ld", fmt.Sprintf("[x + %d]", int32(k))
	case classLD | sizeH | modeIND:
		op, operand = "ldh", fmt.Sprintf("[x + %d]", int32(k))
	case classLD | sizeB | modeIND:
		op, operand = "ldb", fmt.Sprintf("[x + %d]", int32(k))
	case classLD | modeIMM:
		op, operand = "ld", hex
	case classLDX | modeIMM:
		op, operand = "ldx", hex
	case classLDX | modeMSH | sizeB:
		op, operand = "ldxb", fmt.Sprintf("4*([%d]&0xf)", int32(k))
	case classLD | modeMEM:
		op, operand = "ld", fmt.Sprintf("M[%d]", int32(k))
	case classLDX | modeMEM:
		op, operand = "ldx", fmt.Sprintf("M[%d]", int32(k))
	case classST:
		op, operand = "st", fmt.Sprintf("M[%d]", int32(k))
	case classSTX:
		op, operand = "stx", fmt.Sprintf("M[%d]", int32(k))
	case classJMP | jmpJA:
		op, operand = "ja", fmt.Sprintf("%d", n+1+int(int32(k)))
	case classJMP | jmpJGT | srcK:
		op, operand = "jgt", hex
	case classJMP | jmpJGE | srcK:
		op, operand = "jge", hex
	case classJMP | jmpJEQ | srcK:
		op, operand = "jeq", hex
	case classJMP | jmpJSET | srcK:
		op, operand = "jset", hex
	case classJMP | jmpJGT | srcX:
		op, operand = "jgt", "x"
	case classJMP | jmpJGE | srcX:
		op, operand = "jge", "x"
	case classJMP | jmpJEQ | srcX:
		op, operand = "jeq", "x"
	case classJMP | jmpJSET | srcX:
		op, operand = "jset", "x"
	case classALU | aluNEG:
		op, operand = "neg", ""
	case classMISC | miscTAX:
		op, operand = "tax", ""
	case classMISC | miscTXA:
		op, operand = "txa", ""
	default:
		if p.Op&0x07 == classALU {
			names := map[uint16]string{aluADD: "add", aluSUB: "sub", aluMUL: "mul", aluDIV: "div",
				aluMOD: "mod", aluAND: "and", aluOR: "or", aluXOR: "xor", aluLSH: "lsh", aluRSH: "rsh"}
			if name, ok := names[p.Op&0xf0]; ok {
				op = name
				switch {
				case p.Op&srcX != 0:
					operand = "x"
				case p.Op&0xf0 == aluAND || p.Op&0xf0 == aluOR || p.Op&0xf0 == aluXOR:
					operand = hex
				default:
					operand = dec
				}
			}
		}
	}
	if p.Op&0x07 == classJMP && p.Op&0xf0 != jmpJA {
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
