package dissect

import (
	"strconv"

	"github.com/pkttap/pkttap/pcapio"
)

// frame decodes the packet from its link-layer header.
func (d *decoder) frame(lt pcapio.LinkType) {
	end := len(d.data)
	if d.grow("frame") {
		label := "Frame: " + strconv.Itoa(d.wire) + " bytes on wire (" + strconv.Itoa(d.wire*8) + " bits), " +
			strconv.Itoa(end) + " bytes captured (" + strconv.Itoa(end*8) + " bits)"
		f := d.layer("frame", label, 0, end)
		d.fStr(f, "frame.encap_type", "Encapsulation type", 0, 0, lt.Description()+" ("+lt.String()+")")
		d.fUint(f, "frame.len", "Frame Length", 0, 0, uint64(d.wire))
		d.fUint(f, "frame.cap_len", "Capture Length", 0, 0, uint64(end))
	}
	d.setProto("Frame")
	switch lt {
	case pcapio.LinkTypeEthernet:
		d.eth(0, end)
	case pcapio.LinkTypeLinuxSLL:
		d.sll(0, end)
	case pcapio.LinkTypeLinuxSLL2:
		d.sll2(0, end)
	case pcapio.LinkTypeNull, pcapio.LinkTypeLoop:
		d.null(lt, 0, end)
	case pcapio.LinkTypeRaw, pcapio.LinkTypeIPv4, pcapio.LinkTypeIPv6:
		d.raw(lt, 0, end)
	case pcapio.LinkTypePPP, pcapio.LinkTypePPPHDLC:
		d.ppp(0, end)
	case pcapio.LinkTypeIPoIB:
		d.ipoib(0, end)
	case pcapio.LinkTypeIPNet:
		d.ipnet(0, end)
	case pcapio.LinkTypeNFLog:
		d.nflog(0, end)
	case pcapio.LinkTypePPI:
		d.ppi(0, end)
	case pcapio.LinkTypeFRelay:
		d.frameRelay(0, end)
	case pcapio.LinkTypeJuniperEther:
		d.juniperEther(0, end)
	default:
		if d.infoReset() {
			d.is("Link type ")
			d.is(lt.String())
			d.is(" not decoded")
		}
	}
}

// Ethernet II / IEEE 802.3.
func (d *decoder) eth(off, end int) {
	if !d.has(off, 14) || end-off < 14 {
		d.setProto("Ethernet")
		d.short(nil, "Ethernet", off)
		return
	}
	typ := d.be16(off + 12)
	var n *Node
	d.seen.add("eth") // a layer, even without a tree
	if d.grow("eth") {
		n = d.layer("eth", "Ethernet II, Src: "+d.macLabel(d.bytes(off+6, 6))+", Dst: "+d.macLabel(d.bytes(off, 6)), off, 14)
		d.fMAC(n, "eth.dst", "Destination", off)
		d.fMAC(n, "eth.src", "Source", off+6)
	}
	d.setAddrs(addrMAC, off+6, off, 6)
	d.setProto("Ethernet")
	if d.infoReset() {
		d.is("Ethernet II")
	}
	var used int
	if typ <= 1500 && typ != 0 { // Wireshark reads type 0 as an (unknown) EtherType

		if n != nil {
			n.Label = "IEEE 802.3 Ethernet"
		}
		d.fUint(n, "eth.len", "Length", off+12, 2, uint64(typ))
		pend := off + 14 + int(typ)
		if pend > end {
			if d.wire == len(d.data) || pend <= d.wire {
				// Not cut by the capture: the length field lies.
				d.malformed(n, "Ethernet", "length field value goes past the end of the payload", off+12)
				return
			}
			pend = end
		}
		d.setLength(n, pend)
		if d.be16(off+14) == 0xffff { // Novell "raw" 802.3: IPX without LLC
			d.data2(off+14, pend)
			if d.infoReset() {
				d.is("IPX (raw 802.3)")
			}
		} else {
			d.llc(off+14, pend)
		}
		used = off + 14 + int(typ)
	} else {
		d.fHexName(n, "eth.type", "Type", off+12, 2, uint64(typ), 4, etherTypeName(typ))
		used = d.etherPayload(typ, off+14, end)
	}
	if used < end && n != nil {
		if d.wire <= 60 || used < 60 {
			d.fBytes(n, "eth.padding", "Padding", used, end-used)
		} else {
			d.fBytes(n, "eth.trailer", "Trailer", used, end-used)
		}
	}
}

