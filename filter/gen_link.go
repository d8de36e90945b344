package filter

import (
	"encoding/binary"
	"math/bits"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/pcapio"
)

// Ethernet types, LLC SAPs and other link-layer constants.
const (
	etherMTU = 1500

	ethertypeIP        = 0x0800
	ethertypeARP       = 0x0806
	ethertypeREVARP    = 0x8035
	ethertypeIPv6      = 0x86dd
	ethertypeATALK     = 0x809b
	ethertypeAARP      = 0x80f3
	ethertypeDN        = 0x6003
	ethertypeSCA       = 0x6007
	ethertypeLAT       = 0x6004
	ethertypeMOPDL     = 0x6001
	ethertypeMOPRC     = 0x6002
	ethertypeIPX       = 0x8137
	ethertype8021Q     = 0x8100
	ethertype8021AD    = 0x88a8
	ethertype8021QINQ  = 0x9100
	ethertypeMPLS      = 0x8847
	ethertypeMPLSMulti = 0x8848
	ethertypePPPOED    = 0x8863
	ethertypePPPOES    = 0x8864
	ethertypeTEB       = 0x6558

	llcsapIP      = 0x06
	llcsapISONS   = 0xfe
	llcsapNetBEUI = 0xf0
	llcsapIPX     = 0xe0
	llcsap8021D   = 0x42
	llcsapSNAP    = 0xaa

	sllP8023 = 0x0001
	sllP8022 = 0x0004

	afInet = 2
)

// initLinkType sets the offsets of the link-layer header fields, as
// libpcap's init_linktype.
func (c *compiler) initLinkType() {
	lt := c.opts.LinkType
	c.linktype = lt
	c.offLinkHdr = absOffset{reg: -1}
	c.offPrevLinkHdr = absOffset{reg: -1}
	c.offLinkPL = absOffset{reg: -1}
	c.offLinkType = absOffset{reg: -1}
	switch lt {
	case pcapio.LinkTypeEthernet:
		c.offLinkType.constant, c.offLinkPL.constant = 12, 14
		c.offNL, c.offNLNoSNAP = 0, 3
	case pcapio.LinkTypeNull, pcapio.LinkTypeLoop:
		c.offLinkType.constant, c.offLinkPL.constant = 0, 4
	case pcapio.LinkTypeRaw, pcapio.LinkTypeIPv4, pcapio.LinkTypeIPv6:
		c.offLinkType.constant, c.offLinkPL.constant = offNotSet, 0
	case pcapio.LinkTypeSLIP:
		c.offLinkType.constant, c.offLinkPL.constant = offNotSet, 16
	case pcapio.LinkTypeArcnet:
		c.offLinkType.constant, c.offLinkPL.constant = 2, 6
	case pcapio.LinkTypeArcnetLinux:
		c.offLinkType.constant, c.offLinkPL.constant = 4, 8
	case pcapio.LinkTypeFRelay:
		c.offLinkType.constant, c.offLinkPL.constant = offNotSet, 0
	case linkTypeIPNet:
		c.offLinkType.constant, c.offLinkPL.constant = 1, 24
		c.offNLNoSNAP = offNotSet
	case pcapio.LinkTypePPP, pcapio.LinkTypePPPHDLC, pcapio.LinkTypeCHDLC:
		c.offLinkType.constant, c.offLinkPL.constant = 2, 4
	case pcapio.LinkTypeLinuxSLL:
		c.offLinkType.constant, c.offLinkPL.constant = 14, 16
	case pcapio.LinkTypeLinuxSLL2:
		c.offLinkType.constant, c.offLinkPL.constant = 0, 20
	case pcapio.LinkTypeIEEE802_11, pcapio.LinkTypeIEEE802_11Radio, pcapio.LinkTypePPI:
		c.offLinkHdr.variable = lt != pcapio.LinkTypeIEEE802_11
		c.offLinkType.constant = 24
		c.offLinkPL = absOffset{variable: true, reg: -1}
		c.offNL, c.offNLNoSNAP = 8, 3
	default:
		if lt < 104 || lt > 289 || libpcapKnows[lt] {
			c.errorf("link type %s is not supported by the filter compiler (supported: EN10MB, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2, NULL, LOOP, IEEE802_11, IEEE802_11_RADIO, PPI, PPP, PPP_SERIAL, C_HDLC, SLIP, ARCNET, ARCNET_LINUX, FRELAY, IPNET, and the link types libpcap only filters with link[...], len and the like)", lt)
		}
		// libpcap's "matching" range without a header layout: only
		// link-layer loads, lengths and the like compile.
		c.offLinkType.constant, c.offLinkPL.constant = offNotSet, offNotSet
		c.offNL, c.offNLNoSNAP = offNotSet, offNotSet
	}
	c.offPrevLinkHdr = c.offLinkHdr
}

