package pcapio

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/testenv"
)

// manifest reads a tab-separated MANIFEST with a header line and returns
// its rows as maps from column name to value.
func manifest(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		testenv.Missing(t, "corpus", err.Error())
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cols []string
	var rows []map[string]string
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = fields
			continue
		}
		row := map[string]string{}
		for i, c := range cols {
			if i < len(fields) {
				row[c] = fields[i]
			}
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// ourRecord is what pcapio read of one packet, plus its section.
type ourRecord struct {
	Packet
	section int
}

// readFile reads every packet of path with NextZeroCopy (copying), and
// every interface of every section, stopping at the first error.
func readFile(t *testing.T, path string) ([]ourRecord, []Interface, error) {
	recs, ifaces, _, err := readFileInfo(t, path)
	return recs, ifaces, err
}

// readFileInfo is readFile that also returns the first section's header.
func readFileInfo(t *testing.T, path string) ([]ourRecord, []Interface, SectionInfo, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		return nil, nil, SectionInfo{}, err
	}
	info := r.SectionInfo()
	var all []Interface
	r.onSection = func() { all = append(all, r.Interfaces()...) }
	var recs []ourRecord
	for {
		p, err := r.NextZeroCopy()
		if err != nil {
			all = append(all, r.Interfaces()...)
			if err == io.EOF {
				err = nil
			}
			return recs, all, info, err
		}
		p.Data = bytes.Clone(p.Data)
		recs = append(recs, ourRecord{p, r.Section()})
	}
}

// compareWithTshark checks our records against tshark's, custom-block
// records excluded.
func compareWithTshark(t *testing.T, ours []ourRecord, frames []tsFrame) {
	t.Helper()
	var theirs []tsFrame
	for _, f := range frames {
		if !f.custom {
			theirs = append(theirs, f)
		}
	}
	if len(ours) != len(theirs) {
		t.Fatalf("pcapio read %d packets, tshark %d", len(ours), len(theirs))
	}
	for i, o := range ours {
		f := theirs[i]
		if f.md5 != "" {
			if sum := md5.Sum(o.Data); hex.EncodeToString(sum[:]) != f.md5 {
				t.Fatalf("packet %d: MD5 of the bytes differs from tshark's", i+1)
			}
		} else if !f.noRaw && !bytes.Equal(o.Data, f.raw) {
			t.Fatalf("packet %d: bytes differ from tshark's (%d vs %d bytes)", i+1, len(o.Data), len(f.raw))
		}
		if o.Length != f.length || len(o.Data) != f.caplen {
			t.Fatalf("packet %d: len %d caplen %d, tshark %d %d", i+1, o.Length, len(o.Data), f.length, f.caplen)
		}
		want := f.epoch
		got := ""
		if !o.Timestamp.IsZero() {
			got = epoch(o.Timestamp)
		}
		if got != want {
			t.Fatalf("packet %d: time %q, tshark %q", i+1, got, want)
		}
		if f.ifid >= 0 && o.InterfaceIndex != f.ifid {
			t.Fatalf("packet %d: interface %d, tshark %d", i+1, o.InterfaceIndex, f.ifid)
		}
		if o.section+1 != f.section {
			t.Fatalf("packet %d: section %d, tshark %d", i+1, o.section+1, f.section)
		}
		if f.md5 == "" && o.Comment != f.comment { // the hashes' run does not ask for comments
			t.Fatalf("packet %d: comment %q, tshark %q", i+1, o.Comment, f.comment)
		}
	}
}

// TestCorpusMatchesTshark reads every capture of the shared corpus and
// compares each packet's bytes, lengths and timestamp with tshark's.
func TestCorpusMatchesTshark(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "corpus")
	testenv.LookPath(t, "tshark", "tshark")
	rows := manifest(t, filepath.Join(dir, "MANIFEST.tsv"))
	if len(rows) < 100 {
		t.Fatalf("corpus manifest lists only %d files", len(rows))
	}
	for _, row := range rows {
		name := row["file"]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, name)
			ours, _, err := readFile(t, path)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("after %d packets: %v", len(ours), err)
			}
			want, _ := strconv.Atoi(row["packets"])
			if len(ours) != want {
				t.Errorf("read %d packets, manifest says %d (error: %v)", len(ours), want, err)
			}
			frames, stderr := tsharkHashes(t, path)
			if frames == nil && strings.Contains(stderr, "unknown or unsupported") {
				t.Logf("tshark cannot read this link type; checked the packet count only: %s", strings.TrimSpace(stderr))
				return
			}
			compareWithTshark(t, ours, frames)
		})
	}
}

