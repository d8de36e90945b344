// Package golden reads the project's one store of libpcap's compiled
// programs, kept in filter/testdata and written by filter/gen_golden.go
// (go generate ./filter) from tcpdump: the tests of filter, filter/vm and
// filter/internal/bpfopt all read it here, so each program is stored once.
//
// The store has three files:
//
//   - libpcap-programs.tsv.gz: for every expression of the shared
//     filters/public.txt, of filter/testdata/extra-expressions.txt and of
//     BenchExprs, and every link type of LinkTypes, libpcap's unoptimized
//     program (tcpdump -O -ddd -y LINKTYPE EXPR) and its optimized one
//     (tcpdump -ddd -y LINKTYPE EXPR), or tcpdump's error for either;
//   - libpcap-big.tsv.gz: the same for BigExprs (EN10MB only), programs of
//     thousands of instructions;
//   - libpcap-lists.tsv: the size of libpcap's optimized program for each of
//     Lists (libpcap needs minutes to optimize the longest).
//
// A program is stored as tcpdump -ddd prints it with its lines joined by
// ',' (the instruction count first); an error as "ERROR " and tcpdump's
// message. The project keeps no copy of the shared data: a row of an
// expression of the shared public.txt holds ExprHash of it instead of its
// text, and Programs resolves those rows by reading the shared list in
// place; the rows of the project's own expressions (extra-expressions.txt,
// BenchExprs) hold their text and read without it (OwnPrograms). The
// package is for tests: it is internal to filter and has no dependency on
// the packages it helps test.
package golden

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// File names of the store, in Dir.
const (
	ProgramsFile = "libpcap-programs.tsv.gz"
	BigFile      = "libpcap-big.tsv.gz"
	ListsFile    = "libpcap-lists.tsv"
	// ExtraFile lists the expressions beyond the shared public.txt.
	ExtraFile = "extra-expressions.txt"
	// PublicList is the shared list of expressions, in the shared data
	// folder (testenv.SharedDir).
	PublicList = "filters/public.txt"
)

// hashPrefix starts the text ExprHash gives.
const hashPrefix = "fnv64a:"

// ExprHash is how the project's files name an expression of a shared list
// without copying it: "fnv64a:" and the 16 hex digits of the FNV-1a 64 hash
// of the expression's text.
func ExprHash(expr string) string {
	h := fnv.New64a()
	h.Write([]byte(expr))
	return fmt.Sprintf("%s%016x", hashPrefix, h.Sum64())
}

// LinkTypes are the link types the store holds programs for, by
// pcapio's names.
var LinkTypes = []string{"EN10MB", "RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP", "IPV4", "IPV6", "IEEE802_11", "IEEE802_11_RADIO", "PPP", "PPP_SERIAL", "C_HDLC", "SLIP", "PPI", "ARCNET_LINUX", "FRELAY"}

// BenchExprs are the filters issue 4 names for the speed comparison of
// filter/vm's benchmarks; their EN10MB programs are in ProgramsFile.
var BenchExprs = []string{
	"tcp port 443",
	"host 10.1.2.3",
	"udp and not port 53",
	"tcp[tcpflags] & tcp-syn != 0",
	"vlan and tcp",
	"ip6 and tcp dst port 80",
	"net 10.0.0.0/8 and (port 80 or port 443)",
	"len > 1200",
}

// Program is one expression compiled by libpcap for one link type.
type Program struct {
	LinkType string // pcapio's name of the link type
	Expr     string
	// Shared tells that Expr comes from the shared public.txt: the store
	// keeps ExprHash(Expr) for it (StoredExpr).
	Shared bool
	// Unopt is libpcap's unoptimized program (tcpdump -O -ddd), nil when
	// libpcap rejects the expression; UnoptErr is then tcpdump's message.
	Unopt    []bpf.RawInstruction
	UnoptErr string
	// Opt is libpcap's optimized program (tcpdump -ddd), nil when libpcap
	// rejects the expression or its optimizer finds it matches nothing
	// ("expression rejects all packets"); OptErr is then tcpdump's message.
	Opt    []bpf.RawInstruction
	OptErr string
}

// Dir returns filter/testdata, found from the working directory (a test's
// is its package's folder) as the folder "filter/testdata" beside the
// nearest go.mod above it.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("golden: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "filter", "testdata"), nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("golden: no go.mod above %s", wd)
		}
	}
}

// StoredExpr returns the expression as the project's files keep it:
// ExprHash(p.Expr) for an expression of the shared list, else p.Expr.
func (p Program) StoredExpr() string {
	if p.Shared {
		return ExprHash(p.Expr)
	}
	return p.Expr
}

