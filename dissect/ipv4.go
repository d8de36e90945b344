package dissect

import (
	"encoding/binary"
	"strconv"
)

// ipv4 decodes an IPv4 header at off and its payload, returning the end of
// the packet as its total length gives it.
func (d *decoder) ipv4(off, end int) int {
	if end-off < 20 || !d.has(off, 20) {
		n := d.layer("ip", "Internet Protocol Version 4", off, end-off)
		d.setProto("IPv4")
		d.short(n, "IPv4", off)
		return end
	}
	vihl := d.u8(off)
	ver, ihl := int(vihl>>4), int(vihl&0xf)*4
	tot := int(d.be16(off + 2))
	var n *Node
	d.seen.add("ip") // a layer, even without a tree
	if d.grow("ip") {
		n = d.layer("ip", "Internet Protocol Version 4, Src: "+string(appendIPv4(nil, d.bytes(off+12, 4)))+", Dst: "+string(appendIPv4(nil, d.bytes(off+16, 4))), off, ihl)
		d.fUint(n, "ip.version", "Version", off, 1, uint64(ver))
		setU(d.add(n, "ip.hdr_len", "Header Length: "+strconv.Itoa(ihl)+" bytes ("+strconv.Itoa(ihl/4)+")", off, 1), uint64(ihl))
		d.fHex(n, "ip.dsfield", "Differentiated Services Field", off+1, 1, uint64(d.u8(off+1)), 2)
		if tot == 0 {
			// As Wireshark: the length the frame gives the IP packet.
			rep := end - off
			if end >= len(d.data) {
				rep = d.wire - off
			}
			setU(d.add(n, "ip.len", "Total Length: "+strconv.Itoa(rep)+` bytes (reported as 0, presumed to be because of "TCP segmentation offload" (TSO))`, off+2, 2), uint64(rep))
		} else {
			d.fUint(n, "ip.len", "Total Length", off+2, 2, uint64(tot))
		}
		d.fHex(n, "ip.id", "Identification", off+4, 2, uint64(d.be16(off+4)), 4)
	}
	d.setProto("IPv4")
	d.setAddrs(addrIPv4, off+12, off+16, 4)
	if ver != 4 {
		d.malformed(n, "IPv4", "bogus IP version ("+strconv.Itoa(ver)+")", off)
		return end
	}
	if ihl < 20 {
		d.malformed(n, "IPv4", "bogus IP header length ("+strconv.Itoa(ihl)+", must be at least 20)", off)
		return end
	}
	pend := off + tot
	switch {
	case tot == 0: // TSO: the length is left for the NIC to fill in
		pend = end
	case tot < ihl:
		d.malformed(n, "IPv4", "bogus IP length ("+strconv.Itoa(tot)+", less than header length "+strconv.Itoa(ihl)+")", off+2)
		return end
	}
	if pend > end {
		pend = end
	}
	flagsFrag := d.be16(off + 6)
	df, mf, fragOff := flagsFrag&0x4000 != 0, flagsFrag&0x2000 != 0, int(flagsFrag&0x1fff)*8
	ttl, proto := d.u8(off+8), d.u8(off+9)
	csum := d.be16(off + 10)
	d.ttl = int(ttl)
	if n != nil {
		fl := d.fHex(n, "ip.flags", "Flags", off+6, 1, uint64(flagsFrag>>13), 2)
		d.fBool(fl, "ip.flags.rb", "Reserved bit", off+6, 1, flagsFrag&0x8000 != 0)
		d.fBool(fl, "ip.flags.df", "Don't fragment", off+6, 1, df)
		d.fBool(fl, "ip.flags.mf", "More fragments", off+6, 1, mf)
		// The label gives bytes, as Wireshark's; the value is the raw field,
		// in 8-byte units, as Wireshark's filters compare it.
		setU(d.fUint(n, "ip.frag_offset", "Fragment Offset", off+6, 2, uint64(fragOff)), uint64(fragOff/8))
		d.fUint(n, "ip.ttl", "Time to Live", off+8, 1, uint64(ttl))
		d.fUintName(n, "ip.proto", "Protocol", off+9, 1, uint64(proto), ipProtoName(proto))
	}
	badSum := false // a header checksum verified and found wrong
	switch {
	case !d.has(off, ihl):
		d.fHex(n, "ip.checksum", "Header Checksum", off+10, 2, uint64(csum), 4)
	case !d.checksums:
		if n != nil {
			d.add(n, "ip.checksum", "Header Checksum: "+string(appendHex(nil, uint64(csum), 4))+" [validation disabled]", off+10, 2)
			d.checksumStatus(n, "ip.checksum", "Header checksum status", off+10, statusUnverified)
		}
	case checksum(d.data[off:off+ihl], 0) != 0:
		badSum = true
		d.tag(tagBadChecksum)
		if n != nil {
			want := ^uint16(checksumFold(checksumAdd(d.data[off:off+10], 0) + checksumAdd(d.data[off+12:off+ihl], 0)))
			d.add(n, "ip.checksum", "Header Checksum: "+string(appendHex(nil, uint64(csum), 4))+" incorrect, should be "+string(appendHex(nil, uint64(want), 4)), off+10, 2)
			d.checksumStatus(n, "ip.checksum", "Header checksum status", off+10, statusBad)
		}
	case n != nil:
		d.add(n, "ip.checksum", "Header Checksum: "+string(appendHex(nil, uint64(csum), 4))+" [correct]", off+10, 2)
		d.checksumStatus(n, "ip.checksum", "Header checksum status", off+10, statusGood)
	}
	d.fIPv4(n, "ip.src", "Source Address", off+12)
	d.fIPv4(n, "ip.dst", "Destination Address", off+16)
	if ihl > 20 {
		d.ipv4Options(n, off+20, off+ihl)
	}
	if !d.has(off, ihl) || end-off < ihl {
		d.short(n, "IPv4 options", off+20)
		return pend
	}
	d.ipSrc, d.ipDst = d.data[off+12:off+16], d.data[off+16:off+20]
	d.ipFrag = mf || fragOff != 0
	if d.ipFrag && !badSum && tot > ihl {
		// As Wireshark with ip.defragment on: a fragment whose bytes are
		// all here goes to reassembly, and shows the datagram only in
		// the packet that completes it.
		taken, done := d.fragment(n, false, d.ipSrc, d.ipDst, uint32(d.be16(off+4)), proto, fragOff, mf, off+ihl, tot-ihl)
		if done {
			return pend
		}
		if taken {
			fragOff = -fragOff - 1 // shown as a fragment, even the first
		}
	}
	if fragOff != 0 {
		if fragOff < 0 {
			fragOff = -fragOff - 1
		}
		if d.tree {
			d.data2(off+ihl, pend)
		}
		if d.infoReset() {
			d.is("Fragmented IP protocol (proto=")
			if name := ipProtoName(proto); name != "" {
				d.is(name)
				d.is(" ")
			}
			d.iu(uint64(proto))
			d.is(", off=")
			d.iu(uint64(fragOff))
			d.is(", ID=")
			d.info = appendHexDigits(d.info, uint64(d.be16(off+4)), 4)
			d.is(")")
		}
		return pend
	}
	d.extParent = nil
	d.ipEnd = off + tot
	if tot == 0 || d.ipEnd > d.wire {
		d.ipEnd = d.wire
	}
	d.setProtoEnd(n, d.ipEnd)
	d.ipPayload(proto, off+ihl, pend)
	return pend
}

