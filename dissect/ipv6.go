package dissect

import "strconv"

// ipv6 decodes an IPv6 header at off and its payload, returning the end of
// the packet as its payload length gives it.
func (d *decoder) ipv6(off, end int) int {
	if end-off < 40 || !d.has(off, 40) {
		n := d.layer("ipv6", "Internet Protocol Version 6", off, end-off)
		d.setProto("IPv6")
		if d.infoReset() {
			d.is("Invalid IPv6 header (")
			d.iu(uint64(min(end, len(d.data)) - off))
			d.is(" bytes, need exactly 40)")
		}
		d.short(n, "IPv6", off)
		return end
	}
	w := d.be32(off)
	ver := int(w >> 28)
	plen := int(d.be16(off + 4))
	nxt, hlim := d.u8(off+6), d.u8(off+7)
	var n *Node
	d.seen.add("ipv6") // a layer, even without a tree
	if ver != 6 {
		// As Wireshark: the header's version only, and its bytes as data.
		n = d.layer("ipv6", "Internet Protocol Version 6", off, 40)
		d.fUint(n, "ipv6.version", "Version", off, 1, uint64(ver))
		d.fUint(n, "ip.version", "Version", off, 1, uint64(ver))
		d.setProto("IPv6")
		d.malformed(n, "IPv6", "bogus IP version ("+strconv.Itoa(ver)+")", off)
		d.data2(off, end)
		return end
	}
	if d.grow("ipv6") {
		n = d.layer("ipv6", "Internet Protocol Version 6, Src: "+string(appendIPv6(nil, d.bytes(off+8, 16)))+", Dst: "+string(appendIPv6(nil, d.bytes(off+24, 16))), off, 40)
		d.fUint(n, "ipv6.version", "Version", off, 1, uint64(ver))
		d.fUint(n, "ip.version", "Version", off, 1, uint64(ver)) // as Wireshark, for filters on either version
		d.fHex(n, "ipv6.tclass", "Traffic Class", off, 4, uint64(w>>20&0xff), 2)
		d.fHex(n, "ipv6.flow", "Flow Label", off+1, 3, uint64(w&0xfffff), 5)
		d.fUint(n, "ipv6.plen", "Payload Length", off+4, 2, uint64(plen))
		d.fUintName(n, "ipv6.nxt", "Next Header", off+6, 1, uint64(nxt), ipProtoName(nxt))
		d.fUint(n, "ipv6.hlim", "Hop Limit", off+7, 1, uint64(hlim))
		d.fIPv6(n, "ipv6.src", "Source Address", off+8)
		d.fIPv6(n, "ipv6.dst", "Destination Address", off+24)
	}
	d.setProto("IPv6")
	d.setAddrs(addrIPv6, off+8, off+24, 16)
	d.ttl = int(hlim)
	d.ipSrc, d.ipDst = d.data[off+8:off+24], d.data[off+24:off+40]
	d.ipFrag = false
	pend := off + 40 + plen
	if plen == 0 { // jumbogram (hop-by-hop jumbo payload) or TSO
		pend = end
	}
	if pend > end {
		pend = end
	}
	if d.infoReset() {
		d.is("IPv6 next header ")
		d.iu(uint64(nxt))
	}
	d.extParent = n
	if n == nil && d.tree {
		d.extParent = &prunedIPv6 // a tree without the IPv6 layer (DissectLayers)
	}
	d.ipEnd = off + 40 + plen
	if plen == 0 || d.ipEnd > d.wire {
		d.ipEnd = d.wire
	}
	d.setProtoEnd(n, d.ipEnd)
	d.ipPayload(nxt, off+40, pend)
	return pend
}

