package dfilter

// The source map: the compiler keeps, beside the closures Match runs, a
// tree of what it compiled, each node with the part of the expression it
// came from. Filter.Tree returns it; Filter.Trace evaluates it on one
// packet, recording what each node gave.

// Kind is what a node of a compiled filter's tree is.
type Kind string

// The kinds of node. And, Or, Not, Relation, Membership and Test are
// logical (true or false on a packet); the others are entities, which
// give values.
const (
	KindAnd        Kind = "and"        // l && r: Children are l and r
	KindOr         Kind = "or"         // l || r: Children are l and r
	KindNot        Kind = "not"        // !x: the one child is x
	KindRelation   Kind = "relation"   // l OP r (Op: ==, !=, ===, !==, ~=, >, <, >=, <=, contains, matches)
	KindMembership Kind = "membership" // x in {…} (Op "in" or "not in"): x, then one child per member
	KindTest       Kind = "test"       // an entity alone: present, or for a bitwise and, non-zero
	KindField      Kind = "field"      // a field or protocol (Text is its name)
	KindValue      Kind = "value"      // a value written in the expression
	KindSlice      Kind = "slice"      // x[ranges]
	KindCall       Kind = "call"       // a function (Op is its name); Children are its arguments
	KindArith      Kind = "arith"      // l OP r with Op + - * / % &
	KindNeg        Kind = "neg"        // -x
	KindRange      Kind = "range"      // a set member lo..hi: Children are lo and hi
)

// Logical reports whether nodes of kind k are true or false on a packet
// (rather than giving values).
func (k Kind) Logical() bool {
	switch k {
	case KindAnd, KindOr, KindNot, KindRelation, KindMembership, KindTest:
		return true
	}
	return false
}

// Node is one node of a compiled filter's evaluation tree, with the part
// of the expression it was compiled from: Text is Expr[Start:End], byte
// offsets with End exclusive (the column of the node is Start+1).
// Parentheses belong to no node: "(a or b)" is the or node of "a or b".
type Node struct {
	Kind       Kind
	Op         string
	Text       string
	Start, End int
	Children   []*Node
}

// Walk calls fn for n and, depth first in source order, every node
// under it, with its depth (n's is 0).
func (n *Node) Walk(fn func(n *Node, depth int)) { n.walk(fn, 0) }

func (n *Node) walk(fn func(n *Node, depth int), depth int) {
	fn(n, depth)
	for _, c := range n.Children {
		c.walk(fn, depth+1)
	}
}

// Tree returns the filter's evaluation tree, its source map: every node
// knows the part of the expression it came from. The tree is the
// filter's own; the caller must not change it.
func (f *Filter) Tree() *Node { return f.tree.node }

// newNode makes the source-map node of the part of src from pos to end.
func newNode(src string, kind Kind, op string, pos, end int, kids ...*Node) *Node {
	end = min(end, len(src))
	pos = min(max(pos, 0), end)
	return &Node{Kind: kind, Op: op, Text: src[pos:end], Start: pos, End: end, Children: kids}
}
