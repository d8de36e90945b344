//go:build linux

package netnstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/internal/testenv"
)

// Options says how NewPair builds a pair.
type Options struct {
	// Name is a short name for the calling package ("platform",
	// "capture"), put in the namespace names so that a leftover namespace
	// says which tests made it.
	Name string

	// Subnet is the third octet of the pair's 198.18.Subnet.0/24 network,
	// 1 to 255. Zero picks one from the pair's sequence number.
	Subnet int

	// Static gives the interfaces the fixed addresses StaticMACA and
	// StaticMACB and each side a permanent neighbour entry for the other,
	// so no ARP adds to the test's traffic. Without it the kernel picks
	// the MAC addresses and neighbours are resolved as usual.
	Static bool

	// IPv6 leaves IPv6 on and gives the interfaces 2001:2:0:Subnet::1
	// and ::2 (/64, in the benchmarking range of RFC 5180), without
	// duplicate address detection; IPA6 and IPB6 are set. Without it IPv6
	// is off in both namespaces.
	IPv6 bool
}

// The MAC addresses of a pair made with Options.Static.
var (
	StaticMACA = net.HardwareAddr{0x02, 0x70, 0x6b, 0, 0, 0x0a}
	StaticMACB = net.HardwareAddr{0x02, 0x70, 0x6b, 0, 0, 0x0b}
)

// Pair is two network namespaces made for one test, joined by a veth
// pair: side A (198.18.N.1) and side B (198.18.N.2). IPv6 is off in both
// unless Options.IPv6 asks for it, so no router or neighbour solicitations
// add noise.
type Pair struct {
	NSA, NSB       string           // namespace names, for Run and "ip netns exec"
	IfA, IfB       string           // interface names, each in its own namespace
	MACA, MACB     net.HardwareAddr // interface MAC addresses
	IndexA, IndexB int              // interface indexes, each in its own namespace
	IPA, IPB       net.IP           // interface IPv4 addresses (4 bytes)
	IPA6, IPB6     net.IP           // interface IPv6 addresses with Options.IPv6, else nil
	CIDRA, CIDRB   string           // the same with the prefix length, "198.18.N.1/24"
}

var seq atomic.Int32

// NewPair creates the namespaces and the veth pair, addressed and up, and
// deletes them when the test ends. It skips or fails the test (through
// testenv) unless it runs as root with the ip program installed.
func NewPair(t testing.TB, o Options) *Pair {
	t.Helper()
	testenv.Root(t)
	ipPath := testenv.LookPath(t, "netns", "ip")
	n := int(seq.Add(1))
	subnet := o.Subnet
	if subnet == 0 {
		subnet = n % 250
	}
	name := o.Name
	if name == "" {
		name = "test"
	}
	// The full process id keeps the names of concurrently running test
	// binaries apart; interface names (15 bytes at most) write it in base
	// 36.
	id := fmt.Sprintf("%d-%d", os.Getpid(), n)
	ifID := strconv.FormatInt(int64(os.Getpid()), 36) + "x" + strconv.FormatInt(int64(n), 36)
	p := &Pair{
		NSA: "pkttap-" + name + "-a-" + id, NSB: "pkttap-" + name + "-b-" + id,
		IfA: "ptA" + ifID, IfB: "ptB" + ifID,
		IPA: net.IPv4(198, 18, byte(subnet), 1).To4(), IPB: net.IPv4(198, 18, byte(subnet), 2).To4(),
	}
	if len(p.IfA) > 15 {
		t.Fatalf("interface name %s longer than 15 bytes", p.IfA)
	}
	p.CIDRA, p.CIDRB = p.IPA.String()+"/24", p.IPB.String()+"/24"
	if o.IPv6 {
		p.IPA6 = net.ParseIP(fmt.Sprintf("2001:2:0:%x::1", subnet))
		p.IPB6 = net.ParseIP(fmt.Sprintf("2001:2:0:%x::2", subnet))
	}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipPath, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{p.NSA, p.NSB} {
		ip("netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command(ipPath, "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
			}
		})
		if !o.IPv6 {
			ip("netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
		}
		ip("-n", ns, "link", "set", "lo", "up")
	}
	if o.Static {
		ip("link", "add", p.IfA, "address", StaticMACA.String(), "netns", p.NSA, "type", "veth",
			"peer", "name", p.IfB, "address", StaticMACB.String(), "netns", p.NSB)
	} else {
		ip("link", "add", p.IfA, "netns", p.NSA, "type", "veth", "peer", "name", p.IfB, "netns", p.NSB)
	}
	for _, side := range []struct {
		ns, dev, cidr, cidr6 string
		mac                  *net.HardwareAddr
		ifindex              *int
	}{
		{ns: p.NSA, dev: p.IfA, cidr: p.CIDRA, cidr6: p.IPA6.String() + "/64", mac: &p.MACA, ifindex: &p.IndexA},
		{ns: p.NSB, dev: p.IfB, cidr: p.CIDRB, cidr6: p.IPB6.String() + "/64", mac: &p.MACB, ifindex: &p.IndexB},
	} {
		ip("-n", side.ns, "addr", "add", side.cidr, "dev", side.dev)
		if o.IPv6 {
			ip("-n", side.ns, "-6", "addr", "add", side.cidr6, "dev", side.dev, "nodad")
		}
		ip("-n", side.ns, "link", "set", side.dev, "up")
		Run(t, side.ns, func() {
			ifi, err := net.InterfaceByName(side.dev)
			if err != nil {
				t.Fatalf("look up %s: %v", side.dev, err)
			}
			*side.mac, *side.ifindex = ifi.HardwareAddr, ifi.Index
		})
	}
	if o.Static {
		ip("-n", p.NSA, "neigh", "replace", p.IPB.String(), "lladdr", p.MACB.String(), "dev", p.IfA, "nud", "permanent")
		ip("-n", p.NSB, "neigh", "replace", p.IPA.String(), "lladdr", p.MACA.String(), "dev", p.IfB, "nud", "permanent")
	}
	return p
}

