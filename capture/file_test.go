package capture_test

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// writeFile dumps pkts to a new file named name in a temporary folder.
func writeFile(t *testing.T, name string, lt pcapio.LinkType, pkts []pcapio.Packet) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := capture.DumpPackets(path, lt, pkts); err != nil {
		t.Fatalf("DumpPackets(%s): %v", name, err)
	}
	return path
}

// readAll reads every packet of an open capture with Next.
func readAll(t *testing.T, c *capture.Capture) []pcapio.Packet {
	t.Helper()
	return readWith(t, c, (*capture.Capture).Next)
}

// readWith reads every packet of an open capture, calling next for each,
// and returns the packets with Data as next returned it.
func readWith(t *testing.T, c *capture.Capture, next func(*capture.Capture) (pcapio.Packet, error)) []pcapio.Packet {
	t.Helper()
	var got []pcapio.Packet
	for {
		p, err := next(c)
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("read after %d packets: %v", len(got), err)
		}
		got = append(got, p)
	}
}

// samePacket compares a packet read back with the one written; prec is the
// timestamp precision of the file format.
func samePacket(t *testing.T, i int, got, want pcapio.Packet, prec time.Duration) {
	t.Helper()
	if !bytes.Equal(got.Data, want.Data) || got.Length != want.Length || got.LinkType != want.LinkType {
		t.Errorf("packet %d: got %d/%d bytes of %s, want %d/%d of %s (or bytes differ)", i, len(got.Data), got.Length, got.LinkType, len(want.Data), want.Length, want.LinkType)
	}
	if w := want.Timestamp.Truncate(prec); !got.Timestamp.Equal(w) {
		t.Errorf("packet %d: timestamp %v, want %v", i, got.Timestamp, w)
	}
}

func TestDumpAndReadBack(t *testing.T) {
	pkts := ethernetPackets()
	for _, tt := range []struct {
		name string
		prec time.Duration
	}{
		{"trace.pcap", time.Microsecond},
		{"trace.pcapng", time.Nanosecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := capture.FromFile(writeFile(t, tt.name, pcapio.LinkTypeEthernet, pkts)).Open()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.LinkType() != pcapio.LinkTypeEthernet {
				t.Errorf("LinkType() = %s, want EN10MB", c.LinkType())
			}
			got := readAll(t, c)
			if len(got) != len(pkts) {
				t.Fatalf("read %d packets, want %d", len(got), len(pkts))
			}
			for i := range pkts {
				samePacket(t, i, got[i], pkts[i], tt.prec)
			}
			st, err := c.Stats()
			if err != nil || st.Received != uint64(len(pkts)) || st.Dropped != 0 {
				t.Errorf("Stats() = %+v, %v; want %d received", st, err, len(pkts))
			}
		})
	}
}

func TestNextOwnsDataZeroCopyDoesNot(t *testing.T) {
	pkts := ethernetPackets()
	path := writeFile(t, "t.pcap", pcapio.LinkTypeEthernet, pkts)
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first, err := c.Next()
	if err != nil {
		t.Fatal(err)
	}
	keep := bytes.Clone(first.Data)
	for {
		p, err := c.NextZeroCopy()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Data {
			p.Data[i] ^= 0xff // scribble on the reader's buffer
		}
	}
	if !bytes.Equal(first.Data, keep) {
		t.Error("a packet returned by Next changed when later packets were read")
	}
}

func TestSnaplenCutsFilePackets(t *testing.T) {
	pkts := ethernetPackets()
	for _, name := range []string{"t.pcap", "t.pcapng"} {
		path := writeFile(t, name, pcapio.LinkTypeEthernet, pkts)
		for _, snap := range []int{14, 60, 100, 1000, 65535, 0} {
			c, err := capture.FromFile(path).Snaplen(snap).Open()
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, c)
			c.Close()
			limit := snap
			if limit == 0 {
				limit = capture.MaxSnaplen
			}
			for i, p := range got {
				want := pkts[i].Data[:min(limit, len(pkts[i].Data))]
				if !bytes.Equal(p.Data, want) || p.Length != pkts[i].Length {
					t.Fatalf("%s snaplen %d packet %d: %d/%d bytes, want %d/%d", name, snap, i, len(p.Data), p.Length, len(want), pkts[i].Length)
				}
				if p.IsTruncated() != (len(pkts[i].Data) > limit) {
					t.Errorf("%s snaplen %d packet %d: IsTruncated() = %v", name, snap, i, p.IsTruncated())
				}
			}
		}
	}
	// The filter sees the whole packet, as in the kernel: a snap length
	// shorter than the headers it tests does not hide the packet.
	c, err := capture.FromFile(writeFile(t, "f.pcap", pcapio.LinkTypeEthernet, pkts)).Snaplen(20).Filter("udp port 53").Open()
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, c)
	c.Close()
	if len(got) != 8 || len(got[0].Data) != 20 || !got[0].IsTruncated() {
		t.Errorf("Snaplen(20).Filter(udp port 53): %d packets, the first %d bytes; want 8 of 20", len(got), len(got[0].Data))
	}
	if _, err := capture.FromFile("x.pcap").Snaplen(-1).Open(); err == nil || !strings.Contains(err.Error(), "snaplen") {
		t.Errorf("Snaplen(-1).Open() = %v, want a snaplen error", err)
	}
}

