package dissect

import "strconv"

// sflow decodes an sFlow version 5 datagram (UDP port 6343) far enough to
// reach what matters to a packet filter: the packet headers its flow
// samples carry (raw packet header records of Ethernet, IPv4 or IPv6),
// decoded nested under the sFlow layer as Wireshark does, leaving the
// summary columns to sFlow. Another version is left as data, as tshark
// does not take it for sFlow either.
func (d *decoder) sflow(off, end int) {
	if end-off < 28 || !d.has(off, 28) || d.be32(off) != 5 || (d.be32(off+4) != 1 && d.be32(off+4) != 2) {
		d.data2(off, end)
		return
	}
	v6 := d.be32(off+4) == 2
	o := off + 12
	if v6 {
		o += 12
	}
	if !d.has(off, o-off+16) {
		d.data2(off, end)
		return
	}
	subAgent, seq, nsamples := d.be32(o), d.be32(o+4), d.be32(o+12)
	d.setProto("sFlow")
	if d.infoReset() {
		d.is("V5, agent ")
		if v6 {
			d.info = appendIPv6(d.info, d.bytes(off+8, 16))
		} else {
			d.info = appendIPv4(d.info, d.bytes(off+8, 4))
		}
		d.is(", sub-agent ID ")
		d.iu(uint64(subAgent))
		d.is(", seq ")
		d.iu(uint64(seq))
		d.is(", ")
		d.iu(uint64(nsamples))
		d.is(" samples")
	}
	n := d.layer("sflow", "InMon sFlow", off, end-off)
	o += 16
	for i := 0; i < int(nsamples) && i < maxItems && o+8 <= end && d.has(o, 8); i++ {
		format, slen := d.be32(o)&0xfff, int(d.be32(o+4))
		body, send := o+8, o+8+slen
		if slen < 0 || send > end {
			d.malformed(n, "sFlow", "sample length "+strconv.Itoa(slen)+" out of bounds", o+4)
			return
		}
		var recs int // where a flow sample's record count is
		switch {
		case d.be32(o)>>12 != 0:
		case format == 1:
			recs = body + 28
		case format == 3:
			recs = body + 40
		}
		if recs > 0 && recs+4 <= send {
			d.sflowRecords(n, int(d.be32(recs)), recs+4, send)
		}
		o = send
	}
}

// sflowRecords walks a flow sample's records and decodes the packet
// header of each raw packet header record (format 1).
func (d *decoder) sflowRecords(n *Node, count, o, end int) {
	for i := 0; i < count && i < maxItems && o+8 <= end && d.has(o, 8); i++ {
		format, rlen := d.be32(o), int(d.be32(o+4))
		body, rend := o+8, o+8+rlen
		if rlen < 0 || rend > end {
			return
		}
		if format == 1 && body+16 <= rend {
			proto, hlen := d.be32(body), int(d.be32(body+12))
			hdr := body + 16
			if hlen >= 0 && hdr+hlen <= rend {
				d.sampledHeader(n, proto, hdr, hdr+hlen)
			}
		}
		o = rend
	}
}

// sampledHeader decodes a sampled packet header nested under n, leaving
// the summary columns alone.
func (d *decoder) sampledHeader(n *Node, proto uint32, off, end int) {
	if off >= end || !d.deeper(off) {
		return
	}
	defer d.shallower()
	d.nested(n, func() {
		switch proto {
		case 1: // Ethernet
			d.eth(off, end)
		case 11:
			d.ipv4(off, end)
		case 12:
			d.ipv6(off, end)
		}
	})
}
