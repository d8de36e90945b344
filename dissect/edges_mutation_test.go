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