// savefile reports whether the program is compiled against a capture file
// (libpcap's rfile != NULL).
func (c *compiler) savefile() bool { return c.opts.SavefileByteOrder != nil }

// genLinkType tests that the link-layer payload is of type llProto (an
// Ethernet type, or an LLC SAP when <= 1500).
func (c *compiler) genLinkType(llProto uint32) *block {
	if c.labelDepth > 0 {
		return c.genMPLSLinkType(llProto)
	}
	switch c.linktype {
	case pcapio.LinkTypeEthernet:
		// libpcap checks the previous link header here only for SunATM,
		// and never inside Geneve.
		return c.genEtherLinkType(llProto)
	case pcapio.LinkTypeIEEE802_11, pcapio.LinkTypeIEEE802_11Radio, pcapio.LinkTypePPI:
		b0 := c.genCheck80211DataFrame()
		b1 := c.genLLCLinkType(llProto)
		genAnd(b0, b1)
		return b1
	case pcapio.LinkTypeLinuxSLL:
		return c.genLinuxSLLLinkType(llProto)
	case pcapio.LinkTypePPP, pcapio.LinkTypePPPHDLC:
		return c.genCmp(orLinkType, 0, bpfop.SizeH, etherTypeToPPPType(llProto))
	case pcapio.LinkTypeArcnet, pcapio.LinkTypeArcnetLinux:
		return c.genArcnetLinkType(llProto)
	case pcapio.LinkTypeFRelay:
		switch llProto {
		case ethertypeIP:
			return c.genCmp(orLinkHdr, 2, bpfop.SizeH, 0x03<<8|0xcc)
		case ethertypeIPv6:
			return c.genCmp(orLinkHdr, 2, bpfop.SizeH, 0x03<<8|0x8e)
		case llcsapISONS:
			b0 := c.genCmp(orLinkHdr, 2, bpfop.SizeH, 0x03<<8|isoCLNP)
			b1 := c.genCmp(orLinkHdr, 2, bpfop.SizeH, 0x03<<8|isoESIS)
			b2 := c.genCmp(orLinkHdr, 2, bpfop.SizeH, 0x03<<8|isoISIS)
			genOr(b1, b2)
			genOr(b0, b2)
			return b2
		}
		return c.genFalse()
	case linkTypeIPNet:
		switch llProto {
		case ethertypeIP:
			return c.genCmp(orLinkType, 0, bpfop.SizeB, 2) // IPH_AF_INET
		case ethertypeIPv6:
			return c.genCmp(orLinkType, 0, bpfop.SizeB, 26) // IPH_AF_INET6
		}
		return c.genFalse()
	case pcapio.LinkTypeCHDLC:
		if llProto == llcsapISONS {
			llProto = llProto<<8 | llcsapISONS
		}
		return c.genCmp(orLinkType, 0, bpfop.SizeH, llProto)
	case pcapio.LinkTypeRaw, pcapio.LinkTypeSLIP:
		switch llProto {
		case ethertypeIP:
			return c.genMcmp(orLinkHdr, 0, bpfop.SizeB, 0x40, 0xf0)
		case ethertypeIPv6:
			return c.genMcmp(orLinkHdr, 0, bpfop.SizeB, 0x60, 0xf0)
		}
		return c.genFalse()
	case pcapio.LinkTypeIPv4:
		if llProto == ethertypeIP {
			return c.genTrue()
		}
		return c.genFalse()
	case pcapio.LinkTypeIPv6:
		if llProto == ethertypeIPv6 {
			return c.genTrue()
		}
		return c.genFalse()
	case pcapio.LinkTypeNull, pcapio.LinkTypeLoop:
		switch llProto {
		case ethertypeIP:
			return c.genLoopbackLinkType(afInet)
		case ethertypeIPv6:
			if c.savefile() {
				b0 := c.genLoopbackLinkType(AFInet6BSD)
				b1 := c.genLoopbackLinkType(AFInet6FreeBSD)
				genOr(b0, b1)
				b0 = c.genLoopbackLinkType(AFInet6Darwin)
				genOr(b0, b1)
				return b1
			}
			if c.opts.LiveAFInet6 != 0 {
				return c.genLoopbackLinkType(c.opts.LiveAFInet6)
			}
			return c.genLoopbackLinkType(AFInet6Linux)
		}
		return c.genFalse()
	}
	if c.offLinkType.constant != offNotSet {
		return c.genCmp(orLinkType, 0, bpfop.SizeH, llProto)
	}
	c.errorf("%s link-layer type filtering not implemented", c.linktype)
	return nil
}

