package vm

import (
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// ProgramError reports an instruction that makes a program invalid.
type ProgramError struct {
	// Index is the 0-based position of the bad instruction, or -1 when the
	// fault is the program as a whole (empty or too long).
	Index int
	// Instruction is the bad instruction (zero when Index is -1).
	Instruction bpf.RawInstruction
	// Msg says what is wrong.
	Msg string
}

// Error returns "vm: instruction N (text): msg".
func (e *ProgramError) Error() string {
	if e.Index < 0 {
		return "vm: " + e.Msg
	}
	return fmt.Sprintf("vm: instruction %d (%s): %s", e.Index, describe(e.Instruction), e.Msg)
}

// describe gives an instruction in bpf_asm syntax, or its raw fields when
// x/net/bpf cannot name it.
func describe(ri bpf.RawInstruction) string {
	ins := ri.Disassemble()
	if s, ok := ins.(fmt.Stringer); ok {
		if _, raw := ins.(bpf.RawInstruction); !raw {
			return s.String()
		}
	}
	return fmt.Sprintf("code %#x jt %d jf %d k %d", ri.Op, ri.Jt, ri.Jf, ri.K)
}

// validate checks prog the way libpcap's bpf_validate does, and also
// rejects opcodes its interpreter does not execute.
func validate(prog []bpf.RawInstruction) error {
	n := len(prog)
	if n == 0 {
		return &ProgramError{Index: -1, Msg: "empty program: need at least one instruction ending in a return"}
	}
	if n > maxProgram {
		return &ProgramError{Index: -1, Msg: fmt.Sprintf("program has %d instructions, more than the %d supported", n, maxProgram)}
	}
	bad := func(i int, format string, args ...any) error {
		return &ProgramError{Index: i, Instruction: prog[i], Msg: fmt.Sprintf(format, args...)}
	}
	for i, ri := range prog {
		if !known(ri.Op) {
			return bad(i, "unknown opcode %#x", ri.Op)
		}
		switch ri.Op {
		case codeLdMem, codeLdxMem, codeSt, codeStx:
			if ri.K >= bpfop.MemWords {
				return bad(i, "scratch memory index %d out of range 0-%d", ri.K, bpfop.MemWords-1)
			}
		case codeDivK, codeModK:
			if ri.K == 0 {
				return bad(i, "division by constant zero")
			}
		case codeJa:
			// Offsets are signed: libpcap compiles protochain with a
			// backward jump. uint32 wrap-around is intended here, as in
			// bpf_validate.
			if t := uint32(i+1) + ri.K; t >= uint32(n) {
				return bad(i, "jump target %d outside the program (0-%d)", int32(t), n-1)
			}
		}
		if bpfop.Class(ri.Op) == bpfop.ClassJMP && ri.Op != codeJa {
			if i+1+int(ri.Jt) >= n {
				return bad(i, "true-branch target %d outside the program (0-%d)", i+1+int(ri.Jt), n-1)
			}
			if i+1+int(ri.Jf) >= n {
				return bad(i, "false-branch target %d outside the program (0-%d)", i+1+int(ri.Jf), n-1)
			}
		}
	}
	if last := prog[n-1].Op; last != codeRetK && last != codeRetA {
		return bad(n-1, "the last instruction must be a return")
	}
	return nil
}
