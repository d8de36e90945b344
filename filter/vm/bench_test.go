package vm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/bpf"
)

// Benchmarks compare the VM with golang.org/x/net/bpf's VM and libpcap's
// bpf_filter (through testdata/bpfharness.c) on the same in-memory packets:
// mixSize generated Ethernet packets captured with a snaplen of
// mixSnaplen (see genMix), laid out one after the
// other in one buffer in the same order for all three. The programs are
// libpcap's own for the filters of issue 4, kept in
// testdata/bench-programs.tsv (go generate). Each benchmark's setup takes
// about a second (generating the mix once per run), so
// `-benchtime=1x` stays cheap. PKTTAP_BENCH_PACKETS=N changes the number of
// packets (e.g. 1000 to measure with everything in the L1/L2 caches).
//
//	go test -run '^$' -bench Compare -count 5 ./filter/vm
//
// BenchmarkCompare reports, per program, the median nanoseconds per packet
// of full passes over the mix for each engine, measured interleaved in the
// same run, and the ratios libpcap/pkttap and xnet/pkttap (above 1 means
// pkttap is faster). BenchmarkRun measures the VM alone, one packet per
// iteration.

var benchMix struct {
	once    sync.Once
	pkts    []testPacket
	encoded []byte
}

// benchPackets returns the benchmark mix, generated once per test binary.
// Its packets alias one buffer in the harness's PACKETS format.
func benchPackets() ([]testPacket, []byte) {
	benchMix.once.Do(func() {
		n := mixSize
		if s := os.Getenv("PKTTAP_BENCH_PACKETS"); s != "" {
			if v, err := strconv.Atoi(s); err == nil && v > 0 {
				n = v
			}
		}
		enc := encodePackets(genMix(n, 1))
		pkts := make([]testPacket, 0, mixSize)
		for rest := enc; len(rest) >= 8; {
			n := int(binary.LittleEndian.Uint32(rest))
			wire := int(binary.LittleEndian.Uint32(rest[4:]))
			pkts = append(pkts, testPacket{data: rest[8 : 8+n : 8+n], wireLen: wire})
			rest = rest[8+n:]
		}
		benchMix.pkts, benchMix.encoded = pkts, enc
	})
	return benchMix.pkts, benchMix.encoded
}

// benchPrograms reads testdata/bench-programs.tsv.
func benchPrograms(b *testing.B) []namedProgram {
	b.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "bench-programs.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	var progs []namedProgram
	for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "expr\t") {
			continue
		}
		expr, prog, ok := strings.Cut(line, "\t")
		if !ok {
			b.Fatalf("bench-programs.tsv: bad line %q", line)
		}
		p, err := parseProgram(prog)
		if err != nil {
			b.Fatalf("bench-programs.tsv %q: %v", expr, err)
		}
		progs = append(progs, namedProgram{expr, p})
	}
	if len(progs) < 8 {
		b.Fatalf("bench-programs.tsv has %d programs, want the 8 of issue 4", len(progs))
	}
	return progs
}

// benchName makes a filter expression a benchmark name.
func benchName(expr string) string {
	r := strings.NewReplacer(" ", "_", "/", ":", "[", "", "]", "", "(", "", ")", "", "&", "and", "!=", "ne", ">", "gt")
	return r.Replace(expr)
}

var sink uint32

// BenchmarkRun measures the VM alone: ns/op is nanoseconds per packet.
func BenchmarkRun(b *testing.B) {
	pkts, _ := benchPackets()
	for _, p := range benchPrograms(b) {
		b.Run(benchName(p.expr), func(b *testing.B) {
			v := mustNew(b, p.prog)
			b.ReportAllocs()
			b.ResetTimer()
			var s uint32
			for i := range b.N {
				pk := &pkts[i%len(pkts)]
				s += v.Run(pk.data, pk.wireLen)
			}
			sink = s
		})
	}
}

