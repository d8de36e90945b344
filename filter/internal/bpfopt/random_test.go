package bpfopt

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// progGen builds random valid programs from a byte source: forward jumps
// only, every path ending in a return, constants and offsets drawn from
// small sets so that comparisons, loads and scratch words collide often.
type progGen struct {
	next  func(n int) int // a number in [0, n)
	small bool            // draw constants and offsets from a tiny set
}

var (
	genOffsets   = []uint32{0, 1, 2, 3, 4, 6, 12, 13, 14, 20, 23, 30, 0xfffff000, 0xfffff004, 0xfffff02c, 0xfffff030}
	genConsts    = []uint32{0, 1, 2, 3, 4, 6, 0x45, 0x800, 0xff, 0xffff, 0xffffffff, 0x80000000, 31, 32}
	genALUOps    = []uint16{bpfop.OpADD, bpfop.OpSUB, bpfop.OpMUL, bpfop.OpDIV, bpfop.OpOR, bpfop.OpAND, bpfop.OpLSH, bpfop.OpRSH, bpfop.OpNEG, bpfop.OpMOD, bpfop.OpXOR}
	genJumpCodes = []uint16{bpfop.OpJEQ, bpfop.OpJGT, bpfop.OpJGE, bpfop.OpJSET}
)

func (g *progGen) konst() uint32 {
	if g.small {
		return uint32(g.next(4))
	}
	return genConsts[g.next(len(genConsts))]
}

func (g *progGen) offset(n int) uint32 {
	if g.small {
		return uint32(g.next(3))
	}
	return genOffsets[g.next(n)]
}

// program returns a random valid program of about n instructions.
func (g *progGen) program(n int) []Insn {
	if n < 2 {
		n = 2
	}
	p := make([]Insn, n)
	for i := 0; i < n-1; i++ {
		p[i] = g.insn(i, n)
	}
	p[n-1] = Insn{Op: bpfop.ClassRET, K: g.konst()}
	if g.next(2) == 0 {
		p[n-1] = Insn{Op: bpfop.ClassRET | bpfop.RvalA}
	}
	return p
}

func (g *progGen) insn(i, n int) Insn {
	sizes := []uint16{bpfop.SizeW, bpfop.SizeH, bpfop.SizeB}
	fwd := func() int { return g.next(min(n-i-1, 12)) }
	switch g.next(16) {
	case 0:
		return Insn{Op: bpfop.ClassLD | bpfop.ModeIMM, K: g.konst()}
	case 1, 2:
		return Insn{Op: bpfop.ClassLD | sizes[g.next(3)] | bpfop.ModeABS, K: g.offset(len(genOffsets))}
	case 3:
		return Insn{Op: bpfop.ClassLD | sizes[g.next(3)] | bpfop.ModeIND, K: g.offset(6)}
	case 4:
		switch g.next(4) {
		case 0:
			return Insn{Op: bpfop.ClassLDX | bpfop.ModeMSH | bpfop.SizeB, K: g.offset(6)}
		case 1:
			return Insn{Op: bpfop.ClassLDX | bpfop.ModeIMM, K: g.konst()}
		case 2:
			return Insn{Op: bpfop.ClassLDX | bpfop.ModeMEM, K: uint32(g.next(4))}
		}
		return Insn{Op: bpfop.ClassLDX | bpfop.ModeLEN}
	case 5:
		if g.next(2) == 0 {
			return Insn{Op: bpfop.ClassLD | bpfop.ModeMEM, K: uint32(g.next(4))}
		}
		return Insn{Op: bpfop.ClassLD | bpfop.ModeLEN}
	case 6:
		if g.next(2) == 0 {
			return Insn{Op: bpfop.ClassST, K: uint32(g.next(4))}
		}
		return Insn{Op: bpfop.ClassSTX, K: uint32(g.next(4))}
	case 7, 8:
		op := genALUOps[g.next(len(genALUOps))]
		if op == bpfop.OpNEG {
			return Insn{Op: bpfop.ClassALU | op}
		}
		if g.next(3) == 0 {
			return Insn{Op: bpfop.ClassALU | op | bpfop.SrcX}
		}
		k := g.konst()
		if (op == bpfop.OpDIV || op == bpfop.OpMOD) && k == 0 {
			k = 2
		}
		if op == bpfop.OpLSH || op == bpfop.OpRSH {
			k %= 32
		}
		return Insn{Op: bpfop.ClassALU | op, K: k}
	case 9:
		if g.next(2) == 0 {
			return Insn{Op: bpfop.ClassMISC | bpfop.MiscTAX}
		}
		return Insn{Op: bpfop.ClassMISC | bpfop.MiscTXA}
	case 10:
		if g.next(6) == 0 {
			return Insn{Op: bpfop.ClassRET | bpfop.RvalA}
		}
		return Insn{Op: bpfop.ClassRET, K: g.konst()}
	case 11:
		return Insn{Op: bpfop.ClassJMP | bpfop.OpJA, K: uint32(fwd())}
	}
	src := uint16(bpfop.SrcK)
	if g.next(4) == 0 {
		src = bpfop.SrcX
	}
	return Insn{Op: bpfop.ClassJMP | genJumpCodes[g.next(4)] | src, K: g.konst(), Jt: fwd(), Jf: fwd()}
}

