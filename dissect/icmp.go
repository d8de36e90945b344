package dissect

import "strconv"

// icmp decodes an ICMP message; error messages quote the offending IP
// header, which is decoded as a nested layer without changing the columns.
func (d *decoder) icmp(off, end int) {
	d.setProto("ICMP")
	n := d.layer("icmp", "Internet Control Message Protocol", off, end-off)
	if end-off < 4 || !d.has(off, 4) {
		d.short(n, "ICMP", off)
		return
	}
	typ, code, csum := d.u8(off), d.u8(off+1), d.be16(off+2)
	tname, cname := icmpTypeName(typ), icmpCodeName(typ, code)
	d.fUintName(n, "icmp.type", "Type", off, 1, uint64(typ), tname)
	d.fUintName(n, "icmp.code", "Code", off+1, 1, uint64(code), cname)
	res, ok := d.fullChecksum(off, end, 0)
	d.checksumField(n, "icmp.checksum", off+2, csum, res, ok, !d.ipFrag)
	isErr := typ == 3 || typ == 4 || typ == 5 || typ == 11 || typ == 12
	if isErr {
		d.tag(tagICMPError)
	}
	echo := typ == 0 || typ == 8 || typ == 13 || typ == 14 || typ == 15 || typ == 16 || typ == 17 || typ == 18
	if echo && n != nil && d.has(off+4, 4) {
		id, seq := d.be16(off+4), d.be16(off+6)
		d.add(n, "icmp.ident", "Identifier (BE): "+strconv.Itoa(int(id))+" ("+string(appendHex(nil, uint64(id), 4))+")", off+4, 2)
		setU(d.add(n, "icmp.ident_le", "Identifier (LE): "+strconv.Itoa(int(swap16(id)))+" ("+string(appendHex(nil, uint64(swap16(id)), 4))+")", off+4, 2), uint64(swap16(id)))
		d.add(n, "icmp.seq", "Sequence Number (BE): "+strconv.Itoa(int(seq))+" ("+string(appendHex(nil, uint64(seq), 4))+")", off+6, 2)
		setU(d.add(n, "icmp.seq_le", "Sequence Number (LE): "+strconv.Itoa(int(swap16(seq)))+" ("+string(appendHex(nil, uint64(swap16(seq)), 4))+")", off+6, 2), uint64(swap16(seq)))
		if off+8 < end {
			dn := d.add(n, "data", "Data ("+strconv.Itoa(end-off-8)+" bytes)", off+8, end-off-8)
			d.fBytes(dn, "data.data", "Data", off+8, end-off-8)
			d.fUint(dn, "data.len", "Length", off+8, 0, uint64(end-off-8))
		}
	}
	if d.infoReset() {
		if tname == "" {
			d.is("Type ")
			d.iu(uint64(typ))
		} else {
			d.is(tname)
		}
		if cname != "" && !echo {
			d.is(" (")
			d.is(cname)
			d.is(")")
		}
		if echo && typ <= 8 && d.has(off+4, 4) {
			id, seq := d.be16(off+4), d.be16(off+6)
			if typ == 0 {
				d.is("    id=") // aligned with the requests, as Wireshark does
			} else {
				d.is("  id=")
			}
			d.ihex(uint64(id), 4)
			d.is(", seq=")
			d.iu(uint64(seq))
			d.is("/")
			d.iu(uint64(seq>>8 | seq<<8))
			if d.ttl >= 0 {
				d.is(", ttl=")
				d.iu(uint64(d.ttl))
			}
		}
	}
	if !d.has(off, 8) {
		if isErr || echo {
			d.short(n, "ICMP", off+4)
		}
		return
	}
	switch typ {
	case 5:
		d.fIPv4(n, "icmp.redir_gw", "Gateway Address", off+4)
	case 3:
		if code == 4 {
			d.fUint(n, "icmp.mtu", "MTU of next hop", off+6, 2, uint64(d.be16(off+6)))
		}
	}
	if isErr && off+8 < end {
		d.quoted(n, off+8, end, false)
	}
}

// quoted decodes the packet an ICMP or ICMPv6 error quotes, nested under n
// in the tree, leaving the summary columns alone.
func (d *decoder) quoted(n *Node, off, end int, v6 bool) {
	// Decoded without a tree too (columns untouched, as quiet says), so
	// that Layers names the quoted packet's layers.
	d.nested(n, func() {
		if v6 {
			d.ipv6(off, end)
		} else {
			d.ipv4(off, end)
		}
	})
}

// nested runs decode with the layers it makes nested under n and the
// summary columns left alone, and restores the state the outer layers
// share afterwards: for a packet quoted or carried inside another (an ICMP
// error's, an sFlow sample's).
func (d *decoder) nested(n *Node, decode func()) {
	saved, savedExt, savedSrc, savedDst, savedFrag, savedTTL, savedEnd := d.layerParent, d.extParent, d.ipSrc, d.ipDst, d.ipFrag, d.ttl, d.ipEnd
	d.layerParent = n
	d.quiet++
	decode()
	d.quiet--
	d.layerParent, d.extParent, d.ipSrc, d.ipDst, d.ipFrag, d.ttl, d.ipEnd = saved, savedExt, savedSrc, savedDst, savedFrag, savedTTL, savedEnd
}

// fullChecksum computes the Internet checksum over [off, end) with sum
// added, or reports ok=false when the bytes are not all captured.
func (d *decoder) fullChecksum(off, end int, sum uint32) (uint16, bool) {
	if end > len(d.data) || off > end || d.snapped(end) {
		return 0, false
	}
	return checksum(d.data[off:end], sum), true
}

