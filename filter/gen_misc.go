package filter

import (
	"github.com/pkttap/pkttap/pcapio"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

var etherBroadcast = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// genBroadcast is "[ether|ip] broadcast".
func (c *compiler) genBroadcast(proto string) *block {
	switch proto {
	case "", "link":
		switch c.linktype {
		case pcapio.LinkTypeArcnet, pcapio.LinkTypeArcnetLinux:
			return c.genAHostop([]byte{0}, dDst)
		case pcapio.LinkTypeEthernet:
			return c.genEtherTest(func() *block { return c.genEHostop(etherBroadcast, dDst) })
		case pcapio.LinkTypeIEEE802_11, pcapio.LinkTypeIEEE802_11Radio, pcapio.LinkTypePPI:
			return c.genWLANHostop(etherBroadcast, dDst)
		}
		c.errorf("not a broadcast link")
	case "ip":
		c.errorf("netmask not known, so 'ip broadcast' not supported")
	}
	c.errorf("only link-layer/IP broadcast filters supported")
	return nil
}

// genMACMulticast tests the group bit of the MAC address at offset.
func (c *compiler) genMACMulticast(offset int) *block { return c.jset(orLinkHdr, offset, 1) }

// genMulticast is "[ether|ip|ip6] multicast".
func (c *compiler) genMulticast(proto string) *block {
	switch proto {
	case "", "link":
		switch c.linktype {
		case pcapio.LinkTypeArcnet, pcapio.LinkTypeArcnetLinux:
			return c.genAHostop([]byte{0}, dDst)
		case pcapio.LinkTypeEthernet:
			return c.genEtherTest(func() *block { return c.genMACMulticast(0) })
		case pcapio.LinkTypeIEEE802_11, pcapio.LinkTypeIEEE802_11Radio, pcapio.LinkTypePPI:
			// The destination address is a group address.
			return c.genWLANSrcDst(dDst, c.genMACMulticast)
		}
	case "ip":
		b0 := c.genLinkType(ethertypeIP)
		b1 := c.genCmpGE(orLinkPL, 16, bpfop.SizeB, 224)
		genAnd(b0, b1)
		return b1
	case "ip6":
		b0 := c.genLinkType(ethertypeIPv6)
		b1 := c.genCmp(orLinkPL, 24, bpfop.SizeB, 255)
		genAnd(b0, b1)
		return b1
	}
	c.errorf("link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel")
	return nil
}

const (
	sllOutgoing    = 4
	packetOutgoing = 4
)

// genInbound is "inbound" (outbound false) or "outbound" (true).
func (c *compiler) genInbound(outbound bool) *block {
	var b0 *block
	switch c.linktype {
	case pcapio.LinkTypeSLIP:
		// The first byte of libpcap's SLIP pseudo-header is the direction.
		// (gcc evaluates libpcap's arguments right to left: the constant
		// is allocated first.)
		a1 := c.genArth(&numArth{v: 0})
		a0 := c.genLoad("link", c.genArth(&numArth{v: 0}), 1)
		op := "="
		if outbound {
			op = "!="
		}
		return c.genRelation(op, a0, a1)
	case linkTypeIPNet:
		dir := uint32(2) // IPNET_INBOUND
		if outbound {
			dir = 1 // IPNET_OUTBOUND
		}
		return c.genCmp(orLinkHdr, 2, bpfop.SizeH, dir)
	case pcapio.LinkTypeLinuxSLL:
		b0 = c.genCmp(orLinkHdr, 0, bpfop.SizeH, sllOutgoing)
	case pcapio.LinkTypeLinuxSLL2:
		b0 = c.genCmp(orLinkHdr, 10, bpfop.SizeB, sllOutgoing)
	default:
		if c.savefile() {
			c.errorf("inbound/outbound not supported on %s when reading savefiles", c.linktype.Description())
		}
		b0 = c.genCmp(orLinkHdr, skfAdOffInt+bpfop.SKFAdPktType, bpfop.SizeH, packetOutgoing)
	}
	if !outbound {
		genNot(b0)
	}
	return b0
}

// genIfindex is "ifindex N".
func (c *compiler) genIfindex(ifindex uint32) *block {
	if c.linktype == pcapio.LinkTypeLinuxSLL2 {
		return c.genCmp(orLinkHdr, 4, bpfop.SizeW, ifindex)
	}
	if c.savefile() {
		c.errorf("ifindex not supported on %s when reading savefiles", c.linktype.Description())
	}
	return c.genCmp(orLinkHdr, skfAdOffInt+bpfop.SKFAdIfIndex, bpfop.SizeW, ifindex)
}
