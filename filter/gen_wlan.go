package filter

import (
	"strings"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/pcapio"
)

// 802.11 frame control bits.
const (
	wlanTypeMask    = 0x0c
	wlanTypeMgt     = 0x00
	wlanTypeCtl     = 0x04
	wlanTypeData    = 0x08
	wlanSubtypeMask = 0xf0
	wlanSubtypeCTS  = 0xc0
	wlanSubtypeACK  = 0xd0
	wlanDirMask     = 0x03
	wlanDirDSToDS   = 0x03
)

type nameVal struct {
	name string
	val  uint32
}

var wlanTypes = []nameVal{{"data", wlanTypeData}, {"mgt", wlanTypeMgt}, {"management", wlanTypeMgt}, {"ctl", wlanTypeCtl}, {"control", wlanTypeCtl}}

var wlanSubtypes = []struct {
	typ   uint32
	names []nameVal
}{
	{wlanTypeMgt, []nameVal{{"assocreq", 0x00}, {"assoc-req", 0x00}, {"assocresp", 0x10}, {"assoc-resp", 0x10},
		{"reassocreq", 0x20}, {"reassoc-req", 0x20}, {"reassocresp", 0x30}, {"reassoc-resp", 0x30},
		{"probereq", 0x40}, {"probe-req", 0x40}, {"proberesp", 0x50}, {"probe-resp", 0x50},
		{"beacon", 0x80}, {"atim", 0x90}, {"disassoc", 0xa0}, {"disassociation", 0xa0},
		{"auth", 0xb0}, {"authentication", 0xb0}, {"deauth", 0xc0}, {"deauthentication", 0xc0}}},
	{wlanTypeCtl, []nameVal{{"ps-poll", 0xa0}, {"rts", 0xb0}, {"cts", 0xc0}, {"ack", 0xd0}, {"cf-end", 0xe0}, {"cf-end-ack", 0xf0}}},
	{wlanTypeData, []nameVal{{"data", 0x00}, {"data-cf-ack", 0x10}, {"data-cf-poll", 0x20}, {"data-cf-ack-poll", 0x30},
		{"null", 0x40}, {"cf-ack", 0x50}, {"cf-poll", 0x60}, {"cf-ack-poll", 0x70},
		{"qos-data", 0x80}, {"qos-data-cf-ack", 0x90}, {"qos-data-cf-poll", 0xa0}, {"qos-data-cf-ack-poll", 0xb0},
		{"qos", 0xc0}, {"qos-cf-poll", 0xe0}, {"qos-cf-ack-poll", 0xf0}}},
}

func lookupName(list []nameVal, name string) (uint32, bool) {
	for _, nv := range list {
		if strings.EqualFold(nv.name, name) {
			return nv.val, true
		}
	}
	return 0, false
}

// gen80211 is "type T [subtype S]", "subtype S" and "dir D".
func (c *compiler) gen80211(n *otherNode) *block {
	switch n.kind {
	case "dir":
		a := n.args[0]
		v := a.num
		if a.kind == tokID {
			dirs := []nameVal{{"nods", 0}, {"tods", 1}, {"fromds", 2}, {"dstods", 3}}
			var ok bool
			if v, ok = lookupName(dirs, a.text); !ok {
				c.errorf("unknown 802.11 direction")
			}
		}
		if !c.isWLAN() {
			c.errorf("frame direction supported only with 802.11 headers")
		}
		return c.genMcmp(orLinkHdr, 1, bpfop.SizeB, v, wlanDirMask)
	case "type":
		t := n.args[0]
		typ := t.num
		if t.kind == tokNum {
			if typ&^wlanTypeMask != 0 {
				c.errorf("invalid 802.11 type value 0x%02x", typ)
			}
		} else {
			var ok bool
			if typ, ok = lookupName(wlanTypes, t.text); !ok {
				c.errorf("unknown 802.11 type name \"%s\"", t.text)
			}
		}
		mask := uint32(wlanTypeMask)
		if len(n.args) == 2 {
			s := n.args[1]
			sub := s.num
			if s.kind == tokNum {
				if sub&^wlanSubtypeMask != 0 {
					c.errorf("invalid 802.11 subtype value 0x%02x", sub)
				}
			} else {
				var names []nameVal
				for _, ts := range wlanSubtypes {
					if ts.typ == typ {
						names = ts.names
					}
				}
				if names == nil {
					c.errorf("unknown 802.11 type")
				}
				var ok bool
				if sub, ok = lookupName(names, s.text); !ok {
					c.errorf("unknown 802.11 subtype name \"%s\"", s.text)
				}
			}
			typ |= sub
			mask |= wlanSubtypeMask
		}
		return c.genP80211Type(typ, mask)
	}
	// subtype S: a name, searched in every type's table
	s := n.args[0]
	if s.kind != tokID {
		c.errorf("syntax error: expected an 802.11 subtype name after 'subtype'")
	}
	for _, ts := range wlanSubtypes {
		if v, ok := lookupName(ts.names, s.text); ok {
			return c.genP80211Type(v|ts.typ, wlanTypeMask|wlanSubtypeMask)
		}
	}
	c.errorf("unknown 802.11 type name")
	return nil
}

