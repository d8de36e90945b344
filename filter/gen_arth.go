package filter

import (
	"github.com/pkttap/pkttap/pcapio"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// arthVal is a compiled arithmetic value: code that leaves it in scratch
// register regno, and an optional condition (for packet loads: the
// protocol test that makes the load meaningful).
type arthVal struct {
	s     []*stmt
	regno int
	b     *block
}

var aluOps = map[string]uint16{
	"+": bpfop.OpADD, "-": bpfop.OpSUB, "*": bpfop.OpMUL, "/": bpfop.OpDIV, "%": bpfop.OpMOD,
	"&": bpfop.OpAND, "|": bpfop.OpOR, "^": bpfop.OpXOR, "<<": bpfop.OpLSH, ">>": bpfop.OpRSH,
}

func (c *compiler) genArth(a arth) *arthVal {
	switch a := a.(type) {
	case *numArth:
		reg := c.allocReg()
		return &arthVal{s: []*stmt{c.newStmt(bpfop.ClassLD|bpfop.ModeIMM, a.v), c.newStmt(bpfop.ClassST, uint32(reg))}, regno: reg}
	case *lenArth:
		reg := c.allocReg()
		return &arthVal{s: []*stmt{c.newStmt(bpfop.ClassLD|bpfop.ModeLEN, 0), c.newStmt(bpfop.ClassST, uint32(reg))}, regno: reg}
	case *negArth:
		v := c.genArth(a.x)
		v.s = append(v.s, c.newStmt(bpfop.ClassLD|bpfop.ModeMEM, uint32(v.regno)), c.newStmt(bpfop.ClassALU|bpfop.OpNEG, 0), c.newStmt(bpfop.ClassST, uint32(v.regno)))
		return v
	case *binArth:
		a0 := c.genArth(a.l)
		a1 := c.genArth(a.r)
		c.pos = a.pos
		return c.genArthOp(aluOps[a.op], a0, a1)
	case *loadArth:
		idx := c.genArth(a.idx)
		c.pos = a.pos
		return c.genLoad(a.proto, idx, a.size)
	}
	panic("filter: unknown arithmetic node")
}

func (c *compiler) genArthOp(code uint16, a0, a1 *arthVal) *arthVal {
	if first := a1.s[0]; first.code == bpfop.ClassLD|bpfop.ModeIMM {
		switch {
		case code == bpfop.OpDIV && first.k == 0:
			c.errorf("division by zero")
		case code == bpfop.OpMOD && first.k == 0:
			c.errorf("modulus by zero")
		case (code == bpfop.OpLSH || code == bpfop.OpRSH) && first.k > 31:
			c.errorf("shift by more than 31 bits")
		}
	}
	a0.s = append(a0.s, a1.s...)
	a0.s = append(a0.s,
		c.newStmt(bpfop.ClassLDX|bpfop.ModeMEM, uint32(a1.regno)),
		c.newStmt(bpfop.ClassLD|bpfop.ModeMEM, uint32(a0.regno)),
		c.newStmt(bpfop.ClassALU|bpfop.SrcX|code, 0))
	c.freeReg(a0.regno)
	c.freeReg(a1.regno)
	reg := c.allocReg()
	a0.s = append(a0.s, c.newStmt(bpfop.ClassST, uint32(reg)))
	a0.regno = reg
	// Like libpcap's gen_arth, only the left operand's condition survives:
	// "4 * (ip[0] & 0xf) = 20" does not test for IPv4.
	return a0
}

// andBlocks is libpcap's "if (a0->b) { if (a1->b) gen_and(a0->b, a1->b) }".
func andBlocks(b0, b1 *block) *block {
	if b0 == nil {
		return b1
	}
	if b1 != nil {
		genAnd(b0, b1)
		return b1
	}
	return b0
}

// indexedLoad returns code loading the field at [X-relative index] from
// the header with offset off.
func (c *compiler) indexedLoad(inst *arthVal, off *absOffset, constant int, size uint16) []*stmt {
	s := c.absOffsetVarPart(off)
	if s != nil {
		s = append(s, c.newStmt(bpfop.ClassLD|bpfop.ModeMEM, uint32(inst.regno)), c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcX, 0), c.newStmt(bpfop.ClassMISC|bpfop.MiscTAX, 0))
	} else {
		s = []*stmt{c.newStmt(bpfop.ClassLDX|bpfop.ModeMEM, uint32(inst.regno))}
	}
	return append(s, c.newStmt(bpfop.ClassLD|bpfop.ModeIND|size, uint32(constant)))
}

