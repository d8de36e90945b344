package bpfopt

import (
	"errors"
	"slices"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// chain returns "ldh [12]; jeq #i -> ret #i+1" for i < n, then "ret #0":
// 3n+1 instructions that optimize to 2n+2 (the repeated loads go).
func chain(n int) []Insn {
	var p []Insn
	for i := 0; i < n; i++ {
		p = append(p, Insn{Op: bpfop.ClassLD | bpfop.SizeH | bpfop.ModeABS, K: 12}, Insn{Op: bpfop.ClassJMP | bpfop.OpJEQ, K: uint32(i)})
	}
	p = append(p, Insn{Op: bpfop.ClassRET})
	for i := 0; i < n; i++ {
		p = append(p, Insn{Op: bpfop.ClassRET, K: uint32(i + 1)})
		j := 2*i + 1
		p[j].Jt = 2*n + 1 + i - (j + 1)
	}
	return p
}

// TestOptimizeWithin checks the budgeted optimizer: what fits comes out as
// Optimize makes it, what cannot fit is refused with a *TooLongError, an
// input beyond MaxInputFactor times the limit before any work.
func TestOptimizeWithin(t *testing.T) {
	tests := []struct {
		name   string
		prog   []Insn
		maxLen int
		want   int  // length of the result, when it fits
		final  bool // refused with the optimized length
	}{
		{"fits", chain(1800), bpfop.MaxInsns, 3602, false},
		{"too long once optimized", chain(1800), 3601, 0, true},
		{"input too long", chain(MaxInputFactor * 100), 300, 0, false},
	}
	for _, tt := range tests {
		got, err := OptimizeWithin(tt.prog, tt.maxLen)
		if tt.want > 0 {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if len(got) != tt.want || !slices.Equal(got, Optimize(tt.prog)) {
				t.Errorf("%s: %d instructions, want %d as Optimize gives", tt.name, len(got), tt.want)
			}
			continue
		}
		var tl *TooLongError
		if !errors.As(err, &tl) {
			t.Errorf("%s: %v, want a *TooLongError", tt.name, err)
			continue
		}
		if tl.Final != tt.final || tl.Max != tt.maxLen {
			t.Errorf("%s: %+v, want Final %v and Max %d", tt.name, tl, tt.final, tt.maxLen)
		}
		if !tt.final && tl.Len != len(tt.prog) {
			t.Errorf("%s: refused at %d instructions, want the input's %d", tt.name, tl.Len, len(tt.prog))
		}
	}
	if _, err := OptimizeWithin(chain(1), 0); err == nil {
		t.Error("a limit of 0 is accepted")
	}
}

// TestFactLimit checks that the facts kept per block shrink with the
// program so that their total stays within factBudget, but never below
// minFacts, and that short programs keep maxFacts.
func TestFactLimit(t *testing.T) {
	for _, n := range []int{0, 1, 100, 512, 600, 5000, 100000, 1 << 20} {
		l := factLimit(n)
		if l < minFacts || l > maxFacts {
			t.Errorf("factLimit(%d) = %d, outside [%d, %d]", n, l, minFacts, maxFacts)
		}
		if l > minFacts && n*l > factBudget {
			t.Errorf("factLimit(%d) = %d: %d facts in all, more than %d", n, l, n*l, factBudget)
		}
		if n <= factBudget/maxFacts && l != maxFacts {
			t.Errorf("factLimit(%d) = %d, want %d for a short program", n, l, maxFacts)
		}
	}
}
