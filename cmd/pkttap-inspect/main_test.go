package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"flag"
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

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/internal/hexdump"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/streams"
	"golang.org/x/net/bpf"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// runCLI runs pkttap-inspect's run function with args.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var headerRE = regexp.MustCompile(`^\[ *(\d+)\] (\d+)\.(\d{6}) (\S+) (\d+) bytes( \[truncated to (\d+)\])?$`)

func TestDefaultOutput(t *testing.T) {
	pkts := testPackets()
	for _, name := range []string{"t.pcap", "t.pcapng"} {
		out, errOut, code := runCLI(t, testFile(t, name))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		golden(t, "default.golden", out)
		// The same, checked piece by piece against the packets.
		var want strings.Builder
		want.WriteString("link type: Ethernet\n")
		for i, p := range pkts {
			fmt.Fprintf(&want, "[%4d] %d.%06d Ethernet %d bytes\n", i+1, p.Timestamp.Unix(), p.Timestamp.Nanosecond()/1000, p.Length)
			want.WriteString(hexdump.Format(p.Data))
		}
		fmt.Fprintf(&want, "%d packets captured\n", len(pkts))
		if out != want.String() {
			t.Errorf("%s: output:\n%s\nwant:\n%s", name, out, want.String())
		}
	}
}

func TestSnaplenCountQuietFilter(t *testing.T) {
	path := testFile(t, "t.pcapng")
	tests := []struct {
		name string
		args []string
		want string // golden file
	}{
		{"snaplen", []string{"-s", "40", path}, "snaplen40.golden"},
		{"count", []string{"-c", "2", path}, "count2.golden"},
		{"quiet", []string{"-q", path}, "quiet.golden"},
		{"filter", []string{path, "tcp", "and", "port", "80"}, "filter-tcp80.golden"},
		{"flags after", []string{path, "udp", "-c", "1", "-s", "20"}, "udp-c1-s20.golden"},
		{"filter matches none", []string{"-q", path, "icmp"}, "none.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tt.want, out)
		})
	}
	// Structure, independently of the golden files.
	out, _, _ := runCLI(t, "-s", "40", path)
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if m := headerRE.FindStringSubmatch(line); m != nil {
			n++
			if m[7] != "40" {
				t.Errorf("header %q: want [truncated to 40]", line)
			}
		}
	}
	if n != len(testPackets()) || !strings.HasSuffix(out, fmt.Sprintf("\n%d packets captured\n", n)) {
		t.Errorf("-s 40: %d headers; output ends %q", n, out[max(0, len(out)-40):])
	}
	if out, _, _ := runCLI(t, "-q", path, "tcp"); out != "3 packets captured\n" {
		t.Errorf("-q tcp: %q, want \"3 packets captured\\n\"", out)
	}
	if out, _, _ := runCLI(t, "-c", "2", path); !strings.HasPrefix(out, "link type: Ethernet\n") || strings.Count(out, "\n[") != 2 || !strings.HasSuffix(out, "\n2 packets captured\n") {
		t.Errorf("-c 2: output %q", out)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{[]string{"-h"}, 0, "usage: pkttap-inspect", ""},
		{[]string{"--help"}, 0, "--list-interfaces", ""},
		{nil, 2, "", "name a capture file or an interface"},
		{[]string{"-x"}, 2, "", "flag provided but not defined: -x"},
		{[]string{"-c", "-3", "f"}, 2, "", "count"},
		{[]string{"-y", "EN10MB", "f"}, 2, "", "-y"},
		{[]string{"-ddd", "-y", "NOSUCH", "ip"}, 2, "", "unknown link type"},
		{[]string{"-ddd", "-y", "EN10MB", "tcp port"}, 1, "", "column"},
	}
	for _, tt := range tests {
		out, errOut, code := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", tt.args, code, out, errOut, tt.code, tt.out, tt.err)
		}
	}
}

