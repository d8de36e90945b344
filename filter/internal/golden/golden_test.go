package golden

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/internal/testenv"
)

func TestParseDDD(t *testing.T) {
	ok := []bpf.RawInstruction{{Op: 40, K: 12}, {Op: 21, Jt: 0, Jf: 1, K: 2048}, {Op: 6, K: 262144}, {Op: 6}}
	tests := []struct {
		in   string
		want []bpf.RawInstruction
		err  string
	}{
		{"4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0", ok, ""},
		{"4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n", ok, ""}, // as tcpdump prints it
		{"", nil, "empty program"},
		{"x,6 0 0 0", nil, "instruction count"},
		{"2,6 0 0 0", nil, "count 2 but 1 instructions"},
		{"1,6 0 0", nil, "3 fields, want 4"},
		{"1,65536 0 0 0", nil, "out of range"},
		{"1,6 256 0 0", nil, "out of range"},
		{"1,6 0 0 4294967296", nil, "out of range"},
	}
	for _, tt := range tests {
		got, err := ParseDDD(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDDD(%q) = %v, want an error containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseDDD(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if s := FormatDDD(got); s != strings.ReplaceAll(strings.TrimSpace(tt.in), "\n", ",") {
			t.Errorf("FormatDDD(ParseDDD(%q)) = %q", tt.in, s)
		}
	}
}

func TestParsePrograms(t *testing.T) {
	in := "# comment\nlinktype\texpr\tunoptimized\toptimized\n" +
		"EN10MB\ttcp and udp\t4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0\tERROR expression rejects all packets\n" +
		"RAW\tarp\tERROR arp not supported\tERROR arp not supported\n" +
		"EN10MB\t" + ExprHash("ip") + "\t1,6 0 0 0\t1,6 0 0 0\n"
	progs, err := parsePrograms(strings.NewReader(in), map[string]string{ExprHash("ip"): "ip"})
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) != 3 || len(progs[0].Unopt) != 4 || progs[0].Opt != nil || progs[0].OptErr != "expression rejects all packets" ||
		progs[1].Unopt != nil || progs[1].UnoptErr != "arp not supported" ||
		progs[2].Expr != "ip" || !progs[2].Shared || progs[2].StoredExpr() != ExprHash("ip") || progs[0].Shared || progs[0].StoredExpr() != "tcp and udp" {
		t.Errorf("parsePrograms = %+v", progs)
	}
	// Without the shared list the hashed row is left out, the others stay.
	own, err := parsePrograms(strings.NewReader(in), nil)
	if err != nil || len(own) != 2 || own[0].Expr != "tcp and udp" || own[1].Expr != "arp" {
		t.Errorf("parsePrograms without the shared list = %+v, %v; want the two rows in plain", own, err)
	}
	for _, bad := range []string{"EN10MB\tip\t4,6 0 0 0\n", "EN10MB\tip\t1,6 0 0 0\t2,6 0 0 0\n", "EN10MB\t" + ExprHash("udp") + "\t1,6 0 0 0\t1,6 0 0 0\n"} {
		if _, err := parsePrograms(strings.NewReader(bad), map[string]string{ExprHash("ip"): "ip"}); err == nil {
			t.Errorf("parsePrograms(%q) accepted a bad row", bad)
		}
	}
}

// TestExprHash checks ExprHash against FNV-1a 64's published test vectors.
func TestExprHash(t *testing.T) {
	for in, want := range map[string]string{"": "fnv64a:cbf29ce484222325", "a": "fnv64a:af63dc4c8601ec8c", "foobar": "fnv64a:85944171f73967e8"} {
		if got := ExprHash(in); got != want {
			t.Errorf("ExprHash(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestStoreKeepsNoSharedText reads the committed store's files as text and
// requires that no cell holds an expression of the shared filters/*.txt
// lists (the shared data is read in place, never copied): those rows are
// kept by ExprHash. The project's own expressions (extra-expressions.txt,
// BenchExprs) are written in the project anyway and stay as they are, even
// where a shared list has one too.
func TestStoreKeepsNoSharedText(t *testing.T) {
	shared := testenv.SharedDir(t)
	lists, err := filepath.Glob(filepath.Join(shared, "filters", "*.txt"))
	if err != nil || len(lists) == 0 {
		t.Fatalf("no shared filters/*.txt lists (%v)", err)
	}
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	own, err := ReadExprList(filepath.Join(dir, ExtraFile))
	if err != nil {
		t.Fatal(err)
	}
	own = append(own, BenchExprs...)
	sharedExprs := map[string]string{}
	for _, l := range lists {
		exprs, err := ReadExprList(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range exprs {
			if !slices.Contains(own, e) {
				sharedExprs[e] = filepath.Base(l)
			}
		}
	}
	for _, name := range []string{ProgramsFile, BigFile, ListsFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		found := 0
		for i, line := range strings.Split(string(b), "\n") {
			for _, cell := range strings.Split(line, "\t") {
				if list, ok := sharedExprs[cell]; ok {
					if found++; found <= 5 {
						t.Errorf("%s line %d: %q of the shared %s in plain text", name, i+1, cell, list)
					}
				}
			}
		}
		if found > 5 {
			t.Errorf("%s: %d cells in all hold an expression of a shared list", name, found)
		}
	}
}

// TestStore reads the committed store without the shared data: every row of
// the project's own expressions has a link type of LinkTypes, each of them
// has a row for every link type, every benchmark expression has an EN10MB
// program, the big programs and the lists are all there.
func TestStore(t *testing.T) {
	progs, err := OwnPrograms()
	if err != nil {
		t.Fatal(err)
	}
	checkLinkTypes(t, progs)
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	extra, err := ReadExprList(filepath.Join(dir, ExtraFile))
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, progs, append(extra, BenchExprs...))
	for _, e := range BenchExprs {
		if p, ok := Find(progs, "EN10MB", e); !ok || p.Opt == nil {
			t.Errorf("no EN10MB program for benchmark expression %q", e)
		}
	}
	big, err := Big()
	if err != nil {
		t.Fatal(err)
	}
	if want := BigExprs(); len(big) != len(want) {
		t.Errorf("%d big programs, want %d", len(big), len(want))
	}
	lists, err := ReadLists()
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != len(Lists) {
		t.Errorf("%d list sizes, want %d", len(lists), len(Lists))
	}
	for i, l := range lists {
		if i < len(Lists) && (l.Term != Lists[i].Term || l.Join != Lists[i].Join || l.N != Lists[i].N || l.Libpcap <= 0) {
			t.Errorf("list %d: %+v, want %v with a size", i, l, Lists[i])
		}
	}
}

// TestStoreShared reads the whole committed store with the shared data:
// every row of the shared list's expressions resolves, and every
// expression of the shared public.txt has a row for every link type.
func TestStoreShared(t *testing.T) {
	shared := testenv.SharedDir(t)
	progs, err := Programs(shared)
	if err != nil {
		t.Fatal(err)
	}
	checkLinkTypes(t, progs)
	public, err := ReadExprList(filepath.Join(shared, PublicList))
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, progs, public)
	own, err := OwnPrograms()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(progs) - len(own); n <= 0 {
		t.Errorf("%d rows with the shared list, %d without: none of the shared list's", len(progs), len(own))
	}
}

// checkLinkTypes requires every row's link type to be one of LinkTypes.
func checkLinkTypes(t *testing.T, progs []Program) {
	t.Helper()
	for _, p := range progs {
		if !slices.Contains(LinkTypes, p.LinkType) {
			t.Fatalf("%s %q: link type not in LinkTypes", p.LinkType, p.Expr)
		}
	}
	if len(progs)%len(LinkTypes) != 0 {
		t.Errorf("%d programs, not a multiple of the %d link types", len(progs), len(LinkTypes))
	}
}

// checkComplete requires a row of progs for every expression of exprs on
// every link type.
func checkComplete(t *testing.T, progs []Program, exprs []string) {
	t.Helper()
	have := make(map[[2]string]bool, len(progs))
	for _, p := range progs {
		have[[2]string{p.LinkType, p.Expr}] = true
	}
	missing := 0
	for _, e := range exprs {
		for _, lt := range LinkTypes {
			if !have[[2]string{lt, e}] {
				if missing++; missing <= 5 {
					t.Errorf("no %s row for %q (regenerate with go generate ./filter)", lt, e)
				}
			}
		}
	}
	if missing > 5 {
		t.Errorf("%d (link type, expression) rows missing in all", missing)
	}
}
