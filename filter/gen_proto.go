package filter

import (
	"encoding/binary"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/pcapio"
)

var etherProtos = map[string]uint32{
	"aarp": ethertypeAARP, "arp": ethertypeARP, "atalk": ethertypeATALK,
	"decnet": ethertypeDN, "ip": ethertypeIP, "ip6": ethertypeIPv6,
	"lat": ethertypeLAT, "loopback": 0x9000, "mopdl": ethertypeMOPDL,
	"moprc": ethertypeMOPRC, "rarp": ethertypeREVARP, "sca": ethertypeSCA,
}

// networks is Debian's /etc/networks (getnetbyname), built in.
var networks = map[string]uint32{
	"default":    0,
	"loopback":   0x7f000000,
	"link-local": 0xa9fe0000,
}

var llcProtos = map[string]uint32{
	"iso": llcsapISONS, "stp": llcsap8021D, "ipx": llcsapIPX, "netbeui": llcsapNetBEUI,
}

// ISO and IS-IS constants.
const (
	isoCLNP = 0x81
	isoESIS = 0x82
	isoISIS = 0x83

	isisL1LANIIH = 15
	isisL2LANIIH = 16
	isisPTPIIH   = 17
	isisL1LSP    = 18
	isisL2LSP    = 20
	isisL1CSNP   = 24
	isisL2CSNP   = 25
	isisL1PSNP   = 26
	isisL2PSNP   = 27
)

// lookupProto resolves a protocol name after 'proto' or 'protochain'.
func (c *compiler) lookupProto(name, proto string) int {
	switch proto {
	case "", "ip", "ip6":
		v, ok := ipProtocols[name]
		if !ok {
			c.errorf("unknown ip proto '%s'", name)
		}
		return int(v)
	case "link":
		if v, ok := etherProtos[name]; ok {
			return int(v)
		}
		if v, ok := llcProtos[name]; ok {
			return int(v)
		}
		c.errorf("unknown ether proto '%s'", name)
	case "iso":
		switch name {
		case "esis":
			return isoESIS
		case "isis":
			return isoISIS
		case "clnp":
			return isoCLNP
		}
		c.errorf("unknown osi proto '%s'", name)
	}
	return protoUndef
}

var bogusProto = map[string]string{
	"arp": "arp does not encapsulate another protocol", "rarp": "rarp does not encapsulate another protocol",
	"atalk": "AppleTalk encapsulation is not specifiable", "decnet": "DECNET encapsulation is not specifiable",
	"lat": "LAT does not encapsulate another protocol", "sca": "SCA does not encapsulate another protocol",
	"moprc": "MOPRC does not encapsulate another protocol", "mopdl": "MOPDL does not encapsulate another protocol",
	"clnp": "'clnp proto' is not supported",
}

// genProto is "[ip|ip6|ether|iso|isis] proto N".
func (c *compiler) genProto(v uint32, proto string, dir int) *block {
	if dir != dDefault {
		c.errorf("direction applied to 'proto'")
	}
	switch proto {
	case "":
		b0 := c.genProto(v, "ip", dir)
		b1 := c.genProto(v, "ip6", dir)
		genOr(b0, b1)
		return b1
	case "link":
		return c.genLinkType(v)
	case "ip":
		b0 := c.genLinkType(ethertypeIP)
		b1 := c.genCmp(orLinkPL, 9, bpfop.SizeB, v)
		genAnd(b0, b1)
		return b1
	case "ip6":
		b0 := c.genLinkType(ethertypeIPv6)
		b2 := c.genCmp(orLinkPL, 6, bpfop.SizeB, ipprotoFragment)
		b1 := c.genCmp(orLinkPL, 40, bpfop.SizeB, v)
		genAnd(b2, b1)
		b2 = c.genCmp(orLinkPL, 6, bpfop.SizeB, v)
		genOr(b2, b1)
		genAnd(b0, b1)
		return b1
	case "iso":
		if c.linktype == pcapio.LinkTypeFRelay {
			return c.genCmp(orLinkHdr, 2, bpfop.SizeH, 0x03<<8|v)
		}
		if c.linktype == pcapio.LinkTypeCHDLC {
			b0 := c.genLinkType(llcsapISONS<<8 | llcsapISONS)
			b1 := c.genCmp(orLinkPLNoSNAP, 1, bpfop.SizeB, v)
			genAnd(b0, b1)
			return b1
		}
		b0 := c.genLinkType(llcsapISONS)
		b1 := c.genCmp(orLinkPLNoSNAP, 0, bpfop.SizeB, v)
		genAnd(b0, b1)
		return b1
	case "isis":
		b0 := c.genProto(isoISIS, "iso", dDefault)
		b1 := c.genCmp(orLinkPLNoSNAP, 4, bpfop.SizeB, v)
		genAnd(b0, b1)
		return b1
	}
	if msg, ok := bogusProto[proto]; ok {
		c.errorf("%s", msg)
	}
	c.errorf("'%s proto' is bogus", proto)
	return nil
}

