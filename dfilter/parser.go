package dfilter

import "strconv"

// The syntax tree. Expressions (logical) contain relations and tests of
// entities; entities are fields, values, slices, calls and arithmetic.
type (
	// expr is a logical expression.
	expr interface{ span() (int, int) }

	// binary is "l and r" or "l or r".
	binary struct {
		and  bool
		l, r expr
	}
	// negation is "not x".
	negation struct {
		pos int
		x   expr
	}
	// relation compares two entities ("tcp.port == 80", "a contains b").
	relation struct {
		op    string // ==, !=, ===, !==, ~=, >, <, >=, <=, contains, matches
		opPos int
		opEnd int
		l, r  entity
	}
	// membership is "x in {…}" or "x not in {…}".
	membership struct {
		x     entity
		not   bool
		items []setItem
		end   int
	}
	// test is an entity alone: a field's existence, a bitwise test.
	test struct{ x entity }
	// paren is "(x)": it keeps the parentheses' positions, so that what
	// holds it ("not (a or b)") spans them.
	paren struct {
		x        expr
		pos, end int
	}

	// entity is a value-producing term.
	entity interface{ span() (int, int) }

	// word is an unquoted name or value; the checker decides which.
	word struct {
		text     string
		pos, end int
	}
	// strLit is a quoted string or character constant.
	strLit struct {
		text     string
		char     bool
		pos, end int
	}
	// slice is "x[ranges]".
	slice struct {
		x      entity
		ranges []sliceRange
		end    int
	}
	// call is "name(args)".
	call struct {
		name     string
		args     []entity
		pos, end int
	}
	// arith is "l op r" with op one of + - * / % &.
	arith struct {
		op    string
		opPos int
		l, r  entity
	}
	// neg is "-x".
	neg struct {
		pos int
		x   entity
	}
)

// setItem is one member of a set: a value, or a range lo..hi.
type setItem struct{ lo, hi entity }

// sliceRange is one range of a slice: start and length (length -1: to
// the end), or start..end inclusive, in Wireshark's [i:j] [i-j] [i] [i:]
// forms.
type sliceRange struct {
	start, length int
	toEnd         bool
}

func (e *binary) span() (int, int) {
	p, _ := e.l.span()
	_, q := e.r.span()
	return p, q
}
func (e *negation) span() (int, int) { _, q := e.x.span(); return e.pos, q }
func (e *relation) span() (int, int) {
	p, _ := e.l.span()
	_, q := e.r.span()
	return p, q
}
func (e *membership) span() (int, int) { p, _ := e.x.span(); return p, e.end }
func (e *test) span() (int, int)       { return e.x.span() }
func (e *paren) span() (int, int)      { return e.pos, e.end }
func (e *word) span() (int, int)       { return e.pos, e.end }
func (e *strLit) span() (int, int)     { return e.pos, e.end }
func (e *slice) span() (int, int)      { p, _ := e.x.span(); return p, e.end }
func (e *call) span() (int, int)       { return e.pos, e.end }
func (e *arith) span() (int, int) {
	p, _ := e.l.span()
	_, q := e.r.span()
	return p, q
}
func (e *neg) span() (int, int) { _, q := e.x.span(); return e.pos, q }

// parser is a recursive-descent parser with one token of lookahead.
type parser struct {
	lex lexer
	tok token
}

func (p *parser) advance() { p.tok = p.lex.next() }

// unexpected fails on the current token.
func (p *parser) unexpected() {
	if p.tok.kind == tEOF {
		fail(p.tok.pos, p.tok.pos+1, "Unexpected end of filter expression.")
	}
	fail(p.tok.pos, p.tok.end, "%q was unexpected in this context.", p.lex.src[p.tok.pos:p.tok.end])
}

func (p *parser) expect(k tokKind) token {
	if p.tok.kind != k {
		p.unexpected()
	}
	t := p.tok
	p.advance()
	return t
}

// parse parses a whole expression.
func parse(src string) expr {
	p := &parser{lex: lexer{src: src}}
	p.advance()
	if p.tok.kind == tEOF {
		fail(0, 1, "the filter expression is empty")
	}
	e := p.or()
	if p.tok.kind != tEOF {
		p.unexpected()
	}
	return e
}

// or: and { ("or" | "||") and }
func (p *parser) or() expr {
	e := p.and()
	for p.tok.kind == tOr {
		p.advance()
		e = &binary{and: false, l: e, r: p.and()}
	}
	return e
}

// and: not { ("and" | "&&") not }
func (p *parser) and() expr {
	e := p.not()
	for p.tok.kind == tAnd {
		p.advance()
		e = &binary{and: true, l: e, r: p.not()}
	}
	return e
}

// not: ("not" | "!") not | "(" or ")" | relation
func (p *parser) not() expr {
	switch p.tok.kind {
	case tNot:
		pos := p.tok.pos
		p.advance()
		return &negation{pos: pos, x: p.not()}
	case tLParen:
		pos := p.tok.pos
		p.advance()
		e := p.or()
		return &paren{x: e, pos: pos, end: p.expect(tRParen).end}
	}
	return p.relation()
}

