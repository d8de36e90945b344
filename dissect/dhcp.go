package dissect

import "strconv"

// dhcp decodes a BOOTP/DHCP message.
func (d *decoder) dhcp(off, end int) {
	d.setProto("DHCP")
	n := d.layer("dhcp", "Dynamic Host Configuration Protocol", off, end-off)
	if end-off < 236 || !d.has(off, 236) {
		d.short(n, "DHCP", off)
		return
	}
	op, htype, hlen := d.u8(off), d.u8(off+1), int(d.u8(off+2))
	xid := d.be32(off + 4)
	if n != nil {
		d.fUint(n, "dhcp.type", "Message type", off, 1, uint64(op))
		d.fUint(n, "dhcp.hw.type", "Hardware type", off+1, 1, uint64(htype))
		d.fUint(n, "dhcp.hw.len", "Hardware address length", off+2, 1, uint64(hlen))
		d.fUint(n, "dhcp.hops", "Hops", off+3, 1, uint64(d.u8(off+3)))
		d.fHex(n, "dhcp.id", "Transaction ID", off+4, 4, uint64(xid), 8)
		d.fUint(n, "dhcp.secs", "Seconds elapsed", off+8, 2, uint64(d.be16(off+8)))
		d.fHex(n, "dhcp.flags", "Bootp flags", off+10, 2, uint64(d.be16(off+10)), 4)
		d.fIPv4(n, "dhcp.ip.client", "Client IP address", off+12)
		d.fIPv4(n, "dhcp.ip.your", "Your (client) IP address", off+16)
		d.fIPv4(n, "dhcp.ip.server", "Next server IP address", off+20)
		d.fIPv4(n, "dhcp.ip.relay", "Relay agent IP address", off+24)
		if htype == 1 && hlen == 6 {
			d.fMAC(n, "dhcp.hw.mac_addr", "Client MAC address", off+28)
			d.fBytes(n, "dhcp.hw.addr_padding", "Client hardware address padding", off+34, 10)
		} else {
			d.fBytes(n, "dhcp.hw.addr", "Client hardware address", off+28, 16)
		}
		setS(d.add(n, "dhcp.server", "Server host name: "+string(appendPrintable(nil, d.bytes(off+44, cstrLen(d.bytes(off+44, 64))), 64)), off+44, 64), string(d.bytes(off+44, cstrLen(d.bytes(off+44, 64)))))
		setS(d.add(n, "dhcp.file", "Boot file name: "+string(appendPrintable(nil, d.bytes(off+108, cstrLen(d.bytes(off+108, 128))), 128)), off+108, 128), string(d.bytes(off+108, cstrLen(d.bytes(off+108, 128)))))
	}
	msgType := 0
	o := off + 236
	if d.has(o, 4) && o+4 <= end && d.be32(o) == 0x63825363 {
		d.fHex(n, "dhcp.cookie", "Magic cookie", o, 4, 0x63825363, 8)
		o += 4
		for i := 0; o < end && i < 2*maxItems; i++ {
			t := d.u8(o)
			if t == 0 {
				d.add(n, "dhcp.option.type", "Option: (0) Padding", o, 1)
				o++
				continue
			}
			if t == 255 {
				d.add(n, "dhcp.option.type", "Option: (255) End", o, 1)
				o++
				break
			}
			if o+2 > end || !d.has(o, 2) {
				d.short(n, "DHCP option", o)
				return
			}
			l := int(d.u8(o + 1))
			if o+2+l > end || !d.has(o, 2+l) {
				d.short(n, "DHCP option", o)
				return
			}
			if t == 53 && l == 1 {
				msgType = int(d.u8(o + 2))
			}
			if n != nil {
				opt := d.add(n, "dhcp.option.type", "Option: ("+strconv.Itoa(int(t))+") "+dhcpOptName(t), o, 2+l)
				d.fUint(opt, "dhcp.option.length", "Length", o+1, 1, uint64(l))
				switch {
				case t == 53 && l == 1:
					d.fUintName(opt, "dhcp.option.dhcp", "DHCP", o+2, 1, uint64(msgType), dhcpMsgName(msgType))
				case (t == 50 || t == 54 || t == 1 || t == 3) && l == 4:
					d.fIPv4(opt, "", dhcpOptName(t), o+2)
				case t == 12 || t == 15:
					d.fText(opt, "", dhcpOptName(t), o+2, l)
				}
			}
			o += 2 + l
		}
	}
	if o < end && n != nil {
		d.fBytes(n, "dhcp.option.padding", "Padding", o, end-o)
	}
	if !d.infoReset() {
		return
	}
	if msgType == 0 {
		d.setProto("BOOTP")
		if op == 1 {
			d.is("Boot Request from ")
		} else {
			d.is("Boot Reply")
			return
		}
		if htype == 1 && hlen == 6 {
			// Wireshark adds the resolved name; unresolved, the address again.
			d.iMAC(off + 28)
			d.is(" (")
			d.iMAC(off + 28)
			d.is(")")
		}
		return
	}
	d.is("DHCP ")
	d.is(dhcpMsgName(msgType))
	d.is(" - Transaction ID ")
	d.ihex(uint64(xid), 1)
}

