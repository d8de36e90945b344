package dissect

import "strconv"

// igmp decodes an IGMP v1, v2 or v3 message.
func (d *decoder) igmp(off, end int) {
	switch d.u8(off) {
	case 0x11, 0x12, 0x16, 0x17, 0x22:
	default: // DVMRP, PIMv1, mtrace...: not decoded
		d.data2(off, end)
		if d.infoReset() {
			d.is("IGMP type ")
			d.ihex(uint64(d.u8(off)), 2)
		}
		return
	}
	d.setProto("IGMP")
	if end-off < 8 || !d.has(off, 8) {
		d.short(d.layer("igmp", "Internet Group Management Protocol", off, end-off), "IGMP", off)
		return
	}
	typ, mrt, csum := d.u8(off), d.u8(off+1), d.be16(off+2)
	ver, proto := 0, "IGMP"
	switch {
	case typ == 0x11 && end-off >= 12:
		ver, proto = 3, "IGMPv3"
	case typ == 0x11 && mrt == 0, typ == 0x12:
		ver, proto = 1, "IGMPv1"
	case typ == 0x11, typ == 0x16, typ == 0x17:
		ver, proto = 2, "IGMPv2"
	case typ == 0x22:
		ver, proto = 3, "IGMPv3"
	}
	title := "Internet Group Management Protocol"
	n := d.layer("igmp", title, off, end-off)
	d.setProto(proto)
	if ver > 0 {
		d.fUint(n, "igmp.version", "IGMP Version", off, 0, uint64(ver))
	}
	d.fHexName(n, "igmp.type", "Type", off, 1, uint64(typ), 2, igmpTypeName(typ))
	if n != nil {
		d.add(n, "igmp.max_resp", "Max Resp Time: "+igmpMaxResp(mrt, ver)+" sec ("+string(appendHex(nil, uint64(mrt), 2))+")", off+1, 1)
	}
	res, ok := d.fullChecksum(off, end, 0)
	d.checksumField(n, "igmp.checksum", off+2, csum, res, ok, !d.ipFrag)
	info := d.infoReset()
	if info {
		d.is(igmpTypeName(typ))
	}
	switch typ {
	case 0x11, 0x12, 0x16, 0x17:
		d.fIPv4(n, "igmp.maddr", "Multicast Address", off+4)
		if !info {
			return
		}
		if typ == 0x11 {
			if allZero(d.bytes(off+4, 4)) {
				d.is(", general")
			} else {
				d.is(", specific for group ")
				d.iIPv4(off + 4)
			}
			return
		}
		if typ != 0x17 {
			d.is(" group")
		}
		d.is(" ")
		d.iIPv4(off + 4)
	case 0x22:
		nrec := int(d.be16(off + 6))
		d.fUint(n, "igmp.num_grp_recs", "Num Group Records", off+6, 2, uint64(nrec))
		o := off + 8
		for i := 0; i < nrec && i < maxItems; i++ {
			if !d.has(o, 8) || o+8 > end {
				d.short(n, "IGMP", o)
				return
			}
			rt, aux, nsrc := d.u8(o), int(d.u8(o+1))*4, int(d.be16(o+2))
			rl := 8 + nsrc*4 + aux
			var r *Node
			if n != nil {
				r = d.add(n, "", "Group Record : "+string(appendIPv4(nil, d.bytes(o+4, 4)))+"  "+igmpRecordName(rt), o, rl)
			}
			d.fUint(r, "igmp.record_type", "Record Type", o, 1, uint64(rt))
			d.fUint(r, "igmp.aux_data_len", "Aux Data Len", o+1, 1, uint64(aux/4))
			d.fUint(r, "igmp.num_src", "Num Src", o+2, 2, uint64(nsrc))
			d.fIPv4(r, "igmp.maddr", "Multicast Address", o+4)
			if info {
				if i == 0 {
					d.is(" /")
				} else {
					d.is(" /")
				}
				switch {
				case (rt == 4 || rt == 2) && nsrc == 0:
					d.is(" Join group ")
					d.iIPv4(o + 4)
					d.is(" for any sources")
				case (rt == 3 || rt == 1) && nsrc == 0:
					d.is(" Leave group ")
					d.iIPv4(o + 4)
				default:
					d.is(" Group ")
					d.iIPv4(o + 4)
				}
			}
			o += rl
		}
	}
}

func igmpTypeName(t uint8) string {
	switch t {
	case 0x11:
		return "Membership Query"
	case 0x12, 0x16, 0x22:
		return "Membership Report"
	case 0x17:
		return "Leave Group"
	case 0x13:
		return "DVMRP"
	case 0x14:
		return "PIM v1"
	case 0x1e, 0x1f:
		return "Traceroute"
	}
	return "Unknown Type"
}

func igmpRecordName(t uint8) string {
	switch t {
	case 1:
		return "Mode Is Include"
	case 2:
		return "Mode Is Exclude"
	case 3:
		return "Change To Include Mode"
	case 4:
		return "Change To Exclude Mode"
	case 5:
		return "Allow New Sources"
	case 6:
		return "Block Old Sources"
	}
	return "Unknown"
}

// igmpMaxResp formats a Max Resp Code as seconds: tenths of a second, and
// in IGMPv3 (RFC 3376 section 4.1.1) a code from 128 up is a floating-point
// value, mantissa (low 4 bits) | 0x10 shifted by exponent (bits 4-6) + 3.
func igmpMaxResp(code uint8, ver int) string {
	tenths := uint64(code)
	if ver == 3 && code >= 128 {
		tenths = uint64(code&0x0f|0x10) << ((code>>4)&7 + 3)
	}
	return strconv.FormatUint(tenths/10, 10) + "." + strconv.FormatUint(tenths%10, 10)
}