// llc decodes an IEEE 802.2 LLC header and, for SNAP, its payload.
func (d *decoder) llc(off, end int) {
	if !d.deeper(off) {
		return
	}
	defer d.shallower()
	n := d.layer("llc", "Logical-Link Control", off, end-off)
	d.setProto("LLC")
	if end-off < 3 || !d.has(off, 3) {
		d.short(n, "LLC", off)
		return
	}
	dsap, ssap, ctl := d.u8(off), d.u8(off+1), d.u8(off+2)
	d.fHex(n, "llc.dsap", "DSAP", off, 1, uint64(dsap), 2)
	d.fHex(n, "llc.ssap", "SSAP", off+1, 1, uint64(ssap), 2)
	ctlLen := 1
	if ctl&3 != 3 { // I and S frames have a 2-byte control field
		ctlLen = 2
	}
	if ctlLen == 2 && d.has(off+2, 2) {
		// An extended control field is read little-endian, as Wireshark does.
		d.fHex(n, "llc.control", "Control field", off+2, 2, uint64(ctl)|uint64(d.u8(off+3))<<8, 4)
	} else {
		d.fHex(n, "llc.control", "Control field", off+2, ctlLen, uint64(ctl), 2)
	}
	if d.infoReset() {
		d.is("DSAP ")
		d.ihex(uint64(dsap), 2)
		d.is(" SSAP ")
		d.ihex(uint64(ssap), 2)
	}
	if dsap == 0xaa && ssap == 0xaa && ctlLen == 1 {
		if end-off < 8 || !d.has(off, 8) {
			d.short(n, "SNAP", off+3)
			return
		}
		oui := d.be24(off + 3)
		pid := d.be16(off + 6)
		d.fHex(n, "llc.oui", "Organization Code", off+3, 3, uint64(oui), 6)
		d.setLength(n, off+8)
		if oui == 0 {
			d.fHexName(n, "llc.type", "Type", off+6, 2, uint64(pid), 4, etherTypeName(pid))
			d.etherPayload(pid, off+8, end)
			return
		}
		d.fHex(n, "llc.pid", "PID", off+6, 2, uint64(pid), 4)
		if oui == 0x00000c && pid == 0x010b { // Cisco PVST+
			d.stp(off+8, end)
			return
		}
		d.data2(off+8, end)
		return
	}
	d.setLength(n, off+2+ctlLen)
	if dsap == 0x42 && ssap == 0x42 && ctl == 0x03 {
		d.stp(off+3, end)
		return
	}
	d.data2(off+2+ctlLen, end)
}

// deeper counts one more level of encapsulation and reports whether the
// limit allows decoding it; every true must be paired with shallower.
func (d *decoder) deeper(off int) bool {
	if d.depth >= maxDepth {
		d.malformed(nil, "Frame", "too many nested headers", off)
		return false
	}
	d.depth++
	return true
}

func (d *decoder) shallower() { d.depth-- }

