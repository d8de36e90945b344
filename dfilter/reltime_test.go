package dfilter

import (
	"testing"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// TestRelTimeLiteral compares a relative time field with seconds written
// in the expression, as tshark does (tcp.analysis.ack_rtt > 0.1).
func TestRelTimeLiteral(t *testing.T) {
	pkt := testpkt.IPv4(testpkt.ProtoTCP, testpkt.IPv4A, testpkt.IPv4B, testpkt.TCP(1, 2, 100, 0x10, 1000, nil))
	for _, c := range []struct {
		expr string
		rtt  int64
		want bool
	}{
		{"tcp.analysis.ack_rtt > 0.1", 150e6, true},
		{"tcp.analysis.ack_rtt > 0.1", 50e6, false},
		{"tcp.analysis.ack_rtt == 0.05", 50e6, true},
		{"tcp.analysis.ack_rtt < 1e-3", 999e3, true},
		{"tcp.analysis.ack_rtt >= -1", 1, true},
	} {
		f, err := Compile(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		si := dissect.StreamInfo{TCPStream: 1, Analyzed: true, HasAnalysis: true, AcksFrame: 1, AckRTT: c.rtt}
		if got := f.Match(Packet{LinkType: pcapio.LinkTypeRaw, Data: pkt, Length: len(pkt), Number: 2, Stream: &si}); got != c.want {
			t.Errorf("%s with an RTT of %d ns: %v, want %v", c.expr, c.rtt, got, c.want)
		}
	}
	if _, err := Compile("tcp.analysis.ack_rtt > abc"); err == nil {
		t.Error("a time that is no number compiles")
	}
}
