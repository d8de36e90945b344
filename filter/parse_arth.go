package filter

// parseRelation parses "arth relop arth".
func (ps *parser) parseRelation() node {
	start := ps.peek().pos
	l := ps.parseArth(0)
	t := ps.peek()
	if !isRelop(t) {
		ps.fail(t, "expected a comparison ('=', '!=', '<', '<=', '>', '>=')")
	}
	ps.next()
	r := ps.parseArth(0)
	op := t.text
	switch t.kind {
	case tokGEQ:
		op = ">="
	case tokLEQ:
		op = "<="
	case tokNEQ:
		op = "!="
	}
	return &relNode{op: op, l: l, r: r, pos: start, opPos: t.pos, end: ps.prevEnd()}
}

// Binary operator precedence from libpcap's grammar. '%' and '^' have none
// there, so yacc always shifts on them: they take everything to their
// right and bind under any operator to their left.
var arthPrec = map[string]int{"|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5}

func arthOp(t token) (string, bool) {
	switch t.kind {
	case tokLSH:
		return "<<", true
	case tokRSH:
		return ">>", true
	case tokOp:
		switch t.text {
		case "+", "-", "*", "/", "%", "&", "|", "^":
			return t.text, true
		}
	}
	return "", false
}

// parseArth parses an arithmetic expression whose binary operators bind at
// least as tightly as minPrec (minPrec 100: only '%' and '^').
//
//	arth: pnum | pname '[' arth ']' | pname '[' arth ':' NUM ']' | arth op arth
//	    | '-' arth | '(' arth ')' | len
func (ps *parser) parseArth(minPrec int) arth {
	l := ps.parseArthUnary()
	for {
		t := ps.peek()
		op, ok := arthOp(t)
		if !ok {
			return l
		}
		if op == "%" || op == "^" {
			ps.next()
			r := ps.parseArth(0)
			l = &binArth{op: op, l: l, r: r, pos: t.pos}
			continue
		}
		p := arthPrec[op]
		if p < minPrec {
			return l
		}
		ps.next()
		r := ps.parseArth(p + 1)
		l = &binArth{op: op, l: l, r: r, pos: t.pos}
	}
}

func (ps *parser) parseArthUnary() arth {
	t := ps.peek()
	switch {
	case t.kind == tokOp && t.text == "-":
		ps.next()
		ps.enter()
		x := ps.parseArth(100)
		ps.leave()
		return &negArth{x: x, pos: t.pos}
	case t.kind == tokNum:
		ps.next()
		return &numArth{v: t.num, pos: t.pos}
	case t.kind == tokKeyword && t.text == "len":
		ps.next()
		return &lenArth{pos: t.pos}
	case t.kind == tokOp && t.text == "(":
		ps.next()
		ps.enter()
		x := ps.parseArth(0)
		ps.leave()
		ps.expectOp(")", "to close the '(' of the arithmetic expression")
		return x
	case t.kind == tokKeyword && pnames[t.text]:
		ps.next()
		ps.expectOp("[", "after '"+t.text+"' in a packet data access such as "+t.text+"[0]")
		ps.enter()
		idx := ps.parseArth(0)
		ps.leave()
		size := uint32(1)
		if ps.isOp(":") {
			ps.next()
			size = ps.expectNum("a size (1, 2 or 4) after ':'")
		}
		ps.expectOp("]", "to close '"+t.text+"['")
		return &loadArth{proto: t.text, idx: idx, size: size, pos: t.pos}
	}
	ps.fail(t, "expected a number, 'len' or a packet data access such as ip[0]")
	return nil
}

// parseOther parses the primitives with their own keyword (after an
// optional protocol qualifier proto, already consumed).
func (ps *parser) parseOther(proto string, pos int) node {
	t := ps.next()
	n := &otherNode{kind: t.text, proto: proto, pos: pos}
	if proto == "" {
		n.pos = t.pos
	}
	num := func(what string) uint32 { return ps.expectNum(what + " after '" + t.text + "'") }
	optPnum := func() {
		save := ps.p
		depth := 0
		for ps.isOp("(") {
			ps.next()
			depth++
		}
		if ps.peek().kind != tokNum {
			ps.p = save
			return
		}
		v := ps.next().num
		for ; depth > 0; depth-- {
			if !ps.isOp(")") {
				ps.p = save
				return
			}
			ps.next()
		}
		n.num, n.hasNum = v, true
	}
	if t.kind != tokKeyword {
		ps.fail(t, "expected a primitive")
	}
	switch t.text {
	case "broadcast", "multicast", "inbound", "outbound", "pppoed":
	case "less", "greater":
		n.num, n.hasNum = num("a length"), true
	case "ifindex":
		n.num, n.hasNum = num("an interface index"), true
	case "byte":
		n.num, n.hasNum = num("a byte offset"), true
		op := ps.peek()
		if op.kind != tokOp || (op.text != "&" && op.text != "|" && op.text != "<" && op.text != ">" && op.text != "=") {
			ps.fail(op, "expected one of '&', '|', '<', '>', '=' after 'byte N'")
		}
		ps.next()
		n.op = op.text
		n.num2 = num("a value")
	case "vlan", "mpls", "pppoes", "geneve":
		optPnum()
	case "llc":
		if x := ps.peek(); x.kind == tokID {
			ps.next()
			n.name = x.text
		} else if x.kind == tokKeyword && x.text == "rnr" {
			ps.next()
			n.name = "rnr"
		}
	case "type", "subtype", "dir":
		ps.parse80211(n, t)
	default:
		ps.fail(t, "expected a primitive (such as 'host 10.0.0.1', 'tcp port 80' or 'ip')")
	}
	if proto != "" && t.text != "broadcast" && t.text != "multicast" && t.text != "type" && t.text != "subtype" && t.text != "dir" {
		ps.fail(t, "unexpected '"+t.text+"' after '"+proto+"'")
	}
	n.end = ps.prevEnd()
	return n
}

// parse80211 parses the operands of the 802.11 tests:
//
//	type T | type T subtype S | subtype S | dir D
func (ps *parser) parse80211(n *otherNode, kw token) {
	operand := func() token {
		x := ps.peek()
		if x.kind != tokNum && x.kind != tokID {
			ps.fail(x, "expected a number or name after '"+kw.text+"'")
		}
		return ps.next()
	}
	n.args = append(n.args, operand())
	if kw.text == "type" && ps.isKw("subtype") {
		ps.next()
		n.args = append(n.args, operand())
	}
}
