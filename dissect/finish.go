package dissect

import "math/bits"

// finish gives every node of the tree its registered type: a value set by
// a decoder is converted to the field's type, and a field whose decoder set
// no value takes it from the bytes it covers, as Wireshark's
// proto_tree_add_item does (big-endian, under the field's bitmask).
func (t *Tree) finish(data []byte) {
	t.addProtocols()
	t.finishValues(data)
}

// finishValues gives every node its registered type, as finish does.
func (t *Tree) finishValues(data []byte) {
	t.Walk(func(n *Node, _ int) bool {
		finishValue(n, t.SourceData(n, data))
		return true
	})
}

func finishValue(n *Node, data []byte) {
	f, ok := LookupField(n.Field)
	if n.Field == "" || !ok || f.Type == TypeNone {
		n.Value = Value{}
		return
	}
	raw := data[n.Offset : n.Offset+n.Length] // newNode clamped the range
	v := n.Value
	switch t := f.Type; {
	case t == TypeProtocol:
		if v.Type != TypeProtocol {
			v = Value{B: raw}
		}
	case t == TypeBool || t.IsUint() || t.IsInt():
		if v.Type != TypeUint64 && v.Type != TypeBool {
			v = Value{N: fromBytes(raw, t.Bits(), f.Mask)}
		}
		switch {
		case t == TypeBool:
			if v.N != 0 {
				v.N = 1
			}
		case t.IsInt():
			v.N = uint64(int64(v.N<<(64-t.Bits())) >> (64 - t.Bits()))
		case t.Bits() < 64:
			v.N &= 1<<t.Bits() - 1
		}
	case t == TypeString:
		switch v.Type {
		case TypeString:
		case TypeUint64:
			v = Value{S: string(appendUint(nil, v.N))}
		case TypeNone:
			v = Value{S: string(raw)}
		default:
			v = Value{S: string(v.B)}
		}
	case t == TypeTime || t == TypeRelTime:
		v = Value{N: v.N}
	default: // bytes and addresses
		if !v.Type.IsBytesLike() || v.Type == TypeString {
			v = Value{B: raw}
		}
	}
	v.Type = f.Type
	n.Value = v
}

// fromBytes reads an integer of width bits from the start of b,
// big-endian, and applies mask (shifted down to bit 0) when it is not 0.
func fromBytes(b []byte, width int, mask uint64) uint64 {
	nb := (width + 7) / 8
	if width == 1 { // a boolean: the mask says how wide its word is
		nb = (bits.Len64(mask) + 7) / 8
		if nb == 0 {
			nb = 1
		}
	}
	if nb > len(b) {
		nb = len(b)
	}
	var v uint64
	for _, c := range b[:nb] {
		v = v<<8 | uint64(c)
	}
	if mask != 0 {
		v = (v & mask) >> bits.TrailingZeros64(mask)
	}
	return v
}

// addProtocols adds frame.protocols, the layers' names joined by ':' as
// Wireshark writes them ("eth:ethertype:ip:tcp"), under the frame layer.
// Layers are the nodes decoders made with layer, whose provisional value
// is a protocol's.
func (t *Tree) addProtocols() {
	if len(t.Layers) == 0 || t.Layers[0].Field != "frame" {
		return
	}
	var names []string
	t.Walk(func(n *Node, _ int) bool {
		if (n.Value.Type == TypeProtocol || n.Field == "data") && n.Field != "frame" && n.Field != "" && n.Field[0] != '_' {
			names = append(names, n.Field)
		}
		return true
	})
	var b []byte
	for i, name := range names {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, name...)
		// Wireshark's EtherType dispatch is a protocol of its own.
		switch name {
		case "eth", "vlan", "ieee8021ad", "sll":
			if i+1 < len(names) && names[i+1] != "llc" {
				b = append(b, ":ethertype"...)
			}
		}
	}
	f := t.Layers[0]
	s := string(b)
	f.Children = append(f.Children, &Node{Field: "frame.protocols", Label: "Protocols in frame: " + s, Value: Value{Type: TypeString, S: s}})
}
