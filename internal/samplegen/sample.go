package samplegen

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

var (
	hostMAC   = mac{0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a}
	routerMAC = mac{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
	broadcast = mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

	host    = netip.MustParseAddr("192.0.2.10")
	router  = netip.MustParseAddr("192.0.2.1")
	dns     = netip.MustParseAddr("198.51.100.53")
	web     = netip.MustParseAddr("203.0.113.80")
	tlsHost = netip.MustParseAddr("203.0.113.43")
	host6   = netip.MustParseAddr("2001:db8::10")
	dns6    = netip.MustParseAddr("2001:db8::53")
)

// SampleStart is the timestamp of the demo capture's first packet.
var SampleStart = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// frame is one packet of the demo capture.
type frame struct {
	gap     time.Duration // after the previous packet
	data    []byte
	snap    int // captured length when the packet is to be truncated; 0 = whole
	comment string
}

// sampleFrames returns the demo capture's packets: a host resolving a name,
// fetching a web page over HTTP, starting a TLS connection, pinging,
// probing a closed UDP port, plus an IPv6 DNS query, a VLAN-tagged frame, a
// reset, a packet with a bad IPv4 checksum and a truncated one.
func sampleFrames() []frame {
	e := func(p []byte) []byte { return ether(routerMAC, hostMAC, 0x0800, p) }
	back := func(p []byte) []byte { return ether(hostMAC, routerMAC, 0x0800, p) }
	ms := time.Millisecond
	var fs []frame
	add := func(gap time.Duration, data []byte) { fs = append(fs, frame{gap: gap, data: data}) }

	add(0, ether(broadcast, hostMAC, 0x0806, arp(1, hostMAC, host, mac{}, router)))
	add(1*ms, ether(hostMAC, routerMAC, 0x0806, arp(2, routerMAC, router, hostMAC, host)))
	add(2*ms, e(ipv4(host, dns, 17, 1, 64, udp(host, dns, 51000, 53, dnsQuery(0x1a2b, "www.example.com", 1)))))
	add(18*ms, back(ipv4(dns, host, 17, 7001, 57, udp(dns, host, 53, 51000, dnsAnswer(0x1a2b, "www.example.com", web)))))

	// HTTP on port 80.
	cs, ss := uint32(1000), uint32(5000)
	add(1*ms, e(ipv4(host, web, 6, 2, 64, tcp(host, web, 40001, 80, cs, 0, synFlag, nil))))
	add(20*ms, back(ipv4(web, host, 6, 9001, 55, tcp(web, host, 80, 40001, ss, cs+1, synFlag|ackFlag, nil))))
	add(1*ms, e(ipv4(host, web, 6, 3, 64, tcp(host, web, 40001, 80, cs+1, ss+1, ackFlag, nil))))
	req := []byte("GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: pkttap-sample/1\r\nAccept: */*\r\n\r\n")
	add(1*ms, e(ipv4(host, web, 6, 4, 64, tcp(host, web, 40001, 80, cs+1, ss+1, pshFlag|ackFlag, req))))
	body := "<!doctype html><title>pkttap sample</title><p>Hello from the pkttap demo capture.</p>\n"
	resp := []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	add(22*ms, back(ipv4(web, host, 6, 9002, 55, tcp(web, host, 80, 40001, ss+1, cs+1+uint32(len(req)), pshFlag|ackFlag, resp))))
	fs[len(fs)-1].comment = "the HTTP response"
	add(1*ms, e(ipv4(host, web, 6, 5, 64, tcp(host, web, 40001, 80, cs+1+uint32(len(req)), ss+1+uint32(len(resp)), finFlag|ackFlag, nil))))
	add(20*ms, back(ipv4(web, host, 6, 9003, 55, tcp(web, host, 80, 40001, ss+1+uint32(len(resp)), cs+2+uint32(len(req)), finFlag|ackFlag, nil))))
	add(1*ms, e(ipv4(host, web, 6, 6, 64, tcp(host, web, 40001, 80, cs+2+uint32(len(req)), ss+2+uint32(len(resp)), ackFlag, nil))))

	// TLS on port 443: handshake and a ClientHello-shaped record.
	cs, ss = 70000, 90000
	add(3*ms, e(ipv4(host, tlsHost, 6, 7, 64, tcp(host, tlsHost, 40002, 443, cs, 0, synFlag, nil))))
	add(25*ms, back(ipv4(tlsHost, host, 6, 9101, 54, tcp(tlsHost, host, 443, 40002, ss, cs+1, synFlag|ackFlag, nil))))
	add(1*ms, e(ipv4(host, tlsHost, 6, 8, 64, tcp(host, tlsHost, 40002, 443, cs+1, ss+1, ackFlag, nil))))
	hello := append([]byte{0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03}, make([]byte, 32+4)...)
	add(1*ms, e(ipv4(host, tlsHost, 6, 9, 64, tcp(host, tlsHost, 40002, 443, cs+1, ss+1, pshFlag|ackFlag, hello))))
	add(26*ms, back(ipv4(tlsHost, host, 6, 9102, 54, tcp(tlsHost, host, 443, 40002, ss+1, cs+1+uint32(len(hello)), rstFlag|ackFlag, nil))))

	// Ping, and a closed UDP port answered by an ICMP error.
	ping := []byte("pkttap-ping-payload-0123456789ab")
	add(5*ms, e(ipv4(host, router, 1, 10, 64, icmpEcho(8, 0x77, 1, ping))))
	add(1*ms, back(ipv4(router, host, 1, 9201, 64, icmpEcho(0, 0x77, 1, ping))))
	probe := ipv4(host, router, 17, 11, 64, udp(host, router, 51001, 33434, []byte("probe")))
	add(2*ms, e(probe))
	add(1*ms, back(ipv4(router, host, 1, 9202, 64, icmpError(3, 3, probe[:28]))))

	// IPv6 DNS, a VLAN-tagged frame, a bad checksum, a truncated packet.
	add(4*ms, ether(routerMAC, hostMAC, 0x86dd, ipv6(host6, dns6, 17, 64, udp(host6, dns6, 51002, 53, dnsQuery(0x3c4d, "www.example.com", 28)))))
	add(2*ms, ether(routerMAC, hostMAC, 0x8100, vlanTag(42, 0x0800, ipv4(host, dns, 17, 12, 64, udp(host, dns, 51003, 53, dnsQuery(0x5e6f, "vlan.example.com", 1))))))
	bad := ipv4(host, web, 17, 13, 64, udp(host, web, 51004, 9, []byte("discard me")))
	bad[10] ^= 0x5a // corrupt the IPv4 header checksum
	add(2*ms, e(bad))
	fs[len(fs)-1].comment = "IPv4 header checksum deliberately wrong"
	big := make([]byte, 1200)
	for i := range big {
		big[i] = byte('A' + i%26)
	}
	add(3*ms, back(ipv4(web, host, 6, 9004, 55, tcp(web, host, 80, 40003, 1, 1, ackFlag, big))))
	fs[len(fs)-1].snap = 96
	fs[len(fs)-1].comment = "captured with a 96-byte snap length"
	return fs
}

// WriteSample writes the demo capture as pcapng. The output depends on
// nothing but this code, so it is byte-for-byte reproducible.
func WriteSample(w io.Writer) error {
	pw, err := pcapio.NewWriter(w, pcapio.WriterOptions{
		Format: pcapio.FormatPcapNg, LinkType: pcapio.LinkTypeEthernet, Snaplen: 262144,
	})
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	ts := SampleStart
	for i, f := range sampleFrames() {
		ts = ts.Add(f.gap)
		data := f.data
		if f.snap > 0 {
			data = data[:f.snap]
		}
		p := pcapio.Packet{Timestamp: ts, Data: data, Length: len(f.data), LinkType: pcapio.LinkTypeEthernet, Comment: f.comment}
		if err := pw.WritePacket(&p); err != nil {
			return fmt.Errorf("sample packet %d: %w", i+1, err)
		}
	}
	if err := pw.Flush(); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	return nil
}

// SamplePackets is the number of packets WriteSample writes.
func SamplePackets() int { return len(sampleFrames()) }
