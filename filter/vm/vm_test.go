package vm

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// ins builds a raw instruction.
func ins(code uint16, jt, jf uint8, k uint32) bpf.RawInstruction {
	return bpf.RawInstruction{Op: code, Jt: jt, Jf: jf, K: k}
}

// seq returns the bytes 0, 1, 2, ... n-1.
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func mustNew(t testing.TB, prog []bpf.RawInstruction) *VM {
	t.Helper()
	v, err := New(prog)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

var retA = ins(codeRetA, 0, 0, 0)

func TestRunEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		prog    []bpf.RawInstruction
		data    []byte
		wireLen int
		md      *Metadata
		want    uint32
	}{
		{"ret k", []bpf.RawInstruction{ins(codeRetK, 0, 0, 96)}, nil, 0, nil, 96},
		{"ret a starts zero", []bpf.RawInstruction{retA}, seq(4), 4, nil, 0},
		{"ret a larger than packet", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0xffffffff), retA}, seq(2), 2, nil, 0xffffffff},
		{"empty packet ldb [0]", []bpf.RawInstruction{ins(codeLdBAbs, 0, 0, 0), retA}, nil, 60, nil, 0},
		{"empty packet ret k", []bpf.RawInstruction{ins(codeRetK, 0, 0, 1)}, []byte{}, 0, nil, 1},
		{"empty packet len", []bpf.RawInstruction{ins(codeLdLen, 0, 0, 0), retA}, nil, 1514, nil, 1514},
		{"len is wire length", []bpf.RawInstruction{ins(codeLdLen, 0, 0, 0), retA}, seq(10), 1000, nil, 1000},
		{"ldx len is wire length", []bpf.RawInstruction{ins(codeLdxLen, 0, 0, 0), ins(codeTxa, 0, 0, 0), retA}, seq(10), 77, nil, 77},
		{"ld w last four bytes", []bpf.RawInstruction{ins(codeLdWAbs, 0, 0, 6), retA}, seq(10), 10, nil, 0x06070809},
		{"ld w straddles end", []bpf.RawInstruction{ins(codeLdWAbs, 0, 0, 7), ins(codeRetK, 0, 0, 1)}, seq(10), 100, nil, 0},
		{"ld h straddles end", []bpf.RawInstruction{ins(codeLdHAbs, 0, 0, 9), ins(codeRetK, 0, 0, 1)}, seq(10), 100, nil, 0},
		{"ld h last two bytes", []bpf.RawInstruction{ins(codeLdHAbs, 0, 0, 8), retA}, seq(10), 10, nil, 0x0809},
		{"ld b last byte", []bpf.RawInstruction{ins(codeLdBAbs, 0, 0, 9), retA}, seq(10), 10, nil, 9},
		{"ld b one past end", []bpf.RawInstruction{ins(codeLdBAbs, 0, 0, 10), ins(codeRetK, 0, 0, 1)}, seq(10), 100, nil, 0},
		{"ld w huge offset", []bpf.RawInstruction{ins(codeLdWAbs, 0, 0, 0xfffffffe), ins(codeRetK, 0, 0, 1)}, seq(10), 10, nil, 0},
		{"ld ind", []bpf.RawInstruction{ins(codeLdxImm, 0, 0, 3), ins(codeLdHInd, 0, 0, 4), retA}, seq(10), 10, nil, 0x0708},
		{"ld ind straddles end", []bpf.RawInstruction{ins(codeLdxImm, 0, 0, 3), ins(codeLdWInd, 0, 0, 4), ins(codeRetK, 0, 0, 1)}, seq(10), 10, nil, 0},
		{"ld ind x+k wraps 32 bits", []bpf.RawInstruction{ins(codeLdxImm, 0, 0, 0xfffffff0), ins(codeLdBInd, 0, 0, 0x14), ins(codeRetK, 0, 0, 1)}, seq(64), 64, nil, 0},
		{"ld ind k wraps 32 bits", []bpf.RawInstruction{ins(codeLdxImm, 0, 0, 0x14), ins(codeLdBInd, 0, 0, 0xfffffff0), ins(codeRetK, 0, 0, 1)}, seq(64), 64, nil, 0},
		{"ldx msh", []bpf.RawInstruction{ins(codeLdxMsh, 0, 0, 0), ins(codeTxa, 0, 0, 0), retA}, []byte{0x45}, 1, nil, 20},
		{"ldx msh at last byte", []bpf.RawInstruction{ins(codeLdxMsh, 0, 0, 9), ins(codeTxa, 0, 0, 0), retA}, append(seq(9), 0x4f), 10, nil, 60},
		{"ldx msh past end", []bpf.RawInstruction{ins(codeLdxMsh, 0, 0, 10), ins(codeRetK, 0, 0, 1)}, seq(10), 10, nil, 0},
		{"scratch memory", []bpf.RawInstruction{
			ins(codeLdImm, 0, 0, 7), ins(codeSt, 0, 0, 15), ins(codeLdxImm, 0, 0, 9), ins(codeStx, 0, 0, 0),
			ins(codeLdMem, 0, 0, 0), ins(codeLdxMem, 0, 0, 15), ins(codeAddX, 0, 0, 0), retA}, nil, 0, nil, 16},
		{"scratch starts zero", []bpf.RawInstruction{ins(codeLdMem, 0, 0, 3), retA}, nil, 0, nil, 0},
		{"div by zero x rejects", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 5), ins(codeDivX, 0, 0, 0), ins(codeRetK, 0, 0, 1)}, nil, 0, nil, 0},
		{"mod by zero x rejects", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 5), ins(codeModX, 0, 0, 0), ins(codeRetK, 0, 0, 1)}, nil, 0, nil, 0},
		{"div x", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 17), ins(codeLdxImm, 0, 0, 5), ins(codeDivX, 0, 0, 0), retA}, nil, 0, nil, 3},
		{"mod x", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 17), ins(codeLdxImm, 0, 0, 5), ins(codeModX, 0, 0, 0), retA}, nil, 0, nil, 2},
		{"div k", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 17), ins(codeDivK, 0, 0, 4), retA}, nil, 0, nil, 4},
		{"mod k", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 17), ins(codeModK, 0, 0, 4), retA}, nil, 0, nil, 1},
		{"add k wraps", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0xffffffff), ins(codeAddK, 0, 0, 2), retA}, nil, 0, nil, 1},
		{"sub k wraps", []bpf.RawInstruction{ins(codeSubK, 0, 0, 1), retA}, nil, 0, nil, 0xffffffff},
		{"sub x", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 10), ins(codeLdxImm, 0, 0, 3), ins(codeSubX, 0, 0, 0), retA}, nil, 0, nil, 7},
		{"mul k", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0x10001), ins(codeMulK, 0, 0, 0x10001), retA}, nil, 0, nil, 0x20001},
		{"mul x", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 6), ins(codeLdxImm, 0, 0, 7), ins(codeMulX, 0, 0, 0), retA}, nil, 0, nil, 42},
		{"and k", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0xff0f), ins(codeAndK, 0, 0, 0x0ff0), retA}, nil, 0, nil, 0x0f00},
		{"and x", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0xff0f), ins(codeLdxImm, 0, 0, 0x0ff0), ins(codeAndX, 0, 0, 0), retA}, nil, 0, nil, 0x0f00},
		{"or k", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0xf0), ins(codeOrK, 0, 0, 0x0f), retA}, nil, 0, nil, 0xff},
		{"or x", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0xf0), ins(codeLdxImm, 0, 0, 0x0f), ins(codeOrX, 0, 0, 0), retA}, nil, 0, nil, 0xff},
		{"xor k", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0xff), ins(codeXorK, 0, 0, 0x0f), retA}, nil, 0, nil, 0xf0},
		{"xor x", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0xff), ins(codeLdxImm, 0, 0, 0xf0), ins(codeXorX, 0, 0, 0), retA}, nil, 0, nil, 0x0f},
		{"lsh k", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 1), ins(codeLshK, 0, 0, 31), retA}, nil, 0, nil, 0x80000000},
		{"lsh k 33 uses low 5 bits", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 1), ins(codeLshK, 0, 0, 33), retA}, nil, 0, nil, 2},
		{"rsh k", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0x80000000), ins(codeRshK, 0, 0, 31), retA}, nil, 0, nil, 1},
		{"lsh x", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 3), ins(codeLdxImm, 0, 0, 4), ins(codeLshX, 0, 0, 0), retA}, nil, 0, nil, 48},
		{"lsh x 32 gives 0", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 3), ins(codeLdxImm, 0, 0, 32), ins(codeLshX, 0, 0, 0), retA}, nil, 0, nil, 0},
		{"rsh x", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 48), ins(codeLdxImm, 0, 0, 4), ins(codeRshX, 0, 0, 0), retA}, nil, 0, nil, 3},
		{"rsh x 40 gives 0", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 0xffffffff), ins(codeLdxImm, 0, 0, 40), ins(codeRshX, 0, 0, 0), retA}, nil, 0, nil, 0},
		{"neg", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 5), ins(codeNeg, 0, 0, 0), retA}, nil, 0, nil, 0xfffffffb},
		{"tax txa", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 5), ins(codeTax, 0, 0, 0), ins(codeLdImm, 0, 0, 1), ins(codeAddX, 0, 0, 0), ins(codeTax, 0, 0, 0), ins(codeTxa, 0, 0, 0), retA}, nil, 0, nil, 6},
		{"ja skips", []bpf.RawInstruction{ins(codeJa, 0, 0, 1), ins(codeRetK, 0, 0, 1), ins(codeRetK, 0, 0, 2)}, nil, 0, nil, 2},
		{"ja backward loop", []bpf.RawInstruction{
			ins(codeLdImm, 0, 0, 0), ins(codeAddK, 0, 0, 1), ins(codeJgtK, 1, 0, 3), ins(codeJa, 0, 0, 0xfffffffd), retA}, nil, 0, nil, 4},
		{"endless loop is cut", []bpf.RawInstruction{ins(codeJa, 0, 0, 0xffffffff), ins(codeRetK, 0, 0, 1)}, seq(10), 10, nil, 0},
		{"jeq k", []bpf.RawInstruction{ins(codeLdBAbs, 0, 0, 1), ins(codeJeqK, 0, 1, 1), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 10},
		{"jeq k false", []bpf.RawInstruction{ins(codeLdBAbs, 0, 0, 2), ins(codeJeqK, 0, 1, 1), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 20},
		{"jgt k equal is false", []bpf.RawInstruction{ins(codeLdHAbs, 0, 0, 0), ins(codeJgtK, 0, 1, 1), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 20},
		{"jge k equal is true", []bpf.RawInstruction{ins(codeLdHAbs, 0, 0, 0), ins(codeJgeK, 0, 1, 1), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 10},
		{"jset k", []bpf.RawInstruction{ins(codeLdWAbs, 0, 0, 0), ins(codeJsetK, 0, 1, 0x200), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 10},
		{"jset k no bits", []bpf.RawInstruction{ins(codeLdWAbs, 0, 0, 0), ins(codeJsetK, 0, 1, 0x80), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 20},
		{"jeq x", []bpf.RawInstruction{ins(codeLdxImm, 0, 0, 3), ins(codeLdBAbs, 0, 0, 3), ins(codeJeqX, 0, 1, 0), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 10},
		{"jgt x", []bpf.RawInstruction{ins(codeLdxImm, 0, 0, 2), ins(codeLdBAbs, 0, 0, 3), ins(codeJgtX, 0, 1, 0), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 10},
		{"jge x", []bpf.RawInstruction{ins(codeLdxImm, 0, 0, 4), ins(codeLdBAbs, 0, 0, 3), ins(codeJgeX, 0, 1, 0), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 20},
		{"jset x", []bpf.RawInstruction{ins(codeLdxImm, 0, 0, 6), ins(codeLdBAbs, 0, 0, 3), ins(codeJsetX, 0, 1, 0), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 10},
		{"jump target is a fused op's jump", []bpf.RawInstruction{
			ins(codeLdImm, 0, 0, 7), ins(codeJeqK, 1, 0, 7), ins(codeLdBAbs, 0, 0, 3), ins(codeJeqK, 0, 1, 7), ins(codeRetK, 0, 0, 10), ins(codeRetK, 0, 0, 20)}, seq(4), 4, nil, 10},
		{"ancillary without metadata rejects", []bpf.RawInstruction{ins(codeLdBAbs, 0, 0, bpfop.SKFAdOff+bpfop.SKFAdVLANTagPresent), ins(codeRetK, 0, 0, 1)}, seq(64), 64, nil, 0},
		{"vlan present", []bpf.RawInstruction{ins(codeLdBAbs, 0, 0, bpfop.SKFAdOff+bpfop.SKFAdVLANTagPresent), retA}, seq(64), 64, &Metadata{VLANPresent: true}, 1},
		{"vlan absent", []bpf.RawInstruction{ins(codeLdBAbs, 0, 0, bpfop.SKFAdOff+bpfop.SKFAdVLANTagPresent), ins(codeJeqK, 0, 1, 0), ins(codeRetK, 0, 0, 5), ins(codeRetK, 0, 0, 6)}, seq(64), 64, &Metadata{}, 5},
		{"vlan tci", []bpf.RawInstruction{ins(codeLdHAbs, 0, 0, bpfop.SKFAdOff+bpfop.SKFAdVLANTag), retA}, nil, 0, &Metadata{VLANPresent: true, VLANTCI: 0xe064}, 0xe064},
		{"vlan tpid", []bpf.RawInstruction{ins(codeLdWAbs, 0, 0, bpfop.SKFAdOff+bpfop.SKFAdVLANTPID), retA}, nil, 0, &Metadata{VLANTPID: 0x88a8}, 0x88a8},
		{"protocol", []bpf.RawInstruction{ins(codeLdHAbs, 0, 0, bpfop.SKFAdOff+bpfop.SKFAdProtocol), retA}, nil, 0, &Metadata{Protocol: 0x86dd}, 0x86dd},
		{"pkttype", []bpf.RawInstruction{ins(codeLdBAbs, 0, 0, bpfop.SKFAdOff+bpfop.SKFAdPktType), retA}, nil, 0, &Metadata{PktType: 4}, 4},
		{"ifindex", []bpf.RawInstruction{ins(codeLdWAbs, 0, 0, bpfop.SKFAdOff+bpfop.SKFAdIfIndex), retA}, nil, 0, &Metadata{IfIndex: 42}, 42},
		{"unsupported ancillary rejects", []bpf.RawInstruction{ins(codeLdWAbs, 0, 0, bpfop.SKFAdOff+20), ins(codeRetK, 0, 0, 1)}, nil, 0, &Metadata{}, 0},
		{"ancillary is only absolute", []bpf.RawInstruction{ins(codeLdBInd, 0, 0, bpfop.SKFAdOff+bpfop.SKFAdVLANTagPresent), ins(codeRetK, 0, 0, 1)}, seq(8), 8, &Metadata{VLANPresent: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustNew(t, tt.prog)
			if got := v.RunWithMetadata(tt.data, tt.wireLen, tt.md); got != tt.want {
				t.Errorf("RunWithMetadata = %d (%#x), want %d (%#x)", got, got, tt.want, tt.want)
			}
			if tt.md == nil {
				if got := v.Run(tt.data, tt.wireLen); got != tt.want {
					t.Errorf("Run = %d, want %d", got, tt.want)
				}
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name  string
		prog  []bpf.RawInstruction
		index int
		msg   string
	}{
		{"empty", nil, -1, "empty program"},
		{"no final return", []bpf.RawInstruction{ins(codeLdImm, 0, 0, 1)}, 0, "last instruction must be a return"},
		{"unknown opcode", []bpf.RawInstruction{ins(0xff, 0, 0, 0), ins(codeRetK, 0, 0, 0)}, 0, "unknown opcode 0xff"},
		{"ret x", []bpf.RawInstruction{ins(0x0e, 0, 0, 0)}, 0, "unknown opcode"},
		{"ld dw", []bpf.RawInstruction{ins(0x38, 0, 0, 0), ins(codeRetK, 0, 0, 0)}, 0, "unknown opcode"},
		{"scratch index", []bpf.RawInstruction{ins(codeSt, 0, 0, 16), ins(codeRetK, 0, 0, 0)}, 0, "scratch memory index 16"},
		{"ldx mem index", []bpf.RawInstruction{ins(codeLdxMem, 0, 0, 99), ins(codeRetK, 0, 0, 0)}, 0, "scratch memory index 99"},
		{"div by constant zero", []bpf.RawInstruction{ins(codeDivK, 0, 0, 0), ins(codeRetK, 0, 0, 0)}, 0, "division by constant zero"},
		{"mod by constant zero", []bpf.RawInstruction{ins(codeModK, 0, 0, 0), ins(codeRetK, 0, 0, 0)}, 0, "division by constant zero"},
		{"jt out of range", []bpf.RawInstruction{ins(codeJeqK, 1, 0, 0), ins(codeRetK, 0, 0, 0)}, 0, "true-branch target 2"},
		{"jf out of range", []bpf.RawInstruction{ins(codeJeqK, 0, 5, 0), ins(codeRetK, 0, 0, 0)}, 0, "false-branch target 6"},
		{"ja out of range", []bpf.RawInstruction{ins(codeJa, 0, 0, 1), ins(codeRetK, 0, 0, 0)}, 0, "jump target 2"},
		{"ja before start", []bpf.RawInstruction{ins(codeRetK, 0, 0, 0), ins(codeJa, 0, 0, 0xfffffffd), ins(codeRetK, 0, 0, 0)}, 1, "jump target -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.prog)
			var pe *ProgramError
			if !errors.As(err, &pe) {
				t.Fatalf("New error = %v, want a *ProgramError", err)
			}
			if pe.Index != tt.index || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("New error = %q (index %d), want index %d and %q", err, pe.Index, tt.index, tt.msg)
			}
		})
	}
}

func TestProgramErrorNamesInstruction(t *testing.T) {
	_, err := New([]bpf.RawInstruction{ins(codeLdHAbs, 0, 0, 12), ins(codeJeqK, 9, 0, 0x800), ins(codeRetK, 0, 0, 0)})
	want := "vm: instruction 1 (jeq #2048,9): true-branch target 11 outside the program (0-2)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestNewCopiesProgram(t *testing.T) {
	prog := []bpf.RawInstruction{ins(codeRetK, 0, 0, 1)}
	v := mustNew(t, prog)
	prog[0].K = 2
	if got := v.Run(nil, 0); got != 1 {
		t.Errorf("Run after the caller changed its slice = %d, want 1", got)
	}
	if p := v.Program(); len(p) != 1 || p[0].K != 1 {
		t.Errorf("Program() = %v", p)
	}
}

func TestNewFromInstructions(t *testing.T) {
	v, err := NewFromInstructions([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 1},
		bpf.RetConstant{Val: 65535},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 14)
	pkt[12] = 8
	if got := v.Run(pkt, 60); got != 65535 {
		t.Errorf("Run = %d, want 65535", got)
	}
	if _, err := NewFromInstructions([]bpf.Instruction{bpf.LoadAbsolute{Off: 0, Size: 3}}); err == nil {
		t.Error("NewFromInstructions accepted a 3-byte load")
	}
}

func TestRunAllocatesNothing(t *testing.T) {
	v := mustNew(t, []bpf.RawInstruction{
		ins(codeLdImm, 0, 0, 1), ins(codeSt, 0, 0, 3), ins(codeLdxMsh, 0, 0, 0),
		ins(codeLdHInd, 0, 0, 0), ins(codeLdMem, 0, 0, 3), ins(codeJeqK, 0, 1, 1), retA, ins(codeRetK, 0, 0, 0)})
	pkt := seq(64)
	md := &Metadata{}
	if n := testing.AllocsPerRun(100, func() { v.Run(pkt, 64); v.RunWithMetadata(pkt, 64, md) }); n != 0 {
		t.Errorf("Run allocates %v times per packet, want 0", n)
	}
}

func TestConcurrentRuns(t *testing.T) {
	// ld [x+k] with X from the packet, scratch memory and the accumulator
	// all per call: concurrent runs on different packets must not mix.
	v := mustNew(t, []bpf.RawInstruction{
		ins(codeLdBAbs, 0, 0, 0), ins(codeSt, 0, 0, 0), ins(codeTax, 0, 0, 0),
		ins(codeLdBInd, 0, 0, 1), ins(codeLdxMem, 0, 0, 0), ins(codeAddX, 0, 0, 0), retA})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pkt := make([]byte, 16)
			for i := range 2000 {
				off := byte((g + i) % 14)
				pkt[0] = off
				pkt[off+1] = byte(i)
				if got, want := v.Run(pkt, 16), uint32(off)+uint32(byte(i)); got != want {
					t.Errorf("goroutine %d: Run = %d, want %d", g, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
