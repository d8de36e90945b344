package dissect

import "strconv"

// tcpStream returns the StreamInfo whose TCP fields belong to the TCP
// header being decoded, or nil: the first TCP layer (quoted in an ICMP
// error or not) gets them, once.
func (d *decoder) tcpStream() *StreamInfo {
	if d.stream == nil || d.stream.TCPStream == 0 || d.streamDone&1 != 0 {
		return nil
	}
	d.streamDone |= 1
	return d.stream
}

// udpStreamField adds udp.stream to the first UDP layer.
func (d *decoder) udpStreamField(n *Node, off int) {
	if d.stream == nil || d.stream.UDPStream == 0 || d.streamDone&2 != 0 {
		return
	}
	d.streamDone |= 2
	d.fUint(n, "udp.stream", "Stream index", off, 0, uint64(d.stream.UDPStream-1))
}

// tcpAnalysisNames are the analysis flags in the order tshark lists them
// in the [SEQ/ACK analysis] subtree, with their fields and expert texts.
var tcpAnalysisNames = [...]struct {
	flag         uint32
	field, label string
}{
	{FlagReusedPorts, "tcp.analysis.reused_ports", "A new tcp session is started with the same ports as an earlier session in this trace"},
	{FlagRetransmission, "tcp.analysis.retransmission", "This frame is a (suspected) retransmission"},
	{FlagFastRetransmission, "tcp.analysis.fast_retransmission", "This frame is a (suspected) fast retransmission"},
	{FlagSpuriousRetransmission, "tcp.analysis.spurious_retransmission", "This frame is a (suspected) spurious retransmission"},
	{FlagOutOfOrder, "tcp.analysis.out_of_order", "This frame is a (suspected) out-of-order segment"},
	{FlagLostSegment, "tcp.analysis.lost_segment", "Previous segment(s) not captured (common at capture start)"},
	{FlagAckLostSegment, "tcp.analysis.ack_lost_segment", "ACKed segment that wasn't captured (common at capture start)"},
	{FlagWindowUpdate, "tcp.analysis.window_update", "TCP window update"},
	{FlagWindowFull, "tcp.analysis.window_full", "TCP window specified by the receiver is now completely full"},
	{FlagKeepAlive, "tcp.analysis.keep_alive", "TCP keep-alive segment"},
	{FlagKeepAliveAck, "tcp.analysis.keep_alive_ack", "ACK to a TCP keep-alive segment"},
	{FlagDuplicateAck, "tcp.analysis.duplicate_ack", "This is a TCP duplicate ack"},
	{FlagZeroWindowProbe, "tcp.analysis.zero_window_probe", "TCP Zero Window Probe"},
	{FlagZeroWindow, "tcp.analysis.zero_window", "TCP Zero Window segment"},
	{FlagZeroWindowProbeAck, "tcp.analysis.zero_window_probe_ack", "ACK to a TCP Zero Window Probe"},
}

// tcpInfoPrefix returns the Info column's analysis marks as tshark
// prepends them: each one goes before the ones added earlier, so the last
// in tshark's order comes first.
func tcpInfoPrefix(si *StreamInfo) string {
	if si.Flags == 0 {
		return ""
	}
	var marks []string
	for _, f := range tcpAnalysisNames {
		if si.Flags&f.flag == 0 {
			continue
		}
		var m string
		switch f.flag {
		case FlagReusedPorts:
			m = "[TCP Port numbers reused] "
		case FlagRetransmission:
			m = "[TCP Retransmission] "
		case FlagFastRetransmission:
			m = "[TCP Fast Retransmission] "
		case FlagSpuriousRetransmission:
			m = "[TCP Spurious Retransmission] "
		case FlagOutOfOrder:
			m = "[TCP Out-Of-Order] "
		case FlagLostSegment:
			m = "[TCP Previous segment not captured] "
		case FlagAckLostSegment:
			m = "[TCP ACKed unseen segment] "
		case FlagWindowUpdate:
			m = "[TCP Window Update] "
		case FlagWindowFull:
			m = "[TCP Window Full] "
		case FlagKeepAlive:
			m = "[TCP Keep-Alive] "
		case FlagKeepAliveAck:
			m = "[TCP Keep-Alive ACK] "
		case FlagDuplicateAck:
			if si.DupAckNum == 0 {
				continue
			}
			m = "[TCP Dup ACK " + strconv.FormatUint(uint64(si.DupAckFrame), 10) + "#" + strconv.FormatUint(uint64(si.DupAckNum), 10) + "] "
		case FlagZeroWindowProbe:
			m = "[TCP ZeroWindowProbe] "
		case FlagZeroWindow:
			m = "[TCP ZeroWindow] "
		case FlagZeroWindowProbeAck:
			m = "[TCP ZeroWindowProbeAck] "
		}
		marks = append(marks, m)
	}
	var s string
	for _, m := range marks {
		s = m + s
	}
	return s
}

