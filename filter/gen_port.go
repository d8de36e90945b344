package filter

import "github.com/pkttap/pkttap/filter/internal/bpfop"

func (c *compiler) genIPFrag() *block {
	b := c.newBlock(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, 0x1fff)
	b.stmts = c.loadA(orLinkPL, 6, bpfop.SizeH)
	genNot(b)
	return b
}

// portDir combines a source test and a destination test by direction.
// atom gets the port's offset in the transport header: 0 for the source
// port, 2 for the destination port.
func (c *compiler) portDir(dir int, what string, atom func(off int) *block) *block {
	return c.genByDir(dir, what, func(dir int) *block { return atom(srcDst(dir, 0, 2)) })
}

func (c *compiler) genPortop(port, proto uint32, dir int) *block {
	tmp := c.genCmp(orLinkPL, 9, bpfop.SizeB, proto)
	b0 := c.genIPFrag()
	genAnd(tmp, b0)
	b1 := c.portDir(dir, "ports", func(off int) *block { return c.genCmp(orTranIPv4, off, bpfop.SizeH, port) })
	genAnd(b0, b1)
	return b1
}

// forProtos runs op for one transport protocol, or for TCP, UDP and SCTP
// or'ed together when ipproto is protoUndef.
func forProtos(ipproto int, op func(proto uint32) *block) *block {
	if ipproto != protoUndef {
		return op(uint32(ipproto))
	}
	tmp := op(ipprotoTCP)
	b1 := op(ipprotoUDP)
	genOr(tmp, b1)
	tmp = op(ipprotoSCTP)
	genOr(tmp, b1)
	return b1
}

func (c *compiler) genPort(port uint32, ipproto, dir int) *block {
	b0 := c.genLinkType(ethertypeIP)
	b1 := forProtos(ipproto, func(p uint32) *block { return c.genPortop(port, p, dir) })
	genAnd(b0, b1)
	return b1
}

func (c *compiler) genPortop6(port, proto uint32, dir int) *block {
	b0 := c.genCmp(orLinkPL, 6, bpfop.SizeB, proto)
	b1 := c.portDir(dir, "ports", func(off int) *block { return c.genCmp(orTranIPv6, off, bpfop.SizeH, port) })
	genAnd(b0, b1)
	return b1
}

func (c *compiler) genPort6(port uint32, ipproto, dir int) *block {
	b0 := c.genLinkType(ethertypeIPv6)
	b1 := forProtos(ipproto, func(p uint32) *block { return c.genPortop6(port, p, dir) })
	genAnd(b0, b1)
	return b1
}

func (c *compiler) genPortrangeAtom(rel offrel, off int, v1, v2 uint32) *block {
	if v1 > v2 {
		v1, v2 = v2, v1
	}
	b1 := c.genCmpGE(rel, off, bpfop.SizeH, v1)
	b2 := c.genCmpLE(rel, off, bpfop.SizeH, v2)
	genAnd(b1, b2)
	return b2
}

func (c *compiler) genPortrangeop(p1, p2, proto uint32, dir int) *block {
	tmp := c.genCmp(orLinkPL, 9, bpfop.SizeB, proto)
	b0 := c.genIPFrag()
	genAnd(tmp, b0)
	b1 := c.portDir(dir, "port ranges", func(off int) *block { return c.genPortrangeAtom(orTranIPv4, off, p1, p2) })
	genAnd(b0, b1)
	return b1
}

func (c *compiler) genPortrange(p1, p2 uint32, ipproto, dir int) *block {
	b0 := c.genLinkType(ethertypeIP)
	b1 := forProtos(ipproto, func(p uint32) *block { return c.genPortrangeop(p1, p2, p, dir) })
	genAnd(b0, b1)
	return b1
}

func (c *compiler) genPortrangeop6(p1, p2, proto uint32, dir int) *block {
	b0 := c.genCmp(orLinkPL, 6, bpfop.SizeB, proto)
	b1 := c.portDir(dir, "port ranges", func(off int) *block { return c.genPortrangeAtom(orTranIPv6, off, p1, p2) })
	genAnd(b0, b1)
	return b1
}

func (c *compiler) genPortrange6(p1, p2 uint32, ipproto, dir int) *block {
	b0 := c.genLinkType(ethertypeIPv6)
	b1 := forProtos(ipproto, func(p uint32) *block { return c.genPortrangeop6(p1, p2, p, dir) })
	genAnd(b0, b1)
	return b1
}
