package filter

import "fmt"

// Limits that keep every input's cost bounded.
const (
	maxExprLen = 64 << 10 // bytes of expression text
	maxDepth   = 200      // nesting of parentheses, not and unary minus
)

// parser is a recursive-descent parser for libpcap's filter grammar
// (grammar.y), with one token of lookahead and bounded backtracking where
// libpcap's LALR parser decides by later tokens (an operand that inherits
// the previous qualifiers versus a new term, a parenthesised arithmetic
// expression versus a parenthesised boolean one).
type parser struct {
	expr  string
	toks  []token
	p     int
	depth int
	// best is the syntax error found furthest into the input; when every
	// alternative fails it is the one reported.
	best *Error
}

// syntaxError is the panic value a parse function raises; alternatives
// recover it and backtrack.
type syntaxError struct{ err *Error }

// fatalError is raised for limits (nesting depth): no alternative can
// succeed, so nothing backtracks over it.
type fatalError struct{ err *Error }

var qerr = qual{undef: true}

func parse(expr string) (n node, err error) {
	if len(expr) > maxExprLen {
		return nil, &Error{Expr: expr, Column: maxExprLen + 1, Msg: fmt.Sprintf("expression too long (more than %d bytes)", maxExprLen)}
	}
	ps := &parser{expr: expr, toks: lex(expr)}
	defer func() {
		if r := recover(); r != nil {
			switch e := r.(type) {
			case syntaxError:
				err = e.err
			case fatalError:
				err = e.err
			default:
				panic(r)
			}
		}
	}()
	if ps.peek().kind == tokEOF {
		return nil, nil
	}
	n, _ = ps.parseExpr(qerr)
	if t := ps.peek(); t.kind != tokEOF {
		ps.fail(t, "expected 'and', 'or' or the end of the expression")
	}
	return n, nil
}

func (ps *parser) peek() token { return ps.toks[ps.p] }

// prevEnd returns the end of the last token consumed.
func (ps *parser) prevEnd() int {
	if ps.p == 0 {
		return 0
	}
	return ps.toks[ps.p-1].end
}
func (ps *parser) peekAt(i int) token {
	if ps.p+i < len(ps.toks) {
		return ps.toks[ps.p+i]
	}
	return ps.toks[len(ps.toks)-1]
}
func (ps *parser) next() token {
	t := ps.toks[ps.p]
	if t.kind != tokEOF {
		ps.p++
	}
	return t
}

// fail raises a syntax error at token t.
func (ps *parser) fail(t token, msg string) {
	if t.kind == tokError || (t.err != "" && t.kind != tokEOF) {
		msg = t.err
	} else {
		msg = "syntax error: " + msg + ", found " + t.describe()
	}
	e := &Error{Expr: ps.expr, Column: t.pos + 1, Msg: msg}
	// On a tie the later alternative (the more general one) wins.
	if ps.best == nil || e.Column >= ps.best.Column {
		ps.best = e
	}
	panic(syntaxError{ps.best})
}

// try runs f; when f raises a syntax error, try restores the position and
// reports false.
func (ps *parser) try(f func()) (ok bool) {
	save, depth := ps.p, ps.depth
	defer func() {
		if r := recover(); r != nil {
			if _, isSyn := r.(syntaxError); !isSyn {
				panic(r)
			}
			ps.p, ps.depth = save, depth
			ok = false
		}
	}()
	f()
	return true
}

func (ps *parser) enter() {
	ps.depth++
	if ps.depth > maxDepth {
		t := ps.peek()
		e := &Error{Expr: ps.expr, Column: t.pos + 1, Msg: fmt.Sprintf("expression nested too deeply (more than %d levels)", maxDepth)}
		panic(fatalError{e}) // not recoverable by backtracking
	}
}
func (ps *parser) leave() { ps.depth-- }

func (ps *parser) isOp(s string) bool {
	t := ps.peek()
	return t.kind == tokOp && t.text == s
}

func (ps *parser) isKw(s string) bool {
	t := ps.peek()
	return t.kind == tokKeyword && t.text == s
}

func (ps *parser) expectOp(s, what string) token {
	if !ps.isOp(s) {
		ps.fail(ps.peek(), "expected '"+s+"' "+what)
	}
	return ps.next()
}

// expectNum consumes a number and returns its value; what says which
// number is expected ("a prefix length after '/'").
func (ps *parser) expectNum(what string) uint32 {
	t := ps.peek()
	if t.kind != tokNum {
		ps.fail(t, "expected "+what)
	}
	return ps.next().num
}

