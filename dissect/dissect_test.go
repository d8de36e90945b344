package dissect

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// validating decodes with every checksum verified.
var validating = Options{ValidateChecksums: true}

// withoutBadChecksum returns a copy of tags without "bad-checksum".
func withoutBadChecksum(tags []string) []string {
	return slices.DeleteFunc(slices.Clone(tags), func(s string) bool { return s == "bad-checksum" })
}

func TestSummarize(t *testing.T) {
	synOpts := []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}
	badTCP := tcpPacket(false, 49152, 443, 0, 0, 0x02, 64240, nil, nil)
	badTCP[len(badTCP)-3] ^= 0xff // break the TCP checksum
	tests := []struct {
		name     string
		lt       pcapio.LinkType
		data     []byte
		src, dst string
		proto    string
		info     string
		tags     []string
	}{
		{"tcp syn", pcapio.LinkTypeEthernet, tcpPacket(false, 49152, 443, 0, 0, 0x02, 64240, synOpts, nil),
			"198.18.0.1", "198.18.0.2", "TCP", "49152 → 443 [SYN] Seq=0 Win=64240 Len=0 MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=128", []string{"tcp-syn"}},
		{"tcp fin ack v6", pcapio.LinkTypeEthernet, tcpPacket(true, 443, 49152, 100, 200, 0x11, 501, nil, nil),
			"2001:db8::1", "2001:db8::2", "TCP", "443 → 49152 [FIN, ACK] Seq=100 Ack=200 Win=501 Len=0", []string{"tcp-fin"}},
		{"tcp bad checksum", pcapio.LinkTypeEthernet, badTCP,
			"198.18.0.1", "198.18.0.2", "TCP", "49152 → 443 [SYN] Seq=0 Win=64240 Len=0", []string{"tcp-syn", "bad-checksum"}},
		{"dns query", pcapio.LinkTypeEthernet, udpPacket(false, 53000, 53, dnsQuery(0x1a2b, "example.com", 1)),
			"198.18.0.1", "198.18.0.2", "DNS", "Standard query 0x1a2b A example.com", []string{"dns"}},
		{"dns response", pcapio.LinkTypeEthernet, udpPacket(false, 53, 53000, dnsResponseA(0x1a2b, "example.com", ip4A)),
			"198.18.0.1", "198.18.0.2", "DNS", "Standard query response 0x1a2b A example.com A 198.18.0.1", []string{"dns"}},
		{"ping", pcapio.LinkTypeEthernet, ipPacket(false, 1, icmpEcho(8, 1, 1, []byte("abcdefgh")), -1),
			"198.18.0.1", "198.18.0.2", "ICMP", "Echo (ping) request  id=0x0001, seq=1/256, ttl=64", nil},
		{"arp who-has", pcapio.LinkTypeEthernet, arpPacket(1, ip4A, ip4B, make([]byte, 6)),
			"00:11:22:33:44:55", "66:77:88:99:aa:bb", "ARP", "Who has 198.18.0.2? Tell 198.18.0.1", []string{"arp"}},
		{"arp reply", pcapio.LinkTypeEthernet, arpPacket(2, ip4A, ip4B, macB),
			"00:11:22:33:44:55", "66:77:88:99:aa:bb", "ARP", "198.18.0.1 is at 00:11:22:33:44:55", []string{"arp"}},
		{"udp", pcapio.LinkTypeEthernet, udpPacket(false, 40000, 9999, []byte("hello")),
			"198.18.0.1", "198.18.0.2", "UDP", "40000 → 9999 Len=5", nil},
		{"tls sni", pcapio.LinkTypeEthernet, tcpPacket(false, 49152, 443, 1, 1, 0x18, 502, nil, tlsClientHello("example.com")),
			"198.18.0.1", "198.18.0.2", "TLSv1.2", "Client Hello (SNI=example.com)", nil},
		{"http", pcapio.LinkTypeEthernet, tcpPacket(false, 49152, 80, 1, 1, 0x18, 502, nil, []byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n")),
			"198.18.0.1", "198.18.0.2", "HTTP", "GET /index.html HTTP/1.1", nil},
		{"raw ipv4", pcapio.LinkTypeRaw, udpPacket(false, 40000, 9999, nil)[14:],
			"198.18.0.1", "198.18.0.2", "UDP", "40000 → 9999 Len=0", nil},
		{"truncated tcp", pcapio.LinkTypeEthernet, tcpPacket(false, 49152, 443, 0, 0, 0x02, 64240, nil, nil)[:40],
			"198.18.0.1", "198.18.0.2", "TCP", "49152 → 443 [Packet truncated]", nil},
		{"truncated tcp options", pcapio.LinkTypeEthernet, tcpPacket(false, 49152, 443, 0, 0, 0x02, 64240, synOpts, nil)[:62],
			"198.18.0.1", "198.18.0.2", "TCP", "49152 → 443 [SYN] Seq=0 Win=64240 [Packet truncated]", []string{"tcp-syn"}},
		{"empty", pcapio.LinkTypeEthernet, nil, "", "", "Ethernet", "[Packet truncated]", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wire := len(tc.data)
			if strings.HasPrefix(tc.name, "truncated") || tc.name == "empty" {
				wire = 54 + 20
			}
			// Checksums validated, so that a packet built wrong shows.
			s := validating.Summarize(tc.lt, tc.data, wire)
			if s.Source != tc.src || s.Destination != tc.dst || s.Protocol != tc.proto || s.Info != tc.info || !slices.Equal(s.Tags, tc.tags) {
				t.Errorf("Summarize() =\n  %q %q %q %q %q\nwant\n  %q %q %q %q %q", s.Source, s.Destination, s.Protocol, s.Info, s.Tags, tc.src, tc.dst, tc.proto, tc.info, tc.tags)
			}
			// By default the same, but no TCP checksum is verified.
			if tags, want := Summarize(tc.lt, tc.data, wire).Tags, withoutBadChecksum(tc.tags); !slices.Equal(tags, want) {
				t.Errorf("Summarize() without validation: tags %q, want %q", tags, want)
			}
			checkTree(t, Dissect(tc.lt, tc.data, wire), len(tc.data))
			checkTree(t, validating.Dissect(tc.lt, tc.data, wire), len(tc.data))
		})
	}
}