// checkOptimized compares prog and its optimized, assembled form on
// random packets; it returns a description of the first difference.
func checkOptimized(t *testing.T, prog []Insn, r *rand.Rand, packets int) {
	t.Helper()
	opt := Optimize(prog)
	if len(opt) > len(prog) {
		t.Fatalf("optimized program longer (%d) than its input (%d)\n%v", len(opt), len(prog), prog)
	}
	raw, err := Assemble(opt)
	if err != nil {
		t.Fatalf("assemble optimized: %v\ninput: %v\noptimized: %v", err, prog, opt)
	}
	asm, ref := FromRaw(raw), reference(prog)
	pg := &packetGen{r: r, probes: append(probesOf(prog), probesOf(opt)...)}
	for i := 0; i < packets; i++ {
		var data []byte
		var wl uint32
		if i%2 == 0 {
			data, wl = pg.next()
		} else {
			data = make([]byte, r.IntN(40))
			for j := range data {
				data[j] = byte(r.IntN(256))
				if r.IntN(2) == 0 {
					data[j] = byte(genConsts[r.IntN(len(genConsts))])
				}
			}
			wl = uint32(len(data))
			if r.IntN(2) == 0 {
				wl = genConsts[r.IntN(len(genConsts))]
			}
		}
		var md *testMeta
		if r.IntN(2) == 0 {
			md = &testMeta{seed: r.Uint32()}
		}
		want := interpret(ref, data, wl, md)
		if got := interpret(asm, data, wl, md); got != want {
			t.Fatalf("packet %x wire %d ancillary %v: optimized returns %d, input %d\ninput:     %v\noptimized: %v",
				data, wl, md != nil, got, want, prog, opt)
		}
	}
}

// TestOptimizeRandomPrograms checks Optimize on many random programs: 6000
// by default, PKTTAP_RANDOM_PROGRAMS=N for a longer run (with a seed from
// the clock, logged, when PKTTAP_RANDOM_SEED is not set).
func TestOptimizeRandomPrograms(t *testing.T) {
	n, seed := 6000, uint64(5)
	if v, err := strconv.Atoi(os.Getenv("PKTTAP_RANDOM_PROGRAMS")); err == nil {
		n, seed = v, uint64(time.Now().UnixNano())
	}
	if v, err := strconv.ParseUint(os.Getenv("PKTTAP_RANDOM_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("%d random programs, seed %d", n, seed)
	r := rand.New(rand.NewPCG(seed, 6))
	g := &progGen{next: r.IntN}
	for i := 0; i < n; i++ {
		g.small = i%2 == 1
		checkOptimized(t, g.program(2+r.IntN(40)), r, 60)
	}
}

// FuzzOptimize builds a program from the fuzzer's bytes and checks that
// optimizing it keeps every verdict and never panics.
func FuzzOptimize(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	f.Add([]byte{15, 15, 0, 1, 15, 2, 2, 3, 7, 7, 7, 1, 1, 1, 12, 0, 3, 15, 15, 15})
	f.Add([]byte{4, 0, 3, 3, 8, 9, 8, 3, 13, 2, 13, 1, 1, 0, 0, 0, 6, 0, 5, 0, 14, 14})
	f.Fuzz(func(t *testing.T, data []byte) {
		pos := 0
		next := func(n int) int {
			if pos >= len(data) {
				return 0
			}
			b := int(data[pos])
			pos++
			return b % n
		}
		g := &progGen{next: next, small: next(2) == 0}
		n := 2 + next(48)
		prog := g.program(n)
		checkOptimized(t, prog, rand.New(rand.NewPCG(uint64(len(data)), 7)), 100)
	})
}