// parseExpr parses
//
//	expr: term | expr and term | expr and id | expr or term | expr or id
//
// and returns the qualifiers a following bare id inherits.
func (ps *parser) parseExpr(inherited qual) (node, qual) {
	l, q := ps.parseTerm(inherited)
	for {
		t := ps.peek()
		if t.kind != tokAnd && t.kind != tokOr {
			return l, q
		}
		ps.next()
		var r node
		rq := q
		idOK := ps.try(func() {
			r = ps.parseID(q)
			switch ps.peek().kind {
			case tokAnd, tokOr, tokEOF:
			default:
				if !ps.isOp(")") {
					ps.fail(ps.peek(), "expected 'and', 'or' or ')'")
				}
			}
		})
		if !idOK {
			r, rq = ps.parseTerm(q)
		}
		if t.kind == tokAnd {
			l = &andNode{l, r}
		} else {
			l = &orNode{l, r}
		}
		q = rq
	}
}

// parseTerm parses
//
//	term: rterm | not term
func (ps *parser) parseTerm(inherited qual) (node, qual) {
	if t := ps.peek(); t.kind == tokNot {
		ps.next()
		ps.enter()
		x, q := ps.parseTerm(inherited)
		ps.leave()
		return &notNode{x: x, pos: t.pos}, q
	}
	return ps.parseRTerm(inherited)
}

var pnames = map[string]bool{
	"link": true, "ip": true, "arp": true, "rarp": true, "sctp": true, "tcp": true,
	"udp": true, "icmp": true, "igmp": true, "igrp": true, "pim": true, "vrrp": true,
	"carp": true, "atalk": true, "aarp": true, "decnet": true, "lat": true, "sca": true,
	"mopdl": true, "moprc": true, "ip6": true, "icmp6": true, "ah": true, "esp": true,
	"iso": true, "esis": true, "isis": true, "l1": true, "l2": true, "iih": true,
	"lsp": true, "snp": true, "psnp": true, "csnp": true, "clnp": true, "stp": true,
	"ipx": true, "netbeui": true, "radio": true,
}

var dquals = map[string]int{
	"src": dSrc, "dst": dDst, "addr1": dAddr1, "addr2": dAddr2, "addr3": dAddr3,
	"addr4": dAddr4, "ra": dRA, "ta": dTA,
}

var aquals = map[string]int{
	"host": qHost, "net": qNet, "port": qPort, "portrange": qPortrange,
	"proto": qProto, "protochain": qProtochain, "gateway": qGateway,
}

func isRelop(t token) bool {
	switch t.kind {
	case tokGEQ, tokLEQ, tokNEQ:
		return true
	case tokOp:
		return t.text == ">" || t.text == "<" || t.text == "="
	}
	return false
}

// parseRTerm parses
//
//	rterm: head id | '(' expr ')' | pname | arth relop arth | other
func (ps *parser) parseRTerm(inherited qual) (node, qual) {
	t := ps.peek()
	switch {
	case t.kind == tokOp && t.text == "(":
		var n node
		if ps.try(func() { n = ps.parseRelation() }) {
			return n, qerr
		}
		ps.next()
		ps.enter()
		n, _ = ps.parseExpr(inherited)
		ps.leave()
		ps.expectOp(")", "to close the '(' at column "+fmt.Sprint(t.pos+1))
		return n, inherited
	case t.kind == tokNum || (t.kind == tokOp && t.text == "-") || (t.kind == tokKeyword && t.text == "len"):
		return ps.parseRelation(), qerr
	case t.kind == tokKeyword && pnames[t.text]:
		n := ps.peekAt(1)
		switch {
		case n.kind == tokOp && n.text == "[":
			return ps.parseRelation(), qerr
		case n.kind == tokKeyword && (dquals[n.text] != 0 || aquals[n.text] != 0):
			return ps.parseHeadID()
		case n.kind == tokKeyword && (n.text == "broadcast" || n.text == "multicast" ||
			n.text == "type" || n.text == "subtype" || n.text == "dir"):
			ps.next()
			return ps.parseOther(t.text, t.pos), qerr
		}
		ps.next()
		return &protoNode{proto: t.text, pos: t.pos, end: t.end}, qerr
	case t.kind == tokKeyword && (dquals[t.text] != 0 || aquals[t.text] != 0):
		return ps.parseHeadID()
	case t.kind == tokKeyword:
		return ps.parseOther("", t.pos), qerr
	}
	ps.fail(t, "expected a primitive (such as 'host 10.0.0.1', 'tcp port 80' or 'ip')")
	return nil, qerr
}