// wtapEncap maps capinfos' encapsulation names to link types.
var wtapEncap = map[string]LinkType{
	"ether":  LinkTypeEthernet,
	"null":   LinkTypeNull,
	"rawip":  LinkTypeRaw,
	"sll":    LinkTypeLinuxSLL,
	"sll2":   LinkTypeLinuxSLL2,
	"loop":   LinkTypeLoop,
	"rawip4": LinkTypeIPv4,
	"rawip6": LinkTypeIPv6,
}

// TestPcapngSuite reads every file of the pcapng conformance suite (both
// byte orders): the packet count of its MANIFEST, packets identical to
// tshark's (bytes, lengths, timestamps, interface, section, comment), and
// interfaces identical to what capinfos lists (name, description, link
// type, snaplen, resolution, offset, options).
func TestPcapngSuite(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "pcapng-suite")
	testenv.LookPath(t, "tshark", "tshark")
	rows := manifest(t, filepath.Join(dir, "MANIFEST.tsv"))
	if len(rows) < 48 {
		t.Fatalf("suite manifest lists only %d files", len(rows))
	}
	for _, row := range rows {
		name := row["file"]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, name)
			if _, err := os.Stat(strings.TrimSuffix(path, ".pcapng") + ".txt"); err != nil {
				t.Errorf("no description beside the case: %v", err)
			}
			ours, ifaces, info, err := readFileInfo(t, path)
			if err != nil {
				t.Fatalf("after %d packets: %v", len(ours), err)
			}
			if want, _ := strconv.Atoi(row["packets"]); len(ours) != want {
				t.Errorf("read %d packets, manifest says %d", len(ours), want)
			}
			frames, _ := tshark(t, path)
			compareWithTshark(t, ours, frames)
			capIfs, capTop := capinfos(t, path)
			compareWithCapinfos(t, ifaces, capIfs)
			wantInfo := SectionInfo{Hardware: capTop["hardware"], OS: capTop["oper-sys"], Application: capTop["application"], Comment: capTop["comment"]}
			if info != wantInfo {
				t.Errorf("first section %+v, capinfos says %+v", info, wantInfo)
			}
		})
	}
}

func compareWithCapinfos(t *testing.T, ours []Interface, theirs []capIface) {
	t.Helper()
	if len(ours) != len(theirs) {
		t.Fatalf("pcapio saw %d interfaces, capinfos %d", len(ours), len(theirs))
	}
	for i, o := range ours {
		c := theirs[i]
		enc := c["Encapsulation"]
		short := enc[strings.LastIndex(enc, " - ")+3 : len(enc)-1]
		lt, ok := wtapEncap[short]
		if !ok {
			t.Fatalf("interface %d: add capinfos encapsulation %q to wtapEncap", i, enc)
		}
		checks := []struct {
			key  string
			ours string
			def  string // what capinfos omits
		}{
			{"Name", o.Name, ""},
			{"Description", o.Description, ""},
			{"Encapsulation", o.LinkType.String(), lt.String()},
			{"Capture length", strconv.FormatUint(uint64(o.Snaplen), 10), ""},
			{"Time ticks per second", strconv.FormatUint(o.TSResolution.UnitsPerSecond(), 10), ""},
			{"Timestamp offset", strconv.FormatInt(o.TSOffset, 10), "0"},
			{"Filter string", o.Filter, ""},
			{"Operating system", o.OS, ""},
			{"Hardware", o.Hardware, ""},
			{"Comment", o.Comment, ""},
			{"Speed", strconv.FormatUint(o.Speed, 10), "0"},
			{"FCS length", strconv.Itoa(o.FCSLen), "0"},
		}
		for _, ch := range checks {
			want, ok := c[ch.key]
			if ch.key == "Encapsulation" {
				want = lt.String()
			} else if !ok {
				want = ch.def
			}
			if ch.ours != want {
				t.Errorf("interface %d: %s = %q, capinfos says %q", i, ch.key, ch.ours, want)
			}
		}
	}
}