// extLayer adds an extension header's node: under the IPv6 layer it
// extends, or as a layer of its own (AH in IPv4).
func (d *decoder) extLayer(field, title string, off, n int) *Node {
	if d.extParent == &prunedIPv6 {
		// A layer of the tree instead, with the value it would have
		// under the IPv6 layer: its own bytes.
		nd := d.layer(field, title, off, n)
		if nd != nil {
			nd.Value = Value{}
		}
		return nd
	}
	if d.extParent != nil {
		nd := d.add(d.extParent, field, title, off, n)
		if nd != nil { // a protocol of its own, as frame.protocols lists it
			nd.Value = Value{Type: TypeProtocol, B: d.bytes(off, n)}
		}
		return nd
	}
	return d.layer(field, title, off, n)
}

// prunedIPv6 stands as extParent for an IPv6 layer a tree leaves out:
// nothing is ever added to it.
var prunedIPv6 Node

// ipv6Ext decodes an IPv6 extension header (hop-by-hop, routing, fragment,
// destination options) at off and what follows it.
func (d *decoder) ipv6Ext(typ uint8, off, end int) {
	var field, title string
	switch typ {
	case 0:
		field, title = "ipv6.hopopts", "IPv6 Hop-by-Hop Option"
	case 43:
		field, title = "ipv6.routing", "Routing Header for IPv6"
	case 44:
		field, title = "ipv6.fraghdr", "Fragment Header for IPv6"
	default:
		field, title = "ipv6.dstopts", "Destination Options for IPv6"
	}
	if end-off < 8 || !d.has(off, 8) {
		n := d.extLayer(field, title, off, end-off)
		d.short(n, title, off)
		return
	}
	nxt := d.u8(off)
	hlen := 8
	if typ != 44 {
		hlen = (int(d.u8(off+1)) + 1) * 8
	}
	n := d.extLayer(field, title, off, hlen)
	d.fUintName(n, field+".nxt", "Next Header", off, 1, uint64(nxt), ipProtoName(nxt))
	if typ == 44 {
		fo := d.be16(off + 2)
		d.fUint(n, "ipv6.fraghdr.offset", "Offset", off+2, 2, uint64(fo>>3))
		d.fBool(n, "ipv6.fraghdr.more", "More Fragments", off+2, 2, fo&1 != 0)
		d.fHex(n, "ipv6.fraghdr.ident", "Identification", off+4, 4, uint64(d.be32(off+4)), 8)
		d.ipFrag = true
		asFragment := fo>>3 != 0
		if fo>>3 != 0 || fo&1 != 0 { // not an atomic fragment (RFC 6946)
			parent := d.extParent
			if parent == nil || parent == &prunedIPv6 {
				parent = n
			}
			taken, done := d.fragment(parent, true, d.ipSrc, d.ipDst, d.be32(off+4), nxt, int(fo>>3)*8, fo&1 != 0, off+8, d.ipEnd-off-8)
			if done {
				return
			}
			asFragment = asFragment || taken // shown as a fragment, even the first
		}
		if asFragment {
			pl := end - off - 8
			if pl > 0 {
				d.data2(off+8, off+8+pl)
			}
			if d.infoReset() {
				d.is("IPv6 fragment (off=")
				d.iu(uint64(fo>>3) * 8)
				d.is(" more=")
				if fo&1 != 0 {
					d.is("y")
				} else {
					d.is("n")
				}
				d.is(" ident=")
				d.ihex(uint64(d.be32(off+4)), 8)
				d.is(" nxt=")
				d.iu(uint64(nxt))
				d.is(")")
			}
			return
		}
		d.ipPayload(nxt, off+8, end)
		return
	}
	d.fUint(n, field+".len", "Length", off+1, 1, uint64(d.u8(off+1)))
	if typ == 43 {
		d.fUint(n, "ipv6.routing.type", "Type", off+2, 1, uint64(d.u8(off+2)))
		d.fUint(n, "ipv6.routing.segleft", "Segments Left", off+3, 1, uint64(d.u8(off+3)))
	} else if n != nil {
		d.ipv6Options(n, off+2, off+hlen)
	}
	if off+hlen > end || !d.has(off, hlen) {
		d.short(n, title, off)
		return
	}
	if typ == 43 {
		d.finalDestination(off, hlen)
	}
	d.ipPayload(nxt, off+hlen, end)
}

