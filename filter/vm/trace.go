package vm

import (
	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// MaxTraceSteps bounds the steps a Trace records; a program that runs
// longer (only loops can) goes on to its verdict without recording more,
// and Trace.Elided counts what was left out.
const MaxTraceSteps = 1 << 16

// Trace is the record of one program run on one packet: every instruction
// executed, in order, and the verdict. It is what Run computes, written
// down; Trace's interpreter is a separate, plain one, so Run pays nothing
// for it.
type Trace struct {
	// Steps are the instructions executed, in order.
	Steps []Step
	// Elided counts steps executed after MaxTraceSteps were recorded.
	Elided int
	// Result is the return value, as Run returns it: 0 rejects the
	// packet.
	Result uint32
	// Fault says why the program returned 0 without a return instruction
	// (a load past the captured bytes, an ancillary field the packet does
	// not have, a division by zero, too many backward jumps); "" when a
	// return instruction ended it.
	Fault string
}

// Step is one executed instruction.
type Step struct {
	// PC is the instruction's index in the program.
	PC int
	// Ins is the instruction.
	Ins bpf.RawInstruction
	// A and X are the registers after the instruction.
	A, X uint32
	// Load is the packet read of a load instruction, nil otherwise.
	Load *Load
	// Cmp is the comparison of a conditional jump, nil otherwise.
	Cmp *Cmp
}

// Load is one read of packet bytes (or of Linux ancillary data).
type Load struct {
	// Offset and Size are the bytes read: Offset is k for an absolute
	// load and x+k for an indexed one (exact, without 32-bit wrap-around).
	Offset uint64
	Size   int
	// Value is what the load produced: the bytes in network byte order,
	// or 4*(byte&0xf) for ldxb 4*([k]&0xf).
	Value uint32
	// Ancillary is set for a Linux ancillary load (SKF_AD_OFF+Field).
	Ancillary bool
	Field     uint32
	// Failed says the load fell off the end of the captured bytes (or
	// asked for ancillary data the packet does not have): the program
	// returned 0 there.
	Failed bool
}

// Cmp is one comparison of a conditional jump: A against K or X.
type Cmp struct {
	// A and B are the two operands (B is K or X).
	A, B uint32
	// Result is the comparison's outcome: the true branch is taken.
	Result bool
}

// Trace runs the program on one packet as Run (or RunWithMetadata, when md
// is not nil) does and records what it did. The result always equals
// Run's.
func (v *VM) Trace(data []byte, wireLen int, md *Metadata) *Trace {
	t := &Trace{}
	prog := v.prog
	var a, x uint32
	var mem [bpfop.MemWords]uint32
	n := uint64(len(data))
	back := 0
	record := func(s Step) {
		if len(t.Steps) < MaxTraceSteps {
			t.Steps = append(t.Steps, s)
		} else {
			t.Elided++
		}
	}
	fail := func(s Step, why string) *Trace {
		record(s)
		t.Result, t.Fault = 0, why
		return t
	}
	pkt := func(off uint64, size int) (uint32, bool) {
		if off+uint64(size) > n {
			return 0, false
		}
		var val uint32
		for i := 0; i < size; i++ {
			val = val<<8 | uint32(data[off+uint64(i)])
		}
		return val, true
	}
	for pc := 0; ; {
		in := prog[pc]
		s := Step{PC: pc, Ins: in}
		next := pc + 1
		switch bpfop.Class(in.Op) {
		case bpfop.ClassRET:
			if bpfop.Rval(in.Op) == bpfop.RvalA {
				t.Result = a
			} else {
				t.Result = in.K
			}
			s.A, s.X = a, x
			record(s)
			return t
		case bpfop.ClassLD, bpfop.ClassLDX:
			val, ld, why := v.traceLoad(in, x, &mem, uint32(wireLen), md, pkt)
			s.Load = ld
			if why != "" {
				s.A, s.X = a, x
				return fail(s, why)
			}
			if bpfop.Class(in.Op) == bpfop.ClassLD {
				a = val
			} else {
				x = val
			}
		case bpfop.ClassST:
			mem[in.K%bpfop.MemWords] = a
		case bpfop.ClassSTX:
			mem[in.K%bpfop.MemWords] = x
		case bpfop.ClassALU:
			b := in.K
			if bpfop.Src(in.Op) == bpfop.SrcX {
				b = x
			}
			switch bpfop.Op(in.Op) {
			case bpfop.OpADD:
				a += b
			case bpfop.OpSUB:
				a -= b
			case bpfop.OpMUL:
				a *= b
			case bpfop.OpDIV, bpfop.OpMOD:
				if b == 0 {
					s.A, s.X = a, x
					return fail(s, "division by zero")
				}
				if bpfop.Op(in.Op) == bpfop.OpDIV {
					a /= b
				} else {
					a %= b
				}
			case bpfop.OpAND:
				a &= b
			case bpfop.OpOR:
				a |= b
			case bpfop.OpXOR:
				a ^= b
			case bpfop.OpLSH, bpfop.OpRSH:
				if bpfop.Src(in.Op) == bpfop.SrcK {
					b &= 31
				}
				if bpfop.Op(in.Op) == bpfop.OpLSH {
					a <<= b
				} else {
					a >>= b
				}
			case bpfop.OpNEG:
				a = -a
			}
		case bpfop.ClassMISC:
			if bpfop.MiscOp(in.Op) == bpfop.MiscTAX {
				x = a
			} else {
				a = x
			}
		case bpfop.ClassJMP:
			if bpfop.Op(in.Op) == bpfop.OpJA {
				next = pc + 1 + int(int32(in.K))
				if next <= pc {
					back++
					if back > len(data)+loopSlack {
						s.A, s.X = a, x
						return fail(s, "too many backward jumps (the program loops)")
					}
				}
				break
			}
			b := in.K
			if bpfop.Src(in.Op) == bpfop.SrcX {
				b = x
			}
			var r bool
			switch bpfop.Op(in.Op) {
			case bpfop.OpJEQ:
				r = a == b
			case bpfop.OpJGT:
				r = a > b
			case bpfop.OpJGE:
				r = a >= b
			case bpfop.OpJSET:
				r = a&b != 0
			}
			s.Cmp = &Cmp{A: a, B: b, Result: r}
			if r {
				next = pc + 1 + int(in.Jt)
			} else {
				next = pc + 1 + int(in.Jf)
			}
		}
		s.A, s.X = a, x
		record(s)
		pc = next
	}
}

// traceLoad performs load instruction in and describes it; why is set
// when the load rejects the packet.
func (v *VM) traceLoad(in bpf.RawInstruction, x uint32, mem *[bpfop.MemWords]uint32, wireLen uint32, md *Metadata,
	pkt func(off uint64, size int) (uint32, bool)) (val uint32, ld *Load, why string) {
	size := 1
	switch bpfop.Size(in.Op) {
	case bpfop.SizeW:
		size = 4
	case bpfop.SizeH:
		size = 2
	}
	switch bpfop.Mode(in.Op) {
	case bpfop.ModeIMM:
		return in.K, nil, ""
	case bpfop.ModeLEN:
		return wireLen, nil, ""
	case bpfop.ModeMEM:
		return mem[in.K%bpfop.MemWords], nil, ""
	case bpfop.ModeABS:
		if isAncillary(in.K) {
			ld = &Load{Offset: uint64(in.K), Size: size, Ancillary: true, Field: in.K - bpfop.SKFAdOff}
			val, ok := ancillary(md, ld.Field)
			if !ok {
				ld.Failed = true
				return 0, ld, "ancillary data the packet does not have"
			}
			ld.Value = val
			return val, ld, ""
		}
		ld = &Load{Offset: uint64(in.K), Size: size}
	case bpfop.ModeIND:
		ld = &Load{Offset: uint64(x) + uint64(in.K), Size: size}
	case bpfop.ModeMSH:
		ld = &Load{Offset: uint64(in.K), Size: 1}
	}
	val, ok := pkt(ld.Offset, ld.Size)
	if !ok {
		ld.Failed = true
		return 0, ld, "load past the captured bytes"
	}
	if bpfop.Mode(in.Op) == bpfop.ModeMSH {
		val = 4 * (val & 0xf)
	}
	ld.Value = val
	return val, ld, ""
}
