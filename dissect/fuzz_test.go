package dissect

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// fuzzLinkTypes are the link types the fuzz targets choose from.
var fuzzLinkTypes = []pcapio.LinkType{
	pcapio.LinkTypeEthernet, pcapio.LinkTypeRaw, pcapio.LinkTypeLinuxSLL, pcapio.LinkTypeLinuxSLL2,
	pcapio.LinkTypeNull, pcapio.LinkTypeLoop, pcapio.LinkTypeIPv4, pcapio.LinkTypeIPv6,
	pcapio.LinkTypePPP, pcapio.LinkTypeIEEE802_11, pcapio.LinkTypeIPoIB, pcapio.LinkTypeIPNet,
	pcapio.LinkTypeNFLog, pcapio.LinkTypePPI, pcapio.LinkTypeFRelay, pcapio.LinkTypeJuniperEther,
}

// fuzzSeeds returns generated packets of every kind the decoders handle,
// whole and cut short, re-framed for the other link types.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, p := range trafficMix(64, 7) {
		seeds = append(seeds, p.data)
	}
	seeds = append(seeds,
		udpPacket(false, 4789, 4789, append([]byte{8, 0, 0, 0, 0, 0, 1, 0}, arpPacket(1, ip4A, ip4B, make([]byte, 6))...)),
		udpPacket(false, 6081, 6081, append([]byte{1, 0, 0x65, 0x58, 0, 0, 1, 0, 0, 0, 0x80, 1, 0, 0, 0, 0}, arpPacket(1, ip4A, ip4B, make([]byte, 6))...)),
		ipPacket(false, 47, append([]byte{0x20, 0, 0x08, 0, 0, 0, 0, 1}, ipv4Hdr(1, 8, ip4A, ip4B)...), -1),
		ipPacket(false, 132, []byte{0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0x10, 0, 0, 1, 0, 1, 0, 0, 0, 1}, -1),
		ipPacket(true, 0, []byte{58, 0, 1, 4, 0, 0, 0, 0, 128, 0, 0, 0, 0, 1, 0, 1}, -1),
		ipPacket(true, 58, []byte{135, 0, 0, 0, 0, 0, 0, 0, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 1, 0, 0x11, 0x22, 0x33, 0x44, 0x55}, -1),
		ipPacket(false, 2, []byte{0x22, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 239, 1, 1, 1}, -1),
		udpPacket(false, 68, 67, append(make([]byte, 236), 0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255)),
		udpPacket(false, 123, 123, append([]byte{0x23}, make([]byte, 47)...)),
		udpPacket(false, 5353, 5353, dnsResponseA(0, "printer.local", ip4A)),
		udpPacket(false, 1900, 1900, []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n")),
		append(ethHdr(0x8864), 0x11, 0, 0, 1, 0, 6, 0xc0, 0x21, 1, 1, 0, 4),
		append(ethHdr(0x8847), 0, 0x01, 0x01, 0x40, 0x45),
		append(append(ethHdr(0x88a8), 0, 10, 0x81, 0), 0, 20, 0x08, 0x06),
	)
	n := len(seeds)
	for _, s := range seeds[:n] {
		if len(s) > 20 {
			seeds = append(seeds, s[:len(s)/2], s[14:])
		}
	}
	return seeds
}

// checkInvariants fails when a tree node lies outside the captured bytes,
// there are too many nodes, or the summary has no protocol.
func checkInvariants(t *testing.T, lt pcapio.LinkType, data []byte, wire int) (Summary, *Tree) {
	t.Helper()
	s := Summarize(lt, data, wire)
	if s.Protocol == "" {
		t.Fatalf("empty Protocol for % x", data)
	}
	for _, tg := range s.Tags {
		known := false
		for _, n := range tagNames {
			known = known || n == tg
		}
		if !known {
			t.Fatalf("unknown tag %q", tg)
		}
	}
	tr := Dissect(lt, data, wire)
	count := 0
	tr.Walk(func(n *Node, _ int) bool {
		count++
		if n.Offset < 0 || n.Length < 0 || n.Offset+n.Length > len(data) {
			t.Fatalf("node %q (%s) range [%d,+%d) outside %d bytes", n.Label, n.Field, n.Offset, n.Length, len(data))
		}
		return true
	})
	if count > maxNodes {
		t.Fatalf("%d nodes, limit %d", count, maxNodes)
	}
	return s, tr
}

