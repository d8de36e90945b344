package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
	"golang.org/x/sys/unix"
)

// vethPair is two network namespaces made for one test, joined by a veth
// pair: A (198.18.8.1) sends, B (198.18.8.2) captures. Static neighbour
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
		nsA: "pkttap-inspect-a-" + id, nsB: "pkttap-capture-b-" + id,
		ifA: "pkiA" + id, ifB: "pkiB" + id,
		ipA: net.IPv4(198, 18, 8, 1).To4(), ipB: net.IPv4(198, 18, 8, 2).To4(),
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
