package vm

import (
	"encoding/binary"
	"math/rand/v2"
)

// This file generates the benchmarks' packet mix: Ethernet frames as a
// busy office link carries them. Headers are built field by field;
// payloads are left zero because no benchmark filter reads them.

// mixSize is the number of packets in the benchmark mix.
const mixSize = 100_000

// mixSnaplen is the mix's capture length: packets are kept as a
// header-only capture (tcpdump -s 128) keeps them, which also keeps the
// mix (13 MB) in a server's last-level cache; the wire length is the
// packet's full size.
const mixSnaplen = 128

// genMix returns n packets: about 70% IPv4 and 25% IPv6 (TCP, UDP with a
// third of it DNS, ICMP/ICMPv6), the rest ARP; 8% of the IP packets carry
// an 802.1Q tag; a few IPv4 packets have options or are later fragments;
// sizes are bimodal (acks and queries vs full segments). Each is captured
// up to mixSnaplen bytes; the packets share one backing array, as a
// capture buffer would.
func genMix(n int, seed uint64) []testPacket {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	sizes := make([]int, n)
	total := 0
	for i := range sizes {
		switch p := r.IntN(100); {
		case p < 45:
			sizes[i] = 60 + r.IntN(40)
		case p < 70:
			sizes[i] = 100 + r.IntN(500)
		default:
			sizes[i] = 1200 + r.IntN(315)
		}
		total += min(sizes[i], mixSnaplen)
	}
	arena := make([]byte, total)
	pkts := make([]testPacket, n)
	off := 0
	for i, size := range sizes {
		frame := make([]byte, size)
		fillFrame(r, frame)
		caplen := min(size, mixSnaplen)
		pkt := arena[off : off+caplen : off+caplen]
		off += caplen
		copy(pkt, frame)
		pkts[i] = testPacket{data: pkt, wireLen: size}
	}
	return pkts
}

// fillFrame writes Ethernet, optional VLAN, IP and transport headers into
// pkt (at least 60 bytes).
func fillFrame(r *rand.Rand, pkt []byte) {
	copy(pkt[0:6], []byte{0x00, 0x1b, 0x21, byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
	copy(pkt[6:12], []byte{0x3c, 0xfd, 0xfe, byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
	l3 := 14
	kind := r.IntN(100)
	if kind < 5 {
		binary.BigEndian.PutUint16(pkt[12:], 0x0806) // ARP request
		binary.BigEndian.PutUint32(pkt[14:], 0x00010800)
		binary.BigEndian.PutUint32(pkt[18:], 0x06040001)
		copy(pkt[28:32], randomIPv4(r))
		copy(pkt[38:42], randomIPv4(r))
		return
	}
	if r.IntN(100) < 8 {
		binary.BigEndian.PutUint16(pkt[12:], 0x8100)
		binary.BigEndian.PutUint16(pkt[14:], uint16(r.IntN(4096)))
		l3 = 18
	}
	proto, sport, dport := randomFlow(r)
	if kind < 75 || len(pkt) < l3+40+20 {
		binary.BigEndian.PutUint16(pkt[l3-2:], 0x0800)
		ihl := 5
		if r.IntN(50) == 0 && len(pkt) >= l3+32+20 {
			ihl = 6 + r.IntN(3) // IP options
		}
		ip := pkt[l3:]
		ip[0] = 0x40 | byte(ihl)
		binary.BigEndian.PutUint16(ip[2:], uint16(len(pkt)-l3))
		binary.BigEndian.PutUint16(ip[4:], uint16(r.Uint32()))
		if r.IntN(100) == 0 {
			binary.BigEndian.PutUint16(ip[6:], uint16(1+r.IntN(180))) // a later fragment
		} else {
			binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
		}
		ip[8] = 64
		ip[9] = proto
		copy(ip[12:16], randomIPv4(r))
		copy(ip[16:20], randomIPv4(r))
		fillTransport(r, ip[ihl*4:], proto, sport, dport)
		return
	}
	binary.BigEndian.PutUint16(pkt[l3-2:], 0x86dd)
	ip := pkt[l3:]
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(pkt)-l3-40))
	if proto == 1 {
		proto = 58
	}
	ip[6] = proto
	ip[7] = 64
	copy(ip[8:24], randomIPv6(r))
	copy(ip[24:40], randomIPv6(r))
	fillTransport(r, ip[40:], proto, sport, dport)
}

// randomFlow picks a transport protocol and ports.
func randomFlow(r *rand.Rand) (proto uint8, sport, dport uint16) {
	eph := uint16(32768 + r.IntN(28232))
	switch p := r.IntN(100); {
	case p < 62:
		server := []uint16{443, 443, 443, 80, 80, 22, 8080, 993, 5432}[r.IntN(9)]
		if r.IntN(2) == 0 {
			return 6, eph, server
		}
		return 6, server, eph
	case p < 93:
		if r.IntN(3) == 0 {
			if r.IntN(2) == 0 {
				return 17, eph, 53
			}
			return 17, 53, eph
		}
		return 17, eph, []uint16{443, 123, 5353, 4500, 3478}[r.IntN(5)]
	}
	return 1, 0, 0
}

// fillTransport writes a TCP, UDP or ICMP header at the start of l4.
func fillTransport(r *rand.Rand, l4 []byte, proto uint8, sport, dport uint16) {
	switch proto {
	case 6:
		binary.BigEndian.PutUint16(l4[0:], sport)
		binary.BigEndian.PutUint16(l4[2:], dport)
		binary.BigEndian.PutUint32(l4[4:], r.Uint32())
		binary.BigEndian.PutUint32(l4[8:], r.Uint32())
		l4[12] = 5 << 4
		switch f := r.IntN(100); {
		case f < 6:
			l4[13] = 0x02 // SYN
		case f < 12:
			l4[13] = 0x12 // SYN+ACK
		case f < 15:
			l4[13] = 0x11 // FIN+ACK
		case f < 16:
			l4[13] = 0x04 // RST
		default:
			l4[13] = 0x18 // PSH+ACK
		}
	case 17:
		binary.BigEndian.PutUint16(l4[0:], sport)
		binary.BigEndian.PutUint16(l4[2:], dport)
	default:
		l4[0] = []byte{0, 8, 3, 11, 128, 129}[r.IntN(6)]
	}
}

// randomIPv4 returns an address: 10.1.2.3 often, 10/8 mostly, else
// private or public ones.
func randomIPv4(r *rand.Rand) []byte {
	switch p := r.IntN(100); {
	case p < 5:
		return []byte{10, 1, 2, 3}
	case p < 45:
		return []byte{10, byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))}
	case p < 60:
		return []byte{192, 168, byte(r.IntN(4)), byte(1 + r.IntN(254))}
	}
	return []byte{byte(1 + r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))}
}

// randomIPv6 returns a global or link-local address.
func randomIPv6(r *rand.Rand) []byte {
	a := make([]byte, 16)
	if r.IntN(4) == 0 {
		a[0], a[1] = 0xfe, 0x80
	} else {
		a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
	}
	binary.BigEndian.PutUint64(a[8:], r.Uint64())
	return a
}
