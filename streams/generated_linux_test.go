package streams

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// recordTransfer runs real TCP connections between two network
// namespaces and returns the frames captured on side A: a bulk transfer
// to a client with a tiny receive buffer that stops reading for a while
// (zero windows; Linux probes them with keep-alive-like segments, which
// tshark names so), an idle connection with
// keep-alives every second, a connection reset and opened again from the
// same port (reused ports), and a few UDP datagrams.
func recordTransfer(t *testing.T) []pcapio.Packet {
	t.Helper()
	p := netnstest.NewPair(t, netnstest.Options{Name: "streams", Static: true})
	var c *capture.Capture
	var err error
	netnstest.Run(t, p.NSA, func() { c, err = capture.Live(p.IfA).Open() })
	if err != nil {
		t.Fatalf("open capture: %v", err)
	}
	var pkts []pcapio.Packet
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			pk, err := c.Next()
			if err != nil {
				return
			}
			pkts = append(pkts, pk)
		}
	}()

	var ln net.Listener
	netnstest.Run(t, p.NSB, func() { ln, err = net.Listen("tcp4", net.JoinHostPort(p.IPB.String(), "5001")) })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the server: answers each request line with 192 KiB, or echoes
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 64)
				n, err := conn.Read(buf)
				if err != nil {
					return
				}
				if bytes.HasPrefix(buf[:n], []byte("GET")) {
					conn.Write(bytes.Repeat([]byte("0123456789abcdef"), 192*1024/16))
					return
				}
				conn.Write(buf[:n])
				io.Copy(io.Discard, conn)
			}()
		}
	}()

	server := net.JoinHostPort(p.IPB.String(), "5001")
	dial := func(d net.Dialer) net.Conn {
		t.Helper()
		var conn net.Conn
		netnstest.Run(t, p.NSA, func() { conn, err = d.Dial("tcp4", server) })
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		return conn
	}

	// Bulk, with a receive buffer small enough to fill.
	small := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
	}}
	conn := dial(small)
	conn.Write([]byte("GET /\n"))
	time.Sleep(700 * time.Millisecond) // the window closes; the server probes it
	if n, err := io.Copy(io.Discard, conn); err != nil || n != 192*1024 {
		t.Fatalf("bulk transfer: %d bytes, %v", n, err)
	}
	conn.Close()

	// Keep-alives: idle for 2.5 s with a 1 s keep-alive period.
	conn = dial(net.Dialer{KeepAlive: time.Second})
	conn.Write([]byte("hello"))
	io.ReadFull(conn, make([]byte, 5))
	time.Sleep(2500 * time.Millisecond)
	conn.Close()

	// The same client port twice, the first connection reset.
	local := &net.TCPAddr{IP: p.IPA, Port: 40123}
	for i := range 2 {
		conn = dial(net.Dialer{LocalAddr: local})
		conn.Write([]byte("again"))
		io.ReadFull(conn, make([]byte, 5))
		if i == 0 {
			conn.(*net.TCPConn).SetLinger(0) // close with a RST
		}
		conn.Close()
	}
	p.SendUDP(t, 9999, []byte("one"), []byte("two"))

	time.Sleep(300 * time.Millisecond) // the last ACKs
	ln.Close()
	wg.Wait()
	c.Close()
	<-done
	if len(pkts) < 100 {
		t.Fatalf("captured %d packets", len(pkts))
	}
	return pkts
}

// perturb makes a damaged copy of a recorded capture, deterministically:
// some TCP data segments dropped (lost segments, ACKs of unseen ones),
// some swapped with the next packet (out of order), some sent again a
// few packets later (retransmissions, spurious ones once acknowledged),
// some pure ACKs repeated three times (duplicate ACKs, fast
// retransmissions when the segment follows). Packets keep the timestamps
// of the slots they land in, so time only goes forward.
func perturb(in []pcapio.Packet, seed uint64) []pcapio.Packet {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out []pcapio.Packet
	var later []struct {
		at int
		p  pcapio.Packet
	}
	for i := 0; i < len(in); i++ {
		p := in[i]
		payload, pureACK := tcpShape(p.Data)
		r := rng.Float64()
		switch {
		case payload > 0 && r < 0.04:
			continue // dropped
		case payload > 0 && r < 0.08 && i+1 < len(in):
			// Swapped with the next, which comes at the same time, so
			// tshark sees it out of order rather than retransmitted.
			at := p.Timestamp
			p, in[i+1] = in[i+1], p
			p.Timestamp, in[i+1].Timestamp = at, at
		case payload > 0 && r < 0.12:
			later = append(later, struct {
				at int
				p  pcapio.Packet
			}{len(out) + 1 + rng.IntN(6), p})
		case pureACK && r < 0.08:
			for range 3 {
				out = append(out, p)
			}
		}
		out = append(out, p)
		for j := 0; j < len(later); j++ {
			if later[j].at <= len(out) {
				q := later[j].p
				q.Timestamp = p.Timestamp.Add(time.Duration(1+rng.IntN(40)) * time.Millisecond)
				out = append(out, q)
				later = append(later[:j], later[j+1:]...)
				j--
			}
		}
	}
	// Time only goes forward.
	for i := 1; i < len(out); i++ {
		if out[i].Timestamp.Before(out[i-1].Timestamp) {
			out[i].Timestamp = out[i-1].Timestamp.Add(time.Microsecond)
		}
	}
	return out
}

