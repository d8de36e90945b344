package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/hexdump"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// tcpdumpRead runs tcpdump -r file -nn -tt -xx, then args (such as -c and
// a filter), and returns its standard
// output and the "link-type ..., snapshot length N" it reports on standard
// error (an error while reading, such as a damaged file's, is left in out's
// place: it is compared, not fatal).
func tcpdumpRead(t *testing.T, tcpdump, file string, args ...string) (out, header string) {
	t.Helper()
	cmd := exec.Command(tcpdump, append([]string{"-r", file, "-nn", "-tt", "-xx"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if m := tcpdumpHeaderRE.FindString(stderr.String()); m != "" {
		header = m
	} else {
		header = strings.ReplaceAll(stderr.String(), file, "FILE")
	}
	if err != nil && stdout.Len() == 0 && header == "" {
		t.Fatalf("tcpdump -r %s: %v", file, err)
	}
	return stdout.String(), header
}

var tcpdumpHeaderRE = regexp.MustCompile(`link-type \S+ \([^)]*\), snapshot length \d+`)

// TestCorpusCopiesUnderTcpdump copies every capture of the shared corpus
// with -w (to its own format) and asks tcpdump to read both: every packet's
// time and bytes, and the link type and snap length tcpdump reports, must
// be the same. A copy that cut a packet (the 65535-byte default cut BIG TCP
// packets) or dropped the file's snap length (tcpdump shows a packet longer
// than the snap length cut to it) differs.
func TestCorpusCopiesUnderTcpdump(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	dir := filepath.Join(testenv.SharedDir(t), "corpus")
	manifest, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(manifest)), "\n")[1:] {
		name, _, _ := strings.Cut(line, "\t")
		in := filepath.Join(dir, name)
		out := filepath.Join(tmp, "copy"+filepath.Ext(name))
		if _, errOut, code := runCLI(t, "-q", "-w", out, in); code != 0 {
			// A damaged capture: the copy holds the packets before the
			// fault, which tcpdump prints before its error.
			if !strings.Contains(errOut, "damaged") {
				t.Errorf("%s: -w: exit %d: %s", name, code, errOut)
				continue
			}
		}
		wantOut, wantHdr := tcpdumpRead(t, tcpdump, in)
		gotOut, gotHdr := tcpdumpRead(t, tcpdump, out)
		if gotOut != wantOut {
			t.Errorf("%s: tcpdump reads the copy differently:\n%s", name, firstLineDiff(gotOut, wantOut))
		}
		if gotHdr != wantHdr {
			t.Errorf("%s: tcpdump reports the copy as %q, the original as %q", name, gotHdr, wantHdr)
		}
		n++
	}
	if n < 170 {
		t.Errorf("copied %d corpus captures, want them all (175)", n)
	}
}

// firstLineDiff returns the first line where got and want differ.
func firstLineDiff(got, want string) string {
	return lineDiff(got, want, "copy:    ", "original:", false)
}

// lineDiff returns the first line where a and b differ, each after its
// name; quoted (and cut at 200 bytes) when quote is set.
func lineDiff(a, b, aName, bName string, quote bool) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x == y {
			continue
		}
		if quote {
			cut := func(s string) string {
				if len(s) > 200 {
					return s[:200] + "..."
				}
				return s
			}
			x, y = strconv.Quote(cut(x)), strconv.Quote(cut(y))
		}
		return fmt.Sprintf("line %d:\n  %s %s\n  %s %s", i+1, aName, x, bName, y)
	}
	return "(equal lines)"
}

// writeFileWithInterfaces writes pkts to a new file name with the given interfaces
// (a pcap file takes the first one's link type and snap length).
func writeFileWithInterfaces(t *testing.T, name string, ifs []pcapio.Interface, pkts []pcapio.Packet) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	b := capture.ToFile(path).LinkType(ifs[0].LinkType).Snaplen(int(ifs[0].Snaplen))
	if filepath.Ext(name) == ".pcapng" {
		b = b.Interfaces(ifs)
	}
	d, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := d.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLinkTypeOutput pins the first line and the packet headers of the
