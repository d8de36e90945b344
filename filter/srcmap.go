package filter

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/filter/internal/bpfopt"
)

// Origin is a piece of a filter expression that an instruction of its
// program implements: a primitive ("tcp port 443", "ip[6:2] & 0x1fff = 0"),
// or the whole expression for the code every packet runs whatever the
// primitives (the link-layer prologue, the final returns).
type Origin struct {
	// Start and End are byte offsets in Program.Expr; End is exclusive.
	// The column of the origin, as in Error, is Start+1.
	Start, End int
	// Text is Expr[Start:End].
	Text string
	// Whole says the origin is the whole expression rather than one of
	// its primitives.
	Whole bool
}

// sourceMap is what a compilation keeps to answer Program.Origins.
type sourceMap struct {
	srcs     []uint16 // the origin set of each instruction
	table    *bpfopt.Sources
	origins  []Origin  // by origin number
	wholeSet uint16    // the set {0}
	exits    [][2]Exit // by instruction of an unoptimized program: see Exits
	buf      [8]Origin // the first origins, without an allocation
	stack    []*block  // stamp's, reused
}

// newSourceMap starts the origins of expr with the whole expression
// (origin 0).
func newSourceMap(expr string) *sourceMap {
	start := len(expr) - len(strings.TrimLeft(expr, " \t\r\n"))
	end := len(strings.TrimRight(expr, " \t\r\n"))
	if end < start {
		end = start
	}
	m := &sourceMap{table: bpfopt.NewSources()}
	m.origins = append(m.buf[:0], Origin{Start: start, End: end, Text: expr[start:end], Whole: true})
	m.wholeSet = m.table.Single(0)
	return m
}

// whole is the origin set of the whole expression.
func (m *sourceMap) whole() uint16 { return m.wholeSet }

// add records the origin expr[start:end] and returns its set.
func (m *sourceMap) add(expr string, start, end int) uint16 {
	if end < start {
		end = start
	}
	m.origins = append(m.origins, Origin{Start: start, End: end, Text: expr[start:end]})
	return m.table.Single(int32(len(m.origins) - 1))
}

// stamp gives every block and statement of the primitive whose code b
// ends, and which has no origin yet, the origin expr[start:end]. It
// returns b.
func (c *compiler) stamp(b *block, start, end int) *block {
	src := c.srcmap.add(c.expr, start, end)
	stack := append(c.srcmap.stack[:0], b.head)
	for len(stack) > 0 {
		blk := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if blk == nil || blk.s.src != 0 {
			continue
		}
		blk.s.src = src
		for _, s := range blk.stmts {
			if s.src == 0 {
				s.src = src
			}
		}
		stack = append(stack, blk.jt, blk.jf)
	}
	c.srcmap.stack = stack
	// The unresolved edges of b are where the primitive ends: those in
	// its list are taken when it is true, the others when it is false.
	c.markExits(b, ExitTrue)
	b.sense = !b.sense
	c.markExits(b, ExitFalse)
	b.sense = !b.sense
	return b
}

// markExits marks the unresolved edges of list as exits with outcome e.
func (c *compiler) markExits(list *block, e Exit) {
	for list != nil {
		if !list.sense {
			list.exitT = e
			list = list.jt
		} else {
			list.exitF = e
			list = list.jf
		}
	}
}

// Exit is what taking one branch of a conditional jump means for the
// primitive the jump belongs to: nothing yet (the primitive goes on), or
// the primitive's evaluation ends there, true or false.
type Exit int8

// Exits.
const (
	ExitNone  Exit = iota // the primitive goes on
	ExitTrue              // the primitive is true
	ExitFalse             // the primitive is false
)

// Exits returns what taking the true and the false branch of conditional
// jump i means for its primitive. It is known for programs compiled with
// NoOptimize only, where each primitive's code stays whole (the optimizer
// merges and reorders primitives' tests); for others, and for instructions
// that are no conditional jump, both are ExitNone.
func (p *Program) Exits(i int) (jt, jf Exit) {
	if p.srcmap == nil || i < 0 || i >= len(p.srcmap.exits) {
		return ExitNone, ExitNone
	}
	e := p.srcmap.exits[i]
	return e[0], e[1]
}

// Origins returns the pieces of the expression instruction i of the
// program implements, in the order of the expression; at least one for
// every instruction of a compiled program.
func (p *Program) Origins(i int) []Origin {
	if p.srcmap == nil || i < 0 || i >= len(p.srcmap.srcs) {
		return nil
	}
	set := p.srcmap.table.Set(p.srcmap.srcs[i])
	out := make([]Origin, 0, len(set))
	for _, o := range set {
		out = append(out, p.srcmap.origins[o])
	}
	sortOrigins(out)
	return out
}

func sortOrigins(os []Origin) {
	slices.SortFunc(os, func(a, b Origin) int { return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(b.End, a.End)) })
}

// Annotated returns the listing of Dump(1) (tcpdump -d) with, after each
// instruction, one line per piece of the expression it implements:
//
//	(004) jeq      #0x6             jt 5	jf 10
//	      ; 1-12 tcp port 443
//
// The columns are 1-based and inclusive, as in Error.Column; "all" marks
// code that belongs to the whole expression (the link-layer prologue, the
// returns). Annotation lines start with blanks and ';', so the instruction
// lines are exactly those of Dump(1).
func (p *Program) Annotated() string {
	var sb strings.Builder
	for i, in := range p.Raw {
		sb.WriteString(imageOf(in, i))
		sb.WriteByte('\n')
		for _, o := range p.Origins(i) {
			sb.WriteString("      ; ")
			sb.WriteString(o.Columns())
			sb.WriteByte(' ')
			sb.WriteString(o.Text)
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// Columns returns the origin's 1-based inclusive column range ("5-12"), or
// "all" for the whole expression.
func (o Origin) Columns() string {
	if o.Whole {
		return "all"
	}
	return strconv.Itoa(o.Start+1) + "-" + strconv.Itoa(o.End)
}