// genLoad is "proto[index : size]".
func (c *compiler) genLoad(proto string, inst *arthVal, size uint32) *arthVal {
	regno := c.allocReg()
	c.freeReg(inst.regno)
	var sizeCode uint16
	switch size {
	case 1:
		sizeCode = bpfop.SizeB
	case 2:
		sizeCode = bpfop.SizeH
	case 4:
		sizeCode = bpfop.SizeW
	default:
		c.errorf("data size must be 1, 2, or 4")
	}
	switch proto {
	case "radio":
		if c.linktype != pcapio.LinkTypeIEEE802_11Radio {
			c.errorf("radio information not present in capture")
		}
		inst.s = append(inst.s, c.newStmt(bpfop.ClassLDX|bpfop.ModeMEM, uint32(inst.regno)), c.newStmt(bpfop.ClassLD|bpfop.ModeIND|sizeCode, 0))
	case "link":
		inst.s = append(inst.s, c.indexedLoad(inst, &c.offLinkHdr, c.offLinkHdr.constant, sizeCode)...)
	case "ip", "arp", "rarp", "atalk", "decnet", "sca", "lat", "moprc", "mopdl", "ip6":
		inst.s = append(inst.s, c.indexedLoad(inst, &c.offLinkPL, c.offLinkPL.constant+c.offNL, sizeCode)...)
		b := c.genProtoAbbrev(proto)
		inst.b = andBlocks(inst.b, b)
	case "sctp", "tcp", "udp", "icmp", "igmp", "igrp", "pim", "vrrp", "carp":
		s := c.loadXIPHdrLen()
		s = append(s,
			c.newStmt(bpfop.ClassLD|bpfop.ModeMEM, uint32(inst.regno)),
			c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcX, 0),
			c.newStmt(bpfop.ClassMISC|bpfop.MiscTAX, 0),
			c.newStmt(bpfop.ClassLD|bpfop.ModeIND|sizeCode, uint32(c.offLinkPL.constant+c.offNL)))
		inst.s = append(inst.s, s...)
		b := c.genIPFrag()
		genAnd(c.genProtoAbbrev(proto), b)
		if inst.b != nil {
			genAnd(inst.b, b)
		}
		genAnd(c.genProtoAbbrev("ip"), b)
		inst.b = b
	case "icmp6":
		b := c.genProtoAbbrev("ip6")
		inst.b = andBlocks(inst.b, b)
		b = c.genCmp(orLinkPL, 6, bpfop.SizeB, ipprotoICMPv6)
		inst.b = andBlocks(inst.b, b)
		inst.s = append(inst.s, c.indexedLoad(inst, &c.offLinkPL, c.offLinkPL.constant+c.offNL+40, sizeCode)...)
	default:
		c.errorf("unsupported index operation")
	}
	inst.regno = regno
	inst.s = append(inst.s, c.newStmt(bpfop.ClassST, uint32(regno)))
	return inst
}

// genRelation is "a0 relop a1".
func (c *compiler) genRelation(op string, a0, a1 *arthVal) *block {
	var code uint16
	reversed := false
	switch op {
	case ">":
		code = bpfop.OpJGT
	case ">=":
		code = bpfop.OpJGE
	case "=":
		code = bpfop.OpJEQ
	case "<=":
		code, reversed = bpfop.OpJGT, true
	case "<":
		code, reversed = bpfop.OpJGE, true
	case "!=":
		code, reversed = bpfop.OpJEQ, true
	}
	s0 := []*stmt{c.newStmt(bpfop.ClassLDX|bpfop.ModeMEM, uint32(a1.regno))}
	s1 := []*stmt{c.newStmt(bpfop.ClassLD|bpfop.ModeMEM, uint32(a0.regno))}
	var b *block
	if code == bpfop.OpJEQ {
		s1 = append(s1, c.newStmt(bpfop.ClassALU|bpfop.OpSUB|bpfop.SrcX, 0))
		b = c.newBlock(bpfop.ClassJMP|code|bpfop.SrcK, 0)
	} else {
		b = c.newBlock(bpfop.ClassJMP|code|bpfop.SrcX, 0)
	}
	if reversed {
		genNot(b)
	}
	s := append(a0.s, a1.s...)
	s = append(s, s0...)
	s = append(s, s1...)
	b.stmts = s
	c.freeReg(a0.regno)
	c.freeReg(a1.regno)
	if tmp := andBlocks(a0.b, a1.b); tmp != nil {
		genAnd(tmp, b)
	}
	return b
}
