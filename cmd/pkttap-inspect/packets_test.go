package main

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// The test captures are generated here with pkttap's own writer; addresses
// are in 198.18.0.0/15.

var (
	macA = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}
	macB = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}
	ipA  = []byte{198, 18, 0, 1}
	ipB  = []byte{198, 18, 0, 2}
)

// ipv4 builds an Ethernet + IPv4 frame (valid header checksum) around payload.
func ipv4(proto byte, src, dst, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0], h[8], h[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	copy(h[12:], src)
	copy(h[16:], dst)
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
	eth := append(append(append([]byte{}, macB...), macA...), 0x08, 0x00)
	return append(append(eth, h...), payload...)
}

// udp builds a UDP header (no checksum) around payload.
func udp(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

// tcp builds a 20-byte TCP header with flags around payload.
func tcp(sport, dport uint16, flags byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], 1)
	h[12], h[13] = 5<<4, flags
	binary.BigEndian.PutUint16(h[14:], 64240)
	return append(h, payload...)
}

// dnsQuery is a DNS query for example.com, type A.
var dnsQuery = []byte{0x1a, 0x2b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}

// testPackets returns a small varied capture: DNS, a TCP handshake with an
// HTTP request, a long packet and an ARP request.
func testPackets() []pcapio.Packet {
	base := time.Unix(1700000000, 123456789)
	arp := append(append(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, macA...), 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1), macA...)
	arp = append(append(append(arp, ipA...), 0, 0, 0, 0, 0, 0), ipB...)
	frames := [][]byte{
		ipv4(17, ipA, ipB, udp(40000, 53, dnsQuery)),
		ipv4(6, ipA, ipB, tcp(50000, 80, 0x02, nil)),
		ipv4(6, ipB, ipA, tcp(80, 50000, 0x12, nil)),
		ipv4(6, ipA, ipB, tcp(50000, 80, 0x18, []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))),
		ipv4(17, ipA, ipB, udp(40001, 9999, make([]byte, 300))),
		arp,
	}
	pkts := make([]pcapio.Packet, len(frames))
	for i, f := range frames {
		pkts[i] = pcapio.Packet{Timestamp: base.Add(time.Duration(i) * 1500 * time.Microsecond), Data: f, Length: len(f), LinkType: pcapio.LinkTypeEthernet}
	}
	return pkts
}

// testFile writes testPackets to a new file named name.
func testFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := capture.DumpPackets(path, pcapio.LinkTypeEthernet, testPackets()); err != nil {
		t.Fatal(err)
	}
	return path
}
