package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// newVethPair makes the test's namespaces, A (198.18.7.1) sending and B
// (198.18.7.2) capturing, with static neighbour entries so only the test's
// traffic crosses the link.
func newVethPair(t *testing.T) *netnstest.Pair {
	t.Helper()
	return netnstest.NewPair(t, netnstest.Options{Name: "capture", Subnet: 7, Static: true})
}

// udpPayload parses an Ethernet/IPv4/UDP frame and returns its destination
// port and payload, or ok=false.
func udpPayload(frame []byte) (dport int, payload []byte, ok bool) {
	if len(frame) < 14+20+8 || binary.BigEndian.Uint16(frame[12:]) != testpkt.EtherTypeIPv4 || frame[14+9] != testpkt.ProtoUDP {
		return 0, nil, false
	}
	ihl := int(frame[14]&0x0f) * 4
	u := frame[14+ihl:]
	return int(binary.BigEndian.Uint16(u[2:])), u[8:], true
}

// vlanUDPFrame builds an Ethernet frame from A to B tagged with VLAN id,
// carrying an IPv4/UDP datagram to port with payload.
func vlanUDPFrame(v *netnstest.Pair, id uint16, port int, payload []byte) []byte {
	ip := testpkt.IPv4(testpkt.ProtoUDP, v.IPA, v.IPB, testpkt.UDP(netnstest.UDPSourcePort, uint16(port), payload))
	return netnstest.EthFrame(v.MACB, v.MACA, testpkt.EtherTypeIPv4, ip, netnstest.VLANTag(id))
}

