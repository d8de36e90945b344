package streams

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// seg is one TCP segment of a scenario: from A (the client) or B (the
// server, port 5001, which no decoder above TCP claims).
type seg struct {
	fromB    bool
	seq, ack uint32
	flags    byte
	win      uint16
	n        int           // payload bytes
	ws       int           // window scale option: shift+1 (0: none)
	dt       time.Duration // after the previous segment (1 ms when 0)
	srcPort  uint16        // 0: the scenario's
}

// build makes raw IPv4 packets of the segments, the client on port
// client (or client+1 for a segment that says srcPort), starting at ts.
func build(segs []seg, client uint16, ts time.Time) []pcapio.Packet {
	var out []pcapio.Packet
	for _, s := range segs {
		sp, dp, src, dst := client, uint16(5001), testpkt.IPv4A, testpkt.IPv4B
		if s.srcPort != 0 {
			sp = client + 1
		}
		if s.fromB {
			sp, dp, src, dst = dp, sp, testpkt.IPv4B, testpkt.IPv4A
		}
		h := testpkt.TCP(sp, dp, s.seq, s.flags, s.win, make([]byte, s.n))
		binary.BigEndian.PutUint32(h[8:], s.ack)
		if s.ws > 0 { // NOP + window scale, header 24 bytes
			h = append(h[:20], append([]byte{1, 3, 3, byte(s.ws - 1)}, h[20:]...)...)
			h[12] = 6 << 4
		}
		if s.dt == 0 {
			s.dt = time.Millisecond
		}
		ts = ts.Add(s.dt)
		data := testpkt.IPv4(testpkt.ProtoTCP, src, dst, h)
		out = append(out, pcapio.Packet{Timestamp: ts, Data: data, Length: len(data), LinkType: pcapio.LinkTypeRaw})
	}
	return out
}

const (
	fSYN = 0x02
	fRST = 0x04
	fPSH = 0x08
	fACK = 0x10
	fFIN = 0x01
)