func FuzzDissect(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(uint8(i%3), s, uint16(i%2*100))
	}
	f.Fuzz(func(t *testing.T, lti uint8, data []byte, extra uint16) {
		lt := fuzzLinkTypes[int(lti)%len(fuzzLinkTypes)]
		if lt != pcapio.LinkTypeEthernet && len(data) > 14 && lti < 128 {
			data = data[14:] // the seeds are Ethernet frames: try their payload
		}
		s, _ := checkInvariants(t, lt, data, len(data)+int(extra))
		// Verifying checksums changes at most the bad-checksum tag and the
		// checksum lines, never the columns, and keeps every node in the
		// packet.
		v := validating.Summarize(lt, data, len(data)+int(extra))
		if v.Source != s.Source || v.Destination != s.Destination || v.Protocol != s.Protocol || v.Info != s.Info || !slices.Equal(withoutBadChecksum(v.Tags), withoutBadChecksum(s.Tags)) {
			t.Fatalf("verifying checksums changed the summary: %+v, unverified %+v", v, s)
		}
		validating.Dissect(lt, data, len(data)+int(extra)).Walk(func(n *Node, _ int) bool {
			if n.Offset < 0 || n.Length < 0 || n.Offset+n.Length > len(data) {
				t.Fatalf("verifying checksums: node %q (%s) range [%d,+%d) outside %d bytes", n.Label, n.Field, n.Offset, n.Length, len(data))
			}
			return true
		})
	})
}

// headerLayers are the layers whose node covers a fixed header only (not
// its payload), so a capture cut inside one cuts the header.
var headerLayers = map[string]bool{}

func init() {
	for _, f := range strings.Fields("eth vlan ieee8021ad sll ip ipv6 tcp udp arp igmp gre vxlan geneve pppoes pppoed ppp mpls llc") {
		headerLayers[f] = true
	}
}

// TestTruncations decodes every prefix of every seed, with the seed's
// length as the on-wire length: never a panic, the "[Packet truncated]"
// mark in the Info column exactly when the tree has its _ws.short node,
// no mark on the whole seed, and a mark on every prefix that ends inside
// a header (a layer of headerLayers in the whole seed's tree).
func TestTruncations(t *testing.T) {
	const mark = "[Packet truncated]"
	cutHeaders, failures := 0, 0
	fail := func(format string, args ...any) {
		t.Helper()
		if failures++; failures > 20 {
			t.Fatalf("more than 20 failures; the last: "+format, args...)
		}
		t.Errorf(format, args...)
	}
	for i, s := range fuzzSeeds() {
		_, whole := checkInvariants(t, pcapio.LinkTypeEthernet, s, len(s))
		var headers []*Node
		for _, l := range whole.Layers {
			if headerLayers[l.Field] {
				headers = append(headers, l)
			}
		}
		for n := 0; n <= len(s); n++ {
			sum, tr := checkInvariants(t, pcapio.LinkTypeEthernet, s[:n], len(s))
			node := false
			tr.Walk(func(nd *Node, _ int) bool {
				node = node || nd.Field == "_ws.short"
				return !node
			})
			info := strings.Contains(sum.Info, mark)
			if node != info {
				fail("seed %d cut to %d of %d bytes: _ws.short node %v, Info %q", i, n, len(s), node, sum.Info)
			}
			if n == len(s) {
				if node || info {
					fail("seed %d, whole (%d bytes): marked truncated: Info %q", i, n, sum.Info)
				}
				continue
			}
			for _, h := range headers {
				if n > h.Offset && n < h.Offset+h.Length {
					cutHeaders++
					if !node || !info {
						fail("seed %d cut to %d of %d bytes, inside its %s header [%d,+%d): no truncation mark (Info %q)", i, n, len(s), h.Field, h.Offset, h.Length, sum.Info)
					}
					break
				}
			}
		}
	}
	if cutHeaders < 1000 {
		t.Errorf("only %d prefixes cut a header; the seeds should give thousands", cutHeaders)
	}
}

// TestCorpusInvariants decodes every packet of every capture in the shared
// corpus, whatever its link type, whole and cut to a 64-byte snap length:
// no panic, every node inside the captured bytes.
func TestCorpusInvariants(t *testing.T) {
	corpus := filepath.Join(testenv.SharedDir(t), "corpus")
	files := readManifest(t, corpus)
	n := 0
	for _, cf := range files {
		pkts, err := readPackets(filepath.Join(corpus, cf.name))
		if err != nil {
			t.Errorf("%s: %v (checking the %d packets before it)", cf.name, err, len(pkts))
		}
		for _, p := range pkts {
			checkInvariants(t, p.LinkType, p.Data, p.Length)
			if len(p.Data) > 64 {
				checkInvariants(t, p.LinkType, p.Data[:64], p.Length)
			}
			n++
		}
	}
	t.Logf("%d packets from %d files", n, len(files))
}
