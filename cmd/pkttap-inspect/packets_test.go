package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// The test captures are generated here with pkttap's own writer; addresses
// are in 198.18.0.0/15.

// ether4 builds an Ethernet frame from A to B (whatever the IP addresses)
// around an IPv4 header (valid checksum) and payload.
func ether4(proto byte, src, dst, payload []byte) []byte {
	return netnstest.EthFrame(testpkt.MACB, testpkt.MACA, testpkt.EtherTypeIPv4, testpkt.IPv4(proto, src, dst, payload))
}

// tcp builds a 20-byte TCP header (sequence number 1, window 64240) with
// flags around payload.
func tcp(sport, dport uint16, flags byte, payload []byte) []byte {
	return testpkt.TCP(sport, dport, 1, flags, 64240, payload)
}

// dnsQuery is a DNS query for example.com, type A.
var dnsQuery = []byte{0x1a, 0x2b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}

// testPackets returns a small varied capture: DNS, a TCP handshake with an
// HTTP request, a long packet and an ARP request.
func testPackets() []pcapio.Packet {
	base := time.Unix(1700000000, 123456789)
	ipA, ipB := testpkt.IPv4A, testpkt.IPv4B
	arp := netnstest.EthFrame([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, testpkt.MACA, testpkt.EtherTypeARP, testpkt.ARPRequest(testpkt.MACA, ipA, ipB))
	frames := [][]byte{
		ether4(testpkt.ProtoUDP, ipA, ipB, testpkt.UDP(40000, 53, dnsQuery)),
		ether4(testpkt.ProtoTCP, ipA, ipB, tcp(50000, 80, 0x02, nil)),
		ether4(testpkt.ProtoTCP, ipB, ipA, tcp(80, 50000, 0x12, nil)),
		ether4(testpkt.ProtoTCP, ipA, ipB, tcp(50000, 80, 0x18, []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))),
		ether4(testpkt.ProtoUDP, ipA, ipB, testpkt.UDP(40001, 9999, make([]byte, 300))),
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
