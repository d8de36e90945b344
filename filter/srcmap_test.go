package filter

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// checkSourceMap fails when an instruction of p has no origin, an origin's
// text is not the expression's text at its range, or the annotated listing
// holds other instructions than Dump(1).
func checkSourceMap(t *testing.T, p *Program, what string) {
	t.Helper()
	for i := range p.Raw {
		os := p.Origins(i)
		if len(os) == 0 {
			t.Errorf("%s: instruction %d %s has no origin", what, i, imageOf(p.Raw[i], i))
		}
		for _, o := range os {
			if o.Start < 0 || o.End > len(p.Expr) || o.Start > o.End || p.Expr[o.Start:o.End] != o.Text {
				t.Errorf("%s: instruction %d: origin %+v is not the expression's text at its range", what, i, o)
			}
			if !o.Whole && strings.TrimSpace(o.Text) == "" {
				t.Errorf("%s: instruction %d: empty primitive origin %+v", what, i, o)
			}
		}
	}
	var insns []string
	for _, line := range strings.SplitAfter(p.Annotated(), "\n") {
		if line != "" && !strings.HasPrefix(line, "      ; ") {
			insns = append(insns, line)
		}
	}
	if got, want := strings.Join(insns, ""), p.Dump(1); got != want {
		t.Errorf("%s: the instructions of the annotated listing are not those of -d:\n%s\nwant\n%s", what, got, want)
	}
}

// TestSourceMapSharedFilters: every instruction of every program of the
// shared public filter set, optimized and not, on each tested link type,
// has at least one origin, and the annotated listing round-trips.
func TestSourceMapSharedFilters(t *testing.T) {
	exprs, err := golden.ReadExprList(filepath.Join(testenv.SharedDir(t), "filters", "public.txt"))
	if err != nil {
		t.Fatalf("read public.txt: %v", err)
	}
	n := 0
	for _, lt := range []pcapio.LinkType{pcapio.LinkTypeEthernet, pcapio.LinkTypeRaw, pcapio.LinkTypeLinuxSLL,
		pcapio.LinkTypeLinuxSLL2, pcapio.LinkTypeNull, pcapio.LinkTypeLoop, pcapio.LinkTypeIEEE802_11} {
		for _, e := range exprs {
			for _, noOpt := range []bool{false, true} {
				p, err := Compile(e, Options{LinkType: lt, NoOptimize: noOpt})
				if err != nil {
					continue
				}
				n++
				checkSourceMap(t, p, lt.String()+" "+e)
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d programs compiled", n)
	}
}

// TestSourceMapOrigins checks where chosen instructions come from.
func TestSourceMapOrigins(t *testing.T) {
	for _, tc := range []struct {
		expr string
		insn string   // an instruction of the -d listing (without its number)
		want []string // the texts of its origins
	}{
		{"tcp port 443", "jeq      #0x1bb           jt 18\tjf 19", []string{"tcp port 443"}},
		{"tcp port 443", "ret      #0", []string{"tcp port 443"}},
		// the optimizer merges the second ethertype load into the first
		{"ip or ip6", "ldh      [12]", []string{"ip", "ip6"}},
		{"ip or ip6", "jeq      #0x86dd          jt 3\tjf 4", []string{"ip6"}},
		{"tcp[13] & 2 != 0 and not host 10.0.0.1", "jset     #0x2             jt 9\tjf 14", []string{"tcp[13] & 2 != 0"}},
		{"tcp[13] & 2 != 0 and not host 10.0.0.1", "ld       [30]", []string{"host 10.0.0.1"}},
		{"vlan 10 and tcp", "and      #0xfff", []string{"vlan 10"}},
	} {
		p, err := Compile(tc.expr, Options{LinkType: pcapio.LinkTypeEthernet})
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		checkSourceMap(t, p, tc.expr)
		found := false
		for i, in := range p.Raw {
			if imageOf(in, i)[6:] != tc.insn {
				continue
			}
			found = true
			var got []string
			for _, o := range p.Origins(i) {
				got = append(got, o.Text)
			}
			if tc.want != nil && strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("%q: %s: origins %q, want %q\n%s", tc.expr, tc.insn, got, tc.want, p.Annotated())
			}
		}
		if !found && tc.want != nil {
			t.Errorf("%q: no instruction %q in\n%s", tc.expr, tc.insn, p.Dump(1))
		}
	}
}
