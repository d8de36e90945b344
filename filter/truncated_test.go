package filter

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// truncatedExprs are expressions whose libpcap programs drop a load the
// unoptimized program makes: its value is masked away ("and #0" of a /0
// mask), so libpcap's optimizer folds the test and the load goes, and a
// packet too short for the load still matches. pkttap must give the same
// verdicts on packets cut short, where keeping the load would reject them.
var truncatedExprs = []string{
	"net 0.0.0.0/0",
	"src net 0.0.0.0/0",
	"dst net 0.0.0.0/0",
	"ip net 0.0.0.0/0",
	"arp net 0.0.0.0/0",
	"ip6 net ::/0",
	"net 0.0.0.0/0 or port 53",
}

// truncatedPerCapture and truncatedMaxLen bound the packets cut from each
// corpus capture: its first packets, cut at every length up to the limit.
const (
	truncatedPerCapture = 20
	truncatedMaxLen     = 80
)

// TestTruncatedPacketsAgainstLibpcap cuts the first packets of every shared
// capture of the six main link types at every length up to 80 bytes (the
// wire length kept), writes them to one capture per link type, and compares
// pkttap's verdicts on it for truncatedExprs with libpcap's (the shared
// pcapmatch: pcap_compile with the optimizer, then bpf_filter).
func TestTruncatedPacketsAgainstLibpcap(t *testing.T) {
	shared := testenv.SharedDir(t)
	bin := buildPcapmatch(t, shared)
	files := loadCorpus(t)
	dir := t.TempDir()
	exprFile := filepath.Join(dir, "exprs.txt")
	if err := os.WriteFile(exprFile, []byte(strings.Join(truncatedExprs, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"EN10MB", "RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP"} {
		lt := testedLinkTypes[name]
		cut := truncatedCorpus(files, lt)
		if len(cut.packets) == 0 {
			continue
		}
		path := filepath.Join(dir, name+".pcap")
		writeCapture(t, path, lt, cut.packets)
		out, err := exec.Command(bin, path, exprFile).Output()
		if err != nil {
			t.Fatalf("pcapmatch %s: %v", name, err)
		}
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			f := strings.Split(line, "\t")
			if len(f) < 3 || (f[1] != "ERROR" && len(f) < 5) {
				t.Fatalf("%s: pcapmatch: %q", name, line)
			}
			expr := f[0]
			p, err := Compile(expr, Options{LinkType: lt, SavefileByteOrder: binary.LittleEndian})
			if f[1] == "ERROR" {
				if err == nil {
					t.Errorf("%s %q: libpcap rejects it (%s), pkttap compiles it", name, expr, f[2])
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %q: libpcap compiles it, pkttap: %v", name, expr, err)
				continue
			}
			got := runVerdict(cut, p.Matcher().Run)
			want := strings.Join([]string{f[1], f[2], f[4]}, " ")
			if have := strings.Join([]string{strconv.Itoa(got.count), got.hash, got.retvals}, " "); have != want {
				t.Errorf("%s %q over %d cut packets: pkttap count hash retvals = %s, libpcap %s\nprogram:\n%s", name, expr, len(cut.packets), have, want, p)
			}
		}
	}
}

// truncatedCorpus returns the first packets of every little-endian corpus
// capture of link type lt, cut at every length up to truncatedMaxLen, each
// distinct cut once.
func truncatedCorpus(files map[string]*corpusFile, lt pcapio.LinkType) *corpusFile {
	cut := &corpusFile{name: "truncated", linkType: lt, byteOrder: binary.LittleEndian}
	seen := map[string]bool{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		cf := files[name]
		if cf.linkType != lt || cf.byteOrder != binary.LittleEndian {
			continue
		}
		for _, p := range cf.packets[:min(len(cf.packets), truncatedPerCapture)] {
			for n := 0; n <= min(len(p.data), truncatedMaxLen); n++ {
				key := string(p.data[:n])
				if seen[key] {
					continue
				}
				seen[key] = true
				cut.packets = append(cut.packets, corpusPacket{data: p.data[:n], wireLen: max(p.wireLen, n)})
			}
		}
	}
	return cut
}

// writeCapture writes packets as a little-endian pcap file.
func writeCapture(t *testing.T, path string, lt pcapio.LinkType, packets []corpusPacket) {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapio.NewWriter(&buf, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: lt})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packets {
		if err := w.WritePacket(&pcapio.Packet{Data: p.data, Length: p.wireLen, LinkType: lt}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