// openIn opens b inside namespace ns; the capture stays in ns.
func openIn(t *testing.T, ns string, b capture.Builder) *capture.Capture {
	t.Helper()
	var c *capture.Capture
	var err error
	netnstest.Run(t, ns, func() { c, err = b.Open() })
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// nextWithin returns the capture's next packet, or fails the test when none
// arrives within d (the capture is then closed).
func nextWithin(t *testing.T, c *capture.Capture, d time.Duration) pcapio.Packet {
	t.Helper()
	timer := time.AfterFunc(d, func() { c.Close() })
	defer timer.Stop()
	p, err := c.Next()
	if err != nil {
		t.Fatalf("Next: %v (no packet within %v?)", err, d)
	}
	return p
}

func TestLiveFilterInKernel(t *testing.T) {
	v := newVethPair(t)
	c := openIn(t, v.NSB, capture.Live(v.IfB).Filter("udp dst port 9999"))
	if c.LinkType() != pcapio.LinkTypeEthernet {
		t.Errorf("LinkType() = %s, want EN10MB on a veth", c.LinkType())
	}
	const n = 10
	for i := range n {
		v.SendUDP(t, 8888, []byte(fmt.Sprintf("other %d", i)), []byte(fmt.Sprintf("other %d again", i)))
		v.SendUDP(t, 9999, []byte(fmt.Sprintf("wanted %d", i)))
	}
	for i := range n {
		p := nextWithin(t, c, 5*time.Second)
		dport, payload, ok := udpPayload(p.Data)
		if !ok || dport != 9999 || string(payload) != fmt.Sprintf("wanted %d", i) {
			t.Fatalf("packet %d: port %d payload %q, want port 9999 %q", i, dport, payload, fmt.Sprintf("wanted %d", i))
		}
		if !bytes.Equal(p.Data[0:6], v.MACB) || !bytes.Equal(p.Data[6:12], v.MACA) || !bytes.Equal(p.Data[14+12:14+16], v.IPA) {
			t.Errorf("packet %d: wrong addresses in % x", i, p.Data[:34])
		}
		if p.Length != len(p.Data) || p.LinkType != pcapio.LinkTypeEthernet || time.Since(p.Timestamp).Abs() > time.Minute {
			t.Errorf("packet %d: length %d/%d, link type %s, time %v", i, len(p.Data), p.Length, p.LinkType, p.Timestamp)
		}
	}
	time.Sleep(200 * time.Millisecond)
	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// The kernel filter kept the 2n datagrams to port 8888 from the socket.
	if st.Received != n || st.Dropped != 0 {
		t.Errorf("Stats() = %+v, want %d received (the kernel filter rejecting the other %d), 0 dropped", st, n, 2*n)
	}
}

// TestLiveNextInto reads live packets into one reused buffer: each must
// hold its own datagram's bytes while it is current.
func TestLiveNextInto(t *testing.T) {
	v := newVethPair(t)
	c := openIn(t, v.NSB, capture.Live(v.IfB).Filter("udp dst port 9999"))
	const n = 20
	for i := range n {
		v.SendUDP(t, 9999, bytes.Repeat([]byte{byte('a' + i)}, 10+50*i))
	}
	timer := time.AfterFunc(5*time.Second, func() { c.Close() })
	defer timer.Stop()
	buf := make([]byte, 0, 64)
	for i := range n {
		p, err := c.NextInto(buf)
		if err != nil {
			t.Fatalf("NextInto, packet %d: %v (no packet within 5s?)", i, err)
		}
		want := bytes.Repeat([]byte{byte('a' + i)}, 10+50*i)
		if dport, payload, ok := udpPayload(p.Data); !ok || dport != 9999 || !bytes.Equal(payload, want) {
			t.Fatalf("packet %d: port %d, %d payload bytes; want port 9999 and %d bytes of %q", i, dport, len(payload), len(want), want[0])
		}
		if p.Length != len(p.Data) || p.LinkType != pcapio.LinkTypeEthernet {
			t.Errorf("packet %d: length %d/%d, link type %s", i, len(p.Data), p.Length, p.LinkType)
		}
		buf = p.Data
	}
}

func TestLivePromiscuous(t *testing.T) {
	v := newVethPair(t)
	base := netnstest.Promiscuity(t, v.NSB, v.IfB)
	c := openIn(t, v.NSB, capture.Live(v.IfB).Promiscuous(true))
	if got := netnstest.Promiscuity(t, v.NSB, v.IfB); got != base+1 {
		t.Errorf("promiscuity %d while a promiscuous capture is open, want %d", got, base+1)
	}
	c.Close()
	if got := netnstest.Promiscuity(t, v.NSB, v.IfB); got != base {
		t.Errorf("promiscuity %d after Close, want %d", got, base)
	}
	c = openIn(t, v.NSB, capture.Live(v.IfB))
	if got := netnstest.Promiscuity(t, v.NSB, v.IfB); got != base {
		t.Errorf("promiscuity %d with a non-promiscuous capture open, want %d", got, base)
	}
	c.Close()
}

func TestLiveSnaplen(t *testing.T) {
	v := newVethPair(t)
	c := openIn(t, v.NSB, capture.Live(v.IfB).Snaplen(50).Filter("udp"))
	v.SendUDP(t, 7777, bytes.Repeat([]byte("x"), 500))
	p := nextWithin(t, c, 5*time.Second)
	if len(p.Data) != 50 || p.Length != 14+20+8+500 || !p.IsTruncated() {
		t.Errorf("got %d of %d bytes (truncated %v), want 50 of %d", len(p.Data), p.Length, p.IsTruncated(), 14+20+8+500)
	}
}

func TestLiveCloseWakesNext(t *testing.T) {
	v := newVethPair(t)
	c := openIn(t, v.NSB, capture.Live(v.IfB).Filter("udp port 1"))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Next()
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-errc:
		t.Fatalf("Next returned %v before any packet or Close", err)
	default:
	}
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, capture.ErrClosed) {
			t.Errorf("blocked Next returned %v after Close, want ErrClosed", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("blocked Next took %v to return after Close", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a blocked Next within 5s")
	}
}

func TestLiveErrors(t *testing.T) {
	v := newVethPair(t)
	var err error
	netnstest.Run(t, v.NSB, func() { _, err = capture.Live("pkttap-none0").Open() })
	var pe *capture.PlatformError
	if !errors.As(err, &pe) {
		t.Errorf("Open of a missing interface = %v, want a *PlatformError", err)
	}
	netnstest.Run(t, v.NSB, func() { _, err = capture.Live(v.IfB).Filter("udp port").Open() })
	var fe *filter.Error
	if !errors.As(err, &fe) {
		t.Errorf("Open with a bad filter = %v, want a *filter.Error", err)
	}
}

func TestInterfaces(t *testing.T) {
	v := newVethPair(t)
	var ifs []capture.Interface
	var err error
	netnstest.Run(t, v.NSB, func() { ifs, err = capture.Interfaces() })
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ifc := range ifs {
		if ifc.Name != v.IfB {
			continue
		}
		found = true
		hasAddr := false
		for _, a := range ifc.Addresses {
			hasAddr = hasAddr || a.String() == "198.18.7.2/24"
		}
		if !ifc.Up || ifc.Loopback || ifc.Index <= 0 || !bytes.Equal(ifc.HardwareAddr, v.MACB) || !hasAddr {
			t.Errorf("Interfaces() gives %+v for %s, want it up, not loopback, with its index, MAC %s and 198.18.7.2/24", ifc, v.IfB, v.MACB)
		}
	}
	if !found {
		t.Errorf("Interfaces() in the namespace = %+v, no %s", ifs, v.IfB)
	}
}

// TestLiveVLANFilter sends frames tagged with VLAN 100 and 200; the kernel
// moves the tag into packet metadata on receive, so "vlan 100" works only
// if the filter was compiled for the socket (ancillary loads), and the tag
// must be back in the bytes returned.
func TestLiveVLANFilter(t *testing.T) {
	v := newVethPair(t)
	c := openIn(t, v.NSB, capture.Live(v.IfB).Filter("vlan 100 and udp port 5555"))
	const n = 5
	var frames, want [][]byte
	for i := range n {
		tagged := vlanUDPFrame(v, 100, 5555, []byte(fmt.Sprintf("vlan 100 #%d", i)))
		frames = append(frames, vlanUDPFrame(v, 200, 5555, []byte("vlan 200")), tagged)
		want = append(want, tagged)
	}
	netnstest.NewRawSender(t, v.NSA, v.IfA).Send(t, frames...)
	for i := range n {
		p := nextWithin(t, c, 5*time.Second)
		if !bytes.Equal(p.Data, want[i]) || p.Length != len(want[i]) {
			t.Fatalf("packet %d:\n got % x (%d on the wire)\nwant % x", i, p.Data, p.Length, want[i])
		}
	}
	time.Sleep(200 * time.Millisecond)
	if st, err := c.Stats(); err != nil || st.Received != n {
		t.Errorf("Stats() = %+v, %v; want %d received (the VLAN 200 frames rejected in the kernel)", st, err, n)
	}
}

// TestLiveAnyDevice captures on Linux's "any" pseudo-device (cooked,
// LINUX_SLL), with a filter on the direction, which the socket program
// reads from the packet type metadata.
func TestLiveAnyDevice(t *testing.T) {
	v := newVethPair(t)
	c := openIn(t, v.NSB, capture.Live("any").Filter("inbound and udp dst port 9999"))
	if c.LinkType() != pcapio.LinkTypeLinuxSLL {
		t.Fatalf("LinkType() = %s on any, want LINUX_SLL", c.LinkType())
	}
	const n = 4
	for i := range n {
		v.SendUDP(t, 9999, []byte(fmt.Sprintf("any %d", i)))
	}
	for i := range n {
		p := nextWithin(t, c, 5*time.Second)
		// SLL: packet type (0 = to us), ARPHRD, address length, address,
		// protocol; then the IPv4 packet.
		if len(p.Data) < 16+28 || binary.BigEndian.Uint16(p.Data[0:]) != 0 || binary.BigEndian.Uint16(p.Data[14:]) != testpkt.EtherTypeIPv4 ||
			!bytes.Equal(p.Data[6:12], v.MACA) || string(p.Data[16+28:]) != fmt.Sprintf("any %d", i) || p.LinkType != pcapio.LinkTypeLinuxSLL {
			t.Fatalf("packet %d on any: % x", i, p.Data)
		}
	}
}

// permChildEnv names the interface a re-executed test binary opens as an
// unprivileged user for TestLivePermissionDenied.
const permChildEnv = "PKTTAP_CAPTURE_PERMISSION_CHILD"

// TestLivePermissionDenied opens a live capture without CAP_NET_RAW, in a
// copy of this test binary run as nobody: the error must be
// ErrPermissionDenied (errors.Is) and say what to do.
func TestLivePermissionDenied(t *testing.T) {
	if ifname := os.Getenv(permChildEnv); ifname != "" {
		_, err := capture.Live(ifname).Open()
		fmt.Printf("is-permission-denied=%v\n%v\n", errors.Is(err, capture.ErrPermissionDenied), err)
		return
	}
	v := newVethPair(t)
	setpriv := testenv.LookPath(t, "setpriv", "setpriv")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pkttap-capture-perm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "capture.test")
	data, err := os.ReadFile(self)
	if err == nil {
		err = os.WriteFile(bin, data, 0o755)
	}
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", v.NSB, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
		bin, "-test.run=^TestLivePermissionDenied$")
	cmd.Env = append(os.Environ(), permChildEnv+"="+v.IfB)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "is-permission-denied=true") || !strings.Contains(string(out), "CAP_NET_RAW") {
		t.Errorf("unprivileged Live(...).Open(): %s; want ErrPermissionDenied with advice", out)
	}
}