func cstrLen(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

func dhcpMsgName(t int) string {
	switch t {
	case 1:
		return "Discover"
	case 2:
		return "Offer"
	case 3:
		return "Request"
	case 4:
		return "Decline"
	case 5:
		return "ACK"
	case 6:
		return "NAK"
	case 7:
		return "Release"
	case 8:
		return "Inform"
	case 9:
		return "Force Renew"
	case 10:
		return "Lease query"
	}
	return "Unknown Message Type"
}

func dhcpOptName(t uint8) string {
	switch t {
	case 1:
		return "Subnet Mask"
	case 3:
		return "Router"
	case 6:
		return "Domain Name Server"
	case 12:
		return "Host Name"
	case 15:
		return "Domain Name"
	case 50:
		return "Requested IP Address"
	case 51:
		return "IP Address Lease Time"
	case 53:
		return "DHCP Message Type"
	case 54:
		return "DHCP Server Identifier"
	case 55:
		return "Parameter Request List"
	case 57:
		return "Maximum DHCP Message Size"
	case 60:
		return "Vendor class identifier"
	case 61:
		return "Client identifier"
	case 81:
		return "Client Fully Qualified Domain Name"
	case 82:
		return "Agent Information Option"
	}
	return "Option " + strconv.Itoa(int(t))
}

// ntp decodes an NTP header.
func (d *decoder) ntp(off, end int) {
	d.setProto("NTP")
	n := d.layer("ntp", "Network Time Protocol", off, end-off)
	if end-off < 1 || !d.has(off, 1) {
		d.short(n, "NTP", off)
		return
	}
	fl := d.u8(off)
	ver, mode := fl>>3&7, fl&7
	if n != nil {
		n.Label = "Network Time Protocol (NTP Version " + strconv.Itoa(int(ver)) + ", " + ntpModeName(mode) + ")"
		d.fHex(n, "ntp.flags", "Flags", off, 1, uint64(fl), 2)
	}
	if d.infoReset() {
		d.is("NTP Version ")
		d.iu(uint64(ver))
		d.is(", ")
		d.is(ntpModeName(mode))
	}
	if mode == 6 || mode == 7 {
		return // control and private messages have their own layouts
	}
	if end-off < 48 || !d.has(off, 48) {
		d.short(n, "NTP", off+1)
		return
	}
	if n != nil {
		d.fUint(n, "ntp.stratum", "Peer Clock Stratum", off+1, 1, uint64(d.u8(off+1)))
		d.fUint(n, "ntp.ppoll", "Peer Polling Interval", off+2, 1, uint64(d.u8(off+2)))
		d.fUint(n, "ntp.precision", "Peer Clock Precision", off+3, 1, uint64(d.u8(off+3)))
		d.fHex(n, "ntp.rootdelay", "Root Delay", off+4, 4, uint64(d.be32(off+4)), 8)
		d.fHex(n, "ntp.rootdispersion", "Root Dispersion", off+8, 4, uint64(d.be32(off+8)), 8)
		d.fHex(n, "ntp.refid", "Reference ID", off+12, 4, uint64(d.be32(off+12)), 8)
		d.fHex(n, "ntp.reftime", "Reference Timestamp", off+16, 8, d.be64(off+16), 16)
		d.fHex(n, "ntp.org", "Origin Timestamp", off+24, 8, d.be64(off+24), 16)
		d.fHex(n, "ntp.rec", "Receive Timestamp", off+32, 8, d.be64(off+32), 16)
		d.fHex(n, "ntp.xmt", "Transmit Timestamp", off+40, 8, d.be64(off+40), 16)
	}
}

func ntpModeName(m uint8) string {
	switch m {
	case 0:
		return "reserved"
	case 1:
		return "symmetric active"
	case 2:
		return "symmetric passive"
	case 3:
		return "client"
	case 4:
		return "server"
	case 5:
		return "broadcast"
	case 6:
		return "control"
	}
	return "reserved for private use"
}