// ipv4Options shows the options of an IPv4 header, [off, end).
func (d *decoder) ipv4Options(n *Node, off, end int) {
	if n == nil {
		return
	}
	opts := d.add(n, "", "Options: ("+strconv.Itoa(end-off)+" bytes)", off, end-off)
	for i := 0; off < end && i < maxItems; i++ {
		t := d.u8(off)
		if t == 0 || t == 1 {
			name := "End of Options List (EOL)"
			if t == 1 {
				name = "No Operation (NOP)"
			}
			o := d.add(opts, "", "IP Option - "+name, off, 1)
			d.fUint(o, "ip.opt.type", "Type", off, 1, uint64(t))
			off++
			if t == 0 {
				if off < end {
					d.fBytes(opts, "ip.opt.padding", "Padding", off, end-off)
				}
				return
			}
			continue
		}
		l := int(d.u8(off + 1))
		if l < 2 || off+l > end {
			d.malformed(opts, "IPv4", "option length "+strconv.Itoa(l)+" impossible", off)
			return
		}
		o := d.add(opts, "", "IP Option - "+ipOptName(t)+" ("+strconv.Itoa(l)+" bytes)", off, l)
		d.fUint(o, "ip.opt.type", "Type", off, 1, uint64(t))
		d.fUint(o, "ip.opt.len", "Length", off+1, 1, uint64(l))
		off += l
	}
}

