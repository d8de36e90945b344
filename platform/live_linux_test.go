//go:build linux

package platform

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/pcapio"
)

// assemble assembles a test filter program or fails the test.
func assemble(t testing.TB, prog ...bpf.Instruction) []bpf.RawInstruction {
	t.Helper()
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatalf("assemble filter: %v", err)
	}
	return raw
}

// etherTypeFilter accepts Ethernet frames of one ether type.
func etherTypeFilter(t testing.TB, etherType uint32) func(pcapio.LinkType) ([]bpf.RawInstruction, error) {
	raw := assemble(t,
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherType, SkipFalse: 1},
		bpf.RetConstant{Val: DefaultSnaplen},
		bpf.RetConstant{Val: 0},
	)
	return func(lt pcapio.LinkType) ([]bpf.RawInstruction, error) {
		if lt != pcapio.LinkTypeEthernet {
			return nil, fmt.Errorf("filter is for EN10MB, not %s", lt)
		}
		return raw, nil
	}
}

// collect reads n packets (copying them) or fails after the timeout, which
// it enforces by closing the source.
func collect(t testing.TB, src Source, n int, timeout time.Duration) []pcapio.Packet {
	t.Helper()
	type result struct {
		pkts []pcapio.Packet
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for len(r.pkts) < n {
			p, err := src.NextZeroCopy()
			if err != nil {
				r.err = err
				break
			}
			p.Data = bytes.Clone(p.Data)
			r.pkts = append(r.pkts, p)
		}
		done <- r
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("after %d of %d packets: %v", len(r.pkts), n, r.err)
		}
		return r.pkts
	case <-time.After(timeout):
		src.Close()
		r := <-done
		t.Fatalf("got %d of %d packets in %v (last error %v)", len(r.pkts), n, timeout, r.err)
		return nil
	}
}

func TestLiveExactPackets(t *testing.T) {
	v := newVethNet(t)
	src := openIn(t, v.NSA, Config{Interface: v.IfA, FilterFor: etherTypeFilter(t, netnstest.EtherTypeTest)})
	if got := src.LinkType(); got != pcapio.LinkTypeEthernet {
		t.Fatalf("LinkType() = %s, want EN10MB", got)
	}
	snd := netnstest.NewRawSender(t, v.NSB, v.IfB)
	var sent [][]byte
	before := time.Now()
	for i := range 20 {
		payload := bytes.Repeat([]byte{byte(i)}, 46+i*37)
		frame := netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, payload)
		sent = append(sent, frame)
		snd.Send(t, frame)
	}
	got := collect(t, src, len(sent), 5*time.Second)
	after := time.Now()
	for i, p := range got {
		if !bytes.Equal(p.Data, sent[i]) {
			t.Errorf("packet %d: bytes differ\n got %x\nwant %x", i, p.Data, sent[i])
		}
		if p.Length != len(sent[i]) || p.IsTruncated() {
			t.Errorf("packet %d: Length %d, want %d", i, p.Length, len(sent[i]))
		}
		if p.LinkType != pcapio.LinkTypeEthernet || p.InterfaceIndex != v.IndexA {
			t.Errorf("packet %d: LinkType %s InterfaceIndex %d, want EN10MB %d", i, p.LinkType, p.InterfaceIndex, v.IndexA)
		}
		if p.Timestamp.Before(before.Add(-time.Millisecond)) || p.Timestamp.After(after) {
			t.Errorf("packet %d: timestamp %v outside [%v, %v]", i, p.Timestamp, before, after)
		}
		if i > 0 && p.Timestamp.Before(got[i-1].Timestamp) {
			t.Errorf("packet %d: timestamp %v before the previous one", i, p.Timestamp)
		}
	}
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != uint64(len(sent)) || st.Dropped != 0 {
		t.Errorf("Stats() = %+v, want Received %d, Dropped 0", st, len(sent))
	}
}

