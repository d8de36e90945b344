package dissect

import "strconv"

// Shim headers between a link layer or tunnel and the packet it carries:
// Arista's timestamp (AVSP), Cisco MetaData (CMD), the Network Service
// Header (NSH) and VXLAN-GPE.

// avsp decodes an Arista Vendor Specific Protocol header (EtherType
// 0xd28b): a subtype, and for the timestamp subtype (1) a version saying
// how the timestamp is written (64-bit: 4-byte seconds and nanoseconds;
// 48-bit: 2-byte seconds), then the EtherType of the frame's payload.
// Wireshark stops at a timestamp version it does not know. It returns the
// end of the bytes used.
func (d *decoder) avsp(off, end int) int {
	d.setProto("avsp")
	n := d.layer("avsp", "Arista Vendor Specific Protocol", off, end-off)
	if end-off < 4 || !d.has(off, 4) {
		d.short(n, "AVSP", off)
		return end
	}
	sub, ver := d.be16(off), d.be16(off+2)
	d.fUint(n, "avsp.sub_type", "Sub Type", off, 2, uint64(sub))
	o := off + 2
	if sub == 1 {
		d.fHex(n, "avsp.ver", "Version", off+2, 2, uint64(ver), 4)
		o += 2
		var sec int
		var what string
		switch ver {
		case 0x10, 0x110:
			sec, what = 4, "64"
		case 0x20, 0x120:
			sec, what = 2, "48"
		default:
			return end // an unknown timestamp version: nothing more is decoded
		}
		ts := d.add(n, "avsp."+what+"ts", "Timestamp", off, end-off)
		if !d.has(o, sec+4) {
			d.short(n, "AVSP", o)
			return end
		}
		secs := uint64(d.be16(o))
		if sec == 4 {
			secs = uint64(d.be32(o))
		}
		d.fUint(ts, "avsp."+what+"sec", "Seconds", o, sec, secs)
		d.fUint(ts, "avsp."+what+"ns", "Nanoseconds", o+sec, 4, uint64(d.be32(o+sec)))
		o += sec + 4
		if d.infoReset() {
			d.is(what)
			d.is("bit ")
			if ver&0x100 != 0 {
				d.is("UTC")
			} else {
				d.is("TAI")
			}
			d.is(" timestamp")
		}
	}
	return d.shimPayload(n, "avsp.etype", "avsp.trailer", o, end)
}

// shimPayload decodes the EtherType at off and the payload after it, and
// shows what the payload leaves as the shim's trailer.
func (d *decoder) shimPayload(n *Node, typeField, trailerField string, off, end int) int {
	if !d.has(off, 2) || off+2 > end {
		d.short(n, "EtherType", off)
		return end
	}
	et := d.be16(off)
	d.fHexName(n, typeField, "Type", off, 2, uint64(et), 4, etherTypeName(et))
	used := d.etherPayload(et, off+2, end)
	if used < end {
		d.fBytes(n, trailerField, "Trailer", used, end-used)
	}
	return end
}

// cmd decodes a Cisco MetaData header after its EtherType (0x8909):
// version, length, options, the security group tag, and the EtherType of
// what follows.
func (d *decoder) cmd(off, end int) int {
	d.setProto("CMD")
	n := d.layer("cmd", "Cisco MetaData", off, 6)
	if end-off < 6 || !d.has(off, 6) {
		d.short(n, "CMD", off)
		return end
	}
	d.fUint(n, "cmd.version", "Version", off, 1, uint64(d.u8(off)))
	d.fUint(n, "cmd.length", "Length", off+1, 1, uint64(d.u8(off+1)))
	d.fHex(n, "cmd.options", "Options", off+2, 2, uint64(d.be16(off+2)), 4)
	d.fUint(n, "cmd.sgt", "SGT", off+4, 2, uint64(d.be16(off+4)))
	return d.shimPayload(n, "cmd.type", "cmd.trailer", off+6, end)
}

// cmdGRE decodes Cisco MetaData carried by GRE, where Wireshark reads the
// payload's EtherType first, then the version, length, options and tag.
func (d *decoder) cmdGRE(off, end int) {
	d.setProto("CMD")
	n := d.layer("cmd", "Cisco MetaData", off, 6)
	if end-off < 8 || !d.has(off, 8) {
		d.short(n, "CMD", off)
		return
	}
	et := d.be16(off)
	d.fHexName(n, "cmd.type", "Type", off, 2, uint64(et), 4, etherTypeName(et))
	d.fUint(n, "cmd.version", "Version", off+2, 1, uint64(d.u8(off+2)))
	d.fUint(n, "cmd.length", "Length", off+3, 1, uint64(d.u8(off+3)))
	d.fHex(n, "cmd.options", "Options", off+4, 2, uint64(d.be16(off+4)), 4)
	d.fUint(n, "cmd.sgt", "SGT", off+6, 2, uint64(d.be16(off+6)))
	d.etherPayload(et, off+8, end)
}

