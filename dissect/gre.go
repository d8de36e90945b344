package dissect

// gre decodes a GRE header (RFC 2784/2890, and PPTP's enhanced GRE) and its
// payload.
func (d *decoder) gre(off, end int) {
	d.setProto("GRE")
	if end-off < 4 || !d.has(off, 4) {
		d.short(d.layer("gre", "Generic Routing Encapsulation", off, end-off), "GRE", off)
		return
	}
	fv, proto := d.be16(off), d.be16(off+2)
	ver := fv & 7
	hlen := 4
	if fv&0xc000 != 0 { // checksum or routing present: checksum + offset
		hlen += 4
	}
	if fv&0x2000 != 0 {
		hlen += 4
	}
	if fv&0x1000 != 0 {
		hlen += 4
	}
	if ver == 1 && fv&0x0080 != 0 { // acknowledgment number
		hlen += 4
	}
	var n *Node
	d.seen.add("gre") // a layer, even without a tree
	if d.grow("gre") {
		n = d.layer("gre", "Generic Routing Encapsulation ("+etherTypeNameOr(proto)+")", off, hlen)
	}
	fl := d.fHex(n, "gre.flags_and_version", "Flags and Version", off, 2, uint64(fv), 4)
	d.fBool(fl, "gre.flags.checksum", "Checksum Bit", off, 2, fv&0x8000 != 0)
	d.fBool(fl, "gre.flags.key", "Key Bit", off, 2, fv&0x2000 != 0)
	d.fBool(fl, "gre.flags.sequence_number", "Sequence Number Bit", off, 2, fv&0x1000 != 0)
	d.fUint(fl, "gre.flags.version", "Version", off, 2, uint64(ver))
	d.fHexName(n, "gre.proto", "Protocol Type", off+2, 2, uint64(proto), 4, etherTypeName(proto))
	if end-off < hlen || !d.has(off, hlen) {
		d.short(n, "GRE", off+4)
		return
	}
	o := off + 4
	if fv&0xc000 != 0 {
		d.fHex(n, "gre.checksum", "Checksum", o, 2, uint64(d.be16(o)), 4)
		d.fUint(n, "gre.offset", "Offset", o+2, 2, uint64(d.be16(o+2)))
		o += 4
	}
	if fv&0x2000 != 0 {
		if ver == 1 {
			d.fUint(n, "gre.key.payload_length", "Payload Length", o, 2, uint64(d.be16(o)))
			d.fUint(n, "gre.key.call_id", "Call ID", o+2, 2, uint64(d.be16(o+2)))
		} else {
			d.fHex(n, "gre.key", "Key", o, 4, uint64(d.be32(o)), 8)
		}
		o += 4
	}
	if fv&0x1000 != 0 {
		d.fUint(n, "gre.sequence_number", "Sequence Number", o, 4, uint64(d.be32(o)))
		o += 4
	}
	if ver == 1 && fv&0x0080 != 0 {
		d.fUint(n, "gre.ack_number", "Acknowledgment Number", o, 4, uint64(d.be32(o)))
		o += 4
	}
	if d.infoReset() {
		d.is("Encapsulated ")
		d.is(etherTypeNameOr(proto))
	}
	if o >= end {
		return
	}
	if proto == 0x88be || proto == 0x22eb {
		if d.deeper(o) {
			d.erspan(proto, fv&0x1000 != 0, o, end)
			d.shallower()
		}
		return
	}
	if proto == 0x883e { // WCCP: a 4-byte redirect header unless an IPv4 header follows at once
		if d.u8(o)&0xf0 != 0x40 && d.has(o, 4) {
			d.add(n, "gre.wccp.redirect_header", "Redirect Header", o, 4)
			d.setLength(n, o+4)
			o += 4
		}
		d.ipv4(o, end)
		return
	}
	if proto == 0x8909 {
		if d.deeper(o) {
			d.cmdGRE(o, end)
			d.shallower()
		}
		return
	}
	d.etherPayload(proto, o, end)
}

