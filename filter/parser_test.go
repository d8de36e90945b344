package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

func TestLexer(t *testing.T) {
	tests := []struct {
		in   string
		want []string // kind:text
	}{
		{"host 10.0.0.1", []string{"kw:host", "hid:10.0.0.1"}},
		{"ether src 00:11:22:33:44:55", []string{"kw:link", "kw:src", "eid:00:11:22:33:44:55"}},
		{"0011.2233.4455 001122334455", []string{"eid:0011.2233.4455", "eid:001122334455"}},
		{"fe80::1/64", []string{"hid6:fe80::1", "op:/", "num:64"}},
		{"tcp[tcpflags]&tcp-syn!=0", []string{"kw:tcp", "op:[", "num:tcpflags", "op:]", "op:&", "num:tcp-syn", "neq:!=", "num:0"}},
		{`proto \tcp`, []string{"kw:proto", "id:tcp"}},
		{"portrange 6000-6010", []string{"kw:portrange", "id:6000-6010"}},
		{"a&&b||!c", []string{"id:a", "and:&&", "id:b", "or:||", "not:!", "id:c"}},
		{"0x1F 017 10", []string{"num:0x1F", "num:017", "num:10"}},
		{"x << 2 >> 1 == 3", []string{"id:x", "lsh:<<", "num:2", "rsh:>>", "num:1", "op:=", "num:3"}},
	}
	names := map[tokKind]string{tokNum: "num", tokID: "id", tokHID: "hid", tokHID6: "hid6", tokEID: "eid",
		tokOp: "op", tokKeyword: "kw", tokAnd: "and", tokOr: "or", tokNot: "not", tokNEQ: "neq", tokLSH: "lsh", tokRSH: "rsh"}
	for _, tt := range tests {
		var got []string
		for _, tk := range lex(tt.in) {
			if tk.kind == tokEOF {
				break
			}
			got = append(got, names[tk.kind]+":"+tk.text)
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("lex(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		expr   string
		column int
		msg    string // a substring of the message
	}{
		{"port", 5, "expected a port number or name after 'port'"},
		{"tcp port 80 and", 16, "expected a primitive"},
		{"host 1.2.3.4 and (", 19, "expected a primitive"},
		{"(tcp or udp", 12, "to close the '(' at column 1"},
		{"ip proto tcp", 10, `escaped: \tcp`},
		{"port 70000", 6, "illegal port number 70000 > 65535"},
		{"udp port http", 10, "port 'http' is tcp"},
		{"tcp udp", 5, "expected 'and', 'or'"},
		{"ip[0] / 0 = 1", 7, "division by zero"},
		{"len = 0x100000000", 7, "overflows 32 bits"},
		{"ip[0:3] = 1", 1, "data size must be 1, 2, or 4"},
		{"tcp and udp", 1, "expression rejects all packets"},
		{"$", 1, "unexpected character"},
		{"tcp port ünïcode", 10, "unexpected character 'ü'"},
		{"host 😀", 6, "unexpected character '😀'"},
		{"port \xff80", 6, `unexpected byte 0xff (not UTF-8)`},
		{strings.Repeat("(", 300) + "tcp" + strings.Repeat(")", 300), 0, "nested too deeply"},
		{strings.Repeat("not ", 300) + "tcp", 0, "nested too deeply"},
		{strings.Repeat("-", 300) + "1 = 1", 0, "nested too deeply"},
		{strings.Repeat("tcp or ", 10000) + "tcp", 0, "too long"},
		{manyPorts(1500), 1, "too complex"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.expr, Options{LinkType: pcapio.LinkTypeEthernet})
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Compile(%.40q) error = %v, want a *filter.Error", tt.expr, err)
			continue
		}
		if tt.column != 0 && fe.Column != tt.column {
			t.Errorf("Compile(%.40q): column %d, want %d (%v)", tt.expr, fe.Column, tt.column, err)
		}
		if !strings.Contains(fe.Msg, tt.msg) {
			t.Errorf("Compile(%.40q): %q does not say %q", tt.expr, fe.Msg, tt.msg)
		}
		if !strings.HasPrefix(err.Error(), "column ") {
			t.Errorf("Compile(%.40q): Error() = %q, want \"column N: ...\"", tt.expr, err.Error())
		}
	}
}

func TestEmptyAcceptsAll(t *testing.T) {
	for _, expr := range []string{"", "   ", "\t\n"} {
		p, err := Compile(expr, Options{LinkType: pcapio.LinkTypeEthernet, Snaplen: 1500})
		if err != nil {
			t.Fatalf("Compile(%q): %v", expr, err)
		}
		if got := p.Dump(1); got != "(000) ret      #1500\n" {
			t.Errorf("Compile(%q) = %q, want a single ret #1500", expr, got)
		}
		if p.Match([]byte{1, 2, 3}, 3) != 1500 {
			t.Errorf("Compile(%q) does not accept a packet", expr)
		}
	}
}

// TestDumpFormats checks the three tcpdump formats on a small program.
func TestDumpFormats(t *testing.T) {
	p, err := Compile("ip", Options{LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		level int
		want  string
	}{
		{1, "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #262144\n(003) ret      #0\n"},
		{2, "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n"},
		{3, "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n"},
	}
	for _, tt := range tests {
		if got := p.Dump(tt.level); got != tt.want {
			t.Errorf("Dump(%d) = %q, want %q", tt.level, got, tt.want)
		}
	}
	if p.String() != p.Dump(1) || !p.FitsDarwin() {
		t.Errorf("String() or FitsDarwin() wrong")
	}
}

// staticResolver answers host lookups from a table.
type staticResolver map[string][]netip.Addr

func (r staticResolver) LookupHost(name string) ([]netip.Addr, error) {
	if a, ok := r[name]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("no such host %q", name)
}

func TestResolver(t *testing.T) {
	res := staticResolver{"gw": {netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}}
	p, err := Compile("host gw", Options{LinkType: pcapio.LinkTypeEthernet, Resolver: res, NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Compile("host 192.0.2.1 or host 2001:db8::1", Options{LinkType: pcapio.LinkTypeEthernet, NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Dump(3) != want.Dump(3) {
		t.Errorf("host gw:\n%s\nwant\n%s", p, want)
	}
	_, err = Compile("tcp and host nowhere", Options{LinkType: pcapio.LinkTypeEthernet, Resolver: res})
	var fe *Error
	if !errors.As(err, &fe) || fe.Column != 14 || !strings.Contains(fe.Msg, "unknown host 'nowhere'") {
		t.Errorf("unresolvable host: %v", err)
	}
}

// manyPorts returns "port 1 or port 2 or ... port n-1": distinct ports,
// which cost about three instructions each once the optimizer groups the
// tests of each port field (1,300 fit in 4096; libpcap's optimizer, at six
// a port, fits 720).
func manyPorts(n int) string {
	var b strings.Builder
	for i := 1; i < n; i++ {
		if i > 1 {
			b.WriteString(" or ")
		}
		fmt.Fprintf(&b, "port %d", i)
	}
	return b.String()
}

// TestRepeatedTermsFoldBelowTheLimit: libpcap checks the size after
// optimizing, so a long list that folds to a short program compiles
// (libpcap: 27 instructions for this one).
func TestRepeatedTermsFoldBelowTheLimit(t *testing.T) {
	p, err := Compile(strings.Repeat("port 1 or ", 500)+"port 2", Options{LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if n := len(p.Raw); n > 40 {
		t.Errorf("program has %d instructions, want at most 40 (libpcap: 27)", n)
	}
}
