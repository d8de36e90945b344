package golden

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
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
		"RAW\tarp\tERROR arp not supported\tERROR arp not supported\n"
	progs, err := parsePrograms(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) != 2 || len(progs[0].Unopt) != 4 || progs[0].Opt != nil || progs[0].OptErr != "expression rejects all packets" ||
		progs[1].Unopt != nil || progs[1].UnoptErr != "arp not supported" {
		t.Errorf("parsePrograms = %+v", progs)
	}
	for _, bad := range []string{"EN10MB\tip\t4,6 0 0 0\n", "EN10MB\tip\t1,6 0 0 0\t2,6 0 0 0\n"} {
		if _, err := parsePrograms(strings.NewReader(bad)); err == nil {
			t.Errorf("parsePrograms(%q) accepted a bad row", bad)
		}
	}
}

// TestStore reads the committed store: every row's link type is one of
// LinkTypes, every benchmark expression has an EN10MB program, the big
// programs and the lists are all there.
func TestStore(t *testing.T) {
	progs, err := Programs()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range progs {
		if !slices.Contains(LinkTypes, p.LinkType) {
			t.Fatalf("%s %q: link type not in LinkTypes", p.LinkType, p.Expr)
		}
	}
	if len(progs)%len(LinkTypes) != 0 {
		t.Errorf("%d programs, not a multiple of the %d link types", len(progs), len(LinkTypes))
	}
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
