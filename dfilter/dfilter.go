package dfilter

import (
	"slices"
	"sync"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// Filter is a compiled display filter. It is safe for concurrent use.
type Filter struct {
	expr  string
	root  boolFn
	tree  *lnode         // the source map, and what Trace evaluates
	names []string       // slot -> field name
	want  map[string]int // field name -> slot
	alias map[string][]int
	pool  sync.Pool // *context
	// fast holds a getter per slot when every field the filter reads is
	// one of the fast path's; nil otherwise.
	fast []fastGetter
	// frame holds a getter per slot when every field the filter reads is
	// the frame's own (frame.len, frame.number): no decoding at all.
	frame []frameGetter
	// keep names the layers under which the filter's fields are found
	// (nil: any), the only ones a packet's tree is built with.
	keep []string
}

// Packet is what a filter looks at: a packet's bytes as captured, with
// its link type, on-wire length and 1-based number in its capture
// (frame.number). Stream, when not nil, is what a stream tracker found
// for the packet (tcp.stream, relative sequence numbers, TCP analysis):
// without it those fields are absent. Reassembled, when not nil, is the
// IP datagram the packet's fragment completes (package defrag), whose
// fields the packet then has.
type Packet struct {
	LinkType    pcapio.LinkType
	Data        []byte
	Length      int
	Number      int
	Stream      *dissect.StreamInfo
	Reassembled *dissect.Reassembled
}

// Compile parses and checks a display filter. A fault is returned as an
// *Error with its column.
func Compile(expr string) (f *Filter, err error) {
	defer func() {
		if r := recover(); r != nil {
			fl, ok := r.(failure)
			if !ok {
				panic(r)
			}
			n := fl.end - fl.pos
			if n < 1 {
				n = 1
			}
			err = &Error{Expr: expr, Column: fl.pos + 1, Len: n, Msg: fl.msg}
			f = nil
		}
	}()
	ast := parse(expr)
	k := &checker{src: expr, fields: map[string]int{}, valued: map[string]bool{}}
	root := k.expr(ast)
	f = &Filter{expr: expr, root: root.fn, tree: root, names: k.names, want: k.fields}
	f.pool.New = func() any { return &context{vals: make([][]dissect.Value, len(f.names))} }
	f.keep = keepLayers(k.names)
	f.fast = make([]fastGetter, len(k.names))
	for i, name := range k.names {
		g, ok := fastFields[name]
		if name == "frame.number" {
			g, ok = func(h *dissect.Headers, dst []dissect.Value) []dissect.Value { return dst }, true
		}
		if !ok || k.valued[name] {
			f.fast = nil
			break
		}
		f.fast[i] = g
	}
	f.frame = make([]frameGetter, len(k.names))
	for i, name := range k.names {
		g, ok := frameFields[name]
		if !ok || k.valued[name] {
			f.frame = nil
			break
		}
		f.frame[i] = g
	}
	f.alias = map[string][]int{}
	for name, slot := range k.fields {
		if fd, ok := dissect.LookupField(name); ok {
			for _, a := range fd.Alias {
				f.alias[a] = append(f.alias[a], slot)
			}
		}
	}
	return f, nil
}

// String returns the expression the filter was compiled from.
func (f *Filter) String() string { return f.expr }

// Fields returns the names of the fields and protocols the filter reads,
// in the order they first appear.
func (f *Filter) Fields() []string { return append([]string(nil), f.names...) }

// Match reports whether the packet passes the filter. The packet is
// decoded only as far as the filter's fields need: a filter that reads
// only the frame's own fields (frame.len, frame.cap_len, frame.number)
// decodes nothing; one that reads only common header fields (addresses,
// ports, lengths, flags of Ethernet, IP, TCP and UDP) reads them without a
// tree where the packet allows; any other reads its fields from a tree of
// the layers that carry them ([dissect.Options.DissectLayers]).
func (f *Filter) Match(p Packet) bool {
	if f.frame != nil {
		c := f.pool.Get().(*context)
		for i, g := range f.frame {
			c.vals[i] = g(&p, c.vals[i][:0])
		}
		ok := f.root(c)
		f.pool.Put(c)
		return ok
	}
	if f.fast != nil {
		c := f.pool.Get().(*context)
		if dissect.Quick(p.LinkType, p.Data, p.Length, &c.hdr) {
			for i, g := range f.fast {
				c.vals[i] = g(&c.hdr, c.vals[i][:0])
			}
			if slot, ok := f.want["frame.number"]; ok {
				c.vals[slot] = append(c.vals[slot], dissect.Value{Type: dissect.TypeUint32, N: uint64(p.Number)})
			}
			ok := f.root(c)
			for i := range c.vals {
				clear(c.vals[i]) // let the packet's bytes go
			}
			f.pool.Put(c)
			return ok
		}
		f.pool.Put(c)
	}
	tree := dissect.Options{Stream: p.Stream, Reassembled: p.Reassembled}.DissectLayers(p.LinkType, p.Data, p.Length, f.keep)
	return f.MatchTree(tree, p.Number)
}

// keepLayers returns the layers under which the named fields (and the
// fields they alias) are found, or nil when one may be under any layer or
// needs them all (frame.protocols).
func keepLayers(names []string) []string {
	var keep []string
	add := func(name string) bool {
		fd, ok := dissect.LookupField(name)
		if !ok || name == "frame.protocols" {
			return false
		}
		cs := fd.Carriers()
		if cs == nil {
			return false
		}
		for _, c := range cs {
			if !slices.Contains(keep, c) {
				keep = append(keep, c)
			}
		}
		return true
	}
	for _, name := range names {
		if !add(name) {
			return nil
		}
		fd, _ := dissect.LookupField(name)
		for _, a := range fd.Alias {
			if !add(a) {
				return nil
			}
		}
	}
	if keep == nil {
		return nil // no field at all: nothing to decode, but the whole tree is exact
	}
	return keep
}

// Fast reports whether the filter reads only fields the fast path has.
func (f *Filter) Fast() bool { return f.fast != nil }

// MatchTree reports whether a packet already dissected into tree, number
// in its capture, passes the filter.
func (f *Filter) MatchTree(tree *dissect.Tree, number int) bool {
	c := f.pool.Get().(*context)
	for i := range c.vals {
		c.vals[i] = c.vals[i][:0]
	}
	collect(tree, number, f.want, f.alias, c.vals)
	ok := f.root(c)
	for i := range c.vals {
		clear(c.vals[i]) // let the tree go
	}
	f.pool.Put(c)
	return ok
}

// collect gathers into vals[slot] the values of the wanted fields found
// in the tree, aliases in tree order (ip.addr: each ip.src, then its
// ip.dst), and frame.number.
func collect(tree *dissect.Tree, number int, want map[string]int, alias map[string][]int, vals [][]dissect.Value) {
	if slot, ok := want["frame.number"]; ok {
		vals[slot] = append(vals[slot], dissect.Value{Type: dissect.TypeUint32, N: uint64(number)})
	}
	tree.Walk(func(n *dissect.Node, _ int) bool {
		if n.Field == "" {
			return true
		}
		if slot, ok := want[n.Field]; ok {
			vals[slot] = append(vals[slot], n.Value)
		}
		for _, slot := range alias[n.Field] {
			vals[slot] = append(vals[slot], n.Value)
		}
		return true
	})
}

// FieldValues returns, for each name (a field, protocol or alias of the
// registry), its values in a dissected packet, numbered number, in tree
// order, as tshark's -T fields -e prints them. Unknown names have none.
func FieldValues(tree *dissect.Tree, number int, names []string) [][]dissect.Value {
	want := map[string]int{}
	alias := map[string][]int{}
	for i, n := range names {
		want[n] = i
		if fd, ok := dissect.LookupField(n); ok {
			for _, a := range fd.Alias {
				alias[a] = append(alias[a], i)
			}
		}
	}
	vals := make([][]dissect.Value, len(names))
	collect(tree, number, want, alias, vals)
	for i, n := range names { // a name given twice
		if want[n] != i {
			vals[i] = vals[want[n]]
		}
	}
	return vals
}