// scenarios are the tracker's edge cases; each lists, per packet, the
// analysis flags and stream it must get (checked here, and against tshark
// by TestTrackerScenariosTshark).
var scenarios = []struct {
	name   string
	segs   []seg
	stream []uint32 // tcp.stream+1 per packet
	flags  []uint32 // analysis flags per packet
	check  func(t *testing.T, infos []dissect.StreamInfo)
}{
	{
		name: "no SYN",
		segs: []seg{
			{seq: 5000, ack: 9000, flags: fACK | fPSH, win: 500, n: 100},
			{fromB: true, seq: 9000, ack: 5100, flags: fACK, win: 700},
			{seq: 5100, ack: 9000, flags: fACK | fPSH, win: 500, n: 100},
		},
		stream: []uint32{1, 1, 1},
		flags:  []uint32{0, 0, 0},
		check: func(t *testing.T, in []dissect.StreamInfo) {
			// Without a SYN the first segment's number is 1, the window
			// scale unknown.
			if in[0].Seq != 1 || in[0].NxtSeq != 101 || in[1].Ack != 101 || in[2].Seq != 101 || in[0].WinScale != -1 {
				t.Errorf("relative numbers %+v", in)
			}
		},
	},
	{
		name: "sequence numbers wrap",
		segs: []seg{
			{seq: 0xffffff00, flags: fSYN, win: 1000},
			{fromB: true, seq: 7, ack: 0xffffff01, flags: fSYN | fACK, win: 1000},
			{seq: 0xffffff01, ack: 8, flags: fACK, win: 1000},
			{seq: 0xffffff01, ack: 8, flags: fACK | fPSH, win: 1000, n: 200},
			{fromB: true, seq: 8, ack: 0xffffffc9, flags: fACK, win: 1000},
			{seq: 0xffffffc9, ack: 8, flags: fACK | fPSH, win: 1000, n: 200},
			{fromB: true, seq: 8, ack: 0x91, flags: fACK, win: 1000},
		},
		stream: []uint32{1, 1, 1, 1, 1, 1, 1},
		flags:  []uint32{0, 0, 0, 0, 0, 0, 0},
		check: func(t *testing.T, in []dissect.StreamInfo) {
			if in[5].Seq != 201 || in[5].NxtSeq != 401 || in[6].Ack != 401 || in[6].AcksFrame != 6 {
				t.Errorf("across the wrap: %+v, %+v", in[5], in[6])
			}
		},
	},
	{
		name: "window scale on the SYN only",
		segs: []seg{
			{seq: 100, flags: fSYN, win: 1000, ws: 8},
			{fromB: true, seq: 300, ack: 101, flags: fSYN | fACK, win: 2000},
			{seq: 101, ack: 301, flags: fACK, win: 1000},
			{fromB: true, seq: 301, ack: 101, flags: fACK | fPSH, win: 2000, n: 10},
		},
		stream: []uint32{1, 1, 1, 1},
		flags:  []uint32{0, 0, 0, 0},
		check: func(t *testing.T, in []dissect.StreamInfo) {
			// The SYN/ACK has no option: neither side scales.
			if in[2].WinScale != -2 || in[2].Window != 1000 || in[3].WinScale != -2 || in[3].Window != 2000 {
				t.Errorf("windows %+v %+v", in[2], in[3])
			}
		},
	},
	{
		name: "window scaled",
		segs: []seg{
			{seq: 100, flags: fSYN, win: 1000, ws: 3},
			{fromB: true, seq: 300, ack: 101, flags: fSYN | fACK, win: 2000, ws: 8},
			{seq: 101, ack: 301, flags: fACK, win: 1000},
			{fromB: true, seq: 301, ack: 101, flags: fACK | fPSH, win: 2000, n: 10},
		},
		stream: []uint32{1, 1, 1, 1},
		flags:  []uint32{0, 0, 0, 0},
		check: func(t *testing.T, in []dissect.StreamInfo) {
			if in[2].WinScale != 2 || in[2].Window != 4000 || in[3].WinScale != 7 || in[3].Window != 2000<<7 {
				t.Errorf("windows %+v %+v", in[2], in[3])
			}
		},
	},
	{
		name: "RST, then the ports reused",
		segs: []seg{
			{seq: 100, flags: fSYN, win: 1000},
			{fromB: true, seq: 300, ack: 101, flags: fSYN | fACK, win: 1000},
			{seq: 101, ack: 301, flags: fRST | fACK, win: 0},
			{seq: 90000, flags: fSYN, win: 1000},
			{fromB: true, seq: 70000, ack: 90001, flags: fSYN | fACK, win: 1000},
			{seq: 90001, ack: 70001, flags: fACK, win: 1000},
			{seq: 90000, flags: fSYN, win: 1000, srcPort: 40001},
		},
		stream: []uint32{1, 1, 1, 2, 2, 2, 3},
		flags:  []uint32{0, 0, 0, dissect.FlagReusedPorts, 0, 0, 0},
	},
	{
		name: "zero window, probe and its ACK, keep-alive",
		segs: []seg{
			{seq: 100, flags: fSYN, win: 1000},
			{fromB: true, seq: 300, ack: 101, flags: fSYN | fACK, win: 1000},
			{seq: 101, ack: 301, flags: fACK | fPSH, win: 1000, n: 50},
			{fromB: true, seq: 301, ack: 151, flags: fACK, win: 0},
			{seq: 151, ack: 301, flags: fACK, win: 1000, n: 1, dt: 300 * time.Millisecond},
			{fromB: true, seq: 301, ack: 151, flags: fACK, win: 0},
			{fromB: true, seq: 301, ack: 151, flags: fACK, win: 800, dt: 300 * time.Millisecond},
			{seq: 150, ack: 301, flags: fACK, win: 1000, dt: 2 * time.Second},
			{fromB: true, seq: 301, ack: 151, flags: fACK, win: 800},
		},
		stream: []uint32{1, 1, 1, 1, 1, 1, 1, 1, 1},
		flags: []uint32{0, 0, 0, dissect.FlagZeroWindow, dissect.FlagZeroWindowProbe, dissect.FlagZeroWindow | dissect.FlagZeroWindowProbeAck,
			dissect.FlagWindowUpdate, dissect.FlagKeepAlive, dissect.FlagKeepAliveAck},
	},
	{
		name: "duplicate ACKs, fast retransmission, out of order",
		segs: []seg{
			{seq: 100, flags: fSYN, win: 1000},
			{fromB: true, seq: 300, ack: 101, flags: fSYN | fACK, win: 1000, dt: 10 * time.Millisecond},
			{seq: 101, ack: 301, flags: fACK, win: 1000, dt: 10 * time.Millisecond},
			{seq: 101, ack: 301, flags: fACK, win: 1000, n: 100},
			{seq: 301, ack: 301, flags: fACK, win: 1000, n: 100},
			{fromB: true, seq: 301, ack: 201, flags: fACK, win: 1000},
			{fromB: true, seq: 301, ack: 201, flags: fACK, win: 1000},
			{fromB: true, seq: 301, ack: 201, flags: fACK, win: 1000},
			{seq: 201, ack: 301, flags: fACK, win: 1000, n: 100},
			{seq: 401, ack: 301, flags: fACK, win: 1000, n: 100, dt: time.Microsecond},
			{seq: 501, ack: 301, flags: fACK, win: 1000, n: 100, dt: 500 * time.Millisecond},
			{seq: 401, ack: 301, flags: fACK, win: 1000, n: 100, dt: 500 * time.Millisecond},
		},
		stream: []uint32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		flags: []uint32{0, 0, 0, 0, dissect.FlagLostSegment, 0, dissect.FlagDuplicateAck, dissect.FlagDuplicateAck,
			dissect.FlagFastRetransmission, 0, 0, dissect.FlagRetransmission},
		check: func(t *testing.T, in []dissect.StreamInfo) {
			if in[7].DupAckNum != 2 || in[7].DupAckFrame != 6 {
				t.Errorf("second duplicate ACK: %+v", in[7])
			}
		},
	},
}

