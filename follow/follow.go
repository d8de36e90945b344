// Package follow puts together the payload of one TCP or UDP conversation
// in order, as Wireshark's Follow Stream does: which segments it keeps,
// in which order, and what it shows for data the capture missed.
//
// A [Follower] takes the conversation's packets in capture order (each as
// a [Segment]: its endpoints, its relative TCP sequence numbers and the
// length of its payload) and emits [Chunk]s, the pieces of payload in the
// order tshark 4.0 prints them:
//
//   - The first packet's source is the client (node 0), the other end the
//     server (node 1).
//   - A TCP segment that extends its direction's data is kept; data seen
//     before (a retransmission, the overlapping part of a segment) is kept
//     once; a segment past a gap waits until the gap is filled.
//   - When the other direction acknowledges data past a gap the capture
//     never fills, the gap is shown as "[N bytes missing in capture file]"
//     (with its terminating NUL, as Wireshark writes it) and the waiting
//     segments follow. Segments behind a gap nothing fills or
//     acknowledges are never shown.
//   - Every UDP datagram is kept as it is.
//
// The follower works on lengths, not bytes: a chunk names the part of a
// packet's payload it is, so a caller that can read packets again (the
// packet store) keeps no payload in memory. A caller that cannot gives
// each segment's bytes, and the follower keeps copies of the out-of-order
// segments only, until they are shown or dropped.
package follow

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// Proto is the transport protocol of a followed stream.
type Proto uint8

// The protocols a stream can be followed on.
const (
	TCP Proto = iota + 1
	UDP
)

