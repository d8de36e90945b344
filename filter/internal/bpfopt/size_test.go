package bpfopt

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// maxSizeRatio bounds TestSizeAgainstLibpcap's geometric mean: today's
// 0.994 plus a small margin, so that losing an optimization shows here
// (issue 3's goal was 1.10).
const maxSizeRatio = 1.0

// TestSizeAgainstLibpcap optimizes libpcap's unoptimized programs and
// compares the instruction counts with libpcap's optimizer: the geometric
// mean of the ratios must stay within maxSizeRatio (TestSizeBaseline checks
// each program).
func TestSizeAgainstLibpcap(t *testing.T) {
	cases := loadGolden(t)
	var logSum float64
	n, worse, better := 0, 0, 0
	for _, c := range cases {
		if c.opt == nil {
			continue
		}
		got := Optimize(c.unopt)
		if len(got) > len(c.unopt) {
			t.Errorf("%s %q: optimized %d > input %d", c.linkType, c.expr, len(got), len(c.unopt))
		}
		raw, err := Assemble(got)
		if err != nil {
			t.Errorf("%s %q: assemble: %v", c.linkType, c.expr, err)
			continue
		}
		r := float64(len(raw)) / float64(len(c.opt))
		logSum += math.Log(r)
		n++
		switch {
		case len(raw) > len(c.opt):
			worse++
			if testing.Verbose() {
				t.Logf("%s %q: %d vs libpcap %d (unoptimized %d)", c.linkType, c.expr, len(raw), len(c.opt), len(c.unopt))
			}
		case len(raw) < len(c.opt):
			better++
		}
	}
	gm := math.Exp(logSum / float64(n))
	t.Logf("%d programs: geometric mean size ratio vs libpcap -O = %.4f (%d larger, %d smaller)", n, gm, worse, better)
	if gm > maxSizeRatio {
		t.Errorf("geometric mean ratio %.4f > %.2f", gm, maxSizeRatio)
	}
}

// TestRejectsAllAsLibpcap checks that Optimize reduces a program to
// returns of 0 only where libpcap's optimizer does (libpcap then reports
// "expression rejects all packets", and so does the compiler), or where
// libpcap's optimized program returns 0 too on every generated packet: an
// expression libpcap's optimizer does not see through ("-len < 0", an
// unsigned comparison with 0 that always fails) is logged as found by the
// stronger optimizer. Libpcap's optimizer rejecting a program Optimize
// keeps fails.
func TestRejectsAllAsLibpcap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	stronger := 0
	for _, c := range loadGolden(t) {
		opt := Optimize(c.unopt)
		rejects := true
		for _, in := range opt {
			if bpfop.Class(in.Op) == bpfop.ClassRET && (in.Op != bpfop.ClassRET|bpfop.RvalK || in.K != 0) {
				rejects = false
			}
		}
		switch {
		case rejects == (c.opt == nil):
		case rejects:
			g := &packetGen{r: r, probes: append(probesOf(c.unopt), probesOf(c.opt)...)}
			for i := 0; i < 2000; i++ {
				data, wl := g.next()
				if v := interpret(c.opt, data, wl, nil); v != 0 {
					t.Errorf("%s %q: the optimized program rejects all, libpcap's returns %d for packet %x (wire %d)", c.linkType, c.expr, v, data, wl)
					break
				}
			}
			stronger++
			t.Logf("%s %q: the optimized program rejects all; libpcap's optimizer keeps %d instructions that return 0 on every generated packet", c.linkType, c.expr, len(c.opt))
		default:
			t.Errorf("%s %q: libpcap's optimizer rejects all, the optimized program does not (%d instructions)", c.linkType, c.expr, len(opt))
		}
	}
	t.Logf("%d programs rejected as matching nothing by Optimize only", stronger)
}
