package filter

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/pcapio"
)

// IP protocol numbers.
const (
	ipprotoICMP     = 1
	ipprotoIGMP     = 2
	ipprotoIGRP     = 9
	ipprotoTCP      = 6
	ipprotoUDP      = 17
	ipprotoFragment = 44
	ipprotoESP      = 50
	ipprotoAH       = 51
	ipprotoICMPv6   = 58
	ipprotoPIM      = 103
	ipprotoVRRP     = 112
	ipprotoSCTP     = 132
	protoUndef      = -1
)

// genID generates an operand with its qualifiers: libpcap's gen_scode
// (names), gen_ncode (numbers and dotted IPv4), gen_mcode (net/len and net
// mask), gen_mcode6 (IPv6) and gen_ecode (MAC).
func (c *compiler) genID(n *idNode) *block {
	if n.q.undef {
		c.errorf("syntax error: a bare %s needs a qualifier such as 'host', 'net' or 'port' in front", describeID(n))
	}
	switch n.kind {
	case tokNum:
		return c.genNcode("", n.num, n.q)
	case tokHID:
		if n.hasLen || n.mask != "" {
			return c.genMcode(n.text, n.mask, n.maskLen, n.hasLen, n.q)
		}
		switch n.q.addr {
		case qPort:
			c.errorf("'port' modifier applied to ip host")
		case qPortrange:
			c.errorf("'portrange' modifier applied to ip host")
		case qProto:
			c.errorf("'proto' modifier applied to ip host")
		case qProtochain:
			c.errorf("'protochain' modifier applied to ip host")
		}
		return c.genNcode(n.text, 0, n.q)
	case tokHID6:
		l := uint32(128)
		if n.hasLen {
			l = n.maskLen
		}
		return c.genMcode6(n.text, l, n.q)
	case tokEID:
		return c.genEcode(n.text, n.q)
	case tokAID:
		return c.genAcode(n.text, n.q)
	}
	return c.genScode(n.text, n.q)
}

func describeID(n *idNode) string {
	if n.kind == tokNum {
		return "number " + n.text
	}
	return "'" + n.text + "'"
}

// atoin parses a dotted IPv4 address or abbreviated network ("10",
// "192.168") as libpcap's __pcap_atoin: the value and its length in bits.
func atoin(s string) (uint32, int, bool) {
	var addr uint32
	l := 0
	for _, part := range strings.Split(s, ".") {
		v, err := strconv.ParseUint(part, 0, 32)
		if err != nil || v > 255 {
			return 0, 0, false
		}
		addr = addr<<8 | uint32(v)
		l += 8
	}
	return addr, l, true
}

func (c *compiler) genNcode(s string, v uint32, q qual) *block {
	proto, dir := q.proto, q.dir
	vlen := 32
	if s != "" {
		if proto == "decnet" {
			var ok bool
			v, ok = atodn(s)
			if !ok {
				c.errorf("malformed decnet address '%s'", s)
			}
			vlen = 16
		} else {
			var ok bool
			v, vlen, ok = atoin(s)
			if !ok {
				c.errorf("invalid IPv4 address '%s'", s)
			}
		}
	}
	switch q.addr {
	case qDefault, qHost, qNet:
		if proto == "decnet" {
			return c.genHost(v, 0, proto, dir, q.addr)
		}
		if proto == "link" {
			c.errorf("illegal link layer address")
		}
		mask := uint32(0xffffffff)
		if s == "" && q.addr == qNet {
			for v != 0 && v&0xff000000 == 0 {
				v <<= 8
				mask <<= 8
			}
		} else {
			v <<= uint(32 - vlen)
			mask <<= uint(32 - vlen)
		}
		return c.genHost(v, mask, proto, dir, q.addr)
	case qPort, qPortrange:
		ipproto := protoUndef
		switch proto {
		case "udp":
			ipproto = ipprotoUDP
		case "tcp":
			ipproto = ipprotoTCP
		case "sctp":
			ipproto = ipprotoSCTP
		case "":
		default:
			if q.addr == qPort {
				c.errorf("illegal qualifier of 'port'")
			}
			c.errorf("illegal qualifier of 'portrange'")
		}
		if v > 65535 {
			c.errorf("illegal port number %d > 65535", v)
		}
		if q.addr == qPort {
			b := c.genPort(v, ipproto, dir)
			genOr(c.genPort6(v, ipproto, dir), b)
			return b
		}
		b := c.genPortrange(v, v, ipproto, dir)
		genOr(c.genPortrange6(v, v, ipproto, dir), b)
		return b
	case qGateway:
		c.errorf("'gateway' requires a name")
	case qProto:
		return c.genProto(v, proto, dir)
	case qProtochain:
		return c.genProtochain(v, proto)
	}
	c.errorf("syntax error")
	return nil
}

