package filter

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// IPv6 extension header protocol numbers.
const (
	ipprotoHopOpts = 0
	ipprotoRouting = 43
	ipprotoNone    = 59
	ipprotoDstOpts = 60
)

// genProtochain is "[ip|ip6] protochain N": walk the IPv6 extension
// headers (and IPv4/IPv6 AH headers) to the first header that is not one,
// and compare its protocol with v. Like libpcap, the walk is a loop of
// block-local jumps (with backward BPF_JA).
func (c *compiler) genProtochain(v uint32, proto string) *block {
	reg2 := c.allocReg()
	switch proto {
	case "ip", "ip6":
	case "":
		b0 := c.genProtochain(v, "ip")
		b := c.genProtochain(v, "ip6")
		genOr(b0, b)
		return b
	default:
		c.errorf("bad protocol applied for 'protochain'")
	}
	if c.offLinkPL.variable {
		c.errorf("'protochain' not supported with variable length headers")
	}
	c.noOptimize = true
	base := uint32(c.offLinkPL.constant + c.offNL)
	var s []*stmt
	add := func(code uint16, k uint32) *stmt {
		st := c.newStmt(code, k)
		s = append(s, st)
		return st
	}
	var b0 *block
	if proto == "ip" {
		b0 = c.genLinkType(ethertypeIP)
		add(bpfop.ClassLD|bpfop.ModeABS|bpfop.SizeB, base+9)
		add(bpfop.ClassLDX|bpfop.ModeMSH|bpfop.SizeB, base)
	} else {
		b0 = c.genLinkType(ethertypeIPv6)
		add(bpfop.ClassLD|bpfop.ModeABS|bpfop.SizeB, base+6)
		add(bpfop.ClassLDX|bpfop.ModeIMM, 40)
	}
	again := len(s)
	fix5 := add(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, v)
	fix2 := add(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, ipprotoNone)
	fix5.jf = fix2
	var fix3 *stmt
	if proto == "ip6" {
		var v6 []*stmt
		for _, p := range []uint32{ipprotoHopOpts, ipprotoDstOpts, ipprotoRouting, ipprotoFragment} {
			j := add(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, p)
			if len(v6) == 0 {
				fix2.jf = j
			} else {
				v6[len(v6)-1].jf = j
			}
			v6 = append(v6, j)
		}
		fix3 = v6[len(v6)-1]
		advance := add(bpfop.ClassLD|bpfop.ModeIND|bpfop.SizeB, base)
		add(bpfop.ClassST, uint32(reg2))
		add(bpfop.ClassLD|bpfop.ModeIND|bpfop.SizeB, base+1)
		add(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 1)
		add(bpfop.ClassALU|bpfop.OpMUL|bpfop.SrcK, 8)
		add(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcX, 0)
		add(bpfop.ClassMISC|bpfop.MiscTAX, 0)
		add(bpfop.ClassLD|bpfop.ModeMEM, uint32(reg2))
		i := len(s)
		add(opJA, uint32(int32(again-i-1)))
		for _, j := range v6 {
			j.jt = advance
		}
	} else {
		fix2.jf = add(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 0)
	}
	ahcheck := add(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, ipprotoAH)
	if fix3 != nil {
		fix3.jf = ahcheck
	}
	fix4 := ahcheck
	ahcheck.jt = add(bpfop.ClassMISC|bpfop.MiscTXA, 0)
	add(bpfop.ClassLD|bpfop.ModeIND|bpfop.SizeB, base)
	add(bpfop.ClassST, uint32(reg2))
	add(bpfop.ClassMISC|bpfop.MiscTXA, 0)
	add(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 1)
	add(bpfop.ClassMISC|bpfop.MiscTAX, 0)
	add(bpfop.ClassLD|bpfop.ModeIND|bpfop.SizeB, base)
	add(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 2)
	add(bpfop.ClassALU|bpfop.OpMUL|bpfop.SrcK, 4)
	add(bpfop.ClassMISC|bpfop.MiscTAX, 0)
	add(bpfop.ClassLD|bpfop.ModeMEM, uint32(reg2))
	i := len(s)
	add(opJA, uint32(int32(again-i-1)))
	end := add(bpfop.ClassALU|bpfop.OpADD|bpfop.SrcK, 0)
	fix2.jt = end
	fix4.jf = end
	fix5.jt = end
	b := c.newBlock(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, v)
	b.stmts = s
	c.freeReg(reg2)
	genAnd(b0, b)
	return b
}
