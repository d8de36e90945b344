package dissect

import "strconv"

// icmpv6 decodes an ICMPv6 message, including neighbour discovery.
func (d *decoder) icmpv6(off, end int) {
	d.setProto("ICMPv6")
	n := d.layer("icmpv6", "Internet Control Message Protocol v6", off, end-off)
	if end-off < 4 || !d.has(off, 4) {
		d.short(n, "ICMPv6", off)
		return
	}
	typ, code, csum := d.u8(off), d.u8(off+1), d.be16(off+2)
	tname, cname := icmpv6TypeName(typ), icmpv6CodeName(typ, code)
	d.fUintName(n, "icmpv6.type", "Type", off, 1, uint64(typ), tname)
	d.fUintName(n, "icmpv6.code", "Code", off+1, 1, uint64(code), cname)
	if len(d.ipSrc) == 16 {
		res, ok := d.fullChecksum(off, end, d.pseudoSum(58, end-off))
		d.checksumField(n, "icmpv6.checksum", off+2, csum, res, ok, !d.ipFrag)
	}
	isErr := typ >= 1 && typ <= 4
	if isErr {
		d.tag(tagICMPError)
	}
	info := d.infoReset()
	if info {
		if tname == "" {
			d.is("Unknown ICMPv6 type ")
			d.iu(uint64(typ))
		} else {
			d.is(tname)
		}
	}
	if info && cname != "" && !isErr {
		d.is(" (")
		d.is(cname)
		d.is(")")
	}
	if !d.has(off, 8) {
		d.short(n, "ICMPv6", off+4)
		return
	}
	body := off + 8
	switch {
	case isErr:
		if info && cname != "" {
			d.is(" (")
			d.is(cname)
			d.is(")")
		}
		if typ == 2 {
			d.fUint(n, "icmpv6.mtu", "MTU", off+4, 4, uint64(d.be32(off+4)))
		}
		if body < end {
			d.quoted(n, body, end, true)
		}
	case typ == 128 || typ == 129:
		id, seq := d.be16(off+4), d.be16(off+6)
		d.fHex(n, "icmpv6.echo.identifier", "Identifier", off+4, 2, uint64(id), 4)
		d.fUint(n, "icmpv6.echo.sequence_number", "Sequence", off+6, 2, uint64(seq))
		if info {
			d.is(" id=")
			d.ihex(uint64(id), 4)
			d.is(", seq=")
			d.iu(uint64(seq))
			if d.ttl >= 0 {
				d.is(", hop limit=")
				d.iu(uint64(d.ttl))
			}
		}
	case typ == 133: // router solicitation
		d.ndOptions(n, body, end, info, " from ")
	case typ == 134: // router advertisement
		if d.has(off, 16) {
			d.fUint(n, "icmpv6.nd.ra.cur_hop_limit", "Cur hop limit", off+4, 1, uint64(d.u8(off+4)))
			d.fHex(n, "icmpv6.nd.ra.flag", "Flags", off+5, 1, uint64(d.u8(off+5)), 2)
			d.fUint(n, "icmpv6.nd.ra.router_lifetime", "Router lifetime (s)", off+6, 2, uint64(d.be16(off+6)))
			d.fUint(n, "icmpv6.nd.ra.reachable_time", "Reachable time (ms)", off+8, 4, uint64(d.be32(off+8)))
			d.fUint(n, "icmpv6.nd.ra.retrans_timer", "Retrans timer (ms)", off+12, 4, uint64(d.be32(off+12)))
		}
		d.ndOptions(n, off+16, end, info, " from ")
	case typ == 135 || typ == 136 || typ == 137: // NS, NA, redirect
		if !d.has(off, 24) {
			d.short(n, "ICMPv6", off+8)
			return
		}
		field := "icmpv6.nd.ns.target_address"
		if typ == 136 {
			flags := d.u8(off + 4)
			fl := d.fHex(n, "icmpv6.nd.na.flag", "Flags", off+4, 4, uint64(d.be32(off+4)), 8)
			d.fBool(fl, "icmpv6.nd.na.flag.r", "Router", off+4, 4, flags&0x80 != 0)
			d.fBool(fl, "icmpv6.nd.na.flag.s", "Solicited", off+4, 4, flags&0x40 != 0)
			d.fBool(fl, "icmpv6.nd.na.flag.o", "Override", off+4, 4, flags&0x20 != 0)
			field = "icmpv6.nd.na.target_address"
		} else if typ == 137 {
			field = "icmpv6.nd.rd.target_address"
		}
		d.fIPv6(n, field, "Target Address", off+8)
		if info {
			switch typ {
			case 135:
				d.is(" for ")
				d.iIPv6(off + 8)
			case 136:
				d.is(" ")
				d.iIPv6(off + 8)
				flags := d.u8(off + 4)
				sep := " ("
				for _, f := range [...]struct {
					bit  uint8
					name string
				}{{0x80, "rtr"}, {0x40, "sol"}, {0x20, "ovr"}} {
					if flags&f.bit != 0 {
						d.is(sep)
						d.is(f.name)
						sep = ", "
					}
				}
				if sep == ", " {
					d.is(")")
				}
			}
		}
		if typ == 137 {
			d.fIPv6(n, "icmpv6.rd.na.destination_address", "Destination Address", off+24)
			d.ndOptions(n, off+40, end, false, "")
			return
		}
		sep := " from "
		if typ == 136 {
			sep = " is at "
		}
		d.ndOptions(n, off+24, end, info, sep)
	case typ == 143:
		d.fUint(n, "icmpv6.mldr.nb_mcast_records", "Number of Multicast Address Records", off+6, 2, uint64(d.be16(off+6)))
	}
}

