package dissect

import (
	"github.com/pkttap/pkttap/pcapio"
)

// Analysis flags of a TCP segment, as Wireshark's SEQ/ACK analysis sets
// them (tcp.analysis.*). A [StreamInfo] carries them in Flags.
const (
	FlagRetransmission uint32 = 1 << iota
	FlagFastRetransmission
	FlagSpuriousRetransmission
	FlagOutOfOrder
	FlagLostSegment
	FlagAckLostSegment
	FlagDuplicateAck
	FlagZeroWindow
	FlagZeroWindowProbe
	FlagZeroWindowProbeAck
	FlagWindowFull
	FlagWindowUpdate
	FlagKeepAlive
	FlagKeepAliveAck
	FlagReusedPorts
)

// StreamInfo is what a sequential stream tracker (package streams) knows
// of one packet from the packets before it: the indexes of its TCP and UDP
// conversations and Wireshark's TCP sequence analysis. [Dissect] and
// [Summarize] take it through [Options] and add the fields tshark adds
// (tcp.stream, relative tcp.seq and tcp.ack, tcp.analysis.*), so the
// decoding of one packet stays stateless. The zero value says nothing.
type StreamInfo struct {
	// TCPStream and UDPStream are tcp.stream and udp.stream plus one; 0
	// when the packet has no such conversation.
	TCPStream, UDPStream uint32
	// Analyzed says the TCP fields below are set: the segment's length
	// is known (a whole header, not inside an ICMP error).
	Analyzed bool
	// HasAnalysis says tshark shows the [SEQ/ACK analysis] subtree
	// (tcp.analysis): a flag, an acknowledged frame or bytes in flight.
	HasAnalysis bool
	// WinScale is the sender's window scale shift: -1 unknown, -2 no
	// scaling used, else 0..14. It is not shown for a SYN.
	WinScale int8
	// Seq, Ack and NxtSeq are relative to the direction's initial
	// sequence number (Ack only when the ACK flag is set, else raw).
	Seq, Ack, NxtSeq uint32
	// Window is the calculated window size (tcp.window_size).
	Window uint32
	// Flags are the analysis flags (Flag...).
	Flags uint32
	// DupAckNum and DupAckFrame are tcp.analysis.duplicate_ack_num and
	// duplicate_ack_frame (0 when not a duplicate ACK).
	DupAckNum, DupAckFrame uint32
	// AcksFrame is tcp.analysis.acks_frame, the frame this one ACKs (0
	// when none); AckRTT the time since it in nanoseconds.
	AcksFrame uint32
	AckRTT    int64
	// BytesInFlight is tcp.analysis.bytes_in_flight (0 when not shown).
	BytesInFlight uint32
}

// Transport is one TCP or UDP header found in a packet by [Transports]:
// what a stream tracker needs to place the packet in its conversation.
type Transport struct {
	TCP bool // TCP, else UDP
	// Quoted says the header is inside an ICMP or ICMPv6 error message.
	Quoted bool
	// Src and Dst are the enclosing IP header's addresses (the first
	// AddrLen bytes: 4 or 16).
	Src, Dst         [16]byte
	AddrLen          int
	SrcPort, DstPort uint16
	// Seq, Ack, Flags (12 bits), Window and HdrLen are the TCP header's.
	Seq, Ack      uint32
	Flags, Window uint16
	HdrLen        int
	// SegLen is the TCP payload length the IP header gives (even past
	// the captured bytes); HaveSegLen is false when it is unknown (a
	// header longer than the segment, a quoted header).
	SegLen     int
	HaveSegLen bool
	// WScale is the window scale option's shift (capped at 14), -1 when
	// the header has none; SACK the SACK option's blocks (left and right
	// edges), at most 4.
	WScale int8
	NSACK  int
	SACK   [4][2]uint32
	// Payload and PayloadEnd delimit the payload's captured bytes in the
	// packet's data: after a TCP header, or within a UDP datagram's length
	// and the IP payload (none for a length under 8). They are equal when there is none, and for a
	// quoted header.
	Payload, PayloadEnd int
	// Source is 0 when Payload and PayloadEnd are in the packet's data,
	// 1 when they are in the reassembled datagram the packet completes
	// (TransportsReassembled).
	Source uint8
}

// maxTransports bounds the headers Transports reports for one packet.
const maxTransports = 4

// Transports appends to dst the TCP and UDP headers of a packet in the
// order [Dissect] decodes them, skipping IP fragments (whose transport
// header Wireshark reassembles before it tracks the stream) and TCP
// headers cut before their 20 fixed bytes. It never panics.
func Transports(lt pcapio.LinkType, data []byte, wireLen int, dst []Transport) []Transport {
	if t, ok := quickTransport(lt, data, wireLen); ok {
		return append(dst, t)
	}
	return slowTransports(lt, data, wireLen, Options{}, dst)
}

// Scan is [Transports] and [Fragmented] in one decoding of the packet, for
// a reader that reassembles fragments and tracks streams in order: the
// packet's TCP and UDP headers appended to dst, and its first fragment
// header a defragmenter takes, if any (ok). When that fragment completes a
// datagram, [TransportsReassembled] gives the headers to track instead.
func Scan(lt pcapio.LinkType, data []byte, wireLen int, dst []Transport) (ts []Transport, frag FragmentHeader, ok bool) {
	if t, quick := quickTransport(lt, data, wireLen); quick {
		return append(dst, t), FragmentHeader{}, false // Quick takes no fragment
	}
	d := pooledDecoder(data, wireLen, false, Options{}, nil)
	d.collect, d.transports, d.findFrag = true, dst, true
	d.frame(lt)
	ts, frag, ok = d.transports, d.frag, d.fragFound
	putDecoder(d)
	return ts, frag, ok
}

