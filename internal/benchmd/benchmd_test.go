package main

import (
	"strings"
	"testing"
)

// roundOutput is go test -bench output as scripts/bench collects it: two
// packages, a benchmark whose results come after its own log output, a
// skipped one and a failed one.
func roundOutput(compile, libpcap, ratio string) string {
	return `goos: linux
goarch: amd64
pkg: github.com/pkttap/pkttap/filter
cpu: Test CPU 3000
BenchmarkCompile-2            	   10000	    ` + compile + ` ns/op	    5984 B/op	      65 allocs/op
BenchmarkLibpcapCompile-2     	      12	  ` + libpcap + ` ns/op	     ` + libpcap + ` ns/expr
BenchmarkTcpdumpD-2           	--- SKIP: BenchmarkTcpdumpD-2
    bench_test.go:56: skipping: prerequisite "tcpdump" missing
PASS
ok  	github.com/pkttap/pkttap/filter	12.3s
pkg: github.com/pkttap/pkttap/platform
BenchmarkLiveCapture-2   	pkttap sent 1000 captured 1000
       1	2380529286 ns/op	         ` + ratio + ` pkttap/tcpdump	   0.5 pkttap/gopacket
--- FAIL: BenchmarkRingWalk
    ring_linux_test.go:250: ring: boom
FAIL
`
}

func parseString(t *testing.T, s string) *round {
	t.Helper()
	r, err := parseRound(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseRound(t *testing.T) {
	r := parseString(t, roundOutput("250000", "1000000", "0.25"))
	tests := []struct {
		pkg, name, unit string
		want            float64
	}{
		{"filter", "BenchmarkCompile", "ns/op", 250000},
		{"filter", "BenchmarkCompile", "allocs/op", 65},
		{"filter", "BenchmarkLibpcapCompile", "ns/expr", 1000000},
		{"platform", "BenchmarkLiveCapture", "pkttap/tcpdump", 0.25},
		{"platform", "BenchmarkLiveCapture", "pkttap/gopacket", 0.5},
	}
	for _, tt := range tests {
		res, ok := r.find(module+"/"+tt.pkg, tt.name)
		if got := res.values[tt.unit]; !ok || got != tt.want {
			t.Errorf("%s %s %s = %v (found %v), want %v", tt.pkg, tt.name, tt.unit, got, ok, tt.want)
		}
	}
	if len(r.results) != 3 {
		t.Errorf("%d results, want 3", len(r.results))
	}
	if r.cpu != "Test CPU 3000" {
		t.Errorf("cpu %q", r.cpu)
	}
	if why := r.skipped[module+"/filter BenchmarkTcpdumpD"]; !strings.Contains(why, `prerequisite "tcpdump" missing`) {
		t.Errorf("skip reason %q", why)
	}
	if why, ok := r.failed[module+"/platform BenchmarkRingWalk"]; !ok || !strings.Contains(why, "boom") {
		t.Errorf("failure %q (%v)", why, ok)
	}
}

// TestRender checks that each ratio is taken within a round and the median
// over the rounds: rounds where ours and the anchor both slow down keep
// their ratio.
func TestRender(t *testing.T) {
	rounds := []*round{
		parseString(t, roundOutput("250000", "1000000", "0.25")), // 4 times as fast; inverse 4
		parseString(t, roundOutput("500000", "1000000", "0.5")),  // 2; 2
		parseString(t, roundOutput("900000", "2700000", "0.2")),  // 3; 5
	}
	secs := []section{
		{pkg: "filter", title: "Compiler", about: "About.", ratios: []ratio{
			{label: "Compile", anchorLabel: "libpcap", ours: "BenchmarkCompile", oursUnit: "ns/op", anchor: "BenchmarkLibpcapCompile", anchorUnit: "ns/expr"},
			{label: "Compile", anchorLabel: "tcpdump -d", ours: "BenchmarkCompile", oursUnit: "ns/op", anchor: "BenchmarkTcpdumpD", anchorUnit: "ns/op"},
		}},
		{pkg: "platform", title: "Live", about: "About.", ratios: []ratio{
			{label: "live", anchorLabel: "tcpdump", bench: "BenchmarkLiveCapture", unit: "pkttap/tcpdump", invert: true},
		}},
	}
	out := render(machine{date: "D", cpu: "C", cores: 2, goVer: "go1", goos: "linux/amd64", note: "shared by 6 engineers", command: "scripts/bench"}, rounds, secs)
	for _, want := range []string{
		"- machine: C, 2 logical cores, linux/amd64\n",
		"- rounds: 3 ",
		"- note: shared by 6 engineers\n",
		"| Compile | libpcap | 3.00 | 2.00–4.00 | 3 |\n",
		"| Compile | tcpdump -d | not measured | | 0 |\n",
		"- BenchmarkTcpdumpD skipped in a round: bench_test.go:56: skipping: prerequisite \"tcpdump\" missing\n",
		"| live | tcpdump | 4.00 | 2.00–5.00 | 3 |\n",
		"- BenchmarkRingWalk FAILED in a round: ring_linux_test.go:250: ring: boom\n",
		"| BenchmarkCompile | ns/op | 500000 | 250000–900000 | 3 |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestNum(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{{0.24912, "0.249"}, {2.5, "2.50"}, {71.66, "71.7"}, {252729, "252729"}, {0, "0"}} {
		if got := num(tt.v); got != tt.want {
			t.Errorf("num(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
