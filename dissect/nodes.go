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
	return &Node{Label: label, Field: field, Offset: off, Length: n, Source: d.srcBuf}
}

// layer adds a protocol layer node: at the top of the tree, or under the
// quoting layer while a quoted packet is decoded. It returns nil when no
// tree is being built; every field helper accepts a nil parent.
func (d *decoder) layer(field, label string, off, n int) *Node {
	d.seen.add(field)
	if d.keep != nil && !d.grow(field) {
		return nil
	}
	nd := d.newNode(field, label, off, n)
	if nd == nil {
		return nil
	}
	// A protocol's value is its bytes up to the end of what carries it: the
	// IP payload for layers above IP, the captured frame below, as
	// Wireshark's protocol items hold their dissector's buffer.
	end := len(d.data)
	if d.ipEnd > nd.Offset && d.ipEnd < end {
		end = d.ipEnd
	}
	nd.Value = Value{Type: TypeProtocol, B: d.data[nd.Offset:end]}
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

// setProtoEnd ends a protocol layer's value (its bytes) at end, once a
// length field has said where the protocol's buffer ends.
func (d *decoder) setProtoEnd(nd *Node, end int) {
	if nd == nil || end < nd.Offset {
		return
	}
	if end > len(d.data) {
		end = len(d.data)
	}
	nd.Value.B = d.data[nd.Offset:end]
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
	if d.nolabels {
		return setU(d.add(p, field, "", off, n), v)
	}
	return setU(d.add(p, field, name+": "+strconv.FormatUint(v, 10), off, n), v)
}

// fPort adds "name: port", or resolving ports "name: http (80)", for a
// port of proto ("tcp", "udp", "sctp") read at off.
func (d *decoder) fPort(p *Node, field, name, proto string, off int, port uint16) *Node {
	if p == nil {
		return nil
	}
	return setU(d.add(p, field, name+": "+d.portLabel(proto, port), off, 2), uint64(port))
}

// fHex adds "name: 0x00ab" with digits hex digits.
func (d *decoder) fHex(p *Node, field, name string, off, n int, v uint64, digits int) *Node {
	if p == nil {
		return nil
	}
	if d.nolabels {
		return setU(d.add(p, field, "", off, n), v)
	}
	return setU(d.add(p, field, name+": "+string(appendHex(nil, v, digits)), off, n), v)
}

// fHexName adds "name: described (0x00ab)".
func (d *decoder) fHexName(p *Node, field, name string, off, n int, v uint64, digits int, described string) *Node {
	if p == nil {
		return nil
	}
	if d.nolabels {
		return setU(d.add(p, field, "", off, n), v)
	}
	if described == "" {
		described = "Unknown"
	}
	return setU(d.add(p, field, name+": "+described+" ("+string(appendHex(nil, v, digits))+")", off, n), v)
}

// fUintName adds "name: described (v)".
func (d *decoder) fUintName(p *Node, field, name string, off, n int, v uint64, described string) *Node {
	if p == nil {
		return nil
	}
	if d.nolabels {
		return setU(d.add(p, field, "", off, n), v)
	}
	if described == "" {
		described = "Unknown"
	}
	return setU(d.add(p, field, name+": "+described+" ("+strconv.FormatUint(v, 10)+")", off, n), v)
}

// fStr adds "name: s".
func (d *decoder) fStr(p *Node, field, name string, off, n int, s string) *Node {
	if p == nil {
		return nil
	}
	if d.nolabels {
		return setS(d.add(p, field, "", off, n), s)
	}
	return setS(d.add(p, field, name+": "+s, off, n), s)
}

// fBool adds "name: Set" or "name: Not set".
func (d *decoder) fBool(p *Node, field, name string, off, n int, set bool) *Node {
	if p == nil {
		return nil
	}
	if d.nolabels {
		return setBool(d.add(p, field, "", off, n), set)
	}
	if set {
		return setBool(d.add(p, field, name+": Set", off, n), true)
	}
	return setBool(d.add(p, field, name+": Not set", off, n), false)
}

// fIPv4 adds "name: a.b.c.d" read at off.
func (d *decoder) fIPv4(p *Node, field, name string, off int) *Node {
	if p == nil || !d.has(off, 4) {
		return nil
	}
	if d.nolabels {
		return setB(d.add(p, field, "", off, 4), TypeIPv4, d.data[off:off+4])
	}
	return setB(d.add(p, field, name+": "+string(appendIPv4(nil, d.data[off:off+4])), off, 4), TypeIPv4, d.data[off:off+4])
}

// fIPv6 adds "name: ipv6" read at off.
func (d *decoder) fIPv6(p *Node, field, name string, off int) *Node {
	if p == nil || !d.has(off, 16) {
		return nil
	}
	if d.nolabels {
		return setB(d.add(p, field, "", off, 16), TypeIPv6, d.data[off:off+16])
	}
	return setB(d.add(p, field, name+": "+string(appendIPv6(nil, d.data[off:off+16])), off, 16), TypeIPv6, d.data[off:off+16])
}

// fMAC adds "name: xx:xx:xx:xx:xx:xx" read at off.
func (d *decoder) fMAC(p *Node, field, name string, off int) *Node {
	if p == nil || !d.has(off, 6) {
		return nil
	}
	if d.nolabels {
		return setB(d.add(p, field, "", off, 6), TypeEther, d.data[off:off+6])
	}
	return setB(d.add(p, field, name+": "+d.macLabel(d.data[off:off+6]), off, 6), TypeEther, d.data[off:off+6])
}

// fBytes adds "name: hex…" for n bytes at off (the label shows at most 32).
func (d *decoder) fBytes(p *Node, field, name string, off, n int) *Node {
	if p == nil {
		return nil
	}
	b := d.bytes(off, n)
	if d.nolabels {
		return setB(d.add(p, field, "", off, n), TypeBytes, b)
	}
	label := name + ": "
	if len(b) > 32 {
		label += string(appendHexBytes(nil, b[:32])) + "…"
	} else {
		label += string(appendHexBytes(nil, b))
	}
	return setB(d.add(p, field, label, off, n), TypeBytes, b)
}

// fText adds "name: text" for n bytes of text at off, quoted safely.
func (d *decoder) fText(p *Node, field, name string, off, n int) *Node {
	if p == nil {
		return nil
	}
	b := d.bytes(off, n)
	if d.nolabels {
		return setS(d.add(p, field, "", off, n), string(b))
	}
	return setS(d.add(p, field, name+": "+string(appendPrintable(nil, b, 200)), off, n), string(b))
}

// setU gives nd the unsigned integer value v (nd may be nil); the field's
// registered type replaces the provisional one when the tree is finished.
func setU(nd *Node, v uint64) *Node {
	if nd != nil {
		nd.Value = Value{Type: TypeUint64, N: v}
	}
	return nd
}

// setBool gives nd a boolean value.
func setBool(nd *Node, v bool) *Node {
	if nd != nil {
		nd.Value = Value{Type: TypeBool}
		if v {
			nd.Value.N = 1
		}
	}
	return nd
}

// setS gives nd a string value.
func setS(nd *Node, s string) *Node {
	if nd != nil {
		nd.Value = Value{Type: TypeString, S: s}
	}
	return nd
}

// setB gives nd a value of type t held in the bytes b.
func setB(nd *Node, t Type, b []byte) *Node {
	if nd != nil {
		nd.Value = Value{Type: t, B: b}
	}
	return nd
}
