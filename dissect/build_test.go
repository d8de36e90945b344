package dissect

import (
	"encoding/binary"
	"net/netip"

	"github.com/pkttap/pkttap/internal/testpkt"
)

// Packet builders for tests, benchmarks and fuzz seeds: each returns bytes
// with correct lengths and checksums unless a test breaks them on purpose.

var (
	macA = []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	macB = []byte{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb}
	ip4A = netip.MustParseAddr("198.18.0.1")
	ip4B = netip.MustParseAddr("198.18.0.2")
	ip6A = netip.MustParseAddr("2001:db8::1")
	ip6B = netip.MustParseAddr("2001:db8::2")
)

func ethHdr(typ uint16) []byte {
	b := append(append([]byte{}, macB...), macA...)
	return binary.BigEndian.AppendUint16(b, typ)
}

func csum(b []byte, sum uint32) uint16 { return checksum(b, sum) }

func ipv4Hdr(proto uint8, payloadLen int, src, dst netip.Addr) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+payloadLen))
	binary.BigEndian.PutUint16(h[4:], 0x1c46)
	h[6] = 0x40 // DF
	h[8] = 64
	h[9] = proto
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	binary.BigEndian.PutUint16(h[10:], csum(h, 0))
	return h
}

func pseudo(src, dst netip.Addr, proto uint8, n int) uint32 {
	s := checksumAdd(src.AsSlice(), 0)
	s = checksumAdd(dst.AsSlice(), s)
	return s + uint32(proto) + uint32(n)
}

// ipPacket wraps an L4 segment whose checksum is at csumOff (-1 for none)
// in IPv4 or IPv6 and Ethernet.
func ipPacket(v6 bool, proto uint8, l4 []byte, csumOff int) []byte {
	src, dst := ip4A, ip4B
	if v6 {
		src, dst = ip6A, ip6B
	}
	if csumOff >= 0 {
		binary.BigEndian.PutUint16(l4[csumOff:], 0)
		c := csum(l4, pseudo(src, dst, proto, len(l4)))
		if proto == 17 && c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(l4[csumOff:], c)
	}
	if v6 {
		return append(ethHdr(0x86dd), testpkt.IPv6(proto, src.AsSlice(), dst.AsSlice(), l4)...)
	}
	return append(append(ethHdr(0x0800), ipv4Hdr(proto, len(l4), src, dst)...), l4...)
}

func tcpPacket(v6 bool, sp, dp uint16, seq, ack uint32, flags uint8, win uint16, opts, payload []byte) []byte {
	seg := testpkt.TCP(sp, dp, seq, flags, win, append(append([]byte{}, opts...), payload...))
	binary.BigEndian.PutUint32(seg[8:], ack)
	seg[12] = byte((20+len(opts))/4) << 4 // data offset: the header with its options
	return ipPacket(v6, 6, seg, 16)
}

func udpPacket(v6 bool, sp, dp uint16, payload []byte) []byte {
	return ipPacket(v6, 17, testpkt.UDP(sp, dp, payload), 6)
}

// dnsName encodes a name uncompressed.
func dnsName(name string) []byte {
	var b []byte
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			if i > start {
				b = append(b, byte(i-start))
				b = append(b, name[start:i]...)
			}
			start = i + 1
		}
	}
	return append(b, 0)
}

func dnsQuery(id uint16, name string, qtype uint16) []byte {
	b := []byte{byte(id >> 8), byte(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	b = append(b, dnsName(name)...)
	return append(b, byte(qtype>>8), byte(qtype), 0, 1)
}

// dnsResponseA answers a query for name with one A record, the answer's
// name compressed to point at the question.
func dnsResponseA(id uint16, name string, a netip.Addr) []byte {
	b := []byte{byte(id >> 8), byte(id), 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0}
	b = append(b, dnsName(name)...)
	b = append(b, 0, 1, 0, 1)
	b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4)
	s := a.As4()
	return append(b, s[:]...)
}

func icmpEcho(typ uint8, id, seq uint16, payload []byte) []byte {
	b := []byte{typ, 0, 0, 0, byte(id >> 8), byte(id), byte(seq >> 8), byte(seq)}
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[2:], csum(b, 0))
	return b
}

func arpPacket(op uint16, spa, tpa netip.Addr, tha []byte) []byte {
	b := ethHdr(0x0806)
	b = append(b, 0, 1, 8, 0, 6, 4, byte(op>>8), byte(op))
	b = append(b, macA...)
	s, t := spa.As4(), tpa.As4()
	b = append(b, s[:]...)
	b = append(b, tha...)
	return append(b, t[:]...)
}

// tlsClientHello builds a TLS record holding a ClientHello with an SNI.
func tlsClientHello(sni string) []byte {
	var ext []byte
	sn := []byte{0}
	sn = binary.BigEndian.AppendUint16(sn, uint16(len(sni)))
	sn = append(sn, sni...)
	list := binary.BigEndian.AppendUint16(nil, uint16(len(sn)))
	list = append(list, sn...)
	ext = binary.BigEndian.AppendUint16(ext, 0)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(list)))
	ext = append(ext, list...)
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)             // session id
	body = append(body, 0, 2, 0x13, 1) // one cipher suite
	body = append(body, 1, 0)          // compression
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	hs := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	hs = append(hs, body...)
	rec := []byte{22, 3, 1}
	rec = binary.BigEndian.AppendUint16(rec, uint16(len(hs)))
	return append(rec, hs...)
}
