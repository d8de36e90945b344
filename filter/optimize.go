package filter

import "github.com/pkttap/pkttap/filter/internal/bpfopt"

// optimize runs the optimizer over a generated program.
func optimize(prog []bpfopt.Insn) []bpfopt.Insn {
	return bpfopt.Optimize(prog)
}
