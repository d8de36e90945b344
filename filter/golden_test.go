package filter

import (
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// readGolden reads the golden store of libpcap's programs (package
// filter/internal/golden), its rows of the shared list's expressions
// resolved with the shared data (skipping the test when it is absent).
func readGolden(t *testing.T) []golden.Program {
	t.Helper()
	progs, err := golden.Programs(testenv.SharedDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return progs
}

// parseDDD parses a tcpdump -ddd program joined by commas (count first).
func parseDDD(t *testing.T, s string) []bpf.RawInstruction {
	t.Helper()
	prog, err := golden.ParseDDD(s)
	if err != nil {
		t.Fatalf("bad -ddd program %.60q: %v", s, err)
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
	for _, r := range readGolden(t) {
		lt, err := pcapio.LinkTypeFromName(r.LinkType)
		if err != nil {
			t.Fatalf("golden link type %q: %v", r.LinkType, err)
		}
		total++
		p, err := Compile(r.Expr, Options{LinkType: lt})
		switch {
		case r.Opt == nil && err != nil:
			agree++
			continue
		case r.Opt == nil:
			disagree++
			t.Errorf("%s %q: libpcap rejects it (%s), pkttap compiles it", r.LinkType, r.Expr, r.OptErr)
			continue
		case err != nil && strings.Contains(err.Error(), "expression rejects all packets"):
			strongerOpt++
			continue
		case err != nil:
			disagree++
			t.Errorf("%s %q: libpcap compiles it, pkttap: %v", r.LinkType, r.Expr, err)
			continue
		}
		theirs, err := vm.New(r.Opt)
		if err != nil {
			t.Fatalf("%s %q: libpcap's program does not load: %v", r.LinkType, r.Expr, err)
		}
		ours := p.Matcher()
		bad := false
		for i, pk := range byLT[lt] {
			if a, b := ours.Run(pk.data, pk.wireLen), theirs.Run(pk.data, pk.wireLen); a != b {
				t.Errorf("%s %q: packet %d of the %s corpus: pkttap returns %d, libpcap's program %d\npkttap:\n%s", r.LinkType, r.Expr, i, r.LinkType, a, b, p)
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
	for _, r := range readGolden(t) {
		lt, err := pcapio.LinkTypeFromName(r.LinkType)
		if err != nil {
			t.Fatalf("golden link type %q: %v", r.LinkType, err)
		}
		total++
		p, err := Compile(r.Expr, Options{LinkType: lt, NoOptimize: true})
		if r.Unopt == nil {
			if err == nil {
				t.Errorf("%s %q: libpcap rejects it (%s), pkttap compiles it", r.LinkType, r.Expr, r.UnoptErr)
			} else {
				same++
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: libpcap compiles it, pkttap: %v", r.LinkType, r.Expr, err)
			continue
		}
		if len(p.Raw) != len(r.Unopt) {
			t.Errorf("%s %q: %d instructions, libpcap %d\npkttap:\n%s", r.LinkType, r.Expr, len(p.Raw), len(r.Unopt), p)
			continue
		}
		ok := true
		for i := range p.Raw {
			if p.Raw[i] != r.Unopt[i] {
				t.Errorf("%s %q: instruction %d is %v, libpcap %v\npkttap:\n%s", r.LinkType, r.Expr, i, p.Raw[i], r.Unopt[i], p)
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
