package bpfopt

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// goldenCase is one expression compiled by libpcap for one link type.
type goldenCase struct {
	linkType, expr string
	unopt, opt     []Insn // opt nil when libpcap's optimizer rejects all
}

// loadGolden reads testdata/libpcap-programs.tsv (see gen_programs.go).
func loadGolden(t testing.TB) []goldenCase {
	t.Helper()
	f, err := os.Open("testdata/libpcap-programs.tsv")
	if err != nil {
		t.Fatalf("open golden programs: %v", err)
	}
	defer f.Close()
	var cases []goldenCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("golden line %q: %d columns", line, len(cols))
		}
		c := goldenCase{linkType: cols[0], expr: cols[1]}
		if c.unopt, err = parseDDD(cols[2]); err != nil {
			t.Fatalf("golden %s %q: %v", c.linkType, c.expr, err)
		}
		if cols[3] != "-" {
			if c.opt, err = parseDDD(cols[3]); err != nil {
				t.Fatalf("golden %s %q: %v", c.linkType, c.expr, err)
			}
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// parseDDD parses tcpdump -ddd output joined by ',' (count first).
func parseDDD(s string) ([]Insn, error) {
	parts := strings.Split(s, ",")
	n, err := strconv.Atoi(parts[0])
	if err != nil || n != len(parts)-1 {
		return nil, fmt.Errorf("bad instruction count in %.40q", s)
	}
	prog := make([]Insn, n)
	for i, p := range parts[1:] {
		var op, jt, jf int
		var k uint32
		if _, err := fmt.Sscanf(p, "%d %d %d %d", &op, &jt, &jf, &k); err != nil {
			return nil, fmt.Errorf("instruction %d %q: %w", i, p, err)
		}
		prog[i] = Insn{Op: uint16(op), Jt: jt, Jf: jf, K: k}
	}
	return prog, nil
}