// TestWrittenFilesMatchTools writes captures with pcapio (every format,
// truncated packets, nanosecond timestamps, comments, several interfaces
// with different link types and resolutions) and checks that tshark and
// tcpdump read exactly the bytes, lengths and timestamps written.
func TestWrittenFilesMatchTools(t *testing.T) {
	testenv.LookPath(t, "tshark", "tshark")
	pkts := testPackets(200, 11)
	for i := range pkts {
		// An ethertype tcpdump prints as "Unknown", so its -e line ends in
		// the frame's on-wire length.
		pkts[i].Data[12], pkts[i].Data[13] = 0x88, 0xb5
		if i%7 == 0 {
			pkts[i].Comment = "comment " + strconv.Itoa(i)
		}
	}
	multi := []Interface{
		{LinkType: LinkTypeEthernet, Name: "eth0", TSResolution: TSResolutionNano},
		{LinkType: LinkTypeRaw, Name: "tun0", Description: "a tunnel", TSResolution: TSResolutionMicro},
		{LinkType: LinkTypeLinuxSLL, Name: "any", TSResolution: 0x80 | 20, TSOffset: 3600},
	}
	multiPkts := make([]Packet, len(pkts))
	copy(multiPkts, pkts)
	for i := range multiPkts {
		multiPkts[i].InterfaceIndex = i % 3
	}
	dir := t.TempDir()
	cases := []struct {
		name    string
		format  Format
		ifaces  []Interface
		pkts    []Packet
		tcpdump bool
	}{
		{"pcap", FormatPcap, nil, pkts, true},
		{"pcap-nano", FormatPcapNano, nil, pkts, true},
		{"pcapng", FormatPcapNg, nil, pkts, true},
		{"pcapng-multi", FormatPcapNg, multi, multiPkts, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := os.WriteFile(path, writeFile(t, c.format, c.pkts, c.ifaces), 0o644); err != nil {
				t.Fatal(err)
			}
			// What the file should read as: the written packets, their
			// timestamps cut to each interface's resolution.
			want := make([]ourRecord, len(c.pkts))
			for i, p := range c.pkts {
				res := TSResolutionMicro
				switch {
				case c.format == FormatPcapNano || (c.format == FormatPcapNg && c.ifaces == nil):
					res = TSResolutionNano
				case c.ifaces != nil:
					res = c.ifaces[p.InterfaceIndex].TSResolution
				}
				var off int64
				if c.ifaces != nil {
					off = c.ifaces[p.InterfaceIndex].TSOffset
				}
				conv := newTSConv(res, off)
				u, err := conv.units(p.Timestamp)
				if err != nil {
					t.Fatal(err)
				}
				p.Timestamp = conv.time(u)
				if c.format != FormatPcapNg {
					p.Comment = ""
				}
				want[i] = ourRecord{p, 0}
			}
			frames, stderr := tshark(t, path)
			if strings.Contains(stderr, "appears to") || strings.Contains(stderr, "damaged") {
				t.Errorf("tshark complains: %s", stderr)
			}
			compareWithTshark(t, want, frames)
			if c.tcpdump {
				compareWithTcpdump(t, path, c.format, want)
			}
		})
	}
}

// compareWithTcpdump reads path with `tcpdump -r -tt -nn -e -xx` (at
// nanosecond precision for nanosecond files) and compares timestamps,
// on-wire lengths and bytes.
func compareWithTcpdump(t *testing.T, path string, f Format, want []ourRecord) {
	t.Helper()
	bin := testenv.LookPath(t, "tcpdump", "tcpdump")
	args := []string{"-r", path, "-tt", "-nn", "-e", "-xx"}
	prec := time.Microsecond
	if f != FormatPcap {
		args = append(args, "--time-stamp-precision=nano")
		prec = 1
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("tcpdump %v: %v", args, err)
	}
	pkts := parseTcpdump(t, out)
	if len(pkts) != len(want) {
		t.Fatalf("tcpdump read %d packets, want %d", len(pkts), len(want))
	}
	for i, w := range want {
		p := pkts[i]
		digits := 6
		if prec == 1 {
			digits = 9
		}
		ts := strconv.FormatInt(w.Timestamp.Unix(), 10) + "." + strconv.FormatInt(int64(w.Timestamp.Nanosecond())/int64(prec)+1e9, 10)[10-digits:]
		if p.ts != ts || p.length != w.Length || !bytes.Equal(p.data, w.Data) {
			t.Fatalf("packet %d: tcpdump says %s length %d, %d bytes; want %s length %d, %d bytes (equal: %v)",
				i+1, p.ts, p.length, len(p.data), ts, w.Length, len(w.Data), bytes.Equal(p.data, w.Data))
		}
	}
}
