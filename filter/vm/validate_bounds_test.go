package vm

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// TestValidateBounds checks New's limits at their edges: the longest
// program accepted, branch targets on the last instruction and one past
// it, the first opcode beyond the table of known ones, and the message of
// an error in instruction 0.
func TestValidateBounds(t *testing.T) {
	long := func(n int) []bpf.RawInstruction {
		p := make([]bpf.RawInstruction, n)
		for i := range p[:n-1] {
			p[i] = ins(codeLdImm, 0, 0, uint32(i))
		}
		p[n-1] = retA
		return p
	}
	tests := []struct {
		name string
		prog []bpf.RawInstruction
		err  string // in the error message; empty when the program is valid
	}{
		{"longest program", long(maxProgram), ""},
		{"one instruction too many", long(maxProgram + 1), "vm: program has 65537 instructions, more than the 65536 supported"},
		{"jt to the last instruction", []bpf.RawInstruction{ins(codeJeqK, 1, 0, 0), ins(codeRetK, 0, 0, 1), ins(codeRetK, 0, 0, 2)}, ""},
		{"jf to the last instruction", []bpf.RawInstruction{ins(codeJeqK, 0, 1, 0), ins(codeRetK, 0, 0, 1), ins(codeRetK, 0, 0, 2)}, ""},
		{"jf one past the last instruction", []bpf.RawInstruction{ins(codeJeqK, 0, 2, 0), ins(codeRetK, 0, 0, 1), ins(codeRetK, 0, 0, 2)},
			"vm: instruction 0 (jneq #0,2): false-branch target 3 outside the program (0-2)"},
		// Opcodes are 16 bits; the table of known ones covers 0-255.
		{"opcode 256", []bpf.RawInstruction{ins(0x100, 0, 0, 0), ins(codeRetK, 0, 0, 0)},
			"unknown opcode 0x100"},
		{"error in instruction 0", []bpf.RawInstruction{ins(codeDivK, 0, 0, 0), ins(codeRetK, 0, 0, 0)},
			"vm: instruction 0 (div #0): division by constant zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.prog)
			if tt.err == "" {
				if err != nil {
					t.Errorf("New: %v", err)
				}
				return
			}
			var pe *ProgramError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("New error = %v, want %q", err, tt.err)
			}
		})
	}
}