func TestLiveKernelFilter(t *testing.T) {
	v := newVethNet(t)
	src := openIn(t, v.NSA, Config{Interface: v.IfA, FilterFor: etherTypeFilter(t, netnstest.EtherTypeTest)})
	snd := netnstest.NewRawSender(t, v.NSB, v.IfB)
	const each = 25
	for i := range each {
		snd.Send(t, netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTestOther, make([]byte, 50)))
		snd.Send(t, netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, []byte(fmt.Sprintf("accepted %02d ......................................", i))))
	}
	got := collect(t, src, each, 5*time.Second)
	for i, p := range got {
		if et := binary.BigEndian.Uint16(p.Data[12:]); et != netnstest.EtherTypeTest {
			t.Errorf("packet %d has ether type %#x, which the filter rejects", i, et)
		}
		if want := fmt.Sprintf("accepted %02d", i); !bytes.Contains(p.Data, []byte(want)) {
			t.Errorf("packet %d: want payload %q, got %x", i, want, p.Data)
		}
	}
	// Give anything the filter let through in error time to arrive, then
	// check the kernel's own count: the rejected frames never reached the
	// socket.
	time.Sleep(50 * time.Millisecond)
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != each || st.Dropped != 0 {
		t.Errorf("Stats() = %+v, want Received %d (the accepted frames only), Dropped 0", st, each)
	}
	// Counters accumulate: a second read adds nothing new but loses nothing.
	st2, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st2.Received != st.Received {
		t.Errorf("second Stats() Received = %d, want %d (PACKET_STATISTICS resets on read; Stats must accumulate)", st2.Received, st.Received)
	}
}

// TestLiveNoPreFilterLeak opens captures while a flood of frames the filter
// rejects is already running: none of them may be delivered or counted.
func TestLiveNoPreFilterLeak(t *testing.T) {
	v := newVethNet(t)
	snd := netnstest.NewRawSender(t, v.NSB, v.IfB)
	stop := make(chan struct{})
	flooded := make(chan error, 1)
	go func() {
		noise := netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTestOther, make([]byte, 46))
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-stop:
				flooded <- nil
				return
			default:
			}
			for range 64 {
				if _, err := snd.Write(noise); err != nil {
					flooded <- err
					return
				}
			}
		}
		flooded <- nil
	}()
	defer func() {
		close(stop)
		if err := <-flooded; err != nil {
			t.Errorf("flood: %v", err)
		}
	}()
	time.Sleep(20 * time.Millisecond)
	for round := range 10 {
		src := openIn(t, v.NSA, Config{Interface: v.IfA, FilterFor: etherTypeFilter(t, netnstest.EtherTypeTest)})
		time.Sleep(5 * time.Millisecond)
		want := netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, []byte(fmt.Sprintf("round %d marker ....................................", round)))
		snd.Send(t, want)
		got := collect(t, src, 1, 5*time.Second)
		if !bytes.Equal(got[0].Data, want) {
			t.Fatalf("round %d: first packet delivered is %x, want the marker %x (pre-filter leak)", round, got[0].Data, want)
		}
		st, err := src.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Received != 1 {
			t.Fatalf("round %d: Stats().Received = %d, want 1 (frames reached the socket before the filter)", round, st.Received)
		}
		src.Close()
	}
}

// readInBackground calls src.NextZeroCopy on another goroutine; the
// channel receives the error it returns.
func readInBackground(src Source) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := src.NextZeroCopy()
		done <- err
	}()
	return done
}

// newVethNet makes the test's namespaces: A captures, B sends.
func newVethNet(t testing.TB) *netnstest.Pair {
	t.Helper()
	return netnstest.NewPair(t, netnstest.Options{Name: "platform"})
}