func TestWriteReadByTcpdump(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	pkts := testPackets()
	in := testFile(t, "in.pcapng")
	for _, name := range []string{"out.pcap", "out.pcapng"} {
		out := filepath.Join(t.TempDir(), name)
		stdout, errOut, code := runCLI(t, "-w", out, in)
		if code != 0 || stdout != fmt.Sprintf("%d packets captured\n", len(pkts)) {
			t.Fatalf("-w %s: exit %d, stdout %q, stderr %q", name, code, stdout, errOut)
		}
		dump, err := exec.Command(tcpdump, "-r", out, "-n", "-tt", "-xx").Output()
		if err != nil {
			t.Fatalf("tcpdump -r %s: %v", name, err)
		}
		got := parseTcpdumpHex(t, string(dump))
		if len(got) != len(pkts) {
			t.Fatalf("tcpdump read %d packets from %s, want %d", len(got), name, len(pkts))
		}
		for i, p := range pkts {
			wantTS := fmt.Sprintf("%d.%06d", p.Timestamp.Unix(), p.Timestamp.Nanosecond()/1000)
			if got[i].ts != wantTS || !bytes.Equal(got[i].data, p.Data) {
				t.Errorf("%s packet %d: tcpdump sees %s % x, want %s % x", name, i, got[i].ts, got[i].data, wantTS, p.Data)
			}
		}
	}
	// -w with a filter and -c writes only what it would print.
	out := filepath.Join(t.TempDir(), "tcp.pcap")
	if _, errOut, code := runCLI(t, "-c", "2", "-w", out, in, "tcp"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	dump, err := exec.Command(tcpdump, "-r", out, "-n", "-tt", "-xx").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := parseTcpdumpHex(t, string(dump)); len(got) != 2 || !bytes.Equal(got[0].data, pkts[1].Data) || !bytes.Equal(got[1].data, pkts[2].Data) {
		t.Errorf("-c 2 -w tcp: tcpdump read %d packets, want packets 2 and 3", len(got))
	}
}

type tcpdumpPacket struct {
	ts   string
	data []byte
}

// parseTcpdumpHex parses tcpdump -tt -xx output into timestamps and bytes
// (for a link type it does not know, tcpdump prints the bytes twice, first
// with an ASCII column after two spaces: the second dump is kept).
func parseTcpdumpHex(t *testing.T, out string) []tcpdumpPacket {
	t.Helper()
	var pkts []tcpdumpPacket
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "\t0x") {
			_, hexPart, _ := strings.Cut(line, ":")
			hexPart, _, _ = strings.Cut(strings.TrimLeft(hexPart, " "), "  ")
			if strings.HasPrefix(line, "\t0x0000:") && len(pkts) > 0 {
				pkts[len(pkts)-1].data = nil
			}
			b, err := hex.DecodeString(strings.Join(strings.Fields(hexPart), ""))
			if err != nil || len(pkts) == 0 {
				t.Fatalf("cannot parse tcpdump line %q", line)
			}
			pkts[len(pkts)-1].data = append(pkts[len(pkts)-1].data, b...)
		} else if ts, _, ok := strings.Cut(line, " "); ok && line != "" {
			pkts = append(pkts, tcpdumpPacket{ts: ts})
		}
	}
	return pkts
}

// dumpExprs are compiled with -d, -dd and -ddd and compared with tcpdump.
var dumpExprs = []string{
	"",
	"ip",
	"tcp port 80",
	"udp and not port 53",
	"host 198.18.0.1 and (tcp or icmp)",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
	"ether broadcast or arp",
	"ip6 and udp",
	"vlan 100 and ip",
	"greater 100",
	"net 198.18.0.0/15",
	"portrange 1000-2000",
	"icmp[icmptype] = icmp-echo",
	"udp[8:2] = 0x1a2b or tcp[13] & 7 != 0",
	"ether host 02:00:00:00:00:0a and not ip6",
	"len > 100 and len < 1500",
	"tcp and udp",
}

// dumpLinkTypes are the link types -y is tested with.
var dumpLinkTypes = []string{"EN10MB", "RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP"}

