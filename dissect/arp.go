package dissect

import "strconv"

// arp decodes an ARP or RARP packet.
func (d *decoder) arp(off, end int) int {
	d.setProto("ARP")
	d.tag(tagARP)
	if end-off < 8 || !d.has(off, 8) {
		n := d.layer("arp", "Address Resolution Protocol", off, end-off)
		d.short(n, "ARP", off)
		return end
	}
	htype, ptype, hlen, plen, op := d.be16(off), d.be16(off+2), int(d.u8(off+4)), int(d.u8(off+5)), d.be16(off+6)
	total := 8 + 2*hlen + 2*plen
	var n *Node
	d.seen.add("arp") // a layer, even without a tree
	if d.grow("arp") {
		n = d.layer("arp", "Address Resolution Protocol ("+arpOpName(op)+")", off, total)
	}
	d.fUint(n, "arp.hw.type", "Hardware type", off, 2, uint64(htype))
	d.fHexName(n, "arp.proto.type", "Protocol type", off+2, 2, uint64(ptype), 4, etherTypeName(ptype))
	d.fUint(n, "arp.hw.size", "Hardware size", off+4, 1, uint64(hlen))
	d.fUint(n, "arp.proto.size", "Protocol size", off+5, 1, uint64(plen))
	d.fUintName(n, "arp.opcode", "Opcode", off+6, 2, uint64(op), arpOpName(op))
	sha, spa := off+8, off+8+hlen
	tha, tpa := spa+plen, spa+plen+hlen
	if end-off < total || !d.has(off, total) {
		d.short(n, "ARP", off+8)
		return end
	}
	ether := hlen == 6
	// Wireshark names hardware addresses hw_mac only for Ethernet and
	// IEEE 802 hardware types (ARP_HW_IS_ETHER), hw otherwise.
	etherField := ether && (htype == 1 || htype == 6)
	ipv4 := plen == 4 && ptype == 0x0800
	if n != nil {
		if etherField {
			d.fMAC(n, "arp.src.hw_mac", "Sender MAC address", sha)
		} else {
			d.fBytes(n, "arp.src.hw", "Sender hardware address", sha, hlen)
		}
		if ipv4 {
			d.fIPv4(n, "arp.src.proto_ipv4", "Sender IP address", spa)
		} else {
			d.fBytes(n, "arp.src.proto", "Sender protocol address", spa, plen)
		}
		if etherField {
			d.fMAC(n, "arp.dst.hw_mac", "Target MAC address", tha)
		} else {
			d.fBytes(n, "arp.dst.hw", "Target hardware address", tha, hlen)
		}
		if ipv4 {
			d.fIPv4(n, "arp.dst.proto_ipv4", "Target IP address", tpa)
		} else {
			d.fBytes(n, "arp.dst.proto", "Target protocol address", tpa, plen)
		}
	}
	if !d.infoReset() {
		return off + total
	}
	paddr := func(o int) {
		if ipv4 {
			d.iIPv4(o)
		} else {
			d.ibytesHex(o, plen)
		}
	}
	haddr := func(o int) {
		if ether {
			d.iMAC(o)
		} else {
			d.ibytesHex(o, hlen)
		}
	}
	gratuitous := ipv4 && string(d.data[spa:spa+4]) == string(d.data[tpa:tpa+4])
	switch op {
	case 1:
		switch {
		case gratuitous && ether && allZero(d.data[tha:tha+6]):
			d.is("ARP Announcement for ")
			paddr(spa)
		case gratuitous:
			d.is("Gratuitous ARP for ")
			paddr(spa)
			d.is(" (Request)")
		case ipv4 && allZero(d.data[spa:spa+4]):
			d.is("Who has ")
			paddr(tpa)
			d.is("? (ARP Probe)")
		default:
			d.is("Who has ")
			paddr(tpa)
			d.is("? Tell ")
			paddr(spa)
		}
	case 2:
		if gratuitous {
			d.is("Gratuitous ARP for ")
			paddr(spa)
			d.is(" (Reply)")
			break
		}
		paddr(spa)
		d.is(" is at ")
		haddr(sha)
	case 3:
		d.is("Who is ")
		haddr(tha)
		d.is("? Tell ")
		haddr(sha)
	case 4:
		haddr(tha)
		d.is(" is at ")
		paddr(tpa)
	case 0:
		d.is("Reserved opcode 0") // Wireshark's words for the reserved value
	default:
		d.is("Unknown ARP opcode ")
		d.ihex(uint64(op), 4)
	}
	return off + total
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func arpOpName(op uint16) string {
	switch op {
	case 1:
		return "request"
	case 2:
		return "reply"
	case 3:
		return "reverse request"
	case 4:
		return "reverse reply"
	case 8:
		return "inverse request"
	case 9:
		return "inverse reply"
	}
	return "opcode " + strconv.Itoa(int(op))
}
