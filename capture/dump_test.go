package capture_test

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

func TestDumpErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		b    capture.DumpBuilder
		pkt  pcapio.Packet
		want string // in the error of Open, or else of WritePacket
	}{
		{"unknown extension", capture.ToFile(filepath.Join(dir, "x.txt")), pcapio.Packet{}, ".pcapng"},
		{"missing folder", capture.ToFile(filepath.Join(dir, "no", "x.pcap")), pcapio.Packet{}, "no such file"},
		{"several interfaces in pcap", capture.ToFile(filepath.Join(dir, "y.pcap")).Interfaces([]pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet}, {LinkType: pcapio.LinkTypeRaw}}), pcapio.Packet{}, "pcapng"},
		{"link type mismatch", capture.ToFile(filepath.Join(dir, "z.pcap")), pcapio.Packet{LinkType: pcapio.LinkTypeRaw, Data: []byte{0x45}}, "RAW"},
		{"interface out of range", capture.ToFile(filepath.Join(dir, "z.pcapng")).Interfaces([]pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet}}), pcapio.Packet{LinkType: pcapio.LinkTypeEthernet, InterfaceIndex: 3, Data: []byte{1}}, "interface 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.b.Open()
			if err == nil {
				err = d.WritePacket(tt.pkt)
				d.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestDumpLivePacketInterfaceIndex checks that a live packet's interface
// index (the OS's) does not leak into a one-interface pcapng file.
func TestDumpLivePacketInterfaceIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.pcapng")
	pkt := ethernetPackets()[0]
	pkt.InterfaceIndex = 7
	if err := capture.DumpPackets(path, pcapio.LinkTypeEthernet, []pcapio.Packet{pkt}); err != nil {
		t.Fatal(err)
	}
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Next()
	if err != nil || got.InterfaceIndex != 0 || !bytes.Equal(got.Data, pkt.Data) {
		t.Errorf("read back interface %d, %v; want the packet on interface 0", got.InterfaceIndex, err)
	}
}

func TestDumpToStdoutAndFlush(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	d, err := capture.ToFile("-").Open()
	os.Stdout = old
	if err != nil {
		t.Fatal(err)
	}
	pkts := ethernetPackets()[:3]
	read := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); read <- b }()
	for _, p := range pkts {
		if err := d.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	data := <-read
	path := filepath.Join(t.TempDir(), "stdout.pcap")
	os.WriteFile(path, data, 0o644)
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatalf("what ToFile(\"-\") wrote is not a capture: %v", err)
	}
	defer c.Close()
	got := readAll(t, c)
	if len(got) != len(pkts) {
		t.Fatalf("read %d packets, want %d", len(got), len(pkts))
	}
	for i := range pkts {
		samePacket(t, i, got[i], pkts[i], time.Microsecond)
	}
}

func TestDumpFlushMakesPacketsVisible(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.pcap")
	d, err := capture.ToFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pkts := ethernetPackets()[:2]
	for _, p := range pkts {
		d.WritePacket(p)
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := readAll(t, c); len(got) != 2 {
		t.Errorf("after Flush a reader sees %d packets, want 2", len(got))
	}
}

// TestDumpSnaplenAndLengthsAsGiven: the snap length recorded is the one
// given (a copy keeps a file's 524288, as tcpdump -w does), 0 records
// MaxSnaplen; VerbatimLengths keeps a damaged record's on-wire length of 0.
func TestDumpSnaplenAndLengthsAsGiven(t *testing.T) {
	tests := []struct {
		snaplen  int
		verbatim bool
		want     uint32
		wantLen  int
	}{
		{0, false, capture.MaxSnaplen, 4},
		{31, false, 31, 4},
		{524288, true, 524288, 0},
		{1 << 33, true, capture.MaxSnaplen, 0},
		// The largest a header's 32 bits hold, and one more. (Kills the
		// mutant of DumpBuilder.Open that takes <= math.MaxUint32 for <.)
		{math.MaxUint32, false, math.MaxUint32, 4},
		{math.MaxUint32 + 1, false, capture.MaxSnaplen, 4},
	}
	for _, tt := range tests {
		for _, name := range []string{"s.pcap", "s.pcapng"} {
			path := filepath.Join(t.TempDir(), name)
			d, err := capture.ToFile(path).Snaplen(tt.snaplen).VerbatimLengths(tt.verbatim).Open()
			if err != nil {
				t.Fatal(err)
			}
			if err := d.WritePacket(pcapio.Packet{Timestamp: time.Unix(1, 0), Data: []byte{1, 2, 3, 4}, LinkType: pcapio.LinkTypeEthernet}); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			c, err := capture.FromFile(path).Open()
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.Next()
			if err != nil {
				t.Fatal(err)
			}
			if got := c.FileInterfaces()[0].Snaplen; got != tt.want || p.Length != tt.wantLen || len(p.Data) != 4 {
				t.Errorf("%s: Snaplen(%d).VerbatimLengths(%v): snaplen %d, packet %d of %d bytes; want %d, 4 of %d", name, tt.snaplen, tt.verbatim, got, len(p.Data), p.Length, tt.want, tt.wantLen)
			}
			c.Close()
		}
	}
}
