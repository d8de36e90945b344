package bpfopt

import (
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// longJumpProgram returns a program whose first instruction tests the first
// packet byte against 1 and jumps gap instructions ahead when equal; the gap
// is filled with loads of the byte at 0, and the two ends return different
// values.
func longJumpProgram(gap int) []Insn {
	p := []Insn{
		{Op: bpfop.ClassLD | bpfop.SizeB | bpfop.ModeABS, K: 0},
		{Op: bpfop.ClassJMP | bpfop.OpJEQ, K: 1, Jt: gap, Jf: 0},
	}
	for i := 0; i < gap; i++ {
		p = append(p, Insn{Op: bpfop.ClassLD | bpfop.SizeB | bpfop.ModeABS, K: 0})
	}
	p[len(p)-1] = Insn{Op: bpfop.ClassRET, K: 2}
	return append(p, Insn{Op: bpfop.ClassRET, K: 7})
}

func TestAssembleJumpChains(t *testing.T) {
	tests := []struct {
		gap      int
		wantLen  int // laid-out length
		wantTram bool
	}{
		{gap: 1, wantLen: 4},
		{gap: 255, wantLen: 258},
		{gap: 256, wantLen: 260, wantTram: true},
		{gap: 1000, wantLen: 1004, wantTram: true},
		{gap: 4000, wantLen: 4004, wantTram: true},
	}
	for _, tt := range tests {
		prog := longJumpProgram(tt.gap)
		raw, err := Assemble(prog)
		if err != nil {
			t.Fatalf("gap %d: %v", tt.gap, err)
		}
		if len(raw) != tt.wantLen {
			t.Errorf("gap %d: %d instructions, want %d", tt.gap, len(raw), tt.wantLen)
		}
		if got := len(raw) > len(prog); got != tt.wantTram {
			t.Errorf("gap %d: trampoline inserted = %v, want %v", tt.gap, got, tt.wantTram)
		}
		checkSameVerdicts(t, prog, raw)
	}
}

func TestAssembleManyFarJumps(t *testing.T) {
	// Many conditional jumps over a long body to two shared targets: the
	// trampolines are shared and every jump still lands right.
	var p []Insn
	const n, body = 300, 600
	for i := 0; i < n; i++ {
		p = append(p, Insn{Op: bpfop.ClassLD | bpfop.SizeB | bpfop.ModeABS, K: uint32(i % 8)})
		p = append(p, Insn{Op: bpfop.ClassJMP | bpfop.OpJEQ, K: uint32(i % 5)}) // Jt set below
	}
	for i := 0; i < body; i++ {
		p = append(p, Insn{Op: bpfop.ClassALU | bpfop.OpADD, K: 1})
	}
	p = append(p, Insn{Op: bpfop.ClassRET | bpfop.RvalA}, Insn{Op: bpfop.ClassRET, K: 99})
	// Every jump's true branch goes to the final ret #99.
	for i := range p {
		if p[i].isCondJump() {
			p[i].Jt = len(p) - 1 - (i + 1)
		}
	}
	raw, err := Assemble(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > len(p)+n/2 {
		t.Errorf("%d instructions from %d: trampolines not shared", len(raw), len(p))
	}
	checkSameVerdicts(t, p, raw)
}

// checkSameVerdicts runs the wide program and its encoding on random
// packets and compares.
func checkSameVerdicts(t *testing.T, prog []Insn, raw []bpf.RawInstruction) {
	t.Helper()
	back := FromRaw(raw)
	if err := Validate(back); err != nil {
		t.Fatalf("assembled program invalid: %v", err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		data := make([]byte, r.IntN(12))
		for j := range data {
			data[j] = byte(r.IntN(8))
		}
		if i%3 == 0 && len(data) > 0 {
			data[0] = 1
		}
		w := uint32(len(data) + r.IntN(3))
		if a, b := interpret(prog, data, w, nil), interpret(back, data, w, nil); a != b {
			t.Fatalf("packet %x: wide program returns %d, assembled %d", data, a, b)
		}
	}
}

func TestAssembleErrors(t *testing.T) {
	ret := Insn{Op: bpfop.ClassRET, K: 1}
	tests := []struct {
		name string
		prog []Insn
		want string
	}{
		{"empty", nil, "empty program"},
		{"no return", []Insn{{Op: bpfop.ClassLD | bpfop.ModeIMM, K: 1}}, "past its end"},
		{"jump out", []Insn{{Op: bpfop.ClassJMP | bpfop.OpJEQ, Jt: 5}, ret}, "outside the program"},
		{"ja out", []Insn{{Op: bpfop.ClassJMP | bpfop.OpJA, K: 1}, ret}, "outside the program"},
		{"ja self", []Insn{{Op: bpfop.ClassJMP | bpfop.OpJA, K: 0xffffffff}, ret}, "jumps to itself"},
		{"ja before start", []Insn{{Op: bpfop.ClassJMP | bpfop.OpJA, K: 0xfffffff0}, ret}, "outside the program"},
		{"backward", []Insn{{Op: bpfop.ClassJMP | bpfop.OpJEQ, Jt: -1}, ret}, "backward"},
		{"bad opcode", []Insn{{Op: 0xff}, ret}, "unknown"},
		{"bad ret", []Insn{{Op: bpfop.ClassRET | bpfop.RvalX}}, "unknown return"},
		{"scratch", []Insn{{Op: bpfop.ClassST, K: 16}, ret}, "scratch"},
		{"div zero", []Insn{{Op: bpfop.ClassALU | bpfop.OpDIV, K: 0}, ret}, "division by constant zero"},
		{"mod zero", []Insn{{Op: bpfop.ClassALU | bpfop.OpMOD, K: 0}, ret}, "division by constant zero"},
		{"shift 32", []Insn{{Op: bpfop.ClassALU | bpfop.OpLSH, K: 32}, ret}, "more than 31"},
		{"neg x", []Insn{{Op: bpfop.ClassALU | bpfop.OpNEG | bpfop.SrcX}, ret}, "unknown alu"},
		{"ld dword", []Insn{{Op: bpfop.ClassLD | 0x18 | bpfop.ModeABS}, ret}, "unknown ld size"},
		{"too long", make([]Insn, bpfop.MaxInsns+1), "exceeds the limit"},
	}
	for _, tt := range tests {
		_, err := Assemble(tt.prog)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestAssembleTooLongWithChains(t *testing.T) {
	// Fits before layout, but not once trampolines are added.
	p := longJumpProgram(bpfop.MaxInsns - 3)
	if len(p) != bpfop.MaxInsns {
		t.Fatalf("setup: %d", len(p))
	}
	if _, err := Assemble(p); err == nil || !strings.Contains(err.Error(), "with jump chains") {
		t.Errorf("error %v, want the jump-chain limit", err)
	}
}

func TestAssembleDeterministic(t *testing.T) {
	p := longJumpProgram(700)
	a, _ := Assemble(p)
	b, _ := Assemble(p)
	if len(a) != len(b) {
		t.Fatal("lengths differ")
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("instruction %d differs", i)
		}
	}
}

// TestAssembleLibpcapPrograms checks that libpcap's own programs (all short
// enough for 8-bit offsets; protochain's with a backward BPF_JA) assemble to
// exactly themselves.
func TestAssembleLibpcapPrograms(t *testing.T) {
	for _, c := range loadGolden(t) {
		for _, prog := range [][]Insn{c.unopt, c.opt} {
			if prog == nil {
				continue
			}
			raw, err := Assemble(prog)
			if err != nil {
				t.Errorf("%s %q: %v", c.linkType, c.expr, err)
				continue
			}
			if len(raw) != len(prog) {
				t.Errorf("%s %q: %d instructions assembled as %d", c.linkType, c.expr, len(prog), len(raw))
				continue
			}
			for i, r := range raw {
				in := prog[i]
				if r != (bpf.RawInstruction{Op: in.Op, Jt: uint8(in.Jt), Jf: uint8(in.Jf), K: in.K}) {
					t.Errorf("%s %q: instruction %d assembled as %v, want %v", c.linkType, c.expr, i, r, in)
					break
				}
			}
		}
	}
}