// genProtoAbbrev is a bare protocol name: "tcp", "ip6", "arp", "l1"...
func (c *compiler) genProtoAbbrev(proto string) *block {
	isisOr := func(types ...uint32) *block {
		b0 := c.genProto(types[0], "isis", dDefault)
		b1 := c.genProto(types[1], "isis", dDefault)
		genOr(b0, b1)
		for _, t := range types[2:] {
			b0 = c.genProto(t, "isis", dDefault)
			genOr(b0, b1)
		}
		return b1
	}
	switch proto {
	case "sctp":
		return c.genProto(ipprotoSCTP, "", dDefault)
	case "tcp":
		return c.genProto(ipprotoTCP, "", dDefault)
	case "udp":
		return c.genProto(ipprotoUDP, "", dDefault)
	case "icmp":
		return c.genProto(ipprotoICMP, "ip", dDefault)
	case "igmp":
		return c.genProto(ipprotoIGMP, "ip", dDefault)
	case "igrp":
		return c.genProto(ipprotoIGRP, "ip", dDefault)
	case "pim":
		return c.genProto(ipprotoPIM, "", dDefault)
	case "vrrp", "carp":
		return c.genProto(ipprotoVRRP, "ip", dDefault)
	case "ip":
		return c.genLinkType(ethertypeIP)
	case "arp":
		return c.genLinkType(ethertypeARP)
	case "rarp":
		return c.genLinkType(ethertypeREVARP)
	case "link":
		c.errorf("link layer applied in wrong context")
	case "atalk":
		return c.genLinkType(ethertypeATALK)
	case "aarp":
		return c.genLinkType(ethertypeAARP)
	case "decnet":
		return c.genLinkType(ethertypeDN)
	case "sca":
		return c.genLinkType(ethertypeSCA)
	case "lat":
		return c.genLinkType(ethertypeLAT)
	case "mopdl":
		return c.genLinkType(ethertypeMOPDL)
	case "moprc":
		return c.genLinkType(ethertypeMOPRC)
	case "ip6":
		return c.genLinkType(ethertypeIPv6)
	case "icmp6":
		return c.genProto(ipprotoICMPv6, "ip6", dDefault)
	case "ah":
		return c.genProto(ipprotoAH, "", dDefault)
	case "esp":
		return c.genProto(ipprotoESP, "", dDefault)
	case "iso":
		return c.genLinkType(llcsapISONS)
	case "esis":
		return c.genProto(isoESIS, "iso", dDefault)
	case "isis":
		return c.genProto(isoISIS, "iso", dDefault)
	case "l1":
		return isisOr(isisL1LANIIH, isisPTPIIH, isisL1LSP, isisL1CSNP, isisL1PSNP)
	case "l2":
		return isisOr(isisL2LANIIH, isisPTPIIH, isisL2LSP, isisL2CSNP, isisL2PSNP)
	case "iih":
		return isisOr(isisL1LANIIH, isisL2LANIIH, isisPTPIIH)
	case "lsp":
		return isisOr(isisL1LSP, isisL2LSP)
	case "snp":
		return isisOr(isisL1CSNP, isisL2CSNP, isisL1PSNP, isisL2PSNP)
	case "csnp":
		return isisOr(isisL1CSNP, isisL2CSNP)
	case "psnp":
		return isisOr(isisL1PSNP, isisL2PSNP)
	case "clnp":
		return c.genProto(isoCLNP, "iso", dDefault)
	case "stp":
		return c.genLinkType(llcsap8021D)
	case "ipx":
		return c.genLinkType(llcsapIPX)
	case "netbeui":
		return c.genLinkType(llcsapNetBEUI)
	case "radio":
		c.errorf("'radio' is not a valid protocol type")
	}
	c.errorf("unknown protocol '%s'", proto)
	return nil
}