// relation: sum [ cmp sum | ["not"] "in" set ]
func (p *parser) relation() expr {
	l := p.sum()
	switch p.tok.kind {
	case tCmp:
		op := p.tok
		p.advance()
		return &relation{op: op.text, opPos: op.pos, opEnd: op.end, l: l, r: p.sum()}
	case tIn:
		p.advance()
		return p.set(l, false)
	case tNot:
		if p.tok.text == "not" {
			p.advance()
			p.expect(tIn)
			return p.set(l, true)
		}
	}
	return &test{x: l}
}

// set: "{" item { [","] item } "}"; item: sum [".." sum]
func (p *parser) set(x entity, not bool) expr {
	p.expect(tLBrace)
	m := &membership{x: x, not: not}
	for {
		lo := p.sum()
		it := setItem{lo: lo}
		if p.tok.kind == tRange {
			p.advance()
			it.hi = p.sum()
		}
		m.items = append(m.items, it)
		if p.tok.kind == tComma {
			p.advance()
			continue
		}
		if p.tok.kind == tRBrace {
			m.end = p.tok.end
			p.advance()
			return m
		}
		p.unexpected()
	}
}

// sum: product { ("+" | "-") product }
func (p *parser) sum() entity {
	e := p.product()
	for p.tok.kind == tPlus || p.tok.kind == tMinus {
		op := p.tok
		p.advance()
		e = &arith{op: op.text, opPos: op.pos, l: e, r: p.product()}
	}
	return e
}

// product: unary { ("*" | "/" | "%" | "&") unary }
func (p *parser) product() entity {
	e := p.unary()
	for p.tok.kind == tStar || p.tok.kind == tSlash || p.tok.kind == tPercent || p.tok.kind == tBitAnd {
		op := p.tok
		p.advance()
		text := op.text
		if op.kind == tBitAnd {
			text = "&"
		}
		e = &arith{op: text, opPos: op.pos, l: e, r: p.unary()}
	}
	return e
}

// unary: "-" unary | primary
func (p *parser) unary() entity {
	if p.tok.kind == tMinus {
		pos := p.tok.pos
		p.advance()
		return &neg{pos: pos, x: p.unary()}
	}
	return p.primary()
}

// primary: word ["(" args ")"] [slice] | string | char | "{" sum "}"
func (p *parser) primary() entity {
	var e entity
	switch p.tok.kind {
	case tWord:
		w := p.tok
		p.advance()
		if p.tok.kind == tLParen {
			p.advance()
			c := &call{name: w.text, pos: w.pos}
			if p.tok.kind != tRParen {
				for {
					c.args = append(c.args, p.sum())
					if p.tok.kind != tComma {
						break
					}
					p.advance()
				}
			}
			c.end = p.expect(tRParen).end
			e = c
		} else {
			e = &word{text: w.text, pos: w.pos, end: w.end}
		}
	case tString, tChar:
		e = &strLit{text: p.tok.text, char: p.tok.kind == tChar, pos: p.tok.pos, end: p.tok.end}
		p.advance()
	case tLBrace:
		p.advance()
		e = p.sum()
		p.expect(tRBrace)
	default:
		p.unexpected()
	}
	for p.tok.kind == tLBracket {
		e = p.slice(e)
	}
	return e
}

// slice: "[" range { "," range } "]"
// range: [-]i ":" [j] | [-]i "-" j | [-]i | ":" j
func (p *parser) slice(x entity) entity {
	p.expect(tLBracket)
	s := &slice{x: x}
	for {
		var r sliceRange
		if p.tok.kind == tColon { // [:j]
			p.advance()
			r.length = p.sliceInt(false)
		} else {
			r.start = p.sliceInt(true)
			switch p.tok.kind {
			case tColon:
				p.advance()
				if p.tok.kind == tWord {
					r.length = p.sliceInt(false)
				} else {
					r.toEnd = true
				}
			case tMinus:
				p.advance()
				end := p.sliceInt(false)
				if end < r.start {
					fail(p.tok.pos, p.tok.end, "a slice's end (%d) comes before its start (%d)", end, r.start)
				}
				r.length = end - r.start + 1
			default:
				r.length = 1
			}
		}
		s.ranges = append(s.ranges, r)
		if p.tok.kind == tComma {
			p.advance()
			continue
		}
		s.end = p.expect(tRBracket).end
		p.lex.bracket = false
		return s
	}
}

// sliceInt reads a slice index, negative when signed allows a '-'.
func (p *parser) sliceInt(signed bool) int {
	negative := false
	if signed && p.tok.kind == tMinus {
		negative = true
		p.advance()
	}
	if p.tok.kind != tWord {
		p.unexpected()
	}
	v, err := strconv.ParseInt(p.tok.text, 0, 32)
	if err != nil {
		fail(p.tok.pos, p.tok.end, "%q is not a valid slice index.", p.tok.text)
	}
	p.advance()
	if negative {
		return -int(v)
	}
	return int(v)
}
