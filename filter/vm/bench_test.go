package vm

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/golden"
)

// Benchmarks compare the VM with golang.org/x/net/bpf's VM and libpcap's
// bpf_filter (through testdata/bpfharness.c) on the same in-memory packets:
// mixSize generated Ethernet packets captured with a snaplen of
// mixSnaplen (see genMix), laid out one after the
// other in one buffer in the same order for all three. The programs are
// libpcap's own for the filters of issue 4 (golden.BenchExprs), kept in
// the golden store of filter/testdata (go generate ./filter). Each benchmark's setup takes
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
	pkts    []benchPacket
	encoded []byte
}

// benchPacket locates a packet of the mix in the encoded buffer. It is 16
// bytes, like the harness's struct pkt, so that both sides walk the same
// amount of memory per packet.
type benchPacket struct {
	off, caplen, wireLen uint32
	_                    uint32
}

// data returns the packet's captured bytes in enc.
func (p *benchPacket) data(enc []byte) []byte {
	return enc[p.off : p.off+p.caplen : p.off+p.caplen]
}

// benchPackets returns the benchmark mix, generated once per test binary,
// and the buffer in the harness's PACKETS format that holds its bytes.
func benchPackets() ([]benchPacket, []byte) {
	benchMix.once.Do(func() {
		n := mixSize
		if s := os.Getenv("PKTTAP_BENCH_PACKETS"); s != "" {
			if v, err := strconv.Atoi(s); err == nil && v > 0 {
				n = v
			}
		}
		enc := encodePackets(genMix(n, 1))
		pkts := make([]benchPacket, 0, n)
		for off := 0; off+8 <= len(enc); {
			caplen := binary.LittleEndian.Uint32(enc[off:])
			wire := binary.LittleEndian.Uint32(enc[off+4:])
			pkts = append(pkts, benchPacket{off: uint32(off + 8), caplen: caplen, wireLen: wire})
			off += 8 + int(caplen)
		}
		benchMix.pkts, benchMix.encoded = pkts, enc
	})
	return benchMix.pkts, benchMix.encoded
}

