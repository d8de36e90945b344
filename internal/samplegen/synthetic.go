package samplegen

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// SyntheticKind says what packet i of a synthetic capture is.
type SyntheticKind int

// The kinds of packets in a synthetic capture, in the order of the cycle of
// ten that Kind follows.
const (
	KindTLS  SyntheticKind = iota // TCP to port 443 with a payload (5 in 10)
	KindHTTP                      // TCP to port 80 with a payload (2 in 10)
	KindDNS                       // UDP to port 53 (1 in 10)
	KindPing                      // ICMP echo request (1 in 10)
	KindARP                       // ARP request (1 in 10)
)

// Kind returns the kind of synthetic packet i (0-based).
func Kind(i int) SyntheticKind {
	switch i % 10 {
	case 0, 1, 2, 3, 4:
		return KindTLS
	case 5, 6:
		return KindHTTP
	case 7:
		return KindDNS
	case 8:
		return KindPing
	}
	return KindARP
}

// payloadLen varies payload sizes over 0..1199 bytes (about 500 bytes a
// packet on average over the whole mix).
func payloadLen(i int) int { return (i * 7919) % 1200 }

// SyntheticPacket returns the bytes of synthetic packet i (0-based).
func SyntheticPacket(i int, buf []byte) []byte {
	src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	switch Kind(i) {
	case KindTLS, KindHTTP:
		port := uint16(443)
		if Kind(i) == KindHTTP {
			port = 80
		}
		n := payloadLen(i)
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		payload := buf[:n]
		for k := range payload {
			payload[k] = byte(i + k)
		}
		seg := tcp(src, tlsHost, uint16(1024+i%60000), port, uint32(i), 1, pshFlag|ackFlag, payload)
		return ether(routerMAC, hostMAC, 0x0800, ipv4(src, tlsHost, 6, uint16(i), 64, seg))
	case KindDNS:
		return ether(routerMAC, hostMAC, 0x0800, ipv4(src, dns, 17, uint16(i), 64,
			udp(src, dns, uint16(1024+i%60000), 53, dnsQuery(uint16(i), "host.example.com", 1))))
	case KindPing:
		return ether(routerMAC, hostMAC, 0x0800, ipv4(src, router, 1, uint16(i), 64, icmpEcho(8, 1, uint16(i), []byte("synthetic ping"))))
	}
	return ether(broadcast, hostMAC, 0x0806, arp(1, hostMAC, src, mac{}, router))
}

// SyntheticStart is the timestamp of a synthetic capture's first packet;
// packet i comes i×100 µs later.
var SyntheticStart = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)

// WriteSynthetic writes a capture of n synthetic packets (see Kind) in the
// given format.
func WriteSynthetic(w io.Writer, format pcapio.Format, n int) error {
	pw, err := pcapio.NewWriter(w, pcapio.WriterOptions{Format: format, LinkType: pcapio.LinkTypeEthernet, Snaplen: 262144})
	if err != nil {
		return fmt.Errorf("synthetic: %w", err)
	}
	var buf []byte
	for i := range n {
		data := SyntheticPacket(i, buf)
		p := pcapio.Packet{
			Timestamp: SyntheticStart.Add(time.Duration(i) * 100 * time.Microsecond),
			Data:      data, Length: len(data), LinkType: pcapio.LinkTypeEthernet,
		}
		if err := pw.WritePacket(&p); err != nil {
			return fmt.Errorf("synthetic packet %d: %w", i+1, err)
		}
	}
	if err := pw.Flush(); err != nil {
		return fmt.Errorf("synthetic: %w", err)
	}
	return nil
}
