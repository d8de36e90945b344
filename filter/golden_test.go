package filter

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/pcapio"
)

// goldenRow is one line of testdata/libpcap-programs.tsv.
type goldenRow struct {
	linkType string
	expr     string
	prog     []bpf.RawInstruction // nil when libpcap rejects the expression
	err      string
}

func readGolden(t *testing.T, name string) []goldenRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read golden programs (regenerate with go generate): %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("read golden programs %s: %v", name, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("read golden programs %s: %v", name, err)
	}
	var rows []goldenRow
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n")[2:] {
		f := strings.SplitN(l, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("bad golden line %q", l)
		}
		r := goldenRow{linkType: f[0], expr: f[1]}
		if msg, ok := strings.CutPrefix(f[2], "ERROR "); ok {
			r.err = msg
		} else {
			r.prog = parseDDD(t, f[2])
		}
		rows = append(rows, r)
	}
	return rows
}

// parseDDD parses a tcpdump -ddd program joined by commas (count first).
func parseDDD(t *testing.T, s string) []bpf.RawInstruction {
	t.Helper()
	lines := strings.Split(s, ",")
	n, err := strconv.Atoi(lines[0])
	if err != nil || n != len(lines)-1 {
		t.Fatalf("bad -ddd program %q", s)
	}
	prog := make([]bpf.RawInstruction, 0, n)
	for _, l := range lines[1:] {
		var v [4]uint64
		f := strings.Fields(l)
		if len(f) != 4 {
			t.Fatalf("bad -ddd instruction %q", l)
		}
		for i := range f {
			if v[i], err = strconv.ParseUint(f[i], 10, 32); err != nil {
				t.Fatalf("bad -ddd instruction %q: %v", l, err)
			}
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return prog
}

// TestLibpcapPrograms runs libpcap's program and pkttap's for every golden
// (link type, expression) on the same VM over every corpus packet of that
// link type (and a few synthetic ones), and requires the same return value
// for every packet; where libpcap rejects the expression, pkttap must too.
func TestLibpcapPrograms(t *testing.T) {
	files := loadCorpus(t)
	byLT := map[pcapio.LinkType][]corpusPacket{}
	for _, cf := range files {
		byLT[cf.linkType] = append(byLT[cf.linkType], cf.packets...)
	}
	var agree, disagree, strongerOpt, total int
	for _, r := range readGolden(t, "libpcap-programs.tsv.gz") {
		lt, err := pcapio.LinkTypeFromName(r.linkType)
		if err != nil {
			t.Fatalf("golden link type %q: %v", r.linkType, err)
		}
		total++
		p, err := Compile(r.expr, Options{LinkType: lt})
		switch {
		case r.prog == nil && err != nil:
			agree++
			continue
		case r.prog == nil:
			disagree++
			t.Errorf("%s %q: libpcap rejects it (%s), pkttap compiles it", r.linkType, r.expr, r.err)
			continue
		case err != nil && strings.Contains(err.Error(), "expression rejects all packets"):
			strongerOpt++
			continue
		case err != nil:
			disagree++
			t.Errorf("%s %q: libpcap compiles it, pkttap: %v", r.linkType, r.expr, err)
			continue
		}
		theirs, err := vm.New(r.prog)
		if err != nil {
			t.Fatalf("%s %q: libpcap's program does not load: %v", r.linkType, r.expr, err)
		}
		ours := p.Matcher()
		bad := false
		for i, pk := range byLT[lt] {
			if a, b := ours.Run(pk.data, pk.wireLen), theirs.Run(pk.data, pk.wireLen); a != b {
				t.Errorf("%s %q: packet %d of the %s corpus: pkttap returns %d, libpcap's program %d\npkttap:\n%s", r.linkType, r.expr, i, r.linkType, a, b, p)
				bad = true
				break
			}
		}
		if bad {
			disagree++
		} else {
			agree++
		}
	}
	t.Logf("libpcap programs: %d/%d (expression, link type) agree, %d disagree, %d rejected as matching nothing by pkttap's stronger optimizer", agree, total, disagree, strongerOpt)
}

// TestUnoptimizedMatchesLibpcap requires the unoptimized program
// (NoOptimize) to be byte for byte what tcpdump -O -ddd prints, for every
// golden expression and link type, and libpcap's rejections to be
// rejections.
func TestUnoptimizedMatchesLibpcap(t *testing.T) {
	same, total := 0, 0
	for _, r := range readGolden(t, "libpcap-programs-unoptimized.tsv.gz") {
		lt, err := pcapio.LinkTypeFromName(r.linkType)
		if err != nil {
			t.Fatalf("golden link type %q: %v", r.linkType, err)
		}
		total++
		p, err := Compile(r.expr, Options{LinkType: lt, NoOptimize: true})
		if r.prog == nil {
			if err == nil {
				t.Errorf("%s %q: libpcap rejects it (%s), pkttap compiles it", r.linkType, r.expr, r.err)
			} else {
				same++
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: libpcap compiles it, pkttap: %v", r.linkType, r.expr, err)
			continue
		}
		if len(p.Raw) != len(r.prog) {
			t.Errorf("%s %q: %d instructions, libpcap %d\npkttap:\n%s", r.linkType, r.expr, len(p.Raw), len(r.prog), p)
			continue
		}
		ok := true
		for i := range p.Raw {
			if p.Raw[i] != r.prog[i] {
				t.Errorf("%s %q: instruction %d is %v, libpcap %v\npkttap:\n%s", r.linkType, r.expr, i, p.Raw[i], r.prog[i], p)
				ok = false
				break
			}
		}
		if ok {
			same++
		}
	}
	t.Logf("unoptimized programs: %d/%d (expression, link type) identical to libpcap's (or rejected by both)", same, total)
}