// Programs reads every row of ProgramsFile. Those of the shared list's
// expressions, kept as ExprHash, take their text from PublicList in the
// shared data folder shared (tests pass testenv.SharedDir, which skips them
// when the folder is absent); a hash no expression of the list has is an
// error (the store needs regenerating).
func Programs(shared string) ([]Program, error) {
	exprs, err := ReadExprList(filepath.Join(shared, PublicList))
	if err != nil {
		return nil, fmt.Errorf("golden programs: the shared list: %w", err)
	}
	byHash := make(map[string]string, len(exprs))
	for _, e := range exprs {
		byHash[ExprHash(e)] = e
	}
	return readPrograms(ProgramsFile, byHash)
}

// OwnPrograms reads the rows of ProgramsFile of the project's own
// expressions (extra-expressions.txt, BenchExprs), leaving out those of the
// shared list: it needs no shared data.
func OwnPrograms() ([]Program, error) { return readPrograms(ProgramsFile, nil) }

// Big reads BigFile.
func Big() ([]Program, error) { return readPrograms(BigFile, nil) }

// Find returns the program of expr for linkType in progs.
func Find(progs []Program, linkType, expr string) (Program, bool) {
	for _, p := range progs {
		if p.LinkType == linkType && p.Expr == expr {
			return p, true
		}
	}
	return Program{}, false
}

// readPrograms reads the store file name, resolving the rows kept by hash
// with byHash, or leaving them out when byHash is nil.
func readPrograms(name string, byHash map[string]string) ([]Program, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("golden programs (regenerate with go generate ./filter): %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("golden programs %s: %w", name, err)
	}
	progs, err := parsePrograms(zr, byHash)
	if err != nil {
		return nil, fmt.Errorf("golden programs %s: %w", name, err)
	}
	return progs, nil
}

// parsePrograms reads the rows "linktype expr unoptimized optimized",
// skipping comments and the header line. An expr kept as ExprHash is
// looked up in byHash, or its row left out when byHash is nil.
func parsePrograms(r io.Reader, byHash map[string]string) ([]Program, error) {
	var progs []Program
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<24)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "linktype\t") {
			continue
		}
		cols := strings.Split(l, "\t")
		if len(cols) != 4 {
			return nil, fmt.Errorf("line %d: %d columns, want 4", line, len(cols))
		}
		p := Program{LinkType: cols[0], Expr: cols[1]}
		if strings.HasPrefix(p.Expr, hashPrefix) {
			if byHash == nil {
				continue
			}
			e, ok := byHash[p.Expr]
			if !ok {
				return nil, fmt.Errorf("line %d: %s: no expression of the shared %s has this hash (regenerate with go generate ./filter)", line, p.Expr, PublicList)
			}
			p.Expr, p.Shared = e, true
		}
		var err1, err2 error
		p.Unopt, p.UnoptErr, err1 = parseCell(cols[2])
		p.Opt, p.OptErr, err2 = parseCell(cols[3])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("line %d (%s %q): %w", line, p.LinkType, p.Expr, err)
		}
		progs = append(progs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return progs, nil
}

// parseCell parses a program or an "ERROR message" cell.
func parseCell(s string) ([]bpf.RawInstruction, string, error) {
	if msg, ok := strings.CutPrefix(s, "ERROR "); ok {
		return nil, msg, nil
	}
	prog, err := ParseDDD(s)
	return prog, "", err
}

// ParseDDD parses a tcpdump -ddd program, its lines joined by ',' or by
// newlines, the instruction count first: "4,40 0 0 12,21 0 1 2048,6 0 0
// 262144,6 0 0 0".
func ParseDDD(s string) ([]bpf.RawInstruction, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	if len(f) == 0 {
		return nil, errors.New("empty program")
	}
	n, err := strconv.Atoi(strings.TrimSpace(f[0]))
	if err != nil {
		return nil, fmt.Errorf("instruction count %q: %w", f[0], err)
	}
	if n != len(f)-1 {
		return nil, fmt.Errorf("count %d but %d instructions", n, len(f)-1)
	}
	prog := make([]bpf.RawInstruction, n)
	for i, s := range f[1:] {
		w := strings.Fields(s)
		if len(w) != 4 {
			return nil, fmt.Errorf("instruction %d %q: %d fields, want 4", i, s, len(w))
		}
		var v [4]uint64
		for j, bits := range [4]int{16, 8, 8, 32} {
			if v[j], err = strconv.ParseUint(w[j], 10, bits); err != nil {
				return nil, fmt.Errorf("instruction %d %q: %w", i, s, err)
			}
		}
		prog[i] = bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
	}
	return prog, nil
}

// FormatDDD is the inverse of ParseDDD: the program as a store cell.
func FormatDDD(prog []bpf.RawInstruction) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(prog)))
	for _, in := range prog {
		fmt.Fprintf(&b, ",%d %d %d %d", in.Op, in.Jt, in.Jf, in.K)
	}
	return b.String()
}
