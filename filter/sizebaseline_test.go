package filter

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

var update = flag.Bool("update", false, "rewrite testdata/size-baseline.tsv with today's instruction counts")

// sizeLinkTypes are the link types the size tests compile for: the
// columns of the shared public.tsv.
var sizeLinkTypes = []string{"EN10MB", "RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP", "IEEE802_11"}

const sizeBaselineFile = "size-baseline.tsv"

// sizeKey names one program of the baseline: the expression list it comes
// from ("public" for the shared public.txt, "extra" for
// testdata/extra-expressions.txt), the link type and the expression.
type sizeKey struct{ set, linkType, expr string }

// stored returns k as the baseline file keeps it: the shared list's
// expressions by golden.ExprHash (as the golden store keeps them), since
// the project does not copy the shared data; its own lists' as they are.
func (k sizeKey) stored() sizeKey {
	if k.set != "public" {
		return k
	}
	k.expr = golden.ExprHash(k.expr)
	return k
}

// programSizes compiles every expression for every size link type and
// returns the instruction counts, "-" where pkttap rejects the expression.
func programSizes(t *testing.T, set string, exprs []string) map[sizeKey]string {
	t.Helper()
	sizes := make(map[sizeKey]string)
	for _, e := range exprs {
		for _, name := range sizeLinkTypes {
			lt, err := pcapio.LinkTypeFromName(name)
			if err != nil {
				t.Fatalf("link type %s: %v", name, err)
			}
			n := "-"
			if p, err := Compile(e, Options{LinkType: lt}); err == nil {
				n = strconv.Itoa(len(p.Raw))
			}
			sizes[sizeKey{set, name, e}] = n
		}
	}
	return sizes
}

// readSizeBaseline reads testdata/size-baseline.tsv, keyed as stored.
func readSizeBaseline(t *testing.T) map[sizeKey]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", sizeBaselineFile))
	if err != nil {
		t.Fatalf("read size baseline (write it with go test -run TestSizeBaseline -update): %v", err)
	}
	base := make(map[sizeKey]string)
	for i, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 4 {
			t.Fatalf("%s line %d: %d columns, want 4: %q", sizeBaselineFile, i+1, len(f), l)
		}
		if _, err := strconv.Atoi(f[3]); err != nil && f[3] != "-" {
			t.Fatalf("%s line %d: count %q is neither a number nor -", sizeBaselineFile, i+1, f[3])
		}
		base[sizeKey{f[0], f[1], f[2]}] = f[3]
	}
	return base
}

// writeSizeBaseline writes sizes, sorted, to testdata/size-baseline.tsv.
func writeSizeBaseline(t *testing.T, sizes map[sizeKey]string) {
	t.Helper()
	keys := make([]sizeKey, 0, len(sizes))
	for k := range sizes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i].stored(), keys[j].stored()
		if a.set != b.set {
			return a.set < b.set
		}
		if a.expr != b.expr {
			return a.expr < b.expr
		}
		return a.linkType < b.linkType
	})
	var sb strings.Builder
	sb.WriteString("# pkttap's optimized instruction count per expression and link type; written by go test -run TestSizeBaseline -update; do not edit\n")
	sb.WriteString("# set\tlinktype\texpr\tcount (- when pkttap rejects the expression)\n")
	for _, k := range keys {
		sk := k.stored()
		fmt.Fprintf(&sb, "%s\t%s\t%s\t%s\n", sk.set, sk.linkType, sk.expr, sizes[k])
	}
	if err := os.WriteFile(filepath.Join("testdata", sizeBaselineFile), []byte(sb.String()), 0o644); err != nil {
		t.Fatalf("write size baseline: %v", err)
	}
}

// TestSizeBaseline checks that no optimized program is longer than the
// count recorded in testdata/size-baseline.tsv, for every expression of
// testdata/extra-expressions.txt and of the shared public.txt (skipped when
// the shared data is absent) on every size link type. A shorter program is
// logged as an improvement to record with -update; -update rewrites the
// baseline and needs the shared data.
func TestSizeBaseline(t *testing.T) {
	now := make(map[sizeKey]string)
	sets := []struct {
		name string
		path func(t *testing.T) string
	}{
		{"extra", func(*testing.T) string { return filepath.Join("testdata", golden.ExtraFile) }},
		{"public", func(t *testing.T) string { return filepath.Join(testenv.SharedDir(t), golden.PublicList) }},
	}
	ran := 0
	for _, s := range sets {
		t.Run(s.name, func(t *testing.T) {
			exprs, err := golden.ReadExprList(s.path(t))
			if err != nil {
				t.Fatalf("read %s expressions: %v", s.name, err)
			}
			sizes := programSizes(t, s.name, exprs)
			for k, n := range sizes {
				now[k] = n
			}
			ran++
			if !*update {
				checkSizeBaseline(t, s.name, readSizeBaseline(t), sizes)
			}
		})
	}
	if *update {
		if ran != len(sets) {
			t.Fatalf("-update needs every expression list (the shared public.txt too); %d of %d were read", ran, len(sets))
		}
		writeSizeBaseline(t, now)
		t.Logf("wrote testdata/%s: %d programs", sizeBaselineFile, len(now))
	}
}

// checkSizeBaseline compares the sizes of one expression list with the
// baseline's entries for it.
func checkSizeBaseline(t *testing.T, set string, base, sizes map[sizeKey]string) {
	t.Helper()
	var shorter, same int
	stored := make(map[sizeKey]bool, len(sizes))
	for k, n := range sizes {
		stored[k.stored()] = true
		b, ok := base[k.stored()]
		switch {
		case !ok:
			t.Errorf("%s %q: no baseline (%s instructions now); run go test -run TestSizeBaseline -update", k.linkType, k.expr, n)
		case b == n:
			same++
		case n == "-":
			t.Errorf("%s %q: pkttap now rejects the expression; the baseline has a %s-instruction program", k.linkType, k.expr, b)
		case b == "-":
			t.Logf("%s %q: now compiles to %s instructions (the baseline rejected it); record with -update", k.linkType, k.expr, n)
		default:
			bn, _ := strconv.Atoi(b)
			nn, _ := strconv.Atoi(n)
			if nn > bn {
				t.Errorf("%s %q: %d instructions, longer than the baseline's %d", k.linkType, k.expr, nn, bn)
			} else {
				shorter++
				t.Logf("%s %q: %d instructions, shorter than the baseline's %d", k.linkType, k.expr, nn, bn)
			}
		}
	}
	for k := range base {
		if k.set == set && !stored[k] {
			t.Logf("%s %q: in the baseline but no longer in the %s list", k.linkType, k.expr, set)
		}
	}
	if shorter > 0 {
		t.Logf("%d programs got shorter: record them with go test -run TestSizeBaseline -update", shorter)
	}
	t.Logf("%s: %d programs as long as the baseline, %d shorter", set, same, shorter)
}