// checkTree checks every node's byte range lies in the captured bytes and
// inside its parent's.
func checkTree(t *testing.T, tr *Tree, n int) {
	t.Helper()
	var check func(nd *Node, lo, hi int)
	check = func(nd *Node, lo, hi int) {
		if nd.Offset < 0 || nd.Length < 0 || nd.Offset+nd.Length > n {
			t.Errorf("node %q (%s) range [%d,+%d) outside the %d captured bytes", nd.Label, nd.Field, nd.Offset, nd.Length, n)
		}
		for _, c := range nd.Children {
			check(c, nd.Offset, nd.Offset+nd.Length)
		}
	}
	if len(tr.Layers) == 0 || tr.Layers[0].Field != "frame" {
		t.Fatalf("tree does not start with the frame layer")
	}
	for _, l := range tr.Layers {
		check(l, 0, n)
	}
}

func TestDissectFieldRanges(t *testing.T) {
	pkt := tcpPacket(false, 49152, 443, 7, 0, 0x02, 64240, []byte{2, 4, 5, 0xb4}, nil)
	tr := Dissect(pcapio.LinkTypeEthernet, pkt, len(pkt))
	want := map[string][2]int{
		"eth.dst": {0, 6}, "eth.src": {6, 6}, "eth.type": {12, 2},
		"ip.src": {26, 4}, "ip.dst": {30, 4}, "ip.ttl": {22, 1}, "ip.checksum": {24, 2},
		"tcp.srcport": {34, 2}, "tcp.dstport": {36, 2}, "tcp.seq_raw": {38, 4}, "tcp.flags": {46, 2},
		"tcp.options.mss_val": {56, 2}, "tcp.checksum": {50, 2},
	}
	got := map[string][2]int{}
	tr.Walk(func(n *Node, _ int) bool {
		if _, ok := want[n.Field]; ok {
			got[n.Field] = [2]int{n.Offset, n.Length}
		}
		return true
	})
	for f, w := range want {
		if got[f] != w {
			t.Errorf("%s at %v, want %v", f, got[f], w)
		}
	}
	if n := tr.FieldAt(35); n == nil || n.Field != "tcp.srcport" {
		t.Errorf("FieldAt(35) = %+v, want tcp.srcport", n)
	}
}

