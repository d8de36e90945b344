package filter

import (
	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/pcapio"
)

// offNotSet marks an offset the link type does not have.
const offNotSet = -1

// absOffset is an offset from the start of the packet: a constant part
// plus, when variable, a part kept in a scratch register.
type absOffset struct {
	constant int
	variable bool
	reg      int
}

// Offset bases of loads, as libpcap's e_offrel.
type offrel int

const (
	orPacket offrel = iota
	orLinkHdr
	orPrevLinkHdr
	orLLC
	orPrevMPLSHdr
	orLinkPL
	orLinkPLNoSNAP
	orLinkType
	orTranIPv4
	orTranIPv6
)

// compiler holds the code generator's state for one Compile call.
type compiler struct {
	// blockChunk and stmtChunk are where newBlock and newStmt take the
	// next one from.
	blockChunk []block
	stmtChunk  []stmt

	opts    Options
	snaplen uint32
	// linktype is the current link layer: opts.LinkType, or the one a
	// tunnel (pppoes, geneve) made current.
	linktype pcapio.LinkType

	offLinkHdr, offPrevLinkHdr, offLinkPL, offLinkType absOffset
	offNL, offNLNoSNAP                                 int

	isGeneve       bool
	isVLANVLOffset bool
	labelDepth     int
	vlanDepth      int

	// noOptimize is set by code the optimizer must not touch (protochain's
	// loop, the 802.11 header-length prologue, geneve), as in libpcap.
	noOptimize bool

	regUsed [16]bool
	curReg  int

	pos int // byte offset of the primitive being generated, for errors

	expr   string     // the expression, for origins
	srcmap *sourceMap // the origins of the code generated
}

// errorf aborts code generation with an error at the current primitive.
func (c *compiler) errorf(format string, args ...any) {
	fail(c.pos, format, args...)
}

func (c *compiler) allocReg() int {
	for n := 0; n < 16; n++ {
		if c.regUsed[c.curReg] {
			c.curReg = (c.curReg + 1) % 16
		} else {
			c.regUsed[c.curReg] = true
			return c.curReg
		}
	}
	c.errorf("too many registers needed to evaluate expression")
	return 0
}

func (c *compiler) freeReg(n int) { c.regUsed[n] = false }

// absOffsetVarPart returns code putting the variable part of off into X,
// or nil when off is constant.
func (c *compiler) absOffsetVarPart(off *absOffset) []*stmt {
	if !off.variable {
		return nil
	}
	if off.reg == -1 {
		off.reg = c.allocReg()
	}
	return []*stmt{c.newStmt(bpfop.ClassLDX|bpfop.ModeMEM, uint32(off.reg))}
}

func (c *compiler) loadAbsOffsetRel(off *absOffset, offset int, size uint16) []*stmt {
	s := c.absOffsetVarPart(off)
	if s != nil {
		return append(s, c.newStmt(bpfop.ClassLD|bpfop.ModeIND|size, uint32(off.constant+offset)))
	}
	return []*stmt{c.newStmt(bpfop.ClassLD|bpfop.ModeABS|size, uint32(off.constant+offset))}
}

// loadA returns code loading the field of the given size at offset from
// the header rel into A.
func (c *compiler) loadA(rel offrel, offset int, size uint16) []*stmt {
	switch rel {
	case orPacket:
		return []*stmt{c.newStmt(bpfop.ClassLD|bpfop.ModeABS|size, uint32(offset))}
	case orLinkHdr:
		return c.loadAbsOffsetRel(&c.offLinkHdr, offset, size)
	case orPrevLinkHdr:
		return c.loadAbsOffsetRel(&c.offPrevLinkHdr, offset, size)
	case orLLC:
		return c.loadAbsOffsetRel(&c.offLinkPL, offset, size)
	case orPrevMPLSHdr:
		return c.loadAbsOffsetRel(&c.offLinkPL, c.offNL-4+offset, size)
	case orLinkPL:
		return c.loadAbsOffsetRel(&c.offLinkPL, c.offNL+offset, size)
	case orLinkPLNoSNAP:
		return c.loadAbsOffsetRel(&c.offLinkPL, c.offNLNoSNAP+offset, size)
	case orLinkType:
		return c.loadAbsOffsetRel(&c.offLinkType, offset, size)
	case orTranIPv4:
		s := c.loadXIPHdrLen()
		return append(s, c.newStmt(bpfop.ClassLD|bpfop.ModeIND|size, uint32(c.offLinkPL.constant+c.offNL+offset)))
	case orTranIPv6:
		return c.loadAbsOffsetRel(&c.offLinkPL, c.offNL+40+offset, size)
	}
	panic("filter: bad offrel")
}