// benchPrograms returns libpcap's EN10MB programs for golden.BenchExprs,
// from the golden store's rows of the project's own expressions (package
// filter/internal/golden): they need no shared data.
func benchPrograms(b *testing.B) []namedProgram {
	b.Helper()
	all, err := golden.OwnPrograms()
	if err != nil {
		b.Fatal(err)
	}
	var progs []namedProgram
	for _, e := range golden.BenchExprs {
		p, ok := golden.Find(all, "EN10MB", e)
		if !ok || p.Opt == nil {
			b.Fatalf("golden store: no EN10MB program for %q (regenerate with go generate ./filter)", e)
		}
		progs = append(progs, namedProgram{e, p.Opt})
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
	pkts, enc := benchPackets()
	for _, p := range benchPrograms(b) {
		b.Run(benchName(p.expr), func(b *testing.B) {
			v := mustNew(b, p.prog)
			b.ReportAllocs()
			b.ResetTimer()
			var s uint32
			for i := range b.N {
				pk := &pkts[i%len(pkts)]
				s += v.Run(pk.data(enc), int(pk.wireLen))
			}
			sink = s
		})
	}
}

// BenchmarkXNet measures golang.org/x/net/bpf's VM on the same packets.
func BenchmarkXNet(b *testing.B) {
	pkts, enc := benchPackets()
	for _, p := range benchPrograms(b) {
		b.Run(benchName(p.expr), func(b *testing.B) {
			xv := xnetVM(b, p.prog)
			b.ResetTimer()
			var s int
			for i := range b.N {
				n, err := xv.Run(pkts[i%len(pkts)].data(enc))
				if err != nil {
					b.Fatal(err)
				}
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

// benchChunk is how many packets one engine filters before the next takes
// its turn in BenchmarkCompare.
const benchChunk = 1000

// BenchmarkCompare runs the three engines over the whole mix and reports
// ns/packet for each (medians over b.N passes) and the ratios. Within a
// pass the engines take turns, benchChunk packets at a time in alternating
// order, libpcap's turns run by the harness's serve mode while this
// process waits, so that the changing load of a shared machine falls on
// all three alike. ns/op is pkttap's ns/packet.
func BenchmarkCompare(b *testing.B) {
	pkts, enc := benchPackets()
	progs := benchPrograms(b)
	bin := buildHarness(b)
	dir := b.TempDir()
	pktPath := filepath.Join(dir, "packets.bin")
	progPath := filepath.Join(dir, "programs.bin")
	raw := make([][]bpf.RawInstruction, len(progs))
	for i, p := range progs {
		raw[i] = p.prog
	}
	if err := os.WriteFile(pktPath, enc, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(progPath, encodePrograms(raw), 0o644); err != nil {
		b.Fatal(err)
	}
	h := startServe(b, bin, progPath, pktPath)
	for i, p := range progs {
		b.Run(benchName(p.expr), func(b *testing.B) {
			v := mustNew(b, p.prog)
			xv := xnetVM(b, p.prog)
			ours := make([]float64, 0, b.N)
			xnet := make([]float64, 0, b.N)
			pcap := make([]float64, 0, b.N)
			var ourMatch, xnetMatch, pcapMatch int
			for r := range b.N {
				var tOurs, tXNet, tPcap time.Duration
				ourMatch, xnetMatch, pcapMatch = 0, 0, 0
				for from := 0; from < len(pkts); from += benchChunk {
					chunk := pkts[from:min(from+benchChunk, len(pkts))]
					runOurs := func() {
						t0 := time.Now()
						m := 0
						for j := range chunk {
							m += accepted(v.Run(chunk[j].data(enc), int(chunk[j].wireLen)))
						}
						tOurs += time.Since(t0)
						ourMatch += m
					}
					runXNet := func() {
						t0 := time.Now()
						m := 0
						for j := range chunk {
							n, err := xv.Run(chunk[j].data(enc))
							if err != nil {
								b.Fatal(err)
							}
							m += accepted(uint32(n))
						}
						tXNet += time.Since(t0)
						xnetMatch += m
					}
					runPcap := func() {
						d, m := h.pass(b, i, from, from+len(chunk))
						tPcap += d
						pcapMatch += m
					}
					if (r+from/benchChunk)%2 == 0 {
						runOurs()
						runXNet()
						runPcap()
					} else {
						runPcap()
						runXNet()
						runOurs()
					}
				}
				n := float64(len(pkts))
				ours = append(ours, float64(tOurs.Nanoseconds())/n)
				xnet = append(xnet, float64(tXNet.Nanoseconds())/n)
				pcap = append(pcap, float64(tPcap.Nanoseconds())/n)
			}
			b.StopTimer()
			// x/net/bpf takes len as the captured length, so it may
			// disagree on programs that read len; the others may not.
			if ourMatch != pcapMatch || (xnetMatch != pcapMatch && !readsLen(p.prog)) {
				b.Fatalf("%q: accepted packets differ: pkttap %d, x/net/bpf %d, libpcap %d", p.expr, ourMatch, xnetMatch, pcapMatch)
			}
			o, x, c := median(ours), median(xnet), median(pcap)
			b.ReportMetric(o, "ns/op")
			b.ReportMetric(o, "pkttap-ns/pkt")
			b.ReportMetric(x, "xnet-ns/pkt")
			b.ReportMetric(c, "libpcap-ns/pkt")
			b.ReportMetric(c/o, "libpcap/pkttap")
			b.ReportMetric(x/o, "xnet/pkttap")
		})
	}
}

// accepted is 1 if a filter's verdict n keeps the packet, else 0. The Go
// loops count with it into a local, without a branch on the verdict, as
// the C harness does (m += bpf_filter(...) != 0): a branch on the verdict
// would be mispredicted as often as verdicts vary, a cost of the harness
// that only the Go engines would pay.
func accepted(n uint32) int {
	var m int
	if n != 0 {
		m = 1
	}
	return m
}

// serveHarness is a running `bpfharness serve`.
type serveHarness struct {
	in  io.Writer
	out *bufio.Reader
}

// startServe starts the harness in serve mode; it ends with the benchmark.
func startServe(b *testing.B, bin, progPath, pktPath string) *serveHarness {
	b.Helper()
	cmd := exec.Command(bin, "serve", progPath, pktPath)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("libpcap harness: %v", err)
	}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return &serveHarness{in: in, out: bufio.NewReader(out)}
}

// pass has libpcap run program i over packets [from, to) and returns the
// time it took and the number of packets accepted.
func (h *serveHarness) pass(b *testing.B, i, from, to int) (time.Duration, int) {
	if _, err := fmt.Fprintf(h.in, "%d %d %d\n", i, from, to); err != nil {
		b.Fatalf("libpcap harness: %v", err)
	}
	line, err := h.out.ReadString('\n')
	if err != nil {
		b.Fatalf("libpcap harness: %v", err)
	}
	var ns int64
	var m int
	if _, err := fmt.Sscan(line, &ns, &m); err != nil {
		b.Fatalf("libpcap harness output %q: %v", line, err)
	}
	return time.Duration(ns), m
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
