package bpfopt

import (
	"math/rand/v2"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// chainProgram returns one to three random chains, one after the other,
// each an or-chain (each test's false branch goes on, its true branch to
// the shared target) or an and-chain (the other way round) of tests of a
// few packet fields, as libpcap's code for long lists looks, with the
// hazards a pull-up must respect: loads that reach further than the
// earlier ones, indexed loads, stores and index-register changes a target
// may read, targets that return A, and a few tests that go elsewhere.
func chainProgram(r *rand.Rand) []Insn {
	fields := []uint32{12, 14, 20, 22, 26, 30}
	var prog []Insn
	type jump struct{ at, link, chain int }
	var jumps []jump
	var starts []int
	chains := 1 + r.IntN(3)
	for c := 0; c < chains; c++ {
		starts = append(starts, len(prog))
		link := r.IntN(2)
		for i, terms := 0, 2+r.IntN(14); i < terms; i++ {
			k := fields[r.IntN(len(fields))]
			switch r.IntN(8) {
			case 0:
				prog = append(prog, Insn{Op: bpfop.ClassLDX | bpfop.SizeB | bpfop.ModeMSH, K: 14}, Insn{Op: bpfop.ClassLD | bpfop.SizeH | bpfop.ModeIND, K: k})
			case 1:
				prog = append(prog, Insn{Op: bpfop.ClassLD | bpfop.SizeH | bpfop.ModeABS, K: k}, Insn{Op: bpfop.ClassST, K: uint32(r.IntN(2))})
			case 2:
				prog = append(prog, Insn{Op: bpfop.ClassLD | bpfop.SizeB | bpfop.ModeABS, K: k}, Insn{Op: bpfop.ClassMISC | bpfop.MiscTAX})
			case 3:
				// A unchanged: the test of the value before it again.
			case 4:
				prog = append(prog, Insn{Op: bpfop.ClassLD | bpfop.SizeW | bpfop.ModeABS, K: k})
			default:
				prog = append(prog, Insn{Op: bpfop.ClassLD | bpfop.SizeH | bpfop.ModeABS, K: k})
			}
			op := bpfop.ClassJMP | []uint16{bpfop.OpJEQ, bpfop.OpJEQ, bpfop.OpJEQ, bpfop.OpJGT, bpfop.OpJSET}[r.IntN(5)]
			jumps = append(jumps, jump{len(prog), link, c})
			prog = append(prog, Insn{Op: op, K: uint32(r.IntN(4))})
		}
	}
	// The end of the last chain, then the shared target, then another
	// target.
	end := len(prog)
	starts = append(starts, end)
	prog = append(prog, Insn{Op: bpfop.ClassRET})
	target := len(prog)
	switch r.IntN(3) {
	case 0:
		prog = append(prog, Insn{Op: bpfop.ClassRET, K: 1})
	case 1:
		prog = append(prog, Insn{Op: bpfop.ClassRET | bpfop.RvalA})
	default:
		prog = append(prog, Insn{Op: bpfop.ClassLD | bpfop.ModeMEM, K: uint32(r.IntN(2))}, Insn{Op: bpfop.ClassALU | bpfop.OpADD | bpfop.SrcX}, Insn{Op: bpfop.ClassRET | bpfop.RvalA})
	}
	other := len(prog)
	prog = append(prog, Insn{Op: bpfop.ClassRET, K: 2})
	for i, j := range jumps {
		next := starts[j.chain+1]
		if i+1 < len(jumps) && jumps[i+1].chain == j.chain {
			next = j.at + 1
		}
		to := target
		if r.IntN(8) == 0 {
			to = other
		}
		off := [2]int{to - (j.at + 1), next - (j.at + 1)} // [0] the target, [1] the chain
		if j.link == 0 {
			off[0], off[1] = off[1], off[0]
		}
		prog[j.at].Jt, prog[j.at].Jf = off[0], off[1]
	}
	return prog
}

// TestPullupRandomChains optimizes random or- and and-chains and compares
// verdicts with the input on generated (often truncated) packets.
func TestPullupRandomChains(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 4000; i++ {
		checkOptimized(t, chainProgram(r), r, 200)
	}
}

// TestPullupKeepsTruncatedVerdicts checks the case where libpcap's
// or_pullup changes a verdict: "ldh [54]; jeq #1; ldh [56]; jeq #1; ldh
// [54]; jeq #2" must not test [54] for 2 before loading [56], or a packet
// of 56 bytes with port 2 at 54 would be accepted; the tests after the
// load of [56] are grouped.
func TestPullupKeepsTruncatedVerdicts(t *testing.T) {
	var prog []Insn
	const ports = 4
	for p := uint32(1); p <= ports; p++ {
		for _, k := range []uint32{54, 56} {
			prog = append(prog, Insn{Op: bpfop.ClassLD | bpfop.SizeH | bpfop.ModeABS, K: k}, Insn{Op: bpfop.ClassJMP | bpfop.OpJEQ, K: p})
		}
	}
	prog = append(prog, Insn{Op: bpfop.ClassRET}, Insn{Op: bpfop.ClassRET, K: 1})
	for j := 1; j < len(prog)-2; j += 2 {
		prog[j].Jt = len(prog) - 1 - (j + 1)
	}
	opt := Optimize(prog)
	loads := 0
	for _, in := range opt {
		if bpfop.Class(in.Op) == bpfop.ClassLD {
			loads++
		}
	}
	// [54] for 1, [56] for 1..4, [54] again for 2..4, two returns.
	if want := 5 + 2*ports; len(opt) != want || loads != 3 {
		t.Errorf("%d instructions with %d loads, want %d with 3: %v", len(opt), loads, want, opt)
	}
	for n := 50; n <= 60; n++ {
		for p := uint16(0); p <= ports+1; p++ {
			for _, at := range []int{54, 56} {
				data := make([]byte, 60)
				data[at], data[at+1] = byte(p>>8), byte(p)
				data = data[:n]
				if got, want := interpret(opt, data, uint32(n), nil), interpret(reference(prog), data, uint32(n), nil); got != want {
					t.Errorf("%d bytes, port %d at %d: optimized returns %d, input %d", n, p, at, got, want)
				}
			}
		}
	}
}