// genLoopbackLinkType compares the 4-byte address family of NULL and LOOP
// headers: LOOP stores it big-endian; NULL in the capturing host's byte
// order (the file's, for a capture file; little-endian otherwise).
func (c *compiler) genLoopbackLinkType(family uint32) *block {
	if c.linktype == pcapio.LinkTypeNull {
		if c.opts.SavefileByteOrder != binary.BigEndian {
			family = bits.ReverseBytes32(family)
		}
	}
	return c.genCmp(orLinkHdr, 0, bpfop.SizeW, family)
}

// genEtherLinkType is libpcap's gen_ether_linktype.
func (c *compiler) genEtherLinkType(llProto uint32) *block {
	switch llProto {
	case llcsapISONS, llcsapIP, llcsapNetBEUI:
		b0 := c.genCmpGT(orLinkType, 0, bpfop.SizeH, etherMTU)
		genNot(b0)
		b1 := c.genCmp(orLLC, 0, bpfop.SizeH, llProto<<8|llProto)
		genAnd(b0, b1)
		return b1
	case llcsapIPX:
		b0 := c.genCmp(orLLC, 0, bpfop.SizeB, llcsapIPX)
		b1 := c.genCmp(orLLC, 0, bpfop.SizeH, 0xffff)
		genOr(b0, b1)
		b0 = c.genSNAP(0x000000, ethertypeIPX)
		genOr(b0, b1)
		b0 = c.genCmpGT(orLinkType, 0, bpfop.SizeH, etherMTU)
		genNot(b0)
		genAnd(b0, b1)
		b0 = c.genCmp(orLinkType, 0, bpfop.SizeH, ethertypeIPX)
		genOr(b0, b1)
		return b1
	case ethertypeATALK, ethertypeAARP:
		b0 := c.genCmpGT(orLinkType, 0, bpfop.SizeH, etherMTU)
		genNot(b0)
		b1 := c.genAppleTalkSNAP(llProto)
		genAnd(b0, b1)
		b0 = c.genCmp(orLinkType, 0, bpfop.SizeH, llProto)
		genOr(b0, b1)
		return b1
	}
	if llProto <= etherMTU {
		b0 := c.genCmpGT(orLinkType, 0, bpfop.SizeH, etherMTU)
		genNot(b0)
		b1 := c.genCmp(orLinkType, 2, bpfop.SizeB, llProto)
		genAnd(b0, b1)
		return b1
	}
	return c.genCmp(orLinkType, 0, bpfop.SizeH, llProto)
}

