package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// The golden files of testdata/ are written by the CLI itself (go test
// -update). TestGoldensAgainstTcpdump reads each golden file's input with
// tcpdump and tshark and checks every packet the golden file holds against
// them, so that a golden file rewritten from a wrong output fails.

// goldenPacket is one packet of a golden file: the header line's fields
// and the bytes of its hex rows.
type goldenPacket struct {
	no        int
	ts        string // seconds.microseconds, as printed
	linkType  string // pkttap's name of the packet's link type
	length    int    // on-wire length
	truncated int    // the "[truncated to N]" of the header, or 0
	data      []byte
}

// goldenSection is the output for one file: its "link type:" lines, its
// packets and the final count.
type goldenSection struct {
	linkTypes []string
	packets   []goldenPacket
	count     int
}

var (
	goldenLinkTypeRE = regexp.MustCompile(`^link type: (\S+)`)
	goldenCountRE    = regexp.MustCompile(`^(\d+) packets captured$`)
	goldenHexRE      = regexp.MustCompile(`^([0-9a-f]{4})  (.{48})  \|(.*)\|$`)
)

// parseGolden splits a golden file into its files' sections, checking the
// layout of every line (a hex row's ASCII column is checked against its
// bytes: printable ASCII as is, anything else as '.').
func parseGolden(t *testing.T, name string) []goldenSection {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var secs []goldenSection
	cur := func() *goldenSection {
		if len(secs) == 0 {
			secs = append(secs, goldenSection{count: -1})
		}
		return &secs[len(secs)-1]
	}
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		where := fmt.Sprintf("%s:%d", name, i+1)
		if m := goldenLinkTypeRE.FindStringSubmatch(l); m != nil {
			if s := cur(); s.count >= 0 || len(s.packets) > 0 {
				secs = append(secs, goldenSection{count: -1})
			}
			cur().linkTypes = append(cur().linkTypes, m[1])
			continue
		}
		if m := goldenCountRE.FindStringSubmatch(l); m != nil {
			cur().count, _ = strconv.Atoi(m[1])
			continue
		}
		if m := headerRE.FindStringSubmatch(l); m != nil {
			p := goldenPacket{ts: m[2] + "." + m[3], linkType: m[4]}
			p.no, _ = strconv.Atoi(m[1])
			p.length, _ = strconv.Atoi(m[5])
			if m[7] != "" {
				p.truncated, _ = strconv.Atoi(m[7])
			}
			s := cur()
			if s.count >= 0 {
				t.Fatalf("%s: packet after the count line", where)
			}
			s.packets = append(s.packets, p)
			continue
		}
		m := goldenHexRE.FindStringSubmatch(l)
		if m == nil || len(cur().packets) == 0 {
			t.Fatalf("%s: neither a header, a hex row nor a count: %q", where, l)
		}
		p := &cur().packets[len(cur().packets)-1]
		if off, _ := strconv.ParseUint(m[1], 16, 32); int(off) != len(p.data) {
			t.Fatalf("%s: hex row at offset %s, want %04x", where, m[1], len(p.data))
		}
		row, err := hex.DecodeString(strings.Join(strings.Fields(m[2]), ""))
		if err != nil || len(row) == 0 || len(row) > 16 {
			t.Fatalf("%s: hex row %q: %d bytes, %v", where, m[2], len(row), err)
		}
		ascii := make([]byte, len(row))
		for i, c := range row {
			ascii[i] = '.'
			if c >= 0x20 && c < 0x7f {
				ascii[i] = c
			}
		}
		if m[3] != string(ascii) {
			t.Errorf("%s: ASCII column %q, its bytes read %q", where, m[3], ascii)
		}
		p.data = append(p.data, row...)
	}
	return secs
}

