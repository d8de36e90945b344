package dfilter

import (
	"strings"

	"github.com/pkttap/pkttap/dissect"
)

// call compiles one of Wireshark's display-filter functions: len count
// upper lower string max min abs.
func (k *checker) call(e *call) *typed {
	name := strings.ToLower(e.name)
	arity := func(n int) {
		if len(e.args) != n {
			fail(e.pos, e.end, "Function %s() takes %d argument(s), not %d.", name, n, len(e.args))
		}
	}
	u32 := func(n int) dissect.Value { return dissect.Value{Type: dissect.TypeUint32, N: uint64(n)} }
	t := &typed{text: k.text(e.pos, e.end), pos: e.pos, end: e.end, kind: KindCall, op: name}
	switch name {
	case "len":
		arity(1)
		x := k.entity(e.args[0], nil)
		t.args = []*typed{x}
		if !x.typ.IsBytesLike() {
			fail(x.pos, x.end, "%s is a %s: len() takes bytes or a string.", x.text, x.typ.Description())
		}
		t.typ = dissect.TypeUint32
		t.eval = func(c *context, dst []dissect.Value) []dissect.Value {
			n := len(dst)
			dst = x.eval(c, dst)
			for i := n; i < len(dst); i++ {
				l := len(dst[i].B)
				if dst[i].Type == dissect.TypeString {
					l = len(dst[i].S)
				}
				dst[i] = u32(l)
			}
			return dst
		}
	case "count":
		arity(1)
		x := k.entity(e.args[0], nil)
		t.args = []*typed{x}
		if x.field == "" {
			fail(x.pos, x.end, "count() takes a field, not %s.", x.text)
		}
		t.typ = dissect.TypeUint32
		t.eval = func(c *context, dst []dissect.Value) []dissect.Value {
			n := len(dst)
			dst = x.eval(c, dst)
			cnt := len(dst) - n
			return append(dst[:n], u32(cnt))
		}
	case "upper", "lower":
		arity(1)
		x := k.entity(e.args[0], nil)
		t.args = []*typed{x}
		if x.typ != dissect.TypeString {
			fail(x.pos, x.end, "%s is a %s: %s() takes a string.", x.text, x.typ.Description(), name)
		}
		conv := strings.ToUpper
		if name == "lower" {
			conv = strings.ToLower
		}
		t.typ = dissect.TypeString
		t.eval = func(c *context, dst []dissect.Value) []dissect.Value {
			n := len(dst)
			dst = x.eval(c, dst)
			for i := n; i < len(dst); i++ {
				dst[i] = dissect.Value{Type: dissect.TypeString, S: conv(dst[i].S)}
			}
			return dst
		}
	case "string":
		arity(1)
		x := k.entity(e.args[0], nil)
		t.args = []*typed{x}
		if x.typ == dissect.TypeProtocol || x.typ == dissect.TypeNone {
			fail(x.pos, x.end, "%s is a %s: string() takes a field with a value.", x.text, x.typ.Description())
		}
		t.typ = dissect.TypeString
		t.eval = func(c *context, dst []dissect.Value) []dissect.Value {
			n := len(dst)
			dst = x.eval(c, dst)
			for i := n; i < len(dst); i++ {
				if dst[i].Type != dissect.TypeString {
					dst[i] = dissect.Value{Type: dissect.TypeString, S: string(dst[i].AppendText(nil, x.base))}
				}
			}
			return dst
		}
	case "max", "min":
		if len(e.args) == 0 {
			fail(e.pos, e.end, "Function %s() takes at least 1 argument.", name)
		}
		var xs []*typed
		for _, a := range e.args {
			x := k.entity(a, nil)
			if family(x.typ) != 1 && x.typ != dissect.TypeIPv4 && x.typ != dissect.TypeString {
				fail(x.pos, x.end, "%s is a %s: %s() takes numbers.", x.text, x.typ.Description(), name)
			}
			if len(xs) > 0 && family(x.typ) != family(xs[0].typ) {
				fail(x.pos, x.end, "%s and %s are not of compatible types.", xs[0].text, x.text)
			}
			xs = append(xs, x)
		}
		t.typ, t.base, t.args = xs[0].typ, xs[0].base, xs
		want := 1
		if name == "min" {
			want = -1
		}
		t.eval = func(c *context, dst []dissect.Value) []dissect.Value {
			n := len(dst)
			for _, x := range xs {
				dst = x.eval(c, dst)
			}
			if len(dst) == n {
				return dst
			}
			best := dst[n]
			for _, v := range dst[n+1:] {
				if compare(v, best) == want {
					best = v
				}
			}
			return append(dst[:n], best)
		}
	case "abs":
		arity(1)
		x := k.entity(e.args[0], nil)
		t.args = []*typed{x}
		if family(x.typ) != 1 {
			fail(x.pos, x.end, "%s is a %s: abs() takes a number.", x.text, x.typ.Description())
		}
		t.typ, t.base = x.typ, x.base
		t.eval = func(c *context, dst []dissect.Value) []dissect.Value {
			n := len(dst)
			dst = x.eval(c, dst)
			for i := n; i < len(dst); i++ {
				if dst[i].Type.IsInt() && int64(dst[i].N) < 0 {
					dst[i].N = uint64(-int64(dst[i].N))
				}
			}
			return dst
		}
	default:
		fail(e.pos, e.pos+len(e.name), "The function '%s' does not exist.", e.name)
	}
	return t
}