func TestDNSCompressionLoop(t *testing.T) {
	// A query whose name is a pointer to itself, and one pointing forward.
	for _, name := range [][]byte{{0xc0, 12}, {0xc0, 14, 0}, {3, 'a', 'b', 'c', 0xc0, 12}} {
		msg := []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
		msg = append(msg, name...)
		msg = append(msg, 0, 1, 0, 1)
		pkt := udpPacket(false, 5000, 53, msg)
		s := Summarize(pcapio.LinkTypeEthernet, pkt, len(pkt))
		if !strings.Contains(s.Info, "[Malformed") {
			t.Errorf("name %x: Info %q does not say malformed", name, s.Info)
		}
	}
	// Deep but legal chain of backward pointers: each label points back.
	msg := []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	_ = binary.BigEndian
	pkt := udpPacket(false, 5000, 53, msg)
	Summarize(pcapio.LinkTypeEthernet, pkt, len(pkt))
}

func TestChecksumAdd(t *testing.T) {
	// The wide checksum must equal the byte-pair definition for every
	// length and starting sum.
	slow := func(b []byte, sum uint32) uint16 {
		s := uint64(sum)
		for i := 0; i+1 < len(b); i += 2 {
			s += uint64(b[i])<<8 | uint64(b[i+1])
		}
		if len(b)%2 == 1 {
			s += uint64(b[len(b)-1]) << 8
		}
		for s > 0xffff {
			s = s>>16 + s&0xffff
		}
		return uint16(s)
	}
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*7 + 0xf0)
	}
	for n := 0; n <= len(b); n++ {
		for _, sum := range []uint32{0, 1, 0xffff, 0x1fffe, 0xfffffff0} {
			if got, want := checksumFold(checksumAdd(b[:n], sum)), slow(b[:n], sum); got != want {
				t.Fatalf("len %d sum %#x: got %#04x want %#04x", n, sum, got, want)
			}
		}
	}
}

func TestBoundedWork(t *testing.T) {
	// 2000 stacked VLAN tags: the depth limit stops the decoder.
	vlans := ethHdr(0x8100)
	for i := 0; i < 2000; i++ {
		vlans = append(vlans, 0, 1, 0x81, 0)
	}
	// A DNS message claiming 65535 questions of one-byte names.
	dns := []byte{0, 1, 1, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0}
	for i := 0; i < 1000; i++ {
		dns = append(dns, 0, 0, 1, 0, 1)
	}
	// 4000 empty IPv6 destination-options headers in a row.
	ext := []byte{}
	for i := 0; i < 4000; i++ {
		ext = append(ext, 60, 0, 1, 4, 0, 0, 0, 0)
	}
	for _, tc := range []struct {
		name string
		pkt  []byte
		want string
	}{
		{"vlan stack", vlans, "too many nested headers"},
		{"dns questions", udpPacket(false, 5000, 53, dns), "too many queries"},
		{"extension chain", ipPacket(true, 60, ext, -1), "too many nested headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Summarize(pcapio.LinkTypeEthernet, tc.pkt, len(tc.pkt))
			if !strings.Contains(s.Info, tc.want) {
				t.Errorf("Info %q does not say %q", s.Info, tc.want)
			}
			n := 0
			Dissect(pcapio.LinkTypeEthernet, tc.pkt, len(tc.pkt)).Walk(func(*Node, int) bool { n++; return true })
			if n > maxNodes {
				t.Errorf("%d nodes", n)
			}
		})
	}
}