func (c *compiler) genMcode(s1, s2 string, masklen uint32, hasLen bool, q qual) *block {
	n, nlen, ok := atoin(s1)
	if !ok {
		c.errorf("invalid IPv4 address '%s'", s1)
	}
	n <<= uint(32 - nlen)
	var m uint32
	if s2 != "" {
		mm, mlen, ok := atoin(s2)
		if !ok {
			c.errorf("invalid IPv4 address '%s'", s2)
		}
		m = mm << uint(32-mlen)
		if n&^m != 0 {
			c.errorf("non-network bits set in \"%s mask %s\"", s1, s2)
		}
	} else {
		if masklen > 32 {
			c.errorf("mask length must be <= 32")
		}
		if masklen != 0 {
			m = 0xffffffff << (32 - masklen)
		}
		if n&^m != 0 {
			c.errorf("non-network bits set in \"%s/%d\"", s1, masklen)
		}
	}
	if q.addr != qNet {
		c.errorf("Mask syntax for networks only")
	}
	return c.genHost(n, m, q.proto, q.dir, q.addr)
}

func (c *compiler) genMcode6(s string, masklen uint32, q qual) *block {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		c.errorf("invalid ip6 address %s", s)
	}
	if masklen > 128 {
		c.errorf("mask length must be <= 128")
	}
	addr := a.As16()
	var mask [16]byte
	for i := 0; i < int(masklen)/8; i++ {
		mask[i] = 0xff
	}
	if masklen%8 != 0 {
		mask[masklen/8] = byte(0xff << (8 - masklen%8))
	}
	for i := range addr {
		if addr[i]&^mask[i] != 0 {
			c.errorf("non-network bits set in \"%s/%d\"", s, masklen)
		}
	}
	switch q.addr {
	case qDefault, qHost:
		if masklen != 128 {
			c.errorf("Mask syntax for networks only")
		}
	case qNet:
	default:
		c.errorf("invalid qualifier against IPv6 address")
	}
	return c.genHost6(addr, mask, q.proto, q.dir, q.addr)
}

func typeStr(addrType int) string {
	if addrType == qNet {
		return "net"
	}
	return "host"
}

// genHost tests an IPv4 address (or network) in IP, ARP and RARP headers.
func (c *compiler) genHost(addr, mask uint32, proto string, dir, addrType int) *block {
	ts := typeStr(addrType)
	switch proto {
	case "":
		b0 := c.genHost(addr, mask, "ip", dir, addrType)
		if c.labelDepth == 0 {
			b1 := c.genHost(addr, mask, "arp", dir, addrType)
			genOr(b0, b1)
			b0 = c.genHost(addr, mask, "rarp", dir, addrType)
			genOr(b1, b0)
		}
		return b0
	case "link":
		c.errorf("link-layer modifier applied to %s", ts)
	case "ip":
		return c.genHostop(addr, mask, dir, ethertypeIP, 12, 16)
	case "rarp":
		return c.genHostop(addr, mask, dir, ethertypeREVARP, 14, 24)
	case "arp":
		return c.genHostop(addr, mask, dir, ethertypeARP, 14, 24)
	case "atalk":
		c.errorf("AppleTalk host filtering not implemented")
	case "decnet":
		return c.genDNHostop(addr, dir)
	case "lat":
		c.errorf("LAT host filtering not implemented")
	case "sca":
		c.errorf("SCA host filtering not implemented")
	case "moprc":
		c.errorf("MOPRC host filtering not implemented")
	case "mopdl":
		c.errorf("MOPDL host filtering not implemented")
	case "ip6":
		c.errorf("'ip6' modifier applied to ip host")
	case "aarp":
		c.errorf("AARP host filtering not implemented")
	case "iso":
		c.errorf("ISO host filtering not implemented")
	case "ipx":
		c.errorf("IPX host filtering not implemented")
	}
	c.errorf("'%s' modifier applied to %s", proto, ts)
	return nil
}

