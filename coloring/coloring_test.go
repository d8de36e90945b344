package coloring

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// wiresharkDefaults reads the default colorfilters file of the installed
// Wireshark (tshark -G folders names its global configuration folder).
func wiresharkDefaults(t *testing.T) []Rule {
	t.Helper()
	tshark := testenv.LookPath(t, "tshark", "tshark")
	out, err := exec.Command(tshark, "-G", "folders").Output()
	if err != nil {
		t.Fatalf("tshark -G folders: %v", err)
	}
	var dir string
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Global configuration" {
			dir = strings.TrimSpace(v)
		}
	}
	f, err := os.Open(filepath.Join(dir, "colorfilters"))
	if err != nil {
		testenv.Missing(t, "tshark", "Wireshark's default colorfilters file: "+err.Error())
	}
	defer f.Close()
	color := regexp.MustCompile(`^\[(\d+),(\d+),(\d+)\]\[(\d+),(\d+),(\d+)\]$`)
	hex := func(c []string) string {
		s := "#"
		for _, x := range c {
			n, _ := strconv.Atoi(x)
			s += fmt.Sprintf("%02x", (n+128)/257)
		}
		return s
	}
	var rules []Rule
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "@") {
			continue
		}
		p := strings.Split(line, "@") // "", name, filter, colours
		if len(p) != 4 {
			t.Fatalf("colorfilters line %q: not @name@filter@colours", line)
		}
		m := color.FindStringSubmatch(p[3])
		if m == nil {
			t.Fatalf("colorfilters line %q: colours not [bg][fg]", line)
		}
		// Wireshark writes the background first.
		rules = append(rules, Rule{Name: p[1], Filter: p[2], Fg: hex(m[4:7]), Bg: hex(m[1:4])})
	}
	return rules
}

// TestDefaultsAreWiresharks compares the defaults, their order, names,
// filters and colours, with the colorfilters file Wireshark installs.
func TestDefaultsAreWiresharks(t *testing.T) {
	want := wiresharkDefaults(t)
	got := Defaults()
	if len(got) != len(want) {
		t.Fatalf("%d default rules, Wireshark has %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rule %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// TestDefaultsCompileOrExplain: every default rule compiles, or is
// unavailable because it names something pkttap does not dissect (yet),
// with dfilter's error saying what; the rules on the common protocols are
// available.
func TestDefaultsCompileOrExplain(t *testing.T) {
	var exprs []string
	for _, r := range Defaults() {
		exprs = append(exprs, r.Filter)
	}
	s := Compile(exprs)
	if len(s.Rules) != len(exprs) {
		t.Fatalf("compiled %d rules of %d", len(s.Rules), len(exprs))
	}
	available := map[string]bool{}
	for i, r := range s.Rules {
		name := Defaults()[i].Name
		var de *dfilter.Error
		switch {
		case r.Filter != nil && r.Err == nil:
			available[name] = true
		case r.Filter == nil && errors.As(r.Err, &de) && de.Msg != "":
			t.Logf("%s: unavailable: %v", name, r.Err)
		default:
			t.Errorf("%s: filter %v, error %v: want a filter or a *dfilter.Error", name, r.Filter, r.Err)
		}
	}
	for _, name := range []string{"Spanning Tree Topology  Change", "ICMP errors", "ARP", "ICMP", "TCP RST", "TCP SYN/FIN", "TCP", "UDP", "Broadcast"} {
		if !available[name] {
			t.Errorf("%s: unavailable, want it to work", name)
		}
	}
}

func ether(etype uint16, payload []byte) []byte {
	b := append(append(append([]byte{}, testpkt.MACB...), testpkt.MACA...), byte(etype>>8), byte(etype))
	return append(b, payload...)
}

// TestFirstMatch: a packet takes the first rule that matches it, in order;
// an unavailable rule matches nothing and leaves the others working.
func TestFirstMatch(t *testing.T) {
	const syn, rst, ack = 0x02, 0x04, 0x10
	tcp := func(dport uint16, flags byte) []byte {
		return ether(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, testpkt.IPv4A, testpkt.IPv4B, testpkt.TCP(40000, dport, 1, flags, 512, nil)))
	}
	udp := ether(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoUDP, testpkt.IPv4A, testpkt.IPv4B, testpkt.UDP(5353, 53, []byte("x"))))
	arp := ether(testpkt.EtherTypeARP, testpkt.ARPRequest(testpkt.MACA, testpkt.IPv4A, testpkt.IPv4B))
	rules := []string{"nosuch.field == 1", "tcp.flags.reset eq 1", "tcp.port == 80", "tcp", "udp", "arp || udp", "tcp ==", ""}
	s := Compile(rules)
	for i, want := range []bool{false, true, true, true, true, true, false, false} {
		if got := s.Rules[i].Filter != nil; got != want {
			t.Errorf("rule %q available %v, want %v (%v)", rules[i], got, want, s.Rules[i].Err)
		}
	}
	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"tcp rst to port 80", tcp(80, rst|ack), 1},
		{"tcp syn to port 80", tcp(80, syn), 2},
		{"tcp ack to port 443", tcp(443, ack), 3},
		{"udp", udp, 4},
		{"arp", arp, 5},
		{"not ethernet ip", []byte{1, 2, 3}, -1},
	} {
		p := dfilter.Packet{LinkType: pcapio.LinkTypeEthernet, Data: tc.data, Length: len(tc.data), Number: 1}
		if got := s.Match(p); got != tc.want {
			t.Errorf("%s: rule %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := Compile(nil).Match(dfilter.Packet{LinkType: pcapio.LinkTypeEthernet, Data: udp, Length: len(udp)}); got != -1 {
		t.Errorf("no rules: rule %d, want -1", got)
	}
}

// TestCache: a rule list compiles once while it stays in the cache, which
// holds at most its size.
func TestCache(t *testing.T) {
	c := NewCache(2)
	a := c.Get([]string{"tcp", "udp"})
	if c.Get([]string{"tcp", "udp"}) != a {
		t.Error("the same rules compiled twice")
	}
	if c.Get([]string{"tcp\x00udp"}) == a || c.Get([]string{"tcp", "udp", ""}) == a {
		t.Error("different rules share a compiled set")
	}
	if n := c.Len(); n != 2 {
		t.Errorf("cache holds %d sets, want at most 2", n)
	}
	if c.Get([]string{"tcp", "udp"}) == a {
		t.Error("the least recently used set was kept beyond the cache's size")
	}
}