// etherPayload decodes the payload of an EtherType at off and returns the
// end of the bytes it used (the rest is padding or trailer).
func (d *decoder) etherPayload(et uint16, off, end int) int {
	if off >= end {
		d.short(nil, etherTypeNameOr(et), off)
		return end
	}
	if !d.deeper(off) {
		return end
	}
	defer d.shallower()
	switch et {
	case 0x0800:
		return d.ipv4(off, end)
	case 0x86dd:
		return d.ipv6(off, end)
	case 0x0806, 0x8035:
		return d.arp(off, end)
	case 0x8100, 0x88a8, 0x9100:
		return d.vlan(et, off, end)
	case 0x8847, 0x8848:
		return d.mpls(off, end)
	case 0x8863, 0x8864:
		return d.pppoe(et, off, end)
	case 0x6558:
		d.eth(off, end)
		return end
	case 0x880b:
		return d.ppp(off, end)
	case 0xd28b:
		return d.avsp(off, end)
	case 0x8909:
		return d.cmd(off, end)
	case 0x894f:
		d.nsh(off, end)
		return end
	}
	if off < end {
		d.data2(off, end)
	}
	// Not decoded: the columns keep the outer layer's protocol.
	if d.infoReset() {
		d.is("EtherType ")
		if name := etherTypeName(et); name != "" {
			d.is(name)
			d.is(" ")
		}
		d.ihex(uint64(et), 4)
	}
	return end
}

// vlan decodes an 802.1Q or 802.1ad tag; off is the TCI's offset.
func (d *decoder) vlan(tpid uint16, off, end int) int {
	field, title := "vlan", "802.1Q Virtual LAN"
	if tpid == 0x88a8 {
		field, title = "ieee8021ad", "IEEE 802.1ad"
	}
	if end-off < 4 || !d.has(off, 4) {
		n := d.layer(field, title, off, end-off)
		d.short(n, title, off)
		return end
	}
	tci := d.be16(off)
	typ := d.be16(off + 2)
	var n *Node
	d.seen.add(field) // a layer, even without a tree
	if d.grow(field) {
		n = d.layer(field, title+", PRI: "+strconv.Itoa(int(tci>>13))+", DEI: "+strconv.Itoa(int(tci>>12&1))+", ID: "+strconv.Itoa(int(tci&0xfff)), off, 4)
		bits := 2 // Wireshark's 802.1Q bit fields span the TCI, its 802.1ad ones a byte
		if tpid == 0x88a8 {
			bits = 1
		}
		d.fUint(n, field+".priority", "Priority", off, bits, uint64(tci>>13))
		d.fUint(n, field+".dei", "DEI", off, bits, uint64(tci>>12&1))
		d.fUint(n, field+".id", "ID", off, 2, uint64(tci&0xfff))
	}
	if tpid == 0x88a8 {
		// Wireshark's 802.1ad dissector hands the inner type to the next tag.
		d.fHexName(n, "vlan.etype", "Type", off+2, 2, uint64(typ), 4, etherTypeName(typ))
	} else if typ <= 1500 {
		d.fUint(n, "vlan.len", "Length", off+2, 2, uint64(typ))
		pend := off + 4 + int(typ)
		if pend > end {
			pend = end
		}
		d.llc(off+4, pend)
		return off + 4 + int(typ)
	} else {
		d.fHexName(n, "vlan.etype", "Type", off+2, 2, uint64(typ), 4, etherTypeName(typ))
	}
	return d.etherPayload(typ, off+4, end)
}

