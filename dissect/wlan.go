package dissect

import "strconv"

// le16 reads a little-endian 16-bit word, 0 out of bounds.
func (d *decoder) le16(off int) uint16 {
	if !d.has(off, 2) {
		return 0
	}
	return uint16(d.data[off+1])<<8 | uint16(d.data[off])
}

// ppi decodes LINKTYPE_PPI: the Per-Packet Information header (version,
// flags, header length and the DLT of the frame that follows, all
// little-endian) and its fields, of which only 802.11-Common's flags are
// read: whether the 802.11 frame ends with a frame check sequence. An
// 802.11 or Ethernet frame follows.
func (d *decoder) ppi(off, end int) {
	d.setProto("PPI")
	if end-off < 8 || !d.has(off, 8) {
		n := d.layer("ppi", "PPI version 0", off, end-off)
		d.short(n, "PPI", off)
		return
	}
	hlen, dlt := int(d.le16(off+2)), d.le32(off+4)
	n := d.layer("ppi", "PPI version "+strconv.Itoa(int(d.u8(off)))+", "+strconv.Itoa(hlen)+" bytes", off, hlen)
	d.fUint(n, "ppi.version", "Version", off, 1, uint64(d.u8(off)))
	d.fHex(n, "ppi.flags", "Flags", off+1, 1, uint64(d.u8(off+1)), 2)
	d.fUint(n, "ppi.length", "Header length", off+2, 2, uint64(hlen))
	d.fUint(n, "ppi.dlt", "DLT", off+4, 4, uint64(dlt))
	if hlen < 8 || off+hlen > end {
		d.malformed(n, "PPI", "header length "+strconv.Itoa(hlen)+" out of bounds", off+2)
		return
	}
	fcs := false
	for p, i := off+8, 0; p+4 <= off+hlen && i < maxItems; i++ {
		typ, flen := d.le16(p), int(d.le16(p+2))
		if typ == 2 && flen >= 20 { // 802.11-Common: TSFT (8), flags (2), ...
			fcs = d.le16(p+12)&1 != 0
		}
		p += 4 + flen
	}
	switch dlt {
	case 105: // IEEE 802.11
		d.wlan(off+hlen, end, fcs)
	case 1:
		d.eth(off+hlen, end)
	default:
		d.data2(off+hlen, end)
	}
}

// wlanTypeNames are Wireshark's names of 802.11 frame types and subtypes,
// (type<<4 | subtype), for the Info column.
var wlanTypeNames = map[uint8]string{
	0x00: "Association Request", 0x01: "Association Response", 0x02: "Reassociation Request",
	0x03: "Reassociation Response", 0x04: "Probe Request", 0x05: "Probe Response", 0x08: "Beacon frame",
	0x09: "ATIM", 0x0a: "Disassociate", 0x0b: "Authentication", 0x0c: "Deauthentication", 0x0d: "Action",
	0x18: "802.11 Block Ack Req", 0x19: "802.11 Block Ack", 0x1a: "Power-Save poll",
	0x1b: "Request-to-send", 0x1c: "Clear-to-send", 0x1d: "Acknowledgement", 0x1e: "CF-End",
	0x20: "Data", 0x24: "Null function (No data)", 0x28: "QoS Data", 0x2c: "QoS Null function (No data)",
}

