package dissect

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// withVLAN inserts an 802.1Q (or other TPID) tag after the MAC addresses.
func withVLAN(p []byte, tpid, tci uint16) []byte {
	out := append([]byte{}, p[:12]...)
	out = binary.BigEndian.AppendUint16(out, tpid)
	out = binary.BigEndian.AppendUint16(out, tci)
	return append(out, p[12:]...)
}

// sllFrame turns an Ethernet frame into a Linux cooked v1 one.
func sllFrame(eth []byte) []byte {
	h := []byte{0, 4, 0, 1, 0, 6}
	h = append(h, eth[6:12]...)
	h = append(h, 0, 0)
	return append(h, eth[12:]...)
}

// sll2Frame turns an Ethernet frame into a Linux cooked v2 one.
func sll2Frame(eth []byte) []byte {
	h := append([]byte{}, eth[12:14]...)
	h = append(h, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6)
	h = append(h, eth[6:12]...)
	h = append(h, 0, 0)
	return append(h, eth[14:]...)
}

func ipv4Frag(proto uint8, payload []byte, fragOff int, more bool) []byte {
	h := ipv4Hdr(proto, len(payload), ip4A, ip4B)
	v := uint16(fragOff / 8)
	if more {
		v |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], v)
	binary.BigEndian.PutUint16(h[10:], 0)
	binary.BigEndian.PutUint16(h[10:], csum(h, 0))
	return append(append(ethHdr(0x0800), h...), payload...)
}

