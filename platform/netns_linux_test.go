//go:build linux

package platform

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/internal/testenv"
)

// vethNet is a pair of network namespaces joined by a veth pair, made for
// one test and deleted when it ends: A (capture side, 198.18.x.1) and B
// (sending side, 198.18.x.2).
type vethNet struct {
	nsA, nsB     string
	ifA, ifB     string
	macA, macB   net.HardwareAddr
	idxA, idxB   int
	addrA, addrB string
}

var netSeq atomic.Int32

// newVethNet creates the namespaces and the veth pair, with IPv6 off so no
// router or neighbour solicitations add noise.
func newVethNet(t testing.TB) *vethNet {
	t.Helper()
	testenv.Root(t)
	ipPath := testenv.LookPath(t, "netns", "ip")
	n := netSeq.Add(1)
	id := fmt.Sprintf("%d%c", os.Getpid()%100000, 'a'+rune(n%26))
	v := &vethNet{
		nsA: "pkttapA" + id, nsB: "pkttapB" + id,
		ifA: "ptA" + id, ifB: "ptB" + id,
		addrA: fmt.Sprintf("198.18.%d.1/24", n%250), addrB: fmt.Sprintf("198.18.%d.2/24", n%250),
	}
	ip := func(args ...string) {
		t.Helper()
		out, err := exec.Command(ipPath, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{v.nsA, v.nsB} {
		ip("netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command(ipPath, "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
			}
		})
		ip("netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		ip("-n", ns, "link", "set", "lo", "up")
	}
	ip("link", "add", v.ifA, "netns", v.nsA, "type", "veth", "peer", "name", v.ifB, "netns", v.nsB)
	ip("-n", v.nsA, "addr", "add", v.addrA, "dev", v.ifA)
	ip("-n", v.nsB, "addr", "add", v.addrB, "dev", v.ifB)
	ip("-n", v.nsA, "link", "set", v.ifA, "up")
	ip("-n", v.nsB, "link", "set", v.ifB, "up")
	inNetns(t, v.nsA, func() {
		ifi, err := net.InterfaceByName(v.ifA)
		if err != nil {
			t.Fatalf("look up %s: %v", v.ifA, err)
		}
		v.macA, v.idxA = ifi.HardwareAddr, ifi.Index
	})
	inNetns(t, v.nsB, func() {
		ifi, err := net.InterfaceByName(v.ifB)
		if err != nil {
			t.Fatalf("look up %s: %v", v.ifB, err)
		}
		v.macB, v.idxB = ifi.HardwareAddr, ifi.Index
	})
	return v
}

// inNetns runs f on a thread switched into the named network namespace.
// Sockets f opens stay in that namespace after the thread switches back.
func inNetns(t testing.TB, ns string, f func()) {
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

// openIn opens a capture inside a namespace and closes it when the test
// ends.
func openIn(t testing.TB, ns string, cfg Config) Source {
	t.Helper()
	var src Source
	var err error
	inNetns(t, ns, func() { src, err = Open(cfg) })
	if err != nil {
		t.Fatalf("Open(%+v): %v", cfg.Interface, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// rawSender sends whole Ethernet frames out of an interface through a
// packet socket.
type rawSender struct {
	fd int
}

// newRawSender opens a packet socket on ifname in namespace ns.
func newRawSender(t testing.TB, ns, ifname string) *rawSender {
	t.Helper()
	var s rawSender
	inNetns(t, ns, func() {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			t.Fatalf("look up %s: %v", ifname, err)
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatalf("sender socket: %v", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			t.Fatalf("bind sender: %v", err)
		}
		s.fd = fd
	})
	t.Cleanup(func() { unix.Close(s.fd) })
	return &s
}

func (s *rawSender) send(t testing.TB, frame []byte) {
	t.Helper()
	if _, err := unix.Write(s.fd, frame); err != nil {
		t.Fatalf("send frame: %v", err)
	}
}

// Ether types for test frames: IEEE 802 local experimental, which no stack
// in the namespaces answers.
const (
	testEtherType      = 0x88b5
	otherTestEtherType = 0x88b6
)

// ethFrame builds an Ethernet frame; tags are 4-byte 802.1Q tags put
// between the addresses and the type.
func ethFrame(dst, src net.HardwareAddr, etherType uint16, payload []byte, tags ...[4]byte) []byte {
	var b bytes.Buffer
	b.Write(dst)
	b.Write(src)
	for _, tag := range tags {
		b.Write(tag[:])
	}
	b.Write([]byte{byte(etherType >> 8), byte(etherType)})
	b.Write(payload)
	return b.Bytes()
}

// promiscuity returns the interface's promiscuity count from
// `ip -d link show`.
func promiscuity(t testing.TB, ns, ifname string) int {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "-d", "link", "show", ifname).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -d link show: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	for i := range f[:len(f)-1] {
		if f[i] == "promiscuity" {
			var n int
			if _, err := fmt.Sscan(f[i+1], &n); err == nil {
				return n
			}
		}
	}
	t.Fatalf("no promiscuity in ip -d link show output:\n%s", out)
	return 0
}
