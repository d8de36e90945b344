package dissect

// stp decodes a Spanning Tree BPDU (STP, RSTP, MSTP common part) carried
// in LLC with SAP 0x42.
func (d *decoder) stp(off, end int) {
	d.setProto("STP")
	n := d.layer("stp", "Spanning Tree Protocol", off, end-off)
	if end-off < 4 || !d.has(off, 4) {
		d.short(n, "STP", off)
		return
	}
	ver, typ := d.u8(off+2), d.u8(off+3)
	d.fHex(n, "stp.protocol", "Protocol Identifier", off, 2, uint64(d.be16(off)), 4)
	d.fUint(n, "stp.version", "Protocol Version Identifier", off+2, 1, uint64(ver))
	d.fHex(n, "stp.type", "BPDU Type", off+3, 1, uint64(typ), 2)
	if typ == 0x80 {
		d.setLength(n, off+4)
		if d.infoReset() {
			d.is("Topology Change Notification")
		}
		return
	}
	if end-off < 35 || !d.has(off, 35) {
		d.short(n, "STP", off+4)
		return
	}
	flags := d.u8(off + 4)
	if n != nil {
		d.fHex(n, "stp.flags", "BPDU flags", off+4, 1, uint64(flags), 2)
		for _, id := range [...]struct {
			at   int
			name string
		}{{5, "root"}, {17, "bridge"}} {
			p := d.be16(off + id.at)
			d.fUint(n, "stp."+id.name+".prio", "Priority", off+id.at, 2, uint64(p&0xf000))
			d.fUint(n, "stp."+id.name+".ext", "System ID Extension", off+id.at, 2, uint64(p&0x0fff))
			d.fMAC(n, "stp."+id.name+".hw", "System ID", off+id.at+2)
			if id.name == "root" {
				d.fUint(n, "stp.root.cost", "Root Path Cost", off+13, 4, uint64(d.be32(off+13)))
			}
		}
		d.fHex(n, "stp.port", "Port identifier", off+25, 2, uint64(d.be16(off+25)), 4)
		// Times are in 1/256 s; Wireshark's values are seconds.
		setU(d.fUint(n, "stp.msg_age", "Message Age", off+27, 2, uint64(d.be16(off+27))), uint64(d.be16(off+27)/256))
		setU(d.fUint(n, "stp.max_age", "Max Age", off+29, 2, uint64(d.be16(off+29))), uint64(d.be16(off+29)/256))
		setU(d.fUint(n, "stp.hello", "Hello Time", off+31, 2, uint64(d.be16(off+31))), uint64(d.be16(off+31)/256))
		setU(d.fUint(n, "stp.forward", "Forward Delay", off+33, 2, uint64(d.be16(off+33))), uint64(d.be16(off+33)/256))
	}
	if !d.infoReset() {
		return
	}
	switch {
	case typ == 0x02 && ver >= 3:
		d.is("MST. ")
	case typ == 0x02:
		d.is("RST. ")
	default:
		d.is("Conf. ")
	}
	if flags&1 != 0 {
		d.is("TC + ")
	}
	rp := d.be16(off + 5)
	d.is("Root = ")
	d.iu(uint64(rp & 0xf000))
	d.is("/")
	d.iu(uint64(rp & 0x0fff))
	d.is("/")
	d.iMAC(off + 7)
	d.is("  Cost = ")
	d.iu(uint64(d.be32(off + 13)))
	d.is("  Port = ")
	d.ihex(uint64(d.be16(off+25)), 4)
}
