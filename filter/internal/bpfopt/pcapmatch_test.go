package bpfopt

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// buildPcapmatch compiles the shared C harness with libpcap into a
// temporary directory.
func buildPcapmatch(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testenv.SharedDir(t), "tools", "pcapmatch.c")
	if _, err := os.Stat(src); err != nil {
		testenv.Missing(t, "corpus", "tools/pcapmatch.c: "+err.Error())
	}
	return testenv.BuildWithLibpcap(t, src)
}

// dddLine formats a program as tcpdump -ddd joined by ','.
func dddLine(prog []Insn) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", len(prog))
	for _, in := range prog {
		fmt.Fprintf(&b, ",%d %d %d %d", in.Op, in.Jt, in.Jf, in.K)
	}
	return b.String()
}

// TestLibpcapInterpreter hands our optimized programs and libpcap's to
// libpcap itself (bpf_validate and bpf_filter through the shared pcapmatch
// -R) on every shared capture of their link type: ours must pass libpcap's
// validator and match libpcap's verdicts (count, hash of matching packets,
// return values).
func TestLibpcapInterpreter(t *testing.T) {
	bin := buildPcapmatch(t)
	var progs []libpcapPair
	for _, c := range loadGolden(t) {
		if c.opt == nil {
			continue
		}
		raw, err := Assemble(Optimize(c.unopt))
		if err != nil {
			t.Fatalf("%s %q: %v", c.linkType, c.expr, err)
		}
		progs = append(progs, libpcapPair{c.linkType, c.expr, FromRaw(raw), c.opt})
	}
	compareInLibpcap(t, bin, progs)
}

// libpcapPair is our program and the one whose verdicts it must match.
type libpcapPair struct {
	linkType, expr string
	ours, ref      []Insn
}

// compareInLibpcap runs each pair's programs with pcapmatch -R on every
// shared capture of its link type and reports where the verdicts (count,
// hash of matching packets, return values) differ.
func compareInLibpcap(t *testing.T, bin string, progs []libpcapPair) {
	t.Helper()
	files := corpusFiles(t)
	dir := t.TempDir()
	byLT := make(map[string][2]*strings.Builder)
	for _, p := range progs {
		pf, ok := byLT[p.linkType]
		if !ok {
			pf = [2]*strings.Builder{{}, {}}
			byLT[p.linkType] = pf
		}
		fmt.Fprintf(pf[0], "%s\t%s\n", p.expr, dddLine(p.ours))
		fmt.Fprintf(pf[1], "%s\t%s\n", p.expr, dddLine(p.ref))
	}
	paths := make(map[string][2]string)
	for lt, pf := range byLT {
		var p [2]string
		for i, who := range []string{"ours", "ref"} {
			p[i] = filepath.Join(dir, lt+"."+who+".tsv")
			if err := os.WriteFile(p[i], []byte(pf[i].String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		paths[lt] = p
	}
	compared := 0
	for _, f := range files {
		p, ok := paths[f.linkType]
		if !ok {
			continue
		}
		var outs [2][]string
		for i := range p {
			out, err := exec.Command(bin, "-R", p[i], f.path).Output()
			if err != nil {
				t.Fatalf("pcapmatch -R %s %s: %v", filepath.Base(p[i]), f.name, err)
			}
			outs[i] = strings.Split(strings.TrimSpace(string(out)), "\n")
		}
		if len(outs[0]) != len(outs[1]) {
			t.Fatalf("%s: %d result lines for ours, %d for the reference", f.name, len(outs[0]), len(outs[1]))
		}
		for i := range outs[0] {
			ours, ref := strings.Split(outs[0][i], "\t"), strings.Split(outs[1][i], "\t")
			if len(ours) < 5 || len(ref) < 5 {
				t.Errorf("%s: ours %q, reference %q", f.name, outs[0][i], outs[1][i])
				continue
			}
			// EXPR COUNT HASH NINSNS RETVALS: all but NINSNS must agree.
			if ours[0] != ref[0] || ours[1] != ref[1] || ours[2] != ref[2] || ours[4] != ref[4] {
				t.Errorf("%s %s: ours %q, reference %q", f.name, f.linkType, outs[0][i], outs[1][i])
			}
			compared++
		}
	}
	t.Logf("%d (expression, capture) results compared with libpcap's interpreter", compared)
}
