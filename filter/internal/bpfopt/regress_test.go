package bpfopt

import "testing"

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
		if got, want := interpret(opt, tt.data, tt.wireLen, nil), interpret(tt.prog, tt.data, tt.wireLen, nil); got != want {
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
		{"no return", []Insn{{Op: clsLD | modeIMM, K: 1}, {Op: clsLD | modeIMM, K: 1}}},
		{"jump out", []Insn{{Op: clsJMP | jmpJEQ, Jt: 9}, {Op: clsRET, K: 1}}},
		{"loop", []Insn{{Op: clsLD | modeIMM, K: 1}, {Op: clsLD | modeIMM, K: 1}, {Op: clsJMP | jmpJA, K: 0xfffffffe}, {Op: clsRET, K: 1}}},
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
