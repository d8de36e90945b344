package vm

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/net/bpf"
)

// randomTestChain returns a program shaped as a chain of tests (see test):
// loads of len or of the packet, sometimes masked, each compared with a
// constant, one branch going on and the other to one of a few returns.
func randomTestChain(r *rand.Rand) []bpf.RawInstruction {
	n := 1 + r.IntN(maxTests+1) // sometimes one too many
	nret := 1 + r.IntN(3)
	var steps [][]bpf.RawInstruction
	size := 0
	for range n {
		var s []bpf.RawInstruction
		switch r.IntN(4) {
		case 0:
			s = []bpf.RawInstruction{{Op: codeLdLen}}
		case 1:
			s = []bpf.RawInstruction{{Op: []uint16{codeLdWAbs, codeLdHAbs, codeLdBAbs}[r.IntN(3)], K: randomOffset(r)}, {Op: codeAndK, K: randomConst(r)}}
		default:
			s = []bpf.RawInstruction{{Op: []uint16{codeLdWAbs, codeLdHAbs, codeLdBAbs}[r.IntN(3)], K: randomOffset(r)}}
		}
		k := randomConst(r)
		if r.IntN(2) == 0 {
			k = uint32(r.IntN(4))
		}
		s = append(s, bpf.RawInstruction{Op: []uint16{codeJeqK, codeJgtK, codeJgeK, codeJsetK}[r.IntN(4)], K: k})
		steps = append(steps, s)
		size += len(s)
	}
	var p []bpf.RawInstruction
	for i, s := range steps {
		p = append(p, s...)
		j := &p[len(p)-1]
		pos := len(p) - 1
		toRet := func() uint8 { return uint8(size + r.IntN(nret) - pos - 1) }
		if i == len(steps)-1 {
			j.Jt, j.Jf = toRet(), toRet()
		} else if r.IntN(2) == 0 {
			j.Jt, j.Jf = 0, toRet()
		} else {
			j.Jt, j.Jf = toRet(), 0
		}
	}
	for range nret {
		k := []uint32{0, 262144, randomConst(r)}[r.IntN(3)]
		p = append(p, bpf.RawInstruction{Op: codeRetK, K: k})
	}
	return p
}

// TestTestChains checks programs run as chains of tests against the
// reference interpreter, and that most of them do run as chains.
func TestTestChains(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 4))
	pkts := randomPackets(r, 40)
	chains := 0
	for i := range 20000 {
		prog := randomTestChain(r)
		v := mustNew(t, prog)
		if v.tests != nil {
			chains++
		}
		for j, pk := range pkts {
			for _, md := range []*Metadata{nil, {VLANPresent: true, Protocol: 0x800}} {
				if got, want := v.RunWithMetadata(pk.data, pk.wireLen, md), reference(prog, pk.data, uint32(pk.wireLen), md); got != want {
					t.Fatalf("program %d, packet %d (caplen %d, len %d): VM returns %d, reference %d\n%s", i, j, len(pk.data), pk.wireLen, got, want, listing(prog))
				}
			}
		}
	}
	if chains < 5000 {
		t.Fatalf("only %d of 20000 programs run as test chains", chains)
	}
}

// TestLibpcapTestChains compares programs run as chains of tests with
// libpcap's bpf_filter.
func TestLibpcapTestChains(t *testing.T) {
	bin := buildHarness(t)
	r := rand.New(rand.NewPCG(12, 4))
	progs := randomPrograms(r, 2000, randomTestChain)
	pkts := randomPackets(r, 80)
	valid, want := libpcapRun(t, bin, progs, pkts)
	for i, prog := range progs {
		if !valid[i] {
			t.Fatalf("program %d: libpcap's bpf_validate rejects a generated program:\n%s", i, listing(prog))
		}
		v := mustNew(t, prog)
		for j, pk := range pkts {
			if got := v.Run(pk.data, pk.wireLen); got != want[i][j] {
				t.Fatalf("program %d, packet %d (caplen %d, len %d, % x): VM returns %d, libpcap %d\n%s",
					i, j, len(pk.data), pk.wireLen, pk.data, got, want[i][j], listing(prog))
			}
		}
	}
}