// TestProgramDumpUnoptimizedEqualsTcpdump: pkttap's code generator shapes
// its unoptimized programs as libpcap's, so -O -d/-dd/-ddd must print, byte
// for byte, what tcpdump -O prints; this pins the three formats.
func TestProgramDumpUnoptimizedEqualsTcpdump(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	for _, lt := range dumpLinkTypes {
		for _, expr := range dumpExprs {
			for _, level := range []string{"-d", "-dd", "-ddd"} {
				args := []string{"-O", level, "-y", lt, expr}
				want, werr := exec.Command(tcpdump, args...).Output()
				got, errOut, code := runCLI(t, args...)
				if werr != nil {
					if code == 0 {
						t.Errorf("%q: tcpdump rejects it (%v), pkttap-inspect prints\n%s", args, werr, got)
					}
					continue
				}
				if code != 0 || got != string(want) {
					t.Errorf("%q: exit %d %s\n--- pkttap-inspect\n%s--- tcpdump\n%s", args, code, errOut, got, want)
				}
			}
		}
	}
	// With -s the program returns that snap length, as tcpdump's does.
	args := []string{"-O", "-ddd", "-s", "96", "-y", "EN10MB", "tcp"}
	want, err := exec.Command(tcpdump, args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := runCLI(t, args...); got != string(want) {
		t.Errorf("%q: %q, tcpdump %q", args, got, want)
	}
}

var (
	dLineRE  = regexp.MustCompile(`^\((\d{3})\) [a-z]+`)
	ddLineRE = regexp.MustCompile(`^\{ 0x([0-9a-f]+), (\d+), (\d+), 0x([0-9a-f]{8}) \},$`)
)

// TestProgramDumpOptimized: pkttap's optimizer is its own, so its programs
// may differ from libpcap's. Here the three levels must print one program
// consistently in tcpdump's formats, that program must give the verdicts of
// tcpdump's on the test packets, and what tcpdump rejects is rejected.
func TestProgramDumpOptimized(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	for _, lt := range dumpLinkTypes {
		for _, expr := range dumpExprs {
			want, werr := exec.Command(tcpdump, "-ddd", "-y", lt, expr).Output()
			out := map[string]string{}
			for _, level := range []string{"-d", "-dd", "-ddd"} {
				got, errOut, code := runCLI(t, level, "-y", lt, expr)
				if (code == 0) != (werr == nil) {
					t.Errorf("%s -y %s %q: exit %d (%s), tcpdump: %v", level, lt, expr, code, errOut, werr)
				}
				out[level] = got
			}
			if werr != nil || t.Failed() {
				continue
			}
			prog := parseDDD(t, out["-ddd"])
			var dd []bpf.RawInstruction
			for _, line := range strings.Split(strings.TrimSpace(out["-dd"]), "\n") {
				m := ddLineRE.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("-dd -y %s %q: line %q is not in tcpdump's format", lt, expr, line)
				}
				op, _ := strconv.ParseUint(m[1], 16, 16)
				jt, _ := strconv.ParseUint(m[2], 10, 8)
				jf, _ := strconv.ParseUint(m[3], 10, 8)
				k, _ := strconv.ParseUint(m[4], 16, 32)
				dd = append(dd, bpf.RawInstruction{Op: uint16(op), Jt: uint8(jt), Jf: uint8(jf), K: uint32(k)})
			}
			if !slices.Equal(dd, prog) {
				t.Errorf("-y %s %q: -dd and -ddd print different programs:\n%s\n%s", lt, expr, out["-dd"], out["-ddd"])
			}
			dLines := strings.Split(strings.TrimSpace(out["-d"]), "\n")
			for i, line := range dLines {
				if m := dLineRE.FindStringSubmatch(line); m == nil || m[1] != fmt.Sprintf("%03d", i) {
					t.Errorf("-d -y %s %q: line %q is not instruction %03d in tcpdump's format", lt, expr, line, i)
				}
			}
			if len(dLines) != len(prog) {
				t.Errorf("-y %s %q: -d prints %d instructions, -ddd %d", lt, expr, len(dLines), len(prog))
			}
			sameVerdicts(t, lt, expr, prog, parseDDD(t, string(want)))
		}
	}
}

// parseDDD parses tcpdump -ddd output: a count line, then one instruction
// a line as four decimal numbers.
func parseDDD(t *testing.T, s string) []bpf.RawInstruction {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(s), "\n")
	n, err := strconv.Atoi(lines[0])
	if err != nil || n != len(lines)-1 {
		t.Fatalf("-ddd output %q: the first line is not the instruction count", s)
	}
	prog := make([]bpf.RawInstruction, n)
	for i, line := range lines[1:] {
		var op, jt, jf, k uint64
		if _, err := fmt.Sscanf(line, "%d %d %d %d", &op, &jt, &jf, &k); err != nil {
			t.Fatalf("-ddd line %q: %v", line, err)
		}
		prog[i] = bpf.RawInstruction{Op: uint16(op), Jt: uint8(jt), Jf: uint8(jf), K: uint32(k)}
	}
	return prog
}