func TestWalkStops(t *testing.T) {
	pkt := udpPacket(false, 1, 2, nil)
	n := 0
	Dissect(pcapio.LinkTypeEthernet, pkt, len(pkt)).Walk(func(*Node, int) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("Walk visited %d nodes after being told to stop at 3", n)
	}
	var nilTree *Tree
	nilTree.Walk(func(*Node, int) bool { t.Error("visited a node of a nil tree"); return true })
	if f := Dissect(pcapio.LinkTypeEthernet, pkt, len(pkt)).FieldAt(len(pkt) + 5); f != nil {
		t.Errorf("FieldAt past the end = %q", f.Field)
	}
}

func TestChecksumOffload(t *testing.T) {
	// A segment captured on the sending host before the NIC filled in the
	// checksum: the field holds the pseudo-header sum only.
	pkt := tcpPacket(false, 49152, 443, 1, 0, 0x02, 64240, nil, nil)
	l4 := pkt[34:]
	binary.BigEndian.PutUint16(l4[16:], checksumFold(pseudo(ip4A, ip4B, 6, len(l4))))
	s := validating.Summarize(pcapio.LinkTypeEthernet, pkt, len(pkt))
	if slices.Contains(s.Tags, "bad-checksum") {
		t.Errorf("offloaded checksum tagged bad: %v", s.Tags)
	}
	found := false
	validating.Dissect(pcapio.LinkTypeEthernet, pkt, len(pkt)).Walk(func(n *Node, _ int) bool {
		if n.Field == "tcp.checksum" {
			found = strings.Contains(n.Label, "NIC")
		}
		return true
	})
	if !found {
		t.Error("tcp.checksum label does not say the NIC fills it in")
	}
}

func TestConcurrent(t *testing.T) {
	mix := trafficMix(200, 3)
	want := make([]Summary, len(mix))
	for i, p := range mix {
		want[i] = Summarize(p.lt, p.data, p.wire)
	}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i, p := range mix {
				s := Summarize(p.lt, p.data, p.wire)
				if s.Info != want[i].Info || s.Source != want[i].Source || s.Destination != want[i].Destination {
					ok = false
				}
				Dissect(p.lt, p.data, p.wire)
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("concurrent summaries differ from sequential ones")
		}
	}
}

// TestCutByCapture checks that a field cut off by the snap length makes a
// packet truncated, not malformed.
func TestCutByCapture(t *testing.T) {
	quic := udpPacket(false, 50000, 443, append([]byte{0xc3, 0, 0, 0, 1, 4, 0xde, 0xad, 0xbe, 0xef, 0}, make([]byte, 40)...))
	dns := udpPacket(false, 53000, 53, dnsQuery(0x1a2b, "example.com", 1))
	dnsAnswer := udpPacket(false, 53, 53000, dnsResponseA(0x1a2b, "example.com", ip4A))
	tests := []struct {
		name string
		data []byte
		cut  int
		info string
	}{
		{"dns query name", dns, 14 + 20 + 8 + 16, "Standard query 0x1a2b [Packet truncated]"},
		{"dns query name past the message", udpPacket(false, 53000, 53, dns[42:58]), 14 + 20 + 8 + 16,
			"Standard query 0x1a2b [Malformed: DNS: bad query name]"},
		{"dns answer name", dnsAnswer, 14 + 20 + 8 + 29 + 1, "Standard query response 0x1a2b A example.com [Packet truncated]"},
		{"quic dcid", quic, 14 + 20 + 8 + 8, "[Packet truncated]"},
		{"quic scil", quic, 14 + 20 + 8 + 10, "[Packet truncated]"},
		{"quic dcid past the datagram", udpPacket(false, 50000, 443, []byte{0xc3, 0, 0, 0, 1, 20, 0xde, 0xad}), 14 + 20 + 8 + 8,
			"[Malformed: QUIC: connection ID length impossible]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s := Summarize(pcapio.LinkTypeEthernet, tc.data[:tc.cut], len(tc.data)); s.Info != tc.info {
				t.Errorf("Summarize(cut at %d of %d).Info = %q, want %q", tc.cut, len(tc.data), s.Info, tc.info)
			}
		})
	}
}
