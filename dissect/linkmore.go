package dissect

import (
	"strconv"
)

// ipoib decodes LINKTYPE_IPOIB: IP over InfiniBand (RFC 4391) with a
// 40-byte pseudo-header before the 4-byte encapsulation header (an
// EtherType and a reserved word). As Wireshark reads it, a pseudo-header
// whose first word is zero holds only the destination address at 20 (a
// reserved byte, the 24-bit queue pair number, the GID); any other is a
// Global Route Header (version, traffic class, flow label, source QPN,
// source and destination GIDs). Only IPv4, IPv6, ARP and RARP payloads
// are decoded.
func (d *decoder) ipoib(off, end int) {
	const hdr = 44
	d.setProto("IPoIB")
	if end-off < hdr || !d.has(off, hdr) {
		n := d.layer("ipoib", "IP over Infiniband", off, end-off)
		d.short(n, "IPoIB", off)
		return
	}
	typ := d.be16(off + 40)
	n := d.layer("ipoib", "IP over Infiniband", off, hdr)
	if n != nil {
		if d.be16(off) == 0 {
			a := d.add(n, "ipoib.daddr", "Destination address", off+20, 20)
			d.fHex(a, "ipoib.daddr.qpn", "Destination QPN", off+21, 3, uint64(d.be24(off+21)), 6)
			d.fIPv6(a, "ipoib.dgid", "Destination GID", off+24)
		} else {
			g := d.add(n, "ipoib.grh", "Global Route Header", off, 40)
			w := d.be32(off)
			d.fUint(g, "ipoib.grh.ipver", "IP Version", off, 1, uint64(w>>28))
			d.fUint(g, "ipoib.grh.tclass", "Traffic Class", off, 2, uint64(w>>20&0xff))
			d.fUint(g, "ipoib.grh.flowlabel", "Flow Label", off, 4, uint64(w&0xfffff))
			d.fHex(g, "ipoib.grh.sqpn", "Source QPN", off+5, 3, uint64(d.be24(off+5)), 6)
			d.fIPv6(g, "ipoib.grh.sgid", "Source GID", off+8)
			d.fIPv6(g, "ipoib.dgid", "Destination GID", off+24)
		}
		d.fHexName(n, "ipoib.type", "Type", off+40, 2, uint64(typ), 4, etherTypeName(typ))
		d.fHex(n, "ipoib.reserved", "Reserved", off+42, 2, uint64(d.be16(off+42)), 4)
	}
	switch typ {
	case 0x0800, 0x86dd, 0x0806:
		d.etherPayload(typ, off+hdr, end)
	case 0x8035:
		d.arp(off+hdr, end)
	}
}

// ipnet decodes LINKTYPE_IPNET: Solaris's 24-byte IPNET header (version,
// address family, hook, data length, interface indexes, zone IDs), then an
// IPv4 or IPv6 packet by the family (Solaris AF_INET 2, AF_INET6 26).
func (d *decoder) ipnet(off, end int) {
	const hdr = 24
	d.setProto("IPNET")
	if end-off < hdr || !d.has(off, hdr) {
		n := d.layer("ipnet", "Solaris IPNET", off, end-off)
		d.short(n, "IPNET", off)
		return
	}
	fam := d.u8(off + 1)
	n := d.layer("ipnet", "Solaris IPNET", off, hdr)
	if n != nil {
		d.fUint(n, "ipnet.version", "Header version", off, 1, uint64(d.u8(off)))
		d.fUint(n, "ipnet.family", "Address family", off+1, 1, uint64(fam))
		d.fUint(n, "ipnet.htype", "Hook type", off+2, 2, uint64(d.be16(off+2)))
		d.fUint(n, "ipnet.pktlen", "Data length", off+4, 4, uint64(d.be32(off+4)))
		d.fUint(n, "ipnet.ifindex", "Interface index", off+8, 4, uint64(d.be32(off+8)))
		d.fUint(n, "ipnet.grifindex", "Group interface index", off+12, 4, uint64(d.be32(off+12)))
		d.fUint(n, "ipnet.zsrc", "Source Zone ID", off+16, 4, uint64(d.be32(off+16)))
		d.fUint(n, "ipnet.zdst", "Destination Zone ID", off+20, 4, uint64(d.be32(off+20)))
	}
	switch fam {
	case 2:
		d.ipv4(off+hdr, end)
	case 26:
		d.ipv6(off+hdr, end)
	default:
		d.data2(off+hdr, end)
	}
}