// checksumField shows a checksum as correct or incorrect and tags a bad one;
// verifiable is false when the covered bytes are not all there (fragments,
// truncation).
func (d *decoder) checksumField(n *Node, field string, off int, csum uint16, res uint16, ok bool, verifiable bool) {
	if ok && verifiable && res != 0 {
		d.tag(tagBadChecksum)
	}
	if n == nil {
		return
	}
	label, status := "Checksum: "+string(appendHex(nil, uint64(csum), 4)), statusUnverified
	switch {
	case !ok || !verifiable:
		label += " [unverified]"
	case res == 0:
		label, status = label+" [correct]", statusGood
	default:
		label, status = label+" incorrect", statusBad
	}
	d.add(n, field, label, off, 2)
	d.checksumStatus(n, field, "Checksum Status", off, status)
}

// checksumState is the value of a field.status node, as Wireshark numbers
// its proto_checksum_vals.
type checksumState uint8

// Checksum states; their values are Wireshark's (tcp.checksum.status == 2
// selects unverified checksums).
const (
	statusBad        checksumState = 0
	statusGood       checksumState = 1
	statusUnverified checksumState = 2
	statusNotPresent checksumState = 3 // a UDP checksum of zero over IPv4
)

// String returns the state as Wireshark's "[Checksum Status: …]" lines say it.
func (s checksumState) String() string {
	switch s {
	case statusBad:
		return "Bad"
	case statusGood:
		return "Good"
	case statusUnverified:
		return "Unverified"
	case statusNotPresent:
		return "Not present"
	}
	return "Unknown"
}

// checksumStatus adds Wireshark's generated status line of the checksum
// field at off, "[Checksum Status: Unverified]", as field.status with the
// state as its value. Like Wireshark's, it covers no bytes of its own,
// except when the checksum is absent (zero): then it covers the field.
func (d *decoder) checksumStatus(n *Node, field, name string, off int, status checksumState) {
	if n == nil {
		return
	}
	length := 0
	if status == statusNotPresent {
		length = 2
	}
	setU(d.add(n, field+".status", "["+name+": "+status.String()+"]", off, length), uint64(status))
}

// transportChecksum checks a TCP or UDP checksum over [start, end) with
// the IP pseudo-header, when checksums are validated (Options): else it is
// shown unverified, as Wireshark does by default. A field holding just the
// pseudo-header's sum is what Linux leaves for a NIC that computes
// checksums (offload) in packets captured on the sending host: shown as
// such, not tagged as bad.
func (d *decoder) transportChecksum(n *Node, field string, off int, csum uint16, proto uint8, start, end int, whole bool) {
	if !d.checksums {
		if n != nil {
			d.add(n, field, "Checksum: "+string(appendHex(nil, uint64(csum), 4))+" [unverified]", off, 2)
			d.checksumStatus(n, field, "Checksum Status", off, statusUnverified)
		}
		return
	}
	pseudo := d.pseudoSum(proto, end-start)
	res, ok := d.fullChecksum(start, end, pseudo)
	if ok && whole && res != 0 && csum == checksumFold(pseudo) && !d.ipFrag {
		if n != nil {
			d.add(n, field, "Checksum: "+string(appendHex(nil, uint64(csum), 4))+" [unverified: left for the NIC to fill in]", off, 2)
			d.checksumStatus(n, field, "Checksum Status", off, statusUnverified)
		}
		return
	}
	d.checksumField(n, field, off, csum, res, ok && whole, !d.ipFrag)
}

func icmpTypeName(t uint8) string {
	switch t {
	case 0:
		return "Echo (ping) reply"
	case 3:
		return "Destination unreachable"
	case 4:
		return "Source quench (flow control)"
	case 5:
		return "Redirect"
	case 8:
		return "Echo (ping) request"
	case 9:
		return "Router advertisement"
	case 10:
		return "Router solicitation"
	case 11:
		return "Time-to-live exceeded"
	case 12:
		return "Parameter problem"
	case 13:
		return "Timestamp request"
	case 14:
		return "Timestamp reply"
	case 15:
		return "Information request"
	case 16:
		return "Information reply"
	case 17:
		return "Address mask request"
	case 18:
		return "Address mask reply"
	case 42:
		return "Extended Echo request"
	case 43:
		return "Extended Echo reply"
	}
	return ""
}

func icmpCodeName(t, c uint8) string {
	switch t {
	case 3:
		if int(c) < len(icmpUnreach) {
			return icmpUnreach[c]
		}
	case 5:
		switch c {
		case 0:
			return "Redirect for network"
		case 1:
			return "Redirect for host"
		case 2:
			return "Redirect for TOS and network"
		case 3:
			return "Redirect for TOS and host"
		}
	case 11:
		switch c {
		case 0:
			return "Time to live exceeded in transit"
		case 1:
			return "Fragment reassembly time exceeded"
		}
	case 12:
		switch c {
		case 0:
			return "Pointer indicates the error"
		case 1:
			return "Required option missing"
		case 2:
			return "Bad length"
		}
	}
	return ""
}

var icmpUnreach = [...]string{
	"Network unreachable", "Host unreachable", "Protocol unreachable", "Port unreachable",
	"Fragmentation needed", "Source route failed", "Destination network unknown",
	"Destination host unknown", "Source host isolated", "Network administratively prohibited",
	"Host administratively prohibited", "Network unreachable for TOS", "Host unreachable for TOS",
	"Communication administratively filtered", "Host precedence violation", "Precedence cutoff in effect",
}

// swap16 reverses the bytes of v: an identifier or sequence number read as
// little-endian, as Wireshark also shows them.
func swap16(v uint16) uint16 { return v<<8 | v>>8 }