// finalDestination makes the last address of the routing header at off
// (hlen bytes, all captured) the destination of the transport checksums'
// pseudo-header while segments are left to visit, as RFC 8200 8.1 and
// Wireshark have it: the packet's Destination Address is only the next hop.
func (d *decoder) finalDestination(off, hlen int) {
	if d.u8(off+3) == 0 || hlen < 24 {
		return
	}
	a := 0
	switch d.u8(off + 2) {
	case 0, 2: // source route, mobile IPv6: the addresses follow 4 reserved bytes, the final one last
		a = off + 8 + (hlen-8)/16*16 - 16
	case 4: // segment routing: the segment list is in reverse order, the final one first
		a = off + 8
	default:
		return
	}
	d.ipDst = d.data[a : a+16]
}

// ipv6Options shows the TLV options of a hop-by-hop or destination
// options header in [off, end).
func (d *decoder) ipv6Options(n *Node, off, end int) {
	if end > len(d.data) {
		end = len(d.data)
	}
	for i := 0; off < end && i < maxItems; i++ {
		t := d.u8(off)
		if t == 0 {
			d.add(n, "ipv6.opt", "Pad1", off, 1)
			off++
			continue
		}
		l := int(d.u8(off+1)) + 2
		if off+l > end {
			d.malformed(n, "IPv6", "option length impossible", off)
			return
		}
		name := "Option " + strconv.Itoa(int(t))
		switch t {
		case 1:
			name = "PadN"
		case 5:
			name = "Router Alert"
		case 0xc2:
			name = "Jumbo Payload"
		case 4:
			name = "Tunnel Encapsulation Limit"
		}
		d.add(n, "ipv6.opt", name, off, l)
		off += l
	}
}

// ah decodes an IP Authentication Header and what it protects.
func (d *decoder) ah(off, end int) {
	if end-off < 12 || !d.has(off, 12) {
		n := d.extLayer("ah", "Authentication Header", off, end-off)
		d.setProto("AH")
		d.short(n, "AH", off)
		return
	}
	nxt := d.u8(off)
	hlen := (int(d.u8(off+1)) + 2) * 4
	spi, seq := d.be32(off+4), d.be32(off+8)
	n := d.extLayer("ah", "Authentication Header", off, hlen)
	d.fUintName(n, "ah.next_header", "Next header", off, 1, uint64(nxt), ipProtoName(nxt))
	d.fUint(n, "ah.length", "Length", off+1, 1, uint64(d.u8(off+1)))
	d.fHex(n, "ah.spi", "AH SPI", off+4, 4, uint64(spi), 8)
	d.fUint(n, "ah.sequence", "AH Sequence", off+8, 4, uint64(seq))
	if hlen > 12 {
		d.fBytes(n, "ah.icv", "AH ICV", off+12, hlen-12)
	}
	d.setProto("AH")
	if d.infoReset() {
		d.is("AH (SPI=")
		d.ihex(uint64(spi), 8)
		d.is(")")
	}
	if hlen < 12 || off+hlen > end {
		d.malformed(n, "AH", "header length impossible", off+1)
		return
	}
	d.ipPayload(nxt, off+hlen, end)
}

// esp decodes the clear part of an ESP header.
func (d *decoder) esp(off, end int) {
	n := d.layer("esp", "Encapsulating Security Payload", off, end-off)
	d.setProto("ESP")
	if end-off < 8 || !d.has(off, 8) {
		d.short(n, "ESP", off)
		return
	}
	spi, seq := d.be32(off), d.be32(off+4)
	d.fHex(n, "esp.spi", "ESP SPI", off, 4, uint64(spi), 8)
	d.fUint(n, "esp.sequence", "ESP Sequence", off+4, 4, uint64(seq))
	if d.infoReset() {
		d.is("ESP (SPI=")
		d.ihex(uint64(spi), 8)
		d.is(")")
	}
}
