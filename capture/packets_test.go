package capture_test

import (
	"time"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// The test packets are built here with internal/testpkt, so the tests need
// no fixture files. Addresses are in 198.18.0.0/15 (RFC 2544 benchmarking).

// baseTime is the first test packet's timestamp; packet i is i seconds and
// i*1001 nanoseconds later, so each is told apart by its timestamp.
var baseTime = time.Unix(1700000000, 123456789)

// tcp builds a 20-byte TCP header (sequence number 1000, window 65535)
// with the given flags around payload.
func tcp(sport, dport uint16, flags byte, payload []byte) []byte {
	return testpkt.TCP(sport, dport, 1000, flags, 65535, payload)
}

// fill returns n bytes of printable text.
func fill(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "pkttap test payload "[i%20]
	}
	return b
}

// testFrames returns the network-layer packets (no link header) and, for
// each, its EtherType: a mix of UDP, TCP with various flags and sizes, ARP
// and IPv6.
func testFrames() (frames [][]byte, etypes []uint16) {
	add := func(et uint16, b []byte) { frames, etypes = append(frames, b), append(etypes, et) }
	ipA, ipB, ip6A, ip6B := testpkt.IPv4A, testpkt.IPv4B, testpkt.IPv6A, testpkt.IPv6B
	for i := range 4 {
		add(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoUDP, ipA, ipB, testpkt.UDP(40000+uint16(i), 53, fill(30+i))))
		add(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoUDP, ipB, ipA, testpkt.UDP(53, 40000+uint16(i), fill(90))))
		add(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, ipA, ipB, tcp(50000, 80, 0x02, nil)))
		add(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, ipB, ipA, tcp(80, 50000, 0x12, nil)))
		add(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, ipA, ipB, tcp(50000, 443, 0x18, fill(1400))))
		add(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, ipB, ipA, tcp(443, 50000, 0x11, nil)))
		add(testpkt.EtherTypeARP, testpkt.ARPRequest(testpkt.MACA, ipA, ipB))
		add(testpkt.EtherTypeIPv6, testpkt.IPv6(testpkt.ProtoUDP, ip6A, ip6B, testpkt.UDP(5353, 5353, fill(60))))
		add(testpkt.EtherTypeIPv6, testpkt.IPv6(testpkt.ProtoTCP, ip6B, ip6A, tcp(22, 60000, 0x04, nil)))
	}
	return frames, etypes
}

// ethernetPackets returns the test frames as Ethernet packets.
func ethernetPackets() []pcapio.Packet {
	frames, etypes := testFrames()
	pkts := make([]pcapio.Packet, len(frames))
	for i, f := range frames {
		src, dst := testpkt.MACA, testpkt.MACB
		if i%2 == 1 {
			src, dst = testpkt.MACB, testpkt.MACA
		}
		if etypes[i] == testpkt.EtherTypeARP {
			dst = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		data := netnstest.EthFrame(dst, src, etypes[i], f)
		pkts[i] = pcapio.Packet{Timestamp: stamp(i), Data: data, Length: len(data), LinkType: pcapio.LinkTypeEthernet}
	}
	return pkts
}

// rawPackets returns the IP test frames as raw IP (LINKTYPE_RAW) packets.
func rawPackets() []pcapio.Packet {
	frames, etypes := testFrames()
	var pkts []pcapio.Packet
	for i, f := range frames {
		if etypes[i] == testpkt.EtherTypeARP {
			continue
		}
		pkts = append(pkts, pcapio.Packet{Timestamp: stamp(i), Data: f, Length: len(f), LinkType: pcapio.LinkTypeRaw})
	}
	return pkts
}

// stamp returns packet i's timestamp.
func stamp(i int) time.Time {
	return baseTime.Add(time.Duration(i)*time.Second + time.Duration(i)*1001*time.Nanosecond)
}