// sameVerdicts runs pkttap's and tcpdump's programs for link type lt on the
// test packets (Ethernet, or their IP part for RAW), whole and cut short.
func sameVerdicts(t *testing.T, lt, expr string, ours, theirs []bpf.RawInstruction) {
	t.Helper()
	if lt != "EN10MB" && lt != "RAW" {
		return
	}
	a, err := vm.New(ours)
	if err != nil {
		t.Fatalf("-y %s %q: pkttap's program: %v", lt, expr, err)
	}
	b, err := vm.New(theirs)
	if err != nil {
		t.Fatalf("-y %s %q: tcpdump's program: %v", lt, expr, err)
	}
	for i, p := range testPackets() {
		data := p.Data
		if lt == "RAW" {
			if binary.BigEndian.Uint16(data[12:]) != testpkt.EtherTypeIPv4 {
				continue
			}
			data = data[14:]
		}
		for _, n := range []int{len(data), min(len(data), 40)} {
			if x, y := a.Run(data[:n], len(data)), b.Run(data[:n], len(data)); x != y {
				t.Errorf("-y %s %q: packet %d (%d bytes captured): pkttap's program returns %d, tcpdump's %d", lt, expr, i+1, n, x, y)
			}
		}
	}
}

// TestProgramDumpFileLinkType checks that -d compiles for a file named as
// the first argument as tcpdump -d -r does: its link type, its byte order
// (NULL's family word, ip6 on NULL), its snap length.
func TestProgramDumpFileLinkType(t *testing.T) {
	path := testFile(t, "t.pcap")
	a, _, code := runCLI(t, "-ddd", path, "tcp")
	b, _, _ := runCLI(t, "-ddd", "-y", "EN10MB", "tcp")
	if code != 0 || a != b {
		t.Errorf("-ddd FILE tcp = %q, want the EN10MB program %q", a, b)
	}
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	corpus := filepath.Join(testenv.SharedDir(t), "corpus")
	for _, lt := range []string{"NULL", "LOOP", "EN10MB", "LINUX_SLL", "RAW"} {
		file := corpusFile(t, corpus, lt)
		for _, expr := range []string{"ip6", "tcp port 80", "ip and not udp"} {
			args := []string{"-O", "-ddd", "-r", file, expr}
			want, werr := exec.Command(tcpdump, args...).Output()
			got, errOut, code := runCLI(t, args...)
			if werr != nil {
				if code == 0 {
					t.Errorf("%q: tcpdump rejects it (%v), pkttap-inspect prints %s", args, werr, got)
				}
				continue
			}
			if got != string(want) {
				t.Errorf("%q: exit %d %s\n--- pkttap-inspect\n%s--- tcpdump\n%s", args, code, errOut, got, want)
			}
		}
	}
}

// corpusFile returns the first capture of link type lt in the shared
// corpus's MANIFEST.tsv.
func corpusFile(t *testing.T, dir, lt string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Split(line, "\t"); len(f) > 1 && f[1] == lt {
			return filepath.Join(dir, f[0])
		}
	}
	t.Fatalf("no %s capture in %s/MANIFEST.tsv", lt, dir)
	return ""
}

