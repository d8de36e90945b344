package dissect

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/pkttap/pkttap/pcapio"
)

// mixPacket is one packet of a generated traffic mix.
type mixPacket struct {
	lt   pcapio.LinkType
	data []byte
	wire int
}

// trafficMix generates n packets resembling what a busy client network
// carries: mostly TCP (bulk data, ACKs, TLS, a few handshakes and HTTP),
// then DNS, QUIC, other UDP, IPv6, ARP, ICMP, a VLAN tag here and there,
// and a few packets cut by a snap length. The same seed gives the same mix.
func trafficMix(n int, seed uint64) []mixPacket {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	ts := []byte{1, 1, 8, 10, 0, 1, 2, 3, 0, 4, 5, 6}
	names := []string{"example.com", "www.example.org", "api.service.internal", "cdn.example.net", "mail.example.com"}
	out := make([]mixPacket, 0, n)
	for len(out) < n {
		v6 := r.IntN(5) == 0
		sport := uint16(32768 + r.IntN(28000))
		var p []byte
		switch k := r.IntN(100); {
		case k < 28: // bulk TCP data with timestamps
			p = tcpPacket(v6, 443, sport, r.Uint32(), r.Uint32(), 0x10, 501, ts, make([]byte, 1200+r.IntN(200)))
		case k < 48: // pure ACKs
			p = tcpPacket(v6, sport, 443, r.Uint32(), r.Uint32(), 0x10, 2048, ts, nil)
		case k < 60: // TLS application data
			rec := []byte{23, 3, 3, 0, 0}
			body := make([]byte, 100+r.IntN(1000))
			binary.BigEndian.PutUint16(rec[3:], uint16(len(body)))
			p = tcpPacket(v6, sport, 443, r.Uint32(), r.Uint32(), 0x18, 501, ts, append(rec, body...))
		case k < 63: // TLS ClientHello
			p = tcpPacket(v6, sport, 443, r.Uint32(), r.Uint32(), 0x18, 502, nil, tlsClientHello(names[r.IntN(len(names))]))
		case k < 66: // handshakes and teardowns
			flags := []uint8{0x02, 0x12, 0x11, 0x04}[r.IntN(4)]
			p = tcpPacket(v6, sport, 443, r.Uint32(), r.Uint32(), flags, 64240, []byte{2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}, nil)
		case k < 69: // HTTP
			p = tcpPacket(v6, sport, 80, r.Uint32(), r.Uint32(), 0x18, 502, ts, []byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\n\r\n"))
		case k < 76: // DNS
			name := names[r.IntN(len(names))]
			if r.IntN(2) == 0 {
				p = udpPacket(v6, sport, 53, dnsQuery(uint16(r.Uint32()), name, 1))
			} else {
				p = udpPacket(v6, 53, sport, dnsResponseA(uint16(r.Uint32()), name, ip4B))
			}
		case k < 84: // QUIC Initial: DCID, no SCID or token, 4-byte packet number
			q := []byte{0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x44, 0xb4}
			p = udpPacket(v6, sport, 443, append(q, make([]byte, 0x4b4)...))
		case k < 90: // other UDP
			p = udpPacket(v6, sport, uint16(1024+r.IntN(4000)), make([]byte, 20+r.IntN(500)))
		case k < 93: // ARP
			p = arpPacket(uint16(1+r.IntN(2)), ip4A, ip4B, macB)
		case k < 96: // ping
			p = ipPacket(false, 1, icmpEcho(uint8(8*r.IntN(2)), 1, uint16(r.IntN(1000)), make([]byte, 56)), -1)
		default: // VLAN-tagged TCP
			t := tcpPacket(false, sport, 443, r.Uint32(), r.Uint32(), 0x10, 501, ts, nil)
			p = append(append(append([]byte{}, t[:12]...), 0x81, 0x00, 0x00, 0x64), t[12:]...)
		}
		wire := len(p)
		if r.IntN(50) == 0 && len(p) > 96 { // snap length 96
			p = p[:96]
		}
		out = append(out, mixPacket{pcapio.LinkTypeEthernet, p, wire})
	}
	return out
}