func TestPacketsIterator(t *testing.T) {
	pkts := ethernetPackets()
	path := writeFile(t, "t.pcapng", pcapio.LinkTypeEthernet, pkts)
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	for p, err := range c.Packets() {
		if err != nil {
			t.Fatal(err)
		}
		samePacket(t, n, p, pkts[n], time.Nanosecond)
		n++
		if n == 5 {
			break
		}
	}
	for p, err := range c.Packets() { // resumes where the loop broke off
		if err != nil {
			t.Fatal(err)
		}
		samePacket(t, n, p, pkts[n], time.Nanosecond)
		n++
	}
	if n != len(pkts) {
		t.Errorf("iterated %d packets, want %d", n, len(pkts))
	}
}

func TestCloseFile(t *testing.T) {
	path := writeFile(t, "t.pcap", pcapio.LinkTypeEthernet, ethernetPackets())
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if _, err := c.Next(); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("Next after Close = %v, want ErrClosed", err)
	}
	if st, err := c.Stats(); err != nil || st.Received != 1 {
		t.Errorf("Stats after Close = %+v, %v; want 1 received", st, err)
	}
	for range c.Packets() {
		t.Fatal("Packets after Close yielded a packet")
	}
}

func TestFromStdin(t *testing.T) {
	pkts := ethernetPackets()
	data, err := os.ReadFile(writeFile(t, "t.pcapng", pcapio.LinkTypeEthernet, pkts))
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.Write(data); w.Close() }()
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old; r.Close() })
	c, err := capture.FromFile("-").Filter("udp").Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := readAll(t, c)
	if want := 4 * 3; len(got) != want { // each round: 2 UDP over IPv4, 1 over IPv6
		t.Errorf("read %d UDP packets from a pipe, want %d", len(got), want)
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing", func(t *testing.T) {
		_, err := capture.FromFile(filepath.Join(dir, "nope.pcap")).Open()
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open of a missing file = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("not a capture", func(t *testing.T) {
		path := filepath.Join(dir, "text.pcap")
		os.WriteFile(path, []byte("this is not a capture file, not at all\n"), 0o644)
		_, err := capture.FromFile(path).Open()
		var fe *pcapio.FormatError
		if !errors.As(err, &fe) {
			t.Errorf("Open of a text file = %v, want a *pcapio.FormatError", err)
		}
	})
	t.Run("cut short", func(t *testing.T) {
		pkts := ethernetPackets()
		data, _ := os.ReadFile(writeFile(t, "t.pcap", pcapio.LinkTypeEthernet, pkts[:3]))
		path := filepath.Join(dir, "cut.pcap")
		os.WriteFile(path, data[:len(data)-10], 0o644)
		c, err := capture.FromFile(path).Open()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := range 2 {
			if _, err := c.Next(); err != nil {
				t.Fatalf("packet %d before the cut: %v", i, err)
			}
		}
		_, err = c.Next()
		var fe *pcapio.FormatError
		if err == nil || err == io.EOF || !(errors.As(err, &fe) || errors.Is(err, io.ErrUnexpectedEOF)) {
			t.Errorf("Next at the cut = %v, want a FormatError or io.ErrUnexpectedEOF", err)
		}
		if err != nil && !strings.Contains(err.Error(), "cut short") {
			t.Errorf("error %q does not say what happened", err)
		}
	})
}

func TestNextZeroCopyAllocs(t *testing.T) {
	pkts := ethernetPackets()
	for _, name := range []string{"t.pcap", "t.pcapng"} {
		path := writeFile(t, name, pcapio.LinkTypeEthernet, pkts)
		for _, expr := range []string{"", "ip or arp or ip6"} {
			c, err := capture.FromFile(path).Filter(expr).Open()
			if err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(len(pkts)-2, func() {
				if _, err := c.NextZeroCopy(); err != nil {
					t.Fatal(err)
				}
			})
			c.Close()
			if allocs != 0 {
				t.Errorf("%s, filter %q: NextZeroCopy allocates %.1f times per packet, want 0", name, expr, allocs)
			}
		}
	}
}