func TestSummaryLines(t *testing.T) {
	pkts := testPackets()
	out, errOut, code := runCLI(t, "-S", testFile(t, "t.pcapng"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Not a golden file: the columns' text is package dissect's, checked
	// there against tshark; here, that each line is laid out from it.
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(pkts)+1 {
		t.Fatalf("%d lines, want one per packet and the count:\n%s", len(lines), out)
	}
	tr := streams.New() // -S shows tshark's stream analysis
	for i, p := range pkts {
		si := tr.Add(p.LinkType, p.Data, p.Length, p.Timestamp)
		s := dissect.Options{Stream: &si}.Summarize(p.LinkType, p.Data, p.Length)
		rel := p.Timestamp.Sub(pkts[0].Timestamp).Seconds()
		want := fmt.Sprintf("%5d %11.6f %s → %s %s %d %s", i+1, rel, orDash(s.Source), orDash(s.Destination), orDash(s.Protocol), p.Length, s.Info)
		if lines[i] != want {
			t.Errorf("line %d = %q, want %q", i, lines[i], want)
		}
	}
	if lines[len(pkts)] != fmt.Sprintf("%d packets captured", len(pkts)) {
		t.Errorf("last line %q", lines[len(pkts)])
	}
}

func TestTreeAboveHex(t *testing.T) {
	pkts := testPackets()
	out, errOut, code := runCLI(t, "-V", testFile(t, "t.pcap"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var want strings.Builder
	want.WriteString("link type: Ethernet\n")
	tr := streams.New()
	for i, p := range pkts {
		si := tr.Add(p.LinkType, p.Data, p.Length, p.Timestamp)
		want.WriteString(string(appendHeader(nil, i+1, &p)))
		var walk func(n *dissect.Node, depth int)
		walk = func(n *dissect.Node, depth int) {
			fmt.Fprintf(&want, "%s%s (offset %d, length %d)\n", strings.Repeat("    ", depth), n.Label, n.Offset, n.Length)
			for _, c := range n.Children {
				walk(c, depth+1)
			}
		}
		tree := dissect.Options{Stream: &si}.Dissect(p.LinkType, p.Data, p.Length)
		if len(tree.Layers) == 0 {
			t.Errorf("packet %d: dissect found no layers", i)
		}
		for _, l := range tree.Layers {
			walk(l, 0)
		}
		want.WriteString(hexdump.Format(p.Data))
	}
	fmt.Fprintf(&want, "%d packets captured\n", len(pkts))
	if out != want.String() {
		t.Errorf("-V output:\n%s\nwant:\n%s", out, want.String())
	}
}

// TestWriteMixedLinkTypes copies a pcapng file whose interfaces have
// different link types: to pcapng every interface is kept; pcap, which has
// one link type, is refused with advice.
func TestWriteMixedLinkTypes(t *testing.T) {
	ifs := []pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet, Name: "eth0"}, {LinkType: pcapio.LinkTypeRaw, Name: "tun0"}}
	var pkts []pcapio.Packet
	for i, p := range testPackets()[:5] {
		pkts = append(pkts, p)
		raw := p
		raw.Data, raw.Length, raw.LinkType, raw.InterfaceIndex = p.Data[14:], p.Length-14, pcapio.LinkTypeRaw, 1
		raw.Timestamp = p.Timestamp.Add(time.Duration(i+1) * time.Microsecond)
		pkts = append(pkts, raw)
	}
	in := writeFileWithInterfaces(t, "mixed.pcapng", ifs, pkts)
	dir := t.TempDir()

	out := filepath.Join(dir, "copy.pcapng")
	if _, errOut, code := runCLI(t, "-w", out, in); code != 0 {
		t.Fatalf("-w copy.pcapng: exit %d: %s", code, errOut)
	}
	got := readFile(t, out)
	if len(got) != len(pkts) {
		t.Fatalf("copy holds %d packets, want %d", len(got), len(pkts))
	}
	for i := range pkts {
		if got[i].LinkType != pkts[i].LinkType || got[i].InterfaceIndex != pkts[i].InterfaceIndex || !bytes.Equal(got[i].Data, pkts[i].Data) {
			t.Errorf("packet %d copied as %s on interface %d, want %s on %d", i, got[i].LinkType, got[i].InterfaceIndex, pkts[i].LinkType, pkts[i].InterfaceIndex)
		}
	}

	_, errOut, code := runCLI(t, "-w", filepath.Join(dir, "copy.pcap"), in)
	if code != 1 || !strings.Contains(errOut, "pcapng") {
		t.Errorf("-w copy.pcap of a mixed file: exit %d, %q; want an error advising pcapng", code, errOut)
	}
}

func TestMissingFileIsNotAnInterface(t *testing.T) {
	for _, name := range []string{filepath.Join(t.TempDir(), "none"), "missing.pcapng", "Trace.PCAP"} {
		_, errOut, code := runCLI(t, name)
		if code != 1 || !strings.Contains(errOut, "no such file") {
			t.Errorf("pkttap-inspect %s: exit %d, %q; want a missing-file error", name, code, errOut)
		}
	}
}