// loadXIPHdrLen returns code putting the IPv4 header length (plus the
// variable part of the link-layer payload offset) into X.
func (c *compiler) loadXIPHdrLen() []*stmt {
	s := c.absOffsetVarPart(&c.offLinkPL)
	if s != nil {
		return append(s,
			c.newStmt(bpfop.ClassLD|bpfop.ModeIND|bpfop.SizeB, uint32(c.offLinkPL.constant+c.offNL)),
			c.newStmt(bpfop.ClassALU|bpfop.OpAND|bpfop.SrcK, 0xf),
			c.newStmt(bpfop.ClassALU|bpfop.OpLSH|bpfop.SrcK, 2),
			c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcX, 0),
			c.newStmt(bpfop.ClassMISC|bpfop.MiscTAX, 0))
	}
	return []*stmt{c.newStmt(bpfop.ClassLDX|bpfop.ModeMSH|bpfop.SizeB, uint32(c.offLinkPL.constant+c.offNL))}
}

func (c *compiler) genNcmp(rel offrel, offset int, size uint16, mask uint32, jtype uint16, reverse bool, v uint32) *block {
	s := c.loadA(rel, offset, size)
	if mask != 0xffffffff {
		s = append(s, c.newStmt(bpfop.ClassALU|bpfop.OpAND|bpfop.SrcK, mask))
	}
	b := c.newBlock(bpfop.ClassJMP|jtype|bpfop.SrcK, v)
	b.stmts = s
	if reverse && (jtype == bpfop.OpJGT || jtype == bpfop.OpJGE) {
		genNot(b)
	}
	return b
}

func (c *compiler) genCmp(rel offrel, offset int, size uint16, v uint32) *block {
	return c.genNcmp(rel, offset, size, 0xffffffff, bpfop.OpJEQ, false, v)
}

func (c *compiler) genCmpGT(rel offrel, offset int, size uint16, v uint32) *block {
	return c.genNcmp(rel, offset, size, 0xffffffff, bpfop.OpJGT, false, v)
}

func (c *compiler) genCmpGE(rel offrel, offset int, size uint16, v uint32) *block {
	return c.genNcmp(rel, offset, size, 0xffffffff, bpfop.OpJGE, false, v)
}

func (c *compiler) genCmpLT(rel offrel, offset int, size uint16, v uint32) *block {
	return c.genNcmp(rel, offset, size, 0xffffffff, bpfop.OpJGE, true, v)
}

func (c *compiler) genCmpLE(rel offrel, offset int, size uint16, v uint32) *block {
	return c.genNcmp(rel, offset, size, 0xffffffff, bpfop.OpJGT, true, v)
}

func (c *compiler) genMcmp(rel offrel, offset int, size uint16, v, mask uint32) *block {
	return c.genNcmp(rel, offset, size, mask, bpfop.OpJEQ, false, v)
}

// genBcmp compares size bytes at offset with v, a word at a time from the
// end, as libpcap does.
func (c *compiler) genBcmp(rel offrel, offset int, v []byte) *block {
	var b *block
	size := len(v)
	and := func(tmp *block) {
		if b != nil {
			genAnd(b, tmp)
		}
		b = tmp
	}
	for size >= 4 {
		p := v[size-4:]
		and(c.genCmp(rel, offset+size-4, bpfop.SizeW, uint32(p[0])<<24|uint32(p[1])<<16|uint32(p[2])<<8|uint32(p[3])))
		size -= 4
	}
	for size >= 2 {
		p := v[size-2:]
		and(c.genCmp(rel, offset+size-2, bpfop.SizeH, uint32(p[0])<<8|uint32(p[1])))
		size -= 2
	}
	if size > 0 {
		and(c.genCmp(rel, offset, bpfop.SizeB, uint32(v[0])))
	}
	return b
}

func (c *compiler) genUncond(rsense bool) *block {
	k := uint32(1)
	if rsense {
		k = 0
	}
	b := c.newBlock(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, 0)
	b.stmts = []*stmt{c.newStmt(bpfop.ClassLD|bpfop.ModeIMM, k)}
	return b
}

func (c *compiler) genTrue() *block  { return c.genUncond(true) }
func (c *compiler) genFalse() *block { return c.genUncond(false) }