// TestNextPacketsStayIntactAcrossBuffers keeps every packet Next returns
// from a file much larger than the reader's buffers, with a filter in play,
// and checks them all against a second, independent read.
func TestNextPacketsStayIntactAcrossBuffers(t *testing.T) {
	path := writeFile(t, "big.pcapng", pcapio.LinkTypeEthernet, bigEthernetPackets())
	read := func(next func(*capture.Capture) (pcapio.Packet, error)) [][]byte {
		var out [][]byte
		for _, p := range readAllPackets(t, path, "ip or ip6", next) {
			out = append(out, p.Data)
		}
		return out
	}
	kept := read((*capture.Capture).Next)
	fresh := read(func(c *capture.Capture) (pcapio.Packet, error) {
		p, err := c.NextZeroCopy()
		p.Data = bytes.Clone(p.Data)
		return p, err
	})
	if len(kept) == 0 || len(kept) != len(fresh) {
		t.Fatalf("Next kept %d packets, a copying read found %d", len(kept), len(fresh))
	}
	for i := range kept {
		if !bytes.Equal(kept[i], fresh[i]) {
			t.Fatalf("packet %d kept from Next changed after later reads", i)
		}
	}
}

// TestNextInto reads files with NextInto, reusing one buffer and keeping
// nothing, then keeping every packet: both must equal Next's packets, a
// reused buffer must not be reallocated when it has room, and kept packets
// must survive later reads.
func TestNextInto(t *testing.T) {
	pkts := bigEthernetPackets()
	for _, name := range []string{"t.pcap", "t.pcapng"} {
		path := writeFile(t, name, pcapio.LinkTypeEthernet, pkts)
		want := readAllPackets(t, path, "ip or ip6", (*capture.Capture).Next)
		var buf []byte
		i := 0
		reused := readAllPackets(t, path, "ip or ip6", func(c *capture.Capture) (pcapio.Packet, error) {
			p, err := c.NextInto(buf)
			if err != nil {
				return p, err
			}
			if cap(buf) >= len(p.Data) && len(p.Data) > 0 && &p.Data[0] != &buf[:1][0] {
				t.Fatalf("%s: NextInto allocated though the buffer had room", name)
			}
			if i >= len(want) || !bytes.Equal(p.Data, want[i].Data) {
				t.Fatalf("%s: packet %d read into a reused buffer differs from Next's", name, i)
			}
			i++
			buf = p.Data
			return p, err
		})
		kept := readAllPackets(t, path, "ip or ip6", func(c *capture.Capture) (pcapio.Packet, error) {
			return c.NextInto(nil)
		})
		if len(want) == 0 || len(reused) != len(want) || len(kept) != len(want) {
			t.Fatalf("%s: NextInto read %d and %d packets, Next %d", name, len(reused), len(kept), len(want))
		}
		for i := range want {
			if !bytes.Equal(kept[i].Data, want[i].Data) || kept[i].Length != want[i].Length || !kept[i].Timestamp.Equal(want[i].Timestamp) {
				t.Fatalf("%s: kept packet %d differs from Next's", name, i)
			}
		}
		c, err := capture.FromFile(path).Open()
		if err != nil {
			t.Fatal(err)
		}
		buf = make([]byte, 0, 2048)
		allocs := testing.AllocsPerRun(len(pkts)/2, func() {
			p, err := c.NextInto(buf)
			if err != nil {
				t.Fatal(err)
			}
			buf = p.Data
		})
		c.Close()
		if allocs != 0 {
			t.Errorf("%s: NextInto with room in the buffer allocates %.1f times per packet, want 0", name, allocs)
		}
	}
}

// readAllPackets reads the file at path through a capture with filter
// expr, calling next for each packet, as readWith does.
func readAllPackets(t *testing.T, path, expr string, next func(*capture.Capture) (pcapio.Packet, error)) []pcapio.Packet {
	t.Helper()
	c, err := capture.FromFile(path).Filter(expr).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return readWith(t, c, next)
}

// bigEthernetPackets returns 40 copies of ethernetPackets, each packet
// grown by 1000 bytes of its copy number: a file of them is larger than
// the reader's buffers.
func bigEthernetPackets() []pcapio.Packet {
	var pkts []pcapio.Packet
	for i := range 40 {
		for _, p := range ethernetPackets() {
			p.Data = append(bytes.Clone(p.Data), bytes.Repeat([]byte{byte(i)}, 1000)...)
			p.Length = len(p.Data)
			pkts = append(pkts, p)
		}
	}
	return pkts
}