// tcpdumpPackets runs tcpdump -r path -nn -tt -xx with args and returns the
// link type it names and the packets it prints.
func tcpdumpPackets(t *testing.T, bin, path string, args ...string) (string, []tcpdumpPacket) {
	t.Helper()
	out, header := tcpdumpRead(t, bin, path, args...)
	m := regexp.MustCompile(`link-type ([^ ,]+)`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("tcpdump -r %s %s: %s", filepath.Base(path), strings.Join(args, " "), header)
	}
	return m[1], parseTcpdumpHex(t, out)
}

// tsharkFrame is a frame as tshark reads it.
type tsharkFrame struct {
	ts             string // seconds.microseconds
	length, caplen int
	iface          string
	firstProto     string // the first of frame.protocols: eth, raw, ...
}

// tsharkRead returns every frame of path with tshark's reading of its time,
// lengths, interface and outermost protocol.
func tsharkRead(t *testing.T, bin, path string) []tsharkFrame {
	t.Helper()
	cmd := exec.Command(bin, "-r", path, "-T", "fields", "-E", "separator=/t",
		"-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.interface_id", "-e", "frame.protocols")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v: %s", filepath.Base(path), err, stderr.String())
	}
	var frames []tsharkFrame
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 5 {
			t.Fatalf("tshark line %q: %d fields", l, len(f))
		}
		sec, frac, _ := strings.Cut(f[0], ".")
		frac = (frac + "000000")[:6] // tshark prints nanoseconds
		var fr tsharkFrame
		fr.ts = sec + "." + frac
		fr.length, _ = strconv.Atoi(f[1])
		fr.caplen, _ = strconv.Atoi(f[2])
		fr.iface = f[3]
		fr.firstProto, _, _ = strings.Cut(f[4], ":")
		frames = append(frames, fr)
	}
	return frames
}

// dltNames are the libpcap names (as tcpdump prints them) of the link types
// in the golden files, by pkttap's name, and tshark's name of the outermost
// protocol of a packet with that link type; written out by hand.
var dltNames = map[string]struct{ dlt, proto string }{
	"Ethernet":        {"EN10MB", "eth"},
	"RawIp":           {"RAW", "raw"},
	"LinuxSll":        {"LINUX_SLL", "sll"},
	"LinuxSll2":       {"LINUX_SLL2", "sll"},
	"Null":            {"NULL", "null"},
	"Loop":            {"LOOP", "null"},
	"Ieee802_11Radio": {"IEEE802_11_RADIO", "radiotap"},
	"Unknown(147)":    {"147", "user_dlt"},
}

// TestGoldensAgainstTcpdump checks every golden file against tcpdump and
// tshark reading the same input: the same packets (tcpdump given the same
// filter and -c), each with tcpdump's timestamp and bytes (cut to the
// snap length where the golden says "[truncated to N]"), tshark's on-wire
// length, link type (tcpdump's for the file, tshark's outermost protocol
// per packet) and interface; and the count line equal to the number of
// packets tcpdump prints.
func TestGoldensAgainstTcpdump(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	tshark := testenv.LookPath(t, "tshark", "tshark")
	pcapng := testFile(t, "t.pcapng")
	tests := []struct {
		golden  string
		files   []string
		snaplen int      // -s, or 0
		tcpdump []string // -c and the filter
	}{
		{"default.golden", []string{testFile(t, "t.pcap")}, 0, nil},
		{"default.golden", []string{pcapng}, 0, nil},
		{"snaplen40.golden", []string{pcapng}, 40, nil},
		{"count2.golden", []string{pcapng}, 0, []string{"-c", "2"}},
		{"quiet.golden", []string{pcapng}, 0, nil},
		{"filter-tcp80.golden", []string{pcapng}, 0, []string{"tcp and port 80"}},
		{"udp-c1-s20.golden", []string{pcapng}, 20, []string{"-c", "1", "udp"}},
		{"none.golden", []string{pcapng}, 0, []string{"icmp"}},
		{"linktypes.golden", linkTypeFiles(t), 0, nil},
	}
	read := map[string][]tsharkFrame{} // tshark takes a second or more a file
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			secs := parseGolden(t, tt.golden)
			quiet := len(secs) == 1 && secs[0].linkTypes == nil
			if !quiet && len(secs) != len(tt.files) {
				t.Fatalf("%d sections for %d input files", len(secs), len(tt.files))
			}
			for i, path := range tt.files {
				if quiet && i > 0 {
					break
				}
				if read[path] == nil {
					read[path] = tsharkRead(t, tshark, path)
				}
				checkGoldenSection(t, tcpdump, read[path], path, secs[i], quiet, tt.snaplen, tt.tcpdump)
			}
		})
	}
}