// String returns the protocol's display-filter name: "tcp" or "udp".
func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// ParseProto parses "tcp" or "udp".
func ParseProto(s string) (Proto, error) {
	switch s {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q: follow tcp or udp", s)
}

// StreamFilter returns the display filter of stream n: "tcp.stream eq n".
func (p Proto) StreamFilter(n uint32) string {
	return p.String() + ".stream eq " + strconv.FormatUint(uint64(n), 10)
}

// Endpoint is one end of a conversation: an IPv4 or IPv6 address and a
// port. The zero Endpoint is no endpoint (a stream without packets).
type Endpoint struct {
	Addr netip.Addr
	Port uint16
}

// String returns the endpoint as tshark's follow header writes it:
// "192.0.2.1:80", "[2001:db8::1]:80", or ":0" for no endpoint.
func (e Endpoint) String() string {
	port := ":" + strconv.Itoa(int(e.Port))
	switch {
	case !e.Addr.IsValid():
		return port
	case e.Addr.Is6():
		return "[" + e.Addr.String() + "]" + port
	}
	return e.Addr.String() + port
}

// TCP header flags a follower reads.
const (
	FlagSYN = 0x02
)

// Segment is one packet of a followed stream, as the follower reads it.
type Segment struct {
	// Frame is the packet's number in the capture (1-based).
	Frame uint32
	// Src and Dst are the packet's endpoints.
	Src, Dst Endpoint
	// Seq and Ack are the TCP header's sequence and acknowledgment
	// numbers, relative as tshark shows them (tcp.seq, tcp.ack); Flags
	// its flags; SegLen the payload length the IP header gives, even past
	// the captured bytes. Unused for UDP.
	Seq, Ack uint32
	Flags    uint16
	SegLen   uint32
	// Len is the number of payload bytes captured.
	Len uint32
	// Data, when not nil, is the captured payload (Len bytes): the
	// follower then keeps copies of out-of-order segments and hands
	// chunks their bytes. It is not kept past Add.
	Data []byte
	// Reassembled says Data is in the packet's reassembled datagram
	// (Packet.Reassembled.Data), not its own bytes.
	Reassembled bool
}

// Chunk is a piece of a followed stream's payload, in the order shown.
type Chunk struct {
	// Dir is 0 for data from the client (node 0), 1 from the server.
	Dir uint8
	// Frame is the packet the bytes are from; for a gap, the packet whose
	// acknowledgment revealed it.
	Frame uint32
	// Off and Len are the bytes [Off, Off+Len) of the frame's captured
	// payload; for a gap, Len is the length of its text.
	Off, Len uint32
	// Missing, when not 0, makes the chunk a gap: the bytes the capture
	// missed, shown as the text [GapText] returns (Off is then 0).
	Missing uint32
	// Data is the chunk's bytes when the segments came with theirs (and
	// always for a gap). It is only valid during the emit call.
	Data []byte
}

// GapText returns what a follow shows for n bytes missing in the capture:
// "[n bytes missing in capture file]" and a NUL, as Wireshark stores it.
func GapText(n uint32) []byte {
	return append([]byte("["+strconv.FormatInt(int64(int32(n)), 10)+" bytes missing in capture file]"), 0)
}

// Follower puts one stream's payload in order. It is not safe for
// concurrent use.
type Follower struct {
	proto   Proto
	emit    func(*Chunk)
	started bool
	client  Endpoint
	server  Endpoint
	seq     [2]uint32
	written [2]uint64
	frags   [2][]fragment // segments past a gap, in arrival order
}

// fragment is a TCP segment waiting for the data before it.
type fragment struct {
	frame    uint32
	seq      uint32
	off, len uint32
	data     []byte // a copy, when the segment came with its bytes
}

// New returns a follower of a stream of protocol p that calls emit with
// each chunk, in order. The chunk is only valid during the call.
func New(p Proto, emit func(*Chunk)) *Follower {
	return &Follower{proto: p, emit: emit}
}

// Nodes returns the stream's client (node 0: the first packet's source)
// and server; zero endpoints before the first packet.
func (f *Follower) Nodes() (client, server Endpoint) { return f.client, f.server }

// Pending returns the number of bytes of the segments waiting behind a
// gap, which will be shown only if the gap is filled or acknowledged.
func (f *Follower) Pending() (n uint64) {
	for _, fs := range f.frags {
		for _, fr := range fs {
			n += uint64(fr.len)
		}
	}
	return n
}

// Sequence number comparisons modulo 2^32.
func ltSeq(a, b uint32) bool { return int32(a-b) < 0 }
func gtSeq(a, b uint32) bool { return int32(b-a) < 0 }

// Add follows the next packet of the stream. For TCP, s is the header of
// a segment whose length is known; tshark's follow sees no other.
func (f *Follower) Add(s *Segment) {
	if !f.started {
		f.started = true
		f.client, f.server = s.Src, s.Dst
	}
	dir := uint8(0)
	if s.Src != f.client {
		dir = 1
	}
	if f.proto == UDP {
		c := Chunk{Dir: dir, Frame: s.Frame, Len: s.Len, Data: s.Data}
		f.written[dir] += uint64(s.Len)
		f.emit(&c)
		return
	}
	seq, length := s.Seq, s.SegLen
	if s.Flags&FlagSYN != 0 {
		seq++
	}
	off, dataLen := uint32(0), s.Len

	// An acknowledgment of data behind a gap of the other direction: the
	// capture missed segments the receiver had.
	for len(f.frags[1-dir]) > 0 && f.fill(1-dir, s.Ack, s.Frame, true) {
	}
	if f.written[dir] == 0 && f.seq[dir] == 0 {
		f.seq[dir] = seq
	}
	if ltSeq(seq, f.seq[dir]) {
		// Data seen before; a retransmission may carry more.
		next := seq + length
		if gtSeq(next, f.seq[dir]) {
			off = f.seq[dir] - seq
			if dataLen <= off {
				dataLen = 0
			} else {
				dataLen -= off
			}
			seq, length = f.seq[dir], next-f.seq[dir]
		}
	}
	if dataLen == 0 || ltSeq(seq, f.seq[dir]) {
		return
	}
	if seq == f.seq[dir] {
		f.seq[dir] += length
		f.written[dir] += uint64(dataLen)
		c := Chunk{Dir: dir, Frame: s.Frame, Off: off, Len: dataLen}
		if s.Data != nil {
			c.Data = s.Data[off : off+dataLen]
		}
		f.emit(&c)
		for f.fill(dir, 0, s.Frame, false) {
		}
		return
	}
	fr := fragment{frame: s.Frame, seq: seq, off: off, len: dataLen}
	if s.Data != nil {
		fr.data = append([]byte(nil), s.Data[off:off+dataLen]...)
	}
	f.frags[dir] = append(f.frags[dir], fr)
}

// fill shows the first waiting segment of direction dir that now fits
// (what it has past the data shown), or, when useAck and ack is past the
// lowest waiting segment, the gap before it. It reports whether it showed
// anything; frame is the packet being followed.
func (f *Follower) fill(dir uint8, ack, frame uint32, useAck bool) bool {
	frags := f.frags[dir]
	if len(frags) == 0 {
		return false
	}
	lowest := frags[0].seq
	for i := range frags {
		fr := &frags[i]
		if gtSeq(lowest, fr.seq) {
			lowest = fr.seq
		}
		if ltSeq(fr.seq, f.seq[dir]) {
			// Partly shown already: show the rest, if it has more.
			next := fr.seq + fr.len
			if gtSeq(next, f.seq[dir]) {
				skip := f.seq[dir] - fr.seq
				c := Chunk{Dir: dir, Frame: fr.frame, Off: fr.off + skip, Len: fr.len - skip}
				if fr.data != nil {
					c.Data = fr.data[skip:]
				}
				f.seq[dir] += fr.len - skip
				f.emit(&c)
			}
			f.remove(dir, i)
			return true
		}
		if fr.seq == f.seq[dir] {
			c := Chunk{Dir: dir, Frame: fr.frame, Off: fr.off, Len: fr.len, Data: fr.data}
			f.seq[dir] += fr.len
			f.emit(&c)
			f.remove(dir, i)
			return true
		}
	}
	if useAck && gtSeq(ack, lowest) {
		missing := lowest - f.seq[dir]
		text := GapText(missing)
		c := Chunk{Dir: dir, Frame: frame, Len: uint32(len(text)), Missing: missing, Data: text}
		f.seq[dir] = lowest
		f.emit(&c)
		return true
	}
	return false
}

func (f *Follower) remove(dir uint8, i int) {
	f.frags[dir] = append(f.frags[dir][:i], f.frags[dir][i+1:]...)
	if len(f.frags[dir]) == 0 {
		f.frags[dir] = nil
	}
}

// Packet is a packet the follower may take: its number, link type,
// captured bytes and on-wire length, and its stream record.
type Packet struct {
	Frame   uint32
	Link    pcapio.LinkType
	Data    []byte
	WireLen int
	Stream  *dissect.StreamInfo
	// Reassembled is the IP datagram the packet's fragment completes
	// (package defrag), whose transport payload is followed, as tshark
	// follows it; nil when none.
	Reassembled *dissect.Reassembled
}

// Selector says which packets belong to a followed stream: those of
// stream number Stream (0-based, as tcp.stream and udp.stream count), or,
// when Addrs is set, those between the two endpoints A and B.
type Selector struct {
	Proto  Proto
	Stream uint32
	Addrs  bool
	A, B   Endpoint
}

// Filter returns the display filter tshark shows for the selection:
// "tcp.stream eq 3", or for two endpoints the address filter tshark 4.0
// builds.
func (s Selector) Filter() string {
	if !s.Addrs {
		return s.Proto.StreamFilter(s.Stream)
	}
	v := ""
	if s.A.Addr.Is6() {
		v = "v6"
	}
	side := func(src, dst Endpoint) string {
		return "((ip" + v + ".src eq " + src.Addr.String() + " and " + s.Proto.String() + ".srcport eq " + strconv.Itoa(int(src.Port)) +
			") and (ip" + v + ".dst eq " + dst.Addr.String() + " and " + s.Proto.String() + ".dstport eq " + strconv.Itoa(int(dst.Port)) + "))"
	}
	return side(s.A, s.B) + " or " + side(s.B, s.A)
}

// Segment returns the segment of the selected stream in p, and false
// when p has none. buf is scratch space for the packet's headers, returned
// for reuse. The segment's Data is p's payload.
func (s Selector) Segment(p *Packet, buf []dissect.Transport) (Segment, []dissect.Transport, bool) {
	if !s.Addrs {
		if p.Stream == nil {
			return Segment{}, buf, false
		}
		switch {
		case s.Proto == TCP && p.Stream.TCPStream != s.Stream+1,
			s.Proto == UDP && p.Stream.UDPStream != s.Stream+1:
			return Segment{}, buf, false
		}
	}
	buf = dissect.TransportsReassembled(p.Link, p.Data, p.WireLen, p.Reassembled, buf[:0])
	for i := range buf {
		tp := &buf[i]
		if tp.TCP != (s.Proto == TCP) {
			continue
		}
		seg := Segment{
			Frame: p.Frame,
			Src:   Endpoint{Addr: addrOf(tp.Src[:tp.AddrLen]), Port: tp.SrcPort},
			Dst:   Endpoint{Addr: addrOf(tp.Dst[:tp.AddrLen]), Port: tp.DstPort},
		}
		if s.Addrs && !(seg.Src == s.A && seg.Dst == s.B || seg.Src == s.B && seg.Dst == s.A) {
			if s.Proto == TCP {
				return Segment{}, buf, false // only the first TCP header is tracked
			}
			continue
		}
		if tp.Quoted || !tp.TCP && tp.PayloadEnd == tp.Payload {
			// tshark follows no header inside an ICMP error, nor a
			// datagram without payload.
			return Segment{}, buf, false
		}
		if s.Proto == TCP {
			if !tp.HaveSegLen || p.Stream == nil || !p.Stream.Analyzed {
				return Segment{}, buf, false
			}
			seg.Seq, seg.Ack, seg.Flags, seg.SegLen = p.Stream.Seq, p.Stream.Ack, tp.Flags, uint32(tp.SegLen)
		}
		seg.Len = uint32(tp.PayloadEnd - tp.Payload)
		data := p.Data
		if tp.Source > 0 && p.Reassembled != nil {
			data, seg.Reassembled = p.Reassembled.Data, true
		}
		seg.Data = data[tp.Payload:tp.PayloadEnd]
		return seg, buf, true
	}
	return Segment{}, buf, false
}

func addrOf(b []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(b)
	return a
}
