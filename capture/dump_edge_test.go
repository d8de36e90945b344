package capture_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// TestDumpInterfaceIndexOnePastTheEnd writes a packet for the interface
// one past the last of a two-interface pcapng file: WritePacket refuses it
// with its own message, which names the interfaces the file has and how to
// set them, and the packets around it are written. (Kills the mutants of
// Dump.WritePacket that take >= d.nIf for >, which leaves the refusal to
// pcapio and its message without the range or the hint, and that name the
// last interface d.nIf+1.)
func TestDumpInterfaceIndexOnePastTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.pcapng")
	ifs := []pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet}, {LinkType: pcapio.LinkTypeRaw}}
	d, err := capture.ToFile(path).Interfaces(ifs).Open()
	if err != nil {
		t.Fatal(err)
	}
	pkt := func(i int) pcapio.Packet {
		return pcapio.Packet{Timestamp: time.Unix(1, 0), Data: []byte{0x45, 0, 0, 4}, LinkType: ifs[min(i, 1)].LinkType, InterfaceIndex: i}
	}
	if err := d.WritePacket(pkt(1)); err != nil {
		t.Errorf("packet for the last interface: %v", err)
	}
	err = d.WritePacket(pkt(2))
	if want := "interfaces 0 to 1 (set DumpBuilder.Interfaces"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("packet for interface 2 of 2: error %v, want one saying %q", err, want)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := readAll(t, c); len(got) != 1 || got[0].InterfaceIndex != 1 {
		t.Errorf("read back %d packets (%+v), want the one for interface 1", len(got), got)
	}
}

// TestDumpKeepsOnWireLengths writes a packet cut short by a snap length
// (on-wire length above its data), one whole, and one whose unset length
// is below its data: the first two keep their lengths, the last is written
// with the length of its data. (Kills the mutant of Dump.WritePacket that
// negates p.Length < len(p.Data), which writes every cut packet as whole.)
func TestDumpKeepsOnWireLengths(t *testing.T) {
	data := []byte{1, 2, 3, 4}
	tests := []struct{ length, want int }{{1500, 1500}, {4, 4}, {0, 4}}
	for _, name := range []string{"l.pcap", "l.pcapng"} {
		path := filepath.Join(t.TempDir(), name)
		d, err := capture.ToFile(path).Open()
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			if err := d.WritePacket(pcapio.Packet{Timestamp: time.Unix(1, 0), Data: data, Length: tt.length, LinkType: pcapio.LinkTypeEthernet}); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		c, err := capture.FromFile(path).Open()
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, c)
		c.Close()
		if len(got) != len(tests) {
			t.Fatalf("%s: read %d packets, want %d", name, len(got), len(tests))
		}
		for i, tt := range tests {
			if got[i].Length != tt.want || len(got[i].Data) != len(data) {
				t.Errorf("%s: packet written with length %d reads back %d of %d bytes, want %d of %d", name, tt.length, len(got[i].Data), got[i].Length, len(data), tt.want)
			}
		}
	}
}