func TestLiveFilterOptions(t *testing.T) {
	v := newVethPair(t)
	c := openIn(t, v.NSB, capture.Live(v.IfB).Snaplen(128))
	if opts := c.FilterOptions(); opts.LinkType != pcapio.LinkTypeEthernet || opts.Snaplen != 128 || opts.Target != filter.TargetLinuxSocket {
		t.Errorf("FilterOptions() = %+v, want EN10MB, snaplen 128, the Linux socket target", opts)
	}
	// Before opening, the listed interface's link type gives the same
	// options, for "any" (cooked) too.
	var ifs []capture.Interface
	var err error
	netnstest.Run(t, v.NSB, func() { ifs, err = capture.Interfaces() })
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, ifc := range ifs {
		if ifc.Name != v.IfB && ifc.Name != "any" {
			continue
		}
		checked++
		c := openIn(t, v.NSB, capture.Live(ifc.Name).Snaplen(0))
		if got, want := capture.LiveFilterOptions(ifc.LinkType, 0), c.FilterOptions(); got != want {
			t.Errorf("%s: LiveFilterOptions(%s, 0) = %+v, but the open capture compiles with %+v", ifc.Name, ifc.LinkType, got, want)
		}
		c.Close()
	}
	if checked != 2 {
		t.Errorf("Interfaces() = %+v: want %s and any", ifs, v.IfB)
	}
}