// quickTransport reads the one TCP or UDP header of a plain packet
// ([Quick]); ok is false for any other packet.
func quickTransport(lt pcapio.LinkType, data []byte, wireLen int) (t Transport, ok bool) {
	var h Headers
	if !Quick(lt, data, wireLen, &h) {
		return Transport{}, false
	}
	t = Transport{TCP: h.TCP, AddrLen: len(h.IPSrc), SrcPort: h.SrcPort, DstPort: h.DstPort, WScale: -1}
	copy(t.Src[:], h.IPSrc)
	copy(t.Dst[:], h.IPDst)
	if h.TCP {
		tcpOptions(&t, data, h.L4Offset, h.L4Offset+h.TCPHdrLen)
		t.Seq, t.Ack, t.Flags, t.Window, t.HdrLen = h.TCPSeq, h.TCPAck, h.TCPFlags, h.TCPWindow, h.TCPHdrLen
		t.SegLen, t.HaveSegLen = h.TCPLen, true
		t.Payload = h.L4Offset + h.TCPHdrLen
		t.PayloadEnd = t.Payload + h.TCPLen
	} else {
		t.Payload, t.PayloadEnd = h.L4Offset+8, h.L4Offset+int(h.UDPLength)
	}
	return t, true
}

// slowTransports decodes the packet (no tree) with the options o to find
// its headers.
func slowTransports(lt pcapio.LinkType, data []byte, wireLen int, o Options, dst []Transport) []Transport {
	d := pooledDecoder(data, wireLen, false, o, nil)
	d.collect, d.transports = true, dst
	d.frame(lt)
	out := d.transports
	putDecoder(d)
	return out
}

// noteTransport records a TCP or UDP header at off for [Transports]; only
// called while Transports decodes.
func (d *decoder) noteTransport(tcp bool, off, end int) *Transport {
	// A fragment's transport header is decoded only where Wireshark
	// decodes it too: in a first fragment that is not reassembled (cut
	// short by the snap length), as its conversation's.
	if !d.collect || len(d.transports) >= maxTransports || len(d.ipSrc) == 0 || !d.has(off, 8) {
		return nil
	}
	if tcp && !d.has(off, 20) {
		return nil
	}
	t := Transport{TCP: tcp, Quoted: d.quiet > 0, AddrLen: len(d.ipSrc), SrcPort: d.be16(off), DstPort: d.be16(off + 2), WScale: -1, Source: d.srcBuf}
	copy(t.Src[:], d.ipSrc)
	copy(t.Dst[:], d.ipDst)
	if tcp {
		t.Seq, t.Ack = d.be32(off+4), d.be32(off+8)
		t.Flags = d.be16(off+12) & 0xfff
		t.Window = d.be16(off + 14)
		t.HdrLen = int(d.u8(off+12)>>4) * 4
		reported := end - off
		if d.ipEnd > end {
			reported = d.ipEnd - off
		}
		if !t.Quoted && reported >= t.HdrLen {
			t.SegLen, t.HaveSegLen = reported-t.HdrLen, true
		}
		tcpOptions(&t, d.data, off, min(off+t.HdrLen, len(d.data)))
	}
	if !t.Quoted {
		t.Payload, t.PayloadEnd = payloadSpan(tcp, t.HdrLen, d.be16(off+4), off, min(end, len(d.data)), d.ipEnd)
	}
	d.transports = append(d.transports, t)
	return &d.transports[len(d.transports)-1]
}

// payloadSpan returns where the captured payload of the TCP or UDP header
// at off lies, the header's bytes ending at end (captured and within the
// IP payload): after a whole TCP header of hdrLen bytes, or within a UDP
// length ulen of 8 or more (cut at the IP payload's end when it goes
// past it, as tshark hands such a payload on).
func payloadSpan(tcp bool, hdrLen int, ulen uint16, off, end, ipEnd int) (int, int) {
	if tcp {
		if off+hdrLen > end {
			return end, end
		}
		return off + hdrLen, end
	}
	if ulen < 8 {
		return end, end
	}
	stop := off + int(ulen)
	if ipEnd > 0 && stop > ipEnd {
		stop = ipEnd
	}
	return min(off+8, end), max(min(stop, end), min(off+8, end))
}

// tcpOptions reads the window scale and SACK options of the TCP header at
// off whose options end at end (within data).
func tcpOptions(t *Transport, data []byte, off, end int) {
	end = min(end, len(data))
	for i := off + 20; i < end; {
		kind := data[i]
		if kind == 0 {
			return
		}
		if kind == 1 {
			i++
			continue
		}
		if i+1 >= end {
			return
		}
		l := int(data[i+1])
		if l < 2 || i+l > end {
			return
		}
		switch {
		case kind == 3 && l == 3:
			t.WScale = int8(min(data[i+2], 14))
		case kind == 5:
			t.NSACK = 0
			for j := i + 2; j+8 <= i+l && t.NSACK < len(t.SACK); j += 8 {
				t.SACK[t.NSACK] = [2]uint32{be32(data[j:]), be32(data[j+4:])}
				t.NSACK++
			}
		}
		i += l
	}
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// TransportsReassembled is [Transports] for a packet whose fragment
// completes the datagram r (see [Options.Reassembled]): the headers of
// the reassembled datagram are among them. A nil r is [Transports].
func TransportsReassembled(lt pcapio.LinkType, data []byte, wireLen int, r *Reassembled, dst []Transport) []Transport {
	if r == nil {
		return Transports(lt, data, wireLen, dst)
	}
	return slowTransports(lt, data, wireLen, Options{Reassembled: r}, dst)
}
