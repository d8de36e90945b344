// Package streams tracks TCP and UDP conversations over a capture read in
// order, as Wireshark does on its first pass: it numbers them (tcp.stream,
// udp.stream), makes sequence numbers relative, scales windows and runs
// Wireshark's TCP sequence analysis (retransmissions, duplicate ACKs, lost
// segments, zero windows, keep-alives...). Each packet gets a compact
// [dissect.StreamInfo], which dissect turns into tshark's fields; the
// decoding of a packet stays stateless, the state lives here.
//
// The numbering and the analysis follow tshark 4.0 with TCP
// desegmentation off; the differential tests name the differences left.
// [Tracker.AddDefrag] also reassembles IP fragments (package defrag), as
// tshark does by default, in the same decoding of each packet.
package streams

import (
	"time"

	"github.com/pkttap/pkttap/defrag"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// Tracker follows the conversations of one capture. Feed it every packet
// in capture order with [Tracker.Add]; it is not safe for concurrent use.
type Tracker struct {
	frame   uint32
	tcpHead map[uint64]uint32 // key hash -> index+1 of the newest conversation with that hash
	tcp     [][]tcpConv       // in chunks of convChunk, so growing never copies them
	nTCP    int
	udpHead map[uint64]uint32
	udp     []udpConv
	buf     []dissect.Transport
}

// New returns a tracker that has seen no packet.
func New() *Tracker {
	return &Tracker{tcpHead: map[uint64]uint32{}, udpHead: map[uint64]uint32{}}
}

// Streams returns how many TCP and UDP streams the tracker has numbered.
func (t *Tracker) Streams() (tcp, udp int) { return t.nTCP, len(t.udp) }

// key is a conversation's two endpoints, the greater one (address bytes,
// then port) first, as Wireshark orders its two flows.
type key struct {
	hi, lo   [16]byte
	hiP, loP uint16
	alen     uint8
	_        uint8
}

// endpoints returns the conversation key of a header and the direction of
// the packet in it: 0 for Wireshark's flow 1 (from the greater endpoint),
// 1 for flow 2.
func endpoints(tp *dissect.Transport) (key, int) {
	n := tp.AddrLen
	c := compare(tp.Src[:n], tp.Dst[:n])
	if c == 0 {
		if tp.SrcPort > tp.DstPort {
			c = 1
		} else {
			c = -1
		}
	}
	if c > 0 {
		return key{hi: tp.Src, lo: tp.Dst, hiP: tp.SrcPort, loP: tp.DstPort, alen: uint8(n)}, 0
	}
	return key{hi: tp.Dst, lo: tp.Src, hiP: tp.DstPort, loP: tp.SrcPort, alen: uint8(n)}, 1
}

func compare(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] > b[i] {
				return 1
			}
			return -1
		}
	}
	return 0
}

// hash is FNV-1a over the key's bytes.
func (k *key) hash() uint64 {
	h := uint64(0xcbf29ce484222325)
	for _, b := range k.hi[:k.alen] {
		h = (h ^ uint64(b)) * 0x100000001b3
	}
	for _, b := range k.lo[:k.alen] {
		h = (h ^ uint64(b)) * 0x100000001b3
	}
	p := uint64(k.hiP)<<16 | uint64(k.loP)
	for i := 0; i < 4; i++ {
		h = (h ^ (p & 0xff)) * 0x100000001b3
		p >>= 8
	}
	return h
}

// udpConv is a UDP conversation: only its key and the hash chain.
type udpConv struct {
	k    key
	next uint32
}

// Add tracks a packet: the next one of the capture, captured on a link of
// type lt with its bytes, on-wire length and timestamp. It returns what
// dissect needs to show the packet's stream fields; the zero value when the
// packet has no TCP or UDP header.
func (t *Tracker) Add(lt pcapio.LinkType, data []byte, wireLen int, ts time.Time) dissect.StreamInfo {
	t.frame++
	t.buf = dissect.Transports(lt, data, wireLen, t.buf[:0])
	return t.track(ts)
}

// AddDefrag is [Tracker.Add] with IP reassembly, as tshark does it by
// default: the packet's fragment, if it has one df takes, goes to df
// first (numbered as the tracker numbers packets), and when it completes a
// datagram, the datagram is returned and its TCP or UDP header tracked in
// this packet, where a fragmented datagram joins its conversation in
// Wireshark. One decoding of the packet serves both.
func (t *Tracker) AddDefrag(df *defrag.Table, lt pcapio.LinkType, data []byte, wireLen int, ts time.Time) (dissect.StreamInfo, *dissect.Reassembled) {
	t.frame++
	var fh dissect.FragmentHeader
	var frag bool
	t.buf, fh, frag = dissect.Scan(lt, data, wireLen, t.buf[:0])
	var r *dissect.Reassembled
	if frag {
		if r = df.AddFragment(t.frame, fh, data[fh.PayloadOffset:fh.PayloadOffset+fh.PayloadLength]); r != nil {
			t.buf = dissect.TransportsReassembled(lt, data, wireLen, r, t.buf[:0])
		}
	}
	return t.track(ts), r
}

// track runs the headers in t.buf, the packet's, through the
// conversations.
func (t *Tracker) track(ts time.Time) dissect.StreamInfo {
	var si dissect.StreamInfo
	for i := range t.buf {
		tp := &t.buf[i]
		if !tp.TCP {
			s := t.udpStream(tp)
			if si.UDPStream == 0 {
				si.UDPStream = s + 1
			}
			continue
		}
		if si.TCPStream == 0 {
			t.tcpPacket(tp, ts.UnixNano(), &si)
			continue
		}
		var scratch dissect.StreamInfo
		t.tcpPacket(tp, ts.UnixNano(), &scratch)
	}
	return si
}

// udpStream finds or creates the UDP conversation of tp.
func (t *Tracker) udpStream(tp *dissect.Transport) uint32 {
	k, _ := endpoints(tp)
	h := k.hash()
	for i := t.udpHead[h]; i != 0; i = t.udp[i-1].next {
		if t.udp[i-1].k == k {
			return i - 1
		}
	}
	t.udp = append(t.udp, udpConv{k: k, next: t.udpHead[h]})
	t.udpHead[h] = uint32(len(t.udp))
	return uint32(len(t.udp) - 1)
}
