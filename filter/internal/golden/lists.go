package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// List is a long list of one primitive joined by "or" or "and": Term with
// %d for the numbers 1..N, or %s for the addresses 10.0.i/256.i%256.
type List struct {
	Term, Join string
	N          int
	// Libpcap is the size of libpcap's optimized program, as read from
	// ListsFile (zero in Lists).
	Libpcap int
}

// Lists are the lists of bpfopt's TestListsAgainstLibpcap, up to the
// longest that libpcap's optimizer brings within 4096 instructions.
var Lists = []List{
	{Term: "port %d", Join: "or", N: 100},
	{Term: "port %d", Join: "or", N: 300},
	{Term: "port %d", Join: "or", N: 720},
	{Term: "host %s", Join: "or", N: 100},
	{Term: "host %s", Join: "or", N: 300},
	{Term: "host %s", Join: "or", N: 722},
	{Term: "not port %d", Join: "and", N: 100},
	{Term: "not host %s", Join: "and", N: 100},
	{Term: "tcp dst port %d", Join: "or", N: 300},
	{Term: "udp src port %d", Join: "or", N: 300},
}

// Expr spells the list out.
func (l List) Expr() string {
	parts := make([]string, l.N)
	for i := range parts {
		if strings.Contains(l.Term, "%s") {
			parts[i] = fmt.Sprintf(l.Term, fmt.Sprintf("10.0.%d.%d", (i+1)/256, (i+1)%256))
		} else {
			parts[i] = fmt.Sprintf(l.Term, i+1)
		}
	}
	return strings.Join(parts, " "+l.Join+" ")
}

func (l List) String() string {
	return fmt.Sprintf("%d×%q joined by %s", l.N, l.Term, l.Join)
}

// BigExprs are the long or-lists of BigFile: port, host and net lists.
func BigExprs() []string {
	list := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i + 1)
		}
		return strings.Join(parts, " or ")
	}
	return []string{
		list(60, func(i int) string { return fmt.Sprintf("port %d", i) }),
		list(100, func(i int) string { return fmt.Sprintf("host 10.0.0.%d", i) }),
		list(40, func(i int) string { return fmt.Sprintf("tcp dst port %d and net 10.%d.0.0/16", 1000+i, i) }),
	}
}

// ReadLists reads ListsFile: "linktype term join n count" rows (EN10MB
// only).
func ReadLists() ([]List, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, ListsFile))
	if err != nil {
		return nil, fmt.Errorf("golden lists (regenerate with go generate ./filter): %w", err)
	}
	var lists []List
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			return nil, fmt.Errorf("golden lists line %d: %d columns, want 5", i+1, len(cols))
		}
		n, err1 := strconv.Atoi(cols[3])
		count, err2 := strconv.Atoi(cols[4])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("golden lists line %d %q: bad number", i+1, line)
		}
		lists = append(lists, List{Term: cols[1], Join: cols[2], N: n, Libpcap: count})
	}
	return lists, nil
}

// ReadExprList reads one expression a line, skipping blank lines and
// comments.
func ReadExprList(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read expressions: %w", err)
	}
	var exprs []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(strings.TrimRight(l, "\r")); l != "" && !strings.HasPrefix(l, "#") {
			exprs = append(exprs, l)
		}
	}
	return exprs, nil
}