// openIn opens a capture inside a namespace and closes it when the test
// ends.
func openIn(t testing.TB, ns string, cfg Config) Source {
	t.Helper()
	var src Source
	var err error
	netnstest.Run(t, ns, func() { src, err = Open(cfg) })
	if err != nil {
		t.Fatalf("Open(%+v): %v", cfg.Interface, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func TestLivePromiscuity(t *testing.T) {
	v := newVethNet(t)
	base := netnstest.Promiscuity(t, v.NSA, v.IfA)
	src := openIn(t, v.NSA, Config{Interface: v.IfA, Promiscuous: true})
	if got := netnstest.Promiscuity(t, v.NSA, v.IfA); got != base+1 {
		t.Errorf("promiscuity while open = %d, want %d", got, base+1)
	}
	plain := openIn(t, v.NSA, Config{Interface: v.IfA})
	if got := netnstest.Promiscuity(t, v.NSA, v.IfA); got != base+1 {
		t.Errorf("promiscuity with a second, non-promiscuous capture = %d, want %d", got, base+1)
	}
	plain.Close()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if got := netnstest.Promiscuity(t, v.NSA, v.IfA); got != base {
		t.Errorf("promiscuity after Close = %d, want %d", got, base)
	}
}

func TestLiveSnaplen(t *testing.T) {
	v := newVethNet(t)
	for _, snap := range []int{14, 40, 99, 100, 101} {
		t.Run(fmt.Sprint(snap), func(t *testing.T) {
			src := openIn(t, v.NSA, Config{Interface: v.IfA, Snaplen: snap, FilterFor: etherTypeFilter(t, netnstest.EtherTypeTest)})
			snd := netnstest.NewRawSender(t, v.NSB, v.IfB)
			payload := make([]byte, 86)
			for i := range payload {
				payload[i] = byte(i)
			}
			frame := netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, payload) // 100 bytes
			snd.Send(t, frame)
			p := collect(t, src, 1, 5*time.Second)[0]
			want := frame[:min(snap, len(frame))]
			if !bytes.Equal(p.Data, want) || p.Length != len(frame) {
				t.Errorf("got %d bytes (Length %d) %x, want %d bytes (Length %d) %x", len(p.Data), p.Length, p.Data, len(want), len(frame), want)
			}
			if p.IsTruncated() != (snap < len(frame)) {
				t.Errorf("IsTruncated() = %v with snaplen %d and a %d-byte frame", p.IsTruncated(), snap, len(frame))
			}
		})
	}
}

// vlanFilter is a socket program matching VLAN vid through the kernel's
// VLAN metadata (SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TAG), as libpcap
// compiles "vlan N" for a live Linux socket.
func vlanFilter(t testing.TB, vid uint32) []bpf.RawInstruction {
	return assemble(t,
		bpf.LoadExtension{Num: bpf.ExtVLANTagPresent},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipFalse: 4},
		bpf.LoadExtension{Num: bpf.ExtVLANTag},
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0fff},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: vid, SkipFalse: 1},
		bpf.RetConstant{Val: DefaultSnaplen},
		bpf.RetConstant{Val: 0},
	)
}

func TestLiveVLAN(t *testing.T) {
	v := newVethNet(t)
	tests := []struct {
		name   string
		iface  string
		lt     pcapio.LinkType
		filter []bpf.RawInstruction
	}{
		{"ethernet", v.IfA, pcapio.LinkTypeEthernet, vlanFilter(t, 100)},
		{"any", "any", pcapio.LinkTypeLinuxSLL, vlanFilter(t, 100)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := openIn(t, v.NSA, Config{Interface: tc.iface, FilterFor: func(pcapio.LinkType) ([]bpf.RawInstruction, error) { return tc.filter, nil }})
			if src.LinkType() != tc.lt {
				t.Fatalf("LinkType() = %s, want %s", src.LinkType(), tc.lt)
			}
			snd := netnstest.NewRawSender(t, v.NSB, v.IfB)
			payload := []byte("vlan-tagged payload ...........................")
			match := netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, payload, [4]byte{0x81, 0x00, 0xa0, 100}) // PCP 5, vid 100
			other := netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, payload, [4]byte{0x81, 0x00, 0x00, 200})
			snd.Send(t, other)
			snd.Send(t, match)
			snd.Send(t, netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, payload))
			p := collect(t, src, 1, 5*time.Second)[0]
			want := match
			if tc.lt == pcapio.LinkTypeLinuxSLL {
				// SLL header (host, ARPHRD_ETHER, 6-byte source MAC), then the
				// tag before the inner protocol, then the payload.
				sll := make([]byte, 16)
				binary.BigEndian.PutUint16(sll[2:], 1)
				binary.BigEndian.PutUint16(sll[4:], 6)
				copy(sll[6:], v.MACB)
				binary.BigEndian.PutUint16(sll[14:], 0x8100)
				want = append(append(sll, 0xa0, 100, 0x88, 0xb5), payload...)
			}
			if !bytes.Equal(p.Data, want) || p.Length != len(want) {
				t.Errorf("got %x (Length %d)\nwant %x (Length %d)", p.Data, p.Length, want, len(want))
			}
			time.Sleep(30 * time.Millisecond)
			st, err := src.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Received != 1 {
				t.Errorf("Stats().Received = %d, want 1 (only vid 100 matches in the kernel)", st.Received)
			}
		})
	}
}