func TestProtocols(t *testing.T) {
	eth := pcapio.LinkTypeEthernet
	syn := tcpPacket(false, 49152, 80, 1000, 0, 0x02, 64240, nil, nil)
	ping := ipPacket(false, 1, icmpEcho(8, 0x1234, 7, nil), -1)
	badIP := append([]byte{}, ping...)
	badIP[24] ^= 0xff
	ipOpts := func() []byte { // IPv4 with a Router Alert option
		icmp := icmpEcho(8, 1, 1, nil)
		h := ipv4Hdr(1, len(icmp)+4, ip4A, ip4B)
		h[0] = 0x46
		h = append(h, 0x94, 4, 0, 0)
		binary.BigEndian.PutUint16(h[10:], 0)
		binary.BigEndian.PutUint16(h[10:], csum(h, 0))
		return append(append(ethHdr(0x0800), h...), icmp...)
	}()
	unreach := func() []byte { // port unreachable quoting a UDP datagram
		inner := udpPacket(false, 40000, 9999, []byte("x"))[14:]
		icmp := append([]byte{3, 3, 0, 0, 0, 0, 0, 0}, inner[:28]...)
		binary.BigEndian.PutUint16(icmp[2:], csum(icmp, 0))
		return ipPacket(false, 1, icmp, -1)
	}()
	ns := func() []byte { // neighbour solicitation with a source link-layer address
		m := []byte{135, 0, 0, 0, 0, 0, 0, 0}
		tgt := ip6B.As16()
		m = append(m, tgt[:]...)
		m = append(m, 1, 1)
		m = append(m, macA...)
		return ipPacket(true, 58, m, 2)
	}()
	hbh := ipPacket(true, 0, append([]byte{58, 0, 5, 2, 0, 0, 1, 0}, icmpEcho(128, 1, 2, nil)...), -1)
	v6frag := ipPacket(true, 44, append([]byte{17, 0, 0x05, 0xa8, 0, 0, 0, 9}, make([]byte, 16)...), -1)
	igmp2 := ipPacket(false, 2, []byte{0x16, 0, 0, 0, 239, 1, 2, 3}, -1)
	igmp3 := ipPacket(false, 2, []byte{0x22, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 239, 1, 2, 3}, -1)
	gre := ipPacket(false, 47, append([]byte{0, 0, 0x08, 0}, ping[14:]...), -1)
	vxlan := udpPacket(false, 50000, 4789, append([]byte{8, 0, 0, 0, 0, 0, 42, 0}, ping...))
	geneve := udpPacket(false, 50000, 6081, append([]byte{0, 0, 0x65, 0x58, 0, 0, 7, 0}, arpPacket(1, ip4A, ip4B, make([]byte, 6))...))
	sctpInit := func() []byte {
		b := []byte{0x0b, 0x59, 0x0b, 0x59, 0, 0, 0, 0, 0, 0, 0, 0}
		b = append(b, 1, 0, 0, 20, 0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 5)
		return ipPacket(false, 132, b, -1)
	}()
	dhcp := udpPacket(false, 68, 67, func() []byte {
		b := make([]byte, 236)
		b[0], b[1], b[2] = 1, 1, 6
		binary.BigEndian.PutUint32(b[4:], 0xabcdef01)
		copy(b[28:], macA)
		return append(b, 0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255)
	}())
	bootp := udpPacket(false, 68, 67, func() []byte { // checked against tshark -n
		b := make([]byte, 236)
		b[0], b[1], b[2] = 1, 1, 6
		copy(b[28:], macA)
		return append(b, 0x63, 0x82, 0x53, 0x63, 255)
	}())
	ntp := udpPacket(false, 123, 123, append([]byte{0x23}, make([]byte, 47)...))
	ssdp := udpPacket(false, 50000, 1900, []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n"))
	mdns := udpPacket(false, 5353, 5353, dnsQuery(0, "printer.local", 12))
	llmnr := udpPacket(false, 50000, 5355, dnsQuery(0x4242, "host", 1))
	nx := dnsResponseA(0x77, "nope.example", ip4A)
	nx[3] = 0x83                          // rcode 3: no such name
	binary.BigEndian.PutUint16(nx[6:], 0) // and no answer
	nxPkt := udpPacket(false, 53, 40000, nx[:len(nx)-16])
	dnsTCP := tcpPacket(false, 40000, 53, 1, 1, 0x18, 100, nil, func() []byte {
		q := dnsQuery(0x99, "example.com", 28)
		return append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)
	}())
	quic := udpPacket(false, 50000, 443, append([]byte{0xc3, 0, 0, 0, 1, 4, 0xde, 0xad, 0xbe, 0xef, 0}, make([]byte, 40)...))
	httpResp := tcpPacket(false, 80, 49152, 1, 1, 0x18, 100, nil, []byte("HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html>"))
	pppoeS := append(ethHdr(0x8864), append([]byte{0x11, 0, 0, 7, 0, byte(len(ping) - 14 + 2), 0, 0x21}, ping[14:]...)...)
	pppoeD := append(ethHdr(0x8863), 0x11, 0x09, 0, 0, 0, 4, 1, 1, 0, 0)
	mpls := append(ethHdr(0x8847), append([]byte{0, 0x01, 0x00, 0x40, 0, 0x02, 0x01, 0x40}, ping[14:]...)...)
	null := append([]byte{2, 0, 0, 0}, ping[14:]...)
	loop := append([]byte{0, 0, 0, 24}, hbh[14:]...)

	tests := []struct {
		name        string
		lt          pcapio.LinkType
		data        []byte
		proto, info string
		src, dst    string
		tags        []string
		fields      []string // fields the tree must contain
	}{
		{"802.1Q", eth, withVLAN(syn, 0x8100, 0x2064), "TCP", "49152 → 80 [SYN] Seq=1000 Win=64240 Len=0", "198.18.0.1", "198.18.0.2", []string{"tcp-syn"}, []string{"vlan.id", "vlan.etype", "tcp.flags.syn"}},
		{"802.1ad QinQ", eth, withVLAN(withVLAN(syn, 0x8100, 20), 0x88a8, 10), "TCP", "49152 → 80 [SYN] Seq=1000 Win=64240 Len=0", "198.18.0.1", "198.18.0.2", []string{"tcp-syn"}, []string{"ieee8021ad.id", "vlan.id"}},
		{"SLL", pcapio.LinkTypeLinuxSLL, sllFrame(syn), "TCP", "49152 → 80 [SYN] Seq=1000 Win=64240 Len=0", "198.18.0.1", "198.18.0.2", []string{"tcp-syn"}, []string{"sll.pkttype", "sll.src.eth", "sll.etype"}},
		{"SLL2", pcapio.LinkTypeLinuxSLL2, sll2Frame(syn), "TCP", "49152 → 80 [SYN] Seq=1000 Win=64240 Len=0", "198.18.0.1", "198.18.0.2", []string{"tcp-syn"}, []string{"sll.ifindex", "sll.etype"}},
		{"NULL", pcapio.LinkTypeNull, null, "ICMP", "Echo (ping) request  id=0x1234, seq=7/1792, ttl=64", "198.18.0.1", "198.18.0.2", nil, []string{"null.family"}},
		{"LOOP IPv6 hop-by-hop", pcapio.LinkTypeLoop, loop, "ICMPv6", "Echo (ping) request id=0x0001, seq=2, hop limit=64", "2001:db8::1", "2001:db8::2", []string{"bad-checksum"}, []string{"ipv6.hopopts.nxt", "ipv6.opt"}},
		{"MPLS", eth, mpls, "ICMP", "Echo (ping) request  id=0x1234, seq=7/1792, ttl=64", "198.18.0.1", "198.18.0.2", nil, []string{"mpls.label", "mpls.bottom"}},
		{"PPPoE session", eth, pppoeS, "ICMP", "Echo (ping) request  id=0x1234, seq=7/1792, ttl=64", "198.18.0.1", "198.18.0.2", nil, []string{"pppoe.session_id", "ppp.protocol"}},
		{"PPPoE discovery", eth, pppoeD, "PPPoED", "Active Discovery Initiation (PADI)", "00:11:22:33:44:55", "66:77:88:99:aa:bb", nil, []string{"pppoe.code", "pppoed.tag"}},
		{"IPv4 bad checksum", eth, badIP, "ICMP", "Echo (ping) request  id=0x1234, seq=7/1792, ttl=64", "198.18.0.1", "198.18.0.2", []string{"bad-checksum"}, []string{"ip.checksum"}},
		{"IPv4 options", eth, ipOpts, "ICMP", "Echo (ping) request  id=0x0001, seq=1/256, ttl=64", "198.18.0.1", "198.18.0.2", nil, []string{"ip.opt.type", "ip.opt.len"}},
		{"IPv4 later fragment", eth, ipv4Frag(17, make([]byte, 16), 1480, false), "IPv4", "Fragmented IP protocol (proto=UDP 17, off=1480, ID=1c46)", "198.18.0.1", "198.18.0.2", nil, []string{"ip.frag_offset", "data.data"}},
		{"IPv6 fragment", eth, v6frag, "IPv6", "IPv6 fragment (off=1448 more=n ident=0x00000009 nxt=17)", "2001:db8::1", "2001:db8::2", nil, []string{"ipv6.fraghdr.offset", "ipv6.fraghdr.ident"}},
		{"ICMP port unreachable", eth, unreach, "ICMP", "Destination unreachable (Port unreachable)", "198.18.0.1", "198.18.0.2", []string{"icmp-error"}, []string{"icmp.type", "udp.dstport"}},
		{"neighbor solicitation", eth, ns, "ICMPv6", "Neighbor Solicitation for 2001:db8::2 from 00:11:22:33:44:55", "2001:db8::1", "2001:db8::2", nil, []string{"icmpv6.nd.ns.target_address", "icmpv6.opt.src_linkaddr"}},
		{"IGMPv2 report", eth, igmp2, "IGMPv2", "Membership Report group 239.1.2.3", "198.18.0.1", "198.18.0.2", []string{"bad-checksum"}, []string{"igmp.maddr"}},
		{"IGMPv3 join", eth, igmp3, "IGMPv3", "Membership Report / Join group 239.1.2.3 for any sources", "198.18.0.1", "198.18.0.2", []string{"bad-checksum"}, []string{"igmp.record_type"}},
		{"GRE", eth, gre, "ICMP", "Echo (ping) request  id=0x1234, seq=7/1792, ttl=64", "198.18.0.1", "198.18.0.2", nil, []string{"gre.proto"}},
		{"VXLAN", eth, vxlan, "ICMP", "Echo (ping) request  id=0x1234, seq=7/1792, ttl=64", "198.18.0.1", "198.18.0.2", nil, []string{"vxlan.vni"}},
		{"Geneve", eth, geneve, "ARP", "Who has 198.18.0.2? Tell 198.18.0.1", "00:11:22:33:44:55", "66:77:88:99:aa:bb", []string{"arp"}, []string{"geneve.vni", "arp.opcode"}},
		{"SCTP INIT", eth, sctpInit, "SCTP", "INIT", "198.18.0.1", "198.18.0.2", []string{"bad-checksum"}, []string{"sctp.chunk_type", "sctp.init_initiate_tag"}},
		{"DHCP discover", eth, dhcp, "DHCP", "DHCP Discover - Transaction ID 0xabcdef01", "198.18.0.1", "198.18.0.2", nil, []string{"dhcp.id", "dhcp.option.dhcp"}},
		{"BOOTP", eth, bootp, "BOOTP", "Boot Request from 00:11:22:33:44:55 (00:11:22:33:44:55)", "198.18.0.1", "198.18.0.2", nil, []string{"dhcp.hw.mac_addr", "dhcp.cookie"}},
		{"NTP", eth, ntp, "NTP", "NTP Version 4, client", "198.18.0.1", "198.18.0.2", nil, []string{"ntp.xmt"}},
		{"SSDP", eth, ssdp, "SSDP", "M-SEARCH * HTTP/1.1", "198.18.0.1", "198.18.0.2", nil, []string{"ssdp.request.line"}},
		{"mDNS", eth, mdns, "MDNS", "Standard query 0x0000 PTR printer.local, \"QM\" question", "198.18.0.1", "198.18.0.2", []string{"dns"}, []string{"dns.qry.name"}},
		{"LLMNR", eth, llmnr, "LLMNR", "Standard query 0x4242 A host", "198.18.0.1", "198.18.0.2", []string{"dns"}, []string{"dns.qry.type"}},
		{"DNS no such name", eth, nxPkt, "DNS", "Standard query response 0x0077 No such name A nope.example", "198.18.0.1", "198.18.0.2", []string{"dns"}, []string{"dns.flags"}},
		{"DNS over TCP", eth, dnsTCP, "DNS", "Standard query 0x0099 AAAA example.com", "198.18.0.1", "198.18.0.2", []string{"dns"}, []string{"dns.length", "dns.qry.name"}},
		{"QUIC", eth, quic, "QUIC", "Initial, DCID=deadbeef", "198.18.0.1", "198.18.0.2", nil, []string{"quic.version", "quic.dcid"}},
		{"HTTP response", eth, httpResp, "HTTP", "HTTP/1.1 404 Not Found  (text/html)", "198.18.0.1", "198.18.0.2", nil, []string{"http.response.code", "http.content_type"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validating.Summarize(tc.lt, tc.data, len(tc.data)) // a packet built wrong shows
			if s.Protocol != tc.proto || s.Info != tc.info || s.Source != tc.src || s.Destination != tc.dst || !slices.Equal(s.Tags, tc.tags) {
				t.Errorf("Summarize() = %q %q %q %q %q\nwant          %q %q %q %q %q", s.Protocol, s.Info, s.Source, s.Destination, s.Tags, tc.proto, tc.info, tc.src, tc.dst, tc.tags)
			}
			tr := validating.Dissect(tc.lt, tc.data, len(tc.data))
			checkTree(t, tr, len(tc.data))
			have := map[string]bool{}
			tr.Walk(func(n *Node, _ int) bool { have[n.Field] = true; return true })
			for _, f := range tc.fields {
				if !have[f] {
					t.Errorf("tree lacks %s", f)
				}
			}
			for _, l := range tr.Layers {
				if strings.HasPrefix(l.Field, "_ws.") {
					t.Errorf("unexpected problem mark %q", l.Label)
				}
			}
		})
	}
}