// Run runs f on the calling goroutine, locked to its OS thread and switched
// into the named network namespace for the call. Sockets f opens belong to
// that namespace for their whole life, whatever thread later uses them. f
// may call t.Fatal.
func Run(t testing.TB, ns string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("open own netns: %v", err)
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("open netns %s: %v", ns, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("setns %s: %v", ns, err)
	}
	defer func() {
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: the runtime discards it when the
			// goroutine ends rather than reuse it in the wrong namespace.
			t.Errorf("setns back: %v", err)
			return
		}
		runtime.UnlockOSThread()
	}()
	f()
}

// UDPSourcePort is the source port of the datagrams SendUDP sends.
const UDPSourcePort = 40000

// SendUDP sends one UDP datagram per payload from A (port UDPSourcePort)
// to port on B, through A's IP stack.
func (p *Pair) SendUDP(t testing.TB, port int, payloads ...[]byte) {
	t.Helper()
	conn := p.udpSocketA(t, UDPSourcePort)
	defer conn.Close()
	for _, b := range payloads {
		if _, err := conn.WriteToUDP(b, &net.UDPAddr{IP: p.IPB, Port: port}); err != nil {
			t.Fatalf("send to %s:%d: %v", p.IPB, port, err)
		}
	}
}

// UDPSocketA opens a UDP socket on A's address and port (0: any), for a
// test that paces its own datagrams to B (SendUDP and Flood send as fast
// as they can); it is closed when the test ends.
func (p *Pair) UDPSocketA(t testing.TB, port int) *net.UDPConn {
	t.Helper()
	conn := p.udpSocketA(t, port)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// udpSocketA opens a UDP socket on A's address and port (0: any), for
// sending to B.
func (p *Pair) udpSocketA(t testing.TB, port int) *net.UDPConn {
	t.Helper()
	var conn *net.UDPConn
	var err error
	Run(t, p.NSA, func() {
		// Unconnected, so B's ICMP port unreachable replies do not fail writes.
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.IPA, Port: port})
	})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// RawSender sends whole link-layer frames out of one interface through a
// packet socket, bypassing the IP stack (for VLAN tags, odd Ether types and
// other frames the stack would not make).
type RawSender struct {
	fd int
}

// NewRawSender opens a packet socket on interface ifname in namespace ns;
// it is closed when the test ends.
func NewRawSender(t testing.TB, ns, ifname string) *RawSender {
	t.Helper()
	var s RawSender
	Run(t, ns, func() {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			t.Fatalf("look up %s: %v", ifname, err)
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatalf("packet socket in %s: %v", ns, err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			t.Fatalf("bind packet socket to %s: %v", ifname, err)
		}
		s.fd = fd
	})
	t.Cleanup(func() { unix.Close(s.fd) })
	return &s
}

// Send sends each frame as it is.
func (s *RawSender) Send(t testing.TB, frames ...[]byte) {
	t.Helper()
	for _, f := range frames {
		if _, err := unix.Write(s.fd, f); err != nil {
			t.Fatalf("send a raw frame: %v", err)
		}
	}
}

// Write sends one frame and returns the error instead of failing the test,
// for senders running outside the test's goroutine.
func (s *RawSender) Write(frame []byte) (int, error) {
	return unix.Write(s.fd, frame)
}

// FD returns the packet socket, for senders that batch frames themselves
// (sendmmsg). It stays owned by the RawSender.
func (s *RawSender) FD() int {
	return s.fd
}

// Promiscuity returns the promiscuity count of interface ifname in
// namespace ns, as `ip -d link show` prints it.
func Promiscuity(t testing.TB, ns, ifname string) int {
	t.Helper()
	out, err := exec.Command(testenv.LookPath(t, "netns", "ip"), "-n", ns, "-d", "link", "show", ifname).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -d link show: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "promiscuity" {
			if n, err := strconv.Atoi(f[i+1]); err == nil {
				return n
			}
		}
	}
	t.Fatalf("no promiscuity count in ip -d link show output:\n%s", out)
	return 0
}
