package dissect

import "strconv"

// udp decodes a UDP header and hands the payload to an application decoder
// chosen by port.
func (d *decoder) udp(off, end int) {
	d.setProto("UDP")
	if end-off < 8 || !d.has(off, 8) {
		d.transportPorts("udp", off, end)
		d.short(nil, "UDP", off) // as Wireshark: no UDP layer for a cut header
		return
	}
	sp, dp, ulen, csum := d.be16(off), d.be16(off+2), int(d.be16(off+4)), d.be16(off+6)
	var n *Node
	d.seen.add("udp") // a layer, even without a tree
	d.noteTransport(false, off, end)
	if d.grow("udp") {
		n = d.layer("udp", "User Datagram Protocol, Src Port: "+d.portLabel("udp", sp)+", Dst Port: "+d.portLabel("udp", dp), off, 8)
		d.fPort(n, "udp.srcport", "Source Port", "udp", off, sp)
		d.fPort(n, "udp.dstport", "Destination Port", "udp", off+2, dp)
		d.fUint(n, "udp.length", "Length", off+4, 2, uint64(ulen))
	}
	d.udpStreamField(n, off)
	bad := ulen < 8
	if csum == 0 && len(d.ipSrc) == 4 {
		d.add(n, "udp.checksum", "Checksum: 0x0000 [zero-value ignored]", off+6, 2)
		d.checksumStatus(n, "udp.checksum", "Checksum Status", off+6, statusNotPresent)
	} else if len(d.ipSrc) > 0 && !bad {
		d.transportChecksum(n, "udp.checksum", off+6, csum, 17, off, off+ulen, off+ulen <= end)
	} else {
		d.fHex(n, "udp.checksum", "Checksum", off+6, 2, uint64(csum), 4)
	}
	if d.infoReset() {
		d.iPort("udp", sp)
		d.is(" → ")
		d.iPort("udp", dp)
		if d.ipEnd > 0 && off+ulen > d.ipEnd && !d.ipFrag {
			d.is(" [BAD UDP LENGTH ")
			d.iu(uint64(ulen))
			d.is(" > IP PAYLOAD LENGTH]")
		}
		d.is(" Len=")
		if ulen >= 8 {
			d.iu(uint64(ulen - 8))
		} else {
			d.iu(0)
		}
	}
	if bad {
		d.malformed(n, "UDP", "bogus UDP length ("+strconv.Itoa(ulen)+", must be at least 8)", off+4)
		return
	}
	// A datagram's first fragment holds only part of what its length
	// counts, and so does one an ICMP error quotes: as Wireshark, that is
	// no fault.
	if d.ipEnd > 0 && off+ulen > d.ipEnd && !d.ipFrag && d.quiet == 0 {
		d.malformed(n, "UDP", "length goes past the IP payload", off+4)
		return
	}
	body, pend := off+8, min(off+ulen, end)
	if body >= pend {
		return
	}
	if n != nil && d.has(body, 1) {
		d.add(n, "udp.payload", "Payload ("+strconv.Itoa(pend-body)+" bytes)", body, pend-body)
	}
	d.udpApp(sp, dp, body, pend)
}

// udpApp chooses an application decoder for a UDP payload.
func (d *decoder) udpApp(sp, dp uint16, off, end int) {
	port := func(p uint16) bool { return sp == p || dp == p }
	switch {
	case port(4789):
		d.vxlan(off, end)
	case port(4790):
		d.vxlanGPE(off, end)
	case port(6343):
		d.sflow(off, end)
	case port(6081):
		d.geneve(off, end)
	case port(5353):
		d.dns(off, end, "mdns", "Multicast Domain Name System", "MDNS", false)
	case port(5355):
		d.dns(off, end, "llmnr", "Link-local Multicast Name Resolution", "LLMNR", false)
	case port(53):
		d.dns(off, end, "dns", "Domain Name System", "DNS", false)
	case port(67) || port(68):
		d.dhcp(off, end)
	case port(123):
		d.ntp(off, end)
	case port(4500):
		d.udpEncap(off, end)
	case port(6635): // MPLS in UDP, RFC 7510
		if d.deeper(off) {
			d.mpls(off, end)
			d.shallower()
		}
	case port(1900):
		d.http(off, end, "ssdp", "Simple Service Discovery Protocol", "SSDP")
	case (port(443) || port(4433) || port(8443)) && d.u8(off)&0xc0 == 0xc0 && d.u8(off+1) != 'Q':
		d.quic(off, end)
	case (port(443) || port(4433) || port(8443)) && d.u8(off)&0xc0 == 0x40:
		d.quicShort(off, end)
	default:
		d.data2(off, end)
	}
}

// udpEncap decodes UDP port 4500 (RFC 3948): a NAT keepalive, IKE after
// four zero bytes, or ESP.
func (d *decoder) udpEncap(off, end int) {
	switch {
	case end-off == 1 && d.u8(off) == 0xff:
		d.setProto("UDPENCAP")
		d.layer("udpencap", "UDP Encapsulation of IPsec Packets", off, 1)
		if d.infoReset() {
			d.is("NAT-keepalive")
		}
	case end-off >= 8 && d.be32(off) != 0:
		d.esp(off, end)
	default:
		d.data2(off, end)
	}
}

// transportPorts writes "sp → dp" as Info for a TCP or UDP (proto)
// header cut short after its ports, as Wireshark does.
func (d *decoder) transportPorts(proto string, off, end int) {
	if end-off >= 4 && d.has(off, 4) && d.infoReset() {
		d.iPort(proto, d.be16(off))
		d.is(" → ")
		d.iPort(proto, d.be16(off+2))
	}
}

// data2 shows undecoded payload bytes as a "data" layer.
func (d *decoder) data2(off, end int) {
	if off >= end || !d.tree {
		return
	}
	n := d.layer("data", "Data ("+strconv.Itoa(end-off)+" bytes)", off, end-off)
	d.fBytes(n, "data.data", "Data", off, end-off)
	d.fUint(n, "data.len", "Length", off, 0, uint64(end-off))
}
