package dfilter

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// TestTreeSourceRanges checks the source map: every node of the tree of
// every expression of the shared public set and of ownExprs has a
// non-empty range of the expression, its Text is that range, and each
// child's range lies in its parent's.
func TestTreeSourceRanges(t *testing.T) {
	nodes := 0
	for _, expr := range append(readExprs(t, "public.txt"), ownExprs...) {
		f, err := Compile(expr)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		checkTree(t, expr, f.Tree(), 0, len(expr))
		f.Tree().Walk(func(*Node, int) { nodes++ })
	}
	t.Logf("%d nodes", nodes)
}

func checkTree(t *testing.T, expr string, n *Node, lo, hi int) {
	t.Helper()
	if n.Start < lo || n.End > hi || n.Start >= n.End {
		t.Errorf("%q: %s node %q has range %d-%d, outside %d-%d or empty", expr, n.Kind, n.Text, n.Start, n.End, lo, hi)
		return
	}
	if n.Text != expr[n.Start:n.End] {
		t.Errorf("%q: %s node's text %q is not its range %d-%d, %q", expr, n.Kind, n.Text, n.Start, n.End, expr[n.Start:n.End])
	}
	if n.Kind.Logical() != slices.Contains([]Kind{KindAnd, KindOr, KindNot, KindRelation, KindMembership, KindTest}, n.Kind) {
		t.Errorf("%q: kind %q", expr, n.Kind)
	}
	for _, c := range n.Children {
		checkTree(t, expr, c, n.Start, n.End)
	}
}

// TestTreeShapes checks the trees of a few expressions, node by node.
func TestTreeShapes(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`tcp.port == 443`, `relation == "tcp.port == 443" 0-15 (field "tcp.port" 0-8, value "443" 12-15)`},
		{`ip.addr == 10.0.0.1 or not (udp and dns)`, `or || "ip.addr == 10.0.0.1 or not (udp and dns)" 0-40 (relation == "ip.addr == 10.0.0.1" 0-19 (field "ip.addr" 0-7, value "10.0.0.1" 11-19), not ! "not (udp and dns)" 23-40 (and && "udp and dns" 28-39 (test "udp" 28-31 (field "udp" 28-31), test "dns" 36-39 (field "dns" 36-39))))`},
		{`tcp.port in {80, 8000..8080}`, `membership in "tcp.port in {80, 8000..8080}" 0-28 (field "tcp.port" 0-8, value "80" 13-15, range .. "8000..8080" 17-27 (value "8000" 17-21, value "8080" 23-27))`},
		{`len(http.host) > 3*2`, `relation > "len(http.host) > 3*2" 0-20 (call len "len(http.host)" 0-14 (field "http.host" 4-13), arith * "3*2" 17-20 (value "3" 17-18, value "2" 19-20))`},
		{`eth.src[0:3] == 00:11:22 && tcp.flags & 0x02`, `and && "eth.src[0:3] == 00:11:22 && tcp.flags & 0x02" 0-44 (relation == "eth.src[0:3] == 00:11:22" 0-24 (slice "eth.src[0:3]" 0-12 (field "eth.src" 0-7), value "00:11:22" 16-24), test "tcp.flags & 0x02" 28-44 (arith & "tcp.flags & 0x02" 28-44 (field "tcp.flags" 28-37, value "0x02" 40-44)))`},
		{`http.host matches "^ex"`, `relation matches "http.host matches \"^ex\"" 0-23 (field "http.host" 0-9, value "\"^ex\"" 18-23)`},
	} {
		f, err := Compile(tc.expr)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q compiles", tc.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if got := treeString(f.Tree()); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.expr, got, tc.want)
		}
	}
}

func treeString(n *Node) string {
	s := string(n.Kind)
	if n.Op != "" {
		s += " " + n.Op
	}
	s += fmt.Sprintf(" %q %d-%d", n.Text, n.Start, n.End)
	if len(n.Children) > 0 {
		var kids []string
		for _, c := range n.Children {
			kids = append(kids, treeString(c))
		}
		s += " (" + strings.Join(kids, ", ") + ")"
	}
	return s
}

// checkTrace requires the trace of f on packet p (number n) to give
// Match's verdict, with every value's bytes followed and every leaf's
// checks giving what the closure Match runs gives; it returns the trace.
func checkTrace(t *testing.T, f *Filter, p Packet, tr *Trace) bool {
	t.Helper()
	want := f.Match(p)
	switch {
	case tr.Match != want:
		t.Errorf("%q on packet %d: Trace %v, Match %v", f, p.Number, tr.Match, want)
	case tr.disagree:
		t.Errorf("%q on packet %d: a leaf's checks disagree with its closure", f, p.Number)
	case tr.misaligned:
		t.Errorf("%q on packet %d: values not lined up with their bytes", f, p.Number)
	default:
		return checkSteps(t, f, p, tr.Root)
	}
	return false
}