// mpls decodes an MPLS label stack entry and what follows it.
func (d *decoder) mpls(off, end int) int {
	for i := 0; ; i++ {
		if end-off < 4 || !d.has(off, 4) {
			n := d.layer("mpls", "MultiProtocol Label Switching Header", off, end-off)
			d.setProto("MPLS")
			d.short(n, "MPLS", off)
			return end
		}
		v := d.be32(off)
		label, exp, bos, ttl := v>>12, v>>9&7, v>>8&1, v&0xff
		var n *Node
		d.seen.add("mpls") // a layer, even without a tree
		if d.grow("mpls") {
			n = d.layer("mpls", "MultiProtocol Label Switching Header, Label: "+strconv.Itoa(int(label))+", Exp: "+strconv.Itoa(int(exp))+", S: "+strconv.Itoa(int(bos))+", TTL: "+strconv.Itoa(int(ttl)), off, 4)
			d.fUint(n, "mpls.label", "MPLS Label", off, 4, uint64(label))
			d.fUint(n, "mpls.exp", "MPLS Experimental Bits", off, 4, uint64(exp))
			d.fUint(n, "mpls.bottom", "MPLS Bottom Of Label Stack", off, 4, uint64(bos))
			d.fUint(n, "mpls.ttl", "MPLS TTL", off, 4, uint64(ttl))
		}
		d.setProto("MPLS")
		if d.infoReset() {
			d.is("MPLS Label ")
			d.iu(uint64(label))
		}
		off += 4
		if bos == 1 {
			break
		}
		if i >= maxItems {
			d.malformed(n, "MPLS", "label stack too deep", off)
			return end
		}
	}
	switch d.u8(off) >> 4 {
	case 4:
		return d.ipv4(off, end)
	case 6:
		return d.ipv6(off, end)
	}
	if off < end {
		d.data2(off, end)
	}
	return end
}

// sll decodes a Linux cooked capture v1 header.
func (d *decoder) sll(off, end int) {
	if end-off < 16 || !d.has(off, 16) {
		n := d.layer("sll", "Linux cooked capture v1", off, end-off)
		d.setProto("SLL")
		d.short(n, "Linux cooked capture", off)
		return
	}
	pkttype, hatype, halen, proto := d.be16(off), d.be16(off+2), d.be16(off+4), d.be16(off+14)
	n := d.layer("sll", "Linux cooked capture v1", off, 16)
	d.fUintName(n, "sll.pkttype", "Packet type", off, 2, uint64(pkttype), sllPktType(uint16(pkttype)))
	d.fUint(n, "sll.hatype", "Link-layer address type", off+2, 2, uint64(hatype))
	d.fUint(n, "sll.halen", "Link-layer address length", off+4, 2, uint64(halen))
	d.sllAddr(n, hatype, int(halen), off+6)
	d.setProto("SLL")
	if hatype == 1 && halen == 6 {
		d.setAddrs(addrMAC, off+6, off+6, 6)
		d.dst.kind = addrNone
	}
	d.sllProtocol(n, proto, hatype, off+16, end, true)
}

// sll2 decodes a Linux cooked capture v2 header.
func (d *decoder) sll2(off, end int) {
	if end-off < 20 || !d.has(off, 20) {
		n := d.layer("sll", "Linux cooked capture v2", off, end-off)
		d.setProto("SLL")
		d.short(n, "Linux cooked capture v2", off)
		return
	}
	proto, ifindex, hatype, pkttype, halen := d.be16(off), d.be32(off+4), d.be16(off+8), d.u8(off+10), d.u8(off+11)
	n := d.layer("sll", "Linux cooked capture v2", off, 20)
	d.fHexName(n, "sll.etype", "Protocol", off, 2, uint64(proto), 4, etherTypeName(proto))
	d.fUint(n, "sll.ifindex", "Interface index", off+4, 4, uint64(ifindex))
	d.fUint(n, "sll.hatype", "Link-layer address type", off+8, 2, uint64(hatype))
	d.fUintName(n, "sll.pkttype", "Packet type", off+10, 1, uint64(pkttype), sllPktType(uint16(pkttype)))
	d.fUint(n, "sll.halen", "Link-layer address length", off+11, 1, uint64(halen))
	d.sllAddr(n, hatype, int(halen), off+12)
	d.setProto("SLL")
	if hatype == 1 && halen == 6 {
		d.setAddrs(addrMAC, off+12, off+12, 6)
		d.dst.kind = addrNone
	}
	d.sllProtocol(n, proto, hatype, off+20, end, false)
}

