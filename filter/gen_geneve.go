package filter

import (
	"github.com/pkttap/pkttap/pcapio"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

const genevePort = 6081

func (c *compiler) genGeneveCheck(port func(uint32, int, int) *block, rel offrel, vni uint32, hasVNI bool) *block {
	b0 := port(genevePort, ipprotoUDP, dDst)
	b1 := c.genMcmp(rel, 8, bpfop.SizeB, 0, 0xc0)
	genAnd(b0, b1)
	b0 = b1
	if hasVNI {
		if vni > 0xffffff {
			c.errorf("Geneve VNI %d greater than maximum %d", vni, 0xffffff)
		}
		b1 = c.genMcmp(rel, 12, bpfop.SizeW, vni<<8, 0xffffff00)
		genAnd(b0, b1)
		b0 = b1
	}
	return b0
}

func (c *compiler) genGeneve4(vni uint32, hasVNI bool) *block {
	b0 := c.genGeneveCheck(c.genPort, orTranIPv4, vni, hasVNI)
	s := c.loadXIPHdrLen()
	s = append(s, c.newStmt(bpfop.ClassMISC|bpfop.MiscTXA, 0))
	b1 := c.newBlock(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcX, 0)
	b1.stmts = s
	genAnd(b0, b1)
	return b1
}

func (c *compiler) genGeneve6(vni uint32, hasVNI bool) *block {
	b0 := c.genGeneveCheck(c.genPort6, orTranIPv6, vni, hasVNI)
	s := c.absOffsetVarPart(&c.offLinkPL)
	if s != nil {
		s = append(s, c.newStmt(bpfop.ClassLD|bpfop.ModeIMM, 40), c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcX, 0))
	} else {
		s = []*stmt{c.newStmt(bpfop.ClassLD|bpfop.ModeIMM, 40)}
	}
	s = append(s, c.newStmt(bpfop.ClassMISC|bpfop.MiscTAX, 0))
	b1 := c.newBlock(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcX, 0)
	b1.stmts = s
	genAnd(b0, b1)
	return b1
}

// genGeneveOffsets computes, at run time, where the encapsulated frame
// starts (after the Geneve options) and whether it is Ethernet or a bare
// network-layer packet, and makes it the current link layer.
func (c *compiler) genGeneveOffsets() []*stmt {
	s := []*stmt{
		c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, uint32(c.offLinkPL.constant+c.offNL+8)),
		c.newStmt(bpfop.ClassMISC|bpfop.MiscTAX, 0),
		c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 2),
	}
	c.offLinkType = absOffset{variable: true, reg: c.allocReg()}
	s = append(s,
		c.newStmt(bpfop.ClassST, uint32(c.offLinkType.reg)),
		c.newStmt(bpfop.ClassLD|bpfop.ModeIND|bpfop.SizeB, 0),
		c.newStmt(bpfop.ClassALU|bpfop.OpAND|bpfop.SrcK, 0x3f),
		c.newStmt(bpfop.ClassALU|bpfop.OpMUL|bpfop.SrcK, 4),
		c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 8),
		c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcX, 0))
	c.pushLinkHdr(pcapio.LinkTypeEthernet, true, 0, c.allocReg())
	c.noOptimize = true
	s = append(s,
		c.newStmt(bpfop.ClassST, uint32(c.offLinkHdr.reg)),
		c.newStmt(bpfop.ClassLD|bpfop.ModeIND|bpfop.SizeH, 2),
		c.newStmt(bpfop.ClassLDX|bpfop.ModeMEM, uint32(c.offLinkHdr.reg)))
	proto := c.newStmt(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, ethertypeTEB)
	txa := c.newStmt(bpfop.ClassMISC|bpfop.MiscTXA, 0)
	proto.jt = txa
	s = append(s, proto, txa,
		c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 12),
		c.newStmt(bpfop.ClassST, uint32(c.offLinkType.reg)),
		c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 2),
		c.newStmt(bpfop.ClassMISC|bpfop.MiscTAX, 0))
	c.offLinkPL = absOffset{variable: true, reg: c.allocReg()}
	stx := c.newStmt(bpfop.ClassSTX, uint32(c.offLinkPL.reg))
	proto.jf = stx
	s = append(s, stx)
	c.offNL = 0
	return s
}

// genGeneve is "geneve [vni]".
func (c *compiler) genGeneve(vni uint32, hasVNI bool) *block {
	b0 := c.genGeneve4(vni, hasVNI)
	b1 := c.genGeneve6(vni, hasVNI)
	genOr(b0, b1)
	b0 = b1
	s := c.genGeneveOffsets()
	b1 = c.genTrue()
	b1.stmts = append(s, b1.stmts...)
	genAnd(b0, b1)
	c.isGeneve = true
	return b1
}

// genEtherTest returns the Ethernet-header test gen makes; after "geneve" it
// is and'ed with genGeneveLLCheck, which is made first, as libpcap does.
func (c *compiler) genEtherTest(gen func() *block) *block {
	if !c.isGeneve {
		return gen()
	}
	b1 := c.genGeneveLLCheck()
	b0 := gen()
	genAnd(b1, b0)
	return b0
}

// genGeneveLLCheck tests, after "geneve", that the encapsulated packet
// has an Ethernet header.
func (c *compiler) genGeneveLLCheck() *block {
	b0 := c.newBlock(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcX, 0)
	b0.stmts = []*stmt{
		c.newStmt(bpfop.ClassLD|bpfop.ModeMEM, uint32(c.offLinkHdr.reg)),
		c.newStmt(bpfop.ClassLDX|bpfop.ModeMEM, uint32(c.offLinkPL.reg)),
	}
	genNot(b0)
	return b0
}