// wlan decodes an IEEE 802.11 MAC header: the frame control field, the
// duration, the addresses a data frame or an acknowledgement carries (by
// its To DS and From DS bits, as Wireshark names them), the sequence
// control and QoS fields, the frame check sequence when fcs says there is
// one, and an unprotected data frame's body as LLC.
func (d *decoder) wlan(off, end int, fcs bool) {
	d.setProto("802.11")
	if end-off < 10 || !d.has(off, 10) {
		n := d.layer("wlan", "IEEE 802.11", off, end-off)
		d.short(n, "IEEE 802.11", off)
		return
	}
	b0, flags := d.u8(off), d.u8(off+1)
	typ, sub := b0>>2&3, b0>>4
	ts := typ<<4 | sub
	name := wlanTypeNames[ts]
	if name == "" {
		name = "Unrecognized (Reserved frame)"
	}
	hdr := 10 // control frames with one address (ACK, CTS)
	if typ == 0 || typ == 2 {
		hdr = 24
		if typ == 2 && flags&3 == 3 {
			hdr += 6
		}
		if typ == 2 && sub&8 != 0 {
			hdr += 2
			if flags&0x80 != 0 {
				hdr += 4
			}
		}
	}
	bodyEnd := end
	if fcs {
		bodyEnd -= 4
	}
	n := d.layer("wlan", "IEEE 802.11 "+name, off, hdr)
	if bodyEnd-off < hdr || !d.has(off, hdr) {
		d.short(n, "IEEE 802.11", off)
		return
	}
	d.fHex(n, "wlan.fc.type_subtype", "Type/Subtype", off, 1, uint64(ts), 4)
	fc := d.fHex(n, "wlan.fc", "Frame Control Field", off, 2, uint64(b0)<<8|uint64(flags), 4)
	d.fUint(fc, "wlan.fc.version", "Version", off, 1, uint64(b0&3))
	d.fUint(fc, "wlan.fc.type", "Type", off, 1, uint64(typ))
	d.fUint(fc, "wlan.fc.subtype", "Subtype", off, 1, uint64(sub))
	d.fHex(fc, "wlan.flags", "Flags", off+1, 1, uint64(flags), 2)
	d.fUint(n, "wlan.duration", "Duration", off+2, 2, uint64(d.le16(off+2)&0x7fff))
	a1, a2, a3, a4 := off+4, off+10, off+16, off+24
	switch {
	case typ == 1 && (sub == 12 || sub == 13):
		d.fMAC(n, "wlan.ra", "Receiver address", a1)
	case typ == 2:
		da, sa, bssid := a1, a2, a3
		switch flags & 3 {
		case 1: // to DS
			da, bssid = a3, a1
		case 2: // from DS
			sa, bssid = a3, a2
		case 3:
			da, sa, bssid = a3, a4, -1
		}
		d.fMAC(n, "wlan.ra", "Receiver address", a1)
		d.fMAC(n, "wlan.ta", "Transmitter address", a2)
		d.fMAC(n, "wlan.da", "Destination address", da)
		d.fMAC(n, "wlan.sa", "Source address", sa)
		if bssid >= 0 {
			d.fMAC(n, "wlan.bssid", "BSS Id", bssid)
		}
		d.setAddrs(addrMAC, sa, da, 6)
	}
	seq := d.le16(off + 22)
	if typ != 1 {
		d.fUint(n, "wlan.frag", "Fragment number", off+22, 2, uint64(seq&0xf))
		d.fUint(n, "wlan.seq", "Sequence number", off+22, 2, uint64(seq>>4))
	}
	if fcs && d.has(bodyEnd, 4) {
		d.fHex(n, "wlan.fcs", "Frame check sequence", bodyEnd, 4, uint64(d.le32(bodyEnd)), 8)
	}
	if d.infoReset() {
		d.is(name)
		if typ != 1 {
			d.is(", SN=")
			d.iu(uint64(seq >> 4))
			d.is(", FN=")
			d.iu(uint64(seq & 0xf))
		}
		d.is(", Flags=")
		for i, c := range []byte("opmPRMFT") {
			if flags&(0x80>>i) == 0 {
				c = '.'
			}
			d.info = append(d.info, c)
		}
		d.is("C")
	}
	if typ != 2 || sub&4 != 0 { // not data, or a null function
		return
	}
	if flags&0x40 != 0 { // protected: encrypted body
		d.data2(off+hdr, bodyEnd)
		return
	}
	d.llc(off+hdr, bodyEnd)
}
