package filter

import (
	"github.com/pkttap/pkttap/pcapio"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// gen generates the block graph of a boolean expression, walking the tree
// in source order as libpcap's parser actions run.
func (c *compiler) gen(n node) *block {
	switch n := n.(type) {
	case *andNode:
		l := c.gen(n.l)
		r := c.gen(n.r)
		genAnd(l, r)
		return r
	case *orNode:
		l := c.gen(n.l)
		r := c.gen(n.r)
		genOr(l, r)
		return r
	case *notNode:
		b := c.gen(n.x)
		genNot(b)
		return b
	case *idNode:
		c.pos = n.pos
		return c.stamp(c.genID(n), n.start, n.end)
	case *protoNode:
		c.pos = n.pos
		return c.stamp(c.genProtoAbbrev(n.proto), n.pos, n.end)
	case *relNode:
		c.pos = n.pos
		a0 := c.genArth(n.l)
		a1 := c.genArth(n.r)
		c.pos = n.pos
		return c.stamp(c.genRelation(n.op, a0, a1), n.pos, n.end)
	case *otherNode:
		c.pos = n.pos
		return c.stamp(c.genOther(n), n.pos, n.end)
	}
	panic("filter: unknown node")
}

// genOther generates the primitives with their own keyword.
func (c *compiler) genOther(n *otherNode) *block {
	switch n.kind {
	case "broadcast":
		return c.genBroadcast(n.proto)
	case "multicast":
		return c.genMulticast(n.proto)
	case "less":
		b := c.genLen(bpfop.OpJGT, n.num)
		genNot(b)
		return b
	case "greater":
		return c.genLen(bpfop.OpJGE, n.num)
	case "byte":
		return c.genByteOp(n.op, n.num, n.num2)
	case "inbound":
		return c.genInbound(false)
	case "outbound":
		return c.genInbound(true)
	case "ifindex":
		return c.genIfindex(n.num)
	case "vlan":
		return c.genVLAN(n.num, n.hasNum)
	case "mpls":
		return c.genMPLS(n.num, n.hasNum)
	case "pppoed":
		return c.genLinkType(ethertypePPPOED)
	case "pppoes":
		return c.genPPPoES(n.num, n.hasNum)
	case "geneve":
		return c.genGeneve(n.num, n.hasNum)
	case "llc":
		return c.genLLCPrimitive(n.name)
	case "type", "subtype", "dir":
		return c.gen80211(n)
	}
	c.errorf("'%s' is not supported", n.kind)
	return nil
}

func (c *compiler) genLen(jmp uint16, n uint32) *block {
	b := c.newBlock(bpfop.ClassJMP|jmp|bpfop.SrcK, n)
	b.stmts = []*stmt{c.newStmt(bpfop.ClassLD|bpfop.ModeLEN, 0)}
	return b
}

// genByteOp is "byte N op V". Like libpcap, '=', '<' and '>' compare the
// byte at N of the link-layer header; '&' and '|' apply to the accumulator
// as it stands (libpcap loads nothing for them), so their result depends on
// what ran before.
func (c *compiler) genByteOp(op string, idx, val uint32) *block {
	switch op {
	case "=":
		return c.genCmp(orLinkHdr, int(idx), bpfop.SizeB, val)
	case "<":
		return c.genCmpLT(orLinkHdr, int(idx), bpfop.SizeB, val)
	case ">":
		return c.genCmpGT(orLinkHdr, int(idx), bpfop.SizeB, val)
	}
	alu := uint16(bpfop.OpAND)
	if op == "|" {
		alu = bpfop.OpOR
	}
	b := c.newBlock(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, 0)
	b.stmts = []*stmt{c.newStmt(bpfop.ClassALU|alu|bpfop.SrcK, val)}
	genNot(b)
	return b
}

// genPPPoES is "pppoes [session]": what follows is PPP inside PPPoE.
func (c *compiler) genPPPoES(sess uint32, hasSess bool) *block {
	b0 := c.genLinkType(ethertypePPPOES)
	if hasSess {
		if sess > 0xffff {
			c.errorf("PPPoE session number %d greater than maximum %d", sess, 0xffff)
		}
		b1 := c.genMcmp(orLinkPL, 0, bpfop.SizeW, sess, 0xffff)
		genAnd(b0, b1)
		b0 = b1
	}
	c.pushLinkHdr(pcapio.LinkTypePPP, c.offLinkPL.variable, c.offLinkPL.constant+c.offNL+6, c.offLinkPL.reg)
	c.offLinkType = c.offLinkHdr
	c.offLinkPL.constant = c.offLinkHdr.constant + 2
	c.offNL, c.offNLNoSNAP = 0, 0
	return b0
}

// pushLinkHdr makes a new link-layer header (inside a tunnel) current.
func (c *compiler) pushLinkHdr(lt pcapio.LinkType, variable bool, constant, reg int) {
	c.offPrevLinkHdr = c.offLinkHdr
	c.linktype = lt
	c.offLinkHdr = absOffset{constant: constant, variable: variable, reg: reg}
}
