package dissect

import "strconv"

// pppoe decodes a PPPoE discovery (0x8863) or session (0x8864) header.
func (d *decoder) pppoe(et uint16, off, end int) int {
	field, title, proto := "pppoed", "PPP-over-Ethernet Discovery", "PPPoED"
	if et == 0x8864 {
		field, title, proto = "pppoes", "PPP-over-Ethernet Session", "PPPoES"
	}
	d.setProto(proto)
	if end-off < 6 || !d.has(off, 6) {
		n := d.layer(field, title, off, end-off)
		d.short(n, title, off)
		return end
	}
	vt, code, sid, plen := d.u8(off), d.u8(off+1), d.be16(off+2), int(d.be16(off+4))
	pend := off + 6 + plen
	if pend > end {
		pend = end
	}
	n := d.layer(field, title, off, pend-off)
	d.fUint(n, "pppoe.version", "Version", off, 1, uint64(vt>>4))
	d.fUint(n, "pppoe.type", "Type", off, 1, uint64(vt&0xf))
	d.fHexName(n, "pppoe.code", "Code", off+1, 1, uint64(code), 2, pppoeCodeName(code))
	d.fHex(n, "pppoe.session_id", "Session ID", off+2, 2, uint64(sid), 4)
	d.fUint(n, "pppoe.payload_length", "Payload Length", off+4, 2, uint64(plen))
	if et == 0x8863 {
		if d.infoReset() {
			d.is(pppoeCodeName(code))
		}
		d.pppoeTags(n, off+6, pend)
		return pend
	}
	d.setLength(n, off+6)
	d.ppp(off+6, pend)
	return pend
}

func (d *decoder) pppoeTags(n *Node, off, end int) {
	if n == nil {
		return
	}
	tags := d.add(n, "pppoed.tags", "PPPoE Tags", off, end-off)
	for i := 0; off+4 <= end && i < maxItems; i++ {
		t, l := d.be16(off), int(d.be16(off+2))
		if off+4+l > end {
			d.malformed(tags, "PPPoED", "tag length impossible", off)
			return
		}
		tg := d.add(tags, "pppoed.tag", "Tag: "+string(appendHex(nil, uint64(t), 4))+" ("+strconv.Itoa(l)+" bytes)", off, 4+l)
		d.fUint(tg, "pppoed.tag_length", "Tag length", off+2, 2, uint64(l))
		off += 4 + l
	}
}

func pppoeCodeName(c uint8) string {
	switch c {
	case 0x00:
		return "Session Data"
	case 0x07:
		return "Active Discovery Offer (PADO)"
	case 0x09:
		return "Active Discovery Initiation (PADI)"
	case 0x19:
		return "Active Discovery Request (PADR)"
	case 0x65:
		return "Active Discovery Session-confirmation (PADS)"
	case 0xa7:
		return "Active Discovery Terminate (PADT)"
	}
	return "Unknown"
}

// ppp decodes a PPP header (optionally with 0xff 0x03 in front) and its
// payload.
func (d *decoder) ppp(off, end int) int {
	start := off
	d.setProto("PPP")
	if d.u8(off) == 0xff { // HDLC-like address and control, as Wireshark assumes

		off += 2
	}
	if end-off < 1 || !d.has(off, 1) {
		d.short(d.layer("ppp", "Point-to-Point Protocol", start, end-start), "PPP", off)
		return end
	}
	var proto uint16
	plen := 2
	if d.u8(off)&1 == 1 { // compressed protocol field
		proto, plen = uint16(d.u8(off)), 1
	} else {
		if end-off < 2 || !d.has(off, 2) {
			d.short(d.layer("ppp", "Point-to-Point Protocol", start, end-start), "PPP", off)
			return end
		}
		proto = d.be16(off)
	}
	n := d.layer("ppp", "Point-to-Point Protocol", start, off+plen-start)
	if off > start {
		d.fHex(n, "ppp.address", "Address", start, 1, 0xff, 2)
		d.fHex(n, "ppp.control", "Control", start+1, 1, uint64(d.u8(start+1)), 2)
	}
	d.fHexName(n, "ppp.protocol", "Protocol", off, plen, uint64(proto), 4, pppProtoName(proto))
	off += plen
	switch proto {
	case 0x21:
		return d.ipv4(off, end)
	case 0x57:
		return d.ipv6(off, end)
	case 0x281, 0x283:
		return d.mpls(off, end)
	case 0xc021, 0x8021, 0x8057, 0xc023, 0xc223:
		d.pppControl(proto, off, end)
		return end
	}
	if d.infoReset() {
		d.is("PPP protocol ")
		d.ihex(uint64(proto), 4)
	}
	return end
}

