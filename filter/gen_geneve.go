package filter

import "github.com/pkttap/pkttap/pcapio"

const genevePort = 6081

func (c *compiler) genGeneveCheck(port func(uint32, int, int) *block, rel offrel, vni uint32, hasVNI bool) *block {
	b0 := port(genevePort, ipprotoUDP, dDst)
	b1 := c.genMcmp(rel, 8, sizeB, 0, 0xc0)
	genAnd(b0, b1)
	b0 = b1
	if hasVNI {
		if vni > 0xffffff {
			c.errorf("Geneve VNI %d greater than maximum %d", vni, 0xffffff)
		}
		b1 = c.genMcmp(rel, 12, sizeW, vni<<8, 0xffffff00)
		genAnd(b0, b1)
		b0 = b1
	}
	return b0
}

func (c *compiler) genGeneve4(vni uint32, hasVNI bool) *block {
	b0 := c.genGeneveCheck(c.genPort, orTranIPv4, vni, hasVNI)
	s := c.loadXIPHdrLen()
	s = append(s, newStmt(classMISC|miscTXA, 0))
	b1 := newBlock(classJMP|jmpJEQ|srcX, 0)
	b1.stmts = s
	genAnd(b0, b1)
	return b1
}

func (c *compiler) genGeneve6(vni uint32, hasVNI bool) *block {
	b0 := c.genGeneveCheck(c.genPort6, orTranIPv6, vni, hasVNI)
	s := c.absOffsetVarPart(&c.offLinkPL)
	if s != nil {
		s = append(s, newStmt(classLD|modeIMM, 40), newStmt(classALU|aluADD|srcX, 0))
	} else {
		s = []*stmt{newStmt(classLD|modeIMM, 40)}
	}
	s = append(s, newStmt(classMISC|miscTAX, 0))
	b1 := newBlock(classJMP|jmpJEQ|srcX, 0)
	b1.stmts = s
	genAnd(b0, b1)
	return b1
}

// genGeneveOffsets computes, at run time, where the encapsulated frame
// starts (after the Geneve options) and whether it is Ethernet or a bare
// network-layer packet, and makes it the current link layer.
func (c *compiler) genGeneveOffsets() []*stmt {
	s := []*stmt{
		newStmt(classALU|aluADD|srcK, uint32(c.offLinkPL.constant+c.offNL+8)),
		newStmt(classMISC|miscTAX, 0),
		newStmt(classALU|aluADD|srcK, 2),
	}
	c.offLinkType = absOffset{variable: true, reg: c.allocReg()}
	s = append(s,
		newStmt(classST, uint32(c.offLinkType.reg)),
		newStmt(classLD|modeIND|sizeB, 0),
		newStmt(classALU|aluAND|srcK, 0x3f),
		newStmt(classALU|aluMUL|srcK, 4),
		newStmt(classALU|aluADD|srcK, 8),
		newStmt(classALU|aluADD|srcX, 0))
	c.pushLinkHdr(pcapio.LinkTypeEthernet, true, 0, c.allocReg())
	c.noOptimize = true
	s = append(s,
		newStmt(classST, uint32(c.offLinkHdr.reg)),
		newStmt(classLD|modeIND|sizeH, 2),
		newStmt(classLDX|modeMEM, uint32(c.offLinkHdr.reg)))
	proto := newStmt(classJMP|jmpJEQ|srcK, ethertypeTEB)
	txa := newStmt(classMISC|miscTXA, 0)
	proto.jt = txa
	s = append(s, proto, txa,
		newStmt(classALU|aluADD|srcK, 12),
		newStmt(classST, uint32(c.offLinkType.reg)),
		newStmt(classALU|aluADD|srcK, 2),
		newStmt(classMISC|miscTAX, 0))
	c.offLinkPL = absOffset{variable: true, reg: c.allocReg()}
	stx := newStmt(classSTX, uint32(c.offLinkPL.reg))
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

// genGeneveLLCheck tests, after "geneve", that the encapsulated packet
// has an Ethernet header.
func (c *compiler) genGeneveLLCheck() *block {
	b0 := newBlock(classJMP|jmpJEQ|srcX, 0)
	b0.stmts = []*stmt{
		newStmt(classLD|modeMEM, uint32(c.offLinkHdr.reg)),
		newStmt(classLDX|modeMEM, uint32(c.offLinkPL.reg)),
	}
	genNot(b0)
	return b0
}