// TestLiveVLANZeroTCI checks a priority tag (TCI 0), which the kernel marks
// with TP_STATUS_VLAN_VALID only: the tag must still come back.
func TestLiveVLANZeroTCI(t *testing.T) {
	v := newVethNet(t)
	src := openIn(t, v.NSA, Config{Interface: v.IfA, FilterFor: func(pcapio.LinkType) ([]bpf.RawInstruction, error) {
		return assemble(t,
			bpf.LoadExtension{Num: bpf.ExtVLANTagPresent},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipFalse: 1},
			bpf.RetConstant{Val: DefaultSnaplen},
			bpf.RetConstant{Val: 0},
		), nil
	}})
	snd := netnstest.NewRawSender(t, v.NSB, v.IfB)
	frame := netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, []byte("priority-tagged ..............................."), [4]byte{0x81, 0x00, 0, 0})
	snd.Send(t, frame)
	p := collect(t, src, 1, 5*time.Second)[0]
	if !bytes.Equal(p.Data, frame) || p.Length != len(frame) {
		t.Errorf("got %x (Length %d)\nwant %x (Length %d)", p.Data, p.Length, frame, len(frame))
	}
}

func TestLiveAny(t *testing.T) {
	v := newVethNet(t)
	src := openIn(t, v.NSA, Config{Interface: "any", FilterFor: func(lt pcapio.LinkType) ([]bpf.RawInstruction, error) {
		if lt != pcapio.LinkTypeLinuxSLL {
			return nil, fmt.Errorf("any gave %s", lt)
		}
		return assemble(t,
			bpf.LoadExtension{Num: bpf.ExtProto},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: netnstest.EtherTypeTest, SkipFalse: 1},
			bpf.RetConstant{Val: DefaultSnaplen},
			bpf.RetConstant{Val: 0},
		), nil
	}})
	snd := netnstest.NewRawSender(t, v.NSB, v.IfB)
	payload := []byte("to any .........................................")
	snd.Send(t, netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, payload))
	other := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
	snd.Send(t, netnstest.EthFrame(other, v.MACB, netnstest.EtherTypeTest, payload))
	got := collect(t, src, 2, 5*time.Second)
	for i, pktType := range []uint16{0 /* host */, 3 /* otherhost */} {
		want := make([]byte, 16)
		binary.BigEndian.PutUint16(want[0:], pktType)
		binary.BigEndian.PutUint16(want[2:], 1)
		binary.BigEndian.PutUint16(want[4:], 6)
		copy(want[6:], v.MACB)
		binary.BigEndian.PutUint16(want[14:], netnstest.EtherTypeTest)
		want = append(want, payload...)
		p := got[i]
		if !bytes.Equal(p.Data, want) || p.Length != len(want) || p.LinkType != pcapio.LinkTypeLinuxSLL || p.InterfaceIndex != v.IndexA {
			t.Errorf("packet %d: got %x (Length %d, %s, ifindex %d)\nwant %x (Length %d, LINUX_SLL, ifindex %d)",
				i, p.Data, p.Length, p.LinkType, p.InterfaceIndex, want, len(want), v.IndexA)
		}
	}
}

