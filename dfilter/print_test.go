package dfilter

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// TestCanonical: an expression prints as parsed, operators in symbols and
// the grouping "and" gave made explicit; a bad one fails with its column.
func TestCanonical(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"tcp", "tcp"},
		{"tcp.port eq 443 and not dns", "tcp.port == 443 && !dns"},
		{"a.b", ""},
		{"ip or tcp and udp", "ip || (tcp && udp)"},
		{"(ip or tcp) and udp", "(ip || tcp) && udp"},
		{"not (tcp or udp)", "!(tcp || udp)"},
		{"ip.addr any_ne 10.0.0.0/8", "ip.addr ~= 10.0.0.0/8"},
		{`http.host contains "exa\"mple" || http.host ~ "(?i)x"`, `http.host contains "exa\"mple" || http.host matches "(?i)x"`},
		{"tcp.port in {80,443, 8000..8080}", "tcp.port in {80, 443, 8000..8080}"},
		{"tcp.port not in {80, 443}", "tcp.port not in {80, 443}"},
		{"eth.src[0:3] == 00:11:22 && eth.dst[1-2] == 11:22 && eth.src[-1] == 33 && frame[4:] == 00", "eth.src[0:3] == 00:11:22 && eth.dst[1:2] == 11:22 && eth.src[-1:1] == 33 && frame[4:] == 00"},
		{"tcp.flags & 0x02 && len(http.host) > 2 * 2", "(tcp.flags & 0x02) && len(http.host) > (2 * 2)"},
		{"upper(http.host) == \"X\" and -tcp.port < 0", `upper(http.host) == "X" && -tcp.port < 0`},
	} {
		got, err := Canonical(tt.in)
		if tt.want == "" {
			var e *Error
			if !errors.As(err, &e) || e.Column != 1 {
				t.Errorf("%q: %q, %v; want an error at column 1", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestCanonicalSameFilter: every display filter of the shared set prints
// as a filter that compiles, prints as itself, and matches the same
// packets of the shared capture as the original (every 5th packet, to
// stay fast).
func TestCanonicalSameFilter(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "dfilters", "public.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pkts := readCapture(t)
	n := 0
	for _, expr := range strings.Split(string(b), "\n") {
		if expr = strings.TrimSpace(expr); expr == "" {
			continue
		}
		c, err := Canonical(expr)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		again, err := Canonical(c)
		if err != nil || again != c {
			t.Errorf("%q printed %q, which prints %q, %v", expr, c, again, err)
			continue
		}
		f, g := mustCompile(t, expr), mustCompile(t, c)
		for i := 0; i < len(pkts); i += 5 {
			p := pkts[i]
			pk := Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: i + 1}
			if f.Match(pk) != g.Match(pk) {
				t.Errorf("%q and its canonical %q disagree on packet %d", expr, c, i+1)
				break
			}
		}
		n++
	}
	if n < 100 {
		t.Fatalf("only %d expressions in the shared set", n)
	}
}

// mustCompile compiles expr or fails the test.
func mustCompile(t testing.TB, expr string) *Filter {
	t.Helper()
	f, err := Compile(expr)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	return f
}