// default view for each link type named in the seed's output ("link type:
// Ethernet", "RawIp", "LinuxSll", ...), and for pcapng files with one link
// type on two interfaces (one line) and with two (a line per interface).
func TestLinkTypeOutput(t *testing.T) {
	var got strings.Builder
	for _, path := range linkTypeFiles(t) {
		out, errOut, code := runCLI(t, path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", path, code, errOut)
		}
		got.WriteString(out)
	}
	golden(t, "linktypes.golden", got.String())
}

// linkTypeFiles writes the files of linktypes.golden, in its order: a pcap
// file of one 20-byte packet for each of eight link types, then pcapng
// files of two packets on two interfaces, both Ethernet, then Ethernet and
// RAW.
func linkTypeFiles(t *testing.T) []string {
	t.Helper()
	p := testPackets()[0]
	p.Data, p.Length = p.Data[:20], 20
	var files []string
	for _, lt := range []pcapio.LinkType{pcapio.LinkTypeEthernet, pcapio.LinkTypeRaw, pcapio.LinkTypeLinuxSLL, pcapio.LinkTypeLinuxSLL2,
		pcapio.LinkTypeNull, pcapio.LinkTypeLoop, pcapio.LinkTypeIEEE802_11Radio, pcapio.LinkType(147)} {
		p.LinkType = lt
		files = append(files, writeFileWithInterfaces(t, "one.pcap", []pcapio.Interface{{LinkType: lt}}, []pcapio.Packet{p}))
	}
	raw := p
	raw.LinkType, raw.InterfaceIndex, raw.Timestamp = pcapio.LinkTypeRaw, 1, p.Timestamp.Add(time.Millisecond)
	eth := p
	eth.LinkType = pcapio.LinkTypeEthernet
	for _, ifs := range [][]pcapio.Interface{
		{{LinkType: pcapio.LinkTypeEthernet, Name: "eth0"}, {LinkType: pcapio.LinkTypeEthernet, Name: "eth1"}},
		{{LinkType: pcapio.LinkTypeEthernet, Name: "eth0"}, {LinkType: pcapio.LinkTypeRaw, Name: "tun0"}},
	} {
		raw.LinkType = ifs[1].LinkType
		files = append(files, writeFileWithInterfaces(t, "two.pcapng", ifs, []pcapio.Packet{eth, raw}))
	}
	return files
}

// TestBigPacketKeptWhole reads a file holding an 80,094-byte Ethernet frame
// (a BIG TCP packet): printed whole, with 5-digit offsets (4 for packets up
// to 64 KiB), not "[truncated to 65535]"; copied whole by -w; cut only by
// an explicit -s.
func TestBigPacketKeptWhole(t *testing.T) {
	data := make([]byte, 80094)
	copy(data, testPackets()[3].Data)
	for i := 100; i < len(data); i++ {
		data[i] = byte(i*7 + i/256)
	}
	p := pcapio.Packet{Timestamp: time.Unix(1759760007, 172200000), Data: data, Length: len(data), LinkType: pcapio.LinkTypeEthernet}
	for _, name := range []string{"big.pcap", "big.pcapng"} {
		in := writeFileWithInterfaces(t, name, []pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet}}, []pcapio.Packet{p})
		out, errOut, code := runCLI(t, in)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		want := "link type: Ethernet\n[   1] 1759760007.172200 Ethernet 80094 bytes\n" + hexdump.Format(data) + "1 packets captured\n"
		if out != want {
			t.Errorf("%s: output starts %q, want %q", name, out[:min(len(out), 200)], want[:200])
		}
		rows := strings.Split(hexdump.Format(data), "\n")
		if !strings.HasPrefix(rows[0], "00000  ") || !strings.HasPrefix(rows[len(rows)-2], "138d0  ") {
			t.Errorf("rows of an 80,094-byte packet start %q ... %q, want 5-digit offsets 00000 ... 138d0", rows[0][:7], rows[len(rows)-2][:7])
		}
		if out, _, _ := runCLI(t, "-s", "100", in); !strings.Contains(out, " Ethernet 80094 bytes [truncated to 100]\n") {
			t.Errorf("%s -s 100: no [truncated to 100] in %q", name, out[:min(len(out), 200)])
		}
		for _, copyName := range []string{"copy.pcap", "copy.pcapng"} {
			cp := filepath.Join(t.TempDir(), copyName)
			if _, errOut, code := runCLI(t, "-w", cp, in); code != 0 {
				t.Fatalf("-w %s: exit %d: %s", copyName, code, errOut)
			}
			got := readFile(t, cp)
			if len(got) != 1 || !bytes.Equal(got[0].Data, data) || got[0].Length != len(data) {
				t.Errorf("%s copied to %s: %d packets, the first %d bytes; want 1 of %d", name, copyName, len(got), len(got[0].Data), len(data))
			}
		}
	}
}

