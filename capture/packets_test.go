package capture_test

import (
	"encoding/binary"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// The test packets are built here, byte by byte, so the tests need no
// fixture files. Addresses are in 198.18.0.0/15 (RFC 2544 benchmarking).

var (
	macA = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}
	macB = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}
	ipA  = []byte{198, 18, 0, 1}
	ipB  = []byte{198, 18, 0, 2}
	ip6A = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	ip6B = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
)

// baseTime is the first test packet's timestamp; packet i is i seconds and
// i*1001 nanoseconds later, so each is told apart by its timestamp.
var baseTime = time.Unix(1700000000, 123456789)

// ether prepends an Ethernet II header.
func ether(dst, src []byte, etype uint16, payload []byte) []byte {
	b := append(append(append([]byte{}, dst...), src...), byte(etype>>8), byte(etype))
	return append(b, payload...)
}

// ipv4 builds an IPv4 header with a valid checksum around payload.
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
	return append(h, payload...)
}

// ipv6 builds an IPv6 header around payload.
func ipv6(next byte, src, dst, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0], h[6], h[7] = 0x60, next, 64
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	copy(h[8:], src)
	copy(h[24:], dst)
	return append(h, payload...)
}

// udp builds a UDP header (checksum 0: none) around payload.
func udp(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

// tcp builds a 20-byte TCP header with the given flags around payload.
func tcp(sport, dport uint16, flags byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], 1000)
	h[12], h[13] = 5<<4, flags
	binary.BigEndian.PutUint16(h[14:], 65535)
	return append(h, payload...)
}

// arpRequest builds an ARP who-has for ipB from A.
func arpRequest() []byte {
	b := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	b = append(append(b, macA...), ipA...)
	b = append(append(b, 0, 0, 0, 0, 0, 0), ipB...)
	return b
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
	for i := range 4 {
		add(0x0800, ipv4(17, ipA, ipB, udp(40000+uint16(i), 53, fill(30+i))))
		add(0x0800, ipv4(17, ipB, ipA, udp(53, 40000+uint16(i), fill(90))))
		add(0x0800, ipv4(6, ipA, ipB, tcp(50000, 80, 0x02, nil)))
		add(0x0800, ipv4(6, ipB, ipA, tcp(80, 50000, 0x12, nil)))
		add(0x0800, ipv4(6, ipA, ipB, tcp(50000, 443, 0x18, fill(1400))))
		add(0x0800, ipv4(6, ipB, ipA, tcp(443, 50000, 0x11, nil)))
		add(0x0806, arpRequest())
		add(0x86dd, ipv6(17, ip6A, ip6B, udp(5353, 5353, fill(60))))
		add(0x86dd, ipv6(6, ip6B, ip6A, tcp(22, 60000, 0x04, nil)))
	}
	return frames, etypes
}

// ethernetPackets returns the test frames as Ethernet packets.
func ethernetPackets() []pcapio.Packet {
	frames, etypes := testFrames()
	pkts := make([]pcapio.Packet, len(frames))
	for i, f := range frames {
		src, dst := macA, macB
		if i%2 == 1 {
			src, dst = macB, macA
		}
		if etypes[i] == 0x0806 {
			dst = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		data := ether(dst, src, etypes[i], f)
		pkts[i] = pcapio.Packet{Timestamp: stamp(i), Data: data, Length: len(data), LinkType: pcapio.LinkTypeEthernet}
	}
	return pkts
}

// rawPackets returns the IP test frames as raw IP (LINKTYPE_RAW) packets.
func rawPackets() []pcapio.Packet {
	frames, etypes := testFrames()
	var pkts []pcapio.Packet
	for i, f := range frames {
		if etypes[i] == 0x0806 {
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