// BenchmarkXNet measures golang.org/x/net/bpf's VM on the same packets.
func BenchmarkXNet(b *testing.B) {
	pkts, _ := benchPackets()
	for _, p := range benchPrograms(b) {
		b.Run(benchName(p.expr), func(b *testing.B) {
			xv := xnetVM(b, p.prog)
			b.ResetTimer()
			var s int
			for i := range b.N {
				n, _ := xv.Run(pkts[i%len(pkts)].data)
				s += n
			}
			sink = uint32(s)
		})
	}
}

// xnetVM loads a program into golang.org/x/net/bpf's VM.
func xnetVM(b testing.TB, prog []bpf.RawInstruction) *bpf.VM {
	b.Helper()
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		b.Fatalf("x/net/bpf cannot disassemble the program")
	}
	xv, err := bpf.NewVM(insns)
	if err != nil {
		b.Fatalf("x/net/bpf: %v", err)
	}
	return xv
}

// BenchmarkCompare runs the three engines over the whole mix, interleaved,
// and reports ns/packet for each (medians over b.N passes) and the ratios.
// ns/op is pkttap's ns/packet.
func BenchmarkCompare(b *testing.B) {
	pkts, enc := benchPackets()
	progs := benchPrograms(b)
	bin := buildHarness(b)
	dir := b.TempDir()
	pktPath := filepath.Join(dir, "packets.bin")
	if err := os.WriteFile(pktPath, enc, 0o644); err != nil {
		b.Fatal(err)
	}
	for i, p := range progs {
		b.Run(benchName(p.expr), func(b *testing.B) {
			v := mustNew(b, p.prog)
			xv := xnetVM(b, p.prog)
			progPath := filepath.Join(dir, fmt.Sprintf("prog%d.bin", i))
			if err := os.WriteFile(progPath, encodePrograms([][]bpf.RawInstruction{p.prog}), 0o644); err != nil {
				b.Fatal(err)
			}
			rounds := b.N
			ours := make([]float64, rounds)
			xnet := make([]float64, rounds)
			var ourMatch, xnetMatch int
			for r := range rounds {
				ourMatch, xnetMatch = 0, 0
				t0 := time.Now()
				for j := range pkts {
					if v.Run(pkts[j].data, pkts[j].wireLen) != 0 {
						ourMatch++
					}
				}
				t1 := time.Now()
				for j := range pkts {
					if n, _ := xv.Run(pkts[j].data); n != 0 {
						xnetMatch++
					}
				}
				t2 := time.Now()
				ours[r] = float64(t1.Sub(t0).Nanoseconds()) / float64(len(pkts))
				xnet[r] = float64(t2.Sub(t1).Nanoseconds()) / float64(len(pkts))
			}
			b.StopTimer()
			out, err := execOutput(bin, "bench", progPath, pktPath, strconv.Itoa(rounds))
			if err != nil {
				b.Fatal(err)
			}
			var best, pcap float64
			var pcapMatch int
			if _, err := fmt.Fscan(bytes.NewReader(out), &best, &pcap, &pcapMatch); err != nil {
				b.Fatalf("libpcap harness bench output %q: %v", out, err)
			}
			// x/net/bpf takes len as the captured length, so it may
			// disagree on programs that read len; the others may not.
			if ourMatch != pcapMatch || (xnetMatch != pcapMatch && !readsLen(p.prog)) {
				b.Fatalf("%q: accepted packets differ: pkttap %d, x/net/bpf %d, libpcap %d", p.expr, ourMatch, xnetMatch, pcapMatch)
			}
			o, x := median(ours), median(xnet)
			b.ReportMetric(o, "ns/op")
			b.ReportMetric(o, "pkttap-ns/pkt")
			b.ReportMetric(x, "xnet-ns/pkt")
			b.ReportMetric(pcap, "libpcap-ns/pkt")
			b.ReportMetric(pcap/o, "libpcap/pkttap")
			b.ReportMetric(x/o, "xnet/pkttap")
		})
	}
}

// readsLen reports whether prog loads the packet length.
func readsLen(prog []bpf.RawInstruction) bool {
	for _, ri := range prog {
		if ri.Op == codeLdLen || ri.Op == codeLdxLen {
			return true
		}
	}
	return false
}

// median returns the median of v (which it sorts).
func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}
