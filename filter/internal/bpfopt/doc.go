// Package bpfopt is the back end of the filter compiler: an optimizer for
// classic BPF programs and an assembler that lays them out with the 8-bit
// conditional jump offsets of the instruction encoding.
//
// # Programs
//
// The compiler's code generator emits a program as a slice of [Insn], the
// classic BPF encoding with wider jump fields: the conditional offsets Jt and
// Jf, and the K of an unconditional BPF_JA, are relative to the next
// instruction and may be of any (non-negative) size. Jumps go forward only,
// so every program is a directed acyclic graph and always terminates.
//
// # Optimize
//
// [Optimize] rewrites a program into an equivalent, usually much smaller one,
// using the techniques of libpcap's optimizer: a control-flow graph of basic
// blocks, value numbering of the accumulator, the index register and the
// scratch memory (constant folding and propagation, redundant load and dead
// store elimination), jump threading where the outcome of a comparison is
// already known on every path to an edge, merging of identical blocks and
// removal of unreachable code. The result returns the same value as the input
// for every packet, every wire length and every value of the Linux ancillary
// data (loads at SKF_AD_OFF + k), and is never longer than the input.
//
// # Assemble
//
// [Assemble] validates a program and encodes it as
// golang.org/x/net/bpf raw instructions. Where a conditional jump must reach
// further than 255 instructions it is routed through a BPF_JA trampoline
// placed just after it (a jump chain), shared by other far jumps to the same
// target that can reach it. The layout is deterministic.
package bpfopt