// nsh decodes a Network Service Header (RFC 8300): the base header
// (version, O and C bits, TTL, length in 4-byte words, MD type, next
// protocol), the service path header (SPI, SI), the context headers of MD
// type 1 or the metadata TLVs of MD type 2, and the packet that follows.
func (d *decoder) nsh(off, end int) {
	d.setProto("NSH")
	if end-off < 8 || !d.has(off, 8) {
		d.short(d.layer("nsh", "Network Service Header", off, end-off), "NSH", off)
		return
	}
	w := d.be16(off)
	hlen := int(w&0x3f) * 4
	mdType, next := d.u8(off+2), d.u8(off+3)
	n := d.layer("nsh", "Network Service Header", off, hlen)
	d.fUint(n, "nsh.version", "Version", off, 2, uint64(w>>14))
	d.fUint(n, "nsh.Obit", "O Bit", off, 2, uint64(w>>13&1))
	d.fUint(n, "nsh.CBit", "C Bit", off, 2, uint64(w>>12&1))
	d.fHex(n, "nsh.ttl", "Time to live", off, 2, uint64(w>>6&0x3f), 4)
	d.fUint(n, "nsh.length", "Length", off, 2, uint64(w&0x3f))
	d.fUint(n, "nsh.mdtype", "MD Type", off+2, 1, uint64(mdType))
	d.fUint(n, "nsh.nextproto", "Next Protocol", off+3, 1, uint64(next))
	d.fUint(n, "nsh.spi", "SPI", off+4, 3, uint64(d.be24(off+4)))
	d.fUint(n, "nsh.si", "SI", off+7, 1, uint64(d.u8(off+7)))
	if hlen < 8 || off+hlen > end || !d.has(off, hlen) {
		d.malformed(n, "NSH", "length "+strconv.Itoa(hlen)+" out of bounds", off)
		return
	}
	switch mdType {
	case 1:
		for o := off + 8; o+4 <= off+hlen; o += 4 {
			d.fBytes(n, "nsh.contextheader", "Context Header", o, 4)
		}
	case 2:
		for o, i := off+8, 0; o+4 <= off+hlen && i < maxItems; i++ {
			l := int(d.u8(o+3) & 0x7f)
			d.fUint(n, "nsh.metadataclass", "TLV Class", o, 2, uint64(d.be16(o)))
			d.fUint(n, "nsh.metadatatype", "Type", o+2, 1, uint64(d.u8(o+2)))
			d.fHex(n, "nsh.metadataunassignedbit", "Unassigned Bit", o+3, 1, uint64(d.u8(o+3)>>7), 2)
			d.fHex(n, "nsh.metadatalen", "Length", o+3, 1, uint64(l), 2)
			if l > 0 && o+4+l <= off+hlen {
				d.fBytes(n, "nsh.metadata", "Variable Metadata", o+4, l)
			}
			o += 4 + (l+3)&^3
		}
	}
	d.nextProto(next, off+hlen, end)
}

// nextProto decodes what an NSH or VXLAN-GPE next protocol value names:
// IPv4, IPv6, Ethernet, NSH or MPLS.
func (d *decoder) nextProto(p uint8, off, end int) {
	if off >= end || !d.deeper(off) {
		return
	}
	defer d.shallower()
	switch p {
	case 1:
		d.ipv4(off, end)
	case 2:
		d.ipv6(off, end)
	case 3:
		d.eth(off, end)
	case 4:
		d.nsh(off, end)
	case 5:
		d.mpls(off, end)
	default:
		d.data2(off, end)
	}
}

// vxlanGPE decodes a VXLAN Generic Protocol Extension header (UDP port
// 4790): flags, the next protocol, the VNI, and what it carries.
func (d *decoder) vxlanGPE(off, end int) {
	d.setProto("VXLAN")
	if end-off < 8 || !d.has(off, 8) {
		d.short(d.layer("vxlan", "Virtual eXtensible Local Area Network", off, end-off), "VXLAN", off)
		return
	}
	n := d.layer("vxlan", "Virtual eXtensible Local Area Network", off, 8)
	next := d.u8(off + 3)
	d.fHex(n, "vxlan.flags", "Flags", off, 1, uint64(d.u8(off)), 2)
	d.fUint(n, "vxlan.next_proto", "Next Protocol", off+3, 1, uint64(next))
	d.fUint(n, "vxlan.vni", "VXLAN Network Identifier (VNI)", off+4, 3, uint64(d.be24(off+4)))
	if d.infoReset() {
		d.is("VXLAN VNI ")
		d.iu(uint64(d.be24(off + 4)))
	}
	d.nextProto(next, off+8, end)
}
