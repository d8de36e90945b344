//go:build linux

package remote

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/rpcapdtest"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

var rpcapRecord = flag.Bool("rpcap-record", false, "rewrite "+rpcapTraceFile+" and its local captures from the live rpcapd sessions")

// The root password of the test's rpcapd accounts.
const rpcapRootPassword = "pkttap-rpcap-test"

// rpcapIn returns a function running f in the client's namespace.
func rpcapIn(t *testing.T, s *rpcapdtest.Server) func(func()) {
	return func(f func()) { netnstest.Run(t, s.Pair.NSA, f) }
}

// rpcapConfig is a config reaching s from side A.
func rpcapConfig(s *rpcapdtest.Server) RPCAPConfig {
	return RPCAPConfig{Addr: s.Addr, Timeout: 5 * time.Second}
}

// TestRPCAPLiveSessions runs the recorded sessions' scripts against a real
// rpcapd, captures known UDP traffic through it and compares every packet
// (bytes, lengths, timestamps) with tshark's reading of a local capture of
// the same traffic. With -rpcap-record it writes the conversations and the
// local captures to testdata for TestRPCAPReplay.
func TestRPCAPLiveSessions(t *testing.T) {
	testenv.LookPath(t, "tshark", "tshark")
	nullSrv := rpcapdtest.Start(t, rpcapdtest.Options{NullAuth: true})
	pwSrv := rpcapdtest.Start(t, rpcapdtest.Options{Accounts: []rpcapdtest.Account{{Name: "root", Password: rpcapRootPassword}}})
	expr := fmt.Sprintf("udp port %d", testPort)
	sessions := []struct {
		srv  *rpcapdtest.Server
		sess rpcapdtest.Session
	}{
		{nullSrv, rpcapdtest.Session{Name: "null-auth", Interface: nullSrv.Pair.IfB, Filter: expr, Packets: 20}},
		{pwSrv, rpcapdtest.Session{Name: "password-snaplen-promisc", BadPassword: "not-the-password", User: "root", Password: rpcapRootPassword,
			Interface: pwSrv.Pair.IfB, Filter: expr, Snaplen: 100, Promisc: true, Packets: 10}},
		{nullSrv, rpcapdtest.Session{Name: "no-such-interface", Interface: "pkttapnosuch0", WantErr: "ErrNoSuchInterface"}},
	}
	trace := rpcapdtest.Trace{Server: "rpcapd of libpcap 1.10.6 (" + nullSrv.Version + ")"}
	for _, x := range sessions {
		sess, srv := x.sess, x.srv
		rec := &recorder{dial: (&net.Dialer{Timeout: 5 * time.Second}).Dial}
		cfg := rpcapConfig(srv)
		cfg.Dial = rec.Dial
		var stop func(int) string
		send := func() { srv.Pair.SendUDP(t, testPort, payloads(sess.Packets)...) }
		if sess.WantErr == "" {
			stop = srv.Pair.Tcpdump(t, sess.Filter)
		}
		res := runSession(t, sess, cfg, rpcapIn(t, srv), send)
		sess.Conns, sess.Events = rec.take()
		sess.IfAddresses = prefixes(res.ifs, srv.Pair.IfB)
		if want := fmt.Sprintf("[%s]", srv.Pair.CIDRB); sess.IfAddresses != want {
			t.Errorf("%s: Interfaces lists %s with %s, want %s", sess.Name, srv.Pair.IfB, sess.IfAddresses, want)
		}
		if stop != nil {
			local := stop(sess.Packets)
			want := tsharkFrames(t, local)
			if len(want) != sess.Packets {
				t.Fatalf("%s: the local capture has %d packets, want %d", sess.Name, len(want), sess.Packets)
			}
			for i, p := range res.pkts {
				if err := sameFrame(p, want[i], sess.Snaplen); err != nil {
					t.Errorf("%s: packet %d: %v", sess.Name, i+1, err)
				}
			}
			if res.stats.Received != uint64(sess.Packets) {
				t.Errorf("%s: Stats after Close = %+v, want %d received", sess.Name, res.stats, sess.Packets)
			}
			sess.Received = res.stats.Received
			sess.Local = "rpcapd-" + sess.Name + ".pcap"
			if *rpcapRecord {
				b, err := os.ReadFile(local)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join("testdata", sess.Local), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		trace.Sessions = append(trace.Sessions, sess)
	}
	if *rpcapRecord && !t.Failed() {
		trace.Comment = []string{
			"rpcap conversations recorded byte for byte between pkttap's client (capture/remote) and a real rpcapd,",
			"libpcap 1.10.6's (its rpcapd/ folder built against Debian 12's libpcap 1.10.3), in a network namespace,",
			"by go test -run TestRPCAPLiveSessions -rpcap-record with PKTTAP_RPCAPD set. Debian does not package rpcapd:",
			"CI replays these (TestRPCAPReplay). events: c = bytes the client wrote, s = bytes it read, in the order it saw them.",
		}
		b, err := json.MarshalIndent(trace, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(rpcapTraceFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tsharkFrame is a packet as tshark reads it.
type tsharkFrame struct {
	time        time.Time
	len, caplen int
	data        []byte
}

// sameFrame compares a packet the rpcap client returned with tshark's
// reading of the local capture of it: the same bytes (those the snap
// length kept), the same length on the wire, and a timestamp within 1 ms
// (each capturing socket stamps the packet itself: they differ by a few
// microseconds).
func sameFrame(p pcapio.Packet, f tsharkFrame, snaplen int) error {
	want := f.data
	if snaplen > 0 && len(want) > snaplen {
		want = want[:snaplen]
	}
	d := p.Timestamp.Sub(f.time)
	if !bytes.Equal(p.Data, want) || p.Length != f.len || d < -time.Millisecond || d > time.Millisecond {
		return fmt.Errorf("the rpcap client has %v, %d of %d bytes\n% x\ntshark reads the local capture as %v, %d of %d bytes\n% x",
			p.Timestamp, len(p.Data), p.Length, p.Data, f.time, f.caplen, f.len, f.data)
	}
	return nil
}

// tsharkFrames reads a capture with tshark.
func tsharkFrames(t *testing.T, file string) []tsharkFrame {
	t.Helper()
	out, err := exec.Command("tshark", "-r", file, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len").Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", file, err)
	}
	hexes := tsharkHex(t, file)
	var frames []tsharkFrame
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || i >= len(hexes) {
			t.Fatalf("tshark printed %q (%d hex dumps)", line, len(hexes))
		}
		sec, frac, _ := strings.Cut(f[0], ".")
		s, err1 := strconv.ParseInt(sec, 10, 64)
		ns, err2 := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		l, err3 := strconv.Atoi(f[1])
		cl, err4 := strconv.Atoi(f[2])
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatalf("tshark printed %q: %v", line, err)
		}
		frames = append(frames, tsharkFrame{time: time.Unix(s, ns), len: l, caplen: cl, data: hexes[i]})
	}
	return frames
}

// tsharkHex returns each packet's bytes from tshark -x's hex dump.
func tsharkHex(t *testing.T, file string) [][]byte {
	t.Helper()
	out, err := exec.Command("tshark", "-r", file, "-x").Output()
	if err != nil {
		t.Fatalf("tshark -r %s -x: %v", file, err)
	}
	var pkts [][]byte
	inPkt := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 6 || line[4:6] != "  " {
			inPkt = false
			continue
		}
		if _, err := strconv.ParseUint(line[:4], 16, 16); err != nil {
			inPkt = false
			continue
		}
		if !inPkt {
			pkts = append(pkts, nil)
			inPkt = true
		}
		for _, w := range strings.Fields(line[6:min(len(line), 6+16*3)]) {
			b, err := hex.DecodeString(w)
			if err != nil || len(b) != 1 {
				break
			}
			pkts[len(pkts)-1] = append(pkts[len(pkts)-1], b[0])
		}
	}
	return pkts
}

// TestRPCAPTransports captures through each data transport: the client
// connecting to the server's data port, the server connecting back, and
// UDP.
func TestRPCAPTransports(t *testing.T) {
	srv := rpcapdtest.Start(t, rpcapdtest.Options{NullAuth: true})
	expr := fmt.Sprintf("udp port %d", testPort)
	for _, tr := range []struct {
		name string
		t    DataTransport
	}{{"tcp", DataTCP}, {"tcp-server-open", DataTCPServerOpen}, {"udp", DataUDP}} {
		t.Run(tr.name, func(t *testing.T) {
			cfg := rpcapConfig(srv)
			cfg.Transport = tr.t
			var c *capture.Capture
			var err error
			rpcapIn(t, srv)(func() { c, err = OpenRPCAP(cfg, CaptureOptions{Interface: srv.Pair.IfB, Filter: expr}) })
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			const n = 15
			srv.Pair.SendUDP(t, testPort, payloads(n)...)
			pkts := readPackets(t, c, n)
			for i, p := range pkts {
				if !bytes.Contains(p.Data, payloads(n)[i]) {
					t.Errorf("packet %d does not hold datagram %d: % x", i+1, i+1, p.Data)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			// With the server opening the data connection, rpcapd connects
			// after opening the interface and before setting the filter:
			// the handshake's 3 packets are in its count (ps_recv).
			if st, _ := c.Stats(); st.Received < n || st.Received > n+3 || st.Dropped != 0 {
				t.Errorf("Stats = %+v, want %d received, none dropped", st, n)
			}
			if _, err := c.Next(); !errors.Is(err, capture.ErrClosed) {
				t.Errorf("Next after Close = %v, want ErrClosed", err)
			}
		})
	}
}

// TestRPCAPOwnTrafficExcluded captures without a filter on the interface
// that carries the rpcap connections: the test's datagrams arrive (and
// side B's ICMP port unreachable answers), but no TCP packet, none of the
// control or data connections' own (which, captured, would be sent again,
// and captured again).
func TestRPCAPOwnTrafficExcluded(t *testing.T) {
	srv := rpcapdtest.Start(t, rpcapdtest.Options{NullAuth: true})
	var c *capture.Capture
	var err error
	rpcapIn(t, srv)(func() { c, err = OpenRPCAP(rpcapConfig(srv), CaptureOptions{Interface: srv.Pair.IfB}) })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 10
	srv.Pair.SendUDP(t, testPort, payloads(n)...)
	pkts := make(chan pcapio.Packet, 100)
	go func() {
		defer close(pkts)
		for {
			p, err := c.Next()
			if err != nil {
				return
			}
			pkts <- p
		}
	}()
	udp, tcp := 0, 0
	for quiet := time.After(time.Second); ; {
		select {
		case p := <-pkts:
			if len(p.Data) < 34 || p.Data[12] != 0x08 || p.Data[13] != 0x00 {
				t.Errorf("a packet that is not IPv4: % x", p.Data)
				continue
			}
			switch p.Data[23] {
			case 6:
				tcp++
			case 17:
				udp++
			}
			continue
		case <-quiet:
		}
		break
	}
	if udp != n || tcp != 0 {
		t.Errorf("%d UDP and %d TCP packets captured, want %d and none", udp, tcp, n)
	}
}

// TestRPCAPRefusals: the errors a user meets, each with its sentinel.
func TestRPCAPRefusals(t *testing.T) {
	srv := rpcapdtest.Start(t, rpcapdtest.Options{Accounts: []rpcapdtest.Account{
		{Name: "root", Password: rpcapRootPassword}, {Name: "pkttapnobody", Password: "nobody-pw", UID: 64999}}})
	in := rpcapIn(t, srv)
	cfg := rpcapConfig(srv)
	var err error
	in(func() { _, err = DialRPCAP(cfg) })
	if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "null authentication") {
		t.Errorf("null authentication on a server without -n: %v", err)
	}
	cfg.User, cfg.Password = "pkttapnobody", "nobody-pw"
	var h *RPCAPHost
	in(func() { h, err = DialRPCAP(cfg) })
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	in(func() { _, err = h.Capture(CaptureOptions{Interface: srv.Pair.IfB}) })
	if !errors.Is(err, ErrPermissionDenied) {
		t.Errorf("an unprivileged user's capture: %v, want ErrPermissionDenied", err)
	}
	t.Log(err)
	var fe *filter.Error
	cfg.User, cfg.Password = "root", rpcapRootPassword
	in(func() {
		_, err = OpenRPCAP(cfg, CaptureOptions{Interface: srv.Pair.IfB, Filter: "udp port 99999"})
	})
	if !errors.As(err, &fe) {
		t.Errorf("a bad filter: %v, want a *filter.Error", err)
	}
}

// TestRPCAPJumboPacket captures a 65549-byte frame (a 65507-byte UDP
// datagram over a veth with the largest MTU): rpcapd writes the PACKET
// message's length through a 16-bit variable, so the message says 33
// bytes; the client takes the length from the packet header when the low
// 16 bits agree, and the stream stays in step (the next packet is read
// whole).
func TestRPCAPJumboPacket(t *testing.T) {
	srv := rpcapdtest.Start(t, rpcapdtest.Options{NullAuth: true})
	for _, side := range []struct{ ns, dev string }{{srv.Pair.NSA, srv.Pair.IfA}, {srv.Pair.NSB, srv.Pair.IfB}} {
		if out, err := exec.Command("ip", "-n", side.ns, "link", "set", side.dev, "mtu", "65535").CombinedOutput(); err != nil {
			t.Fatalf("ip link set mtu: %v\n%s", err, out)
		}
	}
	var c *capture.Capture
	var err error
	rpcapIn(t, srv)(func() {
		c, err = OpenRPCAP(rpcapConfig(srv), CaptureOptions{Interface: srv.Pair.IfB, Filter: fmt.Sprintf("udp port %d", testPort)})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := bytes.Repeat([]byte("j"), 65507)
	srv.Pair.SendUDP(t, testPort, big, []byte("after the jumbo datagram"))
	pkts := readPackets(t, c, 2)
	if len(pkts[0].Data) != 14+20+8+65507 || pkts[0].Length != len(pkts[0].Data) || !bytes.HasSuffix(pkts[0].Data, big) {
		t.Errorf("the jumbo packet: %d of %d bytes", len(pkts[0].Data), pkts[0].Length)
	}
	if !bytes.HasSuffix(pkts[1].Data, []byte("after the jumbo datagram")) {
		t.Errorf("the packet after it: % x", pkts[1].Data)
	}
}

// BenchmarkRPCAPFlood measures the sustained rate of an rpcap source: a
// real rpcapd captures a UDP flood across the veth (its data connection
// shares the link) for rateWindow, once per data transport. The anchor is
// a local live capture (AF_PACKET) of the same flood on the same interface
// at the same time; rpcap/local is the ratio of their packet counts (1:
// the rpcap source kept up with the flood).
func BenchmarkRPCAPFlood(b *testing.B) {
	srv := rpcapdtest.Start(b, rpcapdtest.Options{NullAuth: true})
	expr := fmt.Sprintf("udp port %d", netnstest.FloodPort)
	for _, tr := range []struct {
		name string
		t    DataTransport
	}{{"tcp", DataTCP}, {"udp", DataUDP}} {
		b.Run(tr.name, func(b *testing.B) {
			var local, c *capture.Capture
			var err error
			netnstest.Run(b, srv.Pair.NSB, func() { local, err = capture.Live(srv.Pair.IfB).Filter(expr).Open() })
			if err != nil {
				b.Fatal(err)
			}
			cfg := RPCAPConfig{Addr: srv.Addr, Transport: tr.t, Timeout: 5 * time.Second}
			netnstest.Run(b, srv.Pair.NSA, func() { c, err = OpenRPCAP(cfg, CaptureOptions{Interface: srv.Pair.IfB, Filter: expr}) })
			if err != nil {
				b.Fatal(err)
			}
			type result struct {
				pkts, bytes int
				st          capture.Stats
			}
			var lr, rr result
			var wg sync.WaitGroup
			b.ResetTimer()
			stop := srv.Pair.Flood(b)
			for _, x := range []struct {
				c *capture.Capture
				r *result
			}{{local, &lr}, {c, &rr}} {
				wg.Go(func() { x.r.pkts, x.r.bytes, x.r.st = countFor(b, x.c, rateWindow+time.Second) })
			}
			time.Sleep(rateWindow)
			stop()
			wg.Wait()
			b.StopTimer()
			localPPS := reportRate(b, "local", lr.pkts, lr.bytes, rateWindow)
			rpcapPPS := reportRate(b, "rpcap", rr.pkts, rr.bytes, rateWindow)
			b.ReportMetric(float64(rr.st.Dropped), "rpcap-drops")
			b.ReportMetric(rpcapPPS/localPPS, "rpcap/local")
		})
	}
}

// TestRPCAPFilterOptionsAndCooked: the server's system is told from its
// interface list (rpcapd on Linux lists "any"), so a filter for an
// Ethernet interface compiles for a Linux socket; on the cooked "any"
// device it keeps the cooked header's offsets, which libpcap on the server
// rewrites for the kernel itself (fix_program), and a capture there with
// a filter gets exactly the test's datagrams.
func TestRPCAPFilterOptionsAndCooked(t *testing.T) {
	srv := rpcapdtest.Start(t, rpcapdtest.Options{NullAuth: true})
	var h *RPCAPHost
	var err error
	rpcapIn(t, srv)(func() { h, err = DialRPCAP(rpcapConfig(srv)) })
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	opts, err := h.FilterOptions(srv.Pair.IfB, 0)
	if err != nil || opts.LinkType != pcapio.LinkTypeEthernet || opts.Target != filter.TargetLinuxSocket || opts.Snaplen != capture.MaxSnaplen {
		t.Errorf("FilterOptions(%s) = %+v, %v; want Ethernet for a Linux socket", srv.Pair.IfB, opts, err)
	}
	opts, err = h.FilterOptions("any", 0)
	if err != nil || opts.LinkType != pcapio.LinkTypeLinuxSLL || opts.Target != filter.TargetFile {
		t.Fatalf("FilterOptions(any) = %+v, %v; want LINUX_SLL with the header's offsets", opts, err)
	}
	var c *capture.Capture
	rpcapIn(t, srv)(func() {
		c, err = h.Capture(CaptureOptions{Interface: "any", Filter: fmt.Sprintf("udp dst port %d and inbound", testPort)})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 5
	srv.Pair.SendUDP(t, testPort, payloads(n)...)
	for i, p := range readPackets(t, c, n) {
		if p.LinkType != pcapio.LinkTypeLinuxSLL || !bytes.HasSuffix(p.Data, payloads(n)[i]) {
			t.Errorf("packet %d: %v % x", i+1, p.LinkType, p.Data)
		}
	}
}