// nflog decodes LINKTYPE_NFLOG: Linux netfilter's log messages, a 4-byte
// header (address family, version, resource ID in network order) and
// type-length-value attributes in host (little-endian) order, each padded
// to 4 bytes. The NFULA_PAYLOAD attribute (9) holds the logged packet,
// decoded as IPv4 or IPv6 by the family.
func (d *decoder) nflog(off, end int) {
	d.setProto("NFLOG")
	n := d.layer("nflog", "Linux Netfilter NFLOG", off, end-off)
	if end-off < 4 || !d.has(off, 4) {
		d.short(n, "NFLOG", off)
		return
	}
	fam := d.u8(off)
	d.fUint(n, "nflog.family", "Family", off, 1, uint64(fam))
	d.fUint(n, "nflog.version", "Version", off+1, 1, uint64(d.u8(off+1)))
	d.fUint(n, "nflog.res_id", "Resource id", off+2, 2, uint64(d.be16(off+2)))
	payload, pend := -1, 0
	for p, i := off+4, 0; p+4 <= end && d.has(p, 4) && i < maxItems; i++ {
		l := int(d.u8(p)) | int(d.u8(p+1))<<8
		typ := (uint64(d.u8(p+2)) | uint64(d.u8(p+3))<<8) & 0x7fff
		if l < 4 || p+l > end {
			d.malformed(n, "NFLOG", "attribute length "+strconv.Itoa(l)+" out of bounds", p)
			return
		}
		t := d.fBytes(n, "nflog.tlv", "TLV", p, l)
		d.fUint(t, "nflog.tlv_length", "Length", p, 2, uint64(l))
		d.fUint(t, "nflog.tlv_type", "Type", p+2, 2, typ)
		if typ == 9 && payload < 0 {
			payload, pend = p+4, p+l
		}
		p += (l + 3) &^ 3
	}
	if payload < 0 {
		return
	}
	switch fam {
	case 2:
		d.ipv4(payload, pend)
	case 10:
		d.ipv6(payload, pend)
	default:
		d.data2(payload, pend)
	}
}

// frameRelay decodes LINKTYPE_FRELAY: a 2-byte Q.922 address (the DLCI and
// its bits), then, as Wireshark's default encapsulation preference reads
// it, either an RFC 2427 (FRF 3.2) UI control byte and NLPID (IPv4, IPv6)
// or a Cisco HDLC EtherType.
func (d *decoder) frameRelay(off, end int) {
	d.setProto("FR")
	if end-off < 4 || !d.has(off, 4) || d.u8(off)&1 != 0 || d.u8(off+1)&1 == 0 {
		n := d.layer("fr", "Frame Relay", off, end-off)
		d.short(n, "Frame Relay", off)
		return
	}
	dlci := uint64(d.u8(off)>>2)<<4 | uint64(d.u8(off+1)>>4)
	n := d.layer("fr", "Frame Relay", off, 4)
	d.fUint(n, "fr.dlci", "DLCI", off, 2, dlci)
	if d.infoReset() {
		d.is("DLCI ")
		d.iu(dlci)
	}
	if d.u8(off+2) != 0x03 {
		et := d.be16(off + 2)
		d.fHexName(n, "fr.chdlctype", "Type", off+2, 2, uint64(et), 4, etherTypeName(et))
		d.etherPayload(et, off+4, end)
		return
	}
	nlpid := d.u8(off + 3)
	d.fHex(n, "fr.control", "Control Field", off+2, 1, 3, 2)
	d.fHex(n, "fr.nlpid", "NLPID", off+3, 1, uint64(nlpid), 2)
	switch nlpid {
	case 0xcc:
		d.ipv4(off+4, end)
	case 0x8e:
		d.ipv6(off+4, end)
	default:
		d.data2(off+4, end)
	}
}

// juniperEther decodes LINKTYPE_JUNIPER_ETHER: Juniper's pseudo-header (the
// magic "MGC", a flags byte, and when its top bit is set a 2-byte length
// of extension TLVs), then the Ethernet frame.
func (d *decoder) juniperEther(off, end int) {
	d.setProto("Juniper")
	n := d.layer("juniper", "Juniper Ethernet", off, 4)
	if end-off < 4 || !d.has(off, 4) || d.be24(off) != 0x4d4743 {
		d.malformed(n, "Juniper", "no magic number", off)
		return
	}
	flags := d.u8(off + 3)
	d.fHex(n, "juniper.magic-number", "Magic Number", off, 3, uint64(d.be24(off)), 6)
	d.fHex(n, "juniper.direction", "Direction", off+3, 1, uint64(flags&1), 2)
	d.fHex(n, "juniper.l2hdr", "L2 header presence", off+3, 1, uint64(flags>>1&1), 2)
	hdr := 4
	if flags&0x80 != 0 {
		if !d.has(off+4, 2) {
			d.short(n, "Juniper", off+4)
			return
		}
		ext := int(d.be16(off + 4))
		d.fUint(n, "juniper.ext_total_len", "Extension(s) Total length", off+4, 2, uint64(ext))
		hdr += 2 + ext
	}
	d.setLength(n, off+hdr)
	if off+hdr > end {
		d.malformed(n, "Juniper", "extensions past the end of the frame", off+4)
		return
	}
	d.eth(off+hdr, end)
}