func (c *compiler) genP80211Type(typ, mask uint32) *block {
	if !c.isWLAN() {
		c.errorf("802.11 link-layer types supported only on 802.11")
	}
	return c.genMcmp(orLinkHdr, 0, bpfop.SizeB, typ, mask)
}

// isWLAN reports whether the current link layer is 802.11 with its frame
// control at the link header (libpcap's type/subtype/dir tests; PPI is not
// one of them).
func (c *compiler) isWLAN() bool {
	return c.linktype == pcapio.LinkTypeIEEE802_11 || c.linktype == pcapio.LinkTypeIEEE802_11Radio
}

// loadRadiotapLen returns code storing the radiotap header length in the
// link header register and X, when the program uses that register.
func (c *compiler) loadRadiotapLen() []*stmt {
	if c.offLinkHdr.reg == -1 {
		return nil
	}
	return []*stmt{
		c.newStmt(bpfop.ClassLD|bpfop.SizeB|bpfop.ModeABS, 3),
		c.newStmt(bpfop.ClassALU|bpfop.OpLSH|bpfop.SrcK, 8),
		c.newStmt(bpfop.ClassMISC|bpfop.MiscTAX, 0),
		c.newStmt(bpfop.ClassLD|bpfop.SizeB|bpfop.ModeABS, 2),
		c.newStmt(bpfop.ClassALU|bpfop.OpOR|bpfop.SrcX, 0),
		c.newStmt(bpfop.ClassST, uint32(c.offLinkHdr.reg)),
		c.newStmt(bpfop.ClassMISC|bpfop.MiscTAX, 0),
	}
}

// load80211HeaderLen is the prologue computing the 802.11 header length
// (24, +2 for QoS data frames, rounded up to 4 when radiotap says the
// driver padded it) into the link-layer payload register, after prefix
// (which leaves the radio header length in X; nil means X = 0); snext is
// the code it runs before (jumped to when the frame is not data).
func (c *compiler) load80211HeaderLen(prefix, snext []*stmt) []*stmt {
	if c.offLinkPL.reg == -1 {
		return prefix
	}
	c.noOptimize = true
	var first *stmt
	if len(snext) > 0 {
		first = snext[0]
	}
	reg := uint32(c.offLinkPL.reg)
	s := prefix
	if s == nil {
		// the outermost link header starts the packet
		s = []*stmt{c.newStmt(bpfop.ClassLDX|bpfop.ModeIMM, 0)}
	}
	s = append(s,
		c.newStmt(bpfop.ClassMISC|bpfop.MiscTXA, 0),
		c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 24),
		c.newStmt(bpfop.ClassST, reg),
		c.newStmt(bpfop.ClassLD|bpfop.ModeIND|bpfop.SizeB, 0))
	j1 := c.newStmt(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, 0x08)
	j2 := c.newStmt(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, 0x04)
	jq := c.newStmt(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, 0x80)
	ld := c.newStmt(bpfop.ClassLD|bpfop.ModeMEM, reg)
	j1.jt, j1.jf = j2, first
	j2.jt, j2.jf = first, jq
	jq.jt, jq.jf = ld, first
	s = append(s, j1, j2, jq, ld, c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 2), c.newStmt(bpfop.ClassST, reg))
	if c.linktype == pcapio.LinkTypeIEEE802_11Radio {
		// radiotap: if the Flags field is present (and no extended
		// presence bitmap), its "data pad" bit says the 802.11 header
		// is padded to a multiple of 4.
		ldPresent := c.newStmt(bpfop.ClassLD|bpfop.ModeABS|bpfop.SizeW, 4)
		jFlags := c.newStmt(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, 0x02000000)
		jExt := c.newStmt(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, 0x00000080)
		jTSFT := c.newStmt(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, 0x01000000)
		ld16 := c.newStmt(bpfop.ClassLD|bpfop.ModeABS|bpfop.SizeB, 16)
		jPadTSFT := c.newStmt(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, 0x20)
		ld8 := c.newStmt(bpfop.ClassLD|bpfop.ModeABS|bpfop.SizeB, 8)
		jPad := c.newStmt(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, 0x20)
		roundup := c.newStmt(bpfop.ClassLD|bpfop.ModeMEM, reg)
		jq.jf = ldPresent
		jFlags.jt, jFlags.jf = jExt, first
		jExt.jt, jExt.jf = first, jTSFT
		jTSFT.jt, jTSFT.jf = ld16, ld8
		jPadTSFT.jt, jPadTSFT.jf = roundup, first
		jPad.jt, jPad.jf = roundup, first
		s = append(s, ldPresent, jFlags, jExt, jTSFT, ld16, jPadTSFT, ld8, jPad, roundup,
			c.newStmt(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 3), c.newStmt(bpfop.ClassALU|bpfop.OpAND|bpfop.SrcK, ^uint32(3)), c.newStmt(bpfop.ClassST, reg))
	}
	return append(s, snext...)
}