func (c *compiler) dirQualError(what string, dir int) {
	switch dir {
	case dAddr1, dAddr2, dAddr3, dAddr4:
		n := strconv.Itoa(dir - dAddr1 + 1)
		c.errorf("'addr%s' and 'address%s' are not valid qualifiers for %s", n, n, what)
	case dRA:
		c.errorf("'ra' is not a valid qualifier for %s", what)
	case dTA:
		c.errorf("'ta' is not a valid qualifier for %s", what)
	}
}

// genSrcDst generates the test for a src/dst direction qualifier:
// for src and dst it returns gen(dir); for "src and dst" and for
// "src or dst" (also the default) it generates gen(dSrc), then
// gen(dDst) -- in that order, as libpcap does, so that the blocks are
// numbered alike -- and ands or ors them. For any other direction (the
// 802.11 ra, ta and addr1-4) it calls nothing and returns false.
func genSrcDst(dir int, gen func(dir int) *block) (*block, bool) {
	switch dir {
	case dSrc, dDst:
		return gen(dir), true
	case dAnd, dDefault, dOr:
		b0 := gen(dSrc)
		b1 := gen(dDst)
		if dir == dAnd {
			genAnd(b0, b1)
		} else {
			genOr(b0, b1)
		}
		return b1, true
	}
	return nil, false
}

// genByDir is genSrcDst for tests that take no 802.11 direction: any
// other direction is an error naming what, as libpcap reports it.
func (c *compiler) genByDir(dir int, what string, gen func(dir int) *block) *block {
	b, ok := genSrcDst(dir, gen)
	if !ok {
		c.dirQualError(what, dir)
	}
	return b
}

// srcDst returns src for dSrc and dst for dDst.
func srcDst(dir, src, dst int) int {
	if dir == dDst {
		return dst
	}
	return src
}

func (c *compiler) genHostop(addr, mask uint32, dir int, llProto uint32, srcOff, dstOff int) *block {
	return c.genByDir(dir, "addresses other than 802.11 MAC addresses", func(dir int) *block {
		b0 := c.genLinkType(llProto)
		b1 := c.genMcmp(orLinkPL, srcDst(dir, srcOff, dstOff), bpfop.SizeW, addr, mask)
		genAnd(b0, b1)
		return b1
	})
}

func (c *compiler) genHost6(addr, mask [16]byte, proto string, dir, addrType int) *block {
	ts := typeStr(addrType)
	switch proto {
	case "", "ip6":
		return c.genHostop6(addr, mask, dir, ethertypeIPv6, 8, 24)
	case "link":
		c.errorf("link-layer modifier applied to ip6 %s", ts)
	case "atalk":
		c.errorf("AppleTalk host filtering not implemented")
	case "decnet":
		c.errorf("'decnet' modifier applied to ip6 %s", ts)
	case "lat", "sca", "moprc", "mopdl", "aarp", "iso", "ipx":
		c.errorf("%s host filtering not implemented", strings.ToUpper(proto))
	}
	c.errorf("'%s' modifier applied to ip6 %s", proto, ts)
	return nil
}

func (c *compiler) genHostop6(addr, mask [16]byte, dir int, llProto uint32, srcOff, dstOff int) *block {
	return c.genByDir(dir, "addresses other than 802.11 MAC addresses", func(dir int) *block {
		offset := srcDst(dir, srcOff, dstOff)
		word := func(i int) *block {
			return c.genMcmp(orLinkPL, offset+i, bpfop.SizeW,
				binary.BigEndian.Uint32(addr[i:]), binary.BigEndian.Uint32(mask[i:]))
		}
		b1 := word(12)
		b0 := word(8)
		genAnd(b0, b1)
		b0 = word(4)
		genAnd(b0, b1)
		b0 = word(0)
		genAnd(b0, b1)
		b0 = c.genLinkType(llProto)
		genAnd(b0, b1)
		return b1
	})
}