// tcpAnalysisTree adds the [SEQ/ACK analysis] subtree under the TCP
// layer n, as tshark does: the acknowledged frame and its RTT, bytes in
// flight, then the flags (each an expert item).
func (d *decoder) tcpAnalysisTree(n *Node, off int, si *StreamInfo) {
	if n == nil || !si.HasAnalysis {
		return
	}
	a := d.add(n, "tcp.analysis", "[SEQ/ACK analysis]", off, 0)
	if si.AcksFrame != 0 {
		d.genUint(a, "tcp.analysis.acks_frame", "This is an ACK to the segment in frame", off, 0, uint64(si.AcksFrame))
		if si.AckRTT != 0 {
			var label string
			if !d.nolabels {
				label = "[The RTT to ACK the segment was: " + strconv.FormatFloat(float64(si.AckRTT)/1e9, 'f', 9, 64) + " seconds]"
			}
			setU(d.add(a, "tcp.analysis.ack_rtt", label, off, 0), uint64(si.AckRTT))
		}
	}
	if si.BytesInFlight != 0 {
		d.genUint(a, "tcp.analysis.bytes_in_flight", "Bytes in flight", off, 0, uint64(si.BytesInFlight))
	}
	if si.Flags == 0 {
		return
	}
	fl := d.add(a, "tcp.analysis.flags", "[TCP Analysis Flags]", off, 0)
	for _, f := range tcpAnalysisNames {
		if si.Flags&f.flag == 0 {
			continue
		}
		if f.flag == FlagDuplicateAck {
			if si.DupAckNum == 0 {
				continue
			}
			d.add(fl, f.field, "["+f.label+"]", off, 0)
			d.genUint(a, "tcp.analysis.duplicate_ack_num", "Duplicate ACK #", off, 0, uint64(si.DupAckNum))
			df := d.genUint(a, "tcp.analysis.duplicate_ack_frame", "Duplicate to the ACK in frame", off, 0, uint64(si.DupAckFrame))
			// tshark's expert item under it has the flag's name too
			d.add(df, f.field, "[Expert Info (Note/Sequence): Duplicate ACK (#"+strconv.FormatUint(uint64(si.DupAckNum), 10)+")]", off, 0)
			continue
		}
		d.add(fl, f.field, "["+f.label+"]", off, 0)
		if f.flag == FlagFastRetransmission || f.flag == FlagSpuriousRetransmission {
			// tshark's expert info says retransmission too
			d.add(fl, "tcp.analysis.retransmission", "[This frame is a (suspected) retransmission]", off, 0)
		}
	}
}

// tcpWindowFields adds tcp.window_size and tcp.window_size_scalefactor.
func (d *decoder) tcpWindowFields(n *Node, off int, si *StreamInfo, syn bool) {
	if n == nil {
		return
	}
	d.genUint(n, "tcp.window_size", "Calculated window size", off, 2, uint64(si.Window))
	if syn {
		return
	}
	switch si.WinScale {
	case -1:
		setU(d.add(n, "tcp.window_size_scalefactor", "[Window size scaling factor: -1 (unknown)]", off, 2), uint64(1<<64-1))
	case -2:
		setU(d.add(n, "tcp.window_size_scalefactor", "[Window size scaling factor: -2 (no window scaling used)]", off, 2), uint64(1<<64-2))
	default:
		d.genUint(n, "tcp.window_size_scalefactor", "Window size scaling factor", off, 2, uint64(1)<<si.WinScale)
	}
}

// genUint adds a generated field, "[name: v]", as tshark brackets them.
func (d *decoder) genUint(p *Node, field, name string, off, n int, v uint64) *Node {
	if d.nolabels {
		return d.fUintText(p, field, off, n, v, "", "") // no prefix to build
	}
	return d.fUintText(p, field, off, n, v, "["+name+": ", "]")
}

// fUintText adds an unsigned field labelled prefix, v in decimal, suffix;
// with no labels wanted (a layer-only tree), none is built.
func (d *decoder) fUintText(p *Node, field string, off, n int, v uint64, prefix, suffix string) *Node {
	if p == nil {
		return nil
	}
	if d.nolabels {
		return setU(d.add(p, field, "", off, n), v)
	}
	return setU(d.add(p, field, prefix+strconv.FormatUint(v, 10)+suffix, off, n), v)
}

// tcpSeqFields adds tcp.seq, tcp.nxtseq and tcp.ack: relative when the
// segment was analyzed, the raw numbers otherwise (as tshark shows them in
// an ICMP error or a segment shorter than its header).
func (d *decoder) tcpSeqFields(n *Node, off int, si *StreamInfo, seq, ack uint32, flags uint16) {
	if !si.Analyzed {
		d.fUint(n, "tcp.seq", "Sequence Number", off+4, 4, uint64(seq))
		d.fUint(n, "tcp.ack", "Acknowledgment Number", off+8, 4, uint64(ack))
		return
	}
	d.fUintText(n, "tcp.seq", off+4, 4, uint64(seq), "Sequence Number: ", "    (relative sequence number)")
	d.fUintText(n, "tcp.nxtseq", off, 0, uint64(si.NxtSeq), "[Next Sequence Number: ", "    (relative sequence number)]")
	if flags&0x10 != 0 {
		d.fUintText(n, "tcp.ack", off+8, 4, uint64(ack), "Acknowledgment Number: ", "    (relative ack number)")
		return
	}
	d.fUint(n, "tcp.ack", "Acknowledgment Number", off+8, 4, uint64(ack))
}
