package bpfopt

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/internal/testenv"
)

// listCase is a long list of one primitive, joined by "or" or "and", with
// the size of libpcap's optimized program (testdata/libpcap-lists.tsv,
// written by gen_programs.go: libpcap needs minutes to optimize the longest).
type listCase struct {
	term, join string
	n          int
	libpcap    int
}

// expr spells the list out: a %s in term takes the address
// 10.0.i/256.i%256, a %d the number i, for i from 1 to n.
func (c listCase) expr() string {
	parts := make([]string, c.n)
	for i := range parts {
		if strings.Contains(c.term, "%s") {
			parts[i] = fmt.Sprintf(c.term, fmt.Sprintf("10.0.%d.%d", (i+1)/256, (i+1)%256))
		} else {
			parts[i] = fmt.Sprintf(c.term, i+1)
		}
	}
	return strings.Join(parts, " "+c.join+" ")
}

func (c listCase) String() string {
	return fmt.Sprintf("%d×%q joined by %s", c.n, c.term, c.join)
}

// loadLists reads testdata/libpcap-lists.tsv.
func loadLists(t *testing.T) []listCase {
	t.Helper()
	b, err := os.ReadFile("testdata/libpcap-lists.tsv")
	if err != nil {
		t.Fatalf("read list sizes: %v", err)
	}
	var cases []listCase
	for _, line := range strings.Split(string(b), "\n") {
		cols := strings.Split(line, "\t")
		if len(cols) != 5 || strings.HasPrefix(line, "#") {
			continue
		}
		n, err1 := strconv.Atoi(cols[3])
		count, err2 := strconv.Atoi(cols[4])
		if err1 != nil || err2 != nil {
			t.Fatalf("libpcap-lists.tsv line %q: %v %v", line, err1, err2)
		}
		cases = append(cases, listCase{term: cols[1], join: cols[2], n: n, libpcap: count})
	}
	return cases
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
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	prog, err := parseDDD(strings.Join(lines, ","))
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
		if testing.Short() && c.n > 300 {
			continue
		}
		unopt := tcpdumpUnoptimized(t, bin, c.expr())
		opt := Optimize(unopt)
		raw, err := Assemble(opt)
		if err != nil {
			t.Errorf("%v: assemble: %v", c, err)
			continue
		}
		t.Logf("%v: %d instructions (unoptimized %d), libpcap %d: ratio %.3f", c, len(raw), len(unopt), c.libpcap, float64(len(raw))/float64(c.libpcap))
		if float64(len(raw)) > 1.10*float64(c.libpcap) {
			t.Errorf("%v: %d instructions, more than 1.10 × libpcap's %d", c, len(raw), c.libpcap)
		}
		if c.libpcap <= bpfop.MaxInsns && len(raw) > bpfop.MaxInsns {
			t.Errorf("%v: %d instructions, more than %d, where libpcap's %d fit", c, len(raw), bpfop.MaxInsns, c.libpcap)
		}
		asm := FromRaw(raw)
		g := &packetGen{r: r, probes: append(probesOf(unopt), probesOf(opt)...)}
		packets := 3000
		if c.n > 300 {
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
	for _, c := range []listCase{
		{term: "port %d", join: "or", n: 40},
		{term: "host %s", join: "or", n: 100},
		{term: "not port %d", join: "and", n: 40},
		{term: "not host %s", join: "and", n: 100},
		{term: "tcp dst port %d", join: "or", n: 100},
		{term: "ip src host %s", join: "or", n: 200},
	} {
		unopt := tcpdumpUnoptimized(t, tcpdump, c.expr())
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
