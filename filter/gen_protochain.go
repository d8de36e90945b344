package filter

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
		st := newStmt(code, k)
		s = append(s, st)
		return st
	}
	var b0 *block
	if proto == "ip" {
		b0 = c.genLinkType(ethertypeIP)
		add(classLD|modeABS|sizeB, base+9)
		add(classLDX|modeMSH|sizeB, base)
	} else {
		b0 = c.genLinkType(ethertypeIPv6)
		add(classLD|modeABS|sizeB, base+6)
		add(classLDX|modeIMM, 40)
	}
	again := len(s)
	fix5 := add(classJMP|jmpJEQ|srcK, v)
	fix2 := add(classJMP|jmpJEQ|srcK, ipprotoNone)
	fix5.jf = fix2
	var fix3 *stmt
	if proto == "ip6" {
		var v6 []*stmt
		for _, p := range []uint32{ipprotoHopOpts, ipprotoDstOpts, ipprotoRouting, ipprotoFragment} {
			j := add(classJMP|jmpJEQ|srcK, p)
			if len(v6) == 0 {
				fix2.jf = j
			} else {
				v6[len(v6)-1].jf = j
			}
			v6 = append(v6, j)
		}
		fix3 = v6[len(v6)-1]
		advance := add(classLD|modeIND|sizeB, base)
		add(classST, uint32(reg2))
		add(classLD|modeIND|sizeB, base+1)
		add(classALU|aluADD|srcK, 1)
		add(classALU|aluMUL|srcK, 8)
		add(classALU|aluADD|srcX, 0)
		add(classMISC|miscTAX, 0)
		add(classLD|modeMEM, uint32(reg2))
		i := len(s)
		add(opJA, uint32(int32(again-i-1)))
		for _, j := range v6 {
			j.jt = advance
		}
	} else {
		fix2.jf = add(classALU|aluADD|srcK, 0)
	}
	ahcheck := add(classJMP|jmpJEQ|srcK, ipprotoAH)
	if fix3 != nil {
		fix3.jf = ahcheck
	}
	fix4 := ahcheck
	ahcheck.jt = add(classMISC|miscTXA, 0)
	add(classLD|modeIND|sizeB, base)
	add(classST, uint32(reg2))
	add(classMISC|miscTXA, 0)
	add(classALU|aluADD|srcK, 1)
	add(classMISC|miscTAX, 0)
	add(classLD|modeIND|sizeB, base)
	add(classALU|aluADD|srcK, 2)
	add(classALU|aluMUL|srcK, 4)
	add(classMISC|miscTAX, 0)
	add(classLD|modeMEM, uint32(reg2))
	i := len(s)
	add(opJA, uint32(int32(again-i-1)))
	end := add(classALU|aluADD|srcK, 0)
	fix2.jt = end
	fix4.jf = end
	fix5.jt = end
	b := newBlock(classJMP|jmpJEQ|srcK, v)
	b.stmts = s
	c.freeReg(reg2)
	genAnd(b0, b)
	return b
}
