package dissect

import (
	"strings"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// Tests of the IP and transport decoders at the edges of their length
// checks, each written for a mutant that survived the rest of the suite
// (scripts/mutate).

// treeLines returns every node of tr as "field: label", depth first.
func treeLines(tr *Tree) []string {
	var out []string
	var walk func(n *Node)
	walk = func(n *Node) {
		out = append(out, n.Field+": "+n.Label)
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, l := range tr.Layers {
		walk(l)
	}
	return out
}

// marks returns the lines of tr that mark a packet malformed or cut short.
func marks(tr *Tree) []string {
	var out []string
	for _, l := range treeLines(tr) {
		if strings.HasPrefix(l, "_ws.malformed:") || strings.HasPrefix(l, "_ws.short:") {
			out = append(out, l)
		}
	}
	return out
}

// TestIPv4HeaderOnly dissects an IPv4 packet that is its 20-byte header
// and nothing more (no Ethernet padding): a whole packet, not a cut one.
// (Kills the mutant of ipv4 that takes end-off <= 20 for < 20.)
func TestIPv4HeaderOnly(t *testing.T) {
	pkt := append(ethHdr(0x0800), ipv4Hdr(59, 0, ip4A, ip4B)...)
	tr := Dissect(pcapio.LinkTypeEthernet, pkt, len(pkt))
	if m := marks(tr); len(m) != 0 {
		t.Errorf("a 20-byte IPv4 packet is marked %q", m)
	}
	if s := Summarize(pcapio.LinkTypeEthernet, pkt, len(pkt)); s.Source != ip4A.String() || s.Destination != ip4B.String() {
		t.Errorf("summary %+v, want %s to %s", s, ip4A, ip4B)
	}
}

// TestIPv4InIPv4CutByOuterLength dissects IPv4 in IPv4 whose outer total
// length leaves the inner header 10 bytes; the rest of the inner header
// follows as Ethernet padding, beyond the outer packet. The inner header
// is cut short: its bytes past the outer packet are padding, not header.
// (Kills the mutant of ipv4 that takes end+off for end-off, which looks
// at the captured bytes only, and those that give the inner layer end+off
// bytes.)
func TestIPv4InIPv4CutByOuterLength(t *testing.T) {
	inner := ipv4Hdr(59, 0, ip4B, ip4A)
	pkt := append(append(ethHdr(0x0800), ipv4Hdr(4, 10, ip4A, ip4B)...), inner...)
	for len(pkt) < 60 {
		pkt = append(pkt, 0)
	}
	tr := Dissect(pcapio.LinkTypeEthernet, pkt, len(pkt))
	want := "_ws.malformed: [Malformed: IPv4 header cut short]"
	if m := marks(tr); len(m) != 1 || m[0] != want {
		t.Errorf("inner IPv4 header cut to 10 bytes by the outer length: marks %q, want %q", m, want)
	}
	var ips [][2]int // offset, length
	for _, l := range tr.Layers {
		if l.Field == "ip" {
			ips = append(ips, [2]int{l.Offset, l.Length})
		}
	}
	if len(ips) != 2 || ips[1] != [2]int{34, 10} {
		t.Errorf("IPv4 layers at (offset, length) %v, want two, the inner one at (34, 10)", ips)
	}
}

// TestIPv4AndUDPFieldLayout dissects a UDP-in-IPv4 packet whose header
// fields all differ and checks each field of the IPv4 and UDP layers: its
// byte range (RFC 791 and RFC 768 put them there), its value and its
// label. (Kills the mutants of ipv4 that move a field's offset by the
// sign of off+1 and the like, and that print ihl*4 for the header length
// in 32-bit words.)
func TestIPv4AndUDPFieldLayout(t *testing.T) {
	pkt := ipPacket(false, 17, []byte{0x30, 0x39, 0x00, 0x35, 0, 12, 0, 0, 1, 2, 3, 4}, 6)
	pkt[14+1] = 0xb8                  // DSCP EF
	pkt[14+4], pkt[14+5] = 0xab, 0xcd // identification
	type field struct {
		off, n int
		v      uint64
		label  string
	}
	want := map[string]field{
		"ip.version":          {14, 1, 4, "Version: 4"},
		"ip.hdr_len":          {14, 1, 20, "Header Length: 20 bytes (5)"},
		"ip.dsfield":          {15, 1, 0xb8, "Differentiated Services Field: 0xb8"},
		"ip.len":              {16, 2, 32, "Total Length: 32"},
		"ip.id":               {18, 2, 0xabcd, "Identification: 0xabcd"},
		"ip.flags":            {20, 1, 2, "Flags: 0x02"},
		"ip.flags.df":         {20, 1, 1, "Don't fragment: Set"},
		"ip.frag_offset":      {20, 2, 0, "Fragment Offset: 0"},
		"ip.ttl":              {22, 1, 64, "Time to Live: 64"},
		"ip.proto":            {23, 1, 17, "Protocol: UDP (17)"},
		"ip.src":              {26, 4, 0, "Source Address: 198.18.0.1"},
		"ip.dst":              {30, 4, 0, "Destination Address: 198.18.0.2"},
		"udp.srcport":         {34, 2, 12345, "Source Port: 12345"},
		"udp.dstport":         {36, 2, 53, "Destination Port: 53"},
		"udp.length":          {38, 2, 12, "Length: 12"},
		"udp.payload":         {42, 4, 0, "Payload (4 bytes)"},
		"udp.checksum":        {40, 2, uint64(pkt[40])<<8 | uint64(pkt[41]), ""},
		"ip.checksum":         {24, 2, uint64(pkt[24])<<8 | uint64(pkt[25]), ""},
		"ip.flags.mf":         {20, 1, 0, "More fragments: Not set"},
		"ip.flags.rb":         {20, 1, 0, "Reserved bit: Not set"},
		"udp.checksum.status": {40, 0, 2, ""},
	}
	got := map[string]*Node{}
	var walk func(n *Node)
	walk = func(n *Node) {
		if _, ok := want[n.Field]; ok && got[n.Field] == nil {
			got[n.Field] = n
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, l := range Dissect(pcapio.LinkTypeEthernet, pkt, len(pkt)).Layers {
		walk(l)
	}
	for name, w := range want {
		n := got[name]
		switch {
		case n == nil:
			t.Errorf("%s: missing", name)
		case n.Offset != w.off || n.Length != w.n || n.Value.N != w.v || w.label != "" && n.Label != w.label:
			t.Errorf("%s: bytes %d+%d, value %d, %q; want %d+%d, %d, %q", name, n.Offset, n.Length, n.Value.N, n.Label, w.off, w.n, w.v, w.label)
		}
	}
}

// TestIPv4TotalLengthBelowHeader dissects an IPv4 header whose total
// length (10) is below its header length (20): malformed, said at the
// total length field. (Covers the case that marks it, whose mutants no
// test reached.)
func TestIPv4TotalLengthBelowHeader(t *testing.T) {
	h := ipv4Hdr(59, 0, ip4A, ip4B)
	h[3] = 10
	pkt := append(ethHdr(0x0800), h...)
	tr := Dissect(pcapio.LinkTypeEthernet, pkt, len(pkt))
	want := "_ws.malformed: [Malformed: IPv4: bogus IP length (10, less than header length 20)]"
	if m := marks(tr); len(m) != 1 || m[0] != want {
		t.Fatalf("marks %q, want %q", m, want)
	}
	for _, l := range tr.Layers {
		for _, c := range l.Children {
			if c.Field == "_ws.malformed" && c.Offset != 16 {
				t.Errorf("the mark is at byte %d, want 16, the total length", c.Offset)
			}
		}
	}
}
