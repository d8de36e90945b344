// Package bpfopt is the back end of the filter compiler: an optimizer for
// classic BPF programs and an assembler that lays them out with the 8-bit
// conditional jump offsets of the instruction encoding.
//
// # Programs
//
// The compiler's code generator emits a program as a slice of [Insn], the
// classic BPF encoding with wider jump fields: the conditional offsets Jt and
// Jf, and the K of an unconditional BPF_JA, are relative to the next
// instruction and may be of any size. Conditional jumps go forward only. A
// BPF_JA may go backwards (K of 2^31 or more, as libpcap's validator allows by
// wrap-around for the loop of protochain); [Optimize] leaves such programs
// alone, as libpcap does.
//
// # Optimize
//
// [Optimize] rewrites a program into an equivalent, usually much smaller
// one, in rounds over a control-flow graph of basic blocks until nothing
// changes:
//
//   - value numbering of the accumulator, the index register and the 16
//     scratch words (values are hash-consed expressions of packet loads,
//     the wire length, constants and ALU operations): statements that
//     recompute what their target already holds go, constants are folded and
//     propagated, indexed loads with a known index become absolute, jumps
//     with a known outcome become gotos;
//   - jump threading: on an edge where the facts known on every path (the
//     outcomes of earlier comparisons of the same values, with ranges and
//     bit masks, and the upper bounds of loaded values) decide the next
//     block's comparison, and that block's statements neither can fail nor
//     change anything read later, the edge goes straight to the outcome;
//   - dead code elimination with liveness, peepholes (an ALU operation
//     folded into the comparison after it, X+c folded into indexed loads),
//     removal of empty gotos and unreachable blocks;
//   - once nothing else applies, pull-up (libpcap's or_pullup and
//     and_pullup): in a chain of tests that share a target, as an or-list
//     or and-list gives, a later test of the value just compared moves up
//     next to that comparison, past tests that cannot fail, so that the
//     loads of the tests left behind become redundant; then merging of
//     identical blocks.
//
// A second strategy also copies a block without the statements that one
// incoming path makes redundant (so that the copies can merge); it runs when
// the first finds such a block, and the shorter result is returned. The
// result is never longer than the input.
//
// The result returns the same value as the input for every packet, every
// wire length and every value of the Linux ancillary data (absolute loads at
// SKF_AD_OFF + k): stricter than libpcap, whose optimizer may drop a load
// that would have rejected a truncated packet. A load that can fail is
// removed only where it cannot fail (an earlier load reached as far) or where
// every path from it rejects such short packets anyway, with one exception
// that follows libpcap: a load whose value the same block masks away (the
// next use of A is "and #0" or "mul #0", as "net 0.0.0.0/0" compiles)
// goes, so such a test accepts a packet too short for the load, as
// libpcap's optimized program does. Optimize reduces a
// program to returns of 0 exactly where libpcap's optimizer does over the
// shared public filters, which lets the compiler report "expression rejects
// all packets" as libpcap does. Over libpcap's unoptimized programs for those
// filters and six link types, the optimized programs are within 1% of the
// size of libpcap's (geometric mean; see TestSizeAgainstLibpcap); most of
// the programs that stay longer are ones where libpcap reorders tests or
// drops a load in a way that changes the verdict on truncated packets.
// Pull-up does not move a test past a load that could fail (libpcap's
// does), so a port list keeps its first source and destination tests in
// order; the identical tails of the grouped tests merge across protocols,
// and long lists of ports or hosts come out at about half of libpcap's size
// (720 ports: 2196 instructions, libpcap 4092; see TestListsAgainstLibpcap).
//
// # Budget
//
// Optimize's time and memory grow with its input. [OptimizeWithin], which
// the compiler uses with BPF_MAXINSNS, bounds them for a caller that
// refuses long results: inputs longer than 32 times the limit are refused
// at once, programs still longer than 16 times the limit after the first
// rounds are refused then, and the blocks visited over all rounds are
// bounded (a program that fits when the budget runs out is returned as it
// is). Each block keeps at most 512 facts and all blocks together about
// 2^18, so a round is linear in the program's length; the chain walks of
// pull-up are bounded too. 1351 ports (70254 instructions unoptimized)
// still come out at 4096.
//
// # Assemble
//
// [Assemble] validates a program (see [Validate]) and encodes it as
// golang.org/x/net/bpf raw instructions. Where a conditional jump must reach
// further than 255 instructions it is routed through a BPF_JA trampoline (a
// jump chain), placed as far ahead as the jump reaches after an instruction
// that does not fall through, and shared by other far jumps to the same
// target. The layout is deterministic.
//
// # Tests
//
// The project's golden store of libpcap's programs (filter/testdata, read
// through filter/internal/golden and rebuilt by `go generate ./filter`
// where tcpdump is installed) holds libpcap's unoptimized and optimized
// programs (tcpdump -O -ddd and -ddd) of every shared public filter and of
// the filter package's extra expressions, of which these tests take EN10MB,
// RAW, LINUX_SLL, LINUX_SLL2, NULL and LOOP; those of three long or-lists;
// and the size of libpcap's optimized program for lists of up to 722 ports
// or hosts. The tests
// compare verdicts of the optimized programs with the unoptimized ones on
// generated packets (with and without ancillary data), on every packet of
// the shared corpus, and through libpcap's own validator and interpreter
// (the shared pcapmatch -R, built with cc and libpcap), and optimize random
// programs (PKTTAP_RANDOM_PROGRAMS=N for a longer run; FuzzOptimize).
// BenchmarkOptimize reports ns/op next to libpcap's optimizer on the same
// expression, measured in the same run.
package bpfopt
