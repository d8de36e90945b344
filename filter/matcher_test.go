package filter

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// matcherPackets are packets of three link types: an Ethernet UDP frame, the
// same datagram as raw IP, and an ARP frame (Ethernet).
func matcherPackets() []struct {
	lt   pcapio.LinkType
	data []byte
} {
	udp := testpkt.IPv4(testpkt.ProtoUDP, testpkt.IPv4A, testpkt.IPv4B, testpkt.UDP(5353, 53, []byte("q")))
	eth := func(typ uint16, payload []byte) []byte {
		f := append(append([]byte{}, testpkt.MACB...), testpkt.MACA...)
		f = binary.BigEndian.AppendUint16(f, typ)
		return append(f, payload...)
	}
	return []struct {
		lt   pcapio.LinkType
		data []byte
	}{
		{pcapio.LinkTypeEthernet, eth(testpkt.EtherTypeIPv4, udp)},
		{pcapio.LinkTypeRaw, udp},
		{pcapio.LinkTypeEthernet, eth(testpkt.EtherTypeARP, testpkt.ARPRequest(testpkt.MACA, testpkt.IPv4A, testpkt.IPv4B))},
	}
}

// TestMatcher checks that a Matcher gives, for every packet, the verdict of
// the program compiled for the packet's own link type, that a link type
// the expression cannot be compiled for matches nothing, and that each
// link type is compiled once, through the gate, however many goroutines
// match at once.
func TestMatcher(t *testing.T) {
	tests := []struct {
		expr string
		want []bool // per matcherPackets
	}{
		{"udp port 53", []bool{true, true, false}},
		{"arp", []bool{false, false, true}},                             // arp on RAW: rejects all packets
		{"ether src host 02:00:00:00:00:0a", []bool{true, false, true}}, // no Ethernet header on RAW
		{"", []bool{true, true, true}},
	}
	pkts := matcherPackets()
	for _, tc := range tests {
		var gates atomic.Int32
		m := NewMatcher(tc.expr, FileOptions(binary.LittleEndian, 0)).WithGate(func() (func(), error) {
			gates.Add(1)
			return func() {}, nil
		})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 100 {
					for i, p := range pkts {
						if got := m.Match(p.lt, p.data, len(p.data)); got != tc.want[i] {
							t.Errorf("%q on packet %d (%s): %v, want %v", tc.expr, i, p.lt, got, tc.want[i])
							return
						}
					}
				}
			})
		}
		wg.Wait()
		if n := gates.Load(); n != 2 {
			t.Errorf("%q: compiled %d times through the gate, want 2 (once per link type)", tc.expr, n)
		}
		for i, p := range pkts {
			prog, err := Compile(tc.expr, Options{LinkType: p.lt, Target: TargetFile, SavefileByteOrder: binary.LittleEndian})
			want := err == nil && prog.Match(p.data, len(p.data)) != 0
			if want != tc.want[i] {
				t.Errorf("%q on packet %d: the program for %s says %v, the table %v", tc.expr, i, p.lt, want, tc.want[i])
			}
		}
	}
}

// TestMatcherCheck checks that Check reports a bad expression with its
// column, compiles without the gate, and that what it compiled is not
// compiled again.
func TestMatcherCheck(t *testing.T) {
	gated := 0
	gate := func() (func(), error) { gated++; return func() {}, nil }
	var fe *Error
	if err := NewMatcher("tcp port", FileOptions(nil, 0)).Check(pcapio.LinkTypeEthernet); !errors.As(err, &fe) || fe.Column == 0 {
		t.Errorf("Check of a bad expression: %v, want a *filter.Error with a column", err)
	}
	m := NewMatcher("tcp", FileOptions(nil, 0)).WithGate(gate)
	if err := m.Check(pcapio.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	if v, err := m.VM(pcapio.LinkTypeEthernet); v == nil || err != nil || gated != 0 || m.Instructions() == 0 {
		t.Errorf("after Check: VM %v, %v; gate called %d times; %d instructions", v, err, gated, m.Instructions())
	}
	busy := errors.New("busy")
	m = NewMatcher("tcp", FileOptions(nil, 0)).WithGate(func() (func(), error) { return nil, busy })
	if m.Match(pcapio.LinkTypeRaw, nil, 0) {
		t.Error("matched although the gate refused the compile")
	}
	if _, err := m.VM(pcapio.LinkTypeRaw); !errors.Is(err, busy) {
		t.Errorf("VM after a refused gate: %v, want the gate's error", err)
	}
}

// TestProgramMatcher checks that a matcher made from a program runs it on
// its own link type only.
func TestProgramMatcher(t *testing.T) {
	prog, err := Compile("udp", Options{LinkType: pcapio.LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewProgramMatcher(prog)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range matcherPackets() {
		want := i == 1
		if got := m.Match(p.lt, p.data, len(p.data)); got != want {
			t.Errorf("packet %d (%s): %v, want %v", i, p.lt, got, want)
		}
	}
	prog.Raw = prog.Raw[:0]
	if _, err := NewProgramMatcher(prog); err == nil {
		t.Error("NewProgramMatcher accepted an empty program")
	}
}