func ipOptName(t uint8) string {
	switch t & 0x1f {
	case 2:
		return "Security"
	case 3:
		return "Loose Source Route"
	case 4:
		return "Time Stamp"
	case 7:
		return "Record Route"
	case 8:
		return "Stream ID"
	case 9:
		return "Strict Source Route"
	case 20:
		return "Router Alert"
	case 25:
		return "Quick-Start"
	}
	return "Unknown (" + strconv.Itoa(int(t)) + ")"
}

// ipPayload decodes the payload of an IP (or extension) header whose next
// protocol is proto, in [off, end).
func (d *decoder) ipPayload(proto uint8, off, end int) {
	if off >= end && proto != 59 {
		name := ipProtoName(proto)
		if name == "" {
			name = "IP payload"
		}
		d.short(nil, name, off) // nothing of the payload is here
		return
	}
	if !d.deeper(off) {
		return
	}
	defer d.shallower()
	switch proto {
	case 0, 43, 44, 60, 51:
	default:
		d.extParent = nil // extension headers end here
	}
	switch proto {
	case 1:
		d.icmp(off, end)
	case 2:
		d.igmp(off, end)
	case 4:
		d.ipv4(off, end)
	case 6:
		d.tcp(off, end)
	case 17:
		d.udp(off, end)
	case 41:
		d.ipv6(off, end)
	case 47:
		d.gre(off, end)
	case 50:
		d.esp(off, end)
	case 51:
		d.ah(off, end)
	case 58:
		d.icmpv6(off, end)
	case 132:
		d.sctp(off, end)
	case 0, 43, 44, 60:
		d.ipv6Ext(proto, off, end)
	case 59:
		// IPv6 No Next Header: nothing follows.
	default:
		if off < end {
			d.data2(off, end)
		}
		if d.infoReset() {
			if name := ipProtoName(proto); name != "" {
				d.is(name)
			} else {
				d.is("Unknown")
			}
			d.is(" (")
			d.iu(uint64(proto))
			d.is(")")
		}
	}
}

// checksumAdd adds b as big-endian 16-bit words to sum (a one's
// complement partial sum, folded later by checksumFold). It adds eight
// bytes at a time: the 16-bit words of a 64-bit big-endian load sum to the
// same one's complement value as its two 32-bit halves.
func checksumAdd(b []byte, sum uint32) uint32 {
	acc := uint64(sum)
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		acc += v >> 32
		acc += v & 0xffffffff
		b = b[8:]
	}
	if len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	// Fold 64 -> 32 bits keeping the one's complement sum.
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>32 + acc&0xffffffff
	return uint32(checksumFold32(uint32(acc)))
}

// checksumFold32 folds a 32-bit one's complement sum to 16 bits, keeping
// it in a uint32 so partial sums can be added again.
func checksumFold32(s uint32) uint32 {
	s = s>>16 + s&0xffff
	return s>>16 + s&0xffff
}

func checksumFold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// checksum returns the Internet checksum of b with sum added: 0 when b
// (which includes its checksum field) is correct.
func checksum(b []byte, sum uint32) uint16 {
	return ^checksumFold(checksumAdd(b, sum))
}

// pseudoSum is the IPv4 or IPv6 pseudo-header sum for a transport
// checksum over length bytes of protocol proto.
func (d *decoder) pseudoSum(proto uint8, length int) uint32 {
	s := checksumAdd(d.ipSrc, 0)
	s = checksumAdd(d.ipDst, s)
	return s + uint32(proto) + uint32(length&0xffff) + uint32(length>>16)
}
