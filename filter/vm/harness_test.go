package vm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
	"golang.org/x/net/bpf"
)

// This file drives testdata/bpfharness.c, which runs programs with
// libpcap's own interpreter (bpf_filter) so that the tests can compare
// verdicts packet by packet.

// testPacket is a packet's captured bytes and its on-wire length.
type testPacket struct {
	data    []byte
	wireLen int
}

// buildHarness compiles testdata/bpfharness.c with cc -O2 -lpcap into a
// temporary directory, or skips (fails under PKTTAP_REQUIRE) when cc or
// libpcap's headers are missing.
func buildHarness(t testing.TB) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("testdata", "bpfharness.c"))
	if err != nil {
		t.Fatal(err)
	}
	return testenv.BuildWithLibpcap(t, src)
}

// encodePrograms writes programs in the harness's PROGRAMS format.
func encodePrograms(progs [][]bpf.RawInstruction) []byte {
	var b bytes.Buffer
	for _, p := range progs {
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(p))))
		for _, ri := range p {
			b.Write(binary.LittleEndian.AppendUint16(nil, ri.Op))
			b.WriteByte(ri.Jt)
			b.WriteByte(ri.Jf)
			b.Write(binary.LittleEndian.AppendUint32(nil, ri.K))
		}
	}
	return b.Bytes()
}

// encodePackets writes packets in the harness's PACKETS format.
func encodePackets(pkts []testPacket) []byte {
	var b bytes.Buffer
	for _, p := range pkts {
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(p.data))))
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(p.wireLen)))
		b.Write(p.data)
	}
	return b.Bytes()
}

// writeInputs stores programs and packets in dir for the harness.
func writeInputs(t testing.TB, dir string, progs [][]bpf.RawInstruction, pkts []testPacket) (progPath, pktPath string) {
	t.Helper()
	progPath = filepath.Join(dir, "programs.bin")
	pktPath = filepath.Join(dir, "packets.bin")
	if err := os.WriteFile(progPath, encodePrograms(progs), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pktPath, encodePackets(pkts), 0o644); err != nil {
		t.Fatal(err)
	}
	return progPath, pktPath
}

// libpcapRun runs every program over every packet with libpcap. valid[i]
// says whether bpf_validate accepted program i; results[i][j] is
// bpf_filter's return value for packet j (nil when not valid).
func libpcapRun(t testing.TB, bin string, progs [][]bpf.RawInstruction, pkts []testPacket) (valid []bool, results [][]uint32) {
	t.Helper()
	progPath, pktPath := writeInputs(t, t.TempDir(), progs, pkts)
	cmd := exec.Command(bin, "run", progPath, pktPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("libpcap harness: %v\n%s", err, stderr.Bytes())
	}
	r := bytes.NewReader(out)
	next := func() uint32 {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			t.Fatalf("libpcap harness output: %v", err)
		}
		return binary.LittleEndian.Uint32(b[:])
	}
	valid = make([]bool, len(progs))
	results = make([][]uint32, len(progs))
	for i := range progs {
		valid[i] = next() == 1
		if !valid[i] {
			continue
		}
		results[i] = make([]uint32, len(pkts))
		for j := range pkts {
			results[i][j] = next()
		}
	}
	if r.Len() != 0 {
		t.Fatalf("libpcap harness wrote %d bytes too many", r.Len())
	}
	return valid, results
}

// dumpCapture reads a capture file with libpcap (pcap_open_offline) and
// returns its link-type name and packets.
func dumpCapture(t testing.TB, bin, path string) (string, []testPacket) {
	t.Helper()
	cmd := exec.Command(bin, "dump", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("libpcap harness dump %s: %v\n%s", path, err, stderr.Bytes())
	}
	nl := bytes.IndexByte(out, '\n')
	if nl < 0 {
		t.Fatalf("libpcap harness dump %s: no link type line", path)
	}
	lt, rest := string(out[:nl]), out[nl+1:]
	var pkts []testPacket
	for len(rest) >= 8 {
		caplen := binary.LittleEndian.Uint32(rest)
		wire := binary.LittleEndian.Uint32(rest[4:])
		rest = rest[8:]
		if uint32(len(rest)) < caplen {
			t.Fatalf("libpcap harness dump %s: truncated packet", path)
		}
		pkts = append(pkts, testPacket{data: rest[:caplen:caplen], wireLen: int(wire)})
		rest = rest[caplen:]
	}
	return lt, pkts
}

// readTSV returns the rows of a tab-separated file without its header.
func readTSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for first := true; sc.Scan(); first = false {
		if !first {
			rows = append(rows, strings.Split(sc.Text(), "\t"))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// execOutput runs a program and returns its standard output, with its
// standard error in the error.
func execOutput(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", name, err, stderr.Bytes())
	}
	return out, nil
}
