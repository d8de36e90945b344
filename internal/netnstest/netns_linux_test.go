//go:build linux

package netnstest

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/testpkt"
)

// TestPair checks a static pair's addresses, that A's raw frames and UDP
// datagrams reach B, and that Run switches namespaces.
func TestPair(t *testing.T) {
	p := NewPair(t, Options{Name: "netnstest", Subnet: 9, Static: true})
	if !bytes.Equal(p.MACA, StaticMACA) || !bytes.Equal(p.MACB, StaticMACB) || p.IndexA <= 0 || p.IndexB <= 0 {
		t.Errorf("pair %+v: want the static MACs and positive indexes", p)
	}
	if p.CIDRA != "198.18.9.1/24" || p.CIDRB != "198.18.9.2/24" || !p.IPB.Equal(net.IPv4(198, 18, 9, 2)) {
		t.Errorf("pair addresses %s %s %s", p.CIDRA, p.CIDRB, p.IPB)
	}
	if n := Promiscuity(t, p.NSB, p.IfB); n != 0 {
		t.Errorf("promiscuity of a new veth = %d, want 0", n)
	}
	var conn *net.UDPConn
	var err error
	Run(t, p.NSB, func() {
		if _, err := net.InterfaceByName(p.IfA); err == nil {
			t.Errorf("%s visible in namespace B", p.IfA)
		}
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.IPB, Port: 9})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := net.InterfaceByName(p.IfB); err == nil {
		t.Errorf("%s visible outside the namespace after Run", p.IfB)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	p.SendUDP(t, 9, []byte("through the stack"))
	buf := make([]byte, 100)
	n, from, err := conn.ReadFromUDP(buf)
	if err != nil || string(buf[:n]) != "through the stack" || !from.IP.Equal(p.IPA) || from.Port != UDPSourcePort {
		t.Errorf("ReadFromUDP = %q from %v, %v", buf[:n], from, err)
	}
	// A raw IPv4/UDP frame (no UDP checksum) to the same port.
	ip := testpkt.IPv4(testpkt.ProtoUDP, p.IPA, p.IPB, testpkt.UDP(UDPSourcePort+1, 9, []byte("raw")))
	NewRawSender(t, p.NSA, p.IfA).Send(t, EthFrame(p.MACB, p.MACA, testpkt.EtherTypeIPv4, ip))
	n, _, err = conn.ReadFromUDP(buf)
	if err != nil || string(buf[:n]) != "raw" {
		t.Errorf("ReadFromUDP after a raw frame = %q, %v", buf[:n], err)
	}
}

// TestPairDynamic checks a pair with kernel-chosen MACs.
func TestPairDynamic(t *testing.T) {
	p := NewPair(t, Options{Name: "netnstest"})
	q := NewPair(t, Options{Name: "netnstest"})
	if p.NSA == q.NSA || p.IfA == q.IfA || len(p.MACA) != 6 || bytes.Equal(p.MACA, p.MACB) {
		t.Errorf("pairs %+v and %+v", p, q)
	}
}