// TestLinkTypeWhileReading calls LinkType from another goroutine while a
// pcapng file of two sections (Ethernet, then raw IP) is read, as the
// Capture documentation allows; run it with -race. LinkType follows the
// section being read.
func TestLinkTypeWhileReading(t *testing.T) {
	a := writeFile(t, "a.pcapng", pcapio.LinkTypeEthernet, ethernetPackets())
	b := writeFile(t, "b.pcapng", pcapio.LinkTypeRaw, rawPackets())
	var both []byte
	for _, p := range []string{a, b} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		both = append(both, data...)
	}
	path := filepath.Join(t.TempDir(), "two-sections.pcapng")
	if err := os.WriteFile(path, both, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				c.LinkType()
			}
		}
	}()
	got := readAll(t, c)
	last := c.LinkType()
	close(stop)
	<-done
	if want := len(ethernetPackets()) + len(rawPackets()); len(got) != want {
		t.Errorf("read %d packets, want %d", len(got), want)
	}
	if last != pcapio.LinkTypeRaw {
		t.Errorf("LinkType() after reading the raw IP section = %s, want RAW", last)
	}
}

// TestFileKeepsEveryByte: a file is read whole unless Snaplen is called:
// an 80,094-byte Ethernet frame (a BIG TCP packet) and a 300,000-byte
// USBPcap packet (longer than MaxSnaplen, which that link type allows) keep
// every captured byte through Next, NextInto and NextZeroCopy. Snaplen cuts
// them explicitly, with 0 meaning MaxSnaplen as for a live capture.
func TestFileKeepsEveryByte(t *testing.T) {
	const usbPcap = pcapio.LinkType(249)
	big := func(lt pcapio.LinkType, n int) pcapio.Packet {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + i/256)
		}
		return pcapio.Packet{Timestamp: time.Unix(1700000000, 0), Data: data, Length: n, LinkType: lt}
	}
	nexts := map[string]func(*capture.Capture) (pcapio.Packet, error){
		"Next":         (*capture.Capture).Next,
		"NextZeroCopy": (*capture.Capture).NextZeroCopy,
		"NextInto":     func(c *capture.Capture) (pcapio.Packet, error) { return c.NextInto(nil) },
	}
	for _, p := range []pcapio.Packet{big(pcapio.LinkTypeEthernet, 80094), big(usbPcap, 300000)} {
		for _, name := range []string{"big.pcap", "big.pcapng"} {
			path := writeFile(t, name, p.LinkType, []pcapio.Packet{p})
			for _, snap := range []int{-1, 0, 1000} { // -1: Snaplen not called
				want := len(p.Data)
				b := capture.FromFile(path)
				if snap >= 0 {
					b = b.Snaplen(snap)
					want = min(want, cmp.Or(snap, capture.MaxSnaplen))
				}
				for nextName, next := range nexts {
					c, err := b.Open()
					if err != nil {
						t.Fatal(err)
					}
					got, err := next(c)
					if err != nil {
						t.Fatalf("%s %s: %v", name, nextName, err)
					}
					if !bytes.Equal(got.Data, p.Data[:want]) || got.Length != p.Length || got.IsTruncated() != (want < len(p.Data)) {
						t.Errorf("%s of %d bytes, snaplen %d, %s: %d of %d bytes (truncated %v), want %d", name, len(p.Data), snap, nextName, len(got.Data), got.Length, got.IsTruncated(), want)
					}
					c.Close()
				}
			}
		}
	}
}

// TestFileFilterSnaplen: a file's filter returns the file's snap length,
// as libpcap's programs for a capture file do, unless Snaplen sets one.
func TestFileFilterSnaplen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s31.pcap")
	d, err := capture.ToFile(path).Snaplen(31).Open()
	if err != nil {
		t.Fatal(err)
	}
	p := ethernetPackets()[0]
	if err := d.WritePacket(p); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		b    capture.Builder
		want int
	}{
		{capture.FromFile(path), 31},
		{capture.FromFile(path).Snaplen(0), capture.MaxSnaplen},
		{capture.FromFile(path).Snaplen(96), 96},
	} {
		c, err := tt.b.Open()
		if err != nil {
			t.Fatal(err)
		}
		if got := c.FilterOptions().Snaplen; got != tt.want {
			t.Errorf("FilterOptions().Snaplen = %d, want %d", got, tt.want)
		}
		c.Close()
	}
}