func (c *compiler) jset(rel offrel, off int, k uint32) *block {
	b := c.newBlock(bpfop.ClassJMP|bpfop.OpJSET|bpfop.SrcK, k)
	b.stmts = c.loadA(rel, off, bpfop.SizeB)
	return b
}

// genCheck80211DataFrame tests for a data frame (type data).
func (c *compiler) genCheck80211DataFrame() *block {
	b0 := c.jset(orLinkHdr, 0, 0x08)
	b1 := c.jset(orLinkHdr, 0, 0x04)
	genNot(b1)
	genAnd(b1, b0)
	return b0
}

// genLLCLinkType tests the protocol in an 802.2 LLC header.
func (c *compiler) genLLCLinkType(llProto uint32) *block {
	switch llProto {
	case llcsapIP, llcsapISONS, llcsapNetBEUI:
		return c.genCmp(orLLC, 0, bpfop.SizeH, llProto<<8|llProto)
	case llcsapIPX:
		return c.genCmp(orLLC, 0, bpfop.SizeB, llcsapIPX)
	case ethertypeATALK:
		return c.genSNAP(0x080007, ethertypeATALK)
	}
	if llProto <= etherMTU {
		return c.genCmp(orLLC, 0, bpfop.SizeB, llProto)
	}
	return c.genCmp(orLLC, 6, bpfop.SizeH, llProto)
}

// genWLANHostop tests an 802.11 address by direction.
func (c *compiler) genWLANHostop(e []byte, dir int) *block {
	addrIs := func(off int) *block { return c.genBcmp(orLinkHdr, off, e) }
	if b, ok := genSrcDst(dir, func(dir int) *block { return c.genWLANSrcDst(dir, addrIs) }); ok {
		return b
	}
	switch dir {
	case dAddr1:
		return c.genBcmp(orLinkHdr, 4, e)
	case dAddr2, dTA:
		b0 := c.genMcmp(orLinkHdr, 0, bpfop.SizeB, wlanTypeCtl, wlanTypeMask)
		genNot(b0)
		b1 := c.genMcmp(orLinkHdr, 0, bpfop.SizeB, wlanSubtypeCTS, wlanSubtypeMask)
		genNot(b1)
		b2 := c.genMcmp(orLinkHdr, 0, bpfop.SizeB, wlanSubtypeACK, wlanSubtypeMask)
		genNot(b2)
		genAnd(b1, b2)
		genOr(b0, b2)
		if dir == dTA {
			b1 = c.jset(orLinkHdr, 0, 0x08)
			genAnd(b1, b2)
		}
		b1 = c.genBcmp(orLinkHdr, 10, e)
		genAnd(b2, b1)
		return b1
	case dAddr3:
		b0 := c.genMcmp(orLinkHdr, 0, bpfop.SizeB, wlanTypeCtl, wlanTypeMask)
		genNot(b0)
		b1 := c.genBcmp(orLinkHdr, 16, e)
		genAnd(b0, b1)
		return b1
	case dAddr4:
		b0 := c.genMcmp(orLinkHdr, 1, bpfop.SizeB, wlanDirDSToDS, wlanDirMask)
		b1 := c.genBcmp(orLinkHdr, 24, e)
		genAnd(b0, b1)
		return b1
	}
	// dRA
	b1 := c.jset(orLinkHdr, 0, 0x08)
	b0 := c.genBcmp(orLinkHdr, 4, e)
	genAnd(b1, b0)
	return b0
}