// checkSteps checks that every value's bytes lie in the packet, and that
// a not-evaluated node has nothing evaluated under it.
func checkSteps(t *testing.T, f *Filter, p Packet, s *Step) bool {
	t.Helper()
	for _, v := range s.Values {
		for _, r := range v.Bytes {
			if r.Offset < 0 || r.Length <= 0 || r.Offset+r.Length > len(p.Data) {
				t.Errorf("%q on packet %d: %s value of %s at bytes %d+%d, outside its %d bytes", f, p.Number, s.Node.Text, v.Field, r.Offset, r.Length, len(p.Data))
				return false
			}
		}
	}
	for _, c := range s.Children {
		if s.Outcome == NotEvaluated && (c.Evaluated || c.Outcome != "" && c.Outcome != NotEvaluated) {
			t.Errorf("%q on packet %d: %q evaluated under %q, which was not", f, p.Number, c.Node.Text, s.Node.Text)
			return false
		}
		if !checkSteps(t, f, p, c) {
			return false
		}
	}
	return true
}

// TestTraceEqualsMatch traces every expression of the shared public set
// and of ownExprs on an eighth of the packets of the shared capture (each
// filter on others; on the packet's whole tree, and on a sample of them
// as Trace decodes them itself): the traced verdict is Match's, and the
// trace is whole.
func TestTraceEqualsMatch(t *testing.T) {
	pkts := readCapture(t)
	var filters []*Filter
	for _, e := range append(readExprs(t, "public.txt"), ownExprs...) {
		if f, err := Compile(e); err == nil {
			filters = append(filters, f)
		}
	}
	traced := 0
	bad := map[*Filter]bool{}
	for i, pk := range pkts {
		p := Packet{LinkType: pk.LinkType, Data: pk.Data, Length: pk.Length, Number: i + 1}
		full := dissect.Dissect(p.LinkType, p.Data, p.Length)
		for j, f := range filters {
			if bad[f] || (i+j)%8 != 0 {
				continue
			}
			tr := f.TraceTree(full, p.Number)
			if (i+j)%97 == 0 {
				tr = f.Trace(p)
			}
			traced++
			if !checkTrace(t, f, p, tr) {
				bad[f] = true
			}
		}
	}
	t.Logf("%d traces", traced)
}

// TestTraceRandom is the property test: random expressions built from
// the registry's fields, with values read from the capture's packets (so
// that some match), operators fitting each field's type, sets, slices,
// functions, and, or, not; on random packets of the shared capture, the
// traced verdict equals Match's.
func TestTraceRandom(t *testing.T) {
	pkts := readCapture(t)
	rng := rand.New(rand.NewSource(16))
	g := newExprGen(rng, pkts)
	compiled, matched, n := 0, 0, 1000
	for range n {
		expr := g.expr(3)
		f, err := Compile(expr)
		if err != nil {
			t.Logf("%q: %v", expr, err)
			continue
		}
		compiled++
		for range 50 {
			i := rng.Intn(len(pkts))
			pk := pkts[i]
			p := Packet{LinkType: pk.LinkType, Data: pk.Data, Length: pk.Length, Number: i + 1}
			tr := f.Trace(p)
			if tr.Match {
				matched++
			}
			if !checkTrace(t, f, p, tr) {
				break
			}
		}
	}
	t.Logf("%d of %d random expressions compiled; %d traces matched", compiled, n, matched)
	if compiled < n*9/10 {
		t.Errorf("only %d of %d random expressions compiled", compiled, n)
	}
	if matched == 0 {
		t.Error("no trace matched")
	}
}

// exprGen writes random display filters over the registry's fields.
type exprGen struct {
	rng    *rand.Rand
	fields []*dissect.Field
	// seen holds values of fields met in the capture's trees
	seen map[string][]dissect.Value
}

func newExprGen(rng *rand.Rand, pkts []pcapio.Packet) *exprGen {
	g := &exprGen{rng: rng, seen: map[string][]dissect.Value{}}
	for i := 0; i < len(pkts); i += 13 {
		p := pkts[i]
		dissect.Dissect(p.LinkType, p.Data, p.Length).Walk(func(n *dissect.Node, _ int) bool {
			if n.Field != "" && len(g.seen[n.Field]) < 8 && n.Value.Type != dissect.TypeNone {
				g.seen[n.Field] = append(g.seen[n.Field], n.Value)
			}
			return true
		})
	}
	// mostly fields met in the capture, some never met
	for _, f := range dissect.Fields() {
		if f.Type == dissect.TypeNone || f.Type == dissect.TypeTime {
			continue
		}
		if g.seen[f.Name] != nil || rng.Intn(8) == 0 {
			g.fields = append(g.fields, f)
		}
	}
	return g
}

