package testpkt

import "encoding/binary"

// Test addresses of two hosts, A and B. Callers must not modify them.
var (
	MACA  = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}
	MACB  = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}
	IPv4A = []byte{198, 18, 0, 1}
	IPv4B = []byte{198, 18, 0, 2}
	IPv6A = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	IPv6B = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
)

// EtherTypes of the packets built here.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeIPv6 = 0x86dd
)

// IP protocol numbers (IPv6 next-header values) of the packets built here.
const (
	ProtoTCP = 6
	ProtoUDP = 17
)

// IPv4 builds a 20-byte IPv4 header (TTL 64, no options, not fragmented,
// identification 0) with a valid header checksum around payload.
func IPv4(proto byte, src, dst, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0], h[8], h[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	copy(h[12:], src)
	copy(h[16:], dst)
	binary.BigEndian.PutUint16(h[10:], Checksum(h))
	return append(h, payload...)
}

// Checksum is the Internet checksum of b (RFC 1071): the one's complement
// of the one's complement sum of its big-endian 16-bit words, an odd last
// byte padded with zero.
func Checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// IPv6 builds a 40-byte IPv6 header (hop limit 64, traffic class and flow
// label 0) with next header next around payload.
func IPv6(next byte, src, dst, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0], h[6], h[7] = 0x60, next, 64
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	copy(h[8:], src)
	copy(h[24:], dst)
	return append(h, payload...)
}

// UDP builds an 8-byte UDP header (checksum 0: none) around payload.
func UDP(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

// TCP builds a 20-byte TCP header (no options, acknowledgment number,
// checksum and urgent pointer 0) with the given sequence number, flags
// (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10) and window around
// payload.
func TCP(sport, dport uint16, seq uint32, flags byte, window uint16, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], seq)
	h[12], h[13] = 5<<4, flags
	binary.BigEndian.PutUint16(h[14:], window)
	return append(h, payload...)
}

// ARPRequest builds an ARP request for Ethernet and IPv4 (who has
// targetIP, tell senderIP at senderMAC), target hardware address zero.
func ARPRequest(senderMAC, senderIP, targetIP []byte) []byte {
	b := make([]byte, 0, 28)
	b = append(b, 0, 1, 8, 0, 6, 4, 0, 1)
	b = append(append(b, senderMAC...), senderIP...)
	b = append(append(b, 0, 0, 0, 0, 0, 0), targetIP...)
	return b
}

// IPv4Fragment builds an IPv4 fragment (header checksum valid) of
// datagram id: payload goes at byte offset off of the datagram's payload,
// more says more fragments follow.
func IPv4Fragment(id uint16, proto byte, src, dst []byte, off int, more bool, payload []byte) []byte {
	ip := IPv4(proto, src, dst, payload)
	binary.BigEndian.PutUint16(ip[4:], id)
	ff := uint16(off / 8)
	if more {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(ip[6:], ff)
	binary.BigEndian.PutUint16(ip[10:], 0)
	binary.BigEndian.PutUint16(ip[10:], Checksum(ip[:20]))
	return ip
}

// IPv4Fragments splits datagram payload dg of protocol proto into
// fragments of at most size bytes (a multiple of 8), in order.
func IPv4Fragments(id uint16, proto byte, src, dst, dg []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(dg); off += size {
		end := min(off+size, len(dg))
		out = append(out, IPv4Fragment(id, proto, src, dst, off, end < len(dg), dg[off:end]))
	}
	return out
}

// IPv6Fragment builds an IPv6 packet carrying a Fragment Header (next
// header nxt, Identification id) and payload, which goes at byte offset
// off of the datagram's fragmentable part.
func IPv6Fragment(id uint32, nxt byte, src, dst []byte, off int, more bool, payload []byte) []byte {
	fh := make([]byte, 8, 8+len(payload))
	fh[0] = nxt
	fo := uint16(off/8) << 3
	if more {
		fo |= 1
	}
	binary.BigEndian.PutUint16(fh[2:], fo)
	binary.BigEndian.PutUint32(fh[4:], id)
	return IPv6(44, src, dst, append(fh, payload...))
}
