//go:build linux

package platform

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/pcapio"
)

// TestLiveLoopback captures UDP datagrams sent over the namespace's
// loopback, on "lo" (ARPHRD_LOOPBACK: EN10MB with a zero Ethernet header)
// and on "any" (cooked). The kernel shows a socket bound there each
// loopback packet twice, outgoing and incoming; as libpcap, only one copy
// may be delivered.
func TestLiveLoopback(t *testing.T) {
	v := newVethNet(t)
	const port = 9999
	// udp dst port 9999, on the IPv4 header right after a 14-byte
	// Ethernet header (lo) or at the network header (any, via SKF_AD).
	lo := udpDstPortFilter(t, bpf.LoadAbsolute{Off: 12, Size: 2}, 14, port)
	anyDev := udpDstPortFilter(t, bpf.LoadExtension{Num: bpf.ExtProto}, 0, port)
	tests := []struct {
		iface    string
		lt       pcapio.LinkType
		filter   func(pcapio.LinkType) ([]bpf.RawInstruction, error)
		ipOffset int
	}{
		{"lo", pcapio.LinkTypeEthernet, lo, 14},
		{"any", pcapio.LinkTypeLinuxSLL, anyDev, 16},
	}
	for _, tc := range tests {
		t.Run(tc.iface, func(t *testing.T) {
			src := openIn(t, v.NSA, Config{Interface: tc.iface, FilterFor: tc.filter})
			if src.LinkType() != tc.lt {
				t.Fatalf("LinkType() = %s, want %s", src.LinkType(), tc.lt)
			}
			var conn, sink *net.UDPConn
			var err, serr error
			netnstest.Run(t, v.NSA, func() {
				// A receiver, so no port-unreachable error comes back.
				sink, serr = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
				conn, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
			})
			if err != nil || serr != nil {
				t.Fatal(err, serr)
			}
			defer sink.Close()
			defer conn.Close()
			msgs := [][]byte{[]byte("first"), []byte("second"), []byte("third")}
			for _, m := range msgs {
				if _, err := conn.Write(m); err != nil {
					t.Fatal(err)
				}
			}
			got := collect(t, src, len(msgs), 5*time.Second)
			for i, p := range got {
				ip := p.Data[tc.ipOffset:]
				if !bytes.Equal(ip[28:], msgs[i]) || binary.BigEndian.Uint16(ip[22:]) != port {
					t.Errorf("packet %d = %x, want the datagram %q", i, p.Data, msgs[i])
				}
				if tc.lt == pcapio.LinkTypeLinuxSLL && binary.BigEndian.Uint16(p.Data[0:]) != 0 {
					t.Errorf("packet %d: SLL packet type %d, want 0 (the incoming copy)", i, binary.BigEndian.Uint16(p.Data[0:]))
				}
			}
			// The outgoing copies passed the filter too (the kernel counts
			// them) but must not be delivered.
			extra := make(chan pcapio.Packet, 1)
			go func() {
				if p, err := src.NextZeroCopy(); err == nil {
					extra <- p
				}
				close(extra)
			}()
			select {
			case p, ok := <-extra:
				if ok {
					t.Errorf("a fourth packet was delivered (loopback duplicate?): %x", p.Data)
				}
			case <-time.After(100 * time.Millisecond):
			}
			src.Close()
			<-extra
			if st, err := src.Stats(); err != nil || st.Received != 2*uint64(len(msgs)) {
				t.Errorf("Stats() = %+v, %v; want Received %d (both copies of each datagram pass the kernel filter)", st, err, 2*len(msgs))
			}
		})
	}
}

// udpDstPortFilter accepts IPv4 UDP packets to port: loadEtherType loads
// the packet's ether type, and the IPv4 header starts at ipOff.
func udpDstPortFilter(t testing.TB, loadEtherType bpf.Instruction, ipOff, port uint32) func(pcapio.LinkType) ([]bpf.RawInstruction, error) {
	raw := assemble(t,
		loadEtherType,
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 5},
		bpf.LoadAbsolute{Off: ipOff + 9, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: 3},
		bpf.LoadAbsolute{Off: ipOff + 22, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: port, SkipFalse: 1},
		bpf.RetConstant{Val: DefaultSnaplen},
		bpf.RetConstant{Val: 0},
	)
	return func(pcapio.LinkType) ([]bpf.RawInstruction, error) { return raw, nil }
}
