package streams

import (
	"github.com/pkttap/pkttap/dissect"
)

// TCP header flags.
const (
	thFIN = 0x01
	thSYN = 0x02
	thRST = 0x04
	thPSH = 0x08
	thACK = 0x10
)

// maxUnacked bounds the unacknowledged segments remembered per direction,
// as Wireshark's TCP_MAX_UNACKED_SEGMENTS does.
const maxUnacked = 10000

// A flow's static flags.
const (
	baseSeqSet = 1 << iota
)

// segment is an unacknowledged segment of a flow.
type segment struct {
	frame, seq, nextSeq uint32
	ts                  int64
}

// flow is one direction of a TCP conversation: Wireshark's tcp_flow_t and
// tcp_analyze_seq_flow_info_t, only what the analysis reads.
type flow struct {
	baseSeq, nextSeq, lastAck uint32
	maxSeqToBeAcked           uint32
	lastNonDupAck             uint32
	dupAckNum                 int32
	lastSegFlags              uint32
	nextSeqTime, lastAckTime  int64
	window                    uint16
	winScale                  int8 // -1 unknown, -2 none
	static                    uint8
	validBIF                  bool
	nsack                     uint8 // the SACK blocks of the direction's last segment
	sack                      *[4][2]uint32
	segs                      []segment // oldest first
}

// tcpConv is one TCP conversation (one tcp.stream).
type tcpConv struct {
	k                  key
	next               uint32 // hash chain: index+1 of an older conversation with the same hash
	flow               [2]flow
	tsMruSyn, firstRTT int64 // 0: not seen
}

func newTCPConv(k key, next uint32) tcpConv {
	c := tcpConv{k: k, next: next}
	for i := range c.flow {
		c.flow[i].winScale = -1
		c.flow[i].validBIF = true
	}
	return c
}

// Sequence number comparisons modulo 2^32.
func gtSeq(a, b uint32) bool { return int32(b-a) < 0 }
func ltSeq(a, b uint32) bool { return int32(a-b) < 0 }
func leSeq(a, b uint32) bool { return int32(a-b) <= 0 }

// findTCP returns the index of the newest conversation with key k, or -1.
func (t *Tracker) findTCP(k *key, h uint64) int {
	for i := t.tcpHead[h]; i != 0; i = t.conv(int(i - 1)).next {
		if t.conv(int(i-1)).k == *k {
			return int(i - 1)
		}
	}
	return -1
}

func (t *Tracker) newTCP(k *key, h uint64) int {
	if t.nTCP%convChunk == 0 {
		t.tcp = append(t.tcp, make([]tcpConv, 0, convChunk))
	}
	last := &t.tcp[len(t.tcp)-1]
	*last = append(*last, newTCPConv(*k, t.tcpHead[h]))
	t.nTCP++
	t.tcpHead[h] = uint32(t.nTCP)
	return t.nTCP - 1
}

// convChunk is how many conversations a chunk of Tracker.tcp holds.
const convChunk = 1024

// conv returns conversation i.
func (t *Tracker) conv(i int) *tcpConv { return &t.tcp[i/convChunk][i%convChunk] }

// analysis is the per-packet result Wireshark keeps in its tcp_acked.
type analysis struct {
	exists                 bool
	flags                  uint32
	dupAckNum, dupAckFrame uint32
	acksFrame              uint32
	ackRTT                 int64
	bytesInFlight          uint32
}

func (a *analysis) set(f uint32) {
	a.exists = true
	a.flags |= f
}