// checkGoldenSection checks one file's section of a golden file against
// tcpdump's reading of the file (with args) and tshark's (frames).
func checkGoldenSection(t *testing.T, tcpdump string, frames []tsharkFrame, path string, sec goldenSection, quiet bool, snaplen int, args []string) {
	t.Helper()
	byTS := make(map[string]tsharkFrame, len(frames))
	for _, f := range frames {
		byTS[f.ts] = f
	}
	var dlt string
	var pkts []tcpdumpPacket
	if len(sec.linkTypes) > 1 {
		// libpcap refuses a pcapng file whose interfaces have different
		// link types after the first: tshark alone reads it.
		for _, f := range frames {
			pkts = append(pkts, tcpdumpPacket{ts: f.ts})
		}
	} else {
		dlt, pkts = tcpdumpPackets(t, tcpdump, path, args...)
	}
	if sec.count != len(pkts) {
		t.Errorf("%s: count line says %d packets, tcpdump prints %d", filepath.Base(path), sec.count, len(pkts))
	}
	if quiet {
		if len(sec.packets) != 0 {
			t.Errorf("quiet output lists %d packets", len(sec.packets))
		}
		return
	}
	if len(sec.linkTypes) == 1 {
		if want := dltNames[strings.TrimSpace(sec.linkTypes[0])]; want.dlt != dlt {
			t.Errorf("link type: %s, tcpdump reads %s (want the name of %q)", sec.linkTypes[0], dlt, want.dlt)
		}
	}
	if len(sec.packets) != len(pkts) {
		t.Fatalf("%d packets, tcpdump prints %d", len(sec.packets), len(pkts))
	}
	for i, g := range sec.packets {
		p := pkts[i]
		where := fmt.Sprintf("%s packet [%d]", filepath.Base(path), g.no)
		if g.no != i+1 {
			t.Errorf("%s: numbered %d, want %d", where, g.no, i+1)
		}
		if g.ts != p.ts {
			t.Errorf("%s: timestamp %s, tcpdump reads %s", where, g.ts, p.ts)
		}
		f, ok := byTS[p.ts]
		if !ok {
			t.Errorf("%s: tshark reads no frame at %s", where, p.ts)
			continue
		}
		if g.length != f.length {
			t.Errorf("%s: %d bytes on the wire, tshark reads %d", where, g.length, f.length)
		}
		if want := dltNames[g.linkType].proto; want == "" || f.firstProto != want {
			t.Errorf("%s: link type %s, tshark's outermost protocol %q (want %q)", where, g.linkType, f.firstProto, want)
		}
		if p.data == nil { // from tshark alone: its captured length
			if len(g.data) != f.caplen {
				t.Errorf("%s: %d bytes shown, tshark reads %d captured", where, len(g.data), f.caplen)
			}
			continue
		}
		want := p.data
		if snaplen > 0 && len(want) > snaplen {
			want = want[:snaplen]
			if g.truncated != snaplen {
				t.Errorf("%s: header says truncated to %d, want %d", where, g.truncated, snaplen)
			}
		} else if g.truncated != 0 {
			t.Errorf("%s: header says truncated to %d, the packet has %d bytes", where, g.truncated, len(p.data))
		}
		if !bytes.Equal(g.data, want) {
			t.Errorf("%s: bytes differ from tcpdump's:\ngolden  %x\ntcpdump %x", where, g.data, want)
		}
	}
}
