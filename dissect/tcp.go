package dissect

import "strconv"

var tcpFlagNames = [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE"}

// tcp decodes a TCP header with its options and hands the payload to an
// application decoder chosen by port.
func (d *decoder) tcp(off, end int) {
	d.setProto("TCP")
	if end-off < 20 || !d.has(off, 20) {
		d.transportPorts("tcp", off, end)
		d.short(d.layer("tcp", "Transmission Control Protocol", off, end-off), "TCP", off)
		return
	}
	sp, dp := d.be16(off), d.be16(off+2)
	seq, ack := d.be32(off+4), d.be32(off+8)
	hl := int(d.u8(off+12)>>4) * 4
	flags := d.be16(off+12) & 0x1ff
	win, csum, urg := d.be16(off+14), d.be16(off+16), d.be16(off+18)
	plen := end - off - hl
	if plen < 0 {
		plen = 0
	}
	var n *Node
	d.seen.add("tcp") // a layer, even without a tree
	d.noteTransport(true, off, end)
	si := d.tcpStream()
	relSeq, relAck := seq, ack
	if si != nil && si.Analyzed {
		relSeq = si.Seq
		if flags&0x10 != 0 {
			relAck = si.Ack
		}
	}
	if d.grow("tcp") {
		n = d.layer("tcp", "Transmission Control Protocol, Src Port: "+d.portLabel("tcp", sp)+", Dst Port: "+d.portLabel("tcp", dp)+", Seq: "+strconv.FormatUint(uint64(seq), 10)+", Len: "+strconv.Itoa(plen), off, hl)
		d.fPort(n, "tcp.srcport", "Source Port", "tcp", off, sp)
		d.fPort(n, "tcp.dstport", "Destination Port", "tcp", off+2, dp)
		if si != nil {
			d.genUint(n, "tcp.stream", "Stream index", off, 0, uint64(si.TCPStream-1))
			d.tcpSeqFields(n, off, si, relSeq, relAck, flags)
		}
		d.fUint(n, "tcp.seq_raw", "Sequence Number (raw)", off+4, 4, uint64(seq))
		d.fUint(n, "tcp.ack_raw", "Acknowledgment number (raw)", off+8, 4, uint64(ack))
		setU(d.add(n, "tcp.hdr_len", "Header Length: "+strconv.Itoa(hl)+" bytes ("+strconv.Itoa(hl/4)+")", off+12, 1), uint64(hl))
		// The Flags value is the whole 12-bit field, reserved bits included, as Wireshark's.
		fl := setU(d.add(n, "tcp.flags", "Flags: "+string(appendHex(nil, uint64(d.be16(off+12)&0xfff), 3))+" "+string(appendTCPFlags(nil, flags)), off+12, 2), uint64(d.be16(off+12)&0xfff))
		for i, f := range [...]string{"tcp.flags.fin", "tcp.flags.syn", "tcp.flags.reset", "tcp.flags.push", "tcp.flags.ack", "tcp.flags.urg", "tcp.flags.ece", "tcp.flags.cwr", "tcp.flags.ae"} {
			at := off + 13 // the flag's byte
			if i == 8 {
				at = off + 12
			}
			d.fBool(fl, f, tcpFlagNames[i], at, 1, flags&(1<<i) != 0)
		}
		d.fUint(n, "tcp.window_size_value", "Window", off+14, 2, uint64(win))
		if si != nil && si.Analyzed {
			d.tcpWindowFields(n, off+14, si, flags&0x02 != 0)
		}
	}
	if si != nil && si.Analyzed && d.quiet == 0 {
		d.infoPrefix = tcpInfoPrefix(si)
	}
	if flags&0x02 != 0 {
		d.tag(tagSYN)
	}
	if flags&0x01 != 0 {
		d.tag(tagFIN)
	}
	if flags&0x04 != 0 {
		d.tag(tagRST)
	}
	if hl < 20 {
		d.fHex(n, "tcp.checksum", "Checksum", off+16, 2, uint64(csum), 4)
		d.malformed(n, "TCP", "bogus TCP header length ("+strconv.Itoa(hl)+", must be at least 20)", off+12)
		d.transportPorts("tcp", off, end)
		return
	}
	if len(d.ipSrc) > 0 {
		d.transportChecksum(n, "tcp.checksum", off+16, csum, 6, off, end, true)
	} else {
		d.fHex(n, "tcp.checksum", "Checksum", off+16, 2, uint64(csum), 4)
	}
	d.fUint(n, "tcp.urgent_pointer", "Urgent Pointer", off+18, 2, uint64(urg))
	info := d.infoReset()
	if info {
		d.iPort("tcp", sp)
		d.is(" → ")
		d.iPort("tcp", dp)
		d.is(" ")
		d.info = appendTCPFlags(d.info, flags)
		d.is(" Seq=")
		d.iu(uint64(relSeq))
		if flags&0x10 != 0 {
			d.is(" Ack=")
			d.iu(uint64(relAck))
		}
		d.is(" Win=")
		if si != nil && si.Analyzed {
			d.iu(uint64(si.Window))
		} else {
			d.iu(uint64(win))
		}
		if flags&0x20 != 0 {
			d.is(" Urg=")
			d.iu(uint64(urg))
		}
	}
	whole := end-off >= hl && d.has(off, hl)
	if info && whole { // Wireshark gives no length, nor options, for a cut header
		d.is(" Len=")
		d.iu(uint64(plen))
	}
	if whole {
		// Wireshark's segment length is what the IP header says, even
		// past the captured bytes.
		seglen := plen
		if d.ipEnd > end && d.ipEnd-off-hl > seglen {
			seglen = d.ipEnd - off - hl
		}
		d.fUint(n, "tcp.len", "TCP Segment Len", off, 0, uint64(seglen))
	}
	if hl > 20 {
		if si != nil && si.Analyzed && flags&0x10 != 0 {
			// SACK edges are relative to the other direction's first
			// sequence number, as the ACK is
			d.sackBase, d.sackRel = ack-si.Ack, true
		}
		d.tcpOptions(n, off+20, off+hl, info && whole)
		d.sackRel = false
	}
	if si != nil && si.Analyzed {
		d.tcpAnalysisTree(n, off, si)
	}
	if end-off < hl || !d.has(off, hl) {
		d.short(n, "TCP", off+20)
		return
	}
	body := off + hl
	if body >= end {
		return
	}
	if n != nil && d.has(body, 1) {
		d.add(n, "tcp.payload", "TCP payload ("+strconv.Itoa(end-body)+" bytes)", body, end-body)
	}
	if si != nil && si.Analyzed && si.Flags&(FlagRetransmission|FlagOutOfOrder|FlagKeepAlive) != 0 {
		// tshark hands neither a retransmitted or out-of-order segment
		// (tcp.no_subdissector_on_error) nor a keep-alive's byte to the
		// protocol above
		d.data2(body, end)
		return
	}
	d.tcpApp(sp, dp, body, end)
}

// appendTCPFlags appends "[SYN, ACK]" or "[<None>]".
func appendTCPFlags(b []byte, flags uint16) []byte {
	b = append(b, '[')
	first := true
	for i, name := range tcpFlagNames {
		if flags&(1<<i) != 0 {
			if !first {
				b = append(b, ", "...)
			}
			b = append(b, name...)
			first = false
		}
	}
	if first {
		b = append(b, "<None>"...)
	}
	return append(b, ']')
}

// tcpOptions decodes the options in [off, end); with info set, the ones
// Wireshark shows are appended to the Info column. An option that runs
// past the captured bytes but not past end is left for the caller, which
// marks the header as cut short; only one that runs past end is malformed.
func (d *decoder) tcpOptions(n *Node, off, end int, info bool) {
	var opts *Node
	if n != nil {
		opts = d.add(n, "tcp.options", "Options: ("+strconv.Itoa(end-off)+" bytes)", off, end-off)
	}
	hdrEnd := end
	end = min(end, len(d.data))
	for i := 0; off < end && i < maxItems; i++ {
		kind := d.u8(off)
		switch kind {
		case 0:
			d.fUint(d.add(opts, "tcp.options.eol", "TCP Option - End of Option List (EOL)", off, 1), "tcp.option_kind", "Kind", off, 1, 0)
			return
		case 1:
			d.fUint(d.add(opts, "tcp.options.nop", "TCP Option - No-Operation (NOP)", off, 1), "tcp.option_kind", "Kind", off, 1, 1)
			off++
			continue
		}
		if off+1 >= end {
			if end < hdrEnd {
				return // cut by the capture
			}
			d.malformed(opts, "TCP", "option cut short", off)
			return
		}
		l := int(d.u8(off + 1))
		if l >= 2 && off+l > end && off+l <= hdrEnd {
			return // cut by the capture
		}
		if l < 2 || off+l > end {
			d.malformed(opts, "TCP", "option length "+strconv.Itoa(l)+" impossible", off+1)
			return
		}
		var o *Node
		if opts != nil {
			field, name := tcpOptName(kind)
			o = d.add(opts, field, "TCP Option - "+name, off, l)
			d.fUint(o, "tcp.option_kind", "Kind", off, 1, uint64(kind))
			d.fUint(o, "tcp.option_len", "Length", off+1, 1, uint64(l))
		}
		switch {
		case kind == 2 && l == 4:
			v := d.be16(off + 2)
			d.fUint(o, "tcp.options.mss_val", "MSS Value", off+2, 2, uint64(v))
			if info {
				d.is(" MSS=")
				d.iu(uint64(v))
			}
		case kind == 3 && l == 3:
			s := d.u8(off + 2)
			d.fUint(o, "tcp.options.wscale.shift", "Shift count", off+2, 1, uint64(s))
			if info {
				d.is(" WS=")
				if s > 14 {
					s = 14
				}
				d.iu(1 << s)
			}
		case kind == 4 && l == 2:
			if info {
				d.is(" SACK_PERM")
			}
		case kind == 5:
			for j := off + 2; j+8 <= off+l; j += 8 {
				le, re := d.be32(j), d.be32(j+4)
				if d.sackRel {
					le, re = le-d.sackBase, re-d.sackBase
				}
				d.fUint(o, "tcp.options.sack_le", "left edge", j, 4, uint64(le))
				d.fUint(o, "tcp.options.sack_re", "right edge", j+4, 4, uint64(re))
				if info {
					d.is(" SLE=")
					d.iu(uint64(le))
					d.is(" SRE=")
					d.iu(uint64(re))
				}
			}
		case kind == 8 && l == 10:
			tv, te := d.be32(off+2), d.be32(off+6)
			d.fUint(o, "tcp.options.timestamp.tsval", "Timestamp value", off+2, 4, uint64(tv))
			d.fUint(o, "tcp.options.timestamp.tsecr", "Timestamp echo reply", off+6, 4, uint64(te))
			if info {
				d.is(" TSval=")
				d.iu(uint64(tv))
				d.is(" TSecr=")
				d.iu(uint64(te))
			}
		}
		off += l
	}
}

func tcpOptName(kind uint8) (field, name string) {
	switch kind {
	case 2:
		return "tcp.options.mss", "Maximum segment size"
	case 3:
		return "tcp.options.wscale", "Window scale"
	case 4:
		return "tcp.options.sack_perm", "SACK permitted"
	case 5:
		return "tcp.options.sack", "SACK"
	case 8:
		return "tcp.options.timestamp", "Timestamps"
	case 19:
		return "tcp.options.md5", "TCP MD5 signature"
	case 28:
		return "tcp.options.user_to", "User Timeout"
	case 29:
		return "tcp.options.tcp_ao", "TCP Authentication Option"
	case 30:
		return "tcp.options.mptcp", "Multipath TCP"
	case 34:
		return "tcp.options.tfo", "TCP Fast Open"
	}
	return "tcp.options.unknown", "Unknown (kind " + strconv.Itoa(int(kind)) + ")"
}

// tcpApp chooses an application decoder for a TCP payload.
func (d *decoder) tcpApp(sp, dp uint16, off, end int) {
	port := func(p uint16) bool { return sp == p || dp == p }
	switch {
	case port(80) || port(8080) || port(8000) || port(3128) || port(8008) || port(8088):
		d.http(off, end, "http", "Hypertext Transfer Protocol", "HTTP")
	case port(443) || port(8443) || port(993) || port(995) || port(465) || port(636) || port(853) || port(5061) || port(990) || port(992) || port(994):
		d.tls(off, end)
	case port(53):
		d.dnsTCP(off, end)
	case port(5353):
		d.dnsTCP(off, end)
	case port(6653) || port(6633):
		d.openflow(off, end)
	default:
		d.data2(off, end)
	}
}