func (d *decoder) sllAddr(n *Node, hatype uint16, halen, off int) {
	if n == nil {
		return
	}
	switch {
	case hatype == 1 && halen == 6:
		d.fMAC(n, "sll.src.eth", "Source", off)
		d.fBytes(n, "sll.unused", "Unused", off+6, 2)
	case halen > 0 && halen <= 8:
		d.fBytes(n, "sll.src.other", "Source", off, halen)
		if halen < 8 {
			d.fBytes(n, "sll.unused", "Unused", off+halen, 8-halen)
		}
	default:
		d.fBytes(n, "sll.unused", "Unused", off, 8)
	}
}

// sllProtocol decodes the payload of a cooked header whose protocol field
// is proto; v1 puts the field just before the payload.
func (d *decoder) sllProtocol(n *Node, proto, hatype uint16, off, end int, v1 bool) {
	if proto > 1500 && hatype != 824 {
		if v1 {
			d.fHexName(n, "sll.etype", "Protocol", off-2, 2, uint64(proto), 4, etherTypeName(proto))
		}
		if hatype == 778 && proto == 0x6558 { // ARPHRD_IPGRE
			d.eth(off, end)
			return
		}
		d.etherPayload(proto, off, end)
		return
	}
	if v1 {
		d.fHex(n, "sll.ltype", "Protocol", off-2, 2, uint64(proto), 4)
	}
	switch proto {
	case 4: // 802.2 LLC
		d.llc(off, end)
	default:
		if off < end {
			d.data2(off, end)
		}
	}
}

func sllPktType(t uint16) string {
	switch t {
	case 0:
		return "Unicast to us"
	case 1:
		return "Broadcast"
	case 2:
		return "Multicast"
	case 3:
		return "Unicast to another host"
	case 4:
		return "Sent by us"
	}
	return ""
}

// null decodes BSD NULL (host byte order) and OpenBSD LOOP (network byte
// order) 4-byte address family headers.
func (d *decoder) null(lt pcapio.LinkType, off, end int) {
	if end-off < 4 || !d.has(off, 4) {
		n := d.layer("null", "Null/Loopback", off, end-off)
		d.setProto("NULL")
		d.short(n, "Null/Loopback", off)
		return
	}
	fam := d.be32(off)
	if lt == pcapio.LinkTypeNull && d.be16(off) != 0 {
		fam = d.le32(off) // written by a little-endian host
	}
	n := d.layer("null", "Null/Loopback", off, 4)
	d.fUintName(n, "null.family", "Family", off, 4, uint64(fam), nullFamilyName(fam))
	d.setProto("NULL")
	switch fam {
	case 2:
		d.ipv4(off+4, end)
	case 10, 24, 28, 30:
		d.ipv6(off+4, end)
	default:
		if d.infoReset() {
			d.is("Family ")
			d.iu(uint64(fam))
		}
		if off+4 < end {
			d.data2(off+4, end)
		}
	}
}

func nullFamilyName(f uint32) string {
	switch f {
	case 2:
		return "IP"
	case 10, 24, 28, 30:
		return "IPv6"
	}
	return ""
}

// raw decodes a packet that starts with an IP header.
func (d *decoder) raw(lt pcapio.LinkType, off, end int) {
	if lt == pcapio.LinkTypeRaw {
		d.layer("raw", "Raw packet data", off, 0)
	}
	d.setProto("Raw")
	v := d.u8(off) >> 4
	switch {
	case lt == pcapio.LinkTypeIPv4 || (lt == pcapio.LinkTypeRaw && v == 4):
		d.ipv4(off, end)
	case lt == pcapio.LinkTypeIPv6 || (lt == pcapio.LinkTypeRaw && v == 6):
		d.ipv6(off, end)
	default:
		if end <= off {
			d.short(nil, "Raw IP", off)
			return
		}
		d.malformed(nil, "Raw IP", "unknown IP version "+strconv.Itoa(int(v)), off)
	}
}
