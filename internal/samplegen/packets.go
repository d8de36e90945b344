// Package samplegen builds the captures pkttap-web ships and tests with:
// the small demo capture embedded in the server, and synthetic captures of
// any size for tests and benchmarks. Every packet is built byte by byte
// here, with correct checksums unless a bad one is wanted.
package samplegen

import (
	"encoding/binary"
	"net/netip"
)

// mac is an Ethernet address.
type mac [6]byte

// checksum is the Internet checksum (RFC 1071) of b, starting from sum.
func checksum(sum uint32, b []byte) uint16 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// pseudoSum is the partial sum of the TCP/UDP pseudo-header.
func pseudoSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
	}
	s, d := src.AsSlice(), dst.AsSlice()
	add(s)
	add(d)
	sum += uint32(proto)
	sum += uint32(length)
	return sum
}

// ether prepends an Ethernet II header to payload.
func ether(dst, src mac, etherType uint16, payload []byte) []byte {
	b := make([]byte, 14, 14+len(payload))
	copy(b[0:], dst[:])
	copy(b[6:], src[:])
	binary.BigEndian.PutUint16(b[12:], etherType)
	return append(b, payload...)
}

// vlan prepends an 802.1Q tag (the caller's etherType follows it).
func vlanTag(id uint16, etherType uint16, payload []byte) []byte {
	b := make([]byte, 4, 4+len(payload))
	binary.BigEndian.PutUint16(b[0:], id&0x0fff)
	binary.BigEndian.PutUint16(b[2:], etherType)
	return append(b, payload...)
}

// ipv4 builds an IPv4 packet around payload.
func ipv4(src, dst netip.Addr, proto uint8, id uint16, ttl uint8, payload []byte) []byte {
	b := make([]byte, 20, 20+len(payload))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(b[4:], id)
	b[6] = 0x40 // don't fragment
	b[8] = ttl
	b[9] = proto
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], checksum(0, b[:20]))
	return append(b, payload...)
}

// ipv6 builds an IPv6 packet around payload.
func ipv6(src, dst netip.Addr, next uint8, hop uint8, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = next
	b[7] = hop
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// TCP flag bits.
const (
	finFlag = 0x01
	synFlag = 0x02
	rstFlag = 0x04
	pshFlag = 0x08
	ackFlag = 0x10
)

// tcp builds a TCP segment (20-byte header, or 40 with SYN options) with
// its checksum for the given addresses.
func tcp(src, dst netip.Addr, sport, dport uint16, seq, ack uint32, flags uint8, payload []byte) []byte {
	hl := 20
	if flags&synFlag != 0 {
		hl = 24 // MSS option
	}
	b := make([]byte, hl, hl+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint32(b[8:], ack)
	b[12] = byte(hl/4) << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 64240)
	if hl == 24 {
		b[20], b[21] = 2, 4
		binary.BigEndian.PutUint16(b[22:], 1460)
	}
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[16:], checksum(pseudoSum(src, dst, 6, len(b)), b))
	return b
}

// udp builds a UDP datagram with its checksum.
func udp(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	b = append(b, payload...)
	cs := checksum(pseudoSum(src, dst, 17, len(b)), b)
	if cs == 0 {
		cs = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:], cs)
	return b
}

// icmpEcho builds an ICMP echo request (typ 8) or reply (typ 0).
func icmpEcho(typ uint8, id, seq uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[2:], checksum(0, b))
	return b
}

// icmpError builds an ICMP error (e.g. type 3 code 3, port unreachable)
// quoting the start of the offending datagram.
func icmpError(typ, code uint8, quoted []byte) []byte {
	b := make([]byte, 8, 8+len(quoted))
	b[0], b[1] = typ, code
	b = append(b, quoted...)
	binary.BigEndian.PutUint16(b[2:], checksum(0, b))
	return b
}

// arp builds an ARP request (op 1) or reply (op 2) for IPv4 over Ethernet.
func arp(op uint16, sha mac, spa netip.Addr, tha mac, tpa netip.Addr) []byte {
	b := make([]byte, 28)
	binary.BigEndian.PutUint16(b[0:], 1)
	binary.BigEndian.PutUint16(b[2:], 0x0800)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], op)
	s, t := spa.As4(), tpa.As4()
	copy(b[8:], sha[:])
	copy(b[14:], s[:])
	copy(b[18:], tha[:])
	copy(b[24:], t[:])
	return b
}

// dnsQuery builds a DNS query for name (type A = 1, AAAA = 28).
func dnsQuery(id uint16, name string, qtype uint16) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b[0:], id)
	b[2] = 0x01 // recursion desired
	binary.BigEndian.PutUint16(b[4:], 1)
	b = appendName(b, name)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, 1)
}

// dnsAnswer builds the response to dnsQuery(id, name, 1) with one A record.
func dnsAnswer(id uint16, name string, addr netip.Addr) []byte {
	b := dnsQuery(id, name, 1)
	b[2], b[3] = 0x81, 0x80
	binary.BigEndian.PutUint16(b[6:], 1)
	b = append(b, 0xc0, 0x0c) // pointer to the question's name
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, 300)
	b = binary.BigEndian.AppendUint16(b, 4)
	a := addr.As4()
	return append(b, a[:]...)
}

func appendName(b []byte, name string) []byte {
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			b = append(b, byte(i-start))
			b = append(b, name[start:i]...)
			start = i + 1
		}
	}
	return append(b, 0)
}
