package dfilter

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testenv"
)

// ownExprs are filters of this package's choosing beside the shared set:
// the frame's own fields (no decoding), common header fields (Quick),
// fields of layers nested in others (ICMP errors, tunnels, IPv6
// extension headers, PPP's control protocols), aliases, and mixes of the
// three paths.
var ownExprs = []string{
	"frame.len > 100", "frame.cap_len < frame.len", "frame.number in {1, 3, 5..9, 7000..7100}", "frame",
	`frame.encap_type contains "Ethernet"`, "frame.len > 100 && frame.number > 3000", "!(frame.cap_len == 60)",
	"eth.type == 0x0800", "eth.type == 0x86dd || eth.type == 0x8100", "eth.addr[0] & 1", "eth.src == eth.dst",
	"tcp.port == 443", "tcp.port == 80 && frame.len > 1000", "udp.port == 53", "ip.addr == 10.0.0.0/8",
	"ip.ttl < 64 && tcp.flags.syn == 1", "ipv6.nxt == 58", "ip.version == 6", "ip.version == 4 && ipv6",
	"icmp.type == 3 && tcp", "icmp && udp.port == 53", "ah.spi > 0", "ah && ipv6.nxt == 51", "ppp.code == 9",
	"lcp || ipcp", "vlan.id > 0", "ieee8021ad && vlan", "mpls.label > 0 && ip", "gre && ip.proto == 47",
	"vxlan.vni > 0 and eth.type == 0x0800", "dns.qry.name contains \"x\"", "http.host == \"x\"", `http.host contains "example"`,
	"tls.handshake.type == 1", "tls && tcp.len > 100", "sctp.port == 7", "arp.opcode == 2 or frame.len < 64",
	"tcp.payload[0:2] == 16:03", "udp.payload contains 00:00", "data.len > 10", "_ws.malformed", "frame.protocols contains \"dns\"",
	"ip.src == ip.dst", "count(ip.addr) > 2", "len(tcp.payload) > 0 && !http", "tcp.options.mss_val >= 1400",
	"ipv6.src == fe80::/10 && icmpv6.type == 135", "dhcp", "stp", "igmp.type == 0x22", "sflow",
}

// readExprs returns the lines of a file of the shared display-filter set.
func readExprs(t *testing.T, name string) []string {
	t.Helper()
	fh, err := os.Open(filepath.Join(testenv.SharedDir(t), "dfilters", name))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMatchEqualsTree is the differential test of the ways Match decodes:
// every expression of the shared public set and of ownExprs gives, on
// every packet of the shared capture (the corpus and real traffic), the
// verdict Match gives (frame fields alone, Quick's headers, or a tree of
// the filter's layers) and the verdict on the packet's whole tree.
func TestMatchEqualsTree(t *testing.T) {
	pkts := readCapture(t)
	exprs := append(readExprs(t, "public.txt"), ownExprs...)
	var filters []*Filter
	paths := map[string]int{}
	for _, e := range exprs {
		f, err := Compile(e)
		if err != nil {
			t.Errorf("%q: %v", e, err)
			continue
		}
		switch {
		case f.frame != nil:
			paths["frame"]++
		case f.fast != nil:
			paths["quick"]++
		case f.keep != nil:
			paths["layers"]++
		default:
			paths["tree"]++
		}
		filters = append(filters, f)
	}
	t.Logf("%d filters by path: %v", len(filters), paths)
	for _, p := range []string{"frame", "quick", "layers", "tree"} {
		if paths[p] == 0 {
			t.Errorf("no filter takes the %s path", p)
		}
	}
	bad := map[string]int{}
	for i, p := range pkts {
		full := dissect.Dissect(p.LinkType, p.Data, p.Length)
		pk := Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: i + 1}
		for _, f := range filters {
			got, want := f.Match(pk), f.MatchTree(full, i+1)
			if got != want {
				if bad[f.String()] == 0 {
					t.Errorf("%q on packet %d: Match %v, whole tree %v", f, i+1, got, want)
				}
				bad[f.String()]++
			}
		}
	}
	if len(bad) > 0 {
		t.Errorf("packets differing, by filter: %v", bad)
	}
}
