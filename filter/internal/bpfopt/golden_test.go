package bpfopt

import (
	"slices"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/internal/testenv"
)

// goldenLinkTypes are the link types of the golden store this package's
// tests optimize for.
var goldenLinkTypes = []string{"EN10MB", "RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP"}

// goldenCase is one expression compiled by libpcap for one link type.
type goldenCase struct {
	linkType, expr string
	// stored is expr as the project's files keep it (golden.Program's
	// StoredExpr: a hash for an expression of the shared list).
	stored     string
	unopt, opt []Insn // opt nil when libpcap's optimizer rejects all
}

// loadGolden reads the golden store's programs (package
// filter/internal/golden) for goldenLinkTypes, those libpcap compiles; the
// store's rows of the shared list's expressions need the shared data
// (testenv.SharedDir skips the test when it is absent).
func loadGolden(tb testing.TB) []goldenCase {
	tb.Helper()
	progs, err := golden.Programs(testenv.SharedDir(tb))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []goldenCase
	for _, p := range progs {
		if p.Unopt != nil && slices.Contains(goldenLinkTypes, p.LinkType) {
			cases = append(cases, goldenCase{linkType: p.LinkType, expr: p.Expr, stored: p.StoredExpr(), unopt: FromRaw(p.Unopt), opt: fromRawOrNil(p.Opt)})
		}
	}
	return cases
}

// loadBig reads the golden store's long or-lists (golden.BigExprs).
func loadBig(tb testing.TB) []goldenCase {
	tb.Helper()
	progs, err := golden.Big()
	if err != nil {
		tb.Fatal(err)
	}
	cases := make([]goldenCase, len(progs))
	for i, p := range progs {
		if p.Unopt == nil || p.Opt == nil {
			tb.Fatalf("golden big %s %.60q: libpcap rejects it: %s%s", p.LinkType, p.Expr, p.UnoptErr, p.OptErr)
		}
		cases[i] = goldenCase{linkType: p.LinkType, expr: p.Expr, stored: p.StoredExpr(), unopt: FromRaw(p.Unopt), opt: FromRaw(p.Opt)}
	}
	return cases
}

// parseDDD parses tcpdump -ddd output (count first).
func parseDDD(s string) ([]Insn, error) {
	raw, err := golden.ParseDDD(s)
	if err != nil {
		return nil, err
	}
	return FromRaw(raw), nil
}

func fromRawOrNil(raw []bpf.RawInstruction) []Insn {
	if raw == nil {
		return nil
	}
	return FromRaw(raw)
}