// genEcode is a MAC address operand.
func (c *compiler) genEcode(s string, q qual) *block {
	if (q.addr == qHost || q.addr == qDefault) && q.proto == "link" {
		e, ok := parseMAC(s)
		if !ok {
			c.errorf("bogus ethernet address %s", s)
		}
		switch c.linktype {
		case pcapio.LinkTypeEthernet:
			return c.genEtherTest(func() *block { return c.genEHostop(e, q.dir) })
		case pcapio.LinkTypeIEEE802_11, pcapio.LinkTypeIEEE802_11Radio, pcapio.LinkTypePPI:
			return c.genWLANHostop(e, q.dir)
		}
		c.errorf("ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel")
	}
	c.errorf("ethernet address used in non-ether expression")
	return nil
}

// parseMAC parses every MAC notation libpcap's scanner accepts.
func parseMAC(s string) ([]byte, bool) {
	var parts []string
	switch {
	case strings.Count(s, ":") == 5:
		parts = strings.Split(s, ":")
	case strings.Count(s, "-") == 5:
		parts = strings.Split(s, "-")
	case strings.Count(s, ".") == 5:
		parts = strings.Split(s, ".")
	case strings.Count(s, ".") == 2:
		for _, p := range strings.Split(s, ".") {
			parts = append(parts, p[:2], p[2:])
		}
	case len(s) == 12:
		for i := 0; i < 12; i += 2 {
			parts = append(parts, s[i:i+2])
		}
	default:
		return nil, false
	}
	e := make([]byte, 0, 6)
	for _, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return nil, false
		}
		e = append(e, byte(v))
	}
	return e, len(e) == 6
}

func (c *compiler) genEHostop(e []byte, dir int) *block {
	if b, ok := genSrcDst(dir, func(dir int) *block {
		return c.genBcmp(orLinkHdr, srcDst(dir, 6, 0), e)
	}); ok {
		return b
	}
	switch dir {
	case dAddr1, dAddr2, dAddr3, dAddr4:
		n := strconv.Itoa(dir - dAddr1 + 1)
		c.errorf("'addr%s' and 'address%s' are only supported on 802.11 with 802.11 headers", n, n)
	case dRA:
		c.errorf("'ra' is only supported on 802.11 with 802.11 headers")
	}
	c.errorf("'ta' is only supported on 802.11 with 802.11 headers")
	return nil
}

// etherAton converts a MAC address as libpcap's pcap_ether_aton does,
// quirks included: ARCnet's "$1a" reads '$' as a digit too.
func etherAton(s string) []byte {
	xdtoi := func(c byte) uint32 {
		switch {
		case c >= '0' && c <= '9':
			return uint32(c - '0')
		case c >= 'a' && c <= 'f':
			return uint32(c-'a') + 10
		}
		return uint32(c) - 'A' + 10
	}
	var e []byte
	for i := 0; i < len(s); {
		if s[i] == ':' || s[i] == '.' || s[i] == '-' {
			i++
			if i >= len(s) {
				break
			}
		}
		d := xdtoi(s[i])
		i++
		if i < len(s) && isHex(s[i]) {
			d = d<<4 | xdtoi(s[i])
			i++
		}
		e = append(e, byte(d))
	}
	for len(e) < 6 {
		e = append(e, 0)
	}
	return e
}

// genAcode is an ARCnet address operand ($xx).
func (c *compiler) genAcode(s string, q qual) *block {
	if c.linktype != pcapio.LinkTypeArcnet && c.linktype != pcapio.LinkTypeArcnetLinux {
		c.errorf("aid supported only on ARCnet")
	}
	if (q.addr != qHost && q.addr != qDefault) || q.proto != "link" {
		c.errorf("ARCnet address used in non-arc expression")
	}
	return c.genAHostop(etherAton(s), q.dir)
}

// genAHostop tests an ARCnet source (byte 0) or destination (byte 1).
func (c *compiler) genAHostop(e []byte, dir int) *block {
	return c.genByDir(dir, "addresses other than 802.11 MAC addresses", func(dir int) *block {
		return c.genBcmp(orLinkHdr, srcDst(dir, 0, 1), e[:1])
	})
}