// TestTrackerScenarios runs the edge cases through the tracker.
func TestTrackerScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			tr := New()
			var infos []dissect.StreamInfo
			for i, p := range build(sc.segs, 40000, time.Unix(1700000000, 0)) {
				si := tr.Add(p.LinkType, p.Data, p.Length, p.Timestamp)
				infos = append(infos, si)
				if si.TCPStream != sc.stream[i] || si.Flags != sc.flags[i] {
					t.Errorf("packet %d: stream %d flags %#x, want stream %d flags %#x", i+1, si.TCPStream, si.Flags, sc.stream[i], sc.flags[i])
				}
			}
			if sc.check != nil {
				sc.check(t, infos)
			}
		})
	}
}

// TestTrackerScenariosTshark checks the edge cases against tshark, in one
// capture (each scenario with client ports of its own, a minute after the
// one before).
func TestTrackerScenariosTshark(t *testing.T) {
	var pkts []pcapio.Packet
	for i, sc := range scenarios {
		pkts = append(pkts, build(sc.segs, uint16(40000+10*i), time.Unix(1700000000+int64(60*i), 0))...)
	}
	path := filepath.Join(t.TempDir(), "scenarios.pcap")
	if err := capture.DumpPackets(path, pcapio.LinkTypeRaw, pkts); err != nil {
		t.Fatal(err)
	}
	r := compareOracle(t, "scenarios", path, false)
	for _, f := range []string{"tcp.analysis.zero_window_probe", "tcp.analysis.zero_window_probe_ack", "tcp.analysis.fast_retransmission", "tcp.analysis.reused_ports", "tcp.analysis.keep_alive_ack"} {
		if r.seen[f] == 0 {
			t.Errorf("tshark finds no %s in the scenarios", f)
		}
	}
}

// TestTrackerBadInput feeds the tracker packets that are not TCP or UDP,
// cut short or nonsense: it gives them no stream and does not panic.
func TestTrackerBadInput(t *testing.T) {
	tr := New()
	good := build([]seg{{seq: 1, flags: fSYN, win: 1}}, 40000, time.Unix(1, 0))[0].Data
	for n := 0; n < len(good); n++ {
		si := tr.Add(pcapio.LinkTypeRaw, good[:n], len(good), time.Unix(1, 0))
		if n < 40 && si.TCPStream != 0 {
			t.Errorf("%d bytes: stream %d", n, si.TCPStream)
		}
	}
	for _, lt := range []pcapio.LinkType{pcapio.LinkTypeEthernet, pcapio.LinkTypeLinuxSLL, pcapio.LinkType(9999)} {
		tr.Add(lt, []byte{0xff, 0xff, 0xff}, 3, time.Time{})
	}
}