func TestLiveCloseUnblocks(t *testing.T) {
	v := newVethNet(t)
	src := openIn(t, v.NSA, Config{Interface: v.IfA, FilterFor: etherTypeFilter(t, netnstest.EtherTypeTest)})
	done := readInBackground(src)
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("NextZeroCopy returned %v before Close with no traffic", err)
	default:
	}
	if err := src.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("blocked NextZeroCopy returned %v after Close, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not wake a blocked NextZeroCopy")
	}
	if _, err := src.NextZeroCopy(); !errors.Is(err, ErrClosed) {
		t.Errorf("NextZeroCopy after Close = %v, want ErrClosed", err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := src.Stats(); err != nil {
		t.Errorf("Stats after Close = %v, want the final counts", err)
	}
}

func TestLiveInterfaces(t *testing.T) {
	v := newVethNet(t)
	var ifs []Interface
	var err error
	netnstest.Run(t, v.NSA, func() { ifs, err = Interfaces() })
	if err != nil {
		t.Fatal(err)
	}
	var veth, anyDev, lo *Interface
	for i := range ifs {
		switch ifs[i].Name {
		case v.IfA:
			veth = &ifs[i]
		case "any":
			anyDev = &ifs[i]
		case "lo":
			lo = &ifs[i]
		}
	}
	if veth == nil || anyDev == nil || lo == nil {
		t.Fatalf("Interfaces() = %+v: want %s, lo and any", ifs, v.IfA)
	}
	if !veth.Up || veth.Loopback || veth.Index != v.IndexA || veth.HardwareAddr.String() != v.MACA.String() {
		t.Errorf("veth = %+v, want up, not loopback, index %d, MAC %s", veth, v.IndexA, v.MACA)
	}
	if len(veth.Addresses) != 1 || veth.Addresses[0].String() != v.CIDRA {
		t.Errorf("veth addresses = %v, want [%s]", veth.Addresses, v.CIDRA)
	}
	if !lo.Loopback || !lo.Up {
		t.Errorf("lo = %+v, want up and loopback", lo)
	}
}

// TestLiveInterfaceLinkTypes checks that the link type Interfaces lists is
// the one the opened capture reports, for a veth, lo, "any" and, where the
// kernel can make one, a tun device (no link-layer header: RAW).
func TestLiveInterfaceLinkTypes(t *testing.T) {
	v := newVethNet(t)
	want := map[string]pcapio.LinkType{v.IfA: pcapio.LinkTypeEthernet, "lo": pcapio.LinkTypeEthernet, "any": pcapio.LinkTypeLinuxSLL}
	const tun = "pkttun0"
	if out, err := exec.Command("ip", "-n", v.NSA, "tuntap", "add", "dev", tun, "mode", "tun").CombinedOutput(); err != nil {
		t.Logf("no tun device in this kernel (%v: %s): checking the others", err, bytes.TrimSpace(out))
	} else {
		// A new tun is down, and Open refuses an interface that is down.
		if out, err := exec.Command("ip", "-n", v.NSA, "link", "set", tun, "up").CombinedOutput(); err != nil {
			t.Fatalf("ip link set %s up: %v\n%s", tun, err, out)
		}
		want[tun] = pcapio.LinkTypeRaw
	}
	var ifs []Interface
	var err error
	netnstest.Run(t, v.NSA, func() { ifs, err = Interfaces() })
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range ifs {
		lt, ok := want[it.Name]
		if !ok {
			continue
		}
		delete(want, it.Name)
		if it.LinkType != lt {
			t.Errorf("Interfaces lists %s with link type %s, want %s", it.Name, it.LinkType, lt)
		}
		src := openIn(t, v.NSA, Config{Interface: it.Name})
		if src.LinkType() != it.LinkType {
			t.Errorf("%s: listed with link type %s, but a capture on it has %s", it.Name, it.LinkType, src.LinkType())
		}
		src.Close()
	}
	if len(want) > 0 {
		t.Errorf("Interfaces() did not list %v", want)
	}
}

func TestLiveNoSuchInterface(t *testing.T) {
	v := newVethNet(t)
	var err error
	netnstest.Run(t, v.NSA, func() { _, err = Open(Config{Interface: "pkttap-nonesuch"}) })
	var pe *PlatformError
	if !errors.As(err, &pe) || pe.Interface != "pkttap-nonesuch" {
		t.Fatalf("Open of a missing interface = %v, want a *PlatformError naming it", err)
	}
}

// TestLiveInterfaceDown checks that a reader blocked on an interface that
// goes down gets an error saying so instead of waiting forever.
func TestLiveInterfaceDown(t *testing.T) {
	v := newVethNet(t)
	src := openIn(t, v.NSA, Config{Interface: v.IfA, FilterFor: etherTypeFilter(t, netnstest.EtherTypeTest)})
	done := readInBackground(src)
	time.Sleep(50 * time.Millisecond)
	if out, err := exec.Command("ip", "-n", v.NSA, "link", "set", v.IfA, "down").CombinedOutput(); err != nil {
		t.Fatalf("ip link set down: %v\n%s", err, out)
	}
	select {
	case err := <-done:
		var pe *PlatformError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "went down") {
			t.Errorf("NextZeroCopy after the interface went down = %v, want a *PlatformError saying so", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("NextZeroCopy still blocked 3 s after the interface went down")
	}
}

// TestLiveOpenDown checks that opening a capture on an interface that is
// down fails at once, naming the interface and saying it is down, as
// libpcap's PCAP_ERROR_IFACE_NOT_UP does, instead of opening and then
// failing the first read with "the interface went down".
func TestLiveOpenDown(t *testing.T) {
	v := newVethNet(t)
	if out, err := exec.Command("ip", "-n", v.NSA, "link", "set", v.IfA, "down").CombinedOutput(); err != nil {
		t.Fatalf("ip link set down: %v\n%s", err, out)
	}
	var src Source
	var err error
	netnstest.Run(t, v.NSA, func() { src, err = Open(Config{Interface: v.IfA}) })
	if err == nil {
		src.Close()
		t.Fatalf("Open of %s while it is down succeeded, want an error", v.IfA)
	}
	var pe *PlatformError
	if !errors.As(err, &pe) || pe.Interface != v.IfA || !strings.Contains(err.Error(), "is down") {
		t.Errorf("Open of %s while it is down = %v, want a *PlatformError naming it and saying it is down", v.IfA, err)
	}
}

// TestLiveDrops fills a deliberately tiny ring without reading it: the
// kernel's drops must show in Stats, and exactly the packets it kept must
// then be readable.
func TestLiveDrops(t *testing.T) {
	v := newVethNet(t)
	src := openIn(t, v.NSA, Config{
		Interface: v.IfA, FilterFor: etherTypeFilter(t, netnstest.EtherTypeTest),
		BlockSize: os.Getpagesize(), NumBlocks: 2, BlockTimeout: time.Millisecond,
	})
	snd := netnstest.NewRawSender(t, v.NSB, v.IfB)
	const sent = 300
	for i := range sent {
		snd.Send(t, netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, []byte(fmt.Sprintf("frame %03d .....................................", i))))
	}
	time.Sleep(50 * time.Millisecond)
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != sent || st.Dropped == 0 || st.Dropped >= sent {
		t.Fatalf("Stats() = %+v, want Received %d and some, not all, Dropped", st, sent)
	}
	kept := collect(t, src, int(st.Received-st.Dropped), 5*time.Second)
	// The ring keeps the oldest packets; what arrived once it was full was
	// dropped.
	for i, p := range kept {
		if want := fmt.Sprintf("frame %03d", i); !bytes.Contains(p.Data, []byte(want)) {
			t.Fatalf("kept packet %d is %q, want %q", i, p.Data[14:24], want)
		}
	}
	t.Logf("ring of 2 x %d bytes: %d received, %d dropped, %d read", os.Getpagesize(), st.Received, st.Dropped, len(kept))
}

// TestLiveFilterErrors checks that a filter the callback cannot build, and
// one the kernel cannot take, fail Open with errors that say so.
func TestLiveFilterErrors(t *testing.T) {
	v := newVethNet(t)
	bad := errors.New("column 5: syntax error")
	long := make([]bpf.RawInstruction, 5000)
	for i := range long {
		long[i] = bpf.RawInstruction{Op: opRetK, K: 1}
	}
	tests := []struct {
		name   string
		filter func(pcapio.LinkType) ([]bpf.RawInstruction, error)
		want   string
	}{
		{"callback error", func(pcapio.LinkType) ([]bpf.RawInstruction, error) { return nil, bad }, "filter for EN10MB: column 5: syntax error"},
		{"too long", func(pcapio.LinkType) ([]bpf.RawInstruction, error) { return long, nil }, "5000 instructions; Linux accepts at most 4096"},
		{"invalid", func(pcapio.LinkType) ([]bpf.RawInstruction, error) {
			return []bpf.RawInstruction{{Op: 0x15 /* jeq #k */, Jt: 7, K: 1}, {Op: opRetK}}, nil
		}, "the kernel rejected the program"},
	}
	fds := openFDs(t)
	for _, tc := range tests {
		var err error
		netnstest.Run(t, v.NSA, func() {
			var src Source
			if src, err = Open(Config{Interface: v.IfA, FilterFor: tc.filter}); err == nil {
				src.Close()
			}
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Open = %v, want an error containing %q", tc.name, err, tc.want)
		}
		if tc.name == "callback error" && !errors.Is(err, bad) {
			t.Errorf("%s: %v does not wrap the callback's error", tc.name, err)
		}
	}
	if n := openFDs(t); n != fds {
		t.Errorf("%d file descriptors open after the failed Opens, %d before: a failed Open leaks", n, fds)
	}
}

// openFDs counts the process's open file descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
