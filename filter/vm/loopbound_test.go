package vm

import (
	"testing"

	"golang.org/x/net/bpf"
)

// TestLoopBoundIsExact checks the loop budget where it lies: a packet may
// take len(data)+4096 backward jumps, as the package documentation says,
// and is rejected at the next one. The program counts A up by one per
// backward jump and returns it when it exceeds n.
func TestLoopBoundIsExact(t *testing.T) {
	count := func(n uint32) []bpf.RawInstruction {
		return []bpf.RawInstruction{
			ins(codeLdImm, 0, 0, 0),
			ins(codeAddK, 0, 0, 1),
			ins(codeJgtK, 1, 0, n),
			ins(codeJa, 0, 0, 0xfffffffd), // back to the add
			retA,
		}
	}
	for _, size := range []int{0, 60, 1500} {
		budget := uint32(size + loopSlack)
		data := seq(size)
		tests := []struct {
			jumps uint32
			want  uint32
		}{
			{budget - 1, budget},
			{budget, budget + 1},
			{budget + 1, 0},
		}
		for _, tt := range tests {
			v := mustNew(t, count(tt.jumps))
			if got := v.Run(data, size); got != tt.want {
				t.Errorf("%d-byte packet, %d backward jumps (budget %d): Run = %d, want %d", size, tt.jumps, budget, got, tt.want)
			}
		}
	}
}
