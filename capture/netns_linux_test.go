package capture_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
	"golang.org/x/sys/unix"
)

// vethPair is two network namespaces made for one test, joined by a veth
// pair: A (198.18.7.1) sends, B (198.18.7.2) captures. Static neighbour
// entries and disabled IPv6 keep the link quiet but for the test's traffic.
type vethPair struct {
	nsA, nsB   string
	ifA, ifB   string
	ipA, ipB   net.IP
	macA, macB net.HardwareAddr
}

var vethSeq atomic.Int32

// newVethPair creates the namespaces and veth pair; t.Cleanup deletes them.
func newVethPair(t *testing.T) *vethPair {
	t.Helper()
	testenv.Root(t)
	ip := testenv.LookPath(t, "netns", "ip")
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, vethSeq.Add(1))
	v := &vethPair{
		nsA: "pkttap-capture-a-" + id, nsB: "pkttap-capture-b-" + id,
		ifA: "pkcA" + id, ifB: "pkcB" + id,
		ipA: net.IPv4(198, 18, 7, 1).To4(), ipB: net.IPv4(198, 18, 7, 2).To4(),
		macA: net.HardwareAddr{0x02, 0x70, 0x6b, 0, 0, 0x0a}, macB: net.HardwareAddr{0x02, 0x70, 0x6b, 0, 0, 0x0b},
	}
	if len(v.ifA) > 15 {
		v.ifA, v.ifB = v.ifA[:15], v.ifB[:15]
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{v.nsA, v.nsB} {
		run("netns", "add", ns)
		t.Cleanup(func() { exec.Command(ip, "netns", "del", ns).Run() })
	}
	run("link", "add", v.ifA, "address", v.macA.String(), "netns", v.nsA, "type", "veth",
		"peer", "name", v.ifB, "address", v.macB.String(), "netns", v.nsB)
	for _, side := range []struct {
		ns, dev  string
		me, peer net.IP
		peerMAC  net.HardwareAddr
	}{{v.nsA, v.ifA, v.ipA, v.ipB, v.macB}, {v.nsB, v.ifB, v.ipB, v.ipA, v.macA}} {
		run("netns", "exec", side.ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
		run("-n", side.ns, "link", "set", "lo", "up")
		run("-n", side.ns, "addr", "add", side.me.String()+"/24", "dev", side.dev)
		run("-n", side.ns, "link", "set", side.dev, "up")
		run("-n", side.ns, "neigh", "replace", side.peer.String(), "lladdr", side.peerMAC.String(), "dev", side.dev, "nud", "permanent")
	}
	return v
}

// inNetns runs f on an OS thread switched into namespace ns; sockets f
// creates belong to ns for their whole life, whatever thread uses them.
func inNetns(t *testing.T, ns string, f func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			done <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns back: %w", err) // the thread stays locked and dies with this goroutine
			return
		}
		runtime.UnlockOSThread()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// sendUDP sends one UDP datagram per payload from A to B's port.
func (v *vethPair) sendUDP(t *testing.T, port int, payloads ...[]byte) {
	t.Helper()
	var conn *net.UDPConn
	var err error
	inNetns(t, v.nsA, func() {
		// Unconnected, so B's ICMP port unreachable replies do not fail writes.
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: v.ipA, Port: 40000})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, p := range payloads {
		if _, err := conn.WriteToUDP(p, &net.UDPAddr{IP: v.ipB, Port: port}); err != nil {
			t.Fatalf("send to %s:%d: %v", v.ipB, port, err)
		}
	}
}

// promiscuity returns the interface's promiscuity count from ip -d link.
func (v *vethPair) promiscuity(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("ip", "-d", "-n", v.nsB, "link", "show", v.ifB).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -d link show: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`promiscuity (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no promiscuity count in %s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// udpPayload parses an Ethernet/IPv4/UDP frame and returns its destination
// port and payload, or ok=false.
func udpPayload(frame []byte) (dport int, payload []byte, ok bool) {
	if len(frame) < 14+20+8 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 || frame[14+9] != 17 {
		return 0, nil, false
	}
	ihl := int(frame[14]&0x0f) * 4
	u := frame[14+ihl:]
	return int(binary.BigEndian.Uint16(u[2:])), u[8:], true
}

// sendFrames sends raw Ethernet frames out of A's interface through a
// packet socket, as a VLAN-tagging peer would (the test kernel has no vlan
// devices).
func (v *vethPair) sendFrames(t *testing.T, frames ...[]byte) {
	t.Helper()
	var fd, ifindex int
	var err error
	inNetns(t, v.nsA, func() {
		var ifc *net.Interface
		if ifc, err = net.InterfaceByName(v.ifA); err != nil {
			return
		}
		ifindex = ifc.Index
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	})
	if err != nil {
		t.Fatalf("packet socket in %s: %v", v.nsA, err)
	}
	defer unix.Close(fd)
	for _, f := range frames {
		if err := unix.Sendto(fd, f, 0, &unix.SockaddrLinklayer{Ifindex: ifindex}); err != nil {
			t.Fatalf("send a raw frame: %v", err)
		}
	}
}

// vlanUDPFrame builds an Ethernet frame from A to B tagged with VLAN id,
// carrying an IPv4/UDP datagram to port with payload.
func (v *vethPair) vlanUDPFrame(id uint16, port int, payload []byte) []byte {
	f := append(append([]byte{}, v.macB...), v.macA...)
	f = append(f, 0x81, 0x00, byte(id>>8), byte(id), 0x08, 0x00)
	return append(f, ipv4(17, v.ipA, v.ipB, udp(40000, uint16(port), payload))...)
}
