package dissect

import (
	"strconv"
)

// clampRange limits the range [off, off+n) to the captured bytes.
func (d *decoder) clampRange(off, n int) (int, int) {
	if off < 0 {
		n += off
		off = 0
	}
	if off > len(d.data) {
		off = len(d.data)
	}
	if n > len(d.data)-off {
		n = len(d.data) - off
	}
	if n < 0 {
		n = 0
	}
	return off, n
}

func (d *decoder) newNode(field, label string, off, n int) *Node {
	if !d.tree || d.nodes >= maxNodes {
		return nil
	}
	d.nodes++
	off, n = d.clampRange(off, n)
	return &Node{Label: label, Field: field, Offset: off, Length: n}
}

// layer adds a protocol layer node: at the top of the tree, or under the
// quoting layer while a quoted packet is decoded. It returns nil when no
// tree is being built; every field helper accepts a nil parent.
func (d *decoder) layer(field, label string, off, n int) *Node {
	nd := d.newNode(field, label, off, n)
	if nd == nil {
		return nil
	}
	if d.layerParent != nil {
		d.layerParent.Children = append(d.layerParent.Children, nd)
	} else {
		d.layers = append(d.layers, nd)
	}
	return nd
}

// add adds a child node with a ready label under p.
func (d *decoder) add(p *Node, field, label string, off, n int) *Node {
	if p == nil {
		return nil
	}
	nd := d.newNode(field, label, off, n)
	if nd != nil {
		p.Children = append(p.Children, nd)
	}
	return nd
}

// setLength sets a layer's length once its end is known.
func (d *decoder) setLength(nd *Node, end int) {
	if nd == nil {
		return
	}
	_, nd.Length = d.clampRange(nd.Offset, end-nd.Offset)
}

// fUint adds "name: v".
func (d *decoder) fUint(p *Node, field, name string, off, n int, v uint64) *Node {
	if p == nil {
		return nil
	}
	return d.add(p, field, name+": "+strconv.FormatUint(v, 10), off, n)
}

// fHex adds "name: 0x00ab" with digits hex digits.
func (d *decoder) fHex(p *Node, field, name string, off, n int, v uint64, digits int) *Node {
	if p == nil {
		return nil
	}
	return d.add(p, field, name+": "+string(appendHex(nil, v, digits)), off, n)
}

// fHexName adds "name: described (0x00ab)".
func (d *decoder) fHexName(p *Node, field, name string, off, n int, v uint64, digits int, described string) *Node {
	if p == nil {
		return nil
	}
	if described == "" {
		described = "Unknown"
	}
	return d.add(p, field, name+": "+described+" ("+string(appendHex(nil, v, digits))+")", off, n)
}

// fUintName adds "name: described (v)".
func (d *decoder) fUintName(p *Node, field, name string, off, n int, v uint64, described string) *Node {
	if p == nil {
		return nil
	}
	if described == "" {
		described = "Unknown"
	}
	return d.add(p, field, name+": "+described+" ("+strconv.FormatUint(v, 10)+")", off, n)
}

// fStr adds "name: s".
func (d *decoder) fStr(p *Node, field, name string, off, n int, s string) *Node {
	if p == nil {
		return nil
	}
	return d.add(p, field, name+": "+s, off, n)
}

// fBool adds "name: Set" or "name: Not set".
func (d *decoder) fBool(p *Node, field, name string, off, n int, set bool) *Node {
	if p == nil {
		return nil
	}
	if set {
		return d.add(p, field, name+": Set", off, n)
	}
	return d.add(p, field, name+": Not set", off, n)
}

// fIPv4 adds "name: a.b.c.d" read at off.
func (d *decoder) fIPv4(p *Node, field, name string, off int) *Node {
	if p == nil || !d.has(off, 4) {
		return nil
	}
	return d.add(p, field, name+": "+string(appendIPv4(nil, d.data[off:off+4])), off, 4)
}

// fIPv6 adds "name: ipv6" read at off.
func (d *decoder) fIPv6(p *Node, field, name string, off int) *Node {
	if p == nil || !d.has(off, 16) {
		return nil
	}
	return d.add(p, field, name+": "+string(appendIPv6(nil, d.data[off:off+16])), off, 16)
}

// fMAC adds "name: xx:xx:xx:xx:xx:xx" read at off.
func (d *decoder) fMAC(p *Node, field, name string, off int) *Node {
	if p == nil || !d.has(off, 6) {
		return nil
	}
	return d.add(p, field, name+": "+string(appendMAC(nil, d.data[off:off+6])), off, 6)
}

// fBytes adds "name: hex…" for n bytes at off (the label shows at most 32).
func (d *decoder) fBytes(p *Node, field, name string, off, n int) *Node {
	if p == nil {
		return nil
	}
	b := d.bytes(off, n)
	label := name + ": "
	if len(b) > 32 {
		label += string(appendHexBytes(nil, b[:32])) + "…"
	} else {
		label += string(appendHexBytes(nil, b))
	}
	return d.add(p, field, label, off, n)
}

// fText adds "name: text" for n bytes of text at off, quoted safely.
func (d *decoder) fText(p *Node, field, name string, off, n int) *Node {
	if p == nil {
		return nil
	}
	return d.add(p, field, name+": "+string(appendPrintable(nil, d.bytes(off, n), 200)), off, n)
}