// tcpShape returns the TCP payload length of an Ethernet/IPv4 frame and
// whether it is a pure ACK (no payload, no SYN, FIN or RST).
func tcpShape(b []byte) (payload int, pureACK bool) {
	if len(b) < 14+20+20 || b[12] != 0x08 || b[13] != 0 || b[14+9] != 6 {
		return 0, false
	}
	ihl := int(b[14]&0xf) * 4
	tot := int(b[16])<<8 | int(b[17])
	if 14+ihl+20 > len(b) {
		return 0, false
	}
	thl := int(b[14+ihl+12]>>4) * 4
	flags := b[14+ihl+13]
	payload = tot - ihl - thl
	return payload, payload == 0 && flags&0x07 == 0 && flags&0x10 != 0
}

// TestTsharkGenerated compares the stream fields with tshark's on a real
// recorded transfer and on damaged copies of it, and checks that those
// captures hold every kind of analysis they were made for. It follows
// every TCP stream of them as tshark -z follow does too (package follow:
// retransmitted and reordered segments, and gaps the receiver
// acknowledged).
func TestTsharkGenerated(t *testing.T) {
	testenv.LookPath(t, "tshark", "tshark")
	rec := recordTransfer(t)
	dir := t.TempDir()
	if keep := os.Getenv("PKTTAP_STREAMS_KEEP"); keep != "" {
		dir = keep // the captures are left there, to look at
	}
	captures := []struct {
		name string
		pkts []pcapio.Packet
		want []string // fields tshark must find in it
	}{
		{"recorded.pcap", rec, []string{"tcp.analysis.zero_window", "tcp.analysis.keep_alive", "tcp.analysis.keep_alive_ack", "tcp.analysis.reused_ports", "tcp.analysis.window_update", "tcp.analysis.window_full", "udp.stream"}},
		{"damaged-1.pcap", perturb(append([]pcapio.Packet(nil), rec...), 1), nil},
		{"damaged-2.pcap", perturb(append([]pcapio.Packet(nil), rec...), 2), nil},
		{"damaged-3.pcap", perturb(append([]pcapio.Packet(nil), rec...), 3), nil},
	}
	seen := map[string]int{}
	for _, c := range captures {
		path := filepath.Join(dir, c.name)
		if err := capture.DumpPackets(path, pcapio.LinkTypeEthernet, c.pkts); err != nil {
			t.Fatal(err)
		}
		r := compareOracle(t, c.name, path, false)
		t.Logf("%s: %d frames, %d with TCP analysis, %d Info columns with marks", c.name, r.frames, r.analyzed, r.infos)
		fr := compareFollowOracle(t, c.name, path)
		t.Logf("%s: %d TCP streams followed as tshark follows them (%d payload bytes, %d gaps shown)", c.name, fr.streams, fr.bytes, fr.gaps)
		seen["follow gaps"] += fr.gaps
		for _, f := range c.want {
			if r.seen[f] == 0 {
				t.Errorf("%s: tshark finds no %s in it", c.name, f)
			}
		}
		for f, n := range r.seen {
			seen[f] += n
		}
	}
	// What the damage makes, in the damaged captures together (which
	// segment gets which depends on the recorded transfer's packets).
	for _, f := range []string{"tcp.analysis.retransmission", "tcp.analysis.duplicate_ack", "tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment", "tcp.analysis.out_of_order", "tcp.analysis.spurious_retransmission", "follow gaps"} {
		if seen[f] == 0 {
			t.Errorf("tshark finds no %s in the damaged captures", f)
		}
	}
	t.Logf("fields compared: %v", seen)
}