// parseHeadID parses
//
//	head: pqual dqual aqual | pqual dqual | pqual aqual | pqual PROTO | pqual PROTOCHAIN | pqual GATEWAY
//
// followed by an id.
func (ps *parser) parseHeadID() (node, qual) {
	var q qual
	start := ps.peek().pos
	if t := ps.peek(); t.kind == tokKeyword && pnames[t.text] {
		q.proto = t.text
		ps.next()
	}
	if t := ps.peek(); t.kind == tokKeyword && dquals[t.text] != 0 {
		ps.next()
		q.dir = dquals[t.text]
		if (q.dir == dSrc || q.dir == dDst) && (ps.peek().kind == tokOr || ps.peek().kind == tokAnd) {
			other := "dst"
			if q.dir == dDst {
				other = "src"
			}
			if n := ps.peekAt(1); n.kind == tokKeyword && n.text == other {
				if ps.next().kind == tokOr {
					q.dir = dOr
				} else {
					q.dir = dAnd
				}
				ps.next()
			}
		}
		if t := ps.peek(); t.kind == tokKeyword && (t.text == "host" || t.text == "net" || t.text == "port" || t.text == "portrange") {
			q.addr = aquals[t.text]
			ps.next()
		}
	} else if t.kind == tokKeyword && aquals[t.text] != 0 {
		q.addr = aquals[t.text]
		ps.next()
	} else {
		ps.fail(t, "expected 'host', 'net', 'port', 'portrange', 'proto', 'src' or 'dst'")
	}
	n := ps.parseID(q)
	if id, ok := n.(*idNode); ok {
		id.start = start
	}
	return n, q
}

// parseID parses an operand that takes its qualifiers from q:
//
//	id:  nid | pnum | '(' pid ')'
//	nid: ID | HID '/' NUM | HID mask HID | HID | HID6 '/' NUM | HID6 | EID | AID | not id
//	pid: nid | qid and id | qid or id
func (ps *parser) parseID(q qual) node {
	t := ps.peek()
	switch t.kind {
	case tokNum:
		ps.next()
		return &idNode{q: q, kind: tokNum, num: t.num, text: t.text, pos: t.pos, start: t.pos, end: t.end}
	case tokNot:
		ps.next()
		ps.enter()
		x := ps.parseID(q)
		ps.leave()
		return &notNode{x: x, pos: t.pos}
	case tokID, tokEID, tokAID:
		if t.err != "" {
			ps.fail(t, "")
		}
		ps.next()
		return &idNode{q: q, kind: t.kind, text: t.text, pos: t.pos, start: t.pos, end: t.end}
	case tokHID, tokHID6:
		ps.next()
		n := &idNode{q: q, kind: t.kind, text: t.text, pos: t.pos}
		if ps.isOp("/") {
			ps.next()
			n.hasLen, n.maskLen = true, ps.expectNum("a prefix length after '/'")
		} else if t.kind == tokHID && ps.isKw("mask") {
			ps.next()
			m := ps.peek()
			if m.kind != tokHID {
				ps.fail(m, "expected a dotted network mask after 'mask'")
			}
			ps.next()
			n.mask = m.text
		}
		n.start, n.end = t.pos, ps.prevEnd()
		return n
	case tokOp:
		if t.text == "(" {
			ps.next()
			ps.enter()
			l := ps.parseID(q)
			for ps.peek().kind == tokAnd || ps.peek().kind == tokOr {
				op := ps.next()
				r := ps.parseID(q)
				if op.kind == tokAnd {
					l = &andNode{l, r}
				} else {
					l = &orNode{l, r}
				}
			}
			ps.leave()
			ps.expectOp(")", "to close the '(' at column "+fmt.Sprint(t.pos+1))
			return l
		}
	}
	want := "expected " + idWanted(q)
	if t.kind == tokKeyword && (q.addr == qProto || q.addr == qProtochain) {
		want += " (a protocol keyword must be escaped: \\" + t.text + ")"
	}
	ps.fail(t, want)
	return nil
}

// idWanted says what may follow the qualifiers q.
func idWanted(q qual) string {
	switch q.addr {
	case qPort:
		return "a port number or name after 'port'"
	case qPortrange:
		return "a port range (such as 6000-6010) after 'portrange'"
	case qHost:
		return "a host name or address after 'host'"
	case qNet:
		return "a network (such as 10.0.0.0/8) after 'net'"
	case qProto:
		return "a protocol number or name after 'proto'"
	case qProtochain:
		return "a protocol number or name after 'protochain'"
	case qGateway:
		return "a host name after 'gateway'"
	}
	return "a host, network, port or protocol"
}
