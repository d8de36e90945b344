package bpfopt

import (
	"math/rand/v2"
	"testing"
)

// TestVerdictsGolden optimizes each of libpcap's unoptimized programs and
// checks on generated packets (with and without Linux ancillary data) that
// the optimized and assembled program returns what the input returns (but
// for the masked-away loads it drops, see reference).
func TestVerdictsGolden(t *testing.T) {
	cases := loadGolden(t)
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range cases {
		opt := Optimize(c.unopt)
		raw, err := Assemble(opt)
		if err != nil {
			t.Errorf("%s %q: assemble: %v", c.linkType, c.expr, err)
			continue
		}
		asm, ref := FromRaw(raw), reference(c.unopt)
		g := &packetGen{r: r, probes: append(append(probesOf(c.unopt), probesOf(c.opt)...), probesOf(opt)...)}
		for i := 0; i < 400; i++ {
			data, wl := g.next()
			var md *testMeta
			if i%2 == 1 {
				md = &testMeta{seed: uint32(i)}
			}
			want := interpret(ref, data, wl, md)
			if got := interpret(asm, data, wl, md); got != want {
				t.Errorf("%s %q: packet %x (wire %d, ancillary %v): optimized returns %d, input %d\ninput:     %v\noptimized: %v",
					c.linkType, c.expr, data, wl, md != nil, got, want, c.unopt, opt)
				break
			}
		}
	}
}
