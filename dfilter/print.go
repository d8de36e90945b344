package dfilter

import (
	"strconv"
	"strings"
)

// Canonical returns a display filter as it was parsed: operators in their
// symbol forms (&& || ! == ...), and parentheses wherever "and" binding
// tighter than "or" decided the grouping, so "a or b and not c" reads
// "a || (b && !c)". Names, values and strings are printed as written;
// slices as [start:length]. An expression that does not compile fails
// with Compile's *Error.
func Canonical(expr string) (string, error) {
	if _, err := Compile(expr); err != nil {
		return "", err
	}
	pr := printer{src: expr}
	pr.expr(parse(expr), nil)
	return pr.b.String(), nil
}

// printer writes a syntax tree back as text.
type printer struct {
	src string
	b   strings.Builder
}

// expr writes e, parenthesized when it is a binary of a kind other than
// its parent's (nil: the top).
func (pr *printer) expr(e expr, parent *binary) {
	if p, ok := e.(*paren); ok {
		pr.expr(p.x, parent)
		return
	}
	switch e := e.(type) {
	case *binary:
		paren := parent != nil && parent.and != e.and
		if paren {
			pr.b.WriteByte('(')
		}
		op := " || "
		if e.and {
			op = " && "
		}
		pr.expr(e.l, e)
		pr.b.WriteString(op)
		pr.expr(e.r, e)
		if paren {
			pr.b.WriteByte(')')
		}
	case *negation:
		pr.b.WriteByte('!')
		x := e.x
		for {
			p, ok := x.(*paren)
			if !ok {
				break
			}
			x = p.x
		}
		if _, ok := x.(*binary); ok {
			pr.b.WriteByte('(')
			pr.expr(e.x, nil)
			pr.b.WriteByte(')')
		} else {
			pr.expr(e.x, nil)
		}
	case *relation:
		pr.entity(e.l)
		pr.b.WriteString(" " + e.op + " ")
		pr.entity(e.r)
	case *membership:
		pr.entity(e.x)
		if e.not {
			pr.b.WriteString(" not")
		}
		pr.b.WriteString(" in {")
		for i, it := range e.items {
			if i > 0 {
				pr.b.WriteString(", ")
			}
			pr.entity(it.lo)
			if it.hi != nil {
				pr.b.WriteString("..")
				pr.entity(it.hi)
			}
		}
		pr.b.WriteByte('}')
	case *test:
		pr.entity(e.x)
	}
}

// entity writes a value-producing term.
func (pr *printer) entity(e entity) {
	switch e := e.(type) {
	case *word:
		pr.b.WriteString(e.text)
	case *strLit:
		pr.b.WriteString(pr.src[e.pos:e.end])
	case *call:
		pr.b.WriteString(e.name + "(")
		for i, a := range e.args {
			if i > 0 {
				pr.b.WriteString(", ")
			}
			pr.entity(a)
		}
		pr.b.WriteByte(')')
	case *slice:
		pr.entity(e.x)
		pr.b.WriteByte('[')
		for i, r := range e.ranges {
			if i > 0 {
				pr.b.WriteByte(',')
			}
			pr.b.WriteString(strconv.Itoa(r.start) + ":")
			if !r.toEnd {
				pr.b.WriteString(strconv.Itoa(r.length))
			}
		}
		pr.b.WriteByte(']')
	case *arith:
		pr.b.WriteByte('(')
		pr.entity(e.l)
		pr.b.WriteString(" " + e.op + " ")
		pr.entity(e.r)
		pr.b.WriteByte(')')
	case *neg:
		pr.b.WriteByte('-')
		pr.entity(e.x)
	}
}