func pppProtoName(p uint16) string {
	switch p {
	case 0x21:
		return "Internet Protocol version 4"
	case 0x57:
		return "Internet Protocol version 6"
	case 0x281:
		return "MPLS Unicast"
	case 0x283:
		return "MPLS Multicast"
	case 0xc021:
		return "Link Control Protocol"
	case 0x8021:
		return "Internet Protocol Control Protocol"
	case 0x8057:
		return "IPv6 Control Protocol"
	case 0xc023:
		return "Password Authentication Protocol"
	case 0xc223:
		return "Challenge Handshake Authentication Protocol"
	}
	return ""
}

// pppControl decodes the common header of LCP, IPCP, IPV6CP, PAP and
// CHAP packets.
func (d *decoder) pppControl(proto uint16, off, end int) {
	var field, title, col string
	switch proto {
	case 0xc021:
		field, title, col = "lcp", "PPP Link Control Protocol", "PPP LCP"
	case 0x8021:
		field, title, col = "ipcp", "PPP IP Control Protocol", "PPP IPCP"
	case 0x8057:
		field, title, col = "ipv6cp", "PPP IPv6 Control Protocol", "PPP IPV6CP"
	case 0xc023:
		field, title, col = "pap", "PPP Password Authentication Protocol", "PPP PAP"
	default:
		field, title, col = "chap", "PPP Challenge Handshake Authentication Protocol", "PPP CHAP"
	}
	d.setProto(col)
	if end-off < 4 || !d.has(off, 4) {
		d.short(d.layer(field, title, off, end-off), col, off)
		return
	}
	code, id, l := d.u8(off), d.u8(off+1), int(d.be16(off+2))
	n := d.layer(field, title, off, l)
	name := pppCodeName(proto, code)
	d.fUintName(n, "ppp.code", "Code", off, 1, uint64(code), name)
	d.fHex(n, "ppp.identifier", "Identifier", off+1, 1, uint64(id), 2)
	d.fUint(n, "ppp.length", "Length", off+2, 2, uint64(l))
	if d.infoReset() {
		d.is(name)
	}
}

func pppCodeName(proto uint16, c uint8) string {
	if proto == 0xc023 {
		switch c {
		case 1:
			return "Authenticate-Request"
		case 2:
			return "Authenticate-Ack"
		case 3:
			return "Authenticate-Nak"
		}
	}
	if proto == 0xc223 {
		switch c {
		case 1:
			return "Challenge"
		case 2:
			return "Response"
		case 3:
			return "Success"
		case 4:
			return "Failure"
		}
	}
	switch c {
	case 1:
		return "Configuration Request"
	case 2:
		return "Configuration Ack"
	case 3:
		return "Configuration Nak"
	case 4:
		return "Configuration Reject"
	case 5:
		return "Termination Request"
	case 6:
		return "Termination Ack"
	case 7:
		return "Code Reject"
	case 8:
		return "Protocol Reject"
	case 9:
		return "Echo Request"
	case 10:
		return "Echo Reply"
	case 11:
		return "Discard Request"
	}
	return "Unknown"
}