// genWLANSrcDst tests an 802.11 source (dSrc) or destination (dDst)
// address: test makes the test on the address at a header offset.
func (c *compiler) genWLANSrcDst(dir int, test func(off int) *block) *block {
	// Source: addr4 (WDS), addr3 (From DS), addr2; destination:
	// addr3 (To DS) or addr1.
	off1, off2 := 24, 16
	if dir == dDst {
		off1, off2 = 16, 4
	}
	b1 := c.jset(orLinkHdr, 1, 0x01)
	b0 := test(off1)
	genAnd(b1, b0)
	b2 := c.jset(orLinkHdr, 1, 0x01)
	genNot(b2)
	b1 = test(off2)
	genAnd(b2, b1)
	genOr(b1, b0)
	if dir == dSrc {
		b1 = c.jset(orLinkHdr, 1, 0x02)
		genAnd(b1, b0)
		b2 = c.jset(orLinkHdr, 1, 0x02)
		genNot(b2)
		b1 = test(10)
		genAnd(b2, b1)
		genOr(b1, b0)
	}
	b1 = c.jset(orLinkHdr, 0, 0x08)
	genAnd(b1, b0)
	b2 = c.jset(orLinkHdr, 0, 0x08)
	genNot(b2)
	last := 10
	if dir == dDst {
		last = 4
	}
	b1 = test(last)
	genAnd(b2, b1)
	genOr(b1, b0)
	b1 = c.jset(orLinkHdr, 0, 0x04)
	genNot(b1)
	genAnd(b1, b0)
	return b0
}

var llcSSubtypes = []nameVal{{"rr", 0x0001}, {"rnr", 0x0005}, {"rej", 0x0009}}
var llcUSubtypes = []nameVal{{"ui", 0x03}, {"ua", 0x63}, {"disc", 0x43}, {"dm", 0x0f}, {"sabme", 0x6f}, {"test", 0xe3}, {"xid", 0xaf}, {"frmr", 0x87}}

func (c *compiler) genLLCInternal() *block {
	switch c.linktype {
	case pcapio.LinkTypeEthernet:
		b0 := c.genCmpGT(orLinkType, 0, bpfop.SizeH, etherMTU)
		genNot(b0)
		b1 := c.genCmp(orLLC, 0, bpfop.SizeH, 0xffff)
		genNot(b1)
		genAnd(b0, b1)
		return b1
	case pcapio.LinkTypeIEEE802_11, pcapio.LinkTypeIEEE802_11Radio, pcapio.LinkTypePPI:
		return c.genCheck80211DataFrame()
	}
	c.errorf("'llc' not supported for %s", c.linktype.Description())
	return nil
}

// genLLCPrimitive is "llc [i|s|u|subtype]".
func (c *compiler) genLLCPrimitive(name string) *block {
	if name == "" {
		return c.genLLCInternal()
	}
	if strings.EqualFold(name, "i") {
		b0 := c.genLLCInternal()
		b1 := c.jset(orLLC, 2, 0x01)
		genNot(b1)
		genAnd(b0, b1)
		return b1
	}
	var v, mask uint32
	switch {
	case strings.EqualFold(name, "s"):
		v, mask = 1, 0x03
	case strings.EqualFold(name, "u"):
		v, mask = 3, 0x03
	default:
		var ok bool
		if v, ok = lookupName(llcSSubtypes, name); ok {
			mask = 0x0f
		} else if v, ok = lookupName(llcUSubtypes, name); ok {
			mask = 0xef
		} else {
			c.errorf("unknown LLC type name \"%s\"", name)
		}
	}
	b0 := c.genLLCInternal()
	b1 := c.genMcmp(orLLC, 2, bpfop.SizeB, v, mask)
	genAnd(b0, b1)
	return b1
}