// arith compiles "l op r" for integers (+ - * / % &) and byte strings
// (&): the operation over every pair of values, dropping a division by
// zero.
func (k *checker) arith(e *arith, want *typed) *typed {
	var l, r *typed
	if isValue(e.l) && !isValue(e.r) {
		r = k.entity(e.r, want)
		l = k.entity(e.l, r)
	} else {
		l = k.entity(e.l, want)
		r = k.entity(e.r, l)
	}
	pos, end := e.span()
	isBytes := l.typ.IsBytesLike() && l.typ != dissect.TypeString
	if e.op == "&" && isBytes && r.typ.IsBytesLike() {
		return &typed{typ: dissect.TypeBytes, text: k.text(pos, end), pos: pos, end: end, kind: KindArith, op: "&", args: []*typed{l, r},
			eval: func(c *context, dst []dissect.Value) []dissect.Value {
				lv := l.eval(c, c.take())
				rv := r.eval(c, c.take())
				for _, a := range lv {
					for _, b := range rv {
						n := min(len(a.B), len(b.B))
						out := make([]byte, n)
						for i := range out {
							out[i] = a.B[i] & b.B[i]
						}
						dst = append(dst, dissect.Value{Type: dissect.TypeBytes, B: out})
					}
				}
				c.give(rv)
				c.give(lv)
				return dst
			}}
	}
	if family(l.typ) != 1 || family(r.typ) != 1 {
		bad := l
		if family(l.typ) == 1 {
			bad = r
		}
		fail(bad.pos, bad.end, "%s is a %s and cannot be used with %q.", bad.text, bad.typ.Description(), e.op)
	}
	op := e.op
	typ := l.typ
	if typ == dissect.TypeBool {
		typ = dissect.TypeUint8
	}
	return &typed{typ: typ, base: l.base, text: k.text(pos, end), pos: pos, end: end, kind: KindArith, op: op, args: []*typed{l, r},
		eval: func(c *context, dst []dissect.Value) []dissect.Value {
			lv := l.eval(c, c.take())
			rv := r.eval(c, c.take())
			for _, a := range lv {
				for _, b := range rv {
					var v uint64
					switch op {
					case "+":
						v = a.N + b.N
					case "-":
						v = a.N - b.N
					case "*":
						v = a.N * b.N
					case "/":
						if b.N == 0 {
							continue
						}
						if typ.IsInt() {
							v = uint64(int64(a.N) / int64(b.N))
						} else {
							v = a.N / b.N
						}
					case "%":
						if b.N == 0 {
							continue
						}
						if typ.IsInt() {
							v = uint64(int64(a.N) % int64(b.N))
						} else {
							v = a.N % b.N
						}
					case "&":
						v = a.N & b.N
					}
					dst = append(dst, dissect.Value{Type: typ, N: v})
				}
			}
			c.give(rv)
			c.give(lv)
			return dst
		}}
}
