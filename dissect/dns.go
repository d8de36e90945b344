package dissect

import "strconv"

// Bounds on DNS name decoding.
const (
	maxNameJumps = 32  // compression pointers followed per name
	maxNameLen   = 255 // presentation bytes kept per name
)

// readName decodes the (possibly compressed) domain name at off in the DNS
// message that starts at msg and ends at end, appending its presentation
// form to b. It returns the offset just after the name where it is stored
// (not where pointers lead) and ok=false for a malformed or looping name;
// cut is set too when the name is not malformed but runs past end or the
// captured bytes. Pointers must point backwards, so a name cannot loop;
// jumps are also counted.
func (d *decoder) readName(b []byte, off, msg, end int) (_ []byte, next int, ok, cut bool) {
	next = -1
	start := len(b)
	pos := off
	limit := pos // pointers must point before the label that holds them
	for jumps := 0; ; {
		if pos >= end || !d.has(pos, 1) {
			return b, pos, false, true
		}
		l := int(d.data[pos])
		switch {
		case l == 0:
			if next < 0 {
				next = pos + 1
			}
			if len(b) == start {
				b = append(b, "<Root>"...)
			}
			return b, next, true, false
		case l&0xc0 == 0xc0:
			if !d.has(pos, 2) || pos+2 > end {
				return b, pos, false, true
			}
			ptr := msg + ((l&0x3f)<<8 | int(d.data[pos+1]))
			if next < 0 {
				next = pos + 2
			}
			jumps++
			if jumps > maxNameJumps || ptr >= limit {
				return b, next, false, false
			}
			pos, limit = ptr, ptr
		case l&0xc0 != 0:
			return b, pos, false, false // extended label types are obsolete
		default:
			if pos+1+l > end || !d.has(pos+1, l) {
				return b, pos, false, true
			}
			if len(b) > start {
				b = append(b, '.')
			}
			if len(b)-start+l <= maxNameLen {
				for _, c := range d.data[pos+1 : pos+1+l] {
					if c > 0x20 && c < 0x7f {
						b = append(b, c)
					} else {
						b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
					}
				}
			}
			pos += 1 + l
		}
	}
}

// dnsTCP decodes DNS over TCP: a 2-byte length before each message.
func (d *decoder) dnsTCP(off, end int) {
	if end-off < 2 {
		d.data2(off, end)
		return
	}
	l := int(d.be16(off))
	mend := off + 2 + l
	if mend > end {
		mend = end
	}
	d.dns(off, mend, "dns", "Domain Name System", "DNS", true)
}

// dns decodes a DNS, mDNS or LLMNR message in [off, end); over TCP the
// message starts after a 2-byte length.
func (d *decoder) dns(off, end int, field, title, proto string, tcp bool) {
	d.setProto(proto)
	d.tag(tagDNS)
	n := d.layer(field, title, off, end-off)
	if tcp {
		d.fUint(n, "dns.length", "Length", off, 2, uint64(d.be16(off)))
		off += 2
	}
	msg := off
	if end-off < 12 || !d.has(off, 12) {
		if end-off >= 4 && d.has(off, 4) && d.infoReset() {
			d.is(dnsOpcodeName(int(d.be16(off+2) >> 11 & 0xf)))
			if d.be16(off+2)&0x8000 != 0 {
				d.is(" response")
			}
			d.is(" ")
			d.ihex(uint64(d.be16(off)), 4)
		}
		d.short(n, proto, off)
		return
	}
	id, flags := d.be16(off), d.be16(off+2)
	qd, an, ns, ar := int(d.be16(off+4)), int(d.be16(off+6)), int(d.be16(off+8)), int(d.be16(off+10))
	resp := flags&0x8000 != 0
	opcode, rcode := int(flags>>11&0xf), int(flags&0xf)
	if n != nil {
		if resp {
			n.Label = title + " (response)"
		} else {
			n.Label = title + " (query)"
		}
		d.fHex(n, "dns.id", "Transaction ID", off, 2, uint64(id), 4)
		fl := d.fHex(n, "dns.flags", "Flags", off+2, 2, uint64(flags), 4)
		d.dnsFlags(fl, off+2, flags)
		d.fUint(n, "dns.count.queries", "Questions", off+4, 2, uint64(qd))
		d.fUint(n, "dns.count.answers", "Answer RRs", off+6, 2, uint64(an))
		d.fUint(n, "dns.count.auth_rr", "Authority RRs", off+8, 2, uint64(ns))
		d.fUint(n, "dns.count.add_rr", "Additional RRs", off+10, 2, uint64(ar))
	}
	info := d.infoReset()
	if info {
		d.is(dnsOpcodeName(opcode))
		if resp {
			d.is(" response")
		}
		d.is(" ")
		d.ihex(uint64(id), 4)
		if resp && rcode != 0 {
			d.is(" ")
			d.is(dnsRcodeName(rcode))
		}
	}
	o := off + 12
	var sect *Node
	if qd > 0 && n != nil {
		sect = d.add(n, "", "Queries", o, 0)
	}
	for i := 0; i < qd; i++ {
		if i >= maxItems {
			d.malformed(n, proto, "too many queries", o)
			return
		}
		var next int
		var ok bool
		var cut bool
		d.scratch, next, ok, cut = d.readName(d.scratch[:0], o, msg, end)
		if !ok {
			if cut && d.snapped(end) {
				d.short(sect, proto, o)
				return
			}
			d.malformed(sect, proto, "bad query name", o)
			return
		}
		if !d.has(next, 4) || next+4 > end {
			d.short(sect, proto, next)
			return
		}
		typ, class := d.be16(next), d.be16(next+2)
		if sect != nil {
			name := string(d.scratch)
			q := d.add(sect, "", name+": type "+dnsTypeName(typ)+", class "+dnsClassName(class&0x7fff), o, next+4-o)
			setS(d.add(q, "dns.qry.name", "Name: "+name, o, next-o), name)
			d.fUintName(q, "dns.qry.type", "Type", next, 2, uint64(typ), dnsTypeName(typ))
			d.fHex(q, "dns.qry.class", "Class", next+2, 2, uint64(class), 4)
			d.setLength(sect, next+4)
		}
		if info {
			d.is(" ")
			d.is(dnsTypeName(typ))
			d.is(" ")
			d.info = append(d.info, d.scratch...)
		}
		if info && field == "mdns" {
			if class&0x8000 != 0 {
				d.is(", \"QU\" question")
			} else {
				d.is(", \"QM\" question")
			}
		}
		o = next + 4
	}
	sections := [3]struct {
		count int
		title string
	}{{an, "Answers"}, {ns, "Authoritative nameservers"}, {ar, "Additional records"}}
	for _, s := range sections {
		if s.count == 0 {
			continue
		}
		if n != nil {
			sect = d.add(n, "", s.title, o, 0)
		}
		for i := 0; i < s.count; i++ {
			if i >= maxItems {
				d.malformed(n, proto, "too many records", o)
				return
			}
			var ok bool
			o, ok = d.dnsRR(sect, o, msg, end, info, proto)
			if !ok {
				return
			}
			d.setLength(sect, o)
		}
	}
}