// erspan decodes an ERSPAN header (type I: none, type II: 8 bytes, type
// III: 12, plus 8 with the platform sub-header) and the mirrored frame.
func (d *decoder) erspan(proto uint16, seq bool, off, end int) {
	typ, hlen := 1, 0
	switch {
	case proto == 0x22eb:
		typ, hlen = 3, 12
	case seq:
		typ, hlen = 2, 8
	}
	title := "Encapsulated Remote Switch Packet ANalysis Type " + [...]string{"", "I", "II", "III"}[typ]
	n := d.layer("erspan", title, off, end-off)
	if typ == 1 {
		d.setLength(n, off)
		d.eth(off, end)
		return
	}
	if end-off < hlen || !d.has(off, hlen) {
		d.setProto("ERSPAN")
		d.short(n, "ERSPAN", off)
		return
	}
	w0, w1 := d.be16(off), d.be16(off+2)
	if n != nil {
		d.fUint(n, "erspan.version", "Version", off, 2, uint64(w0>>12))
		d.fUint(n, "erspan.vlan", "Vlan", off, 2, uint64(w0&0xfff))
		d.fUint(n, "erspan.cos", "COS", off+2, 2, uint64(w1>>13))
		if typ == 2 {
			d.fUint(n, "erspan.encap", "Encap", off+2, 2, uint64(w1>>11&3))
		} else {
			d.fUint(n, "erspan.bso", "Bad/Short/Oversized", off+2, 2, uint64(w1>>11&3))
		}
		d.fUint(n, "erspan.truncated", "Truncated", off+2, 2, uint64(w1>>10&1))
		d.fUint(n, "erspan.spanid", "SpanID", off+2, 2, uint64(w1&0x3ff))
		if typ == 2 {
			d.fUint(n, "erspan.reserved", "Reserved", off+4, 4, uint64(d.be32(off+4)>>20))
			d.fUint(n, "erspan.index", "Index", off+4, 4, uint64(d.be32(off+4)&0xfffff))
		} else {
			w := d.be16(off + 10)
			d.fUint(n, "erspan.timestamp", "Timestamp", off+4, 4, uint64(d.be32(off+4)))
			d.fUint(n, "erspan.sgt", "Security Group Tag", off+8, 2, uint64(d.be16(off+8)))
			d.fUint(n, "erspan.p", "Has Ethernet PDU", off+10, 2, uint64(w>>15))
			d.fUint(n, "erspan.ft", "Frame Type", off+10, 2, uint64(w>>10&0x1f))
			d.fUint(n, "erspan.hw", "Hardware ID", off+10, 2, uint64(w>>4&0x3f))
			d.fUint(n, "erspan.direction", "Direction", off+10, 2, uint64(w>>3&1))
			d.fUint(n, "erspan.gra", "Timestamp granularity", off+10, 2, uint64(w>>1&3))
			d.fUint(n, "erspan.o", "Optional Sub headers", off+10, 2, uint64(w&1))
		}
	}
	if typ == 3 && d.be16(off+10)&1 == 1 {
		hlen += 8
	}
	if typ == 3 && d.be16(off+10)>>10&0x1f != 0 {
		d.setProto("ERSPAN")
		d.data2(off+hlen, end) // not an Ethernet frame
		return
	}
	if off+hlen >= end {
		d.setProto("ERSPAN")
		if d.infoReset() {
			d.is(title)
			d.is(", no mirrored frame")
		}
		return
	}
	d.eth(off+hlen, end)
}

func etherTypeNameOr(t uint16) string {
	if n := etherTypeName(t); n != "" {
		return n
	}
	return string(appendHex(nil, uint64(t), 4))
}

// vxlan decodes a VXLAN header and the Ethernet frame it carries.
func (d *decoder) vxlan(off, end int) {
	d.setProto("VXLAN")
	if end-off < 8 || !d.has(off, 8) {
		d.short(d.layer("vxlan", "Virtual eXtensible Local Area Network", off, end-off), "VXLAN", off)
		return
	}
	n := d.layer("vxlan", "Virtual eXtensible Local Area Network", off, 8)
	d.fHex(n, "vxlan.flags", "Flags", off, 2, uint64(d.be16(off)), 4)
	d.fUint(n, "vxlan.vni", "VXLAN Network Identifier (VNI)", off+4, 3, uint64(d.be24(off+4)))
	if d.infoReset() {
		d.is("VXLAN VNI ")
		d.iu(uint64(d.be24(off + 4)))
	}
	if !d.deeper(off) {
		return
	}
	d.eth(off+8, end)
	d.shallower()
}

// geneve decodes a Geneve header, its options and the packet it carries.
func (d *decoder) geneve(off, end int) {
	d.setProto("Geneve")
	if end-off < 8 || !d.has(off, 8) {
		d.short(d.layer("geneve", "Generic Network Virtualization Encapsulation", off, end-off), "Geneve", off)
		return
	}
	vo, flags, proto, vni := d.u8(off), d.u8(off+1), d.be16(off+2), d.be24(off+4)
	optLen := int(vo&0x3f) * 4
	var n *Node
	d.seen.add("geneve") // a layer, even without a tree
	if d.grow("geneve") {
		n = d.layer("geneve", "Generic Network Virtualization Encapsulation, VNI: "+string(appendHex(nil, uint64(vni), 6))+", "+etherTypeNameOr(proto), off, 8+optLen)
	}
	d.fUint(n, "geneve.version", "Version", off, 1, uint64(vo>>6))
	// Wireshark names the header's options length like an option's.
	d.fUint(n, "geneve.option.length", "Options Length", off, 1, uint64(optLen))
	d.fHex(n, "geneve.flags", "Flags", off+1, 1, uint64(flags), 2)
	d.fHexName(n, "geneve.proto_type", "Protocol Type", off+2, 2, uint64(proto), 4, etherTypeName(proto))
	d.fHex(n, "geneve.vni", "Virtual Network Identifier (VNI)", off+4, 3, uint64(vni), 6)
	if optLen > 0 {
		opts := d.add(n, "geneve.options", "Options", off+8, optLen)
		o, oend := off+8, off+8+optLen
		for i := 0; o+4 <= oend && i < maxItems; i++ {
			ol := 4 + int(d.u8(o+3)&0x1f)*4
			op := d.add(opts, "geneve.option", "Option", o, ol)
			d.fHex(op, "geneve.option.class", "Class", o, 2, uint64(d.be16(o)), 4)
			d.fHex(op, "geneve.option.type", "Type", o+2, 1, uint64(d.u8(o+2)), 2)
			d.fUint(op, "geneve.option.length", "Length", o+3, 1, uint64(ol))
			o += ol
		}
	}
	if d.infoReset() {
		d.is("Encapsulated ")
		d.is(etherTypeNameOr(proto))
	}
	if end-off < 8+optLen || !d.has(off, 8+optLen) {
		d.short(n, "Geneve", off+8)
		return
	}
	if !d.deeper(off) {
		return
	}
	defer d.shallower()
	if proto == 0x6558 {
		d.eth(off+8+optLen, end)
		return
	}
	d.etherPayload(proto, off+8+optLen, end)
}
