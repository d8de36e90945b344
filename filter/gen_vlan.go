package filter

import (
	"github.com/pkttap/pkttap/pcapio"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// genMPLSLinkType tests the protocol inside an MPLS stack: only IPv4 and
// IPv6 can be told apart there (bottom of stack, then the IP version).
func (c *compiler) genMPLSLinkType(llProto uint32) *block {
	var v uint32
	switch llProto {
	case ethertypeIP:
		v = 0x40
	case ethertypeIPv6:
		v = 0x60
	default:
		c.errorf("unsupported protocol over mpls")
	}
	b0 := c.genMcmp(orLinkPL, -2, bpfop.SizeB, 0x01, 0x01)
	b1 := c.genMcmp(orLinkPL, 0, bpfop.SizeB, v, 0xf0)
	genAnd(b0, b1)
	return b1
}

func (c *compiler) genVLANTPIDTest() *block {
	b0 := c.genLinkType(ethertype8021Q)
	b1 := c.genLinkType(ethertype8021AD)
	genOr(b0, b1)
	b0 = b1
	b1 = c.genLinkType(ethertype8021QINQ)
	genOr(b0, b1)
	return b1
}

func (c *compiler) genVLANVIDTest(vlan uint32) *block {
	if vlan > 0x0fff {
		c.errorf("VLAN tag %d greater than maximum %d", vlan, 0x0fff)
	}
	return c.genMcmp(orLinkPL, 0, bpfop.SizeH, vlan, 0x0fff)
}

func (c *compiler) genVLANNoExtensions(vlan uint32, hasTag bool) *block {
	b0 := c.genVLANTPIDTest()
	if hasTag {
		b1 := c.genVLANVIDTest(vlan)
		genAnd(b0, b1)
		b0 = b1
	}
	c.offLinkPL.constant += 4
	c.offLinkType.constant += 4
	return b0
}

func (c *compiler) vlanOffsetAdd(off *absOffset, v uint32) []*stmt {
	off.variable = true
	if off.reg == -1 {
		off.reg = c.allocReg()
	}
	return []*stmt{
		c.newStmt(bpfop.ClassLD|bpfop.ModeMEM, uint32(off.reg)),
		c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, v),
		c.newStmt(bpfop.ClassST, uint32(off.reg)),
	}
}

// genVLANExtensions is the live Linux socket form: the kernel strips the
// outer tag, so test SKF_AD_VLAN_TAG_PRESENT and read SKF_AD_VLAN_TAG;
// frames still carrying a tag in the data are matched too, with the
// offsets kept in registers.
func (c *compiler) genVLANExtensions(vlan uint32, hasTag bool) *block {
	b0 := c.newBlock(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, 1)
	b0.stmts = []*stmt{c.newStmt(bpfop.ClassLD|bpfop.SizeB|bpfop.ModeABS, bpfop.SKFAdOff+bpfop.SKFAdVLANTagPresent)}
	bTPID := c.genVLANTPIDTest()
	var bVID *block
	if hasTag {
		bVID = c.genVLANVIDTest(vlan)
	}
	// patch the TPID test: advance the offsets when the tag is in the data
	c.isVLANVLOffset = true
	s := c.vlanOffsetAdd(&c.offLinkPL, 4)
	s = append(s, c.vlanOffsetAdd(&c.offLinkType, 4)...)
	bTPID.head.stmts = append(s, bTPID.head.stmts...)
	genOr(b0, bTPID)
	b0 = bTPID
	if hasTag {
		ld := c.newStmt(bpfop.ClassLD|bpfop.SizeB|bpfop.ModeABS, bpfop.SKFAdOff+bpfop.SKFAdVLANTagPresent)
		jeq := c.newStmt(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, 1)
		tag := c.newStmt(bpfop.ClassLD|bpfop.SizeB|bpfop.ModeABS, bpfop.SKFAdOff+bpfop.SKFAdVLANTag)
		jeq.jt = tag
		if len(bVID.stmts) > 0 {
			jeq.jf = bVID.stmts[0]
		}
		ja := c.newStmt(opJA, uint32(len(bVID.stmts)-1))
		bVID.stmts = append([]*stmt{ld, jeq, tag, ja}, bVID.stmts...)
		genAnd(b0, bVID)
		b0 = bVID
	}
	return b0
}

// genVLAN is "vlan [id]".
func (c *compiler) genVLAN(vlan uint32, hasTag bool) *block {
	if c.labelDepth > 0 {
		c.errorf("no VLAN match after MPLS")
	}
	var b0 *block
	switch c.linktype {
	case pcapio.LinkTypeEthernet:
		if c.vlanDepth == 0 && !c.offLinkHdr.variable && c.opts.Target == TargetLinuxSocket {
			b0 = c.genVLANExtensions(vlan, hasTag)
		} else {
			b0 = c.genVLANNoExtensions(vlan, hasTag)
		}
	case pcapio.LinkTypeIEEE802_11, pcapio.LinkTypeIEEE802_11Radio:
		b0 = c.genVLANNoExtensions(vlan, hasTag)
	default:
		c.errorf("no VLAN support for %s", c.linktype.Description())
	}
	c.vlanDepth++
	return b0
}

// genMPLS is "mpls [label]".
func (c *compiler) genMPLS(label uint32, hasLabel bool) *block {
	var b0 *block
	if c.labelDepth > 0 {
		b0 = c.genMcmp(orPrevMPLSHdr, 2, bpfop.SizeB, 0, 0x01)
	} else {
		switch c.linktype {
		case pcapio.LinkTypeEthernet, pcapio.LinkTypeCHDLC:
			b0 = c.genLinkType(ethertypeMPLS)
		case pcapio.LinkTypePPP:
			b0 = c.genLinkType(0x0281) // PPP_MPLS_UCAST
		default:
			c.errorf("no MPLS support for %s", c.linktype.Description())
		}
	}
	if hasLabel {
		if label > 0xfffff {
			c.errorf("MPLS label %d greater than maximum %d", label, 0xfffff)
		}
		b1 := c.genMcmp(orLinkPL, 0, bpfop.SizeW, label<<12, 0xfffff000)
		genAnd(b0, b1)
		b0 = b1
	}
	c.offNLNoSNAP += 4
	c.offNL += 4
	c.labelDepth++
	return b0
}