// readFile reads every packet of a capture file.
func readFile(t *testing.T, path string) []pcapio.Packet {
	t.Helper()
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var pkts []pcapio.Packet
	for p, err := range c.Packets() {
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// fileSnaplens returns the snap lengths of a capture file's interfaces.
func fileSnaplens(t *testing.T, path string) []uint32 {
	t.Helper()
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var snaps []uint32
	for _, ifc := range c.FileInterfaces() {
		snaps = append(snaps, ifc.Snaplen)
	}
	return snaps
}

// TestCopyKeepsSnaplen: -w records the source file's snap length (31 for a
// pcap whose 47-byte packet is longer, which tcpdump shows cut to 31; each
// interface's for pcapng; 524288, more than the maximum, as tcpdump -w
// keeps it), -s's when given, and a damaged record's on-wire length of 0 as
// it is.
func TestCopyKeepsSnaplen(t *testing.T) {
	p := testPackets()[0]
	p.Data, p.Length = p.Data[:47], 71
	q := p
	q.InterfaceIndex, q.Timestamp = 1, p.Timestamp.Add(time.Millisecond)
	damaged := p
	damaged.Length, damaged.Timestamp = 0, q.Timestamp.Add(time.Millisecond)
	pcap31 := writeFileWithInterfaces(t, "s31.pcap", []pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet, Snaplen: 31}}, []pcapio.Packet{p})
	pcapBig := writeFileWithInterfaces(t, "big.pcap", []pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet, Snaplen: 524288}}, []pcapio.Packet{p})
	ng := writeFileWithInterfaces(t, "two.pcapng", []pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet, Snaplen: 31}, {LinkType: pcapio.LinkTypeEthernet, Snaplen: 1000}}, []pcapio.Packet{p, q})
	tests := []struct {
		in, out string
		args    []string
		want    []uint32
	}{
		{pcap31, "c.pcap", nil, []uint32{31}},
		{pcap31, "c.pcapng", nil, []uint32{31}},
		{pcapBig, "c.pcap", nil, []uint32{524288}},
		{ng, "c.pcapng", nil, []uint32{31, 1000}},
		{ng, "c.pcap", nil, []uint32{31}},
		{ng, "c.pcapng", []string{"-s", "20"}, []uint32{20, 20}},
		{pcap31, "c.pcap", []string{"-s", "0"}, []uint32{capture.MaxSnaplen}},
		{pcap31, "c.pcap", []string{"-s", "300000"}, []uint32{capture.MaxSnaplen}},
	}
	for _, tt := range tests {
		out := filepath.Join(t.TempDir(), tt.out)
		args := append(append([]string{"-w", out}, tt.args...), tt.in)
		if _, errOut, code := runCLI(t, args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errOut)
		}
		if got := fileSnaplens(t, out); !slices.Equal(got, tt.want) {
			t.Errorf("%s -w %s %q: snap lengths %d, want %d", filepath.Base(tt.in), tt.out, tt.args, got, tt.want)
		}
	}
	// A record whose on-wire length is 0 (a fuzzed file's) is copied so.
	in := writeFileWithInterfaces(t, "damaged.pcap", []pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet}}, nil)
	d, err := capture.ToFile(in).VerbatimLengths(true).Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(d.WritePacket(damaged), d.Close()); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "c.pcap")
	if _, errOut, code := runCLI(t, "-w", out, in); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := readFile(t, out); len(got) != 1 || got[0].Length != 0 || len(got[0].Data) != 47 {
		t.Errorf("a record of 47 bytes with on-wire length 0 copied as %+v", got)
	}
}
