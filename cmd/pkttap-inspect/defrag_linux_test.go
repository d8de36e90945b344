package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// defragFields are the fields the reassembly tests compare with tshark's.
var defragFields = []string{
	"frame.number", "frame.protocols", "ip.proto", "ip.id",
	"ip.fragment", "ip.fragment.error", "ip.fragment.overlap", "ip.fragment.overlap.conflict", "ip.fragment.count", "ip.reassembled.length", "ip.reassembled.data",
	"ipv6.fragment", "ipv6.fragment.error", "ipv6.fragment.overlap", "ipv6.fragment.count", "ipv6.reassembled.length", "ipv6.reassembled.data",
	"udp.srcport", "udp.dstport", "udp.length", "udp.stream", "udp.payload",
	"icmp.type", "icmp.seq", "data.len",
}

// compareDefrag checks pkttap-inspect's summary lines (-S) and
// defragFields (-T fields) on the capture at path against tshark's with
// its default preferences, which reassemble IPv4 and IPv6 fragments.
func compareDefrag(t *testing.T, tshark, path string) {
	t.Helper()
	out, err := exec.Command(tshark, "-n", "-r", path).Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", path, err)
	}
	stdout, stderr, code := runCLI(t, "-S", path)
	if code != 0 {
		t.Fatalf("pkttap-inspect -S: exit %d: %s", code, stderr)
	}
	theirs, ours := nonEmptyLines(string(out)), nonEmptyLines(stdout)
	if len(ours) != len(theirs)+1 { // + "N packets captured"
		t.Fatalf("%d summary lines, tshark %d", len(ours)-1, len(theirs))
	}
	for i, l := range theirs {
		if a, b := strings.Join(strings.Fields(l), " "), strings.Join(strings.Fields(ours[i]), " "); a != b {
			t.Errorf("summary:\npkttap %s\ntshark %s", b, a)
		}
	}
	args := []string{"-n", "-r", path, "-T", "fields"}
	var mine []string
	for _, f := range defragFields {
		args = append(args, "-e", f)
		mine = append(mine, "-e", f)
	}
	out, err = exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark -T fields: %v", err)
	}
	stdout, stderr, code = runCLI(t, append(append([]string{"-T", "fields"}, mine...), path)...)
	if code != 0 {
		t.Fatalf("pkttap-inspect -T fields: exit %d: %s", code, stderr)
	}
	theirs, ours = nonEmptyLines(string(out)), nonEmptyLines(stdout)
	if len(ours) != len(theirs)+1 { // + "N packets captured"
		t.Fatalf("%d lines of fields, tshark %d:\n%s", len(ours), len(theirs), stdout)
	}
	for i := range theirs {
		a, b := strings.Split(theirs[i], "\t"), strings.Split(ours[i], "\t")
		for j := range defragFields {
			if j >= len(a) || j >= len(b) || a[j] != b[j] {
				t.Errorf("frame %d, %s: pkttap %.100q, tshark %.100q", i+1, defragFields[j], field(b, j), field(a, j))
			}
		}
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func field(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return "<missing>"
}

var (
	fragSrc4, fragDst4 = []byte{198, 18, 9, 1}, []byte{198, 18, 9, 2}
	fragSrc6           = net.ParseIP("2001:2:0:9::1").To16()
	fragDst6           = net.ParseIP("2001:2:0:9::2").To16()
	fragMACA, fragMACB = []byte{2, 0x70, 0x6b, 0, 9, 1}, []byte{2, 0x70, 0x6b, 0, 9, 2}
)

// ipv4Fragment is an Ethernet frame of one IPv4 fragment: payload goes at
// byte offset off of datagram id's payload.
func ipv4Fragment(id uint16, proto byte, off int, more bool, payload []byte) []byte {
	return netnstest.EthFrame(fragMACB, fragMACA, 0x0800, testpkt.IPv4Fragment(id, proto, fragSrc4, fragDst4, off, more, payload))
}

// ipv6Fragment is an Ethernet frame of one IPv6 fragment with a Fragment
// Header (next header nxt).
func ipv6Fragment(id uint32, nxt byte, off int, more bool, payload []byte) []byte {
	return netnstest.EthFrame(fragMACB, fragMACA, 0x86dd, testpkt.IPv6Fragment(id, nxt, fragSrc6, fragDst6, off, more, payload))
}

// pattern is n bytes of a recognisable sequence starting at seed.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// TestDefragCraftedTshark reassembles crafted fragments in every order and
// shape that decides what a reassembler shows, judged by tshark 4.0 with
// its default preferences: in order, reversed, a duplicate, overlaps with
// conflicting bytes, a missing piece (never complete), a first fragment
// cut by the snap length (not reassembled: its UDP header is decoded), two
// datagrams interleaved, an Identification reused after its datagram
// completed, the same Identification for two protocols, an ICMP echo, and
// IPv6 fragments out of order.
func TestDefragCraftedTshark(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	udp := func(n int, seed byte) []byte { return testpkt.UDP(40000, 7001, pattern(seed, n)) }
	type frag struct {
		frame  []byte
		caplen int // 0: whole
	}
	var frames []frag
	add := func(b []byte) { frames = append(frames, frag{frame: b}) }
	split := func(id uint16, proto byte, dg []byte, size int) [][]byte {
		var out [][]byte
		for off := 0; off < len(dg); off += size {
			end := min(off+size, len(dg))
			out = append(out, ipv4Fragment(id, proto, off, end < len(dg), dg[off:end]))
		}
		return out
	}
	// In order, then reversed, then with a duplicate middle fragment.
	for _, f := range split(0x100, 17, udp(3000, 1), 1480) {
		add(f)
	}
	rev := split(0x101, 17, udp(2500, 2), 1000)
	for i := len(rev) - 1; i >= 0; i-- {
		add(rev[i])
	}
	dup := split(0x102, 17, udp(2000, 3), 800)
	add(dup[0])
	add(dup[1])
	add(dup[1])
	add(dup[2])
	// Overlaps whose bytes conflict: the lower offset's bytes are kept.
	dg := udp(2392, 4)
	other := pattern(99, 2400)
	add(ipv4Fragment(0x103, 17, 0, true, dg[:1000]))
	add(ipv4Fragment(0x103, 17, 1600, false, append(other[:200:200], dg[1800:]...)))
	add(ipv4Fragment(0x103, 17, 800, true, append(append([]byte(nil), other[800:1000]...), dg[1000:2000]...)))
	// A piece never comes.
	lost := split(0x104, 17, udp(3000, 5), 1000)
	add(lost[0])
	add(lost[2])
	// A first fragment cut by the snap length.
	cut := split(0x105, 17, udp(1500, 6), 1000)
	frames = append(frames, frag{frame: cut[0], caplen: 200})
	add(cut[1])
	// Interleaved datagrams.
	g, h := split(0x106, 17, udp(2000, 7), 700), split(0x107, 17, udp(2000, 8), 700)
	for i := range g {
		add(g[i])
		add(h[i])
	}
	// The Identification of the first datagram again, once it completed.
	for _, f := range split(0x100, 17, udp(1200, 9), 800) {
		add(f)
	}
	// One Identification, two protocols: two datagrams.
	icmp := append([]byte{8, 0, 0, 0, 0x12, 0x34, 0, 1}, pattern(10, 1800)...)
	binary.BigEndian.PutUint16(icmp[2:], testpkt.Checksum(icmp))
	u, e := split(0x108, 17, udp(1800, 11), 1000), split(0x108, 1, icmp, 1000)
	add(u[0])
	add(e[0])
	add(e[1])
	add(u[1])
	// IPv6, the last fragment first.
	dg6 := udp(3000, 12)
	dg6[6], dg6[7] = 0x12, 0x34 // a zero checksum is illegal over IPv6; this one is not verified
	add(ipv6Fragment(0xabcd, 17, 2400, false, dg6[2400:]))
	add(ipv6Fragment(0xabcd, 17, 0, true, dg6[:1200]))
	add(ipv6Fragment(0xabcd, 17, 1200, true, dg6[1200:2400]))

	path := filepath.Join(t.TempDir(), "fragments.pcap")
	if d := os.Getenv("PKTTAP_KEEP_DIR"); d != "" {
		path = filepath.Join(d, "fragments.pcap")
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapio.NewWriter(f, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for i, fr := range frames {
		data := fr.frame
		if fr.caplen > 0 {
			data = data[:fr.caplen]
		}
		if err := w.WritePacket(&pcapio.Packet{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), Data: data, Length: len(fr.frame), LinkType: pcapio.LinkTypeEthernet}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	compareDefrag(t, tshark, path)
}

// TestDefragLiveTshark sends UDP datagrams larger than the link's MTU
// between two network namespaces over IPv4 and IPv6, so the kernel
// fragments them, records them with tcpdump, and compares pkttap's reading
// of the capture with tshark's.
func TestDefragLiveTshark(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	p := netnstest.NewPair(t, netnstest.Options{Name: "defrag", Static: true, IPv6: true})
	for _, side := range [][2]string{{p.NSA, p.IfA}, {p.NSB, p.IfB}} {
		if out, err := exec.Command("ip", "-n", side[0], "link", "set", side[1], "mtu", "1400").CombinedOutput(); err != nil {
			t.Fatalf("set mtu: %v: %s", err, out)
		}
	}
	if out, err := exec.Command("ip", "-n", p.NSA, "-6", "neigh", "replace", p.IPB6.String(), "lladdr", p.MACB.String(), "dev", p.IfA, "nud", "permanent").CombinedOutput(); err != nil {
		t.Fatalf("neighbour: %v: %s", err, out)
	}
	path := filepath.Join(t.TempDir(), "live.pcap")
	cmd := exec.Command("ip", "netns", "exec", p.NSB, tcpdump, "--immediate-mode", "-U", "-n", "-s", "0", "-i", p.IfB, "-w", path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(listening)
				for sc.Scan() {
				}
				return
			}
		}
	}()
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("tcpdump did not start listening")
	}
	sizes := []int{3000, 5000, 1372, 1373, 200, 9000}
	netnstest.Run(t, p.NSA, func() {
		for _, c := range []struct {
			network string
			laddr   net.IP
			raddr   net.IP
		}{{"udp4", p.IPA, p.IPB}, {"udp6", p.IPA6, p.IPB6}} {
			conn, err := net.ListenUDP(c.network, &net.UDPAddr{IP: c.laddr})
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range sizes {
				if _, err := conn.WriteToUDP(pattern(byte(i), n), &net.UDPAddr{IP: c.raddr, Port: 7001}); err != nil {
					t.Fatalf("send %d bytes to %s: %v", n, c.raddr, err)
				}
			}
			conn.Close()
		}
	})
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() < 20000 {
		t.Fatalf("the capture holds only %d bytes", st.Size())
	}
	out, _ := exec.Command(tshark, "-n", "-r", path).Output()
	if n := bytes.Count(out, []byte("Fragmented IP protocol")) + bytes.Count(out, []byte("IPv6 fragment")); n < 10 {
		t.Fatalf("only %d fragments captured:\n%s", n, out)
	}
	compareDefrag(t, tshark, path)
}