// dnsRR decodes one resource record at off, returning the offset after it.
func (d *decoder) dnsRR(sect *Node, off, msg, end int, info bool, proto string) (int, bool) {
	var next int
	var ok bool
	var cut bool
	d.scratch, next, ok, cut = d.readName(d.scratch[:0], off, msg, end)
	if !ok {
		if cut && d.snapped(end) {
			d.short(sect, proto, off)
			return off, false
		}
		d.malformed(sect, proto, "bad record name", off)
		return off, false
	}
	if !d.has(next, 10) || next+10 > end {
		d.short(sect, proto, next)
		return off, false
	}
	typ, class, ttl, rdlen := d.be16(next), d.be16(next+2), d.be32(next+4), int(d.be16(next+8))
	rd := next + 10
	if rd+rdlen > end || !d.has(rd, rdlen) {
		d.short(sect, proto, rd)
		return off, false
	}
	tname := dnsTypeName(typ)
	var r *Node
	if sect != nil {
		name := string(d.scratch)
		r = d.add(sect, "", name+": type "+tname, off, rd+rdlen-off)
		setS(d.add(r, "dns.resp.name", "Name: "+name, off, next-off), name)
		d.fUintName(r, "dns.resp.type", "Type", next, 2, uint64(typ), tname)
		if typ != 41 {
			d.fHex(r, "dns.resp.class", "Class", next+2, 2, uint64(class), 4)
			d.fUint(r, "dns.resp.ttl", "Time to live", next+4, 4, uint64(ttl))
		}
		d.fUint(r, "dns.resp.len", "Data length", next+8, 2, uint64(rdlen))
	}
	if info {
		d.is(" ")
		d.is(tname)
	}
	switch typ {
	case 1:
		if rdlen == 4 {
			d.fIPv4(r, "dns.a", "Address", rd)
			if info {
				d.is(" ")
				d.iIPv4(rd)
			}
		}
	case 28:
		if rdlen == 16 {
			d.fIPv6(r, "dns.aaaa", "AAAA Address", rd)
			if info {
				d.is(" ")
				d.iIPv6(rd)
			}
		}
	case 2, 5, 12, 15, 6:
		at := rd
		field, label := "dns.ns", "Name Server"
		switch typ {
		case 5:
			field, label = "dns.cname", "CNAME"
		case 12:
			field, label = "dns.ptr.domain_name", "Domain Name"
		case 15:
			if rdlen < 3 {
				break
			}
			d.fUint(r, "dns.mx.preference", "Preference", rd, 2, uint64(d.be16(rd)))
			if info {
				d.is(" ")
				d.iu(uint64(d.be16(rd)))
			}
			at += 2
			field, label = "dns.mx.mail_exchange", "Mail Exchange"
		case 6:
			field, label = "dns.soa.mname", "Primary name server"
		}
		if info {
			d.is(" ")
			d.info, _, _, _ = d.readName(d.info, at, msg, rd+rdlen)
		}
		if r != nil {
			if tgt, tgtEnd, ok, _ := d.readName(nil, at, msg, rd+rdlen); ok {
				setS(d.add(r, field, label+": "+string(tgt), at, tgtEnd-at), string(tgt))
			}
		}
	case 33:
		if rdlen >= 7 {
			d.fUint(r, "dns.srv.priority", "Priority", rd, 2, uint64(d.be16(rd)))
			d.fUint(r, "dns.srv.weight", "Weight", rd+2, 2, uint64(d.be16(rd+2)))
			d.fUint(r, "dns.srv.port", "Port", rd+4, 2, uint64(d.be16(rd+4)))
			if info {
				d.is(" ")
				d.iu(uint64(d.be16(rd)))
				d.is(" ")
				d.iu(uint64(d.be16(rd + 2)))
				d.is(" ")
				d.iu(uint64(d.be16(rd + 4)))
				d.is(" ")
				d.info, _, _, _ = d.readName(d.info, rd+6, msg, rd+rdlen)
			}
			if r != nil {
				if tgt, te, ok, _ := d.readName(nil, rd+6, msg, rd+rdlen); ok {
					setS(d.add(r, "dns.srv.target", "Target: "+string(tgt), rd+6, te-rd-6), string(tgt))
				}
			}
		}
	case 16:
		if r != nil && rdlen > 0 {
			d.fText(r, "dns.txt", "TXT", rd+1, int(d.u8(rd)))
		}
	}
	return rd + rdlen, true
}