// tcpPacket tracks one TCP header and fills si.
func (t *Tracker) tcpPacket(tp *dissect.Transport, ts int64, si *dissect.StreamInfo) {
	k, dir := endpoints(tp)
	h := k.hash()
	ci := t.findTCP(&k, h)
	if ci < 0 {
		ci = t.newTCP(&k, h)
	}
	var a analysis
	flags := tp.Flags
	fwd := &t.conv(ci).flow[dir]
	switch {
	case flags&(thSYN|thACK) == thSYN && fwd.static&baseSeqSet != 0 && tp.Seq != fwd.baseSeq:
		// A SYN with another initial sequence number: the ports are reused
		// by a new connection.
		ci = t.newTCP(&k, h)
		a.set(dissect.FlagReusedPorts)
	case flags&(thSYN|thACK) == thSYN|thACK && fwd.static&baseSeqSet != 0 && tp.Seq != fwd.baseSeq:
		a.set(dissect.FlagReusedPorts)
	}
	c := t.conv(ci)
	fwd, rev := &c.flow[dir], &c.flow[1-dir]
	si.TCPStream = uint32(ci) + 1
	if tp.HaveSegLen {
		seglen := uint32(tp.SegLen)
		c.analyze(fwd, rev, tp.Seq, tp.Ack, seglen, flags, tp.Window, ts, t.frame, &a)
		si.Analyzed = true
		si.Seq = tp.Seq - fwd.baseSeq
		si.Ack = tp.Ack
		if flags&thACK != 0 {
			si.Ack = tp.Ack - rev.baseSeq
		}
		si.Window = uint32(tp.Window)
		if flags&thSYN == 0 && fwd.winScale >= 0 {
			si.Window <<= uint(fwd.winScale)
		}
		si.WinScale = fwd.winScale
		si.NxtSeq = si.Seq + seglen
		if flags&(thSYN|thFIN) != 0 {
			si.NxtSeq++
		}
		si.HasAnalysis = a.exists
		si.Flags = a.flags
		si.DupAckNum, si.DupAckFrame = a.dupAckNum, a.dupAckFrame
		si.AcksFrame, si.AckRTT = a.acksFrame, a.ackRTT
		si.BytesInFlight = a.bytesInFlight
	}
	if flags&(thSYN|thACK) == thSYN {
		c.tsMruSyn = ts
	}
	if flags&(thSYN|thACK) == thACK && c.tsMruSyn != 0 && c.firstRTT == 0 {
		c.firstRTT = ts - c.tsMruSyn
	}
	// The options are read after the analysis, as Wireshark dissects them.
	if tp.WScale >= 0 {
		fwd.winScale = tp.WScale
	}
	fwd.nsack = uint8(tp.NSACK) // a segment without SACK blocks clears them
	if tp.NSACK > 0 {
		if fwd.sack == nil {
			fwd.sack = new([4][2]uint32)
		}
		for i := 0; i < tp.NSACK; i++ {
			fwd.sack[i] = tp.SACK[i]
		}
	}
	if flags&thSYN != 0 {
		// verify_tcp_window_scaling
		if fwd.winScale == -1 {
			fwd.winScale, rev.winScale = -2, -2
		} else if flags&thACK != 0 && rev.winScale == -2 {
			fwd.winScale = -2
		}
	}
}

