package bpfopt

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/internal/testenv"
)

// loadLists reads the golden store's lists with the size of libpcap's
// optimized program for each (golden.ReadLists: libpcap needs minutes to
// optimize the longest).
func loadLists(t *testing.T) []golden.List {
	t.Helper()
	lists, err := golden.ReadLists()
	if err != nil {
		t.Fatal(err)
	}
	return lists
}

// tcpdumpUnoptimized returns libpcap's unoptimized program for expr on
// EN10MB (tcpdump -O -ddd).
func tcpdumpUnoptimized(t *testing.T, bin, expr string) []Insn {
	t.Helper()
	cmd := exec.Command(bin, "-O", "-ddd", "-y", "EN10MB", expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tcpdump -O -ddd %.60q: %v: %s", expr, err, stderr.String())
	}
	prog, err := parseDDD(string(out))
	if err != nil {
		t.Fatalf("tcpdump -O -ddd %.60q: %v", expr, err)
	}
	return prog
}

// TestListsAgainstLibpcap optimizes libpcap's unoptimized programs of long
// or- and and-lists of ports and hosts (up to the longest that libpcap's
// optimizer brings within 4096 instructions): each must be within 10% of
// libpcap's optimized size, fit in bpfop.MaxInsns wherever libpcap's does,
// and return what its input returns on generated packets. Lists longer than
// 300 terms are skipped with -short (libpcap's own parser needs seconds for
// them).
func TestListsAgainstLibpcap(t *testing.T) {
	bin := testenv.LookPath(t, "tcpdump", "tcpdump")
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range loadLists(t) {
		if testing.Short() && c.N > 300 {
			continue
		}
		unopt := tcpdumpUnoptimized(t, bin, c.Expr())
		opt := Optimize(unopt)
		raw, err := Assemble(opt)
		if err != nil {
			t.Errorf("%v: assemble: %v", c, err)
			continue
		}
		t.Logf("%v: %d instructions (unoptimized %d), libpcap %d: ratio %.3f", c, len(raw), len(unopt), c.Libpcap, float64(len(raw))/float64(c.Libpcap))
		if float64(len(raw)) > 1.10*float64(c.Libpcap) {
			t.Errorf("%v: %d instructions, more than 1.10 × libpcap's %d", c, len(raw), c.Libpcap)
		}
		if c.Libpcap <= bpfop.MaxInsns && len(raw) > bpfop.MaxInsns {
			t.Errorf("%v: %d instructions, more than %d, where libpcap's %d fit", c, len(raw), bpfop.MaxInsns, c.Libpcap)
		}
		asm := FromRaw(raw)
		g := &packetGen{r: r, probes: append(probesOf(unopt), probesOf(opt)...)}
		packets := 3000
		if c.N > 300 {
			packets = 1000 // the input runs tens of thousands of instructions
		}
		for i := 0; i < packets; i++ {
			data, wl := g.next()
			if want, got := interpret(reference(unopt), data, wl, nil), interpret(asm, data, wl, nil); got != want {
				t.Errorf("%v: packet %x (wire %d): optimized returns %d, input %d", c, data, wl, got, want)
				break
			}
		}
	}
}

// TestListsLibpcapInterpreter runs our optimized programs of lists of
// ports and hosts and libpcap's unoptimized ones (libpcap's optimized
// programs answer differently on some truncated packets) with libpcap's
// validator and interpreter on every shared EN10MB capture: the verdicts
// must agree. The lists are short enough for libpcap's unoptimized
// programs to pass its validator.
func TestListsLibpcapInterpreter(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	bin := buildPcapmatch(t)
	var progs []libpcapPair
	for _, c := range []golden.List{
		{Term: "port %d", Join: "or", N: 40},
		{Term: "host %s", Join: "or", N: 100},
		{Term: "not port %d", Join: "and", N: 40},
		{Term: "not host %s", Join: "and", N: 100},
		{Term: "tcp dst port %d", Join: "or", N: 100},
		{Term: "ip src host %s", Join: "or", N: 200},
	} {
		unopt := tcpdumpUnoptimized(t, tcpdump, c.Expr())
		if len(unopt) > bpfop.MaxInsns {
			t.Fatalf("%v: libpcap's unoptimized program has %d instructions, more than its validator takes", c, len(unopt))
		}
		raw, err := Assemble(Optimize(unopt))
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		progs = append(progs, libpcapPair{"EN10MB", c.String(), FromRaw(raw), unopt})
	}
	compareInLibpcap(t, bin, progs)
}
