package bpfopt

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/size-baseline.tsv with today's instruction counts")

const sizeBaselineFile = "size-baseline.tsv"

// TestSizeBaseline optimizes every unoptimized program of
// the golden store (loadGolden and loadBig) and checks that
// none comes out longer than the count recorded in testdata/size-baseline.tsv.
// A shorter program is logged as an improvement to record with -update,
// which rewrites the baseline. The baseline names the shared list's
// expressions as the golden store does, by hash (goldenCase.stored): the
// project keeps no copy of the shared data.
func TestSizeBaseline(t *testing.T) {
	cases := append(loadGolden(t), loadBig(t)...)
	type key struct{ linkType, expr string }
	now := make(map[key]int, len(cases))
	var sb strings.Builder
	sb.WriteString("# Optimize's instruction count for each program of the golden store (filter/testdata: libpcap-programs.tsv.gz for six link types, libpcap-big.tsv.gz); written by go test -run TestSizeBaseline -update; do not edit\n")
	sb.WriteString("# linktype\texpr\tcount\n")
	for _, c := range cases {
		raw, err := Assemble(Optimize(c.unopt))
		if err != nil {
			t.Fatalf("%s %q: assemble: %v", c.linkType, c.expr, err)
		}
		now[key{c.linkType, c.stored}] = len(raw)
		fmt.Fprintf(&sb, "%s\t%s\t%d\n", c.linkType, c.stored, len(raw))
	}
	path := filepath.Join("testdata", sizeBaselineFile)
	if *update {
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatalf("write size baseline: %v", err)
		}
		t.Logf("wrote %s: %d programs", path, len(cases))
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read size baseline (write it with go test -run TestSizeBaseline -update): %v", err)
	}
	base := make(map[key]int)
	for i, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			t.Fatalf("%s line %d: %d columns, want 3", path, i+1, len(f))
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatalf("%s line %d: count: %v", path, i+1, err)
		}
		base[key{f[0], f[1]}] = n
	}
	var same, shorter int
	for _, c := range cases {
		k := key{c.linkType, c.stored}
		n := now[k]
		want, ok := base[k]
		switch {
		case !ok:
			t.Errorf("%s %q: no baseline (%d instructions now); run go test -run TestSizeBaseline -update", c.linkType, c.expr, n)
		case n > want:
			t.Errorf("%s %q: %d instructions, longer than the baseline's %d", c.linkType, c.expr, n, want)
		case n < want:
			shorter++
			t.Logf("%s %q: %d instructions, shorter than the baseline's %d", c.linkType, c.expr, n, want)
		default:
			same++
		}
	}
	if len(base) != len(now) {
		t.Logf("the baseline has %d programs, the golden files %d: run go test -run TestSizeBaseline -update", len(base), len(now))
	}
	if shorter > 0 {
		t.Logf("%d programs got shorter: record them with go test -run TestSizeBaseline -update", shorter)
	}
	t.Logf("%d programs as long as the baseline, %d shorter", same, shorter)
}