func dnsOpcodeName(op int) string {
	switch op {
	case 0:
		return "Standard query"
	case 1:
		return "Inverse query"
	case 2:
		return "Server status request"
	case 4:
		return "Zone change notification"
	case 5:
		return "Dynamic update"
	}
	return "Unknown operation (" + strconv.Itoa(op) + ")"
}

func dnsRcodeName(rc int) string {
	switch rc {
	case 1:
		return "Format error"
	case 2:
		return "Server failure"
	case 3:
		return "No such name"
	case 4:
		return "Not implemented"
	case 5:
		return "Refused"
	case 6:
		return "Name exists"
	case 7:
		return "RRset exists"
	case 8:
		return "RRset does not exist"
	case 9:
		return "Not authoritative"
	case 10:
		return "Name out of zone"
	}
	return "Unknown error"
}

func dnsClassName(c uint16) string {
	switch c {
	case 1:
		return "IN"
	case 3:
		return "CH"
	case 4:
		return "HS"
	case 254:
		return "NONE"
	case 255:
		return "ANY"
	}
	return "Unknown"
}

var dnsTypeNames = map[uint16]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
	17: "RP", 18: "AFSDB", 24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR", 36: "KX",
	37: "CERT", 39: "DNAME", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG",
	47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 59: "CDS", 60: "CDNSKEY",
	61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY", 250: "TSIG",
	251: "IXFR", 252: "AXFR", 255: "ANY", 256: "URI", 257: "CAA",
}

func dnsTypeName(t uint16) string {
	switch t { // the common ones without a map lookup
	case 1:
		return "A"
	case 28:
		return "AAAA"
	case 12:
		return "PTR"
	case 5:
		return "CNAME"
	}
	if n, ok := dnsTypeNames[t]; ok {
		return n
	}
	return "Unknown (" + strconv.Itoa(int(t)) + ")"
}

// dnsFlags adds the bits of a DNS header's flags word at off under fl, the
// ones Wireshark shows for a query or for a response.
func (d *decoder) dnsFlags(fl *Node, off int, flags uint16) {
	if fl == nil {
		return
	}
	resp := flags&0x8000 != 0
	bit := func(field, name string, mask uint16) {
		setBool(d.add(fl, field, name+": "+strconv.Itoa(int(flags&mask)/int(mask)), off, 2), flags&mask != 0)
	}
	bit("dns.flags.response", "Response", 0x8000)
	d.fUint(fl, "dns.flags.opcode", "Opcode", off, 2, uint64(flags>>11&0xf))
	if resp {
		bit("dns.flags.authoritative", "Authoritative", 0x0400)
	}
	bit("dns.flags.truncated", "Truncated", 0x0200)
	bit("dns.flags.recdesired", "Recursion desired", 0x0100)
	if resp {
		bit("dns.flags.recavail", "Recursion available", 0x0080)
	}
	bit("dns.flags.z", "Z", 0x0040)
	if resp {
		bit("dns.flags.authenticated", "Answer authenticated", 0x0020)
	}
	bit("dns.flags.checkdisable", "Non-authenticated data", 0x0010)
	if resp {
		d.fUint(fl, "dns.flags.rcode", "Reply code", off, 2, uint64(flags&0xf))
	}
}