// analyze is Wireshark's tcp_analyze_sequence_number for one segment of
// the flow fwd (rev is the other direction).
func (c *tcpConv) analyze(fwd, rev *flow, seq, ack, seglen uint32, flags, window uint16, ts int64, frame uint32, a *analysis) {
	if fwd.static&baseSeqSet == 0 {
		if flags&thSYN != 0 {
			fwd.baseSeq = seq
		} else {
			fwd.baseSeq = seq - 1
		}
		fwd.static |= baseSeqSet
	}
	if rev.static&baseSeqSet == 0 && flags&thACK != 0 {
		rev.baseSeq = ack - 1
		rev.static |= baseSeqSet
	}
	if flags&thACK != 0 {
		rev.validBIF = true
	}
	win := window
	noSFR := flags&(thSYN|thFIN|thRST) == 0

	// The checks of the forward direction; some end them early.
	func() {
		if seglen == 1 && seq == fwd.nextSeq && rev.window == 0 {
			a.set(dissect.FlagZeroWindowProbe)
			return
		}
		if win == 0 && noSFR {
			a.set(dissect.FlagZeroWindow)
		}
		if fwd.nextSeq != 0 && gtSeq(seq, fwd.nextSeq) && flags&thRST == 0 {
			a.set(dissect.FlagLostSegment)
			fwd.validBIF = false
		}
		if (seglen == 0 || seglen == 1) && seq == fwd.nextSeq-1 && noSFR {
			a.set(dissect.FlagKeepAlive)
		}
		if seglen == 0 && win != 0 && win != fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck && noSFR {
			a.set(dissect.FlagWindowUpdate)
		}
		if seglen > 0 && rev.winScale != -1 && noSFR {
			shift := uint(0)
			if rev.winScale >= 0 {
				shift = uint(rev.winScale)
			}
			if seq+seglen == rev.lastAck+uint32(rev.window)<<shift {
				a.set(dissect.FlagWindowFull)
			}
		}
		if seglen == 0 && win != 0 && win == fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck && rev.lastSegFlags&dissect.FlagKeepAlive != 0 && noSFR {
			a.set(dissect.FlagKeepAliveAck)
			return
		}
		if seglen == 0 && win == 0 && win == fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck && rev.lastSegFlags&dissect.FlagZeroWindowProbe != 0 && noSFR {
			a.set(dissect.FlagZeroWindowProbeAck)
			return
		}
		if seglen == 0 && win != 0 && win == fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck && noSFR {
			if fwd.dupAckNum == -1 {
				fwd.dupAckNum = 1 // after an ACK of unseen data
			} else {
				fwd.dupAckNum++
			}
			a.set(dissect.FlagDuplicateAck)
			a.dupAckNum = uint32(fwd.dupAckNum)
			a.dupAckFrame = fwd.lastNonDupAck
		}
	}()

	if ack != fwd.lastAck {
		fwd.lastNonDupAck = frame
		fwd.dupAckNum = 0
	}

	if rev.maxSeqToBeAcked != 0 && gtSeq(ack, rev.maxSeqToBeAcked) && flags&thACK != 0 {
		a.exists = true
		if ltSeq(rev.maxSeqToBeAcked, rev.nextSeq) {
			// A hole in what the other side sent is acknowledged: once.
			rev.maxSeqToBeAcked = rev.nextSeq
			a.flags |= dissect.FlagAckLostSegment
		} else {
			// Data never seen is acknowledged: marked once until the
			// other side's acknowledgment moves.
			if rev.dupAckNum == 0 {
				a.flags |= dissect.FlagAckLostSegment
			}
			rev.dupAckNum = -1
		}
	}

	if seglen > 0 || flags&(thSYN|thFIN) != 0 {
		c.retransmission(fwd, rev, seq, seglen, flags, ts, a)
	}

	nextSeq := seq + seglen
	if (seglen != 0 || flags&(thSYN|thFIN) != 0) && len(fwd.segs) < maxUnacked {
		if flags&(thSYN|thFIN) != 0 {
			nextSeq++
		}
		fwd.segs = append(fwd.segs, segment{frame: frame, seq: seq, nextSeq: nextSeq, ts: ts})
	}
	zwp := a.flags&dissect.FlagZeroWindowProbe != 0
	if gtSeq(nextSeq, fwd.nextSeq) || fwd.nextSeq == 0 {
		if !zwp {
			fwd.nextSeq = nextSeq
			fwd.nextSeqTime = ts
		}
	}
	if seq == fwd.maxSeqToBeAcked || fwd.maxSeqToBeAcked == 0 {
		if !zwp {
			fwd.maxSeqToBeAcked = fwd.nextSeq
		}
	}
	fwd.window = window
	fwd.lastAck = ack
	fwd.lastAckTime = ts
	fwd.lastSegFlags = a.flags

	// Remove the segments of the other direction this acknowledges,
	// newest first as Wireshark walks its list.
	segs := rev.segs
	keep := len(segs)
	for i := len(segs) - 1; i >= 0; i-- {
		s := &segs[i]
		switch {
		case ack == s.nextSeq:
			a.exists = true
			a.acksFrame = s.frame
			a.ackRTT = ts - s.ts
		case gtSeq(ack, s.seq) && leSeq(ack, s.nextSeq):
			s.seq = ack
			continue
		case gtSeq(s.nextSeq, ack):
			continue
		}
		s.frame = 0 // acknowledged: removed below
		keep--
	}
	if keep != len(segs) {
		out := segs[:0]
		for _, s := range segs {
			if s.frame != 0 {
				out = append(out, s)
			}
		}
		rev.segs = out
		if len(out) == 0 {
			rev.segs = nil
		}
	}

	// Bytes in flight, from the unacknowledged segments' payloads.
	if seglen != 0 && len(fwd.segs) > 0 && fwd.validBIF {
		first := fwd.segs[len(fwd.segs)-1].seq - fwd.baseSeq
		last := fwd.segs[len(fwd.segs)-1].nextSeq - fwd.baseSeq
		for _, s := range fwd.segs {
			if s.nextSeq-fwd.baseSeq > last {
				last = s.nextSeq - fwd.baseSeq
			}
			if s.seq-fwd.baseSeq < first {
				first = s.seq - fwd.baseSeq
			}
		}
		inFlight := last - first
		if rev.sack != nil {
			for i := 0; i < int(rev.nsack); i++ {
				inFlight -= rev.sack[i][1] - rev.sack[i][0]
			}
		}
		if inFlight > 0 && inFlight < 2000000000 {
			a.bytesInFlight = inFlight
			if flags&(thSYN|thFIN) != 0 {
				a.bytesInFlight--
			}
		}
		a.exists = true // push_bytes_sent is kept for every such segment
	}
}

// retransmission tells retransmissions, fast and spurious ones and
// out-of-order segments apart, for a segment with data, a SYN or a FIN.
func (c *tcpConv) retransmission(fwd, rev *flow, seq, seglen uint32, flags uint16, ts int64, a *analysis) {
	notAdvanced := fwd.nextSeq != 0 && ltSeq(seq, fwd.nextSeq)
	if a.flags&dissect.FlagKeepAlive != 0 {
		return
	}
	if seglen > 1 && fwd.nextSeq-1 == seq {
		notAdvanced = false
	}
	if seglen > 0 && rev.lastAck != 0 && leSeq(seq+seglen, rev.lastAck) {
		a.set(dissect.FlagSpuriousRetransmission)
		return
	}
	if notAdvanced && rev.dupAckNum >= 2 && rev.lastAck == seq && uint64(ts-rev.lastAckTime) < 20000000 {
		a.set(dissect.FlagFastRetransmission)
		return
	}
	thres := uint64(3000000)
	if c.firstRTT != 0 {
		thres = uint64(c.firstRTT)
	}
	extra := uint32(0)
	if flags&(thSYN|thFIN) != 0 {
		extra = 1
	}
	if notAdvanced && uint64(ts-fwd.nextSeqTime) < thres && fwd.nextSeq != seq+seglen+extra {
		a.set(dissect.FlagOutOfOrder)
		return
	}
	if notAdvanced {
		a.set(dissect.FlagRetransmission)
	}
}
