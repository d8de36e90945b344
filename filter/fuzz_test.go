package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

var fuzzLinkTypes = []pcapio.LinkType{pcapio.LinkTypeEthernet, pcapio.LinkTypeRaw, pcapio.LinkTypeLinuxSLL,
	pcapio.LinkTypeLinuxSLL2, pcapio.LinkTypeNull, pcapio.LinkTypeLoop, pcapio.LinkTypeIEEE802_11}

// FuzzCompile feeds arbitrary text to the lexer, parser and code generator:
// Compile must not panic or hang, must fail only with *Error (with a column
// inside the input), and what it compiles must be a valid program. As in
// libpcap, optimizing must not change a verdict: the optimized and the
// unoptimized program, both run in filter/vm, return the same value for
// the fuzzed packet and for a fixed set of packets of the link type (TCP,
// UDP, IPv6, ARP, VLAN-tagged); where the optimizer finds that the
// expression rejects all packets, the unoptimized program rejects them.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"", "tcp port 80", "host 10.0.0.1 and (10.0.0.2 or 10.0.0.3)", "ether[0] & 1 != 0",
		"vlan 10 and mpls 3 and ip", "ip6 protochain 6", "geneve 5 and ether host 0:1:2:3:4:5",
		"not (tcp or udp)", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "-1 % 2 ^ 3 = 4",
		"port ftp-data or portrange 1-2", "net 10 mask 255.0.0.0", "wlan addr2 1:2:3:4:5:6",
		"type mgt subtype beacon", "llc u", "decnet src 1.2", "((((((", "ip[", "\\", "$1",
		"0x", "08", "fe80::1/200", "a:b:c", "inbound or ifindex 3", "pppoes 1 and ip6",
		"tcp and udp", "arp", "udp port 53 or tcp dst port 80", "ip6 and tcp port 443",
		"vlan 10 and udp", "host 198.18.0.1 and not port 53", "len > 60 and ip[8] = 64",
		"src net 198.18.0.0/15 and (tcp[13] & 2 != 0 or udp)", "arp or ip6 or (ip and tcp)",
	} {
		for lt := range fuzzLinkTypes {
			f.Add(s, uint8(lt), []byte(nil))
		}
	}
	f.Fuzz(func(t *testing.T, expr string, lt uint8, pkt []byte) {
		opts := Options{LinkType: fuzzLinkTypes[int(lt)%len(fuzzLinkTypes)], Resolver: staticResolver{}}
		var progs [2]*Program // unoptimized, optimized
		var errs [2]error
		for i, noOpt := range []bool{true, false} {
			opts.NoOptimize = noOpt
			progs[i], errs[i] = Compile(expr, opts)
			if err := errs[i]; err != nil {
				var fe *Error
				if !errors.As(err, &fe) {
					t.Fatalf("Compile(%q): %T %v, want *Error", expr, err, err)
				}
				if fe.Column < 1 || fe.Column > len(expr)+1 {
					t.Fatalf("Compile(%q): column %d outside the input", expr, fe.Column)
				}
			}
		}
		if progs[0] == nil {
			if progs[1] != nil {
				t.Fatalf("Compile(%q, %v): unoptimized fails (%v), optimized compiles", expr, opts.LinkType, errs[0])
			}
			return
		}
		pkts := append(fuzzPackets(opts.LinkType), pkt)
		noOpt := progs[0].Matcher()
		if progs[1] == nil {
			if !strings.Contains(errs[1].Error(), "rejects all packets") {
				return // too complex once optimized, say
			}
			for _, p := range pkts {
				if v := noOpt.Run(p, len(p)); v != 0 {
					t.Fatalf("Compile(%q, %v): the optimizer says it rejects all packets, the unoptimized program accepts (%d) % x", expr, opts.LinkType, v, p)
				}
			}
			return
		}
		opt := progs[1].Matcher()
		for _, p := range pkts {
			if a, b := noOpt.Run(p, len(p)), opt.Run(p, len(p)); a != b {
				t.Fatalf("Compile(%q, %v): unoptimized returns %d, optimized %d on % x", expr, opts.LinkType, a, b, p)
			}
		}
	})
}

// fuzzPackets returns FuzzCompile's fixed packets for a link type: TCP,
// UDP, IPv6 and ARP between the test hosts, and on Ethernet a VLAN-tagged
// UDP packet.
func fuzzPackets(lt pcapio.LinkType) [][]byte {
	l3 := []struct {
		et      uint16
		payload []byte
	}{
		{testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, testpkt.IPv4A, testpkt.IPv4B, testpkt.TCP(40000, 80, 1, 0x02, 64240, nil))},
		{testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoUDP, testpkt.IPv4B, testpkt.IPv4A, testpkt.UDP(53, 40001, []byte("answer")))},
		{testpkt.EtherTypeIPv6, testpkt.IPv6(testpkt.ProtoTCP, testpkt.IPv6A, testpkt.IPv6B, testpkt.TCP(40002, 443, 7, 0x12, 1024, []byte("x")))},
		{testpkt.EtherTypeARP, testpkt.ARPRequest(testpkt.MACA, testpkt.IPv4A, testpkt.IPv4B)},
	}
	var out [][]byte
	for _, p := range l3 {
		var hdr []byte
		switch lt {
		case pcapio.LinkTypeEthernet:
			hdr = append(append(append([]byte{}, testpkt.MACB...), testpkt.MACA...), byte(p.et>>8), byte(p.et))
		case pcapio.LinkTypeRaw:
			if p.et == testpkt.EtherTypeARP {
				continue
			}
		case pcapio.LinkTypeLinuxSLL: // packet type, ARPHRD_ETHER, address length and address, protocol
			hdr = append(append([]byte{0, 0, 0, 1, 0, 6}, testpkt.MACA...), 0, 0, byte(p.et>>8), byte(p.et))
		case pcapio.LinkTypeLinuxSLL2: // protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address
			hdr = append([]byte{byte(p.et >> 8), byte(p.et), 0, 0, 0, 0, 0, 1, 0, 1, 0, 6}, append(append([]byte{}, testpkt.MACA...), 0, 0)...)
		case pcapio.LinkTypeNull, pcapio.LinkTypeLoop: // the address family, host order or big-endian
			fam := byte(2)
			switch p.et {
			case testpkt.EtherTypeIPv6:
				fam = 24
			case testpkt.EtherTypeARP:
				continue
			}
			hdr = []byte{fam, 0, 0, 0}
			if lt == pcapio.LinkTypeLoop {
				hdr = []byte{0, 0, 0, fam}
			}
			if fam == 24 { // and with Linux's AF_INET6 (10), which pkttap compiles ip6 for
				linux := []byte{10, 0, 0, 0}
				if lt == pcapio.LinkTypeLoop {
					linux = []byte{0, 0, 0, 10}
				}
				out = append(out, append(linux, p.payload...))
			}
		case pcapio.LinkTypeIEEE802_11: // a data frame to the AP, then LLC/SNAP
			hdr = append(append(append(append([]byte{0x08, 0x01, 0, 0}, testpkt.MACB...), testpkt.MACA...), testpkt.MACB...), 0, 0)
			hdr = append(hdr, 0xaa, 0xaa, 0x03, 0, 0, 0, byte(p.et>>8), byte(p.et))
		}
		out = append(out, append(hdr, p.payload...))
	}
	if lt == pcapio.LinkTypeEthernet {
		udp := l3[1].payload
		out = append(out, append(append(append(append([]byte{}, testpkt.MACB...), testpkt.MACA...), 0x81, 0x00, 0x00, 10, 0x08, 0x00), udp...))
	}
	return out
}
