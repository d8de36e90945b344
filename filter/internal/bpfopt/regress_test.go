package bpfopt

import (
	"testing"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// TestOptimizeRegressions keeps programs the random tests once found
// mis-optimized, with a packet that showed it.
func TestOptimizeRegressions(t *testing.T) {
	tests := []struct {
		name    string
		prog    []Insn
		data    []byte
		wireLen uint32
	}{
		{
			// Threading skipped a block whose "tax" a later threaded
			// edge relied on: the new path's state is the source's, not
			// the skipped block's.
			name:    "skipped tax",
			prog:    []Insn{{Op: 0x0080}, {Op: 0x0015, K: 0, Jt: 6, Jf: 2}, {Op: 0x0060, K: 1}, {Op: 0x004d, Jt: 4, Jf: 1}, {Op: 0x0007}, {Op: 0x0045, K: 1, Jt: 2, Jf: 4}, {Op: 0x0087}, {Op: 0x0030}, {Op: 0x0002, K: 3}, {Op: 0x0005, K: 8}, {Op: 0x0084}, {Op: 0x0007}, {Op: 0x0035, K: 3, Jt: 9, Jf: 8}, {Op: 0x0034, K: 1}, {Op: 0x0050, K: 2}, {Op: 0x003c}, {Op: 0x0048, K: 2}, {Op: 0x0006}, {Op: 0x0007}, {Op: 0x0000, K: 2}, {Op: 0x0087}, {Op: 0x002d, Jt: 5, Jf: 3}, {Op: 0x0094, K: 2}, {Op: 0x0035, K: 3, Jt: 5}, {Op: 0x0002}, {Op: 0x0061, K: 1}, {Op: 0x0003, K: 2}, {Op: 0x0005}, {Op: 0x0007}, {Op: 0x0048, K: 1}, {Op: 0x0006, K: 1}},
			data:    make([]byte, 67),
			wireLen: 599,
		},
	}
	for _, tt := range tests {
		opt := Optimize(tt.prog)
		if got, want := interpret(opt, tt.data, tt.wireLen, nil), interpret(reference(tt.prog), tt.data, tt.wireLen, nil); got != want {
			t.Errorf("%s: optimized returns %d, input %d\noptimized: %v", tt.name, got, want, opt)
		}
	}
}

// TestOptimizeLeavesAlone checks that programs Optimize must not touch come
// back unchanged: invalid ones (for Assemble to report) and loops.
func TestOptimizeLeavesAlone(t *testing.T) {
	tests := []struct {
		name string
		prog []Insn
	}{
		{"no return", []Insn{{Op: bpfop.ClassLD | bpfop.ModeIMM, K: 1}, {Op: bpfop.ClassLD | bpfop.ModeIMM, K: 1}}},
		{"jump out", []Insn{{Op: bpfop.ClassJMP | bpfop.OpJEQ, Jt: 9}, {Op: bpfop.ClassRET, K: 1}}},
		{"loop", []Insn{{Op: bpfop.ClassLD | bpfop.ModeIMM, K: 1}, {Op: bpfop.ClassLD | bpfop.ModeIMM, K: 1}, {Op: bpfop.ClassJMP | bpfop.OpJA, K: 0xfffffffe}, {Op: bpfop.ClassRET, K: 1}}},
	}
	for _, tt := range tests {
		got := Optimize(tt.prog)
		if len(got) != len(tt.prog) {
			t.Errorf("%s: %d instructions, want the %d of the input", tt.name, len(got), len(tt.prog))
			continue
		}
		for i := range got {
			if got[i] != tt.prog[i] {
				t.Errorf("%s: instruction %d changed to %v", tt.name, i, got[i])
			}
		}
	}
}

// TestOptimizeLongChains checks long chains of comparisons of one value:
// inputs beyond bpfop.MaxInsns are optimized (as libpcap does before its
// size check), and branches that all meet collapse in one pass.
func TestOptimizeLongChains(t *testing.T) {
	ldh12 := Insn{Op: bpfop.ClassLD | bpfop.SizeH | bpfop.ModeABS, K: 12}
	// ldh [12]; jeq #i -> ret #i+1, for i < n; then ret #0: 5401
	// instructions whose repeated loads go, leaving 3602.
	const n = 1800
	var distinct []Insn
	for i := 0; i < n; i++ {
		distinct = append(distinct, ldh12, Insn{Op: bpfop.ClassJMP | bpfop.OpJEQ, K: uint32(i)})
	}
	distinct = append(distinct, Insn{Op: bpfop.ClassRET})
	for i := 0; i < n; i++ {
		distinct = append(distinct, Insn{Op: bpfop.ClassRET, K: uint32(i + 1)})
	}
	for i := 0; i < n; i++ {
		j := 2*i + 1
		distinct[j].Jt = 2*n + 1 + i - (j + 1)
	}
	// The same comparisons, every branch returning 1: only the load (a
	// short packet is still rejected) and ret #1 remain.
	var same []Insn
	for i := 0; i < n; i++ {
		same = append(same, ldh12, Insn{Op: bpfop.ClassJMP | bpfop.OpJEQ, K: uint32(i)})
	}
	same = append(same, Insn{Op: bpfop.ClassRET, K: 1})
	for i := 0; i < n; i++ {
		same[2*i+1].Jt = len(same) - 1 - (2*i + 2)
	}
	tests := []struct {
		name string
		prog []Insn
		want int
	}{
		{"distinct returns", distinct, 2*n + 2},
		{"same return", same, 2},
	}
	for _, tt := range tests {
		opt := Optimize(tt.prog)
		if len(opt) != tt.want {
			t.Errorf("%s: %d instructions from %d, want %d", tt.name, len(opt), len(tt.prog), tt.want)
		}
		if _, err := Assemble(opt); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		for _, v := range []uint16{0, 1, 7, n - 1, n, 0xffff} {
			for _, size := range []int{13, 14, 60} {
				data := make([]byte, 14)
				data[12], data[13] = byte(v>>8), byte(v)
				data = append(data, make([]byte, 60)...)[:size]
				if got, want := interpret(opt, data, uint32(size), nil), interpret(reference(tt.prog), data, uint32(size), nil); got != want {
					t.Errorf("%s: ethertype %#x, %d bytes: optimized returns %d, input %d", tt.name, v, size, got, want)
				}
			}
		}
	}
}

// TestOptimizeRepeatedIndexedTest checks that a comparison repeated after
// an indexed load (as "port 1 or port 1" gives over IPv4) is known on the
// second try: the first load succeeded, so the second cannot fail.
func TestOptimizeRepeatedIndexedTest(t *testing.T) {
	msh := Insn{Op: bpfop.ClassLDX | bpfop.SizeB | bpfop.ModeMSH, K: 14}
	src := Insn{Op: bpfop.ClassLD | bpfop.SizeH | bpfop.ModeIND, K: 14}
	dst := Insn{Op: bpfop.ClassLD | bpfop.SizeH | bpfop.ModeIND, K: 16}
	prog := []Insn{
		msh, src, {Op: bpfop.ClassJMP | bpfop.OpJEQ, K: 1, Jt: 9}, // -> ret 1
		msh, dst, {Op: bpfop.ClassJMP | bpfop.OpJEQ, K: 1, Jt: 6},
		msh, src, {Op: bpfop.ClassJMP | bpfop.OpJEQ, K: 1, Jt: 3},
		msh, dst, {Op: bpfop.ClassJMP | bpfop.OpJEQ, K: 1, Jt: 0, Jf: 1},
		{Op: bpfop.ClassRET, K: 1},
		{Op: bpfop.ClassRET},
	}
	opt := Optimize(prog)
	loads := 0
	for _, in := range opt {
		if bpfop.Class(in.Op) == bpfop.ClassLD && bpfop.Mode(in.Op) == bpfop.ModeIND {
			loads++
		}
	}
	if loads != 2 {
		t.Errorf("%d indexed loads left, want 2: %v", loads, opt)
	}
	for _, n := range []int{14, 15, 34, 35, 36, 37, 40} {
		for _, v := range []byte{0, 1} {
			data := make([]byte, 40)
			data[14] = 0x45
			for i := 34; i < len(data); i++ {
				data[i] = v
			}
			data = data[:n]
			if got, want := interpret(opt, data, uint32(n), nil), interpret(reference(prog), data, uint32(n), nil); got != want {
				t.Errorf("%d bytes of %d: optimized returns %d, input %d", n, v, got, want)
			}
		}
	}
}
