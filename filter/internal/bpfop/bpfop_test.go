package bpfop

import (
	"testing"

	"golang.org/x/net/bpf"
)

// TestAgainstXNet checks the fields against golang.org/x/net/bpf's
// assembler: each instruction's opcode must be the OR of the fields the
// test names, and the field functions must take them back out.
func TestAgainstXNet(t *testing.T) {
	tests := []struct {
		name  string
		insn  bpf.Instruction
		class uint16
		other uint16 // the remaining fields, ORed
	}{
		{"ld #k", bpf.LoadConstant{Dst: bpf.RegA, Val: 1}, ClassLD, SizeW | ModeIMM},
		{"ldx #k", bpf.LoadConstant{Dst: bpf.RegX, Val: 1}, ClassLDX, SizeW | ModeIMM},
		{"ld [k]", bpf.LoadAbsolute{Off: 2, Size: 4}, ClassLD, SizeW | ModeABS},
		{"ldh [k]", bpf.LoadAbsolute{Off: 2, Size: 2}, ClassLD, SizeH | ModeABS},
		{"ldb [k]", bpf.LoadAbsolute{Off: 2, Size: 1}, ClassLD, SizeB | ModeABS},
		{"ldh [x+k]", bpf.LoadIndirect{Off: 2, Size: 2}, ClassLD, SizeH | ModeIND},
		{"ld M[k]", bpf.LoadScratch{Dst: bpf.RegA, N: 3}, ClassLD, SizeW | ModeMEM},
		{"ldx M[k]", bpf.LoadScratch{Dst: bpf.RegX, N: 3}, ClassLDX, SizeW | ModeMEM},
		{"ld #len", bpf.LoadExtension{Num: bpf.ExtLen}, ClassLD, SizeW | ModeLEN},
		{"ldxb 4*([k]&0xf)", bpf.LoadMemShift{Off: 14}, ClassLDX, SizeB | ModeMSH},
		{"st M[k]", bpf.StoreScratch{Src: bpf.RegA, N: 1}, ClassST, 0},
		{"stx M[k]", bpf.StoreScratch{Src: bpf.RegX, N: 1}, ClassSTX, 0},
		{"add #k", bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 1}, ClassALU, OpADD | SrcK},
		{"sub x", bpf.ALUOpX{Op: bpf.ALUOpSub}, ClassALU, OpSUB | SrcX},
		{"mul #k", bpf.ALUOpConstant{Op: bpf.ALUOpMul, Val: 1}, ClassALU, OpMUL | SrcK},
		{"div #k", bpf.ALUOpConstant{Op: bpf.ALUOpDiv, Val: 1}, ClassALU, OpDIV | SrcK},
		{"or #k", bpf.ALUOpConstant{Op: bpf.ALUOpOr, Val: 1}, ClassALU, OpOR | SrcK},
		{"and #k", bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 1}, ClassALU, OpAND | SrcK},
		{"lsh #k", bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 1}, ClassALU, OpLSH | SrcK},
		{"rsh #k", bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 1}, ClassALU, OpRSH | SrcK},
		{"neg", bpf.NegateA{}, ClassALU, OpNEG},
		{"mod x", bpf.ALUOpX{Op: bpf.ALUOpMod}, ClassALU, OpMOD | SrcX},
		{"xor x", bpf.ALUOpX{Op: bpf.ALUOpXor}, ClassALU, OpXOR | SrcX},
		{"ja", bpf.Jump{Skip: 1}, ClassJMP, OpJA},
		{"jeq #k", bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipTrue: 1}, ClassJMP, OpJEQ | SrcK},
		{"jgt x", bpf.JumpIfX{Cond: bpf.JumpGreaterThan, SkipTrue: 1}, ClassJMP, OpJGT | SrcX},
		{"jge #k", bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: 1, SkipTrue: 1}, ClassJMP, OpJGE | SrcK},
		{"jset #k", bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 1, SkipTrue: 1}, ClassJMP, OpJSET | SrcK},
		{"ret #k", bpf.RetConstant{Val: 1}, ClassRET, RvalK},
		{"ret a", bpf.RetA{}, ClassRET, RvalA},
		{"tax", bpf.TAX{}, ClassMISC, MiscTAX},
		{"txa", bpf.TXA{}, ClassMISC, MiscTXA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ri, err := tt.insn.Assemble()
			if err != nil {
				t.Fatalf("assemble: %v", err)
			}
			if want := tt.class | tt.other; ri.Op != want {
				t.Errorf("x/net/bpf opcode %#02x, fields give %#02x", ri.Op, want)
			}
			if got := Class(ri.Op); got != tt.class {
				t.Errorf("Class(%#02x) = %#x, want %#x", ri.Op, got, tt.class)
			}
			var field uint16
			switch tt.class {
			case ClassLD, ClassLDX:
				field = Size(ri.Op) | Mode(ri.Op)
			case ClassALU, ClassJMP:
				field = Op(ri.Op) | Src(ri.Op)
			case ClassRET:
				field = Rval(ri.Op)
			case ClassMISC:
				field = MiscOp(ri.Op)
			default:
				field = ri.Op &^ 0x07
			}
			if field != tt.other {
				t.Errorf("fields of %#02x = %#x, want %#x", ri.Op, field, tt.other)
			}
		})
	}
}

// TestAncillary checks the ancillary offsets against x/net/bpf's
// extensions, which are encoded as loads at SKFAdOff plus the field.
func TestAncillary(t *testing.T) {
	tests := []struct {
		ext bpf.Extension
		off uint32
	}{
		{bpf.ExtProto, SKFAdProtocol},
		{bpf.ExtType, SKFAdPktType},
		{bpf.ExtInterfaceIndex, SKFAdIfIndex},
		{bpf.ExtVLANTag, SKFAdVLANTag},
		{bpf.ExtVLANTagPresent, SKFAdVLANTagPresent},
		{bpf.ExtVLANProto, SKFAdVLANTPID},
	}
	for _, tt := range tests {
		ri, err := bpf.LoadExtension{Num: tt.ext}.Assemble()
		if err != nil {
			t.Fatalf("assemble extension %d: %v", tt.ext, err)
		}
		if ri.K != SKFAdOff+tt.off {
			t.Errorf("extension %d loads at %#x, want SKFAdOff+%d = %#x", tt.ext, ri.K, tt.off, SKFAdOff+tt.off)
		}
		if tt.off >= SKFAdMax {
			t.Errorf("offset %d is beyond SKFAdMax %d", tt.off, SKFAdMax)
		}
	}
}