// genLinuxSLLLinkType is libpcap's gen_linux_sll_linktype.
func (c *compiler) genLinuxSLLLinkType(llProto uint32) *block {
	switch llProto {
	case llcsapISONS, llcsapIP, llcsapNetBEUI:
		b0 := c.genCmp(orLinkType, 0, bpfop.SizeH, sllP8022)
		b1 := c.genCmp(orLLC, 0, bpfop.SizeH, llProto<<8|llProto)
		genAnd(b0, b1)
		return b1
	case llcsapIPX:
		b0 := c.genCmp(orLLC, 0, bpfop.SizeB, llcsapIPX)
		b1 := c.genSNAP(0x000000, ethertypeIPX)
		genOr(b0, b1)
		b0 = c.genCmp(orLinkType, 0, bpfop.SizeH, sllP8022)
		genAnd(b0, b1)
		b0 = c.genCmp(orLinkType, 0, bpfop.SizeH, sllP8023)
		genOr(b0, b1)
		b0 = c.genCmp(orLinkType, 0, bpfop.SizeH, ethertypeIPX)
		genOr(b0, b1)
		return b1
	case ethertypeATALK, ethertypeAARP:
		b0 := c.genCmp(orLinkType, 0, bpfop.SizeH, sllP8022)
		b1 := c.genAppleTalkSNAP(llProto)
		genAnd(b0, b1)
		b0 = c.genCmp(orLinkType, 0, bpfop.SizeH, llProto)
		genOr(b0, b1)
		return b1
	}
	if llProto <= etherMTU {
		b0 := c.genCmp(orLinkType, 0, bpfop.SizeH, sllP8022)
		b1 := c.genCmp(orLinkHdr, c.offLinkPL.constant, bpfop.SizeB, llProto)
		genAnd(b0, b1)
		return b1
	}
	return c.genCmp(orLinkType, 0, bpfop.SizeH, llProto)
}

// genSNAP tests for an 802.2 SNAP header with the given OUI and type.
func (c *compiler) genSNAP(orgcode, ptype uint32) *block {
	snap := []byte{llcsapSNAP, llcsapSNAP, 0x03,
		byte(orgcode >> 16), byte(orgcode >> 8), byte(orgcode),
		byte(ptype >> 8), byte(ptype)}
	return c.genBcmp(orLLC, 0, snap)
}

// genAppleTalkSNAP tests for the SNAP header of AppleTalk (Apple's OUI
// 08:00:07) or, for ethertypeAARP, of AARP (OUI 0, encapsulated Ethernet).
func (c *compiler) genAppleTalkSNAP(llProto uint32) *block {
	if llProto == ethertypeATALK {
		return c.genSNAP(0x080007, ethertypeATALK)
	}
	return c.genSNAP(0x000000, ethertypeAARP)
}

// etherTypeToPPPType maps an Ethernet type to the PPP protocol number.
func etherTypeToPPPType(llProto uint32) uint32 {
	switch llProto {
	case ethertypeIP:
		return 0x0021
	case ethertypeIPv6:
		return 0x0057
	case ethertypeDN:
		return 0x0027
	case ethertypeATALK:
		return 0x0029
	case 0x0600: // ETHERTYPE_NS
		return 0x0025
	case llcsapISONS:
		return 0x0023
	case llcsap8021D:
		return 0x0031
	case llcsapIPX:
		return 0x002b
	}
	return llProto
}

// libpcapKnows are the link types in libpcap's "matching" range (104-289)
// that libpcap 1.10 gives a header layout and pkttap does not implement;
// the other link types of that range get no layout in libpcap either.
var libpcapKnows = map[pcapio.LinkType]bool{
	114: true, 117: true, 119: true, 122: true, 123: true,
	130: true, 131: true, 132: true, 133: true, 134: true, 135: true, 136: true,
	137: true, 138: true, 139: true, 140: true, 163: true, 164: true, 165: true,
	166: true, 167: true, 168: true, 178: true, 179: true, 180: true, 181: true,
	182: true, 183: true, 194: true, 197: true, 200: true, 202: true,
	232: true, 233: true, 234: true, 238: true, 240: true, 241: true,
}

// linkTypeIPNet is Solaris ipnet (LINKTYPE_IPNET).
const linkTypeIPNet pcapio.LinkType = 226

// genArcnetLinkType tests the ARCnet protocol byte.
func (c *compiler) genArcnetLinkType(llProto uint32) *block {
	either := func(a, b uint32) *block {
		b0 := c.genCmp(orLinkType, 0, bpfop.SizeB, a)
		b1 := c.genCmp(orLinkType, 0, bpfop.SizeB, b)
		genOr(b0, b1)
		return b1
	}
	switch llProto {
	case ethertypeIPv6:
		return c.genCmp(orLinkType, 0, bpfop.SizeB, 0xc4)
	case ethertypeIP:
		return either(212, 240)
	case ethertypeARP:
		return either(213, 241)
	case ethertypeREVARP:
		return c.genCmp(orLinkType, 0, bpfop.SizeB, 214)
	case ethertypeATALK:
		return c.genCmp(orLinkType, 0, bpfop.SizeB, 221)
	}
	return c.genFalse()
}