// ndOptions shows neighbour-discovery options in [off, end); when info is
// set, the first link-layer address option is appended after sep.
func (d *decoder) ndOptions(n *Node, off, end int, info bool, sep string) {
	for i := 0; off+2 <= end && i < maxItems; i++ {
		t, l := d.u8(off), int(d.u8(off+1))*8
		if l == 0 || off+l > end || !d.has(off, l) {
			d.malformed(n, "ICMPv6", "option length impossible", off)
			return
		}
		var o *Node
		if n != nil {
			o = d.add(n, "icmpv6.opt", "ICMPv6 Option ("+ndOptName(t)+")", off, l)
			d.fUint(o, "icmpv6.opt.type", "Type", off, 1, uint64(t))
			d.fUint(o, "icmpv6.opt.length", "Length", off+1, 1, uint64(l/8))
		}
		switch t {
		case 1, 2:
			if l == 8 {
				field := "icmpv6.opt.src_linkaddr"
				if t == 2 {
					field = "icmpv6.opt.target_linkaddr"
				}
				d.fMAC(o, field, "Link-layer address", off+2)
				if info {
					d.is(sep)
					d.iMAC(off + 2)
					info = false
				}
			}
		case 3:
			if l == 32 {
				d.fUint(o, "icmpv6.opt.prefix.length", "Prefix Length", off+2, 1, uint64(d.u8(off+2)))
				d.fIPv6(o, "icmpv6.opt.prefix", "Prefix", off+16)
			}
		case 5:
			if l == 8 {
				d.fUint(o, "icmpv6.opt.mtu", "MTU", off+4, 4, uint64(d.be32(off+4)))
			}
		}
		off += l
	}
}

func ndOptName(t uint8) string {
	switch t {
	case 1:
		return "Source link-layer address"
	case 2:
		return "Target link-layer address"
	case 3:
		return "Prefix information"
	case 4:
		return "Redirected header"
	case 5:
		return "MTU"
	case 14:
		return "Nonce"
	case 24:
		return "Route Information"
	case 25:
		return "Recursive DNS Server"
	case 31:
		return "DNS Search List"
	}
	return "type " + strconv.Itoa(int(t))
}

func icmpv6TypeName(t uint8) string {
	switch t {
	case 1:
		return "Destination Unreachable"
	case 2:
		return "Packet Too Big"
	case 3:
		return "Time Exceeded"
	case 4:
		return "Parameter Problem"
	case 128:
		return "Echo (ping) request"
	case 129:
		return "Echo (ping) reply"
	case 130:
		return "Multicast Listener Query"
	case 131:
		return "Multicast Listener Report"
	case 132:
		return "Multicast Listener Done"
	case 133:
		return "Router Solicitation"
	case 134:
		return "Router Advertisement"
	case 135:
		return "Neighbor Solicitation"
	case 136:
		return "Neighbor Advertisement"
	case 137:
		return "Redirect"
	case 138:
		return "Router Renumbering"
	case 139:
		return "Node Information Query"
	case 140:
		return "Node Information Reply"
	case 143:
		return "Multicast Listener Report Message v2"
	case 160:
		return "Extended Echo request"
	case 161:
		return "Extended Echo reply"
	}
	return ""
}

func icmpv6CodeName(t, c uint8) string {
	switch t {
	case 1:
		switch c {
		case 0:
			return "no route to destination"
		case 1:
			return "communication with destination administratively prohibited"
		case 2:
			return "beyond scope of source address"
		case 3:
			return "Address unreachable"
		case 4:
			return "Port unreachable"
		case 5:
			return "source address failed ingress/egress policy"
		case 6:
			return "reject route to destination"
		}
	case 3:
		switch c {
		case 0:
			return "hop limit exceeded in transit"
		case 1:
			return "fragment reassembly time exceeded"
		}
	case 139:
		switch c {
		case 0:
			return "Query subject = IPv6 addresses"
		case 1:
			return "Query subject = Name"
		case 2:
			return "Query subject = IPv4 addresses"
		}
	case 140:
		switch c {
		case 0:
			return "Successful reply"
		case 1:
			return "Responder refuses to supply the answer"
		case 2:
			return "Qtype of the query is unknown to the responder"
		}
	case 160:
		if c == 0 {
			return "No error"
		}
	case 161:
		switch c {
		case 0:
			return "No error"
		case 1:
			return "Malformed Query"
		case 2:
			return "No Such Interface"
		case 3:
			return "No Such Table Entry"
		case 4:
			return "Multiple Interfaces Satisfy Query"
		}
	case 138:
		switch c {
		case 0:
			return "Command"
		case 1:
			return "Result"
		case 255:
			return "Sequence number reset"
		}
	case 4:
		switch c {
		case 0:
			return "erroneous header field encountered"
		case 1:
			return "unrecognized Next Header type encountered"
		case 2:
			return "unrecognized IPv6 option encountered"
		case 3:
			return "IPv6 First Fragment has incomplete IPv6 Header Chain"
		}
	}
	return ""
}