// genScode is a name operand: a host, network, port, port range or
// protocol name, by the address qualifier.
func (c *compiler) genScode(name string, q qual) *block {
	proto, dir := q.proto, q.dir
	switch q.addr {
	case qNet:
		addr := networks[name]
		if addr == 0 {
			c.errorf("unknown network '%s'", name)
		}
		mask := uint32(0xffffffff)
		for addr != 0 && addr&0xff000000 == 0 {
			addr <<= 8
			mask <<= 8
		}
		return c.genHost(addr, mask, proto, dir, q.addr)
	case qDefault, qHost:
		if proto == "link" {
			if c.linktype == pcapio.LinkTypeEthernet || c.linktype == pcapio.LinkTypeIEEE802_11 || c.linktype == pcapio.LinkTypeIEEE802_11Radio || c.linktype == pcapio.LinkTypePPI {
				c.errorf("unknown ether host '%s'", name)
			}
			c.errorf("only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name")
		}
		if proto == "decnet" {
			c.errorf("decnet name support not included, '%s' cannot be translated", name)
		}
		addrs := c.lookupHost(name)
		tproto, tproto6 := proto, proto
		if c.offLinkType.constant == offNotSet && tproto == "" {
			tproto, tproto6 = "ip", "ip6"
		}
		var b *block
		for _, a := range addrs {
			var tmp *block
			if a.Is4() {
				if tproto == "ip6" {
					continue
				}
				v := a.As4()
				tmp = c.genHost(binary.BigEndian.Uint32(v[:]), 0xffffffff, tproto, dir, q.addr)
			} else {
				if tproto6 == "ip" {
					continue
				}
				var m [16]byte
				for i := range m {
					m[i] = 0xff
				}
				tmp = c.genHost6(a.As16(), m, tproto6, dir, q.addr)
			}
			if b != nil {
				genOr(b, tmp)
			}
			b = tmp
		}
		if b == nil {
			if proto == "" {
				c.errorf("unknown host '%s'", name)
			}
			c.errorf("unknown host '%s' for specified address family", name)
		}
		return b
	case qPort:
		if proto != "" && proto != "udp" && proto != "tcp" && proto != "sctp" {
			c.errorf("illegal qualifier of 'port'")
		}
		port, realProto, ok := nameToPort(name)
		if !ok {
			c.errorf("unknown port '%s'", name)
		}
		realProto = c.checkPortProto(proto, realProto, "port '"+name+"'")
		b := c.genPort(port, realProto, dir)
		genOr(c.genPort6(port, realProto, dir), b)
		return b
	case qPortrange:
		if proto != "" && proto != "udp" && proto != "tcp" && proto != "sctp" {
			c.errorf("illegal qualifier of 'portrange'")
		}
		p1, p2, realProto, ok := nameToPortrange(name)
		if !ok {
			c.errorf("unknown port in range '%s'", name)
		}
		realProto = c.checkPortProto(proto, realProto, "port in range '"+name+"'")
		for _, p := range []int{p1, p2} {
			if p < 0 {
				c.errorf("illegal port number %d < 0", p)
			}
			if p > 65535 {
				c.errorf("illegal port number %d > 65535", p)
			}
		}
		b := c.genPortrange(uint32(p1), uint32(p2), realProto, dir)
		genOr(c.genPortrange6(uint32(p1), uint32(p2), realProto, dir), b)
		return b
	case qGateway:
		c.errorf("'gateway' not supported in this configuration")
	case qProto:
		v := c.lookupProto(name, proto)
		if v < 0 {
			c.errorf("unknown protocol: %s", name)
		}
		return c.genProto(uint32(v), proto, dir)
	case qProtochain:
		v := c.lookupProto(name, proto)
		if v < 0 {
			c.errorf("unknown protocol: %s", name)
		}
		return c.genProtochain(uint32(v), proto)
	}
	c.errorf("syntax error")
	return nil
}

func (c *compiler) checkPortProto(proto string, realProto int, what string) int {
	names := map[int]string{ipprotoTCP: "tcp", ipprotoUDP: "udp", ipprotoSCTP: "sctp"}
	want := map[string]int{"tcp": ipprotoTCP, "udp": ipprotoUDP, "sctp": ipprotoSCTP}
	if proto == "" {
		return realProto
	}
	if realProto != protoUndef && realProto != want[proto] {
		c.errorf("%s is %s", what, names[realProto])
	}
	return want[proto]
}

// nameToPort is libpcap's pcap_nametoport over the built-in services.
func nameToPort(name string) (uint32, int, bool) {
	t, tok := servicesTCP[name]
	u, uok := servicesUDP[name]
	switch {
	case tok && uok && t == u:
		return t, protoUndef, true
	case tok:
		return t, ipprotoTCP, true
	case uok:
		return u, ipprotoUDP, true
	}
	return 0, 0, false
}

// nameToPortrange is libpcap's pcap_nametoportrange: "N-M" or "name-name".
func nameToPortrange(name string) (int, int, int, bool) {
	if p1, p2, ok := scanRange(name); ok {
		return p1, p2, protoUndef, true
	}
	i := indexByte(name, '-')
	if i < 0 {
		return 0, 0, 0, false
	}
	p1, pr1, ok := nameToPort(name[:i])
	if !ok {
		return 0, 0, 0, false
	}
	p2, pr2, ok := nameToPort(name[i+1:])
	if !ok {
		return 0, 0, 0, false
	}
	pr := pr2
	if pr1 != pr2 {
		pr = protoUndef
	}
	return int(p1), int(p2), pr, true
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// scanRange is sscanf(name, "%d-%d"): a decimal, '-', a decimal, then
// anything.
func scanRange(s string) (int, int, bool) {
	num := func(s string) (int, string, bool) {
		i, neg := 0, false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		j := i
		var v int64 // int64 so that 32-bit platforms scan as 64-bit ones do
		for j < len(s) && s[j] >= '0' && s[j] <= '9' && v < 1<<31 {
			v = v*10 + int64(s[j]-'0')
			j++
		}
		if j == i {
			return 0, s, false
		}
		if neg {
			v = -v
		}
		return int(v), s[j:], true
	}
	p1, rest, ok := num(s)
	if !ok || len(rest) == 0 || rest[0] != '-' {
		return 0, 0, false
	}
	p2, _, ok := num(rest[1:])
	if !ok {
		return 0, 0, false
	}
	return p1, p2, true
}