func (g *exprGen) expr(depth int) string {
	if depth > 0 {
		switch g.rng.Intn(6) {
		case 0:
			return g.expr(depth-1) + []string{" && ", " and ", " || ", " or "}[g.rng.Intn(4)] + g.expr(depth-1)
		case 1:
			return "(" + g.expr(depth-1) + []string{" && ", " || "}[g.rng.Intn(2)] + g.expr(depth-1) + ")"
		case 2:
			return []string{"!", "not "}[g.rng.Intn(2)] + g.expr(depth-1)
		}
	}
	return g.leaf()
}

// value returns a value of f as an expression writes it: one seen in the
// capture, or a made-up one.
func (g *exprGen) value(f *dissect.Field) string {
	vs := g.seen[f.Name]
	if len(vs) > 0 && g.rng.Intn(4) != 0 {
		v := vs[g.rng.Intn(len(vs))]
		switch {
		case v.Type == dissect.TypeString:
			return fmt.Sprintf("%q", v.S)
		case v.Type == dissect.TypeProtocol || v.Type == dissect.TypeBytes:
			if len(v.B) == 0 {
				return "00"
			}
			b := v.B[:min(len(v.B), 4)]
			var parts []string
			for _, x := range b {
				parts = append(parts, fmt.Sprintf("%02x", x))
			}
			return strings.Join(parts, ":")
		case v.Type == dissect.TypeBool:
			return fmt.Sprint(v.N)
		case v.Type.IsInt():
			return fmt.Sprint(int64(v.N))
		case v.Type == dissect.TypeRelTime:
			return fmt.Sprintf("%d.%09d", v.N/1e9, v.N%1e9)
		}
		return string(v.AppendText(nil, dissect.BaseNone))
	}
	switch {
	case f.Type == dissect.TypeBool:
		return fmt.Sprint(g.rng.Intn(2))
	case f.Type.IsUint() || f.Type.IsInt():
		return fmt.Sprint(g.rng.Intn(200))
	case f.Type == dissect.TypeIPv4:
		return fmt.Sprintf("10.%d.0.0/%d", g.rng.Intn(3), 8+g.rng.Intn(17))
	case f.Type == dissect.TypeIPv6:
		return "fe80::/10"
	case f.Type == dissect.TypeEther:
		return "ff:ff:ff:ff:ff:ff"
	case f.Type == dissect.TypeString:
		return `"a"`
	case f.Type == dissect.TypeRelTime:
		return "0.5"
	}
	return "00:01"
}

func (g *exprGen) leaf() string {
	f := g.fields[g.rng.Intn(len(g.fields))]
	name := f.Name
	switch {
	case f.IsProtocol():
		if g.rng.Intn(3) == 0 {
			return name + " contains " + g.value(f)
		}
		return name
	case f.Type.IsUint() || f.Type.IsInt() || f.Type == dissect.TypeBool:
		switch g.rng.Intn(8) {
		case 0:
			return name
		case 1:
			return fmt.Sprintf("%s in {%s, %s..%s}", name, g.value(f), g.value(f), g.value(f))
		case 2:
			return fmt.Sprintf("%s not in {%s}", name, g.value(f))
		case 3:
			if f.Type != dissect.TypeBool {
				return fmt.Sprintf("%s & %d", name, 1+g.rng.Intn(255))
			}
		case 4:
			if f.Type != dissect.TypeBool {
				return fmt.Sprintf("%s + 1 > %s", name, g.value(f))
			}
		}
		ops := []string{"==", "!=", ">", "<", ">=", "<=", "===", "!==", "~=", "eq", "ne", "gt", "le"}
		return name + " " + ops[g.rng.Intn(len(ops))] + " " + g.value(f)
	case f.Type == dissect.TypeString:
		switch g.rng.Intn(5) {
		case 0:
			return name + " contains " + g.value(f)
		case 1:
			return name + ` matches "^[a-m]"`
		case 2:
			return fmt.Sprintf("len(%s) > %d", name, g.rng.Intn(20))
		case 3:
			return "lower(" + name + ") == " + strings.ToLower(g.value(f))
		}
		return name + " == " + g.value(f)
	case f.Type == dissect.TypeRelTime:
		return name + " > " + g.value(f)
	}
	// bytes, addresses
	switch g.rng.Intn(6) {
	case 0:
		return name
	case 1:
		if f.Type != dissect.TypeIPv4 && f.Type != dissect.TypeIPv6 {
			return name + "[0:1] == " + g.value(&dissect.Field{Type: dissect.TypeBytes})
		}
	case 2:
		return fmt.Sprintf("count(%s) >= %d", name, g.rng.Intn(3))
	case 3:
		if f.Type == dissect.TypeBytes {
			return name + " contains " + g.value(f)
		}
	}
	return name + " " + []string{"==", "!=", "~="}[g.rng.Intn(3)] + " " + g.value(f)
}
